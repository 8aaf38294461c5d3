"""The non-finite rule (issue 10): the topology of a field with inf/NaN points is that of its finite part.

Random fields full of ties with random non-finite masks (blobs, borders, single points, everything but one
connected region, scattered) on 2-D and 3-D images and kNN graphs. Each result is compared with a brute
force over the subgraph induced on the finite vertices, written here from the definitions and sharing no
code with losstopo: the edges come from tests/references.py (images) or scipy's cKDTree (graphs), the
sublevel components from scipy.sparse.csgraph. Minima, saddles, node types, pairs and their persistence
must be equal, and no node, pair or segment may sit on a non-finite vertex. The same result must come
out of the TTK backend's route (the finite part as a graph, mapped back) with the built-in in TTK's place.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from losstopo.errors import LossTopoError
from losstopo.metrics import topology_metrics
from losstopo.representation import GraphConnectivity, ImageConnectivity
from losstopo.topology import compute_topology
from losstopo.topology.finite_part import domain_edges, finite_part
from references import grid_edges_3d, grid_triangles_2d

BAD = (np.inf, -np.inf, np.nan)


def image_edges(nx: int, ny: int, nz: int = 1) -> np.ndarray:
    if nz > 1:
        return np.array(grid_edges_3d(nx, ny, nz), dtype=np.int64).reshape(-1, 2)
    tris = grid_triangles_2d(nx, ny)
    return np.array(sorted({tuple(sorted(e)) for t in tris for e in itertools.combinations(t, 2)}),
                    dtype=np.int64).reshape(-1, 2)


def brute_force(values: np.ndarray, edges: np.ndarray):
    """(node types by vertex, {(birth, death, finite)}) of the subgraph induced on the finite vertices."""
    n = values.size
    fin = np.isfinite(values)
    e = edges[fin[edges[:, 0]] & fin[edges[:, 1]] & (edges[:, 0] != edges[:, 1])]
    ids = np.flatnonzero(fin)
    order = ids[np.lexsort((ids, values[ids]))]
    rank = {int(v): i for i, v in enumerate(order)}
    nbrs = {int(v): set() for v in ids}
    for a, b in e.tolist():
        nbrs[a].add(b)
        nbrs[b].add(a)

    def labels(t: int) -> np.ndarray:  # components of the first t vertices of `order` (-1: not yet in)
        inside = np.zeros(n, bool)
        inside[order[:t]] = True
        sub = e[inside[e[:, 0]] & inside[e[:, 1]]]
        a = sp.coo_matrix((np.ones(len(sub)), (sub[:, 0], sub[:, 1])), shape=(n, n))
        lab = connected_components(a, directed=False)[1]
        return np.where(inside, lab, -1)

    merged, pairs = {}, set()
    for t, v in enumerate(order.tolist()):
        lab = labels(t)
        comps = {lab[u] for u in nbrs[v] if rank[u] < t}
        merged[v] = len(comps)
        if len(comps) >= 2:
            births = sorted(min((rank[int(x)], int(x)) for x in np.flatnonzero(lab == c)) for c in comps)
            pairs |= {(m, v, True) for _r, m in births[1:]}
    lab = labels(len(order))
    roots = {}
    for c in set(lab[order].tolist()):
        members = [int(x) for x in np.flatnonzero(lab == c)]
        roots[max(members, key=rank.get)] = min(members, key=rank.get)
    types = {}
    for v, k in merged.items():
        if v in roots:
            types[v] = 0 if k == 0 else (3 if k == 1 else 4)
        elif k != 1:
            types[v] = 0 if k == 0 else (1 if k == 2 else 4)
    pairs |= {(lo, hi, False) for hi, lo in roots.items()}
    return types, pairs


def check(values: np.ndarray, conn, edges: np.ndarray) -> None:
    fin = np.isfinite(values)
    if fin.sum() <= 1 and not fin.all():
        with pytest.raises(LossTopoError, match="finite"):
            compute_topology(values, conn)
        return
    r = compute_topology(values, conn)
    types, pairs = brute_force(values, edges)
    nv = r.tree.node_vertex
    assert dict(zip(nv.tolist(), r.tree.node_type.tolist())) == types
    got = set(zip(r.pairs.birth_vertex.tolist(), r.pairs.death_vertex.tolist(), r.pairs.finite.tolist()))
    assert got == pairs and len(got) == len(r.pairs)
    assert np.array_equal(r.pairs.persistence, values[r.pairs.death_vertex] - values[r.pairs.birth_vertex])
    # nothing sits on a non-finite vertex
    assert fin[nv].all() and fin[r.pairs.birth_vertex].all() and fin[r.pairs.death_vertex].all()
    assert (r.tree.segmentation[~fin] == -1).all() and r.n_nonfinite == int((~fin).sum())
    m = topology_metrics(r)
    assert m["minima"] == sum(t == 0 for t in types.values())
    assert m["saddles"] == sum(t in (1, 4) for t in types.values())
    # the TTK backend's route: the finite part as a graph, computed alone, mapped back
    part = finite_part(values, conn)
    sub_graph = part.graph(conn)
    assert np.isfinite(values[part.vertices]).all() and sub_graph.n_vertices == int(fin.sum())
    lifted = part.lift(compute_topology(values[part.vertices], sub_graph), values, conn)
    for name in ("node_vertex", "node_type", "node_region_size", "node_region_span", "arcs", "arc_region_size",
                 "arc_region_span", "segmentation", "region_type"):
        assert np.array_equal(getattr(lifted.tree, name), getattr(r.tree, name)), name
    for name in ("birth_vertex", "death_vertex", "birth", "death", "finite"):
        assert np.array_equal(getattr(lifted.pairs, name), getattr(r.pairs, name)), name
    assert topology_metrics(lifted) == m


# ------------------------------------------------------------------------------------------- masks
@st.composite
def masks(draw, coords: np.ndarray, edges: np.ndarray):
    """A boolean mask of non-finite vertices of one of the issue's kinds."""
    n = len(coords)
    kind = draw(st.sampled_from(["blob", "border", "points", "all_but_region", "scattered", "none"]))
    if kind == "blob":
        c = coords[draw(st.integers(0, n - 1))]
        radius = draw(st.floats(0.5, 3.0))
        return np.linalg.norm(coords - c, axis=1) <= radius
    if kind == "border":
        lo, hi = coords.min(0), coords.max(0)
        axis = draw(st.integers(0, coords.shape[1] - 1))
        side = draw(st.sampled_from([lo, hi]))
        width = draw(st.integers(0, 1))
        return np.abs(coords[:, axis] - side[axis]) <= width
    if kind == "points":
        k = draw(st.integers(1, 3))
        return np.isin(np.arange(n), draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k)))
    if kind == "all_but_region":  # one connected region (breadth-first from a seed) stays finite
        seed, steps = draw(st.integers(0, n - 1)), draw(st.integers(0, 4))
        keep = {seed}
        for _ in range(steps):
            keep |= {int(b) for a, b in np.concatenate([edges, edges[:, ::-1]]) if a in keep}
        return ~np.isin(np.arange(n), sorted(keep))
    if kind == "scattered":
        return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return np.zeros(n, bool)


