"""Independent references shared by several test modules (brute force and dense computations).

They do not use losstopo's own algorithms, so a test that compares against them can fail.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

# TTK's 2-D triangulation: the 6 neighbours of (i, j).
TTK_2D_NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1))


def ttk_minima_2d(values: np.ndarray, nx: int, ny: int) -> int:
    """Brute force: vertices lower (by value, then id) than all their neighbours in TTK's triangulation."""
    count = 0
    for j in range(ny):
        for i in range(nx):
            p = i + nx * j
            lower = False
            for di, dj in TTK_2D_NEIGHBOURS:
                a, b = i + di, j + dj
                if 0 <= a < nx and 0 <= b < ny:
                    q = a + nx * b
                    lower |= (values[q], q) < (values[p], p)
            count += not lower
    return count


def dense_hessian(model: nn.Module, X: torch.Tensor, y: torch.Tensor, vectorize: bool = False) -> torch.Tensor:
    """The exact Hessian of the mean cross-entropy w.r.t. all parameters, in float64 (a deep copy of model)."""
    ref = copy.deepcopy(model).double()
    names = [n for n, _ in ref.named_parameters()]
    shapes = [p.shape for p in ref.parameters()]
    flat = torch.cat([p.detach().flatten() for p in ref.parameters()])

    def loss(w: torch.Tensor) -> torch.Tensor:
        params, offset = {}, 0
        for n, s in zip(names, shapes):
            params[n] = w[offset:offset + s.numel()].view(s)
            offset += s.numel()
        return nn.functional.cross_entropy(functional_call(ref, params, (X.double(),)), y)

    return torch.autograd.functional.hessian(loss, flat, vectorize=vectorize)
