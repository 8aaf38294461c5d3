"""Hessian of the loss at the trained weights: top eigenpairs and trace, via PyHessian.

PyHessian (pyhessian.hessian) on one fixed batch, CPU, cross-entropy loss, seeded. Its quirks are handled
here: it accumulates into `.grad` without zeroing (stale gradients would be added to the gradient it
differentiates, giving a wrong Hessian), leaves the double-backward graph attached to `.grad`, forces
`model.eval()`, and draws its random vectors from torch's global generator. We clear the gradients
first, restore them, the model's mode and the global RNG afterwards, and check each eigenpair's residual.

Power iteration finds the eigenvalues of largest MAGNITUDE; near a minimum these are the top positive ones.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from ..errors import LossTopoError


@contextlib.contextmanager
def _pyhessian_session(model: nn.Module, X: torch.Tensor, y: torch.Tensor, seed: int) -> Iterator[Any]:
    """A pyhessian.hessian object on (X, y) with grads cleared, mode, grads and RNG restored afterwards."""
    import importlib

    PyHessian = importlib.import_module("pyhessian.hessian").hessian

    if len(X) == 0 or len(X) != len(y):
        raise LossTopoError(f"Hessian batch has {len(X)} inputs and {len(y)} labels",
                            "pass a non-empty batch with one label per input")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise LossTopoError("the model has no trainable parameters", "unfreeze at least one parameter")
    if X.dtype != params[0].dtype:
        X = X.to(params[0].dtype)
    was_training = model.training
    saved_dtype = torch.get_default_dtype()
    saved_grads = [p.grad for p in params]
    for p in params:
        p.grad = None
    ph = None
    try:
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
            # PyHessian's backward(create_graph=True) warns of a grad<->param cycle; we reset .grad below.
            warnings.filterwarnings("ignore", message="Using backward\\(\\) with create_graph=True")
            torch.manual_seed(seed)
            if params[0].dtype in (torch.float32, torch.float64):
                torch.set_default_dtype(params[0].dtype)  # PyHessian's torch.randn vectors match the params
            ph = PyHessian(model, nn.CrossEntropyLoss(), data=(X, y), cuda=False)
            if any(not isinstance(g, torch.Tensor) for g in ph.gradsH):
                raise LossTopoError("some trainable parameters do not affect the loss",
                                    "freeze unused parameters (requires_grad=False) before the Hessian")
            yield ph
    finally:
        if ph is not None:  # drop the double-backward graph PyHessian keeps alive
            ph.gradsH = None
        torch.set_default_dtype(saved_dtype)
        for p, g in zip(params, saved_grads):
            p.grad = g
        model.train(was_training)


@contextlib.contextmanager
def _counted_products(desc: str, most: int, progress: bool) -> Iterator[list[int]]:
    """Count PyHessian's Hessian-vector products (it reports none) and show them as a tqdm bar."""
    import importlib

    from tqdm import tqdm

    module = importlib.import_module("pyhessian.hessian")  # the module (the package exports the class)
    original = module.hessian_vector_product
    calls = [0]
    bar = tqdm(total=most, desc=desc, unit="Hv", disable=not progress, leave=False)

    def counting(gradsH: Any, params: Any, v: Any) -> Any:
        calls[0] += 1
        bar.update()
        return original(gradsH, params, v)

    module.hessian_vector_product = counting
    try:
        yield calls
    finally:
        module.hessian_vector_product = original
        bar.close()


def _hvp(ph: Any, v: list[torch.Tensor]) -> list[torch.Tensor]:
    return list(torch.autograd.grad(ph.gradsH, ph.params, grad_outputs=v, retain_graph=True))


