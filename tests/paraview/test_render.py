"""pvpython batch rendering: the state files applied to fresh landscapes, checked pixel by pixel.

The persistence-diagram view must show one marker per pair at (birth, death): the markers are drawn in
pure red, their expected pixel positions come from the pairs `losstopo analyze` found (projected with
the view's own camera), and the red blobs in the PNG must match them one to one. The merge-tree view's
node markers are checked the same way against the layout's node positions; landscape views must be
mostly covered by the coloured surface. `losstopo render` is run end to end for both modes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import DATA, needs_pvpython

pytestmark = [needs_pvpython, pytest.mark.paraview, pytest.mark.slow]
REF = DATA / "cases" / "landscape_resnet56_noshort.vti"  # a losstopo landscape with several basins
MARKER = 12  # point size of the markers in pipelines.py

PROBE = textwrap.dedent(r'''
    import json, sys
    from pathlib import Path
    from paraview import simple as pv
    from vtkmodules.vtkRenderingCore import vtkCoordinate
    from losstopo.paraview.scripts import pipelines, render_state

    state, landscape, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    views = render_state.load_state(state, landscape)
    reader = next(s for s in pv.GetSources().values() if s.GetXMLName() == "LossLandscapeReader")
    result = {"reader_file": reader.FileName, "reader_points": reader.GetDataInformation().GetNumberOfPoints()}
    # (view, the markers drawn in it, the same markers in data coordinates: (birth, death) for the diagram)
    marked = {"persistence_diagram": ("PersistenceDiagramView", "PairMarkersView", "PairMarkers"),
              "merge_tree": ("MergeTreeView", "MergeTreeLayoutNodes", "MergeTreeLayoutNodes")}[
        state.stem.removesuffix("_ttk")]
    size = [800, 600]
    for name, view in views.items():
        view.ViewSize = size
        if name == marked[0]:  # only the markers, in pure unlit red
            for rep in view.Representations:
                rep.Visibility = 0
            view.AxesGrid.Visibility = 0
            src = pv.FindSource(marked[1])
            rep = pv.Show(src, view)
            rep.ColorArrayName = ["POINTS", ""]
            rep.AmbientColor = rep.DiffuseColor = [1.0, 0.0, 0.0]
            rep.Ambient, rep.Diffuse, rep.Specular = 1.0, 0.0, 0.0
            rep.Visibility = 1
        pipelines.fit_view(view)
        png = out / f"{name}.png"
        pv.SaveScreenshot(str(png), view, ImageResolution=size)
        result[name] = str(png)
        if name == marked[0]:
            shown = pv.servermanager.Fetch(pv.FindSource(marked[1]))
            data = pv.servermanager.Fetch(pv.FindSource(marked[2]))
            coord = vtkCoordinate()
            coord.SetCoordinateSystemToWorld()
            ren = view.GetRenderer()
            world = [data.GetPoint(i) for i in range(data.GetNumberOfPoints())]
            pixels = []
            for p in (shown.GetPoint(i) for i in range(shown.GetNumberOfPoints())):
                coord.SetValue(*p)
                x, y = coord.GetComputedDoubleDisplayValue(ren)
                pixels.append([x, size[1] - 1 - y])
            result["world"], result["pixels"] = world, pixels
    (out / "probe.json").write_text(json.dumps(result))
    print("DONE", flush=True)
''')


@pytest.fixture(scope="module")
def landscape(tmp_path_factory):
    """A landscape none of the states was made from: a reference .vti copied to a new place."""
    d = tmp_path_factory.mktemp("fresh")
    shutil.copy(REF, d / "fresh_landscape.vti")
    return d / "fresh_landscape.vti"


@pytest.fixture(scope="module")
def pairs(tmp_path_factory, landscape):
    out = tmp_path_factory.mktemp("analyze")
    subprocess.run([sys.executable, "-m", "losstopo", "analyze", str(landscape), "--out", str(out),
                    "--no-pictures"], check=True, capture_output=True)
    return json.loads((out / "topology.json").read_text())["pairs"]


def pvpython_headless(script, *args, timeout=300):
    """pvpython under xvfb-run the way `losstopo render` runs it (random display, retried if unreachable)."""
    from losstopo.paraview.launch import run_headless

    return run_headless(["pvpython", str(script), *args], timeout=timeout)


def _probe(tmp_path_factory, state, landscape):
    out = tmp_path_factory.mktemp(state)
    script = out / "probe.py"
    script.write_text(PROBE)
    from losstopo.paraview.env import state_path

    res = pvpython_headless(script, str(state_path(state)), str(landscape), str(out))
    assert res.returncode == 0 and "DONE" in res.stdout, res.stderr[-3000:]
    return json.loads((out / "probe.json").read_text())


@pytest.fixture(scope="module")
def diagram(tmp_path_factory, landscape):
    return _probe(tmp_path_factory, "persistence_diagram", landscape)


@pytest.fixture(scope="module")
def tree(tmp_path_factory, landscape):
    return _probe(tmp_path_factory, "merge_tree", landscape)


def _image(path):
    import matplotlib.image as mpimg

    img = mpimg.imread(path)[..., :3]
    assert img.shape[:2] == (600, 800)
    return img


def _red_blobs(img):
    from scipy import ndimage

    mask = (img[..., 0] > 0.8) & (img[..., 1] < 0.25) & (img[..., 2] < 0.25)
    labels, n = ndimage.label(mask)
    centres = ndimage.center_of_mass(mask, labels, range(1, n + 1))
    return mask, [(c[1], c[0]) for c in centres]


def _clusters(pixels, radius):
    """Single-linkage groups of expected marker positions closer than `radius` (overlapping markers)."""
    n = len(pixels)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i):
            if np.hypot(*(np.subtract(pixels[i], pixels[j]))) < radius:
                parent[find(i)] = find(j)
    return len({find(i) for i in range(n)})


def _check_markers(img, pixels):
    mask, blobs = _red_blobs(img)
    ys, xs = np.nonzero(mask)
    for x, y in pixels:  # every expected marker is drawn where it belongs
        assert np.min(np.hypot(xs - x, ys - y)) <= 3, (x, y)
    for bx, by in blobs:  # and nothing is drawn anywhere else
        assert min(np.hypot(bx - x, by - y) for x, y in pixels) <= MARKER, (bx, by)
    # one blob per marker, except where markers overlap (closer than their diameter) or touch
    assert _clusters(pixels, MARKER + 2) <= len(blobs) <= _clusters(pixels, 0.75 * MARKER)


def test_states_point_at_the_fresh_landscape(diagram, tree, landscape):
    for probe in (diagram, tree):
        assert probe["reader_file"] == str(landscape)
        assert probe["reader_points"] == 1681


def test_diagram_view_has_one_marker_per_pair(diagram, pairs):
    world = np.array(diagram["world"])
    expected = np.array(sorted((p["birth"], p["death"]) for p in pairs))
    got = np.array(sorted((x, y) for x, y, _ in world))
    assert got.shape == expected.shape and np.allclose(got, expected, rtol=1e-6)
    _check_markers(_image(diagram["PersistenceDiagramView"]), diagram["pixels"])


def test_tree_view_has_one_marker_per_node(tree):
    assert len(tree["pixels"]) >= 3
    _check_markers(_image(tree["MergeTreeView"]), tree["pixels"])


@pytest.mark.parametrize("probe_name", ["diagram", "tree"])
def test_landscape_views_show_the_coloured_surface(probe_name, request):
    img = _image(request.getfixturevalue(probe_name)["LandscapeView"])
    background = np.all(img > 0.97, axis=2)
    assert 0.1 < 1 - background.mean() < 0.9  # the surface covers a good part of the view, not all of it
    saturated = (img.max(axis=2) - img.min(axis=2)) > 0.15  # viridis colours, not grey
    assert saturated.mean() > 0.05


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "losstopo", *args], capture_output=True, text=True, timeout=600,
                          env=env)


def without_ttk() -> dict:
    """The environment with every TTK hidden (LOSSTOPO_TTK=0, which the pvpython side honours too, and
    none of this project's ways of pointing at a TTK build), whether or not one is installed."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("LOSSTOPO_TTK_PLUGIN", "PV_PLUGIN_PATH")}
    return dict(env, LOSSTOPO_TTK="0")


def test_losstopo_render_state_writes_a_png_per_view(tmp_path, landscape):
    res = _cli("render", "--state", "merge_tree", str(landscape), "--out", str(tmp_path),
               "--size", "400x300")
    assert res.returncode == 0, res.stderr[-3000:]
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["merge_tree_LandscapeView.png", "merge_tree_MergeTreeView.png"]
    for p in tmp_path.glob("*.png"):
        import matplotlib.image as mpimg

        img = mpimg.imread(p)[..., :3]
        assert img.shape[:2] == (300, 400)
        assert (~np.all(img > 0.97, axis=2)).mean() > 0.005, p.name  # not blank


def test_losstopo_render_errors_are_one_line(tmp_path, landscape):
    """Without TTK (hidden if installed: with TTK these states render, see test_render_ttk.py)."""
    res = _cli("render", "--state", "merge_tree_ttk", str(landscape), "--out", str(tmp_path), env=without_ttk())
    assert res.returncode == 2
    assert "TTK" in res.stderr and "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = _cli("render", str(landscape), "--backend", "ttk", "--out", str(tmp_path), env=without_ttk())
    assert res.returncode == 2 and "TTK is not loaded" in res.stderr and "Traceback" not in res.stderr
    res = _cli("render", "--state", "nope", str(landscape), "--out", str(tmp_path))
    assert res.returncode == 2 and "does not exist" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_losstopo_render_whole_pipeline(tmp_path, landscape):
    """Reader -> merge tree -> persistence diagram -> both layouts, and the metrics `losstopo analyze` gives."""
    res = _cli("render", str(landscape), "--out", str(tmp_path / "shots"), "--size", "400x300")
    assert res.returncode == 0, res.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "shots").glob("*.png")) == [
        "merge_tree_LandscapeView.png", "merge_tree_MergeTreeView.png",
        "persistence_diagram_LandscapeView.png", "persistence_diagram_PersistenceDiagramView.png"]
    got = json.loads((tmp_path / "shots" / "metrics.json").read_text())
    analyze = _cli("analyze", str(landscape), "--out", str(tmp_path / "analysis"), "--no-pictures")
    assert analyze.returncode == 0, analyze.stderr[-2000:]
    expected = json.loads((tmp_path / "analysis" / "topology.json").read_text())["metrics"]
    assert got["minima"] == expected["minima"] and got["saddles"] == expected["saddles"]
    assert got["average_persistence"] == pytest.approx(expected["average_persistence"])
