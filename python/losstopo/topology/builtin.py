"""The exact built-in backend: join tree and 0-dim persistence by one union-find sweep (numba).

Vertices are swept by increasing (value, vertex id), TTK's simulation of simplicity. A vertex with
no lower neighbour starts a component (a minimum); a vertex whose lower neighbours lie in k >= 2
components merges them (a join-tree saddle, DEGENERATE when k > 2) and, by the elder rule, the k-1
components with the younger minima die there (their 0-dim pairs). Neighbours are TTK's: for images
its implicit triangulation (see IMAGE_OFFSETS), for graphs the edges. See types.py for how the
tree's arrays are defined and docs/topology.md for the choices on degenerate inputs.
Only finite vertices are swept (finite.finite_vertices): a non-finite one is no node, in no pair, segment
-1, so the result is the topology of the finite part (finite_part.py; proof in docs/topology.md).
"""

from __future__ import annotations

from typing import Callable

import numba
import numpy as np

from ..errors import LossTopoError
from ..finite import finite_vertices
from ..representation import Connectivity, GraphConnectivity, ImageConnectivity
from .numbering import ttk_join_tree
from .types import JoinTree, PersistencePairs

# TTK's implicit triangulation of a regular grid, by the number of axes with more than one point
# (offsets as (dx, dy, dz) on those axes). Checked against TTK 1.2 in tests/test_topology_reference.py.
IMAGE_OFFSETS: dict[int, list[tuple[int, int, int]]] = {
    0: [],
    1: [(1, 0, 0), (-1, 0, 0)],
    2: [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (1, -1, 0), (-1, 1, 0)],
    3: [(s * a, s * b, s * c) for (a, b, c) in
        [(1, 0, 0), (0, 1, 0), (0, 0, 1), (-1, 1, 0), (-1, 0, 1), (0, 1, 1), (-1, 1, 1)] for s in (1, -1)],
}


class Neighbourhood:
    """Numba-friendly neighbour description: an image stencil or a CSR adjacency."""

    def __init__(self, connectivity: Connectivity):
        if isinstance(connectivity, ImageConnectivity):
            axes = [d for d in connectivity.dims if d > 1]
            self.is_image = True
            self.shape = np.array(axes + [1] * (3 - len(axes)), dtype=np.int64)
            self.offsets = np.array(IMAGE_OFFSETS[len(axes)], dtype=np.int64).reshape(-1, 3)
            self.indptr = np.zeros(1, dtype=np.int64)
            self.indices = np.zeros(0, dtype=np.int64)
            self.max_degree = max(len(self.offsets), 1)
        elif isinstance(connectivity, GraphConnectivity):
            self.is_image = False
            self.shape = np.ones(3, dtype=np.int64)
            self.offsets = np.zeros((0, 3), dtype=np.int64)
            self.indptr, self.indices = csr_adjacency(connectivity.edges, connectivity.n_vertices)
            deg = np.diff(self.indptr)
            self.max_degree = int(deg.max()) if deg.size and deg.max() > 0 else 1
        else:
            raise LossTopoError(f"unknown connectivity {type(connectivity).__name__}",
                                "pass ImageConnectivity(dims) or GraphConnectivity(edges, n_vertices)")

    def args(self) -> tuple:
        return (self.is_image, self.shape, self.offsets, self.indptr, self.indices)


def csr_adjacency(edges: np.ndarray, n_vertices: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric CSR (indptr, indices) of an undirected edge list; self-loops dropped."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    e = e[e[:, 0] != e[:, 1]]
    src = np.concatenate([e[:, 0], e[:, 1]])
    dst = np.concatenate([e[:, 1], e[:, 0]])
    perm = np.argsort(src, kind="stable")
    indptr = np.zeros(n_vertices + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n_vertices), out=indptr[1:])
    return indptr, np.ascontiguousarray(dst[perm])


@numba.njit(cache=True, inline="always")
def _neighbours(v, is_image, shape, offsets, indptr, indices, buf):
    """Fill buf with the neighbours of v; return how many."""
    n = 0
    if is_image:
        s0 = shape[0]
        s1 = shape[1]
        s2 = shape[2]
        c0 = v % s0
        t = v // s0
        c1 = t % s1
        c2 = t // s1
        for k in range(offsets.shape[0]):
            a = c0 + offsets[k, 0]
            b = c1 + offsets[k, 1]
            c = c2 + offsets[k, 2]
            if 0 <= a < s0 and 0 <= b < s1 and 0 <= c < s2:
                buf[n] = a + s0 * (b + s1 * c)
                n += 1
    else:
        for e in range(indptr[v], indptr[v + 1]):
            buf[n] = indices[e]
            n += 1
    return n


