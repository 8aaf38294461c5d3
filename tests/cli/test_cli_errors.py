"""Bad input to the real `losstopo` executable: one line on stderr, exit code 2, no traceback.

Runs the command as a user does (a subprocess), so argparse's own errors are covered as well as ours.
"""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    from losstopo.models.checkpoint import save_checkpoint

    path = tmp_path_factory.mktemp("ck") / "mlp.pt"
    from losstopo.models.train import train_model

    model, info = train_model("mlp", data="digits", seed=0, epochs=1, progress=False, samples=64)
    save_checkpoint(path, model, info)
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "losstopo", *args], capture_output=True, text=True, timeout=120)


CASES = {
    "unknown direction kind": (["landscape", "{ckpt}", "--directions", "sideways", "--out", "{tmp}/o"], "sideways"),
    "unknown model": (["train", "--model", "resnet999", "--out", "{tmp}/m.pt"], "resnet999"),
    "unknown data set": (["train", "--model", "mlp", "--data", "imagenet", "--out", "{tmp}/m.pt"], "imagenet"),
    "output folder not creatable": (["landscape", "{ckpt}", "--out", "/proc/losstopo-out"], "/proc/losstopo-out"),
    "span not a number": (["landscape", "{ckpt}", "--span", "wide", "--out", "{tmp}/o"], "wide"),
    "unknown subcommand": (["frobnicate"], "frobnicate"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_exit_2(case, ckpt, tmp_path):
    args, must_name = CASES[case]
    res = _run(*[a.format(ckpt=ckpt, tmp=tmp_path) for a in args])
    assert res.returncode == 2, (case, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, (case, res.stderr)
    assert "Traceback" not in res.stderr and "error" in lines[0]
    assert must_name in lines[0], (case, lines[0])
