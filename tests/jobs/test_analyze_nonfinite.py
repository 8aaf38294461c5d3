"""`analyze` on landscapes with inf/NaN points (issue 10): the topology of the finite part, whatever the
input format, and every output says how many points were non-finite and where."""

from __future__ import annotations

import json

import numpy as np
import pytest

from losstopo import names, vtkio
from losstopo.jobs.analyze import analyze_path, id_ranges
from losstopo.landscape.files import Landscape, save_landscape
from losstopo.paraview.filters import dataset_topology


def bowl(n: int = 21) -> Landscape:
    """x^2 + y^2 on [-1, 1]^2, inf above 0.8 (the issue's example) and one NaN inside: 1 minimum, 0 saddles."""
    a = np.linspace(-1, 1, n)
    y, x = np.meshgrid(a, a, indexing="ij")
    coords = np.stack([x.ravel(), y.ravel()], axis=1)
    loss = (coords ** 2).sum(1)
    loss[loss > 0.8] = np.inf
    loss[n * (n // 2) + n // 2 + 3] = np.nan
    return Landscape(coords=coords, loss=loss, accuracy=np.zeros_like(loss), resolution=(n, n), span=1.0)


def _strict_json(path):
    def bad(c):
        raise AssertionError(f"{path} holds {c}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=bad)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("bowl") / "land"
    ls = bowl()
    save_landscape(d, ls)
    vtkio.write_landscape_vti(ls, d)
    return d, ls


def _expand(ranges):
    return [v for a, b in ranges for v in range(a, b + 1)]


@pytest.mark.parametrize("representation", [None, pytest.param("knn", marks=pytest.mark.slow)])  # pynndescent
# compiles for ~20 s in a fresh process; the kNN rule itself is tested fast in tests/topology/test_nonfinite.py
def test_folder(folder, tmp_path, representation):
    d, ls = folder
    s = analyze_path(d, tmp_path / "out", representation=representation, backend="builtin", progress=False)
    bad = np.flatnonzero(~np.isfinite(ls.loss))
    assert s["n_nonfinite"] == bad.size and _expand(s["nonfinite_vertices"]) == bad.tolist()
    assert s["minima"] == 1 and s["saddles"] == 0  # the plateau fill gave 2 and 1
    finite = ls.loss[np.isfinite(ls.loss)]
    assert s["average_persistence"] == pytest.approx(finite.max() - finite.min())
    assert all(np.isfinite(ls.loss[n["vertex"]]) for n in s["merge_tree"]["nodes"])
    assert all(np.isfinite(ls.loss[[p["birth_vertex"], p["death_vertex"]]]).all() for p in s["pairs"])
    assert any("non-finite" in note for note in s["notes"])
    assert _strict_json(tmp_path / "out" / "topology.json")["n_nonfinite"] == bad.size
    seg = vtkio.read(tmp_path / "out" / ("segmentation.vti" if representation is None else "segmentation.vtu"))
    arrays = vtkio.point_arrays(seg)
    assert np.array_equal(arrays[names.VALID_MASK], np.isfinite(ls.loss).astype(np.uint8))
    assert np.array_equal(arrays[names.RAW_LOSS], ls.loss, equal_nan=True)
    assert (arrays[names.SEGMENTATION_ID][bad] == -1).all() and np.isfinite(arrays[names.LOSS]).all()
    for png in ("landscape.png", "merge_tree.png", "persistence_diagram.png"):
        assert (tmp_path / "out" / png).stat().st_size > 10_000


def test_every_input_format_gives_the_same_topology(folder, tmp_path):
    """landscape.vti (Loss filled for display + RawLoss), a .vti with the raw Loss only, a .vti with the
    filled Loss and ValidMask only, and the plugin's filter function: all the finite part's topology."""
    d, ls = folder
    ref = analyze_path(d, tmp_path / "ref", backend="builtin", pictures=False, progress=False)
    conn = vtkio.dataset_connectivity(vtkio.read(d / names.LANDSCAPE_VTI))
    raw_only = vtkio.image_dataset(conn, {names.LOSS: ls.loss})
    vtkio.write(tmp_path / "raw_only.vti", raw_only)
    arrays = vtkio.landscape_arrays(ls.loss)
    del arrays[names.RAW_LOSS]
    vtkio.write(tmp_path / "mask_only.vti", vtkio.image_dataset(conn, arrays))
    for i, src in enumerate([d / names.LANDSCAPE_VTI, tmp_path / "raw_only.vti", tmp_path / "mask_only.vti"]):
        s = analyze_path(src, tmp_path / f"o{i}", backend="builtin", pictures=False, progress=False)
        assert s["pairs"] == ref["pairs"] and s["merge_tree"] == ref["merge_tree"], src.name
        assert s["nonfinite_vertices"] == ref["nonfinite_vertices"], src.name
        plugin = dataset_topology(vtkio.read(src))
        assert plugin.pairs.death_vertex.tolist() == [p["death_vertex"] for p in ref["pairs"]]


def test_all_nan_landscape_is_an_error(tmp_path):
    from losstopo.errors import LossTopoError

    ls = bowl()
    ls.loss[:] = np.nan
    save_landscape(tmp_path / "nan", ls)
    with pytest.raises(LossTopoError, match="no value is finite"):
        analyze_path(tmp_path / "nan", tmp_path / "out", backend="builtin", pictures=False, progress=False)


def test_id_ranges():
    assert id_ranges(np.array([], dtype=np.int64)) == []
    assert id_ranges(np.array([1, 2, 3, 7, 9, 10])) == [[1, 3], [7, 7], [9, 10]]
