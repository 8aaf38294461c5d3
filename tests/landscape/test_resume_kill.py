"""Reliability: a landscape run killed with SIGKILL at several moments resumes to the exact same arrays.

Kill points are chosen by progress (number of finished chunks, plus a seeded random delay), not by
wall time, so the test does not depend on the machine's speed. The last kill waits until every chunk
exists, i.e. lands in (or just before) the writing of the final files.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from losstopo import names
from losstopo.models.checkpoint import save_checkpoint
from losstopo.landscape.compute import compute_landscape
from losstopo.vtkio import write_landscape_vti
from losstopo.landscape.files import load_landscape
from losstopo.models.zoo import build_model

REPO = Path(__file__).resolve().parents[1]
ARGS = ["--resolution", "7", "--span", "0.5", "--samples", "16", "--chunk-points", "4", "--compile", "off",
        "--quiet"]
N_CHUNKS = 13  # ceil(49 / 4)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    model = build_model("resnet20", in_channels=1)
    path = tmp_path_factory.mktemp("k") / "r20.pt"
    save_checkpoint(path, model, {"model": "resnet20", "model_kwargs": {"in_channels": 1}, "data": "digits"})
    return path


def _cmd(ckpt: Path, out: Path, resume: bool) -> list[str]:
    return [sys.executable, "-m", "losstopo", "landscape", str(ckpt), *ARGS, "--out", str(out)] + \
        (["--resume"] if resume else [])


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO / "python"))


def _chunks(out: Path) -> list[Path]:
    d = out / "chunks"
    return sorted(d.glob("chunk_*.npz")) if d.exists() else []


def _check_no_partial_final_files(out: Path) -> None:
    """Every file under a final name is complete; only dot-named temporaries may be partial."""
    for p in _chunks(out):
        with np.load(p) as z:
            assert len(z["loss"]) in (1, 4)
    if (out / names.LANDSCAPE_NPZ).exists():
        assert len(load_landscape(out).loss) == 49
    if (out / names.DIRECTIONS_PT).exists():
        torch.load(out / names.DIRECTIONS_PT, weights_only=True)


def _run_until(ckpt: Path, out: Path, resume: bool, n_chunks: int, delay: float) -> bool:
    """Start a run, SIGKILL it once `n_chunks` chunks exist (+delay); False if it finished first."""
    proc = subprocess.Popen(_cmd(ckpt, out, resume), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while proc.poll() is None and len(_chunks(out)) < n_chunks and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        if proc.poll() is not None:
            assert proc.returncode == 0, proc.stderr.read().decode()
            return False
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        return True
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_killed_runs_resume_to_identical_arrays(ckpt, tmp_path):
    rng = random.Random(1234)
    ref = compute_landscape(ckpt, resolution=7, span=0.5, samples=16, chunk_points=4, compile=False,
                            out_dir=tmp_path / "ref", resume=False, show_progress=False)
    write_landscape_vti(ref)
    killed = tmp_path / "killed"
    kills = 0
    for i, target in enumerate((2, 7, N_CHUNKS)):
        if _run_until(ckpt, killed, resume=kills > 0, n_chunks=target, delay=rng.uniform(0.0, 0.05)):
            kills += 1
        _check_no_partial_final_files(killed)
        if i == 0 and kills:  # a rerun without --resume is refused and loses nothing
            before = {p.name: p.read_bytes() for p in _chunks(killed)}
            r = subprocess.run(_cmd(ckpt, killed, False), env=_env(), capture_output=True, text=True, timeout=300)
            assert r.returncode == 2 and "--resume" in r.stderr and "Traceback" not in r.stderr
            assert {p.name: p.read_bytes() for p in _chunks(killed)} == before
    assert kills >= 2, "runs finished before they could be killed"
    r = subprocess.run(_cmd(ckpt, killed, True), env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    b = load_landscape(killed)
    np.testing.assert_array_equal(ref.loss, b.loss)
    np.testing.assert_array_equal(ref.accuracy, b.accuracy)
    np.testing.assert_array_equal(ref.coords, b.coords)
    assert b.meta["points_resumed"] > 0
    assert not (killed / "chunks").exists()
    assert (tmp_path / "ref" / names.LANDSCAPE_VTI).read_bytes() == (killed / names.LANDSCAPE_VTI).read_bytes()
