"""Stage 3: images keep VTK's point order and geometry; kNN graphs are symmetric, exact up to ties.

References: a dense distance matrix (brute force), the grid's 8-neighbour stencil, and the
symmetrised 8-NN graph of /work/shared/reference/ttk/knn8_scatter_800.vtu (built independently).
Graphs are exact (k-d tree) by default; the one NN-descent case pays pynndescent's numba compilation.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import DATA
from losstopo import names, vtkio
from losstopo.errors import LossTopoError
from losstopo.landscape.files import Landscape
from losstopo.representation import exact_knn, grid_geometry, knn_graph, neighbour_recall, symmetric_edges
from losstopo.vtkio import landscape_to_vtk


def to_vtk_image(ls):
    return landscape_to_vtk(ls, "image")[0]


def to_vtk_graph(ls, k=8, seed=0):
    ds, _conn, info = landscape_to_vtk(ls, "knn", k, seed)
    return ds, info


def grid_landscape(res: tuple[int, ...], span: float = 1.0, bad: int | None = None) -> Landscape:
    axes = [np.linspace(-span, span, n) for n in res]
    mesh = np.meshgrid(*axes[::-1], indexing="ij")[::-1]  # x fastest: point id = i + nx*j (+ nx*ny*k)
    coords = np.stack([m.ravel() for m in mesh], axis=1)
    loss = 1.0 + (coords ** 2).sum(axis=1)
    if bad is not None:
        loss[bad] = np.inf
    return Landscape(coords=coords, loss=loss, accuracy=1.0 / loss, resolution=tuple(res), span=span)


def edge_set(edges: np.ndarray) -> set[tuple[int, int]]:
    return set(map(tuple, np.sort(np.asarray(edges), axis=1).tolist()))


@pytest.mark.parametrize("res", [(7,), (6, 5), (4, 3, 5)])
def test_image_has_vtk_point_order_geometry_and_arrays(tmp_path, res):
    ls = grid_landscape(res, span=0.5, bad=2)
    img = to_vtk_image(ls)
    dims, origin, spacing = grid_geometry(res, 0.5)
    vtkio.write(tmp_path / "x.vti", img)
    back = vtkio.read(tmp_path / "x.vti")
    assert back.GetDimensions()[: len(res)] == tuple(res)
    pts = vtkio.points(back)
    assert np.allclose(pts[:, : len(res)], ls.coords, atol=1e-12)  # same vertex ids as coords/loss
    assert origin == (-0.5,) * len(res) and spacing == tuple(1.0 / (n - 1) for n in res)
    arr = vtkio.point_arrays(back)
    assert np.isinf(arr[names.RAW_LOSS][2]) and arr[names.VALID_MASK].tolist().count(0) == 1
    assert np.all(np.isfinite(arr[names.LOSS])) and arr[names.LOSS][2] > np.max(np.delete(ls.loss, 2))
    assert np.array_equal(np.delete(arr[names.LOSS], 2), np.delete(ls.loss, 2))
    assert np.allclose(arr[names.ACCURACY], ls.accuracy)


def test_image_of_scattered_coordinates_is_a_clear_error():
    ls = Landscape(coords=np.random.default_rng(0).random((10, 2)), loss=np.ones(10), accuracy=np.ones(10),
                   resolution=None, span=1.0)
    with pytest.raises(LossTopoError, match="knn"):
        to_vtk_image(ls)


@pytest.mark.parametrize("dims", [1, 2, 3, 5])
def test_exact_knn_equals_brute_force(dims):
    pts = np.random.default_rng(dims).random((60, dims))
    idx, dist = exact_knn(pts, 6)
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    ref = np.argsort(d, axis=1)[:, :6]
    assert np.array_equal(np.sort(idx, axis=1), np.sort(ref, axis=1))
    assert np.allclose(dist, np.sort(d, axis=1)[:, :6])


def test_knn_graph_equals_independent_reference_graph():
    ds = vtkio.read(DATA / "cases" / "knn_scatter_800.vtu")  # scipy cKDTree's exact 8-NN (make_data.py)
    edges, info = knn_graph(vtkio.points(ds)[:, :2], k=8, seed=0)
    assert edge_set(edges) == edge_set(vtkio.line_edges(ds))
    assert info["recall"] == 1.0 and info["k"] == 8 and info["n_edges"] == len(edges)


def test_knn_graph_on_a_grid_is_symmetric_exact_and_the_stencil_inside():
    n = 24
    ls = grid_landscape((n, n))
    edges, info = knn_graph(ls.coords, k=8, seed=3)
    assert np.all(edges[:, 0] < edges[:, 1]) and len(edge_set(edges)) == len(edges)  # unique, i < j
    assert info["recall"] == 1.0  # vs cKDTree, ties at equal distance aside
    nbrs = {v: set() for v in range(n * n)}
    for a, b in edges.tolist():
        nbrs[a].add(b)
        nbrs[b].add(a)
    # Far enough from the border that no border point's 8-NN reaches in: exactly the 8 neighbours.
    for j in range(3, n - 3):
        for i in range(3, n - 3):
            stencil = {(i + di) + n * (j + dj) for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj}
            assert nbrs[i + n * j] == stencil
    # Symmetrised: every point's exact 8 nearest neighbours are among its graph neighbours, ties aside.
    idx, dist = exact_knn(ls.coords, 8)
    for v in range(n * n):
        listed = idx[v][dist[v] < dist[v, -1] - 1e-12]
        assert set(listed.tolist()) <= nbrs[v]


@pytest.mark.slow  # pynndescent's numba compilation
def test_knn_graph_is_deterministic_for_a_seed_and_works_in_1d_and_3d():
    rng = np.random.default_rng(7)
    pts3 = rng.random((300, 3))
    e1, _ = knn_graph(pts3, k=5, seed=11, method="nndescent")
    e2, _ = knn_graph(pts3, k=5, seed=11, method="nndescent")
    assert np.array_equal(e1, e2)
    # Approximate in 3-D: most exact edges are there and the reported recall says how many.
    exact = edge_set(symmetric_edges(exact_knn(pts3, 5)[0]))
    _, info = knn_graph(pts3, k=5, seed=11, method="nndescent")
    assert len(edge_set(e1) & exact) >= 0.95 * len(exact) and 0.95 <= info["recall"] <= 1.0
    pts1 = rng.random(200)
    e, info = knn_graph(pts1, k=2, method="nndescent")
    assert edge_set(e) == edge_set(symmetric_edges(exact_knn(pts1[:, None], 2)[0])) and info["recall"] == 1.0


def test_recall_counts_wrong_neighbours_but_not_ties():
    pts = np.array([[0.0], [1.0], [-1.0], [3.0]])
    idx, _ = exact_knn(pts, 1)
    assert neighbour_recall(pts, idx, 1) == 1.0
    tie = idx.copy()
    tie[0] = 2 if idx[0, 0] == 1 else 1  # the other point at distance 1: a tie, not an error
    assert neighbour_recall(pts, tie, 1) == 1.0
    wrong = idx.copy()
    wrong[0] = 3
    assert neighbour_recall(pts, wrong, 1) == pytest.approx(0.75)


@pytest.mark.parametrize("k", [0, 5, 9])
def test_knn_needs_fewer_neighbours_than_points(k):
    with pytest.raises(LossTopoError, match="k = "):
        knn_graph(np.random.default_rng(0).random((5, 2)), k=k)


def test_vtk_graph_carries_arrays_and_recall(tmp_path):
    ls = grid_landscape((9, 7), bad=0)
    grid, info = to_vtk_graph(ls, k=4)
    vtkio.write(tmp_path / "g.vtu", grid)
    back = vtkio.read(tmp_path / "g.vtu")
    assert back.GetNumberOfCells() == info["n_edges"]
    assert all(back.GetCellType(c) == vtkio.VTK_LINE for c in range(back.GetNumberOfCells()))
    assert edge_set(vtkio.line_edges(back)) == edge_set(knn_graph(ls.coords, k=4)[0])
    fd = vtkio.field_arrays(back)
    assert fd[names.KNN_RECALL][0] == info["recall"] == 1.0 and fd[names.KNN_K][0] == 4
    arr = vtkio.point_arrays(back)
    assert np.isinf(arr[names.RAW_LOSS][0]) and np.all(np.isfinite(arr[names.LOSS]))
    assert np.allclose(vtkio.points(back)[:, :2], ls.coords)
