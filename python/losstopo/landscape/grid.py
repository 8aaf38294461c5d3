"""Stage 2's coordinates: the regular grid over [-span, span]^dims in VTK point order, or the user's own."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import settings
from ..errors import LossTopoError


def grid_coords(resolution: int | Sequence[int], span: float, dims: int = 2) -> np.ndarray:
    """(P, dims) float64 grid over [-span, span]^dims in VTK order: p = i + nx*j (+ nx*ny*k)."""
    dims = settings.dims(dims)
    res = settings.resolution(resolution, dims)
    span = settings.span(span)
    axes = [np.linspace(-span, span, n) for n in res]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel(order="F") for m in mesh], axis=1)



def check_coords(coords: np.ndarray) -> np.ndarray:
    """User coordinates as a finite (P, dims) float64 array with dims 1..3."""
    a = np.asarray(coords, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or not 1 <= a.shape[1] <= 3 or len(a) == 0:
        raise LossTopoError(f"coordinates have shape {a.shape}", "pass a (P, dims) array with dims 1, 2 or 3")
    if not np.all(np.isfinite(a)):
        raise LossTopoError("coordinates contain inf or NaN", "pass finite coordinates")
    return a


def load_coords(path: str | os.PathLike) -> np.ndarray:
    """A (P, dims) float64 coordinate array from a .npy file, dims 1..3, finite; else a one-line error."""
    p = Path(path)
    if not p.is_file():
        raise LossTopoError(f"coordinates file {p} does not exist", "pass --coords FILE.npy with a (P, dims) array")
    try:
        a = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise LossTopoError(f"coordinates file {p} is not a readable .npy array ({type(e).__name__})",
                            "save it with numpy.save(FILE, array)") from None
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu":
        raise LossTopoError(f"coordinates file {p} does not hold a numeric array", "save a float (P, dims) array")
    return check_coords(a)
