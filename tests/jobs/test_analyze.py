"""`losstopo analyze` end to end: numbers equal TTK's, outputs read back, bad input is one line + exit 2.

References: real TTK's outputs for our fixtures (tests/data, made by tests/data/make_data.py with both TTK
builds), TTK's CSVs for the third-party losslens landscapes where $LOSSTOPO_REFERENCE names them, and an
analytic tilted double well whose minima and saddle are known in closed form.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, REFERENCE, needs_pvpython, needs_reference, run_pvpython
from losstopo import cli, names, vtkio
from losstopo.jobs.analyze import analyze_path
from losstopo.landscape.files import Landscape, save_landscape
from losstopo.vtkio import landscape_to_vtk
from references import data_manifest, ttk_outputs, ttk_zero_dim_pairs

LOSSLENS = REFERENCE / "losslens"
CASES_DIR = DATA / "cases"
# A losstopo landscape with several basins, 2-D ties, and the landscape's 8-NN graph.
DATA_CASES = ["landscape_resnet56_noshort", "ties2d_50x30", "landscape_resnet56_noshort_knn8"]
BUILDS = data_manifest()["builds"]
# Losslens: one plain case and one whose join tree has a degenerate node (3 branches merging).
CASES = ["pinn_beta1.0_seed0", "resnet20_nores_seed123456_random_d0.5"]


def _file(name: str) -> Path:
    return CASES_DIR / next(c["file"] for c in data_manifest()["cases"] if c["name"] == name)


@pytest.fixture(scope="module")
def data_runs(tmp_path_factory):
    out = {}
    for name in DATA_CASES:
        d = tmp_path_factory.mktemp(name)
        out[name] = (d, analyze_path(_file(name), d, backend="builtin"))
    return out


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("name", DATA_CASES)
def test_numbers_equal_real_ttk_outputs(data_runs, name, build):
    ttk = ttk_outputs(name, build)
    if ttk is None:
        pytest.skip(f"TTK {build} failed on {name} when the fixtures were made (tests/data/manifest.json)")
    d, s = data_runs[name]
    types = ttk["tree0/point/CriticalType"].tolist()
    assert s["backend"] == "builtin" and s["n_vertices"] == len(ttk["tree2/point/SegmentationId"])
    assert s["minima"] == types.count(0)
    assert s["saddles"] == types.count(1) + types.count(4)
    assert s["degenerate_saddles"] == types.count(4)
    assert {(n["vertex"], n["type"]) for n in s["merge_tree"]["nodes"]} == \
        set(zip(ttk["tree0/point/VertexId"].tolist(), types))
    pairs = ttk_zero_dim_pairs(ttk)
    ours = [(p["birth_vertex"], p["death_vertex"]) for p in s["pairs"]]
    assert sorted(bv for bv, _ in ours) == sorted(bv for bv, _ in pairs)  # the same minima are born
    finite_ours = sorted((p["birth_vertex"], p["death_vertex"]) for p in s["pairs"] if p["finite"])
    finite_ttk = sorted(p for p, f in zip(pairs, _finite_flags(ttk)) if f)
    assert finite_ours == finite_ttk
    # persistence of TTK's pairs, exact values looked up in the input by vertex id
    v = vtkio.scalar_field(vtkio.read(_file(name)), names.LOSS)
    ttk_pers = sorted(v[dv] - v[bv] for (bv, dv), f in zip(pairs, _finite_flags(ttk)) if f)
    assert sorted(p["death"] - p["birth"] for p in s["pairs"] if p["finite"]) == pytest.approx(ttk_pers, rel=1e-12)
    assert json.loads((d / "topology.json").read_text()) == s


def _finite_flags(ttk: dict) -> list[bool]:
    """IsFinite of TTK's 0-dim pairs, in ttk_zero_dim_pairs' order."""
    vid = ttk["diagram/point/ttkVertexScalarField"]
    conn = ttk["diagram/cells/connectivity"].reshape(-1, 2)
    keep = [c for c in np.flatnonzero(ttk["diagram/cell/PairType"] == 0)
            if vid[conn[c, 0]] != vid[conn[c, 1]]]
    return [bool(ttk["diagram/cell/IsFinite"][c]) for c in keep]


def test_image_outputs_read_back(data_runs):
    d, s = data_runs[DATA_CASES[0]]
    nodes = vtkio.read(d / "merge_tree_nodes.vtu")
    assert nodes.GetNumberOfPoints() == len(s["merge_tree"]["nodes"])
    vertex_ids = vtkio.point_arrays(nodes)[names.VERTEX_ID].tolist()
    assert vertex_ids == [n["vertex"] for n in s["merge_tree"]["nodes"]]
    arcs = vtkio.read(d / "merge_tree_arcs.vtu")
    assert arcs.GetNumberOfCells() == len(s["merge_tree"]["arcs"])
    seg = vtkio.read(d / "segmentation.vti")
    assert seg.GetNumberOfPoints() == 1681 and seg.GetDimensions() == (41, 41, 1)
    assert vtkio.point_arrays(seg)[names.SEGMENTATION_ID].max() == len(s["merge_tree"]["arcs"]) - 1
    diagram = vtkio.read(d / "persistence_diagram.vtu")
    assert diagram.GetNumberOfCells() == len(s["pairs"]) + 1
    for png in ("landscape.png", "merge_tree.png", "persistence_diagram.png"):
        data = (d / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert [p.name for p in d.glob(".*")] == [".losstopo.lock"]  # no temporary files left behind, the lock stays
    assert sorted(s["files"].values()) == sorted(p.name for p in d.iterdir()
                                                 if p.name not in ("topology.json", ".losstopo.lock"))


def ttk_csv(name: str) -> tuple[list[dict], list[tuple[int, int, float, float]]]:
    with open(LOSSLENS / f"{name}.mergetree.csv", newline="") as f:
        nodes = list(csv.DictReader(f))
    with open(LOSSLENS / f"{name}.persistence.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    pairs = [(int(rows[i]["ttkVertexScalarField"]), int(rows[i + 1]["ttkVertexScalarField"]),
              float(rows[i]["Points:0"]), float(rows[i + 1]["Points:1"]))
             for i in range(0, len(rows), 2) if int(rows[i]["CriticalType"]) == 0]
    return nodes, pairs


@needs_reference
@pytest.mark.parametrize("name", CASES)
def test_published_landscape_numbers_equal_ttk(tmp_path, name):
    s = analyze_path(LOSSLENS / f"{name}.vti", tmp_path, backend="builtin", pictures=False)
    nodes, pairs = ttk_csv(name)
    types = [int(r["CriticalType"]) for r in nodes]
    assert s["connectivity"] == "image" and s["n_vertices"] == 1600
    assert (s["minima"], s["saddles"], s["degenerate_saddles"], s["maxima"]) == (
        types.count(0), types.count(1) + types.count(4), types.count(4), types.count(3))
    ours = [(p["birth_vertex"], p["death_vertex"]) for p in s["pairs"]]
    assert ours[0] == pairs[0][:2] and s["pairs"][0]["finite"] is False
    assert sorted(ours) == sorted(p[:2] for p in pairs)
    v = vtkio.scalar_field(vtkio.read(LOSSLENS / f"{name}.vti"), names.LOSS)
    ttk_pers = [v[dv] - v[bv] for bv, dv, _, _ in pairs]
    assert s["average_persistence"] == pytest.approx(np.mean(ttk_pers), rel=1e-12)
    assert {(n["vertex"], n["type"]) for n in s["merge_tree"]["nodes"]} == \
        {(int(r["VertexId"]), int(r["CriticalType"])) for r in nodes}


@pytest.mark.slow
def test_graph_file_and_rebuilt_knn_graph_give_the_same_topology(tmp_path):
    """The fixture's exact 8-NN graph (a .vtu) and the graph analyze rebuilds from its points agree, and
    both equal real TTK's outputs for that graph."""
    path = _file("knn_scatter_800")
    results = {}
    for rep, sub in ((None, "file"), ("knn", "knn")):
        s = analyze_path(path, tmp_path / sub, representation=rep, k=8, backend="builtin", pictures=(rep == "knn"))
        assert s["connectivity"] == "graph"
        results[sub] = s
    pair_sets = [sorted((p["birth_vertex"], p["death_vertex"]) for p in r["pairs"]) for r in results.values()]
    assert pair_sets[0] == pair_sets[1]
    for build in BUILDS:
        ttk = ttk_outputs("knn_scatter_800", build)
        if ttk is not None:
            types = ttk["tree0/point/CriticalType"].tolist()
            assert results["file"]["minima"] == types.count(0)
            assert sorted(bv for bv, _ in ttk_zero_dim_pairs(ttk)) == sorted(bv for bv, _ in pair_sets[0])
    s = results["knn"]
    assert s["knn"]["k"] == 8 and s["knn"]["recall"] == 1.0
    graph = vtkio.read(tmp_path / "knn" / "knn_graph.vtu")
    assert graph.GetNumberOfCells() == s["knn"]["n_edges"] == vtkio.read(path).GetNumberOfCells()
    assert vtkio.field_arrays(graph)[names.KNN_RECALL][0] == 1.0
    assert (tmp_path / "knn" / "segmentation.vtu").exists() and (tmp_path / "knn" / "landscape.png").exists()


