"""The plugin's simplification chain against TTK's stored chain (tests/data), without ParaView's GUI or TTK.

TTK's TopologicalSimplificationByPersistence flattens every removed basin to its saddle's value and
passes the vertex order on as `<array>_Order`; TTK's merge tree and diagram sweep by that order, so the
flat basins hold no minimum. The plugin's filters (run here as plain VTK algorithms, as ParaView runs
them) must do the same: Landscape Topological Simplification writes the order array, Landscape Merge
Tree and Landscape Persistence Diagram honour it, and the chain gives TTK's minima, saddles and pairs.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from references import data_manifest, load_case, ttk_outputs, ttk_zero_dim_pairs

if not hasattr(inspect, "getargspec"):  # ParaView 5.11's decorators use it (losstopo's launchers add it)
    inspect.getargspec = inspect.getfullargspec
proxies = pytest.importorskip("losstopo.paraview.proxies.filters",
                              reason="ParaView's Python modules (paraview.util.vtkAlgorithm) are not installed")

MANIFEST = data_manifest()
CHAINS = [(c["name"], b) for c in MANIFEST["cases"] for b in MANIFEST["builds"]
          if c["ttk"].get(b, {}).get("simplification", {}).get("status") == "ok"]


def _run(algorithm, data_or_port, **setters):
    alg = algorithm()
    if hasattr(data_or_port, "GetProducer"):
        alg.SetInputConnection(data_or_port)
    else:
        alg.SetInputDataObject(data_or_port)
    alg.SetInputArrayToProcess(0, 0, 0, 0, "Loss")
    for name, value in setters.items():
        getattr(alg, f"Set{name}")(value)
    alg.Update()
    return alg


def _arrays(data, cells=False):
    from vtkmodules.util.numpy_support import vtk_to_numpy

    fd = data.GetCellData() if cells else data.GetPointData()
    return {fd.GetArrayName(i): vtk_to_numpy(fd.GetArray(i)) for i in range(fd.GetNumberOfArrays())}


def _as_outputs(diagram) -> dict[str, np.ndarray]:
    """Our diagram in the npz layout of TTK's stored outputs (for references.ttk_zero_dim_pairs)."""
    from vtkmodules.util.numpy_support import vtk_to_numpy

    out = {f"diagram/point/{k}": v for k, v in _arrays(diagram).items()}
    out.update({f"diagram/cell/{k}": v for k, v in _arrays(diagram, cells=True).items()})
    out["diagram/cells/connectivity"] = vtk_to_numpy(diagram.GetCells().GetConnectivityArray())
    return out


def _chain(name: str, threshold: float, keep_order: bool = True):
    """(simplified dataset, merge-tree nodes, diagram) of the plugin's chain on a fixture case."""
    data, _values, _conn = load_case(name)
    simp = _run(proxies.LandscapeTopologicalSimplification, data, PersistenceThreshold=threshold)
    simplified = simp.GetOutputDataObject(0)
    if not keep_order:
        simplified = simplified.NewInstance()
        simplified.DeepCopy(simp.GetOutputDataObject(0))
        simplified.GetPointData().RemoveArray("Loss_Order")
    src = simp.GetOutputPort(0) if keep_order else simplified
    nodes = _run(proxies.LandscapeMergeTree, src).GetOutputDataObject(0)
    diagram = _run(proxies.LandscapePersistenceDiagram, src).GetOutputDataObject(0)
    return simplified, nodes, diagram


def _threshold(name: str) -> float:
    return next(c["threshold"] for c in MANIFEST["cases"] if c["name"] == name)


def test_the_chains_cover_images_and_graphs():
    kinds = {next(c["kind"] for c in MANIFEST["cases"] if c["name"] == n) for n, _ in CHAINS}
    assert {"image2d", "image3d", "graph"} <= kinds


