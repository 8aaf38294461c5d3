"""The ML numbers of a checkpoint that stage 6 relates to the landscape topology.

Train and test loss and accuracy; the top Hessian eigenvalues (Lanczos, convergence reported) and the
Hessian trace (adaptive Hutch++, with its standard error and probe count) of the mean cross-entropy on the
SAME data the landscape and its Hessian directions use by default: the whole test split of the
checkpoint's data set (docs/landscape.md, "Hessian metrics"). Prints a table, writes JSON atomically.
"""

from __future__ import annotations

import time
from typing import Any

from .. import settings
from ..errors import LossTopoError
from ..models.checkpoint import LoadedCheckpoint
from ..models.data import load_dataset
from ..models.train import evaluate_model
from ..subspace.hessian import (DEFAULT_MAX_PROBES, DEFAULT_MIN_PROBES, DEFAULT_REL_SE, DEFAULT_TOL,
                                check_trace_settings, cross_entropy_loss, hessian_eigenpairs, hessian_trace,
                                tensor_batches)

HESSIAN_SPLIT = "test"  # the landscape's evaluation data (landscape.folder.eval_data) and Hessian directions
HESSIAN_SAMPLES = None  # None: the whole split
HESSIAN_K = 2
HESSIAN_SKETCH = 20  # Hutch++ deflation: about half the products of plain Hutchinson on ResNet-20/digits


def ml_metrics(loaded: LoadedCheckpoint, samples: int | None = None, hessian_samples: int | None = HESSIAN_SAMPLES,
               seed: int = 0, data_root: str | None = None, tol: float = DEFAULT_TOL, k: int = HESSIAN_K,
               rel_se: float = DEFAULT_REL_SE, min_probes: int = DEFAULT_MIN_PROBES,
               max_probes: int = DEFAULT_MAX_PROBES, sketch: int = HESSIAN_SKETCH, hessian_split: str = HESSIAN_SPLIT,
               progress: bool = False) -> dict[str, Any]:
    """Accuracy/loss on train and test (first `samples` of each split's fixed permutation; None = all) and
    the Hessian's top-k eigenvalues and trace on the first `hessian_samples` of `hessian_split` (None = all).

    Keys: train/test_loss, train/test_accuracy, hessian_top_eigenvalue, hessian_eigenvalues (top k),
    hessian_trace, hessian_trace_stderr, hessian_trace_probes, and "hessian" with the data used and each
    estimator's settings and convergence.
    """
    info = loaded.info
    data, root = info.get("data"), data_root or info.get("data_root")
    if data is None:
        raise LossTopoError(f"checkpoint {loaded.path} does not record its data set", "train it again")
    hessian_split = settings.choice("Hessian split", hessian_split, ("test", "train"))
    check_trace_settings(rel_se, min_probes, max_probes, sketch)
    if not (tol > 0 and isinstance(k, int) and k >= 1):
        raise LossTopoError(f"invalid Hessian setting: tol={tol} k={k}", "use --tol > 0 and k >= 1")
    start = time.perf_counter()
    result: dict[str, Any] = {"checkpoint": str(loaded.path), "sha256": loaded.sha256, "model": info["model"],
                              "model_kwargs": info.get("model_kwargs", {}), "data": data, "samples": samples}
    for split in ("train", "test"):
        x, y = load_dataset(data, split, root=root, samples=samples)
        loss, acc = evaluate_model(loaded.model, x, y)
        result[f"{split}_loss"], result[f"{split}_accuracy"] = loss, acc
    n_split = len(load_dataset(data, hessian_split, root=root)[1])
    hx, hy = load_dataset(data, hessian_split, root=root,
                          samples=None if hessian_samples is None else min(hessian_samples, n_split))
    batches = tensor_batches(hx, hy)
    values, _, eig_info = hessian_eigenpairs(loaded.model, batches, cross_entropy_loss, k=k, tol=tol, seed=seed,
                                             progress=progress)
    eig_info.pop("parameter_names", None)
    trace_info: dict[str, Any] = {}
    trace, stderr, probes = hessian_trace(loaded.model, batches, cross_entropy_loss, rel_se=rel_se,
                                          min_probes=min_probes, max_probes=max_probes, seed=seed, sketch=sketch,
                                          progress=progress, info=trace_info)
    result.update({"hessian_top_eigenvalue": float(values[0]), "hessian_eigenvalues": [float(v) for v in values],
                   "hessian_trace": trace, "hessian_trace_stderr": stderr, "hessian_trace_probes": probes})
    result["hessian"] = {"split": hessian_split, "samples": len(hy), "whole_split": len(hy) == n_split,
                         "loss": "mean cross-entropy, eval mode", "seed": seed, "eigen": eig_info,
                         "trace": trace_info}
    result["seconds"] = time.perf_counter() - start
    return result


def format_table(m: dict[str, Any]) -> str:
    """A short human-readable table of the metrics."""
    h = m["hessian"]
    e, t = h["eigen"], h["trace"]
    rows = [
        ("model", f"{m['model']} {m['model_kwargs']} on {m['data']}"),
        ("train loss / accuracy", f"{m['train_loss']:.5f} / {m['train_accuracy']:.4f}"),
        ("test loss / accuracy", f"{m['test_loss']:.5f} / {m['test_accuracy']:.4f}"),
        ("Hessian top eigenvalues", ", ".join(f"{v:.5g}" for v in m["hessian_eigenvalues"])
         + f"  (Lanczos, tol {e['tol']:g}, {e['hessian_vector_products']} products, residual "
           f"{max(e['relative_residuals']):.1e}{'' if e['converged'] else ', NOT converged'})"),
        ("Hessian trace", f"{m['hessian_trace']:.5g} +- {m['hessian_trace_stderr']:.2g}  ({t['method']}, "
                          f"{m['hessian_trace_probes']} probes, rel. SE target {t['rel_se']:g}"
                          f"{'' if t['converged'] else ', NOT reached'})"),
        ("Hessian data", f"{h['samples']} {h['split']} samples{' (whole split)' if h['whole_split'] else ''}, "
                         f"seed {h['seed']}"),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