def double_well(n: int = 21, span: float = 1.5) -> Landscape:
    """f = (x^2 - 1)^2 + y^2 + 0.1 x: two wells, the right one higher, a saddle of value 1 at (0, 0)."""
    a = np.linspace(-span, span, n)
    y, x = np.meshgrid(a, a, indexing="ij")
    coords = np.stack([x.ravel(), y.ravel()], axis=1)
    loss = (coords[:, 0] ** 2 - 1) ** 2 + coords[:, 1] ** 2 + 0.1 * coords[:, 0]
    loss[0] = np.inf  # a diverged corner: must not create a minimum
    return Landscape(coords=coords, loss=loss, accuracy=np.zeros_like(loss), resolution=(n, n), span=span)


@pytest.mark.parametrize("knn", [None, 8])
def test_landscape_folder_double_well(tmp_path, knn):
    ls = double_well()
    save_landscape(tmp_path / "land", ls)
    s = analyze_path(tmp_path / "land", tmp_path / "out", representation=None if knn is None else "knn",
                     k=knn or 8, backend="builtin", pictures=False)
    assert s["connectivity"] == ("image" if knn is None else "graph")
    assert s["n_nonfinite"] == 1 and s["minima"] == 2 and s["saddles"] == 1
    finite = np.where(np.isfinite(ls.loss), ls.loss, np.inf)
    left, right = finite[ls.coords[:, 0] < 0].min(), finite[ls.coords[:, 0] > 0].min()
    glob_pair, pair = s["pairs"]
    assert glob_pair["birth"] == left and not glob_pair["finite"]
    assert pair["birth"] == right and pair["death"] == 1.0 and pair["finite"]
    assert ls.coords[pair["death_vertex"]].tolist() == [0.0, 0.0]


