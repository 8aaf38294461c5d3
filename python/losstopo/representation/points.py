"""Vertex positions as (V, 3) float64: every consumer (VTK, RegionSpan, pictures) pads to 3-D the same way."""

from __future__ import annotations

import numpy as np


def points3(points: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """(V, 3) copy of (V,) or (V, d) positions: the first three coordinates, zeros for missing ones."""
    p = np.asarray(points, dtype=np.float64)
    p = p.reshape(len(p), -1) if p.size else p.reshape(len(p), 0 if p.ndim < 2 else p.shape[1])
    out = np.zeros((len(p), 3), dtype=dtype)
    out[:, : min(3, p.shape[1])] = p[:, :3]
    return out
