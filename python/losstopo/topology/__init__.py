"""Stage 4: join tree (merge tree of sublevel sets) and 0-dimensional persistence.

`compute_topology` is the one entry point of the exact built-in backend; types.py documents the
result's arrays (TTK FTM's layout), builtin.py the algorithm, simplify.py the simplification.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import LossTopoError
from .builtin import IMAGE_OFFSETS, join_tree_and_pairs
from .simplify import absolute_threshold, simplify_topology
from .types import (Connectivity, GraphConnectivity, ImageConnectivity, JoinTree, PersistencePairs,
                    TopologyResult)

__all__ = ["compute_topology", "ImageConnectivity", "GraphConnectivity", "TopologyResult", "JoinTree",
           "PersistencePairs", "Connectivity", "IMAGE_OFFSETS"]


def _point_lookup(connectivity: Connectivity) -> Callable[[np.ndarray], np.ndarray] | None:
    """A function from vertex ids to (k, 3) coordinates (for RegionSpan), or None without points."""
    if isinstance(connectivity, ImageConnectivity):
        return connectivity.coords
    if connectivity.points is None:
        return None
    p = np.asarray(connectivity.points, dtype=np.float64).reshape(connectivity.n_vertices, -1)
    out = np.zeros((p.shape[0], 3))
    out[:, : min(3, p.shape[1])] = p[:, :3]
    return lambda ids: out[ids]


def compute_topology(values: np.ndarray, connectivity: Connectivity, simplify: float = 0.0,
                     simplify_relative: bool = False) -> TopologyResult:
    """Join tree and 0-dim persistence pairs of a finite scalar field on an image or a graph.

    simplify: remove the minimum-saddle pairs of persistence <= simplify (absolute, or a fraction of
    the value range when simplify_relative) first, like TTK's TopologicalSimplificationByPersistence;
    the result then holds the simplified field in `values`. Non-finite values are rejected: apply
    losstopo.finite.finite_version first.
    """
    v = np.asarray(values)
    if v.ndim != 1:
        v = v.reshape(-1)
    if not np.issubdtype(v.dtype, np.number):
        raise LossTopoError(f"scalar field has non-numeric type {v.dtype}", "pass a float array")
    v = np.ascontiguousarray(v, dtype=np.float64)
    n = connectivity.n_vertices
    if v.size != n:
        raise LossTopoError(f"scalar field has {v.size} values but the domain has {n} vertices",
                            "pass one value per grid point / graph vertex")
    if not np.all(np.isfinite(v)):
        bad = int(v.size - np.count_nonzero(np.isfinite(v)))
        raise LossTopoError(f"scalar field has {bad} non-finite values (inf/NaN)",
                            "apply losstopo.finite.finite_version first (or let analyze do it)")
    if not np.isfinite(simplify) or simplify < 0:
        raise LossTopoError(f"simplification threshold {simplify} is negative or not finite",
                            "pass a persistence threshold >= 0")
    points = _point_lookup(connectivity)
    tree, pairs, n_comp = join_tree_and_pairs(v, connectivity, points=points)
    threshold = absolute_threshold(v, simplify, simplify_relative)
    if threshold > 0:
        v, tree, pairs = simplify_topology(v, connectivity, tree, pairs, threshold, points=points)
    return TopologyResult(values=v, connectivity=connectivity, pairs=pairs, tree=tree, n_vertices=n,
                          simplify_threshold=threshold, n_components=n_comp)
