"""With a real TTK (marked `ttk`): the plugin's Loss Landscape source and reader feed TTK's filters directly.

One pvpython process builds, for the source (computing a small landscape of a trained model) and the reader
(a landscape of tests/data), each as an image (vtkImageData) and as a kNN graph (vtkUnstructuredGrid):
  * TTK's merge tree and TTKPersistenceDiagram next to the plugin's Landscape Merge Tree and Landscape
    Persistence Diagram, on the same proxy output;
  * the chain TTKTopologicalSimplificationByPersistence -> TTK's merge tree / diagram next to the plugin's
    chain, and the two crossed (TTK's simplification -> the plugin's filters and back), which only agree
    because both sides write and honour TTK's order array.
The tests compare node vertex ids and types, pairs by vertex id and persistence. The proxy names come from
the name table (paraview/ttk_names.py) for whichever TTK is installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import DATA, needs_pvpython, run_pvpython
from losstopo.paraview import ttk_find

FOUND = ttk_find.find_ttk()
pytestmark = [needs_pvpython, pytest.mark.ttk, pytest.mark.paraview, pytest.mark.slow, pytest.mark.skipif(
    not FOUND.usable, reason=f"no usable TTK here ({FOUND.problem}); .ci/run runs these with each TTK build")]
LANDSCAPE = DATA / "landscape_resnet56_noshort"

SCRIPT = textwrap.dedent(r'''
    import json, sys
    from pathlib import Path
    import numpy as np
    from paraview import simple as pv
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from losstopo.paraview.filters import dataset_topology
    from losstopo.paraview.scripts import pipelines

    ckpt, landscape, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    pipelines.ensure_plugin()
    ttk = pipelines.require_ttk()
    print("TTK", ttk.merge_tree.proxy, flush=True)

    def fetch(proxy, port=0):
        proxy.UpdatePipeline()
        return pv.servermanager.Fetch(proxy, idx=port)

    def arrays(data, cells=False):
        fd = data.GetCellData() if cells else data.GetPointData()
        return {fd.GetArrayName(i): vtk_to_numpy(fd.GetArray(i)) for i in range(fd.GetNumberOfArrays())}

    def summary(tree, diagram, tree_port):
        nodes = arrays(fetch(tree, tree_port))
        d = fetch(diagram)
        pts, cells = arrays(d), arrays(d, True)
        conn = vtk_to_numpy(d.GetCells().GetConnectivityArray()).reshape(-1, 2)
        vid = pts["ttkVertexScalarField"]
        keep = (cells["PairType"] == 0) & (vid[conn[:, 0]] != vid[conn[:, 1]])
        return {"nodes": sorted(zip(nodes["VertexId"].tolist(), nodes["CriticalType"].tolist())),
                "pairs": sorted([int(vid[a]), int(vid[b]), int(f), float(p)] for (a, b), f, p in
                                zip(conn[keep], cells["IsFinite"][keep], cells["Persistence"][keep]))}

    def ours(inp):
        tree = pv.LandscapeMergeTree(Input=inp, ScalarField=["POINTS", "Loss"])
        return tree, pv.LandscapePersistenceDiagram(Input=inp, ScalarField=["POINTS", "Loss"])

    def theirs(inp):
        tree = pipelines.ttk_filter(ttk.merge_tree, inp, "Loss", "TTKTree")
        return tree, pipelines.ttk_filter(ttk.persistence_diagram, inp, "Loss", "TTKDiagram")

    def simplified(kind, inp, threshold):
        if kind == "ours":
            return pv.LandscapeTopologicalSimplification(Input=inp, InputArray=["POINTS", "Loss"],
                                                         PersistenceThreshold=threshold)
        return pipelines.ttk_filter(ttk.simplification, inp, "Loss", "TTKSimplification",
                                    PersistenceThreshold=threshold)

    src = pv.LossLandscape(Checkpoint=ckpt, Directions=0, DirectionSeed=3, Span=2.0, Resolution=9, Samples=64)
    reader = pv.LossLandscapeReader(FileName=landscape)
    result = {}
    for name, proxy in (("source", src), ("reader", reader)):
        for rep in (0, 1):  # image, kNN graph
            proxy.Representation = rep
            if rep == 1:
                proxy.K = 8
            label = f"{name}_{'image' if rep == 0 else 'graph'}"
            data = fetch(proxy)
            fin = dataset_topology(data).pairs
            pers = np.sort(fin.persistence[fin.finite])
            threshold = float(pers[len(pers) // 2]) if len(pers) else 0.0  # removes about half the pairs
            res = {"class": data.GetClassName(), "threshold": threshold}
            res["ours"] = summary(*ours(proxy), 0)
            res["ttk"] = summary(*theirs(proxy), ttk.nodes_port)
            for simp in ("ours", "ttk"):
                s = simplified(simp, proxy, threshold)
                order = arrays(fetch(s)).get("Loss_Order")
                res[f"{simp}_simplified_has_order"] = order is not None
                res[f"{simp}_simplified_ours"] = summary(*ours(s), 0)
                res[f"{simp}_simplified_ttk"] = summary(*theirs(s), ttk.nodes_port)
            result[label] = res
            print("DONE", label, flush=True)
    (out / "result.json").write_text(json.dumps(result))
''')


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plugin_ttk")
    env = dict(os.environ, LOSSTOPO_CACHE=str(tmp / "cache"))
    ckpt = tmp / "model.pt"
    res = subprocess.run([sys.executable, "-m", "losstopo", "train", "--model", "mlp", "--data", "digits",
                          "--epochs", "1", "--out", str(ckpt)], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    script = tmp / "probe.py"
    script.write_text(SCRIPT)
    from losstopo.paraview.env import paraview_environment

    res = run_pvpython(script, str(ckpt), str(LANDSCAPE), str(tmp), env=paraview_environment(env), timeout=600)
    assert res.returncode == 0 and (tmp / "result.json").exists(), res.stdout[-2000:] + res.stderr[-3000:]
    return json.loads((tmp / "result.json").read_text())


INPUTS = ["source_image", "source_graph", "reader_image", "reader_graph"]


def _same(a: dict, b: dict) -> None:
    assert a["nodes"] == b["nodes"]
    assert [p[:3] for p in a["pairs"]] == [p[:3] for p in b["pairs"]]  # birth, death vertex; finite
    fa = [p[3] for p in a["pairs"] if p[2]]
    fb = [p[3] for p in b["pairs"] if p[2]]
    assert fa == pytest.approx(fb, rel=1e-6, abs=0)  # the diagram's values are in the input's type


@pytest.mark.parametrize("label", INPUTS)
def test_both_representations_reach_ttk(result, label):
    assert result[label]["class"] == ("vtkImageData" if label.endswith("image") else "vtkUnstructuredGrid")
    assert len(result[label]["ttk"]["nodes"]) >= 2


@pytest.mark.parametrize("label", INPUTS)
def test_ttks_filters_equal_the_plugins(result, label):
    _same(result[label]["ours"], result[label]["ttk"])


@pytest.mark.parametrize("label", INPUTS)
@pytest.mark.parametrize("simplification", ["ours", "ttk"])
@pytest.mark.parametrize("downstream", ["ours", "ttk"])
def test_simplification_chains_agree(result, label, simplification, downstream):
    """TTK's chain is the reference; the plugin's chain and both crossed chains must give its topology."""
    r = result[label]
    assert r[f"{simplification}_simplified_has_order"]  # both write TTK's order array
    _same(r[f"{simplification}_simplified_{downstream}"], r["ttk_simplified_ttk"])


def test_the_reader_landscape_loses_pairs_to_simplification(result):
    r = result["reader_image"]
    assert len(r["ttk_simplified_ttk"]["pairs"]) < len(r["ttk"]["pairs"])
    assert sum(t == 0 for _, t in r["ttk_simplified_ttk"]["nodes"]) >= 1
