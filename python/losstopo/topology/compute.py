"""`compute_topology`: the one entry point of the exact built-in backend (stage 4).

types.py documents the result's arrays (TTK FTM's layout), builtin.py the algorithm, simplify.py the
simplification by persistence.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import settings
from ..errors import LossTopoError
from ..representation import Connectivity, ImageConnectivity, points3
from .builtin import join_tree_and_pairs
from .finite_part import finite_part
from .simplify import absolute_threshold, simplify_topology
from .types import TopologyResult


def _point_lookup(connectivity: Connectivity) -> Callable[[np.ndarray], np.ndarray] | None:
    """A function from vertex ids to (k, 3) coordinates (for RegionSpan), or None without points."""
    if isinstance(connectivity, ImageConnectivity):
        return connectivity.coords
    if connectivity.points is None:
        return None
    out = points3(np.asarray(connectivity.points).reshape(connectivity.n_vertices, -1))
    return lambda ids: out[ids]


def compute_topology(values: np.ndarray, connectivity: Connectivity, simplify: float = 0.0,
                     simplify_relative: bool = False) -> TopologyResult:
    """Join tree and 0-dim persistence pairs of a scalar field on an image or a graph.

    simplify: remove the minimum-saddle pairs of persistence <= simplify (absolute, or a fraction of
    the value range when simplify_relative) first, like TTK's TopologicalSimplificationByPersistence;
    the result then holds the simplified field in `values`. Non-finite values (inf/NaN) are left out:
    the result is the topology of the finite part (finite_part.py), no node or pair sits on a non-finite
    vertex, their segmentation is -1, `values` keeps them as given and `n_nonfinite` counts them. Fewer
    than two finite values (with some non-finite) is a one-line LossTopoError.
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
    part = finite_part(v, connectivity)
    simplify = settings.threshold(simplify)
    points = _point_lookup(connectivity)
    tree, pairs, n_comp = join_tree_and_pairs(v, connectivity, points=points)  # sweeps part.vertices
    threshold = absolute_threshold(v, simplify, simplify_relative)
    if threshold > 0:
        v, tree, pairs = simplify_topology(v, connectivity, tree, pairs, threshold, points=points)
    return TopologyResult(values=v, connectivity=connectivity, pairs=pairs, tree=tree, n_vertices=n,
                          simplify_threshold=threshold, n_components=n_comp,
                          n_nonfinite=part.n_nonfinite)
