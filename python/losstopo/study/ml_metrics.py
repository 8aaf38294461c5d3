"""The ML numbers of a checkpoint that stage 6 relates to the landscape topology.

Train and test loss and accuracy, the top Hessian eigenvalue and the Hessian trace on one fixed, seeded
evaluation batch (iterations, tolerance and residuals recorded). Prints a table, writes JSON atomically.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import LossTopoError
from ..models.checkpoint import LoadedCheckpoint
from ..models.data import load_dataset
from ..models.train import evaluate_model
from ..subspace.hessian import hessian_top_eigen, hessian_trace

HESSIAN_SAMPLES = 256
HESSIAN_MAX_ITER = 100
HESSIAN_TOL = 1e-3


def ml_metrics(loaded: LoadedCheckpoint, samples: int | None = None, hessian_samples: int | None = HESSIAN_SAMPLES,
               seed: int = 0, data_root: str | None = None, max_iter: int = HESSIAN_MAX_ITER,
               tol: float = HESSIAN_TOL, progress: bool = False) -> dict[str, Any]:
    """Accuracy/loss on train and test (first `samples` of each split's fixed permutation; None = all) and
    the Hessian top eigenvalue and trace on the first `hessian_samples` training samples (None = all)."""
    info = loaded.info
    data, root = info.get("data"), data_root or info.get("data_root")
    if data is None:
        raise LossTopoError(f"checkpoint {loaded.path} does not record its data set", "train it again")
    start = time.perf_counter()
    result: dict[str, Any] = {"checkpoint": str(loaded.path), "sha256": loaded.sha256, "model": info["model"],
                              "model_kwargs": info.get("model_kwargs", {}), "data": data, "samples": samples}
    for split in ("train", "test"):
        x, y = load_dataset(data, split, root=root, samples=samples)
        loss, acc = evaluate_model(loaded.model, x, y)
        result[f"{split}_loss"], result[f"{split}_accuracy"] = loss, acc
    n_train = len(load_dataset(data, "train", root=root)[1])
    hx, hy = load_dataset(data, "train", root=root,
                          samples=None if hessian_samples is None else min(hessian_samples, n_train))
    eig_info: dict[str, Any] = {}
    trace_info: dict[str, Any] = {}
    values, _ = hessian_top_eigen(loaded.model, hx, hy, k=1, max_iter=max_iter, tol=tol, seed=seed, info=eig_info,
                                  progress=progress)
    result["hessian_top_eigenvalue"] = values[0]
    result["hessian_trace"] = hessian_trace(loaded.model, hx, hy, max_iter=max_iter, tol=tol, seed=seed,
                                            info=trace_info, progress=progress)
    result["hessian"] = {"samples": len(hy), "split": "train", "seed": seed, "eigen": eig_info,
                         "trace": trace_info}
    result["seconds"] = time.perf_counter() - start
    return result


def format_table(m: dict[str, Any]) -> str:
    """A short human-readable table of the metrics."""
    h = m["hessian"]
    rows = [
        ("model", f"{m['model']} {m['model_kwargs']} on {m['data']}"),
        ("train loss / accuracy", f"{m['train_loss']:.5f} / {m['train_accuracy']:.4f}"),
        ("test loss / accuracy", f"{m['test_loss']:.5f} / {m['test_accuracy']:.4f}"),
        ("Hessian top eigenvalue", f"{m['hessian_top_eigenvalue']:.5g}  ({h['eigen']['hessian_vector_products']} "
                                   f"products, residual {h['eigen']['relative_residuals'][0]:.1e})"),
        ("Hessian trace", f"{m['hessian_trace']:.5g} +- {h['trace']['standard_error']:.2g}  "
                          f"({h['trace']['iterations']} probes)"),
        ("Hessian batch", f"{h['samples']} training samples, seed {h['seed']}, tol {h['eigen']['tol']}"),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
