"""The examples under examples/ run as scripts and produce a landscape and its topology."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from losstopo.landscape import load_landscape

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow  # each trains a small model first: about 10 s on a busy 2-core machine
@pytest.mark.parametrize("name, loss", [("own_mlp_moons", "cross_entropy"), ("regression", "mse"),
                                        ("pinn_closure", "residual")])
def test_example_runs_and_writes_a_landscape(tmp_path, name, loss):
    res = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), str(tmp_path)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "topology: {'minima': " in res.stdout
    ls = load_landscape(tmp_path / "landscape")
    assert ls.meta["loss"].startswith(loss) and ls.loss.shape == (441,) and np.isfinite(ls.loss).all()
    centre = ls.loss[220]  # trained weights: the lowest point of the grid
    assert centre == ls.loss.min() and (tmp_path / "weights.pt").exists()
