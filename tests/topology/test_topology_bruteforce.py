"""The join tree, its segmentation and the pairs against a brute force on small inputs.

The brute force recomputes the connected components of every sublevel set {order <= t} from
scratch with scipy.sparse.csgraph and reads off the join tree from its definition: a node where
a component is born (minimum) or where >= 2 components meet, plus each component's highest
vertex; an arc from each node to the first later node whose component contains it; a regular vertex
in the arc above the highest node of its component when it arrives; pairs by the elder rule.
Also checks persistence simplification: what remains equals the pairs above the threshold.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.sparse.csgraph import connected_components

from losstopo.representation import GraphConnectivity, ImageConnectivity
from losstopo.topology import compute_topology
from losstopo.topology.builtin import join_tree_and_pairs
from references import grid_edges_3d, grid_triangles_2d


def sublevel_labels(order: np.ndarray, edges: np.ndarray, n: int) -> np.ndarray:
    """labels[t, v]: component of v in the sublevel set of the first t+1 vertices of `order` (-1: absent)."""
    labels = np.full((n, n), -1, dtype=np.int64)
    for t in range(n):
        inside = np.zeros(n, bool)
        inside[order[: t + 1]] = True
        e = edges[inside[edges[:, 0]] & inside[edges[:, 1]]] if edges.size else edges
        a = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)) if len(e) else \
            sp.coo_matrix((n, n))
        _, lab = connected_components(a, directed=False)
        labels[t, inside] = lab[inside]
    return labels


def brute_force(order: np.ndarray, edges: np.ndarray, n: int):
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    lab = sublevel_labels(order, edges, n)
    nbrs = [set() for _ in range(n)]
    for a, b in edges.tolist():
        if a != b:
            nbrs[a].add(b)
            nbrs[b].add(a)
    merged = {}
    pairs = set()
    for t, v in enumerate(order.tolist()):
        comps = {lab[t - 1, u] for u in nbrs[v] if rank[u] < t}
        merged[v] = len(comps)
        if len(comps) >= 2:
            mins = sorted(min((rank[x], x) for x in np.nonzero(lab[t - 1] == c)[0]) for c in comps)
            pairs |= {(m, v) for _r, m in mins[1:]}
    last = lab[n - 1]
    tops = {}
    for c in set(last.tolist()):
        members = np.nonzero(last == c)[0]
        hi = int(members[np.argmax(rank[members])])
        lo = int(members[np.argmin(rank[members])])
        tops[hi] = lo
        pairs.add((lo, hi))
    nodes = {v for v, k in merged.items() if k != 1} | set(tops)
    types = {}
    for v in nodes:
        k = merged[v]
        if v in tops:
            types[v] = 0 if k == 0 else (3 if k == 1 else 4)
        else:
            types[v] = 0 if k == 0 else (1 if k == 2 else 4)
    by_rank = sorted(nodes, key=lambda x: rank[x])
    arcs = set()
    for v in by_rank:
        if v in tops:
            continue
        up = next(w for w in by_rank if rank[w] > rank[v] and lab[rank[w], v] == lab[rank[w], w])
        arcs.add((up, v))
    below = {}
    for t, v in enumerate(order.tolist()):
        if v in nodes:
            continue
        below[v] = max((x for x in by_rank if rank[x] < t and lab[t, x] == lab[t, v]), key=lambda x: rank[x])
    return types, arcs, below, pairs


def check_against_brute_force(values, conn, edges, order=None):
    n = values.size
    if order is None:
        order = np.lexsort((np.arange(n), values))
    tree, pairs, _ = join_tree_and_pairs(values, conn, order=order)
    types, arcs, below, bf_pairs = brute_force(np.asarray(order), edges, n)
    nv = tree.node_vertex
    assert dict(zip(nv.tolist(), tree.node_type.tolist())) == types
    assert len(nv) == len(types)
    assert {(int(nv[u]), int(nv[d])) for u, d in tree.arcs if u != d} == arcs
    # TTK's trunk closes a self-loop arc on a root where components merge (a DEGENERATE root), only there
    loops = {int(nv[u]) for u, d in tree.arcs if u == d}
    assert loops == {v for v, t in types.items() if t == 4 and not any(d == v for _u, d in arcs)}
    arc_of_id = {int(s): a for a, s in enumerate(tree.arc_segmentation_id)}
    assert len(arc_of_id) == tree.n_arcs
    for v, d in below.items():
        assert nv[tree.arcs[arc_of_id[int(tree.segmentation[v])], 1]] == d
    expected_size = np.zeros(tree.n_arcs, dtype=np.int64)
    for v in below:
        expected_size[arc_of_id[int(tree.segmentation[v])]] += 1
    assert np.array_equal(tree.arc_region_size, expected_size)
    assert set(zip(pairs.birth_vertex.tolist(), pairs.death_vertex.tolist())) == bf_pairs
    return tree, pairs


def image_edges(nx, ny, nz=1):
    if nz > 1:
        return np.array(grid_edges_3d(nx, ny, nz), dtype=np.int64).reshape(-1, 2)
    simp = grid_triangles_2d(nx, ny)
    return np.array(sorted({tuple(sorted(e)) for s in simp for e in itertools.combinations(s, 2)}),
                    dtype=np.int64).reshape(-1, 2)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7).flatmap(lambda nx: st.integers(1, 7).flatmap(
    lambda ny: hnp.arrays(np.float64, nx * ny, elements=st.integers(0, 3).map(float)).map(
        lambda a: (nx, ny, a)))))
def test_image_2d(case):
    nx, ny, values = case
    check_against_brute_force(values, ImageConnectivity((nx, ny)), image_edges(nx, ny))


@settings(max_examples=25, deadline=None)
@given(hnp.arrays(np.float64, 36, elements=st.integers(0, 4).map(float)))
def test_image_3d(values):
    check_against_brute_force(values, ImageConnectivity((3, 4, 3)), image_edges(3, 4, 3))


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 25))
    m = draw(st.integers(0, 2 * n))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=m, max_size=m))
    values = draw(hnp.arrays(np.float64, n, elements=st.integers(0, 5).map(float)))
    return n, np.array(edges, dtype=np.int64).reshape(-1, 2), values


@settings(max_examples=80, deadline=None)
@given(graphs())
def test_graph(case):
    n, edges, values = case
    check_against_brute_force(values, GraphConnectivity(edges, n), edges)


@settings(max_examples=60, deadline=None)
@given(graphs(), st.sampled_from([0.5, 1.0, 1.5, 2.5]))
def test_simplification_keeps_exactly_the_persistent_pairs(case, threshold):
    n, edges, values = case
    values = values + np.arange(n) * 1e-3  # distinct persistences not needed, but fewer ties
    conn = GraphConnectivity(edges, n)
    full = compute_topology(values, conn)
    simp = compute_topology(values, conn, simplify=threshold)
    keep = ~full.pairs.finite | (full.pairs.persistence > threshold)
    fp, sp_ = full.pairs, simp.pairs
    assert set(zip(sp_.birth_vertex[sp_.finite].tolist(), sp_.death_vertex[sp_.finite].tolist())) == \
        set(zip(fp.birth_vertex[keep & fp.finite].tolist(), fp.death_vertex[keep & fp.finite].tolist()))
    # an essential pair keeps its minimum and death value; its highest vertex may be a flattened one
    assert set(zip(sp_.birth_vertex[~sp_.finite].tolist(), sp_.death[~sp_.finite].tolist())) == \
        set(zip(fp.birth_vertex[~fp.finite].tolist(), fp.death[~fp.finite].tolist()))
    assert np.allclose(np.sort(simp.pairs.persistence), np.sort(full.pairs.persistence[keep]))
    # the simplified field: changed by at most the threshold, only upwards, and its tree is exact
    assert np.all(simp.values >= values) and np.all(simp.values - values <= threshold + 1e-12)
    from losstopo.topology.simplify import simplified_field
    new_values, new_order = simplified_field(values, conn, full.tree, full.pairs, threshold)
    assert np.all(np.diff(new_values[new_order]) >= 0)
    tree, _ = check_against_brute_force(new_values, conn, edges, order=new_order)
    assert int((tree.node_type == 0).sum()) == int(keep.sum())


def test_simplification_image_relative():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 6, size=8 * 7).astype(float) + rng.random(56) * 0.1
    conn = ImageConnectivity((8, 7))
    full = compute_topology(values, conn)
    simp = compute_topology(values, conn, simplify=0.3, simplify_relative=True)
    t = 0.3 * (values.max() - values.min())
    assert simp.simplify_threshold == t
    keep = ~full.pairs.finite | (full.pairs.persistence > t)
    assert 0 < keep.sum() < len(full.pairs)
    assert sorted(simp.pairs.persistence.tolist()) == sorted(full.pairs.persistence[keep].tolist())
    from losstopo.topology.simplify import simplified_field
    new_values, new_order = simplified_field(values, conn, full.tree, full.pairs, t)
    check_against_brute_force(new_values, conn, image_edges(8, 7), order=new_order)