@numba.njit(cache=True, inline="always")
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@numba.njit(cache=True)
def _sweep(order, nv, is_image, shape, offsets, indptr, indices, max_degree):
    """One union-find sweep in `order` (the swept vertices of a domain of nv); returns the raw join tree
    and pairs (see join_tree_and_pairs). Vertices not in `order` are never processed.

    Internal arrays are int32 (20% faster than int64 on a 1001x1001 image: less memory traffic).
    """
    n_swept = order.shape[0]
    parent = np.full(nv, -1, dtype=np.int32)
    size = np.zeros(nv, dtype=np.int32)
    comp_min = np.zeros(nv, dtype=np.int32)
    comp_min_rank = np.zeros(nv, dtype=np.int32)
    comp_top = np.zeros(nv, dtype=np.int32)
    comp_max = np.zeros(nv, dtype=np.int32)
    node_vertex = np.empty(nv, dtype=np.int32)
    node_merged = np.empty(nv, dtype=np.int32)  # components merged at the node (0 for a minimum)
    node_up = np.full(nv, -1, dtype=np.int32)
    below = np.full(nv, -1, dtype=np.int32)  # regular vertex -> node at the bottom of its arc
    pair_b = np.empty(nv, dtype=np.int32)
    pair_d = np.empty(nv, dtype=np.int32)
    nbr = np.empty(max_degree, dtype=np.int32)
    roots = np.empty(max_degree, dtype=np.int32)
    n_nodes = 0
    n_pairs = 0
    for i in range(n_swept):
        v = order[i]
        m = _neighbours(v, is_image, shape, offsets, indptr, indices, nbr)
        nr = 0
        for k in range(m):
            u = nbr[k]
            if parent[u] >= 0:  # processed before v
                r = _find(parent, u)
                new = True
                for q in range(nr):
                    if roots[q] == r:
                        new = False
                        break
                if new:
                    roots[nr] = r
                    nr += 1
        if nr == 0:
            parent[v] = v
            size[v] = 1
            comp_min[v] = v
            comp_min_rank[v] = i
            comp_max[v] = v
            node_vertex[n_nodes] = v
            node_merged[n_nodes] = 0
            comp_top[v] = n_nodes
            n_nodes += 1
        elif nr == 1:
            r = roots[0]
            parent[v] = r
            size[r] += 1
            comp_max[r] = v
            below[v] = comp_top[r]
        else:
            node = n_nodes
            node_vertex[node] = v
            node_merged[node] = nr
            n_nodes += 1
            elder = roots[0]
            big = roots[0]
            for q in range(1, nr):
                r = roots[q]
                if comp_min_rank[r] < comp_min_rank[elder]:
                    elder = r
                if size[r] > size[big]:
                    big = r
            survivor_min = comp_min[elder]
            survivor_rank = comp_min_rank[elder]
            for q in range(nr):
                r = roots[q]
                node_up[comp_top[r]] = node
                if r != elder:
                    pair_b[n_pairs] = comp_min[r]
                    pair_d[n_pairs] = v
                    n_pairs += 1
                if r != big:
                    parent[r] = big
                    size[big] += size[r]
            parent[v] = big
            size[big] += 1
            comp_min[big] = survivor_min
            comp_min_rank[big] = survivor_rank
            comp_top[big] = node
            comp_max[big] = v
    # close every connected component with a root node at its highest vertex
    n_comp = 0
    comp_birth = np.empty(nv, dtype=np.int32)
    comp_death = np.empty(nv, dtype=np.int32)
    for i in range(n_swept):
        v = order[i]
        if parent[v] != v:
            continue
        top = comp_top[v]
        hi = comp_max[v]
        if node_vertex[top] != hi:
            node_vertex[n_nodes] = hi
            node_merged[n_nodes] = -1
            node_up[top] = n_nodes
            below[hi] = -1
            n_nodes += 1
        comp_birth[n_comp] = comp_min[v]
        comp_death[n_comp] = hi
        n_comp += 1
    return (node_vertex[:n_nodes].copy(), node_merged[:n_nodes].copy(), node_up[:n_nodes].copy(), below,
            pair_b[:n_pairs].copy(), pair_d[:n_pairs].copy(), comp_birth[:n_comp].copy(),
            comp_death[:n_comp].copy())


