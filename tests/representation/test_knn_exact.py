"""The exact kNN graph against brute force (a dense distance matrix ranked by the documented tie rule:
distance, then the lower index), on random points in 1-3-D, on grids whose equal distances are float64
noisy (the reference ranks by exact integer offsets) and on integer grids with big tie groups; `auto`'s
choice; the method recorded in the info, the graph's field data and topology.json."""

from __future__ import annotations

import json

import numpy as np
import pytest

from losstopo import names, settings, vtkio
from losstopo.errors import LossTopoError
from losstopo.representation import exact_knn, knn_graph, symmetric_edges
from losstopo.representation.knn import EXACT_MAX_DIMS, EXACT_MAX_POINTS, resolve_method


def brute_force(pts: np.ndarray, k: int, d2: np.ndarray | None = None) -> np.ndarray:
    """(P, k) neighbours by (squared distance, index), self excluded; d2 given or from the dense matrix."""
    pts = np.asarray(pts, dtype=np.float64).reshape(len(pts), -1)
    if d2 is None:
        d2 = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)
    n = len(pts)
    out = np.empty((n, k), dtype=np.int64)
    for i in range(n):
        others = np.delete(np.arange(n), i)
        order = np.lexsort((others, d2[i, others]))  # distance first, then the lower index
        out[i] = others[order[:k]]
    return out


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 8])
def test_exact_graph_equals_brute_force_on_random_points(dims, k):
    pts = np.random.default_rng(dims * 10 + k).uniform(-1, 1, size=(400, dims))
    idx, dist = exact_knn(pts, k)
    ref = brute_force(pts, k)
    assert np.array_equal(idx, ref)
    assert np.allclose(dist, np.linalg.norm(pts[ref] - pts[:, None, :], axis=-1), rtol=1e-12)
    edges, info = knn_graph(pts, k=k, method="exact")
    assert np.array_equal(edges, symmetric_edges(ref)) and info["method"] == "exact" and info["recall"] == 1.0


@pytest.mark.parametrize("res", [(41,), (23, 17), (7, 6, 5)])
@pytest.mark.parametrize("k", [4, 8, 13])
def test_exact_graph_on_noisy_grids_breaks_ties_to_the_lower_index(res, k):
    """Grids -0.7 + 0.1 i: equal distances differ in the last bits of float64; the reference ranks by the
    exact squared integer offsets, then by index."""
    ijk = np.stack([m.ravel() for m in np.meshgrid(*[np.arange(n) for n in res[::-1]], indexing="ij")[::-1]], 1)
    pts = -0.7 + 0.1 * ijk
    exact_d2 = ((ijk[:, None, :] - ijk[None, :, :]) ** 2).sum(-1)  # integers
    noisy = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1) / 0.01
    assert np.any(noisy != exact_d2)  # the float64 distances do not tie exactly
    assert np.array_equal(exact_knn(pts, k)[0], brute_force(pts, k, exact_d2.astype(np.float64)))


def test_exact_graph_with_large_tie_groups_and_duplicates():
    """An integer 3-D grid (exact ties: 6 at distance 1, 12 at sqrt 2, ...) and duplicated points."""
    g = np.stack(np.meshgrid(*[np.arange(6.0)] * 3, indexing="ij"), -1).reshape(-1, 3)
    for k in (7, 8, 18, 19, 30):
        assert np.array_equal(exact_knn(g, k)[0], brute_force(g, k)), k
    dup = np.concatenate([g[:20], g[:20], g[5:10]])
    idx, dist = exact_knn(dup, 3)
    assert np.array_equal(idx, brute_force(dup, 3)) and np.all(dist[20:25, 0] == 0.0)
    assert np.array_equal(exact_knn(g, 8)[0], exact_knn(g.copy(), 8)[0])  # deterministic


def test_auto_picks_exact_at_small_sizes_in_low_dimensions():
    pts = np.random.default_rng(0).random((2000, 2))
    _, info = knn_graph(pts, k=8)
    assert info["method"] == "exact" and info["method_requested"] == "auto" and info["recall"] == 1.0
    assert resolve_method("auto", 10**7, EXACT_MAX_DIMS) == "exact"
    assert resolve_method("auto", EXACT_MAX_POINTS - 1, 32) == "exact"
    assert resolve_method("auto", EXACT_MAX_POINTS, EXACT_MAX_DIMS + 1) == "nndescent"
    assert resolve_method("nndescent", 10, 2) == "nndescent" and resolve_method("exact", 10**7, 64) == "exact"
    with pytest.raises(LossTopoError, match="--knn-method auto | exact | nndescent"):
        settings.knn_method("kdtree")


@pytest.mark.slow  # pynndescent's numba compilation: 20-170 s in a fresh process
def test_nndescent_is_an_option_with_its_recall():
    pts = np.random.default_rng(3).random((300, 3))
    edges, info = knn_graph(pts, k=5, seed=11, method="nndescent")
    assert info["method"] == "nndescent" and 0.9 <= info["recall"] <= 1.0
    exact = set(map(tuple, symmetric_edges(brute_force(pts, 5)).tolist()))
    assert len(set(map(tuple, edges.tolist())) & exact) >= 0.9 * len(exact)


def test_method_is_recorded_in_field_data_and_topology_json(tmp_path):
    from losstopo.jobs.analyze import analyze_path
    from losstopo.landscape.files import Landscape, save_landscape

    rng = np.random.default_rng(0)
    coords = rng.uniform(-1, 1, size=(300, 2))
    loss = 1.0 + (coords ** 2).sum(1) + 0.3 * np.sin(5 * coords[:, 0])
    ls = Landscape(coords=coords, loss=loss, accuracy=1.0 / loss, resolution=None, span=1.0,
                   meta={"model": "test"})
    save_landscape(tmp_path / "ls", ls)
    s = analyze_path(tmp_path / "ls", tmp_path / "topo", representation="knn", k=6, knn_method="exact",
                     pictures=False, progress=False)
    assert s["knn"]["method"] == "exact" and s["knn"]["recall"] == 1.0
    assert json.loads((tmp_path / "topo" / "topology.json").read_text())["knn"]["method"] == "exact"
    graph = vtkio.read(tmp_path / "topo" / "knn_graph.vtu")
    assert graph.GetFieldData().GetAbstractArray(names.KNN_METHOD).GetValue(0) == "exact"
    assert vtkio.field_arrays(graph)[names.KNN_K][0] == 6
    assert set(map(tuple, vtkio.line_edges(graph).tolist())) == set(
        map(tuple, symmetric_edges(brute_force(coords, 6)).tolist()))
