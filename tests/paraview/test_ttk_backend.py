"""TTK backend: detection, the install hint when TTK is absent, and the conversion of TTK's outputs.

TTK is not installed on this machine, so the end-to-end comparison is marked `ttk` and skipped; the
converters are checked on TTK-layout data: TTK's own persistence diagram (exported CSV, rebuilt as
the VTK_LINE grid TTK writes) and the FTM layout of the merge tree.
"""

from __future__ import annotations


import numpy as np
import pytest

from conftest import DATA
from references import data_manifest, ttk_outputs, ttk_zero_dim_pairs, vtk_from_outputs
from losstopo import cli, names, vtkio
from losstopo.jobs.analyze import analyze_path, resolve_backend
from losstopo.errors import LossTopoError
from losstopo.representation import ImageConnectivity
from losstopo.topology import compute_topology
from losstopo.paraview import ttk as ttk_backend
from losstopo.vtkio.topology import merge_tree_vtk

CASE = DATA / "cases" / "landscape_resnet56_noshort"


@pytest.fixture
def no_ttk(monkeypatch):
    monkeypatch.setenv("LOSSTOPO_TTK", "0")
    ttk_backend.ttk_available.cache_clear()
    yield
    ttk_backend.ttk_available.cache_clear()


def _case():
    ds = vtkio.read(f"{CASE}.vti")
    v = vtkio.scalar_field(ds, names.LOSS)
    return ds, v, compute_topology(v, ImageConnectivity(dims=(41, 41)))


def test_detection_agrees_with_the_plugin_search(monkeypatch):
    monkeypatch.delenv("LOSSTOPO_TTK", raising=False)
    ttk_backend.ttk_available.cache_clear()
    try:
        if ttk_backend.find_ttk_plugin() is None:
            assert ttk_backend.ttk_available() is False
        monkeypatch.setenv("LOSSTOPO_TTK", "1")
        ttk_backend.ttk_available.cache_clear()
        assert ttk_backend.ttk_available() is True
    finally:
        ttk_backend.ttk_available.cache_clear()


def test_backend_ttk_without_ttk_says_how_to_install(no_ttk):
    with pytest.raises(LossTopoError) as e:
        resolve_backend("ttk")
    msg = str(e.value)
    assert "topologytoolkit" in msg and "conda-forge" in msg and ".deb" in msg and "\n" not in msg
    assert resolve_backend("auto") == "builtin"
    with pytest.raises(LossTopoError, match="backend"):
        resolve_backend("gudhi")


def test_cli_backend_ttk_without_ttk_is_one_line_exit_2(no_ttk, tmp_path, capfd):
    rc = cli.main(["analyze", f"{CASE}.vti", "--backend", "ttk", "--out", str(tmp_path / "o")])
    err = capfd.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "topologytoolkit" in err
    assert not (tmp_path / "o" / "topology.json").exists()


def test_auto_backend_falls_back_to_builtin(no_ttk, tmp_path):
    s = analyze_path(f"{CASE}.vti", tmp_path, backend="auto", pictures=False)
    assert s["backend"] == "builtin"


@pytest.mark.parametrize("build", data_manifest()["builds"])
def test_pairs_from_real_ttk_diagram(build):
    """Real TTK's diagram of the case (tests/data, with its saddle-maximum pairs) converts back to our pairs."""
    ttk = ttk_outputs(CASE.name, build)
    if ttk is None:
        pytest.skip(f"TTK {build} failed on {CASE.name} when the fixtures were made")
    diagram = vtk_from_outputs(ttk, "diagram")
    _, values, ref = _case()
    pairs = ttk_backend.pairs_from_ttk(diagram, values)
    zero = ttk_zero_dim_pairs(ttk)
    assert len(zero) < len(ttk["diagram/cell/PairType"]) - 1  # TTK also wrote saddle-maximum pairs: dropped
    assert sorted(zip(pairs.birth_vertex.tolist(), pairs.death_vertex.tolist())) == sorted(zero)
    assert not pairs.finite[0] and pairs.birth_vertex[0] == ref.pairs.birth_vertex[0]
    assert np.array_equal(pairs.birth, values[pairs.birth_vertex])  # exact values, not TTK's float32 points
    assert np.all(np.diff(pairs.persistence[1:]) <= 0)  # PersistencePairs' order: finite by persistence
    assert sorted(pairs.persistence.tolist()) == pytest.approx(sorted(ref.pairs.persistence.tolist()))


def test_join_tree_from_ttk_layout(tmp_path):
    ds, values, ref = _case()
    nodes, arcs, seg = merge_tree_vtk(ref, ds)
    for name, data in (("n.vtu", nodes), ("a.vtu", arcs), ("s.vti", seg)):
        vtkio.write(tmp_path / name, data)
    tree = ttk_backend.join_tree_from_ttk(vtkio.read(tmp_path / "n.vtu"), vtkio.read(tmp_path / "a.vtu"),
                                          vtkio.read(tmp_path / "s.vti"), values)
    t = ref.tree
    assert np.array_equal(tree.node_vertex, t.node_vertex) and np.array_equal(tree.node_type, t.node_type)
    assert np.array_equal(tree.arcs, t.arcs) and np.array_equal(tree.segmentation, t.segmentation)
    assert np.array_equal(tree.node_scalar, values[t.node_vertex])
    assert np.array_equal(tree.arc_region_size, t.arc_region_size)
    assert np.array_equal(tree.node_region_span, np.trunc(t.node_region_span))  # TTK's int array


@pytest.mark.ttk
@pytest.mark.skipif(not ttk_backend.ttk_available(), reason="TTK is not loadable in ParaView here")
def test_ttk_backend_equals_builtin():
    _, values, ref = _case()
    res = ttk_backend.compute_topology_ttk(values, ImageConnectivity(dims=(41, 41)))
    assert sorted(zip(res.pairs.birth_vertex, res.pairs.death_vertex)) == \
        sorted(zip(ref.pairs.birth_vertex, ref.pairs.death_vertex))
    assert sorted(res.tree.node_vertex.tolist()) == sorted(ref.tree.node_vertex.tolist())
