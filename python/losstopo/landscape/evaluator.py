"""Stage 2's evaluator: f(a) = L(theta + sum_i a_i d_i) at any (P x dims) coordinates, fast.

The forward pass is the cost, so everything else is removed from the per-point loop: theta and the
directions are stacked once on the device, the weights of a private copy of the model are updated in
place (`torch.add(theta, d1, alpha=a1, out=p)`, no allocation per point), the evaluation set is batched
once, CNNs run channels_last and torch.compile is optional (with a check that it equals eager, else
eager is used). glibc malloc tuning (1.7x, PERFORMANCE-NOTES.md) is the caller's choice:
losstopo.process.tune_malloc, which the command line turns on.

Strategies (chosen by `choose_strategy`, a rule backed by bench/bench_evaluate.py):
- `loop`: one perturbed model per forward. CPU default: on 2 cores vmap loses for CNNs (grouped convs,
  9.8 vs 13.9 points/s on ResNet-20) and does not win for small MLPs either (see docs/landscape.md).
- `vmap`: torch.func.functional_call + vmap over K stacked parameter sets (K points per forward); the
  default on CUDA, where one small model per forward leaves the GPU idle.

Every point is evaluated the same way wherever it falls in a chunk (same batch split of the evaluation
set, same order; vmap groups are aligned to global point indices), so a resumed or distributed run
equals an uninterrupted one bitwise (chunks.py, driver.py).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import LossTopoError

STRATEGIES = ("auto", "loop", "vmap")


def has_conv(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())


def choose_strategy(model: nn.Module, device: str) -> str:
    """`vmap` on CUDA (batch perturbed models per forward), `loop` on CPU (measured, docs/landscape.md)."""
    return "vmap" if torch.device(device).type == "cuda" else "loop"


@dataclass
class EvalConfig:
    """Everything besides model, directions, data and coordinates that decides the computed values."""

    device: str = "cpu"
    strategy: str = "auto"
    batch_size: int = 512  # evaluation-set batch: sets the summation order, so it is part of the key
    vmap_k: int = 16
    compile: bool | str = False  # True, False or "auto" (compile when the run is long enough to pay)
    fold: bool = True  # fold a first Linear/Conv on the data (loop strategy, eager)
    channels_last: bool | None = None  # None: for models with convolutions
    chunk_points: int | None = None


@dataclass
class EvalInfo:
    strategy: str
    compiled: bool
    channels_last: bool
    seconds: float = 0.0
    points_computed: int = 0
    points_resumed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def points_per_second(self) -> float:
        return self.points_computed / self.seconds if self.seconds > 0 else float("nan")


class PointEvaluator:
    """Loss and accuracy of one model perturbed along fixed directions, at any coordinates.

    Works on a private deep copy of the model (eval mode, no grad): the caller's model is never
    written, also when evaluation is interrupted.
    """

    def __init__(self, model: nn.Module, directions: Sequence[dict[str, torch.Tensor]], X: torch.Tensor,
                 y: torch.Tensor, config: EvalConfig | None = None):
        cfg = config or EvalConfig()
        self.config = cfg
        self.device = torch.device(cfg.device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise LossTopoError("--device cuda was asked for but CUDA is not available", "use --device cpu")
        self.strategy = choose_strategy(model, cfg.device) if cfg.strategy == "auto" else cfg.strategy
        if self.strategy not in ("loop", "vmap"):
            raise LossTopoError(f"unknown strategy {cfg.strategy!r}", f"choose one of {', '.join(STRATEGIES)}")
        self.channels_last = has_conv(model) if cfg.channels_last is None else bool(cfg.channels_last)
        work = copy.deepcopy(model).to(self.device).eval()
        work.requires_grad_(False)
        if self.channels_last:
            work = work.to(memory_format=torch.channels_last)
        self.model = work
        self.names = [n for n, _ in work.named_parameters()]
        self.params = [p for _, p in work.named_parameters()]
        for d in directions:
            missing = set(self.names) - set(d)
            if missing:
                raise LossTopoError(f"directions lack parameters {sorted(missing)[:3]}",
                                    "use directions made for this model")
        self.theta = [p.detach().clone() for p in self.params]
        self.dirs = [[d[n].to(self.device, p.dtype).contiguous(memory_format=_fmt(p)) for n, p in
                      zip(self.names, self.params)] for d in directions]
        self.dims = len(self.dirs)
        mf = torch.channels_last if (self.channels_last and X.dim() == 4) else torch.contiguous_format
        bs = max(1, int(cfg.batch_size))
        self.batches = [(xb.to(self.device).contiguous(memory_format=mf), yb.to(self.device))
                        for xb, yb in zip(torch.split(X, bs), torch.split(y, bs))]
        self.n_samples = int(len(y))
        self.compiled = False
        self.notes: list[str] = []
        self._stats_fn: Callable[..., torch.Tensor] = self._stats
        self._fold: dict[str, Any] | None = None
        self._update = list(range(len(self.params)))  # parameters written per point
        if self.strategy == "vmap":
            self._setup_vmap()
        elif cfg.fold:
            self._setup_fold()

    # -- per-point strategies -------------------------------------------------------------------
    def _set_point(self, a: Sequence[float]) -> None:
        for j in self._update:
            p = self.params[j]
            torch.add(self.theta[j], self.dirs[0][j], alpha=float(a[0]), out=p)
            for k in range(1, self.dims):
                p.add_(self.dirs[k][j], alpha=float(a[k]))

    def _stats(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """(summed cross-entropy, number correct) of one batch as one tensor: one conversion per batch."""
        out = self.model(xb).float()
        correct = (out.argmax(1) == yb).sum().to(out.dtype)
        if out.dim() != 2:
            return torch.stack((F.cross_entropy(out, yb, reduction="sum"), correct))
        # log_softmax along the long axis of the transposed logits: 28 vs 46 us for 360x10 on this CPU
        logp = F.log_softmax(out.t().contiguous(), 0)
        return torch.stack((-logp.gather(0, yb[None]).sum(), correct))

    def _setup_fold(self) -> bool:
        """Fold the first layer when its input does not depend on the weights (a Linear/Conv on the data).

        Then layer(x; W0 + sum a_k D_k) = layer(x; W0) + sum a_k layer(x; D_k) (bias included), so its
        outputs for theta and each direction are computed once and every point pays two axpys instead
        of the layer (the MLP's first matmul: ~15% of a point). Checked, not assumed: the first
        parametrised module called must be a Linear/Conv, called once per forward, with an input that
        is bitwise the same at three probe points.
        """
        layer_types = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
        owners = [m for m in self.model.modules() if any(True for _ in m.parameters(recurse=False))]
        calls: list[tuple[nn.Module, torch.Tensor]] = []
        hooks = [m.register_forward_pre_hook(lambda mod, args: calls.append(
            (mod, args[0].detach().clone() if args and isinstance(args[0], torch.Tensor) else None)))
            for m in owners]
        g = np.random.default_rng(0)
        probes = [np.zeros(self.dims)] + [g.uniform(-1, 1, self.dims) for _ in range(2)]
        seen: list[list[tuple[nn.Module, torch.Tensor]]] = []
        try:
            with torch.inference_mode():
                for a in probes:
                    self._set_point(a)
                    per_batch = []
                    for xb, _ in self.batches:
                        calls.clear()
                        self.model(xb)
                        if not calls or calls[0][1] is None:
                            return False
                        first = calls[0][0]
                        if sum(1 for m, _ in calls if m is first) != 1:
                            return False
                        per_batch.append(calls[0])
                    seen.append(per_batch)
        finally:
            for h in hooks:
                h.remove()
        first = seen[0][0][0]
        if not isinstance(first, layer_types) or any(
                m is not first or not torch.equal(x, seen[0][b][1]) for probe in seen for b, (m, x) in
                enumerate(probe)):
            return False
        index = {id(p): j for j, p in enumerate(self.params)}
        jw = index[id(first.weight)]
        jb = index.get(id(first.bias)) if first.bias is not None else None

        def apply(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
            return F.linear(x, w, b) if isinstance(first, nn.Linear) else first._conv_forward(x, w, b)

        with torch.inference_mode():
            inputs = [x for _, x in seen[0]]
            y0 = [apply(x, self.theta[jw], None if jb is None else self.theta[jb]) for x in inputs]
            yk = [[apply(x, self.dirs[k][jw], None if jb is None else self.dirs[k][jb]) for x in inputs]
                  for k in range(self.dims)]
            bufs = [torch.empty_like(t) for t in y0]
        self._fold = {"module": first, "y0": y0, "yk": yk, "bufs": bufs, "a": None, "batch": 0}

        def folded_forward(x: torch.Tensor) -> torch.Tensor:
            f = self._fold
            b, a = f["batch"], f["a"]
            out = torch.add(f["y0"][b], f["yk"][0][b], alpha=float(a[0]), out=f["bufs"][b])
            for k in range(1, self.dims):
                out.add_(f["yk"][k][b], alpha=float(a[k]))
            return out

        first.forward = folded_forward
        self._update = [j for j in range(len(self.params)) if j not in (jw, jb)]  # the folded layer's are unused
        return True

    def _unfold(self) -> None:
        if self._fold is not None:
            del self._fold["module"].forward  # back to the class's forward
            self._fold = None
            self._update = list(range(len(self.params)))

    def _loop_point(self, a: Sequence[float]) -> tuple[float, float]:
        self._set_point(a)
        if self._fold is not None:
            self._fold["a"] = a
        loss, correct = 0.0, 0.0
        for i, (xb, yb) in enumerate(self.batches):
            if self._fold is not None:
                self._fold["batch"] = i
            batch_loss, batch_correct = self._stats_fn(xb, yb).tolist()
            loss += batch_loss
            correct += batch_correct
        return loss / self.n_samples, correct / self.n_samples

    def _setup_vmap(self) -> None:
        from torch.func import functional_call, vmap

        model = self.model
        names = self.names
        theta = self.theta
        dirs = [torch.stack([self.dirs[k][j] for k in range(self.dims)]) for j in range(len(names))]

        def params_for(a: torch.Tensor) -> dict[str, torch.Tensor]:
            out = {}
            for j, n in enumerate(names):
                shape = (a.shape[0],) + (1,) * theta[j].dim()
                p = theta[j].unsqueeze(0) + a[:, 0].reshape(shape) * dirs[j][0]
                for k in range(1, self.dims):
                    p = p + a[:, k].reshape(shape) * dirs[j][k]
                out[n] = p
            return out

        def one(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            return functional_call(model, params, (x,))

        batched = vmap(one, in_dims=(0, None))

        def group_forward(a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return batched(params_for(a), x)

        self._group_forward = group_forward

    def _vmap_group(self, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = len(coords)
        a = torch.as_tensor(coords, dtype=self.params[0].dtype, device=self.device)
        loss = torch.zeros(k, dtype=torch.float64, device=self.device)
        correct = torch.zeros(k, dtype=torch.int64, device=self.device)
        for xb, yb in self.batches:
            out = self._group_forward(a, xb).float()  # (K, B, C)
            ce = F.cross_entropy(out.reshape(-1, out.shape[-1]), yb.repeat(k), reduction="none")
            loss += ce.reshape(k, -1).sum(1).double()
            correct += (out.argmax(-1) == yb).sum(1)
        return (loss / self.n_samples).cpu().numpy(), (correct.double() / self.n_samples).cpu().numpy()

    # -- public ---------------------------------------------------------------------------------
    def maybe_compile(self, probe: np.ndarray | None = None) -> bool:
        """torch.compile the forward; keep it only if it equals eager within 1e-5 relative at `probe`."""
        probe = np.zeros((1, self.dims)) if probe is None else np.asarray(probe, np.float64).reshape(-1, self.dims)
        try:
            with torch.inference_mode():
                eager = self._eval_block(probe, global_start=0)
                if self.strategy == "loop":
                    self._unfold()  # the compiled graph fuses the first layer itself
                    self._stats_fn = torch.compile(self._stats, dynamic=False)
                else:
                    self._group_forward = torch.compile(self._group_forward, dynamic=False)
                compiled = self._eval_block(probe, global_start=0)
        except Exception as e:  # the compiler stack raises anything; eager always works
            self._stats_fn = self._stats
            self.notes.append(f"torch.compile failed ({type(e).__name__}); eager used")
            if self.strategy == "vmap":
                self._setup_vmap()
            return False
        # relative (absolute below a loss of 1): float32 kernels differ by ~1e-7 of the value, so an absolute
        # 1e-5 refused compiling a model whose loss is 337
        finite = np.all(np.isfinite(eager[0]))
        diff = float(np.nanmax(np.abs(eager[0] - compiled[0]))) if finite else 0.0
        scale = max(1.0, float(np.max(np.abs(eager[0])))) if finite else 1.0
        if not diff <= 1e-5 * scale:
            self._stats_fn = self._stats
            if self.strategy == "vmap":
                self._setup_vmap()
            self.notes.append(f"compiled loss differed from eager by {diff:.2e} ({diff / scale:.1e} relative); "
                              "eager used")
            return False
        self.compiled = True
        return True

    def _eval_block(self, coords: np.ndarray, global_start: int) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate consecutive points coords[0..n) whose global indices start at `global_start`."""
        n = len(coords)
        loss = np.empty(n, np.float64)
        acc = np.empty(n, np.float64)
        if self.strategy == "loop":
            for i in range(n):
                loss[i], acc[i] = self._loop_point(coords[i])
            return loss, acc
        K = int(self.config.vmap_k)
        # groups aligned to global indices, padded to K: a point's computation never depends on chunking
        i = 0
        while i < n:
            g = global_start + i
            group_start = (g // K) * K
            take = min(n - i, group_start + K - g)
            block = np.zeros((K, self.dims), np.float64)
            off = g - group_start
            block[off:off + take] = coords[i:i + take]
            gl, ga = self._vmap_group(block)
            loss[i:i + take], acc[i:i + take] = gl[off:off + take], ga[off:off + take]
            i += take
        return loss, acc

    def evaluate(self, coords: np.ndarray, global_start: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(loss, accuracy) float64 at each row of `coords` (rows are global points global_start...)."""
        coords = np.asarray(coords, np.float64).reshape(-1, self.dims)
        with torch.inference_mode():
            return self._eval_block(coords, global_start)


def _fmt(p: torch.Tensor) -> torch.memory_format:
    return torch.channels_last if p.dim() == 4 and p.is_contiguous(memory_format=torch.channels_last) \
        and not p.is_contiguous() else torch.contiguous_format

