"""`losstopo demo` (what `make demo` runs) produces every promised output, on a small grid."""

from __future__ import annotations

import json

import numpy as np
import pytest

from losstopo.cli import main
from losstopo.landscape.files import load_landscape
from references import ttk_minima_2d



@pytest.mark.slow
def test_demo_writes_model_landscape_pictures_and_topology(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--resolution", "7", "--quiet"]) == 0
    printed = capsys.readouterr().out
    for name in ("model.pt", "landscape/landscape.npz", "landscape/landscape.vti", "landscape.png",
                 "topology_image/topology.json", "topology_image/merge_tree.png",
                 "topology_graph/topology.json", "topology_graph/persistence_diagram.vtu"):
        assert (out / name).is_file(), name
        assert str(out / name.split("/")[0]) in printed
    ls = load_landscape(out / "landscape")
    assert ls.loss.shape == (49,) and np.all(np.isfinite(ls.loss))
    image = json.loads((out / "topology_image" / "topology.json").read_text())
    assert image["minima"] == ttk_minima_2d(ls.loss, 7, 7)
    assert len(image["pairs"]) == image["minima"]  # one 0-dimensional pair per minimum
    assert image["saddles"] <= image["minima"] - 1  # every extra minimum dies at a saddle (some merge 3+)
    # A second run reuses the model and the landscape (idempotent), byte for byte.
    before = (out / "model.pt").read_bytes(), (out / "landscape" / "landscape.npz").read_bytes()
    assert main(["demo", "--out", str(out), "--resolution", "7", "--quiet"]) == 0
    assert before == ((out / "model.pt").read_bytes(), (out / "landscape" / "landscape.npz").read_bytes())
