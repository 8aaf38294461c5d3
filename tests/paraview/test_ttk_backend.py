"""TTK backend: detection, the name table, the one-line answers when TTK is absent or unknown, and the
conversion of TTK's outputs (checked on real TTK's outputs stored in tests/data). The live comparisons
with a real TTK are in test_ttk_live.py (marked `ttk`; .ci/run runs them against each TTK build)."""

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
from losstopo.paraview import ttk_find, ttk_names
from losstopo.vtkio.topology import merge_tree_vtk

CASE = DATA / "cases" / "landscape_resnet56_noshort"


@pytest.fixture
def no_ttk(monkeypatch):
    monkeypatch.setenv("LOSSTOPO_TTK", "0")
    ttk_backend.find_ttk.cache_clear()
    yield
    ttk_backend.find_ttk.cache_clear()


def _case():
    ds = vtkio.read(f"{CASE}.vti")
    v = vtkio.scalar_field(ds, names.LOSS)
    return ds, v, compute_topology(v, ImageConnectivity(dims=(41, 41)))


def test_a_machine_without_ttk_finds_none_without_starting_pvpython(monkeypatch):
    monkeypatch.delenv("LOSSTOPO_TTK", raising=False)
    for var in ("LOSSTOPO_TTK_PLUGIN", "PV_PLUGIN_PATH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(ttk_find.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(ttk_find, "_paraview_plugin_dirs", lambda: [])
    monkeypatch.setattr(ttk_find, "_run_probe", lambda route: pytest.fail("probed without a TTK on disk"))
    ttk_find.find_ttk.cache_clear()
    try:
        found = ttk_find.find_ttk()
        assert found.route == "none" and not found.usable and "no TTK found" in found.problem
    finally:
        ttk_find.find_ttk.cache_clear()


def _fake_install(monkeypatch, offered: dict, route: str = "paraview"):
    found = {"source": "LOSSTOPO_TTK_PLUGIN", "location": "/x/TopologyToolKit.so", "version": "9.9",
             "offered": offered}
    monkeypatch.setattr(ttk_find, "find_ttk", lambda: ttk_find._install(route, found))
    monkeypatch.setattr(ttk_backend, "find_ttk", ttk_find.find_ttk)


def test_auto_uses_builtin_and_says_so_when_the_ttk_is_unknown(monkeypatch, capsys):
    offered = {f.proxy: f.required_properties() for f in ttk_names.TTK_1_3.filters}
    offered["TTKMergeTree"] = [p for p in offered["TTKMergeTree"] if p != "TreeType"]
    _fake_install(monkeypatch, offered)
    assert resolve_backend("auto") == "builtin"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "TTKMergeTree.TreeType" in err[0] and "built-in" in err[0]
    with pytest.raises(LossTopoError) as e:
        resolve_backend("ttk")
    assert "TTKMergeTree.TreeType" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("entry", ttk_names.KNOWN)
def test_auto_uses_a_known_ttk(monkeypatch, entry):
    _fake_install(monkeypatch, {f.proxy: f.required_properties() + ["Input"] for f in entry.filters})
    assert resolve_backend("auto") == "ttk"


def test_backend_ttk_without_ttk_says_how_to_install(no_ttk):
    with pytest.raises(LossTopoError) as e:
        resolve_backend("ttk")
    msg = str(e.value)
    assert "topologytoolkit" in msg and "LOSSTOPO_TTK_PLUGIN" in msg and "\n" not in msg
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
