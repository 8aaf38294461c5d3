"""Persistence simplification of minimum-saddle pairs, like TTK's TopologicalSimplificationByPersistence.

After simplification with threshold t > 0 only the 0-dim pairs with persistence > t remain, and the
join tree is that of the simplified field. The simplified field is built the way TTK builds its
output (flattened values plus an explicit vertex order): every removed minimum's basin (the sublevel
component that dies at its saddle s) takes the value of s and is ordered right after s, in
breadth-first order from s, so each of its vertices has a lower neighbour and no new critical point
appears. Vertices of surviving pairs are untouched, so their births and deaths are unchanged.
Non-finite vertices are outside the finite part (finite_part.py): they are in no basin, keep their value
and stay out of the order.
"""

from __future__ import annotations

import numba
import numpy as np

from ..finite import finite_vertices
from ..representation import Connectivity
from .finite_part import component_key
from .builtin import Neighbourhood, _neighbours, _rank, join_tree_and_pairs, sort_order
from .types import JoinTree, PersistencePairs


def absolute_threshold(values: np.ndarray, simplify: float, relative: bool) -> float:
    """The absolute persistence threshold: `simplify`, or that fraction of the (finite) value range."""
    if not relative:
        return float(simplify)
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(simplify) * float(v.max() - v.min()) if v.size else 0.0


