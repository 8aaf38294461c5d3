"""The ParaView plugin (plugin/LossTopo.py) in pvpython: its outputs equal the CLI's and TTK's references.

One pvpython process runs every proxy once and writes what they produced to files; the tests compare
them with `losstopo landscape` / `losstopo analyze` run on the same input, with TTK's merge trees and
persistence diagrams in /work/shared/reference, and with the error messages users should see.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import DATA, needs_pvpython, run_pvpython
from references import data_manifest, ttk_outputs, ttk_zero_dim_pairs

REF_NAME = "landscape_resnet56_noshort"  # a losstopo landscape with several basins (tests/data)
REF = DATA / "cases" / f"{REF_NAME}.vti"
REF_GRAPH = DATA / "cases" / "knn_scatter_800.vtu"


def _ttk_reference() -> dict:
    """Real TTK's outputs for REF (the first build that made them, tests/data/make_data.py)."""
    for build in data_manifest()["builds"]:
        out = ttk_outputs(REF_NAME, build)
        if out is not None:
            return out
    pytest.skip("no TTK build made outputs for the reference landscape")
THRESHOLD = next(c["threshold"] for c in data_manifest()["cases"] if c["name"] == REF_NAME)

PV_SCRIPT = textwrap.dedent(r'''
    import json, sys
    from pathlib import Path
    from paraview import simple as pv
    from losstopo import vtkio
    from losstopo.paraview.scripts import pipelines

    pipelines.ensure_plugin()
    ckpt, landscape_dir, ref, ref_graph, out, threshold = sys.argv[1:7]
    out = Path(out)

    def fetch(proxy, port=0):
        proxy.UpdatePipeline()
        return pv.servermanager.Fetch(proxy, idx=port)

    def alive(tag):
        print("ALIVE", tag, flush=True)

    src = pv.LossLandscape(Checkpoint=ckpt, Directions=1, DirectionSeed=0, Span=0.5, Resolution=5, Samples=64)
    vtkio.write(out / "source.vti", fetch(src))

    # image -> kNN graph on the same proxy: new output type, same losses, and no recomputation (the disk
    # cache is gone, so a recomputation would have to report chunk progress)
    import os, shutil
    shutil.rmtree(os.environ["LOSSTOPO_CACHE"])
    switch = []
    src.GetClientSideObject().AddObserver("ProgressEvent", lambda obj, _e: switch.append(obj.GetProgress()))
    src.Representation = 1
    src.K = 4
    vtkio.write(out / "source_graph.vtu", fetch(src))
    (out / "switch_progress.json").write_text(json.dumps(switch))

    # progress reaches ParaView: the algorithm's ProgressEvents during a fresh computation
    seen = []
    src2 = pv.LossLandscape(Checkpoint=ckpt, Directions=0, DirectionSeed=1, Span=0.5, Resolution=5, Samples=64)
    alg = src2.GetClientSideObject()
    alg.AddObserver("ProgressEvent", lambda obj, _event: seen.append(obj.GetProgress()))
    src2.UpdatePipeline()
    (out / "progress.json").write_text(json.dumps(seen))

    for name in ("", "landscape.npz", "meta.json"):  # the folder, or either file File > Open offers
        rd = pv.LossLandscapeReader(FileName=str(Path(landscape_dir) / name) if name else landscape_dir)
        vtkio.write(out / f"reader_{name.replace('.', '_') or 'dir'}.vti", fetch(rd))

    r = pv.LossLandscapeReader(FileName=ref)
    mt = pv.LandscapeMergeTree(Input=r, ScalarField=["POINTS", "Loss"])
    for port, name in enumerate(("nodes.vtu", "arcs.vtu", "segmentation.vti")):
        vtkio.write(out / name, fetch(mt, port))
    pd = pv.LandscapePersistenceDiagram(Input=r, ScalarField=["POINTS", "Loss"])
    vtkio.write(out / "diagram.vtu", fetch(pd))
    table = fetch(pv.LandscapeMetrics(Input=r, ScalarField=["POINTS", "Loss"]))
    metrics = {table.GetColumnName(i): table.GetColumn(i).GetValue(0) for i in range(table.GetNumberOfColumns())}
    (out / "metrics.json").write_text(json.dumps(metrics))
    simp = pv.LandscapeTopologicalSimplification(Input=r, InputArray=["POINTS", "Loss"],
                                                 PersistenceThreshold=float(threshold))
    vtkio.write(out / "simplified.vti", fetch(simp))
    lay = pv.LandscapeMergeTreeLayout(Input=pv.OutputPort(mt, 0), Arcs=pv.OutputPort(mt, 1))
    vtkio.write(out / "layout.vtu", fetch(lay))

    g = pv.LossLandscapeReader(FileName=ref_graph)
    gmt = pv.LandscapeMergeTree(Input=g, ScalarField=["POINTS", "Loss"])
    vtkio.write(out / "graph_nodes.vtu", fetch(gmt))
    # one reader proxy switching from an image to a graph: RequestDataObject changes the output type
    sw = pv.LossLandscapeReader(FileName=ref)
    kinds = [fetch(sw).GetClassName()]
    sw.FileName = ref_graph
    kinds.append(fetch(sw).GetClassName())
    (out / "switch.json").write_text(json.dumps(kinds))
    alive("outputs")

    # error paths: one message each, no crash, the session goes on
    pv.LossLandscape(Checkpoint=str(out / "missing.pt")).UpdatePipeline()
    alive("missing checkpoint")
    pv.LossLandscapeReader(FileName=str(out / "nowhere")).UpdatePipeline()
    alive("missing landscape")
    pv.LandscapeMergeTree(Input=r, ScalarField=["POINTS", "NoSuchArray"]).UpdatePipeline()
    alive("wrong array")
    pv.LossLandscapeReader(FileName=str(out.parent / "scattered")).UpdatePipeline()
    alive("scattered as image")
    print("DONE", flush=True)
''')


