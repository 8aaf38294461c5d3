"""Persistence simplification of minimum-saddle pairs, like TTK's TopologicalSimplificationByPersistence.

After simplification with threshold t > 0 only the 0-dim pairs with persistence > t remain, and the
join tree is that of the simplified field. The simplified field is built the way TTK builds its
output (flattened values plus an explicit vertex order): every removed minimum's basin (the sublevel
component that dies at its saddle s) takes the value of s and is ordered right after s, in
breadth-first order from s, so each of its vertices has a lower neighbour and no new critical point
appears. Vertices of surviving pairs are untouched, so their births and deaths are unchanged.
"""

from __future__ import annotations

import numba
import numpy as np

from .builtin import Neighbourhood, _neighbours, join_tree_and_pairs, sort_order
from .types import Connectivity, JoinTree, PersistencePairs


def absolute_threshold(values: np.ndarray, simplify: float, relative: bool) -> float:
    """The absolute persistence threshold: `simplify`, or that fraction of the value range."""
    if not relative:
        return float(simplify)
    return float(simplify) * float(values.max() - values.min()) if values.size else 0.0


def simplified_field(values: np.ndarray, connectivity: Connectivity, tree: JoinTree,
                     pairs: PersistencePairs, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(values, order) of the field without the finite pairs of persistence <= threshold."""
    order, rank = sort_order(values)
    remove = pairs.finite & (pairs.persistence <= threshold)
    if threshold <= 0 or not remove.any():
        return values.copy(), order
    n = tree.n_nodes
    node_of_vertex = np.full(values.size, -1, dtype=np.int64)
    node_of_vertex[tree.node_vertex] = np.arange(n)
    up = np.full(n, -1, dtype=np.int64)
    up[tree.arcs[:, 1]] = tree.arcs[:, 0]
    # the child node of each removed pair's saddle whose subtree holds the removed minimum
    removed_child = np.zeros(n, dtype=bool)
    saddle_of_min = dict(zip(pairs.birth_vertex[remove].tolist(), pairs.death_vertex[remove].tolist()))
    for m, s in saddle_of_min.items():
        c = node_of_vertex[m]
        s_node = node_of_vertex[s]
        while up[c] != s_node:
            c = up[c]
        removed_child[c] = True
    # top-down: the outermost removed subtree each node lies in (-1 if none)
    flat_root = np.full(n, -1, dtype=np.int64)
    for node in np.argsort(-rank[tree.node_vertex], kind="stable"):
        p = up[node]
        if p >= 0 and flat_root[p] >= 0:
            flat_root[node] = flat_root[p]
        elif removed_child[node]:
            flat_root[node] = node
    below = tree.segmentation.copy()
    region = np.full(values.size, -1, dtype=np.int64)
    is_node = node_of_vertex >= 0
    region[is_node] = flat_root[node_of_vertex[is_node]]
    reg = ~is_node & (below >= 0)
    region[reg] = flat_root[tree.arcs[below[reg], 1]]
    saddle_vertex = np.full(n, -1, dtype=np.int64)
    roots = np.nonzero(removed_child & (flat_root == np.arange(n)))[0]
    saddle_vertex[roots] = tree.node_vertex[up[roots]]
    nbh = Neighbourhood(connectivity)
    sub = _bfs_ranks(region, roots.astype(np.int64), saddle_vertex, *nbh.args(), nbh.max_degree)
    anchor = rank.copy()
    in_region = region >= 0
    anchor[in_region] = rank[saddle_vertex[region[in_region]]]
    new_order = np.lexsort((sub, anchor)).astype(np.int64)
    new_values = values.copy()
    new_values[in_region] = values[saddle_vertex[region[in_region]]]
    return new_values, new_order


@numba.njit(cache=True)
def _bfs_ranks(region, roots, saddle_vertex, is_image, shape, offsets, indptr, indices, max_degree):
    """Breadth-first position (from its saddle) of every vertex of a removed region; 0 elsewhere."""
    sub = np.zeros(region.shape[0], dtype=np.int64)
    seen = np.zeros(region.shape[0], dtype=np.bool_)
    queue = np.empty(region.shape[0], dtype=np.int64)
    nbr = np.empty(max_degree, dtype=np.int64)
    counter = 1
    for q in range(roots.shape[0]):
        root = roots[q]
        head = 0
        tail = 0
        queue[tail] = saddle_vertex[root]
        tail += 1
        while head < tail:
            v = queue[head]
            head += 1
            m = _neighbours(v, is_image, shape, offsets, indptr, indices, nbr)
            for k in range(m):
                u = nbr[k]
                if region[u] == root and not seen[u]:
                    seen[u] = True
                    sub[u] = counter
                    counter += 1
                    queue[tail] = u
                    tail += 1
    return sub


def simplify_topology(values: np.ndarray, connectivity: Connectivity, tree: JoinTree,
                      pairs: PersistencePairs, threshold: float,
                      points=None) -> tuple[np.ndarray, JoinTree, PersistencePairs]:
    """(simplified values, join tree, pairs) keeping only pairs of persistence > threshold."""
    new_values, new_order = simplified_field(values, connectivity, tree, pairs, threshold)
    new_tree, new_pairs, _ = join_tree_and_pairs(new_values, connectivity, order=new_order, points=points)
    return new_values, new_tree, new_pairs