@st.composite
def fields(draw, coords: np.ndarray, edges: np.ndarray) -> np.ndarray:
    n = len(coords)
    values = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), dtype=np.float64)
    bad = draw(masks(coords, edges))
    values[bad] = [BAD[draw(st.integers(0, 2))] for _ in range(int(bad.sum()))]
    return values


def grid_coords(*dims: int) -> np.ndarray:
    axes = [np.arange(d) for d in dims]
    mesh = np.meshgrid(*axes[::-1], indexing="ij")  # VTK order: x fastest
    return np.stack([m.ravel() for m in mesh[::-1]], axis=1).astype(np.float64)


@settings(max_examples=80, deadline=None)
@given(st.tuples(st.integers(2, 7), st.integers(2, 7)).flatmap(
    lambda d: st.tuples(st.just(d), fields(grid_coords(*d), image_edges(*d)))))
def test_image_2d(case):
    (nx, ny), values = case
    check(values, ImageConnectivity((nx, ny)), image_edges(nx, ny))


@settings(max_examples=40, deadline=None)
@given(st.tuples(st.integers(2, 4), st.integers(2, 4), st.integers(2, 4)).flatmap(
    lambda d: st.tuples(st.just(d), fields(grid_coords(*d), image_edges(*d)))))
def test_image_3d(case):
    (nx, ny, nz), values = case
    check(values, ImageConnectivity((nx, ny, nz)), image_edges(nx, ny, nz))


