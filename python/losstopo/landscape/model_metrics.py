"""The ML numbers of your own model, data and loss: loss (and metrics) at the weights, Hessian eigenvalue, trace.

What `losstopo metrics --model FILE.py:FUNCTION --data ...` prints, the counterpart of study/ml_metrics.py
for checkpoints. The loss and the metrics are evaluated like a landscape's centre point (general.py, eval
mode, on a private copy); the Hessian's top eigenvalue (Lanczos) and trace (Hutchinson) come from
subspace/hessian.py on the same batches and loss closure (the first `hessian_samples` samples), on a copy
of the model, so the caller's model is never touched.
"""

from __future__ import annotations

import copy
import time
from typing import Any, Callable

import torch
from torch import nn

from .. import settings as check
from ..errors import LossTopoError
from .general import private_model
from .objective import as_batches, batch_len, make_objective, mean_over_batches


def model_metrics(model: nn.Module, data: Any, loss: Callable | None = None, *, closure: Callable | None = None,
                  adapter: Callable | None = None, metrics: dict[str, Callable] | None = None,
                  samples: int | None = None, hessian_samples: int | None = 256, seed: int = 0,
                  device: str | None = None, progress: bool = False) -> dict[str, Any]:
    """{"loss", metric names..., "hessian_top_eigenvalue", "hessian_trace", "hessian": {...}, ...} (JSON-ready)."""
    samples = check.samples(samples)
    hessian_samples = check.optional_positive("Hessian batch", hessian_samples, "--hessian-batch")
    seed = check.seed(seed)
    first = next(iter(model.parameters()), None)
    if first is None:
        raise LossTopoError("the model has no parameters", "pass a model with parameters")
    dev = torch.device(device or first.device)
    start = time.perf_counter()
    batches = as_batches(data, adapter, dev, 512, samples)
    objective = make_objective(loss, closure, metrics, sample=batches[0])
    with private_model(model, dev) as work:
        grad = torch.enable_grad() if objective.kind == "closure" else torch.inference_mode()
        with grad:
            rows = [objective.values(work, b) for b in batches]
    values = mean_over_batches(rows, [batch_len(b) for b in batches])
    n_params = int(sum(p.numel() for p in model.parameters()))
    out: dict[str, Any] = {"model": type(model).__name__, "parameters": n_params, "loss_function": objective.name,
                           "loss_kind": objective.kind, "mode": "eval",
                           "samples": int(sum(batch_len(b) for b in batches)), "loss": float(values[0])}
    out.update({name: float(v) for name, v in zip(objective.metrics, values[1:])})
    out["metric_names"] = list(objective.metrics)
    out.update(_hessian(model, data, adapter, dev, hessian_samples, objective, seed, progress))
    out["seconds"] = round(time.perf_counter() - start, 3)
    return out


def _hessian(model: nn.Module, data: Any, adapter: Callable | None, dev: torch.device, n: int | None,
             objective: Any, seed: int, progress: bool) -> dict[str, Any]:
    from ..subspace import hessian

    eigenpairs, trace = getattr(hessian, "hessian_eigenpairs", None), hessian.hessian_trace
    if eigenpairs is None:
        return {"hessian_top_eigenvalue": None, "hessian_trace": None,
                "hessian": {"note": "this losstopo's Hessian takes cross-entropy on checkpoints only"}}
    batches = as_batches(data, adapter, dev, 512, n)
    work = copy.deepcopy(model)
    vals, _, eig = eigenpairs(work, batches, objective.loss, k=1, seed=seed, progress=progress)
    info: dict[str, Any] = {}
    tr, stderr, _ = trace(work, batches, objective.loss, seed=seed, progress=progress, info=info)
    eig = {k: v for k, v in eig.items() if k != "parameter_names"}
    return {"hessian_top_eigenvalue": float(vals[0]), "hessian_trace": float(tr),
            "hessian": {"samples": int(sum(batch_len(b) for b in batches)), "seed": seed, "eigen": eig,
                        "trace": {**info, "standard_error": stderr}}}


def format_model_metrics(m: dict[str, Any]) -> str:
    """A short table of model_metrics' numbers."""
    rows = [("model", f"{m['model']} ({m['parameters']} parameters), eval mode"),
            ("loss", f"{m['loss']:.6g}  ({m['loss_function']}, {m['samples']} samples)")]
    rows += [(k, f"{m[k]:.6g}") for k in m.get("metric_names", []) if k in m]
    h = m.get("hessian", {})
    if m.get("hessian_top_eigenvalue") is not None:
        rows.append(("Hessian top eigenvalue", f"{m['hessian_top_eigenvalue']:.6g}"))
        rows.append(("Hessian trace", f"{m['hessian_trace']:.6g} +- {h['trace']['standard_error']:.2g}"))
        rows.append(("Hessian batch", f"{h['samples']} samples, seed {h['seed']}"))
    else:
        rows.append(("Hessian", h.get("note", "not computed")))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
