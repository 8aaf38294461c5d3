"""Stage 2 for any model, data and loss: f(a) = objective(theta + sum_k a_k d_k) on the user's batches.

The general counterpart of evaluator.py's PointEvaluator (which stays the path of cross-entropy on
tensors: folded first layer, torch.compile, vmap). Same rules: the work happens on a private copy of
the model in eval mode (BatchNorm uses its running statistics, Dropout is off), whose parameters are
written in place per point; the caller's model is never written. A model that cannot be deep-copied is
used in place and restored bitwise (parameters, buffers, modes, requires_grad) in a `finally`, so an
exception or Ctrl-C half-way leaves it as it was. Loss objectives run under inference mode; closures run
with autograd on (a physics-informed loss differentiates the outputs by the inputs), the parameters
never requiring grad.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import LossTopoError
from .objective import Batch, Objective, batch_len, mean_over_batches


@contextlib.contextmanager
def private_model(model: nn.Module, device: torch.device) -> Iterator[nn.Module]:
    """A copy of `model` on `device` in eval mode without grad; the model itself, restored after, if it
    cannot be copied (or is already on `device` and copying fails)."""
    try:
        work = copy.deepcopy(model)
    except Exception:  # noqa: BLE001 - anything deepcopy raises means: work in place and restore
        work = None
    if work is not None:
        yield work.to(device).eval().requires_grad_(False)
        return
    saved = {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()}
    params = {id(p): (p, p.device, p.requires_grad) for p in model.parameters()}
    modes = [(m, m.training) for m in model.modules()]
    try:
        yield model.to(device).eval().requires_grad_(False)
    finally:
        with torch.no_grad():
            for p, dev, _ in params.values():
                if p.device != dev:
                    p.data = p.data.to(dev)
            model.load_state_dict(saved, strict=True)
        for p, _, rg in params.values():
            p.requires_grad_(rg)
        for m, training in modes:
            m.training = training


class ObjectiveEvaluator:
    """[loss, metric...] of the perturbed model at coordinates, one point per pass over the batches."""

    def __init__(self, work: nn.Module, directions: Sequence[dict[str, torch.Tensor]], batches: Sequence[Batch],
                 objective: Objective):
        self.model = work
        self.objective = objective
        self.batches = list(batches)
        self.sizes = [batch_len(b) for b in self.batches]
        self.names = [n for n, _ in work.named_parameters()]
        self.params = [p for _, p in work.named_parameters()]
        if not self.params:
            raise LossTopoError("the model has no parameters", "pass a model with parameters to perturb")
        for d in directions:
            missing = [n for n in self.names if n not in d]
            if missing:
                raise LossTopoError(f"directions lack parameters {missing[:3]}", "use directions made for this model")
            bad = [n for n, p in zip(self.names, self.params) if tuple(d[n].shape) != tuple(p.shape)]
            if bad:
                raise LossTopoError(f"direction tensor {bad[0]!r} has shape {list(d[bad[0]].shape)}, the parameter "
                                    f"{list(self.params[self.names.index(bad[0])].shape)}",
                                    "use directions made for this model")
        self.theta = [p.detach().clone() for p in self.params]
        self.dirs = [[d[n].to(p.device, p.dtype) for n, p in zip(self.names, self.params)] for d in directions]
        self.dims = len(self.dirs)
        self.columns = ["loss", *objective.metrics]

    def _set_point(self, a: Sequence[float]) -> None:
        with torch.no_grad():
            for j, p in enumerate(self.params):
                torch.add(self.theta[j], self.dirs[0][j], alpha=float(a[0]), out=p)
                for k in range(1, self.dims):
                    p.add_(self.dirs[k][j], alpha=float(a[k]))

    def point(self, a: Sequence[float]) -> np.ndarray:
        """[loss, metric...] at one point (batch-size-weighted means over the batches)."""
        self._set_point(a)
        grad = torch.enable_grad() if self.objective.kind == "closure" else torch.inference_mode()
        with grad:
            rows = [self.objective.values(self.model, b) for b in self.batches]
        return mean_over_batches(rows, self.sizes)

    def evaluate(self, coords: np.ndarray, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """(P, 1 + metrics) float64 values at each row of `coords`."""
        coords = np.asarray(coords, np.float64).reshape(-1, self.dims)
        out = np.empty((len(coords), len(self.columns)), np.float64)
        try:
            for i, a in enumerate(coords):
                out[i] = self.point(a)
                if progress is not None:
                    progress(1)
        finally:
            with torch.no_grad():
                for p, t in zip(self.params, self.theta):
                    p.copy_(t)
        return out
