"""`compute_topology`: the one entry point of the exact built-in backend (stage 4).

types.py documents the result's arrays (TTK FTM's layout), builtin.py the algorithm, simplify.py the
simplification by persistence.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import settings
from ..errors import LossTopoError
from ..finite import finite_vertices
from ..representation import Connectivity, ImageConnectivity, points3
from .builtin import join_tree_and_pairs
from .finite_part import component_key, finite_part
from .numbering import ttk_image_points
from .simplify import absolute_threshold, simplify_topology
from .types import TopologyResult


def _point_lookup(connectivity: Connectivity) -> Callable[[np.ndarray], np.ndarray] | None:
    """A function from vertex ids to (k, 3) coordinates (for RegionSpan), or None without points.

    Image points are TTK's float32 ones (ttk_image_points), so RegionSpan equals TTK's bit for bit."""
    if isinstance(connectivity, ImageConnectivity):
        c = connectivity
        return lambda ids: ttk_image_points(c.dims, c.origin, c.spacing, ids)
    if connectivity.points is None:
        return None
    out = points3(np.asarray(connectivity.points).reshape(connectivity.n_vertices, -1))
    return lambda ids: out[ids]


def compute_topology(values: np.ndarray, connectivity: Connectivity, simplify: float = 0.0,
                     simplify_relative: bool = False, vertex_order: np.ndarray | None = None) -> TopologyResult:
    """Join tree and 0-dim persistence pairs of a scalar field on an image or a graph.

    simplify: remove the minimum-saddle pairs of persistence <= simplify (absolute, or a fraction of
    the value range when simplify_relative) first, like TTK's TopologicalSimplificationByPersistence;
    the result then holds the simplified field in `values`. Non-finite values (inf/NaN) are left out:
    the result is the topology of the finite part (finite_part.py), no node or pair sits on a non-finite
    vertex, their segmentation is -1, `values` keeps them as given and `n_nonfinite` counts them. Fewer
    than two finite values (with some non-finite) is a one-line LossTopoError.

    vertex_order: a rank per vertex that orders equal values, as TTK's order array `<array>_Order`
    (TopologicalSimplificationByPersistence writes one; TTK's filters sweep by it when present), instead
    of the vertex id. The result's `order` is the sweep order after simplification (or the given one).
    """
    v = np.asarray(values)
    if v.ndim != 1:
        v = v.reshape(-1)
    if not np.issubdtype(v.dtype, np.number):
        raise LossTopoError(f"scalar field has non-numeric type {v.dtype}", "pass a float array")
    scalar_dtype = "float32" if v.dtype == np.float32 else "float64"
    v = np.ascontiguousarray(v, dtype=np.float64)
    n = connectivity.n_vertices
    if v.size != n:
        raise LossTopoError(f"scalar field has {v.size} values but the domain has {n} vertices",
                            "pass one value per grid point / graph vertex")
    part = finite_part(v, connectivity)
    simplify = settings.threshold(simplify)
    points = _point_lookup(connectivity)
    order = None if vertex_order is None else sweep_order(v, vertex_order)
    tree, pairs, n_comp = join_tree_and_pairs(v, connectivity, order=order, points=points,  # part.vertices
                                              component_key=component_key(connectivity, v))
    threshold = absolute_threshold(v, simplify, simplify_relative)
    if threshold > 0:
        v, tree, pairs, order = simplify_topology(v, connectivity, tree, pairs, threshold, points=points,
                                                  order=order)
    return TopologyResult(values=v, connectivity=connectivity, pairs=pairs, tree=tree, n_vertices=n,
                          simplify_threshold=threshold, n_components=n_comp,
                          n_nonfinite=part.n_nonfinite, scalar_dtype=scalar_dtype, order=order)


def sweep_order(values: np.ndarray, vertex_order: np.ndarray) -> np.ndarray:
    """The finite vertices sorted by a per-vertex rank (TTK's order array); a one-line error when the rank
    does not sort the values (an order array left over from another field)."""
    rank = np.asarray(vertex_order).reshape(-1)
    if rank.size != values.size or not np.issubdtype(rank.dtype, np.number):
        raise LossTopoError(f"the order array has {rank.size} values for {values.size} vertices",
                            "pass one rank per vertex (TTK's <array>_Order), or none")
    finite = finite_vertices(values)
    order = finite[np.argsort(rank[finite], kind="stable")]
    if np.any(np.diff(values[order]) < 0):
        raise LossTopoError("the order array does not sort the scalar field (it was made for other values)",
                            "remove the <array>_Order array or recompute it with the field")
    return order.astype(np.int64)