def knn_edges(points: np.ndarray, k: int) -> np.ndarray:
    _, idx = cKDTree(points).query(points, k=k + 1)
    e = np.array([(i, int(j)) for i, row in enumerate(idx) for j in row if j != i and j < len(points)],
                 dtype=np.int64).reshape(-1, 2)
    return np.unique(np.sort(e, axis=1), axis=0)


@st.composite
def knn_cases(draw):
    n = draw(st.integers(4, 30))
    pts = np.array(draw(st.lists(st.tuples(st.floats(-3, 3), st.floats(-3, 3)), min_size=n, max_size=n,
                                 unique=True)))
    edges = knn_edges(pts, draw(st.integers(1, 4)))
    return pts, edges, draw(fields(pts, edges))


@settings(max_examples=60, deadline=None)
@given(knn_cases())
def test_knn_graph(case):
    pts, edges, values = case
    check(values, GraphConnectivity(edges=edges, n_vertices=len(pts), points=pts), edges)


@pytest.mark.parametrize("dims", [(5,), (4, 3), (3, 4, 2), (6, 1), (1, 1, 5)])
def test_domain_edges_are_the_triangulation(dims):
    """The finite part's edges (what TTK is given) are TTK's triangulation, each edge once."""
    e = np.sort(domain_edges(ImageConnectivity(dims)), axis=1)
    d = [x for x in dims if x > 1] + [1, 1]
    expected = image_edges(*d[:3]) if d[2] > 1 else image_edges(d[0], d[1])
    assert len(np.unique(e, axis=0)) == len(e)
    assert {tuple(x) for x in e.tolist()} == {tuple(x) for x in expected.tolist()}


def test_issue_examples():
    """The issue's bowl: 1 minimum and 0 saddles (the plateau fill gave 2 and 1); an all-NaN field is an error."""
    a = np.linspace(-1, 1, 21)
    x, y = np.meshgrid(a, a)
    f = (x ** 2 + y ** 2).ravel()
    f[f > 0.8] = np.inf
    r = compute_topology(f, ImageConnectivity((21, 21)))
    m = topology_metrics(r)
    assert (m["minima"], m["saddles"]) == (1, 0) and r.n_nonfinite == int(np.isinf(f).sum())
    assert m["average_persistence"] == pytest.approx(f[np.isfinite(f)].max() - f[np.isfinite(f)].min())
    with pytest.raises(LossTopoError, match="no value is finite"):
        compute_topology(np.full(441, np.nan), ImageConnectivity((21, 21)))


def test_simplification_stays_on_the_finite_part():
    """Simplifying a field with non-finite points: pairs above the threshold remain, none on a bad vertex."""
    rng = np.random.default_rng(0)
    v = rng.random(15 * 15)
    v[rng.random(v.size) < 0.2] = np.nan
    full = compute_topology(v, ImageConnectivity((15, 15)))
    simp = compute_topology(v, ImageConnectivity((15, 15)), simplify=0.2)
    keep = full.pairs.finite & (full.pairs.persistence > 0.2)
    assert sorted(simp.pairs.persistence[simp.pairs.finite]) == pytest.approx(sorted(full.pairs.persistence[keep]))
    assert np.isfinite(v[simp.tree.node_vertex]).all() and np.isnan(simp.values[np.isnan(v)]).all()
    rel = compute_topology(v, ImageConnectivity((15, 15)), simplify=0.2, simplify_relative=True)
    assert rel.simplify_threshold == pytest.approx(0.2 * (np.nanmax(v) - np.nanmin(v)))
