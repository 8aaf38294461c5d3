"""Hessian directions of any model, data and loss: subspace/hessian.py's Lanczos on the common currency.

The batches and the loss closure of objective.py are what `losstopo.subspace.hessian.hessian_eigenpairs`
takes (a re-iterable of (inputs, targets) on the device; `closure(model, batch) -> scalar`), so a user's
loss (MSE, a physics-informed closure) gets its own Hessian eigenvectors. It runs on a copy of the model,
so the caller's model (its .grad included) is never touched. Frozen parameters get zero directions.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ..errors import LossTopoError
from .objective import Batch, Objective

Direction = dict[str, torch.Tensor]


def hessian_raw(model: nn.Module, batches: list[Batch], objective: Objective, pair: Any, dims: int,
                seed: int) -> tuple[list[Direction], dict[str, Any]]:
    """`dims` unit Hessian eigenvectors (largest eigenvalues) as {parameter name: tensor} on the CPU, and info."""
    from ..subspace import hessian

    try:
        work = copy.deepcopy(model)
    except Exception:  # noqa: BLE001 - hessian.py restores mode, buffers and grads of the model itself
        work = model
    eigenpairs = getattr(hessian, "hessian_eigenpairs", None)
    if eigenpairs is not None:
        vals, vecs, info = eigenpairs(work, batches, objective.loss, k=dims, seed=seed)
        trainable = info.get("parameter_names") or [n for n, p in work.named_parameters() if p.requires_grad]
    elif pair is not None:  # an older hessian.py: cross-entropy on (X, y) only
        info = {}
        vecs = hessian.hessian_directions(work, pair[0], pair[1], dims, seed=seed)
        vals, trainable = [], [n for n, _ in work.named_parameters()]
    else:
        raise LossTopoError("Hessian directions for this loss need losstopo.subspace.hessian.hessian_eigenpairs",
                            "use directions='filter' or 'random', or cross-entropy on (X, y) tensors")
    out: list[Direction] = []
    for v in list(vecs)[:dims]:
        by_name = dict(zip(trainable, v))
        out.append({n: (by_name[n] if n in by_name else torch.zeros_like(p)).detach().cpu().float().reshape(p.shape)
                    for n, p in model.named_parameters()})
    info = {k: v for k, v in info.items() if k != "parameter_names"}
    info["eigenvalues"] = [float(x) for x in vals]
    return out, info
