"""`losstopo landscape --model FILE.py:FUNCTION --weights W --data FILE.py:FUNCTION` through the real executable:
it equals the Python API, and every way the files can be wrong is one line, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import losstopo
from losstopo.landscape import load_landscape
from losstopo.models.checkpoint import save_checkpoint
from losstopo.models.zoo import build_model

LOSSTOPO = Path(sys.executable).with_name("losstopo")

USER_FILE = '''
import torch
from torch import nn

def build_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))

def make_data():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(64, 3, generator=g)
    return X, (X[:, 0] > 0).long()

def make_regression_data():
    X = torch.linspace(-1, 1, 32)[:, None].repeat(1, 3)
    return X, torch.zeros(32, 2)

def l1_loss(outputs, targets):
    return (outputs - targets).abs().mean()

def returns_int():
    return 3

def raises():
    raise ValueError("no data today")

NOT_A_FUNCTION = 5
'''


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("user")
    (d / "mine.py").write_text(USER_FILE)
    (d / "broken.py").write_text("import torch\nraise RuntimeError('broken on import')\n")
    ns: dict = {}
    exec(USER_FILE, ns)
    model = ns["build_model"]()
    with torch.no_grad():
        model[0].weight.mul_(2.0)  # weights that are not the freshly built ones
    torch.save(model.state_dict(), d / "w.pt")
    torch.save(model, d / "module.pt")
    sd = model.state_dict()
    torch.save({k: v for k, v in sd.items() if k != "1.running_var"}, d / "missing.pt")
    torch.save({**sd, "extra.weight": torch.zeros(2)}, d / "unexpected.pt")
    torch.save({**sd, "3.weight": torch.zeros(3, 8)}, d / "shape.pt")
    (d / "text.pt").write_text("not weights")
    save_checkpoint(d / "zoo.pt", build_model("mlp", hidden=(4,)), {"model": "mlp", "model_kwargs": {"hidden": [4]}})
    return {"dir": d, "mine": d / "mine.py", "model": model, "data": ns["make_data"]()}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LOSSTOPO), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_cli_equals_the_python_api(files):
    d = files["dir"]
    res = run("landscape", "--model", "mine.py:build_model", "--weights", "w.pt", "--data", "mine.py:make_data",
              "--resolution", "5", "--threads", "1", "--out", "ls", "--quiet", cwd=d)
    assert res.returncode == 0, res.stderr
    ls = load_landscape(d / "ls")
    ref = losstopo.landscape(files["model"], files["data"], resolution=5, progress=False)
    assert np.array_equal(ls.loss, ref.loss) and np.array_equal(ls.accuracy, ref.accuracy)
    assert ls.meta["loss"].startswith("cross_entropy") and ls.meta["threads"] == 1
    assert (d / "ls" / "landscape.vti").exists() and "cross_entropy" in res.stdout


@pytest.mark.parametrize("weights", ["module.pt", "w.pt"])
def test_a_saved_module_and_a_custom_loss(files, weights):
    d = files["dir"]
    res = run("landscape", "--model", "mine.py:build_model", "--weights", weights, "--data",
              "mine.py:make_regression_data", "--loss", "mine.py:l1_loss", "--resolution", "3", "--out",
              f"ls-{weights}", "--quiet", cwd=d)
    assert res.returncode == 0, res.stderr
    ls = load_landscape(d / f"ls-{weights}")
    X = torch.linspace(-1, 1, 32)[:, None].repeat(1, 3)
    ref = losstopo.landscape(files["model"], (X, torch.zeros(32, 2)), lambda o, t: (o - t).abs().mean(),
                             resolution=3, progress=False)
    assert ls.meta["loss"] == "l1_loss" and np.allclose(ls.loss, ref.loss, rtol=1e-12, atol=0)


BAD = [
    (["--model", "nowhere.py:build_model", "--data", "mine.py:make_data"], "file nowhere.py does not exist"),
    (["--model", "mine.py:build_modle", "--data", "mine.py:make_data"], "has no function 'build_modle'"),
    (["--model", "mine.py", "--data", "mine.py:make_data"], "is not FILE.py:FUNCTION"),
    (["--model", "mine.py:NOT_A_FUNCTION", "--data", "mine.py:make_data"], "not a function"),
    (["--model", "mine.py:returns_int", "--data", "mine.py:make_data"], "returned a int, not a torch.nn.Module"),
    (["--model", "broken.py:f", "--data", "mine.py:make_data"], "running broken.py failed (RuntimeError"),
    (["--model", "mine.py:build_model", "--data", "mine.py:returns_int"], "returned a int, not data"),
    (["--model", "mine.py:build_model", "--data", "mine.py:raises"], "calling it failed (ValueError: no data"),
    (["--model", "mine.py:build_model", "--data", "mine.py:make_data", "--weights", "gone.pt"], "does not exist"),
    (["--model", "mine.py:build_model", "--data", "mine.py:make_data", "--weights", "missing.pt"],
     "missing key '1.running_var'"),
    (["--model", "mine.py:build_model", "--data", "mine.py:make_data", "--weights", "unexpected.pt"],
     "unexpected key 'extra.weight'"),
    (["--model", "mine.py:build_model", "--data", "mine.py:make_data", "--weights", "shape.pt"],
     "'3.weight' has shape [3, 8], the model's [2, 8]"),
    (["--model", "mine.py:build_model", "--data", "mine.py:make_data", "--weights", "text.pt"], "not a PyTorch file"),
    (["--model", "mine.py:build_model", "--data", "mine.py:make_data", "--weights", "zoo.pt"], "does not fit"),
    (["--model", "mine.py:build_model"], "--model needs --data"),
    (["--data", "mine.py:make_data"], "no model given"),
    (["zoo.pt", "--data", "mine.py:make_data"], "--data needs --model"),
    (["--model", "mine.py:build_model", "--data", "mine.py:make_data", "--loss", "mine.py:nope"],
     "has no function 'nope'"),
    (["--model", "mine.py:build_model", "--data", "mine.py:make_data", "--threads", "0"], "threads must be at least 1"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[m for _, m in BAD])
def test_bad_user_files_are_one_line_and_exit_2(files, args, message):
    res = run("landscape", *args, "--resolution", "3", "--out", "bad", "--quiet", cwd=files["dir"])
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1 and lines[0].startswith("losstopo: error: ") and message in lines[0], res.stderr
    assert "Traceback" not in res.stderr and not (files["dir"] / "bad").exists()
