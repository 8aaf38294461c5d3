"""Hessian of a model's loss at its weights: top eigenpairs (Lanczos) and trace (adaptive Hutchinson).

The general interface takes `model`, `batches` and `loss`:

- `batches`: a re-iterable (list, DataLoader, ...) of `(inputs, targets)` batches already on the model's
  device; iterated once per Hessian-vector product (HVP), or held with their gradient graph when there is
  only one batch (one forward/backward saved per product);
- `loss(model, batch) -> scalar tensor`: the MEAN loss of one batch (`cross_entropy_loss` is the zoo's);
- the Hessian is that of the mean loss over all samples: batch losses weighted by batch size
  (`len(batch[0])`), i.e. sum_b n_b L_b / sum_b n_b, so chunking a data set does not change it;
- w.r.t. the parameters with `requires_grad` only (frozen ones are excluded: they are not coordinates);
- evaluated in eval mode (BatchNorm running statistics, no dropout: the function a landscape plots). The
  model's mode, buffers and `.grad` are restored, its parameters never written: its state_dict is left
  bitwise unchanged. Products accumulate over batches in float64; random vectors come from numpy
  generators seeded by `seed`, so torch's global RNG is untouched.

Eigenpairs: scipy's `eigsh` (ARPACK's implicitly restarted Lanczos) on a LinearOperator whose matvec is
an HVP by double backward; `which="LA"` gives the largest (algebraic) eigenvalues, "LM" the largest in
magnitude (what power iteration finds). Convergence is reported: ARPACK's tolerance (relative residual
|Hv - lv| <= tol |l|), the number of HVPs and each pair's measured relative residual.

Trace: Hutchinson with Rademacher probes z (E[z'Hz] = tr H), stopping once the relative standard error
of the mean is <= `rel_se` after at least `min_probes`, or at `max_probes`. `sketch` > 0 adds Hutch++'s
deflation (Meyer et al. 2021): tr(Q'HQ) exactly on an orthonormal basis Q of H S (S: `sketch` Rademacher
vectors), Hutchinson on the rest, (I - QQ')z; the standard error is then conditional on Q.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import LossTopoError

Batch = Sequence[Any]
LossFn = Callable[[nn.Module, Batch], torch.Tensor]

DEFAULT_TOL = 1e-5
DEFAULT_MAX_HVPS = 3000
DEFAULT_REL_SE = 0.01
DEFAULT_MIN_PROBES = 10
DEFAULT_MAX_PROBES = 1000


def cross_entropy_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Mean cross-entropy of a classifier on one (inputs, labels) batch (inputs cast to the weights' dtype)."""
    x, y = batch[0], batch[1]
    p = next(model.parameters(), None)
    if p is not None and torch.is_floating_point(x) and x.dtype != p.dtype:
        x = x.to(p.dtype)
    return nn.functional.cross_entropy(model(x), y)


