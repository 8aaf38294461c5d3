"""Stage 2: f(a) = L(theta + sum_i a_i d_i) at any (P x dims) coordinates, fast, chunked and resumable.

The forward pass is the cost, so everything else is removed from the per-point loop: theta and the
directions are stacked once on the device, the weights of a private copy of the model are updated in
place (`torch.add(theta, d1, alpha=a1, out=p)`, no allocation per point), the evaluation set is batched
once, glibc malloc is told to keep its memory (1.7x, PERFORMANCE-NOTES.md), CNNs run channels_last and
torch.compile is optional (with a check that it equals eager within 1e-5, else eager is used).

Strategies (chosen by `choose_strategy`, a rule backed by bench/bench_evaluate.py):
- `loop`: one perturbed model per forward. CPU default: on 2 cores vmap loses for CNNs (grouped convs,
  9.8 vs 13.9 points/s on ResNet-20) and does not win for small MLPs either (see docs/landscape.md).
- `vmap`: torch.func.functional_call + vmap over K stacked parameter sets (K points per forward); the
  default on CUDA, where one small model per forward leaves the GPU idle.

Every point is evaluated the same way wherever it falls in a chunk (same batch split of the evaluation
set, same order; vmap groups are aligned to global point indices), so a resumed or distributed run
equals an uninterrupted one bitwise. Finished chunks are written atomically to DIR/chunks/, keyed by
every setting that changes a value; a resume with other settings is refused.
"""

from __future__ import annotations

import copy
import ctypes
import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .errors import LossTopoError
from .fileio import atomic_path, write_json

CHUNKS_DIR = "chunks"
KEY_FILE = "key.json"
STRATEGIES = ("auto", "loop", "vmap")
_MALLOC_TUNED = False


def grid_coords(resolution: int | Sequence[int], span: float, dims: int = 2) -> np.ndarray:
    """(P, dims) float64 grid over [-span, span]^dims in VTK order: p = i + nx*j (+ nx*ny*k)."""
    res = (int(resolution),) * dims if np.isscalar(resolution) else tuple(int(r) for r in resolution)
    if len(res) != dims:
        raise LossTopoError(f"resolution {res} has {len(res)} entries for {dims} dims", "give one per axis")
    if min(res) < 2:
        raise LossTopoError(f"resolution must be at least 2 points per axis, not {min(res)}", "pass --resolution >= 2")
    if not (span > 0 and math.isfinite(span)):
        raise LossTopoError(f"span must be a positive number, not {span}", "pass --span > 0")
    axes = [np.linspace(-span, span, n) for n in res]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel(order="F") for m in mesh], axis=1)