# ----------------------------------------------------------------------------- bad input: one line, exit 2

def _bad_inputs(tmp: Path) -> dict[str, list[str]]:
    ref = _file(DATA_CASES[0])
    (tmp / "empty.vti").write_bytes(b"")
    data = ref.read_bytes()
    (tmp / "truncated.vti").write_bytes(data[: len(data) // 2])
    garbage = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    (tmp / "garbage.vtu").write_bytes(garbage)
    vec = vtkio.make_image((4, 4), (0, 0), (1, 1), {"Vec": np.ones((16, 3)), names.LOSS: np.arange(16.0)})
    vtkio.write(tmp / "vec.vti", vec)
    (tmp / "a_file").write_text("x")
    (tmp / "no_landscape").mkdir()
    (tmp / "notes.txt").write_text("x")
    out = str(tmp / "out")
    return {
        "missing": [str(tmp / "missing.vti"), "--out", out],
        "empty": [str(tmp / "empty.vti"), "--out", out],
        "truncated": [str(tmp / "truncated.vti"), "--out", out],
        "unreadable": [str(tmp / "garbage.vtu"), "--out", out],
        "unsupported": [str(tmp / "notes.txt"), "--out", out],
        "no landscape in folder": [str(tmp / "no_landscape"), "--out", out],
        "array missing": [str(ref), "--array", "Nope", "--out", out],
        "several components": [str(tmp / "vec.vti"), "--array", "Vec", "--out", out],
        "k >= points": [str(ref), "--representation", "knn", "--k", "1681", "--out", out],
        "k not positive": [str(ref), "--representation", "knn", "--k", "0", "--out", out],
        "negative simplify": [str(ref), "--simplify", "-1", "--out", out],
        "out is a file": [str(ref), "--out", str(tmp / "a_file")],
        "out not creatable": [str(ref), "--out", str(tmp / "a_file" / "sub")],
    }


def test_bad_inputs_are_one_line_and_exit_2(tmp_path, capfd):
    for case, argv in _bad_inputs(tmp_path).items():
        try:
            rc = cli.main(["analyze", *argv, "--backend", "builtin", "--no-pictures"])
        except SystemExit as e:  # argparse's own errors exit from inside main (the real CLI's exit code)
            rc = e.code
        out, err = capfd.readouterr()
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert rc == 2, (case, err)
        assert len(lines) == 1 and lines[0].startswith("losstopo"), (case, err)
        assert "Traceback" not in err and "error:" in lines[0], (case, err)
    assert not (tmp_path / "out" / "topology.json").exists()


_PV_READ = """
import json, sys
from paraview.simple import OpenDataFile, servermanager
out = {}
for path in sys.argv[1:]:
    data = servermanager.Fetch(OpenDataFile(path))
    pd, cd = data.GetPointData(), data.GetCellData()
    out[path.rsplit("/", 1)[-1]] = {
        "points": data.GetNumberOfPoints(), "cells": data.GetNumberOfCells(),
        "point_arrays": sorted(pd.GetArrayName(i) for i in range(pd.GetNumberOfArrays())),
        "cell_arrays": sorted(cd.GetArrayName(i) for i in range(cd.GetNumberOfArrays()))}
print("RESULT" + json.dumps(out))
"""


@needs_pvpython
@pytest.mark.paraview
def test_plain_paraview_reads_every_output(data_runs, tmp_path):
    d, s = data_runs[DATA_CASES[0]]
    script = tmp_path / "read.py"
    script.write_text(_PV_READ)
    files = ["merge_tree_nodes.vtu", "merge_tree_arcs.vtu", "segmentation.vti", "persistence_diagram.vtu"]
    graph, _conn, info = landscape_to_vtk(double_well(n=9), "knn", 8)
    vtkio.write(tmp_path / "knn_graph.vtu", graph)
    proc = run_pvpython(script, *(str(d / f) for f in files), str(tmp_path / "knn_graph.vtu"), timeout=120)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    assert line, proc.stderr[-2000:]
    seen = json.loads(line[len("RESULT"):])
    n_nodes, n_pairs = len(s["merge_tree"]["nodes"]), len(s["pairs"])
    assert seen["merge_tree_nodes.vtu"]["points"] == n_nodes
    assert {names.NODE_ID, names.VERTEX_ID, names.CRITICAL_TYPE, names.SCALAR} <= \
        set(seen["merge_tree_nodes.vtu"]["point_arrays"])
    assert seen["merge_tree_arcs.vtu"]["cells"] == n_nodes - 1
    assert {names.UP_NODE_ID, names.DOWN_NODE_ID} <= set(seen["merge_tree_arcs.vtu"]["cell_arrays"])
    assert seen["segmentation.vti"]["points"] == 1681
    assert names.SEGMENTATION_ID in seen["segmentation.vti"]["point_arrays"]
    assert seen["persistence_diagram.vtu"]["cells"] == n_pairs + 1
    assert names.PAIR_IDENTIFIER in seen["persistence_diagram.vtu"]["cell_arrays"]
    assert seen["knn_graph.vtu"]["points"] == 81 and seen["knn_graph.vtu"]["cells"] == info["n_edges"]
    assert {names.LOSS, names.RAW_LOSS, names.VALID_MASK} <= set(seen["knn_graph.vtu"]["point_arrays"])


@pytest.mark.parametrize("build", BUILDS)
def test_volume_counts_equal_ttk_and_pictures_are_drawn(tmp_path, build):
    ttk = ttk_outputs("rough3d_16x12x10", build)
    if ttk is None:
        pytest.skip(f"TTK {build} failed on rough3d_16x12x10 when the fixtures were made")
    s = analyze_path(_file("rough3d_16x12x10"), tmp_path, backend="builtin")
    types = ttk["tree0/point/CriticalType"].tolist()
    assert s["grid_dims"] == [16, 12, 10] and s["minima"] == types.count(0)
    assert s["saddles"] == types.count(1) + types.count(4) and s["maxima"] == types.count(3)
    assert vtkio.read(tmp_path / "segmentation.vti").GetDimensions() == (16, 12, 10)
    assert (tmp_path / "landscape.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("build", BUILDS)
def test_simplify_keeps_exactly_the_pairs_above_the_threshold(tmp_path, build):
    """Threshold halfway between two of TTK's persistence values: the minima left are the pairs above it."""
    name = "smooth2d_64x48"  # eight basins of different depths
    ttk = ttk_outputs(name, build)
    if ttk is None:
        pytest.skip(f"TTK {build} failed on {name} when the fixtures were made")
    path = _file(name)
    v = vtkio.scalar_field(vtkio.read(path), names.LOSS)
    pairs = [p for p, f in zip(ttk_zero_dim_pairs(ttk), _finite_flags(ttk)) if f]
    pers = sorted(v[dv] - v[bv] for bv, dv in pairs)
    threshold = 0.5 * (pers[2] + pers[3])
    s = analyze_path(path, tmp_path, simplify=threshold, backend="builtin", pictures=False)
    kept = sorted((bv, dv) for bv, dv in pairs if v[dv] - v[bv] > threshold)
    assert s["minima"] == len(kept) + 1 and s["simplify"]["threshold"] == threshold
    assert sorted((p["birth_vertex"], p["death_vertex"]) for p in s["pairs"][1:]) == kept
    seg = vtkio.point_arrays(vtkio.read(tmp_path / "segmentation.vti"))
    assert not np.array_equal(seg[names.LOSS], v)  # the segmentation carries the simplified field, as TTK's
    rel = analyze_path(path, tmp_path / "rel", simplify=threshold / np.ptp(v),
                       simplify_relative=True, backend="builtin", pictures=False)
    assert rel["minima"] == s["minima"]