def tensor_batches(X: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(X, y) in consecutive batches of at most `batch_size` (one batch when it fits: its graph is kept)."""
    if len(X) == 0 or len(X) != len(y):
        raise LossTopoError(f"Hessian data has {len(X)} inputs and {len(y)} labels",
                            "pass a non-empty batch with one label per input")
    return [(X[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(X), batch_size)]


class HessianOperator:
    """H v of the batch-size-weighted mean loss w.r.t. the trainable parameters, counted, float64 out."""

    def __init__(self, model: nn.Module, batches: Iterable[Batch], loss: LossFn, desc: str = "Hessian",
                 progress: bool = False):
        from tqdm import tqdm

        self.model, self.batches, self.loss = model, batches, loss
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if not named:
            raise LossTopoError("the model has no trainable parameters", "unfreeze at least one parameter")
        self.names = [n for n, _ in named]
        self.params = [p for _, p in named]
        self.n = sum(p.numel() for p in self.params)
        self.excluded = [n for n, p in model.named_parameters() if not p.requires_grad]
        sizes = [len(b[0]) for b in batches]
        if not sizes or min(sizes) < 1:
            raise LossTopoError("the Hessian needs at least one non-empty batch", "pass (inputs, targets) batches")
        self.samples = sum(sizes)
        self.weights = [s / self.samples for s in sizes]
        self.products = 0
        self._graph: list[torch.Tensor] | None = None
        self.bar = tqdm(desc=desc, unit="Hv", disable=not progress, leave=False)

    def _gradient(self, batch: Batch) -> list[torch.Tensor]:
        with torch.enable_grad():
            value = self.loss(self.model, batch)
            if not isinstance(value, torch.Tensor) or value.numel() != 1:
                raise LossTopoError("the loss closure did not return a scalar tensor",
                                    "return the mean loss of the batch as a 0-d tensor")
            grads = torch.autograd.grad(value.reshape(()), self.params, create_graph=True, allow_unused=True)
        return [torch.zeros_like(p) if g is None else g for g, p in zip(grads, self.params)]

    def products_of(self, v: list[torch.Tensor]) -> list[torch.Tensor]:
        """H v for v shaped like the trainable parameters (their dtype); float64 result."""
        out = [torch.zeros(p.shape, dtype=torch.float64, device=p.device) for p in self.params]
        batches = list(self.batches) if len(self.weights) == 1 else self.batches
        for w, batch in zip(self.weights, batches):
            if len(self.weights) == 1:
                if self._graph is None:
                    self._graph = self._gradient(batch)
                grads = self._graph
            else:
                grads = self._gradient(batch)
            with torch.enable_grad():
                dot = sum(torch.sum(g * t) for g, t in zip(grads, v) if g.requires_grad)
                hv = (torch.autograd.grad(dot, self.params, retain_graph=len(self.weights) == 1, allow_unused=True)
                      if isinstance(dot, torch.Tensor) and dot.requires_grad else [None] * len(self.params))
            for o, h in zip(out, hv):
                if h is not None:
                    o.add_(h.detach().to(torch.float64), alpha=w)
        self.products += 1
        self.bar.update()
        return out

    def to_params(self, x: np.ndarray) -> list[torch.Tensor]:
        """A flat float64 vector as tensors shaped (and typed) like the trainable parameters."""
        out, i = [], 0
        flat = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
        for p in self.params:
            out.append(flat[i:i + p.numel()].reshape(p.shape).to(device=p.device, dtype=p.dtype))
            i += p.numel()
        return out

    def matvec(self, x: np.ndarray) -> np.ndarray:
        hv = self.products_of(self.to_params(np.ravel(x)))
        return torch.cat([h.reshape(-1) for h in hv]).cpu().numpy()


@contextlib.contextmanager
def _hessian_session(model: nn.Module, batches: Iterable[Batch], loss: LossFn, desc: str,
                     progress: bool) -> Iterator[HessianOperator]:
    """A HessianOperator with the model in eval mode; mode, buffers and grads restored afterwards."""
    was_training = model.training
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    grads = [(p, p.grad) for p in model.parameters()]
    op = None
    try:
        model.eval()
        op = HessianOperator(model, batches, loss, desc, progress)
        yield op
    finally:
        if op is not None:
            op._graph = None
            op.bar.close()
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        for p, g in grads:
            p.grad = g
        model.train(was_training)


def _check(cond: bool, what: str, fix: str) -> None:
    if not cond:
        raise LossTopoError(f"invalid Hessian setting: {what}", fix)


def check_trace_settings(rel_se: float, min_probes: int, max_probes: int, sketch: int = 0) -> None:
    """One-line errors for hessian_trace's settings (callers check before any long work)."""
    _check(rel_se > 0, f"rel_se={rel_se}", "use rel_se > 0 (e.g. 0.01; --rel-se)")
    _check(isinstance(min_probes, int) and isinstance(max_probes, int) and 2 <= min_probes <= max_probes,
           f"min_probes={min_probes} max_probes={max_probes}", "use 2 <= min_probes <= max_probes")
    _check(isinstance(sketch, int) and sketch >= 0, f"sketch={sketch}", "use sketch >= 0 (0: plain Hutchinson)")


def hessian_eigenpairs(model: nn.Module, batches: Iterable[Batch], loss: LossFn = cross_entropy_loss, k: int = 2,
                       tol: float = DEFAULT_TOL, which: str = "LA", max_hvps: int = DEFAULT_MAX_HVPS, seed: int = 0,
                       progress: bool = False) -> tuple[np.ndarray, list[list[torch.Tensor]], dict[str, Any]]:
    """Top-k Hessian eigenpairs by Lanczos: (eigenvalues, descending, float64; eigenvectors; info).

    Each eigenvector is a list of tensors shaped and typed like the trainable parameters, in the order of
    `info["parameter_names"]`, unit norm and mutually orthogonal (to float64 rounding before the cast).
    info: method, which, k, tol, ncv, seed, samples, n_parameters, excluded_parameters,
    hessian_vector_products, converged, relative_residuals (|Hv - lv| / |l|, one extra HVP each), seconds.
    Stops after about `max_hvps` products (ARPACK restarts); unconverged pairs are returned with a warning.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    _check(isinstance(k, int) and k >= 1, f"k={k}", "use k >= 1")
    _check(tol > 0 and max_hvps >= 1, f"tol={tol} max_hvps={max_hvps}", "use tol > 0 and max_hvps >= 1")
    _check(which in ("LA", "LM"), f"which={which!r}", "use which='LA' (largest) or 'LM' (largest magnitude)")
    start = time.perf_counter()
    with _hessian_session(model, batches, loss, f"Hessian top-{k} eigen", progress) as op:
        _check(k < op.n, f"k={k} for {op.n} parameters", "ask for fewer eigenpairs than parameters")
        ncv = min(op.n, max(2 * k + 1, 20))
        v0 = np.random.default_rng(seed).choice([-1.0, 1.0], size=op.n)
        A = LinearOperator((op.n, op.n), matvec=op.matvec, dtype=np.float64)
        converged = True
        try:
            vals, vecs = eigsh(A, k=k, which=which, tol=tol, v0=v0, ncv=ncv,
                               maxiter=max(1, max_hvps // max(ncv - k, 1)))
        except ArpackNoConvergence as e:
            converged = False
            vals, vecs = e.eigenvalues, e.eigenvectors
            warnings.warn(f"Lanczos found {len(vals)} of {k} Hessian eigenpairs to tol {tol} within "
                          f"{op.products} products", RuntimeWarning, stacklevel=2)
        order = np.argsort(-vals if which == "LA" else -np.abs(vals))
        vals, vecs = np.asarray(vals)[order], np.asarray(vecs)[:, order]
        lanczos_products = op.products
        residuals = []
        for lam, x in zip(vals, vecs.T):
            r = op.matvec(x) - lam * x
            residuals.append(float(np.linalg.norm(r) / max(abs(lam), 1e-300)))
        vectors = [op.to_params(x) for x in vecs.T]
        info = {"method": "lanczos (scipy.sparse.linalg.eigsh)", "which": which, "k": k, "tol": tol, "ncv": ncv,
                "seed": seed, "samples": op.samples, "batches": len(op.weights), "n_parameters": op.n,
                "parameter_names": op.names, "excluded_parameters": op.excluded,
                "hessian_vector_products": lanczos_products, "converged": converged,
                "relative_residuals": residuals, "seconds": round(time.perf_counter() - start, 3)}
    return np.asarray(vals, dtype=np.float64), vectors, info


def hessian_trace(model: nn.Module, batches: Iterable[Batch], loss: LossFn = cross_entropy_loss,
                  rel_se: float = DEFAULT_REL_SE, min_probes: int = DEFAULT_MIN_PROBES,
                  max_probes: int = DEFAULT_MAX_PROBES, seed: int = 0, sketch: int = 0, progress: bool = False,
                  info: dict[str, Any] | None = None) -> tuple[float, float, int]:
    """(trace, its standard error, number of Hutchinson probes) of the Hessian (see the module docstring).

    The standard error is the sample standard deviation of z'Hz over sqrt(probes). `info`, if given,
    receives the settings, samples, hessian_vector_products (probes + 2 sketch), converged (the rule met
    before max_probes), the sketch part tr(Q'HQ) and seconds.
    """
    check_trace_settings(rel_se, min_probes, max_probes, sketch)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    with _hessian_session(model, batches, loss, "Hessian trace", progress) as op:
        exact, Q = 0.0, np.zeros((op.n, 0))
        if sketch:
            _check(sketch < op.n, f"sketch={sketch} for {op.n} parameters", "use a smaller sketch")
            HS = np.stack([op.matvec(rng.choice([-1.0, 1.0], size=op.n)) for _ in range(sketch)], axis=1)
            Q = np.linalg.qr(HS)[0]
            exact = float(sum(q @ op.matvec(q) for q in Q.T))
        samples: list[float] = []
        mean = stderr = float("nan")
        while len(samples) < max_probes:
            z = rng.choice([-1.0, 1.0], size=op.n)
            if sketch:
                z = z - Q @ (Q.T @ z)
            samples.append(float(z @ op.matvec(z)))
            n = len(samples)
            if n >= 2:
                mean = exact + float(np.mean(samples))
                stderr = float(np.std(samples, ddof=1) / math.sqrt(n))
                if n >= min_probes and stderr <= rel_se * abs(mean):
                    break
        converged = n >= min_probes and stderr <= rel_se * abs(mean)
        if info is not None:
            info.update({"method": "hutch++" if sketch else "hutchinson (Rademacher)", "rel_se": rel_se,
                         "min_probes": min_probes, "max_probes": max_probes, "sketch": sketch, "seed": seed,
                         "samples": op.samples, "batches": len(op.weights), "n_parameters": op.n,
                         "excluded_parameters": op.excluded, "probes": n, "standard_error": stderr,
                         "relative_standard_error": stderr / abs(mean) if mean else float("inf"),
                         "sketch_trace": exact, "hessian_vector_products": op.products,
                         "converged": bool(converged), "seconds": round(time.perf_counter() - start, 3)})
    return mean, stderr, n


def hessian_directions(model: nn.Module, X: torch.Tensor, y: torch.Tensor, k: int = 2, tol: float = DEFAULT_TOL,
                       seed: int = 0, info: dict[str, Any] | None = None) -> list[list[torch.Tensor]]:
    """Top-k Hessian eigenvectors of the mean cross-entropy on (X, y) as directions, one tensor per entry of
    `model.parameters()` (zeros for frozen parameters): unit norm, mutually orthogonal (Lanczos).

    `info`, if given, receives the eigenvalues and hessian_eigenpairs' convergence info.
    """
    vals, vecs, eig = hessian_eigenpairs(model, tensor_batches(X, y), cross_entropy_loss, k=k, tol=tol, seed=seed)
    if info is not None:
        info.update({"eigenvalues": [float(v) for v in vals], **eig})
    out = []
    for v in vecs:
        it = iter(v)
        out.append([next(it) if p.requires_grad else torch.zeros_like(p) for p in model.parameters()])
    return out