@pytest.mark.parametrize("name, build", CHAINS)
def test_plugin_chain_equals_ttks_chain(name, build):
    ttk = ttk_outputs(name, build, "simplification")
    simplified, nodes, diagram = _chain(name, _threshold(name))
    a = _arrays(nodes)
    assert sorted(zip(a["VertexId"].tolist(), a["CriticalType"].tolist())) == sorted(
        zip(ttk["tree0/point/VertexId"].tolist(), ttk["tree0/point/CriticalType"].tolist()))
    ours, theirs = sorted(ttk_zero_dim_pairs(_as_outputs(diagram))), sorted(ttk_zero_dim_pairs(ttk))
    assert ours == theirs
    assert np.array_equal(_arrays(simplified)["Loss"].astype(np.float64),
                          ttk["simplified/point/Loss"].astype(np.float64))
    # persistence of the finite pairs, each from its own diagram's cells
    assert np.allclose(_finite_persistence(_as_outputs(diagram)), _finite_persistence(ttk), rtol=1e-6, atol=0)


def _finite_persistence(out: dict[str, np.ndarray]) -> np.ndarray:
    """Sorted Persistence of the finite minimum-saddle cells joining two distinct vertices."""
    vid = out["diagram/point/ttkVertexScalarField"]
    conn = out["diagram/cells/connectivity"].reshape(-1, 2)
    keep = (out["diagram/cell/PairType"] == 0) & (out["diagram/cell/IsFinite"] == 1) & (
        vid[conn[:, 0]] != vid[conn[:, 1]])
    return np.sort(out["diagram/cell/Persistence"][keep].astype(np.float64))


@pytest.mark.parametrize("name, build", CHAINS[:1] + [c for c in CHAINS if c[0].startswith("knn")][:1])
def test_simplification_writes_ttks_order_array(name, build):
    ttk = ttk_outputs(name, build, "simplification")
    simplified, _nodes, _diagram = _chain(name, _threshold(name))
    order = _arrays(simplified)["Loss_Order"]
    assert order.dtype == ttk["simplified/point/Loss_Order"].dtype == np.int32  # TTK's SimplexId
    assert np.array_equal(np.sort(order), np.arange(order.size))  # a permutation, as TTK's
    values = _arrays(simplified)["RawLoss"] if "RawLoss" in _arrays(simplified) else _arrays(simplified)["Loss"]
    assert np.all(np.diff(values[np.argsort(order)]) >= 0)  # it sorts the simplified field


def test_without_the_order_array_the_chain_finds_spurious_minima():
    """What the order array is for: on the flattened basins, (value, vertex id) makes new minima."""
    differ = []
    for name, build in CHAINS:
        if build != CHAINS[0][1]:
            continue
        ttk = ttk_outputs(name, build, "simplification")
        _s, nodes, _d = _chain(name, _threshold(name), keep_order=False)
        minima = int((_arrays(nodes)["CriticalType"] == 0).sum())
        differ.append(minima - int((ttk["tree0/point/CriticalType"] == 0).sum()))
    assert min(differ) >= 0 and max(differ) > 0, differ


def test_an_order_array_that_does_not_sort_the_field_is_one_error():
    from losstopo.errors import LossTopoError
    from losstopo.paraview.filters import dataset_topology
    from losstopo.vtkio import to_vtk_array

    data, values, _conn = load_case(CHAINS[0][0])
    data.GetPointData().AddArray(to_vtk_array("Loss_Order", np.arange(values.size, dtype=np.int32)[::-1].copy()))
    with pytest.raises(LossTopoError, match="order array does not sort"):
        dataset_topology(data)


@pytest.mark.parametrize("name, build", CHAINS)
def test_ttks_simplified_field_feeds_the_plugins_filters(name, build):
    """TTK's simplification output (its Loss and Loss_Order; TTK leaves a landscape's RawLoss as it was)
    into the plugin's merge tree: TTK's nodes."""
    from losstopo.vtkio import to_vtk_array

    ttk = ttk_outputs(name, build, "simplification")
    data, _values, _conn = load_case(name)
    for key in ("Loss", "Loss_Order"):
        data.GetPointData().AddArray(to_vtk_array(key, ttk[f"simplified/point/{key}"]))
    if "simplified/point/RawLoss" in ttk:  # stale: the unsimplified loss
        assert not np.array_equal(ttk["simplified/point/RawLoss"], ttk["simplified/point/Loss"])
    a = _arrays(_run(proxies.LandscapeMergeTree, data).GetOutputDataObject(0))
    assert sorted(zip(a["VertexId"].tolist(), a["CriticalType"].tolist())) == sorted(
        zip(ttk["tree0/point/VertexId"].tolist(), ttk["tree0/point/CriticalType"].tolist()))