def _dot(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return float(sum(torch.sum(x.double() * z.double()) for x, z in zip(a, b)))


def hessian_top_eigen(model: nn.Module, X: torch.Tensor, y: torch.Tensor, k: int = 1, max_iter: int = 100,
                      tol: float = 1e-3, seed: int = 0, info: dict[str, Any] | None = None,
                      progress: bool = False) -> tuple[list[float], list[list[torch.Tensor]]]:
    """Top-k Hessian eigenvalues (largest magnitude) and eigenvectors (lists shaped like the trainable params).

    Power iteration with deflation (PyHessian `eigenvalues`), stopping when the relative change of the
    estimate is below `tol` or after `max_iter` products; each returned value is the Rayleigh quotient of
    the returned unit vector. If `info` is given it receives k, max_iter, tol, seed, samples, the number of
    Hessian-vector products, each pair's relative residual |Hv - lv| / |l| and PyHessian's own estimates.
    """
    if k < 1 or max_iter < 1 or tol <= 0:
        raise LossTopoError(f"invalid Hessian settings k={k} max_iter={max_iter} tol={tol}",
                            "use k >= 1, max_iter >= 1, tol > 0")
    with _pyhessian_session(model, X, y, seed) as ph, \
            _counted_products(f"Hessian top-{k} eigen", k * max_iter, progress) as calls:
        values, vectors = ph.eigenvalues(maxIter=max_iter, tol=tol, top_n=k)
        # PyHessian's vectors have norm 1 - 1e-6/|Hv| (it divides by norm + 1e-6), which biases its
        # eigenvalues by about -2e-6/|l| relative; one more product gives the exact Rayleigh quotient.
        pyhessian_values = [float(v) for v in values]
        values, unit_vectors, residuals = [], [], []
        for v in vectors:
            norm = math.sqrt(_dot(v, v))
            v = [t.detach() / norm for t in v]
            hv = _hvp(ph, v)
            lam = _dot(v, hv)
            r = [a - lam * b for a, b in zip(hv, v)]
            values.append(lam)
            unit_vectors.append([t.clone() for t in v])
            residuals.append(math.sqrt(_dot(r, r)) / max(abs(lam), 1e-12))
        vectors = unit_vectors
        products = calls[0]
    if info is not None:
        info.update({"k": k, "max_iter": max_iter, "tol": tol, "seed": seed, "samples": len(y),
                     "hessian_vector_products": products, "relative_residuals": residuals,
                     "pyhessian_estimates": pyhessian_values})
    return [float(v) for v in values], vectors


def hessian_trace(model: nn.Module, X: torch.Tensor, y: torch.Tensor, max_iter: int = 100, tol: float = 1e-3,
                  seed: int = 0, info: dict[str, Any] | None = None, progress: bool = False) -> float:
    """Hutchinson estimate of the Hessian trace (PyHessian `trace`, Rademacher vectors).

    Stops when the running mean changes by less than `tol` (relative) or after `max_iter` samples. If `info`
    is given it receives max_iter, tol, seed, samples, the number of probe vectors used (`iterations`) and
    the standard error of the estimate (sample std / sqrt(iterations); NaN for one probe).
    """
    if max_iter < 1 or tol <= 0:
        raise LossTopoError(f"invalid Hessian settings max_iter={max_iter} tol={tol}",
                            "use max_iter >= 1, tol > 0")
    with _pyhessian_session(model, X, y, seed) as ph, _counted_products("Hessian trace", max_iter, progress):
        vhv = np.asarray(ph.trace(maxIter=max_iter, tol=tol), dtype=np.float64)
    stderr = float(vhv.std(ddof=1) / math.sqrt(len(vhv))) if len(vhv) > 1 else float("nan")
    if info is not None:
        info.update({"max_iter": max_iter, "tol": tol, "seed": seed, "samples": len(y),
                     "iterations": int(len(vhv)), "standard_error": stderr})
    return float(vhv.mean())


def hessian_directions(model: nn.Module, X: torch.Tensor, y: torch.Tensor, k: int = 2, max_iter: int = 100,
                       tol: float = 1e-3, seed: int = 0) -> list[list[torch.Tensor]]:
    """Top-k Hessian eigenvectors as directions: one tensor per entry of `model.parameters()`.

    Parameters that do not require grad get zero tensors, so each direction lines up with
    `list(model.parameters())`. Each has unit norm; they are orthogonal only as far as the power iteration
    converged (PyHessian returns the normalised H v of the last step), so callers orthonormalise.
    """
    _, vectors = hessian_top_eigen(model, X, y, k=k, max_iter=max_iter, tol=tol, seed=seed)
    out = []
    for v in vectors:
        it = iter(v)
        out.append([next(it) if p.requires_grad else torch.zeros_like(p) for p in model.parameters()])
    return out