@numba.njit(cache=True)
def _radix_argsort(values):
    """Stable argsort of float64 values (ties keep vertex id order): LSD radix sort, 6 passes of 11 bits."""
    n = values.shape[0]
    bits = values.view(np.uint64)
    keys = np.empty(n, np.uint64)
    sign = np.uint64(1) << np.uint64(63)
    for i in range(n):
        b = bits[i]
        if b == sign:  # -0.0 equals 0.0
            b = np.uint64(0)
        keys[i] = ~b if (b & sign) else (b | sign)
    idx = np.arange(n)
    keys2 = np.empty(n, np.uint64)
    idx2 = np.empty(n, np.int64)
    nbits = 11
    npass = 6
    mask = np.uint64((1 << nbits) - 1)
    counts = np.zeros((npass, 1 << nbits), np.int64)
    for i in range(n):
        k = keys[i]
        for p in range(npass):
            counts[p, (k >> np.uint64(p * nbits)) & mask] += 1
    for p in range(npass):
        count = counts[p]
        if count.max() == n:  # every key has the same digit here
            continue
        shift = np.uint64(p * nbits)
        s = 0
        for d in range(1 << nbits):
            c = count[d]
            count[d] = s
            s += c
        for i in range(n):
            d = (keys[i] >> shift) & mask
            j = count[d]
            count[d] = j + 1
            keys2[j] = keys[i]
            idx2[j] = idx[i]
        keys, keys2 = keys2, keys
        idx, idx2 = idx2, idx
    return idx


def sort_order(values: np.ndarray, vertices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(order, rank): `vertices` (ascending ids; default all) by (value, vertex id), and their positions."""
    v = np.ascontiguousarray(values, dtype=np.float64)
    if vertices is None or vertices.size == v.size:
        order = _radix_argsort(v)
    else:
        vertices = np.asarray(vertices, dtype=np.int64)
        order = vertices[_radix_argsort(np.ascontiguousarray(v[vertices]))]
    return order, _rank(order, v.size)


def _rank(order: np.ndarray, n_vertices: int) -> np.ndarray:  # unswept vertices rank last
    rank = np.full(n_vertices, n_vertices, dtype=np.int64)
    rank[order] = np.arange(order.size, dtype=np.int64)
    return rank


def join_tree_and_pairs(values: np.ndarray, connectivity: Connectivity,
                        order: np.ndarray | None = None,
                        points: Callable[[np.ndarray], np.ndarray] | None = None,
                        component_key: Callable[[], np.ndarray] | None = None,
                        ) -> tuple[JoinTree, PersistencePairs, int]:
    """Join tree, 0-dim pairs and number of connected components of `values` on `connectivity`.

    Only the vertices with a finite value are swept (finite_vertices, the finite part's). `order`
    (optional) is an explicit order of those vertices to use instead of (value, vertex id), as TTK's
    order arrays after simplification; `points` maps vertex ids to (k, 3) coordinates for RegionSpan.
    """
    nbh = Neighbourhood(connectivity)
    if order is None:
        order, rank = sort_order(values, finite_vertices(values))
    else:
        order = np.ascontiguousarray(order, dtype=np.int64)
        rank = _rank(order, values.size)
    (node_vertex, merged, node_up, below, pb, pd, cb, cd) = _sweep(order, values.size, *nbh.args(),
                                                                    nbh.max_degree)
    tree = ttk_join_tree(values, rank, node_vertex, merged, node_up, below, component_key, points)
    pairs = _assemble_pairs(values, rank, pb, pd, cb, cd)
    return tree, pairs, int(cb.size)


def _assemble_pairs(values, rank, pb, pd, cb, cd) -> PersistencePairs:
    pers = values[pd] - values[pb]
    fo = np.lexsort((pb, -pers))
    eo = np.argsort(rank[cb], kind="stable")  # the global minimum's component first
    bv = np.concatenate([cb[eo], pb[fo]]).astype(np.int64)
    dv = np.concatenate([cd[eo], pd[fo]]).astype(np.int64)
    finite = np.concatenate([np.zeros(cb.size, bool), np.ones(pb.size, bool)])
    return PersistencePairs(birth_vertex=bv, death_vertex=dv, birth=values[bv].astype(np.float64),
                            death=values[dv].astype(np.float64), finite=finite)