def tune_malloc() -> bool:
    """Keep freed activation memory in the process (glibc only): no page faults on every forward.

    Same effect as MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=16G MALLOC_TOP_PAD_=512M; resident memory
    then never shrinks. Returns False where glibc's mallopt is not available.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return True
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_top_pad, m_mmap_max = -1, -2, -4
        ok = (libc.mallopt(m_mmap_max, 0) == 1 and libc.mallopt(m_trim_threshold, 2**31 - 1) == 1
              and libc.mallopt(m_top_pad, 512 * 2**20) == 1)
    except (OSError, AttributeError):
        return False
    _MALLOC_TUNED = ok
    return ok


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
        if self.device.type == "cpu":
            tune_malloc()
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
        """torch.compile the forward; keep it only if it equals eager within 1e-5 at `probe`."""
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_root() / "inductor"))
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
        diff = float(np.nanmax(np.abs(eager[0] - compiled[0]))) if np.all(np.isfinite(eager[0])) else 0.0
        if not diff <= 1e-5:
            self._stats_fn = self._stats
            if self.strategy == "vmap":
                self._setup_vmap()
            self.notes.append(f"compiled loss differed from eager by {diff:.2e}; eager used")
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


def cache_root() -> Path:
    """$LOSSTOPO_CACHE or ~/.cache/losstopo."""
    return Path(os.environ.get("LOSSTOPO_CACHE") or Path.home() / ".cache" / "losstopo")


def array_digest(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        t = a.detach().cpu().contiguous().numpy() if isinstance(a, torch.Tensor) else np.ascontiguousarray(a)
        h.update(str(t.dtype).encode())
        h.update(str(t.shape).encode())
        h.update(t.tobytes())
    return h.hexdigest()


def model_digest(model: nn.Module) -> str:
    return array_digest(*[t for _, t in sorted(model.state_dict().items()) if isinstance(t, torch.Tensor)])


# -- chunk store -----------------------------------------------------------------------------------
class ChunkStore:
    """Finished chunks of a run in DIR/chunks/, each written atomically, under a settings key."""

    def __init__(self, out_dir: str | os.PathLike, key: dict[str, Any], n_points: int, chunk_points: int,
                 resume: bool):
        self.dir = Path(out_dir) / CHUNKS_DIR
        self.n_points = n_points
        key = json.loads(json.dumps(dict(key, n_points=n_points, chunk_points=chunk_points), default=str))
        key_path = self.dir / KEY_FILE
        if key_path.exists():
            try:
                old = json.loads(key_path.read_text())
            except (OSError, ValueError):
                old = None
            if old is not None and not resume:
                raise LossTopoError(f"{self.dir} holds chunks of an unfinished run",
                                    "add --resume to continue it, or delete that folder to start over")
            if old is not None and old != key:
                diff = sorted(k for k in set(old) | set(key) if old.get(k) != key.get(k))
                raise LossTopoError(f"cannot resume: the chunks in {self.dir} were computed with other settings "
                                    f"({', '.join(diff)} differ)",
                                    "rerun with the original settings, or use a new --out (or delete the chunks)")
            if old is None:  # unreadable key: its chunks cannot be trusted
                shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        if not key_path.exists():
            write_json(key_path, key)
        self.chunk_points = chunk_points
        self.n_chunks = math.ceil(n_points / chunk_points)

    def bounds(self, c: int) -> tuple[int, int]:
        return c * self.chunk_points, min(self.n_points, (c + 1) * self.chunk_points)

    def path(self, c: int) -> Path:
        return self.dir / f"chunk_{c:07d}.npz"

    def load(self, c: int) -> tuple[np.ndarray, np.ndarray] | None:
        p = self.path(c)
        if not p.exists():
            return None
        try:
            with np.load(p) as z:
                loss, acc = np.array(z["loss"]), np.array(z["accuracy"])
        except (OSError, ValueError, KeyError, EOFError):
            return None
        lo, hi = self.bounds(c)
        return (loss, acc) if len(loss) == hi - lo == len(acc) else None

    def save(self, c: int, loss: np.ndarray, acc: np.ndarray) -> None:
        with atomic_path(self.path(c)) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, loss=loss, accuracy=acc)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def default_chunk_points(n_points: int, model: nn.Module, n_samples: int) -> int:
    """About a few seconds of work per chunk: fewer points for CNNs and large evaluation sets."""
    per_point = n_samples * (8 if has_conv(model) else 1)
    return int(max(1, min(n_points, 512, 200_000 // max(1, per_point))))


@dataclass
class RunPlan:
    """The resolved settings of one evaluation run and its key (what a resume must match)."""

    key: dict[str, Any]
    chunk_points: int
    strategy: str
    compile: bool
    n_points: int

    def open_store(self, out_dir: str | os.PathLike, resume: bool) -> ChunkStore:
        return ChunkStore(out_dir, self.key, self.n_points, self.chunk_points, resume)


def plan_run(model: nn.Module, directions: Sequence[dict[str, torch.Tensor]], coords: np.ndarray,
             X: torch.Tensor, y: torch.Tensor, config: EvalConfig | None = None,
             key: dict[str, Any] | None = None) -> RunPlan:
    """Resolve strategy, compile, chunking and the run key without building the evaluator."""
    cfg = config or EvalConfig()
    n = len(coords)
    strategy = choose_strategy(model, cfg.device) if cfg.strategy == "auto" else cfg.strategy
    if strategy not in ("loop", "vmap"):
        raise LossTopoError(f"unknown strategy {cfg.strategy!r}", f"choose one of {', '.join(STRATEGIES)}")
    chunk_points = cfg.chunk_points or default_chunk_points(n, model, len(y))
    if strategy == "vmap":
        chunk_points = max(cfg.vmap_k, (chunk_points // cfg.vmap_k) * cfg.vmap_k)
    compile_wanted = cfg.compile
    if compile_wanted == "auto":  # compiling costs ~12 s (3 s cached): worth it for runs of minutes
        compile_wanted = n * len(y) * (8 if has_conv(model) else 1) > 2_000_000
    channels_last = has_conv(model) if cfg.channels_last is None else bool(cfg.channels_last)
    full_key = dict(key or {}, coords=array_digest(np.asarray(coords, np.float64)), data=array_digest(X, y),
                    directions=array_digest(*[t for d in directions for t in d.values()]),
                    strategy=strategy, batch_size=cfg.batch_size,
                    fold=bool(cfg.fold and strategy == "loop" and not compile_wanted),
                    vmap_k=cfg.vmap_k if strategy == "vmap" else None, compile=bool(compile_wanted),
                    channels_last=channels_last, device=str(torch.device(cfg.device).type),
                    dtype=str(next(model.parameters()).dtype), torch=torch.__version__)
    return RunPlan(full_key, int(chunk_points), strategy, bool(compile_wanted), n)


def evaluate_coords(model: nn.Module, directions: Sequence[dict[str, torch.Tensor]], coords: np.ndarray,
                    X: torch.Tensor, y: torch.Tensor, config: EvalConfig | None = None, *,
                    out_dir: str | os.PathLike | None = None, key: dict[str, Any] | None = None,
                    resume: bool = False, store: ChunkStore | None = None,
                    chunk_ids: Iterable[int] | None = None,
                    progress: Callable[[float], None] | None = None,
                    show_progress: bool = True) -> tuple[np.ndarray, np.ndarray, EvalInfo]:
    """Loss and accuracy at every row of `coords`; resumable through DIR/chunks when out_dir is given.

    `chunk_ids` restricts the work to those chunks (distributed shards); their values are returned at
    their positions and the other entries are NaN. `key` names the run (checkpoint, directions, ...);
    `store` is an already opened ChunkStore (distributed runs open it on rank 0 first).
    """
    cfg = config or EvalConfig()
    coords = np.asarray(coords, np.float64)
    n = len(coords)
    plan = plan_run(model, directions, coords, X, y, cfg, key)
    if store is None and out_dir is not None:
        store = plan.open_store(out_dir, resume)
    cfg = EvalConfig(**{**cfg.__dict__, "strategy": plan.strategy})
    chunk_points = store.chunk_points if store is not None else plan.chunk_points
    n_chunks = math.ceil(n / chunk_points)
    todo_ids = list(range(n_chunks)) if chunk_ids is None else list(chunk_ids)
    loss = np.full(n, np.nan)
    acc = np.full(n, np.nan)
    pending = []
    resumed = 0
    for c in todo_ids:
        lo, hi = c * chunk_points, min(n, (c + 1) * chunk_points)
        got = store.load(c) if store is not None else None
        if got is None:
            pending.append(c)
        else:
            loss[lo:hi], acc[lo:hi] = got
            resumed += hi - lo
    ev = PointEvaluator(model, directions, X, y, cfg)
    info = EvalInfo(ev.strategy, False, ev.channels_last, points_resumed=resumed)
    total = sum(min(n, (c + 1) * chunk_points) - c * chunk_points for c in todo_ids)
    if pending and plan.compile:
        lo = pending[0] * chunk_points
        ev.maybe_compile(coords[lo:lo + 1])
    info.compiled = ev.compiled
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=resumed, unit="pt", desc="landscape", disable=not show_progress,
               dynamic_ncols=True, smoothing=0.1)
    t0 = time.perf_counter()
    done = resumed
    try:
        for c in pending:
            lo, hi = c * chunk_points, min(n, (c + 1) * chunk_points)
            cl, ca = ev.evaluate(coords[lo:hi], global_start=lo)
            if store is not None:
                store.save(c, cl, ca)
            loss[lo:hi], acc[lo:hi] = cl, ca
            done += hi - lo
            info.points_computed += hi - lo
            bar.update(hi - lo)
            if progress is not None:
                progress(done / max(1, total))
    finally:
        bar.close()
        info.seconds = time.perf_counter() - t0
        info.notes.extend(ev.notes)
    return loss, acc, info