def losstopo(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, "-m", "losstopo", *args], capture_output=True, text=True, env=env,
                         timeout=timeout)
    assert res.returncode == 0, res.stderr[-2000:]
    return res


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Train a tiny model, compute its landscape and analyse the reference with the CLI; then pvpython."""
    import os

    tmp = tmp_path_factory.mktemp("plugin")
    env = dict(os.environ, LOSSTOPO_CACHE=str(tmp / "cache"))
    ckpt = tmp / "model.pt"
    losstopo("train", "--model", "mlp", "--data", "digits", "--epochs", "1", "--out", str(ckpt), env=env)
    losstopo("landscape", str(ckpt), "--resolution", "5", "--span", "0.5", "--samples", "64", "--seed", "0",
             "--directions", "filter", "--out", str(tmp / "landscape"), "--quiet", env=env)
    losstopo("analyze", str(REF), "--out", str(tmp / "analyze"), "--no-pictures", env=env)
    losstopo("analyze", str(REF_GRAPH), "--out", str(tmp / "analyze_graph"), "--no-pictures", env=env)
    from losstopo.landscape.files import Landscape, save_landscape

    coords = np.random.default_rng(0).uniform(-1, 1, (30, 2))
    save_landscape(tmp / "scattered", Landscape(coords=coords, loss=(coords ** 2).sum(1), accuracy=np.ones(30),
                                                resolution=None, span=1.0))
    out = tmp / "pv"
    out.mkdir()
    script = tmp / "probe.py"
    script.write_text(PV_SCRIPT)
    from losstopo.paraview.env import paraview_environment

    pv_env = paraview_environment(env)
    res = run_pvpython(script, str(ckpt), str(tmp / "landscape"), str(REF), str(REF_GRAPH), str(out),
                       str(THRESHOLD), env=pv_env)
    return {"tmp": tmp, "out": out, "res": res}


def _read(path):
    from losstopo import vtkio

    return vtkio.read(path)


def _arrays(data, cells=False):
    from vtkmodules.util.numpy_support import vtk_to_numpy

    fd = data.GetCellData() if cells else data.GetPointData()
    return {fd.GetArrayName(i): vtk_to_numpy(fd.GetArray(i)) for i in range(fd.GetNumberOfArrays())}


pytestmark = [needs_pvpython, pytest.mark.paraview, pytest.mark.slow]


def test_pvpython_ran_every_proxy(run):
    res = run["res"]
    assert res.returncode == 0, res.stderr[-3000:]
    assert "DONE" in res.stdout, res.stdout[-2000:] + res.stderr[-3000:]


def test_source_losses_equal_the_cli(run):
    from losstopo.landscape.files import load_landscape

    cli = load_landscape(run["tmp"] / "landscape")
    img = _read(run["out"] / "source.vti")
    assert img.GetDimensions() == (5, 5, 1)
    assert np.allclose(img.GetOrigin()[:2], (-0.5, -0.5)) and np.allclose(img.GetSpacing()[:2], (0.25, 0.25))
    a = _arrays(img)
    assert np.allclose(a["Loss"], cli.loss, rtol=1e-5, atol=0)
    assert np.allclose(a["Accuracy"], cli.accuracy, atol=1e-9)
    assert np.ptp(a["Loss"]) > 1e-3  # a real landscape, not a constant


def test_source_switches_to_a_knn_graph_without_recomputing(run):
    img = _arrays(_read(run["out"] / "source.vti"))
    graph = _read(run["out"] / "source_graph.vtu")
    assert graph.GetClassName() == "vtkUnstructuredGrid"
    assert graph.GetNumberOfPoints() == 25 and graph.GetNumberOfCells() >= 25 * 4 // 2
    assert np.array_equal(_arrays(graph)["Loss"], img["Loss"])
    assert json.loads((run["out"] / "switch_progress.json").read_text()) == [0.0, 1.0]


def test_source_reports_progress(run):
    """The executive reports 0 before and 1 after RequestData; the source adds one report per finished
    chunk of points (a 5x5 grid is one chunk), so at least three events, never decreasing."""
    seen = json.loads((run["out"] / "progress.json").read_text())
    assert len(seen) >= 3, seen
    assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == 1.0


def test_reader_output_type_follows_the_file(run):
    assert json.loads((run["out"] / "switch.json").read_text()) == ["vtkImageData", "vtkUnstructuredGrid"]


@pytest.mark.parametrize("opened", ["dir", "landscape_npz", "meta_json"])
def test_reader_reads_the_cli_folder(run, opened):
    cli = _read(run["tmp"] / "landscape" / "landscape.vti")
    got = _read(run["out"] / f"reader_{opened}.vti")
    assert got.GetDimensions() == cli.GetDimensions()
    assert set(_arrays(got)) == set(_arrays(cli))
    for name, values in _arrays(cli).items():
        assert np.array_equal(_arrays(got)[name], values), name


@pytest.mark.parametrize("mine, theirs, cells", [
    ("nodes.vtu", "analyze/merge_tree_nodes.vtu", False),
    ("arcs.vtu", "analyze/merge_tree_arcs.vtu", False),
    ("arcs.vtu", "analyze/merge_tree_arcs.vtu", True),
    ("segmentation.vti", "analyze/segmentation.vti", False),
    ("diagram.vtu", "analyze/persistence_diagram.vtu", False),
    ("diagram.vtu", "analyze/persistence_diagram.vtu", True),
    ("graph_nodes.vtu", "analyze_graph/merge_tree_nodes.vtu", False),
])
def test_filters_equal_analyze(run, mine, theirs, cells):
    a = _arrays(_read(run["out"] / mine), cells)
    b = _arrays(_read(run["tmp"] / theirs), cells)
    assert set(a) == set(b)
    for name in b:
        assert np.array_equal(a[name], b[name]), name


def test_merge_tree_minima_equal_ttk(run):
    nodes = _arrays(_read(run["out"] / "nodes.vtu"))
    ttk = _ttk_reference()
    ttk_minima = sorted(ttk["tree0/point/VertexId"][ttk["tree0/point/CriticalType"] == 0].tolist())
    assert len(ttk_minima) >= 3  # a landscape with several basins
    assert sorted(nodes["VertexId"][nodes["CriticalType"] == 0].tolist()) == ttk_minima


def test_persistence_pairs_equal_ttk(run):
    d = _read(run["out"] / "diagram.vtu")
    pts = np.array([d.GetPoint(i) for i in range(d.GetNumberOfPoints())])
    ctype = _arrays(d)["CriticalType"]
    mine = np.array(sorted((b, dd) for (b, _, _), (_, dd, _) in zip(pts[0::2], pts[1::2])))
    v = _arrays(_read(REF))["Loss"]
    ttk = np.array(sorted((float(v[bv]), float(v[dv])) for bv, dv in ttk_zero_dim_pairs(_ttk_reference())))
    # the diagram's points are float32 (TTK's too); TTK's essential pair dies at the global maximum, ours
    # as well on a connected image
    assert mine.shape == ttk.shape and np.allclose(mine, ttk, rtol=1e-6, atol=0)
    assert np.all(ctype[0::2] == 0)


def test_metrics_table_equals_topology_json(run):
    table = json.loads((run["out"] / "metrics.json").read_text())
    summary = json.loads((run["tmp"] / "analyze" / "topology.json").read_text())["metrics"]
    for key, value in summary.items():
        if isinstance(value, (int, float)):
            assert table[key] == pytest.approx(value), key


def test_simplification_removes_exactly_the_pairs_below_threshold(run):
    from losstopo.paraview.filters import dataset_topology

    before = dataset_topology(_read(REF))
    after = dataset_topology(_read(run["out"] / "simplified.vti"))
    keep = ~before.pairs.finite | (before.pairs.persistence > THRESHOLD)
    assert 0 < keep.sum() < len(before.pairs)  # the threshold removes some pairs, not all
    assert sorted(zip(after.pairs.birth, after.pairs.death)) == sorted(
        zip(before.pairs.birth[keep], before.pairs.death[keep]))


def test_layout_puts_nodes_at_their_loss(run):
    lay = _read(run["out"] / "layout.vtu")
    nodes = _read(run["out"] / "nodes.vtu")
    pts = np.array([lay.GetPoint(i) for i in range(lay.GetNumberOfPoints())])
    scalar = _arrays(nodes)["Scalar"]
    assert np.allclose(pts[:, 1], scalar, rtol=1e-6)
    assert lay.GetNumberOfCells() == _read(run["out"] / "arcs.vtu").GetNumberOfCells()
    cells = _arrays(lay, cells=True)
    assert np.all(scalar[cells["upNodeId"]] >= scalar[cells["downNodeId"]])
    assert pts[:, 0].min() >= 0 and pts[:, 0].max() <= np.ptp(scalar) * (1 + 1e-9)


@pytest.mark.parametrize("tag, message", [
    ("missing checkpoint", "ERROR: In LossLandscapeSource: checkpoint"),
    ("missing landscape", "ERROR: In LossLandscapeReader: landscape"),
    ("wrong array", "no point array 'NoSuchArray'"),
    ("scattered as image", "scattered coordinates and cannot be an image; use the kNN graph representation "
                           "(Representation = kNN graph in ParaView"),
])
def test_errors_are_paraview_messages_not_crashes(run, tag, message):
    res = run["res"]
    assert f"ALIVE {tag}" in res.stdout
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_tree_layout_branches_do_not_cross():
    """planar_tree_layout on a hand-made tree: the deepest branch is straight, leaves are distinct."""
    from losstopo.topology.layout import planar_tree_layout

    # nodes: 0,1,2 minima (0 deepest), 3 saddle joining 1 and 2, 4 saddle joining 0 and 3, 5 root
    scalar = np.array([0.0, 1.0, 1.5, 2.0, 3.0, 4.0])
    up = np.array([4, 3, 3, 4, 5])
    down = np.array([0, 1, 2, 3, 4])
    x = planar_tree_layout(up, down, scalar)
    assert x[0] == x[4] == x[5]  # the most persistent branch is one vertical line
    assert x[3] == x[1]  # saddle 3 continues its lower child's branch
    assert len({x[0], x[1], x[2]}) == 3 and x.min() == 0.0 and x.max() == 1.0


def test_plugin_finds_losstopo_by_itself(tmp_path):
    """Loaded into a ParaView that only has the getargspec fix (no PYTHONPATH to losstopo, no site dirs),
    the plugin finds the package next to itself and reads a landscape."""
    import os

    from losstopo.paraview.env import PLUGIN_FILE, SITE_FIX_DIR

    script = tmp_path / "alone.py"
    script.write_text(textwrap.dedent('''
        import sys
        from paraview import simple as pv
        pv.LoadPlugin(sys.argv[1], remote=False)
        r = pv.LossLandscapeReader(FileName=sys.argv[2])
        r.UpdatePipeline()
        print("POINTS", r.GetDataInformation().GetNumberOfPoints(), flush=True)
    '''))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LOSSTOPO_SITE_DIRS", "PV_PLUGIN_PATH")}
    env["PYTHONPATH"] = str(SITE_FIX_DIR)
    res = run_pvpython(script, str(PLUGIN_FILE), str(REF), env=env)
    assert "POINTS 1681" in res.stdout, res.stderr[-3000:]


def test_every_proxy_and_property_has_help_text(monkeypatch):
    """The Properties panel shows help for every proxy and property (TTK's style), from the plugin's XML."""
    import importlib.util
    import inspect
    import xml.etree.ElementTree as ET

    if not hasattr(inspect, "getargspec"):  # the same fix losstopo's launchers apply to ParaView
        monkeypatch.setattr(inspect, "getargspec", inspect.getfullargspec, raising=False)
    from paraview.detail.pythonalgorithm import get_plugin_xmls

    from losstopo.paraview.env import PLUGIN_FILE

    spec = importlib.util.spec_from_file_location("LossTopoUnderTest", PLUGIN_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    proxies = [p for xml in get_plugin_xmls(module) for p in ET.fromstring(xml).iter("SourceProxy")]
    assert {p.get("label") for p in proxies} == {
        "Loss Landscape", "Loss Landscape Reader", "Landscape Merge Tree", "Landscape Persistence Diagram",
        "Landscape Topological Simplification", "Landscape Metrics", "Landscape Merge Tree Layout"}
    for proxy in proxies:
        assert len((proxy.find("Documentation").text or "").split()) >= 8, proxy.get("label")
        for prop in proxy:
            if prop.tag.endswith("Property") and prop.get("name") != "Reload Python Module":
                doc = prop.find("Documentation")
                assert doc is not None and len(doc.text.split()) >= 4, (proxy.get("label"), prop.get("name"))
