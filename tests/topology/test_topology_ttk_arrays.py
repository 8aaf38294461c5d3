"""The built-in backend's VTK outputs equal real TTK's, array by array (tests/data fixtures, both builds).

tests/data holds every array TTK 1.2.0 and the 2024 snapshot wrote (merge tree: Join Tree, direct arcs,
1 thread; persistence diagram: defaults). The built-in result written by vtkio.merge_tree_vtk and
vtkio.persistence_diagram_vtk must give the same values in the same places: node ids and order, arc order,
SegmentationId, up/downNodeId, RegionSize/Span/Type, points (TTK's float32 ones), the segmentation per
vertex, and, in TTK's diagram, the cells of the 0-dimensional pairs in order. Documented exceptions
(docs/topology.md): TTK's node port has one poly-vertex cell, ours a vertex cell per node; TTK's diagram
also holds the higher pairs, so only its PairType-0 cells compare, and not its PairIdentifier or diagonal
end. No TTK is needed to run these tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from vtkmodules.util.numpy_support import vtk_to_numpy

from losstopo import vtkio
from losstopo.topology import compute_topology
from losstopo.vtkio.topology import merge_tree_vtk, persistence_diagram_vtk
from references import data_manifest, load_case, ttk_outputs

MANIFEST = data_manifest()
RUNS = [(c["name"], b, job) for c in MANIFEST["cases"] for b in MANIFEST["builds"]
        for job in ("topology", "simplification") if job in c["ttk"].get(b, {})]
TREE_ARRAYS = {"tree2/point/SegmentationId", "tree2/point/RegionSize", "tree2/point/RegionSpan",
               "tree2/point/RegionType"}  # the segmentation port's own arrays (the rest is the input's)


def _case(name: str) -> dict:
    return next(c for c in MANIFEST["cases"] if c["name"] == name)


@pytest.fixture(scope="module")
def result():
    cache = {}

    def get(name: str, build: str, job: str):
        out = ttk_outputs(name, build, job)
        if out is None:
            pytest.skip(f"TTK {build} failed on {name} ({job}): {_case(name)['ttk'][build][job]['status']}")
        if (name, job) not in cache:
            data, values, conn = load_case(name)
            values = values.astype(_case(name)["dtype"])  # TTK keeps the input's type
            t = _case(name)["threshold"] if job == "simplification" else 0.0
            cache[name, job] = (data, compute_topology(values, conn, simplify=t))
        return out, *cache[name, job]

    return get


def _arrays(ds, prefix: str) -> dict[str, np.ndarray]:
    out = {f"{prefix}/{kind}/{k}": v for kind, arrays in (("point", vtkio.point_arrays(ds)),
                                                          ("cell", vtkio.cell_arrays(ds))) for k, v in arrays.items()}
    if not ds.IsA("vtkImageData"):
        out[f"{prefix}/points"] = vtk_to_numpy(ds.GetPoints().GetData())
    return out


def _assert_same(ours: np.ndarray, theirs: np.ndarray, key: str) -> None:
    assert ours.shape == theirs.shape, key
    if theirs.dtype.kind == "f":
        assert ours.dtype == theirs.dtype, key
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0, err_msg=key)
    else:
        assert np.array_equal(ours, theirs), f"{key}: {int(np.sum(ours != theirs))} values differ"


@pytest.mark.parametrize("name, build, job", RUNS)
def test_merge_tree_arrays_equal_ttk(result, name, build, job):
    ttk, data, r = result(name, build, job)
    nodes, arcs, seg = merge_tree_vtk(r, data)
    ours = {**_arrays(nodes, "tree0"), **_arrays(arcs, "tree1"), **_arrays(seg, "tree2")}
    keys = [k for k in ttk if k.startswith(("tree0/", "tree1/")) and "/cells/" not in k] + sorted(TREE_ARRAYS)
    for key in keys:
        assert key in ours, key
        _assert_same(ours[key], ttk[key], key)
    conn = vtk_to_numpy(arcs.GetCells().GetConnectivityArray())
    assert np.array_equal(conn, ttk["tree1/cells/connectivity"])
    assert np.array_equal(vtk_to_numpy(arcs.GetCellTypesArray()), ttk["tree1/cells/types"])
    if job == "topology":  # the input's arrays pass through unchanged
        for key in [k for k in ttk if k.startswith("tree2/point/") and k not in TREE_ARRAYS]:
            _assert_same(ours[key], ttk[key], key)


@pytest.mark.parametrize("name, build, job", RUNS)
def test_diagram_zero_dim_cells_equal_ttk(result, name, build, job):
    ttk, data, r = result(name, build, job)
    d = persistence_diagram_vtk(r, data)
    vid = ttk["diagram/point/ttkVertexScalarField"]
    ends = ttk["diagram/cells/connectivity"].reshape(-1, 2)
    ptype = ttk["diagram/cell/PairType"]
    # TTK's 0-dim pairs in TTK's order ((v, v) cells of 1-D images are no pairs: tests/references.py)
    cells = np.array([c for c in range(ptype.size) if ptype[c] == 0 and vid[ends[c, 0]] != vid[ends[c, 1]]])
    n = cells.size
    assert n and d.GetNumberOfCells() == n + 1
    pts = ends[cells].ravel()
    pa, ca = vtkio.point_arrays(d), vtkio.cell_arrays(d)
    for k in ("ttkVertexScalarField", "CriticalType", "Coordinates"):
        _assert_same(pa[k], ttk[f"diagram/point/{k}"][pts], k)
    _assert_same(vtk_to_numpy(d.GetPoints().GetData()), ttk["diagram/points"][pts], "points")
    for k in ("PairType", "Persistence", "Birth", "IsFinite"):
        _assert_same(ca[k][:n], ttk[f"diagram/cell/{k}"][cells], k)
    assert np.array_equal(ca["PairIdentifier"][:n], np.arange(n))
    # the diagonal cell: PairIdentifier -1, PairType -1, not finite, 2 x the global pair's persistence, Birth 0
    for k in ("PairIdentifier", "PairType", "Persistence", "Birth", "IsFinite"):
        _assert_same(ca[k][n:], ttk[f"diagram/cell/{k}"][-1:], f"diagonal {k}")
