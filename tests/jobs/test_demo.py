"""`losstopo demo` (what `make demo` runs): two models side by side, on a small grid."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import needs_pvpython
from losstopo.cli import main
from losstopo.errors import LossTopoError
from losstopo.landscape.files import load_landscape
from references import ttk_minima_2d


def pixel_std(path) -> float:
    """Standard deviation of a PNG's RGB values: about 0 for a blank (single-colour) picture."""
    import matplotlib.image as mpimg

    img = np.asarray(mpimg.imread(path), dtype=float)
    return float(img[..., :3].std())


@pytest.mark.slow
@pytest.mark.paraview
@needs_pvpython
def test_demo_compares_two_models_with_figure_and_renders(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--resolution", "7", "--quiet", "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert "difference:" in printed and "ResNet-20-noshort" in printed
    meta = json.loads((out / "demo.json").read_text())
    assert meta["threads"] == 1 and meta["threads_set"] is True
    assert pixel_std(out / "comparison.png") > 0.05
    for model, sub in zip(meta["models"], ("", "noshort")):
        folder = out / sub if sub else out
        assert model["folder"] == str(folder)
        for name in ("model.pt", "metrics.json", "landscape/landscape.npz", "landscape/landscape.vti",
                     "topology_image/topology.json", "topology_image/merge_tree.png",
                     "topology_graph/topology.json"):
            assert (folder / name).is_file(), (sub, name)
        renders = sorted((folder / "render").glob("*/*.png"))
        assert {p.parent.name for p in renders} == {"merge_tree", "persistence_diagram"}
        assert renders and all(str(p) in printed for p in renders)
        for png in renders:
            assert pixel_std(png) > 0.02, png  # pvpython drew something, not an empty view
        ls = load_landscape(folder / "landscape")
        assert ls.loss.shape == (49,) and np.all(np.isfinite(ls.loss))
        image = json.loads((folder / "topology_image" / "topology.json").read_text())
        assert image["minima"] == ttk_minima_2d(ls.loss, 7, 7) == model["image"]["minima"]
        assert len(image["pairs"]) == image["minima"]
        assert 0.0 < model["test_accuracy"] <= 1.0 and model["hessian_trace_stderr"] > 0
    # A second run reuses the models and the landscapes (idempotent), byte for byte.
    before = [(out / p).read_bytes() for p in ("model.pt", "noshort/model.pt", "landscape/landscape.npz")]
    assert main(["demo", "--out", str(out), "--resolution", "7", "--quiet", "--no-render"]) == 0
    assert before == [(out / p).read_bytes() for p in ("model.pt", "noshort/model.pt", "landscape/landscape.npz")]


def test_demo_refuses_bad_settings_before_training(tmp_path):
    from losstopo.jobs.demo import run_demo

    for kwargs, words in ((dict(depth=21), "6n"), (dict(threads=0), "threads"), (dict(resolution=2), "resolution")):
        with pytest.raises(LossTopoError, match=words):
            run_demo(tmp_path / "d", show_progress=False, **kwargs)
        assert not (tmp_path / "d" / "model.pt").exists()
