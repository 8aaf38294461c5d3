"""0-dim persistence against gudhi's lower-star filtrations on the same triangulations and graphs.

The simplicial complexes are built here independently of the backend: TTK's triangles for 2-D
images (each grid square cut along its (i+1, j)-(i, j+1) diagonal), the edges of TTK's tetrahedra
for 3-D images (0-dim persistence only sees the 1-skeleton), and the edges themselves for graphs.
Compared: the multiset of (birth, death) of the pairs with non-zero persistence, and one essential
class per connected component. Hypothesis draws fields of small integers, so ties abound.
"""

from __future__ import annotations

import itertools
from collections import Counter

import gudhi
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from references import grid_edges_3d, grid_triangles_2d

from losstopo.representation import GraphConnectivity, ImageConnectivity
from losstopo.topology import compute_topology


def gudhi_lower_star(values: np.ndarray, simplices: list[list[int]]):
    st_ = gudhi.SimplexTree()
    for v, f in enumerate(values):
        st_.insert([v], filtration=float(f))
    # every face gets its own lower-star value (gudhi's insert would give new faces the coface's value)
    faces = {tuple(sorted(f)) for s in simplices for f in itertools.combinations(s, 2)}
    faces |= {tuple(sorted(s)) for s in simplices if len(s) > 2}
    for s in sorted(faces, key=len):
        st_.insert(list(s), filtration=float(max(values[x] for x in s)))
    st_.make_filtration_non_decreasing()
    diag = st_.persistence(persistence_dim_max=True)
    zero = [(b, d) for dim, (b, d) in diag if dim == 0]
    finite = Counter((b, d) for b, d in zero if np.isfinite(d) and d > b)
    essential = sorted(b for b, d in zero if not np.isfinite(d))
    return finite, essential


def ours(values, conn):
    r = compute_topology(values, conn)
    p = r.pairs
    nonzero = p.finite & (p.persistence > 0)
    finite = Counter(zip(p.birth[nonzero].tolist(), p.death[nonzero].tolist()))
    essential = sorted(p.birth[~p.finite].tolist())
    return finite, essential, r


def check(values, conn, simplices):
    f_ours, e_ours, r = ours(values, conn)
    f_gudhi, e_gudhi = gudhi_lower_star(values, simplices)
    assert f_ours == f_gudhi
    assert e_ours == e_gudhi
    # every minimum is born once: #pairs = #minima nodes (one-vertex components included)
    assert len(r.pairs) == int((r.tree.node_type == 0).sum())


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 9).flatmap(lambda nx: st.integers(1, 9).flatmap(
    lambda ny: hnp.arrays(np.float64, nx * ny, elements=st.integers(0, 4).map(float)).map(
        lambda a: (nx, ny, a)))))
def test_images_2d(case):
    nx, ny, values = case
    check(values, ImageConnectivity((nx, ny)), grid_triangles_2d(nx, ny))


@settings(max_examples=100, deadline=None)
@given(st.tuples(st.integers(2, 5), st.integers(2, 5), st.integers(2, 5)).flatmap(
    lambda d: hnp.arrays(np.float64, d[0] * d[1] * d[2], elements=st.integers(0, 5).map(float)).map(
        lambda a: (d, a))))
def test_images_3d(case):
    (nx, ny, nz), values = case
    check(values, ImageConnectivity((nx, ny, nz)), grid_edges_3d(nx, ny, nz))


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 30))
    m = draw(st.integers(0, 2 * n))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=m, max_size=m))
    values = draw(hnp.arrays(np.float64, n, elements=st.integers(0, 6).map(float)))
    return n, np.array(edges, dtype=np.int64).reshape(-1, 2), values


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_graphs_including_disconnected(case):
    n, edges, values = case
    check(values, GraphConnectivity(edges, n), [e for e in edges.tolist() if e[0] != e[1]])


def test_smooth_image_float_values():
    rng = np.random.default_rng(3)
    x, y = np.meshgrid(np.linspace(-2, 2, 37), np.linspace(-2, 2, 29), indexing="xy")
    values = (np.sin(3 * x) * np.cos(2 * y) + 0.1 * rng.normal(size=x.shape)).ravel()
    check(values, ImageConnectivity((37, 29)), grid_triangles_2d(37, 29))


def test_random_graph_knn_like():
    rng = np.random.default_rng(5)
    pts = rng.normal(size=(300, 2))
    d = ((pts[:, None] - pts[None]) ** 2).sum(-1)
    nn = np.argsort(d, axis=1)[:, 1:6]
    edges = np.array([(i, j) for i in range(300) for j in nn[i]])
    values = np.sin(pts[:, 0] * 2) + pts[:, 1] ** 2
    check(values, GraphConnectivity(edges, 300), edges.tolist())