def simplified_field(values: np.ndarray, connectivity: Connectivity, tree: JoinTree,
                     pairs: PersistencePairs, threshold: float,
                     order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(values, order) of the field without the finite pairs of persistence <= threshold.

    `order` holds the finite vertices only (the ones the sweep processes); given, it is the input's
    order (an order array such as TTK's), else (value, vertex id)."""
    if order is None:
        order, rank = sort_order(values, finite_vertices(values))
    else:
        rank = _rank(order, values.size)
    remove = pairs.finite & (pairs.persistence <= threshold)
    if threshold <= 0 or not remove.any():
        return values.copy(), order
    n = tree.n_nodes
    node_of_vertex = np.full(values.size, -1, dtype=np.int64)
    node_of_vertex[tree.node_vertex] = np.arange(n)
    up = np.full(n, -1, dtype=np.int64)
    proper = tree.arcs[:, 0] != tree.arcs[:, 1]  # TTK's self-loop on a merging root is no parent
    up[tree.arcs[proper, 1]] = tree.arcs[proper, 0]
    flat_root = _removed_subtrees(up, node_of_vertex, pairs.birth_vertex[remove], pairs.death_vertex[remove],
                                  np.argsort(-rank[tree.node_vertex], kind="stable"))
    removed_child = flat_root == np.arange(n)
    arc_of_id = np.full(int(tree.arc_segmentation_id.max(initial=-1)) + 2, -1, dtype=np.int64)
    arc_of_id[tree.arc_segmentation_id] = np.arange(tree.n_arcs)
    below = arc_of_id[tree.segmentation]  # segmentation -1 maps to the last slot, -1
    region = np.full(values.size, -1, dtype=np.int64)
    is_node = node_of_vertex >= 0
    region[is_node] = flat_root[node_of_vertex[is_node]]
    reg = ~is_node & (below >= 0)
    region[reg] = flat_root[tree.arcs[below[reg], 1]]
    saddle_vertex = np.full(n, -1, dtype=np.int64)
    roots = np.nonzero(removed_child)[0]
    saddle_vertex[roots] = tree.node_vertex[up[roots]]
    nbh = Neighbourhood(connectivity)
    roots = roots[np.argsort(saddle_vertex[roots], kind="stable")].astype(np.int64)
    new_order = _flattened_order(order, region, roots, saddle_vertex, *nbh.args(), nbh.max_degree)
    in_region = region >= 0
    new_values = values.copy()
    new_values[in_region] = values[saddle_vertex[region[in_region]]]
    return new_values, new_order


@numba.njit(cache=True)
def _removed_subtrees(up, node_of_vertex, births, deaths, top_down):
    """For every node, the root of the outermost removed subtree it lies in (-1 if none).

    A removed pair (m, s) removes the subtree of the child of s that holds m: walking up from m's
    node reaches it; each node lies on one minimum's branch, so all walks take O(nodes) together.
    """
    n = up.shape[0]
    removed_child = np.zeros(n, dtype=np.bool_)
    for q in range(births.shape[0]):
        c = node_of_vertex[births[q]]
        s_node = node_of_vertex[deaths[q]]
        while up[c] != s_node:
            c = up[c]
        removed_child[c] = True
    flat_root = np.full(n, -1, dtype=np.int64)
    for q in range(n):  # parents before children
        node = top_down[q]
        p = up[node]
        if p >= 0 and flat_root[p] >= 0:
            flat_root[node] = flat_root[p]
        elif removed_child[node]:
            flat_root[node] = node
    return flat_root


@numba.njit(cache=True)
def _flattened_order(order, region, roots, saddle_vertex, is_image, shape, offsets, indptr, indices,
                     max_degree):
    """The simplified order: `order` without removed regions, each region inserted right after its
    saddle in breadth-first order from it. `roots` are sorted by their saddle vertex."""
    nv = region.shape[0]
    seq = np.empty(nv, dtype=np.int64)
    start = np.zeros(roots.shape[0] + 1, dtype=np.int64)
    seen = np.zeros(nv, dtype=np.bool_)
    nbr = np.empty(max_degree, dtype=np.int64)
    tail = 0
    for q in range(roots.shape[0]):
        root = roots[q]
        head = tail
        start[q] = tail
        s = saddle_vertex[root]
        m = _neighbours(s, is_image, shape, offsets, indptr, indices, nbr)
        for k in range(m):
            u = nbr[k]
            if region[u] == root and not seen[u]:
                seen[u] = True
                seq[tail] = u
                tail += 1
        while head < tail:
            v = seq[head]
            head += 1
            m = _neighbours(v, is_image, shape, offsets, indptr, indices, nbr)
            for k in range(m):
                u = nbr[k]
                if region[u] == root and not seen[u]:
                    seen[u] = True
                    seq[tail] = u
                    tail += 1
    start[roots.shape[0]] = tail
    out = np.empty(order.shape[0], dtype=np.int64)
    n_out = 0
    q = 0
    n_roots = roots.shape[0]
    # position of the first root of every saddle vertex: roots are sorted by saddle vertex
    for i in range(order.shape[0]):
        v = order[i]
        if region[v] >= 0:
            continue
        out[n_out] = v
        n_out += 1
        # binary search for v among the roots' saddles
        lo = 0
        hi = n_roots
        while lo < hi:
            mid = (lo + hi) // 2
            if saddle_vertex[roots[mid]] < v:
                lo = mid + 1
            else:
                hi = mid
        q = lo
        while q < n_roots and saddle_vertex[roots[q]] == v:
            for j in range(start[q], start[q + 1]):
                out[n_out] = seq[j]
                n_out += 1
            q += 1
    return out


def simplify_topology(values: np.ndarray, connectivity: Connectivity, tree: JoinTree,
                      pairs: PersistencePairs, threshold: float,
                      points=None, order: np.ndarray | None = None
                      ) -> tuple[np.ndarray, JoinTree, PersistencePairs, np.ndarray]:
    """(simplified values, join tree, pairs, sweep order) keeping only pairs of persistence > threshold;
    the order is what TTK passes on as `<array>_Order` (`order`: the input's, if it had one)."""
    new_values, new_order = simplified_field(values, connectivity, tree, pairs, threshold, order)
    new_tree, new_pairs, _ = join_tree_and_pairs(new_values, connectivity, order=new_order, points=points,
                                                 component_key=component_key(connectivity, new_values))
    return new_values, new_tree, new_pairs, new_order
