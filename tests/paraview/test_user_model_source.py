"""The ParaView Loss Landscape source with a user's model file gives the CLI's landscape; bad files are one
message in ParaView's output, not a crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import needs_pvpython, run_pvpython

pytestmark = [needs_pvpython, pytest.mark.paraview, pytest.mark.slow]

USER_FILE = textwrap.dedent('''
    import torch
    from torch import nn

    def build_model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1))

    def make_data():
        X = torch.linspace(-1, 1, 40)[:, None].repeat(1, 2)
        return X, torch.sin(3 * X[:, :1])
''')

PV_SCRIPT = textwrap.dedent(r'''
    import sys
    from pathlib import Path
    from paraview import simple as pv
    from losstopo import vtkio
    from losstopo.paraview.scripts import pipelines

    pipelines.ensure_plugin()
    folder = Path(sys.argv[1])
    mine = str(folder / "mine.py")
    src = pv.LossLandscape(Model=mine + ":build_model", Weights=str(folder / "w.pt"), Data=mine + ":make_data",
                           Directions=1, DirectionSeed=0, Span=0.5, Resolution=5)
    src.UpdatePipeline()
    vtkio.write(folder / "source.vti", pv.servermanager.Fetch(src))
    print("ALIVE source", flush=True)
    pv.LossLandscape(Model=str(folder / "nowhere.py") + ":f", Data=mine + ":make_data").UpdatePipeline()
    print("ALIVE missing file", flush=True)
    pv.LossLandscape(Model=mine + ":build_model", Data=mine + ":build_model").UpdatePipeline()
    print("ALIVE wrong data", flush=True)
    print("DONE", flush=True)
''')


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("pvuser")
    (d / "mine.py").write_text(USER_FILE)
    ns: dict = {}
    exec(USER_FILE, ns)
    model = ns["build_model"]()
    with torch.no_grad():
        model[0].weight.add_(0.5)
    torch.save(model.state_dict(), d / "w.pt")
    cli = subprocess.run([str(Path(sys.executable).with_name("losstopo")), "landscape", "--model",
                          "mine.py:build_model", "--weights", "w.pt", "--data", "mine.py:make_data", "--span", "0.5",
                          "--resolution", "5", "--out", "cli", "--quiet"], cwd=d, capture_output=True, text=True,
                         timeout=300)
    assert cli.returncode == 0, cli.stderr
    script = d / "probe.py"
    script.write_text(PV_SCRIPT)
    return {"dir": d, "res": run_pvpython(script, str(d))}


def test_source_with_a_user_model_equals_the_cli(run):
    from vtkmodules.util.numpy_support import vtk_to_numpy

    from losstopo import vtkio
    from losstopo.landscape import load_landscape

    res = run["res"]
    assert "ALIVE source" in res.stdout, res.stdout[-2000:] + res.stderr[-3000:]
    img = vtkio.read(run["dir"] / "source.vti")
    cli = load_landscape(run["dir"] / "cli")
    assert img.GetDimensions() == (5, 5, 1) and cli.meta["loss"].startswith("mse")
    # equal up to float32 rounding: pvpython and the CLI run torch with other thread counts (1e-7 measured)
    assert np.allclose(vtk_to_numpy(img.GetPointData().GetArray("Loss")), cli.loss, rtol=1e-6, atol=0)


@pytest.mark.parametrize("tag, message", [("missing file", "nowhere.py does not exist"),
                                          ("wrong data", "returned a Sequential, not data")])
def test_bad_user_files_are_paraview_messages(run, tag, message):
    res = run["res"]
    assert f"ALIVE {tag}" in res.stdout and "DONE" in res.stdout, res.stdout[-2000:] + res.stderr[-3000:]
    assert message in res.stderr and "Traceback" not in res.stderr
