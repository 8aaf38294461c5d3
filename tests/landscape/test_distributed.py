"""`torchrun --nproc_per_node 2 -m losstopo landscape ... --distributed` (gloo on loopback) equals one process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from losstopo import names
from losstopo.models.checkpoint import save_checkpoint
from losstopo.subspace.directions import load_directions
from losstopo.landscape.compute import compute_landscape
from losstopo.landscape.files import load_landscape
from losstopo.models.zoo import build_model

REPO = Path(__file__).resolve().parents[1]
TORCHRUN = Path(sys.executable).with_name("torchrun")
SETTINGS = dict(resolution=5, span=0.5, samples=40, chunk_points=3, compile=False)
ARGS = ["--resolution", "5", "--span", "0.5", "--samples", "40", "--chunk-points", "3", "--compile", "off",
        "--quiet", "--distributed"]

pytestmark = pytest.mark.skipif(not TORCHRUN.exists() or not torch.distributed.is_available(),
                                reason="torchrun / torch.distributed not available")


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("d") / "mlp.pt"
    save_checkpoint(path, build_model("mlp", hidden=(16,)), {"model": "mlp", "model_kwargs": {"hidden": [16]},
                                                             "data": "digits"})
    return path


def _torchrun(ckpt: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    cmd = [str(TORCHRUN), "--standalone", "--nproc_per_node", "2",
           "-m", "losstopo", "landscape", str(ckpt), *ARGS, "--out", str(out), *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_two_ranks_equal_one_process_and_resume_shards(ckpt, tmp_path):
    single = compute_landscape(ckpt, out_dir=tmp_path / "single", resume=False, show_progress=False, **SETTINGS)
    # a single-process run interrupted after 3 of its 9 chunks; the distributed run resumes it
    part = tmp_path / "dist"
    calls = []

    def stop(_fraction: float) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compute_landscape(ckpt, out_dir=part, resume=False, show_progress=False, progress=stop, **SETTINGS)
    assert len(list((part / "chunks").glob("chunk_*.npz"))) == 3
    r = _torchrun(ckpt, part, "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    d = load_landscape(part)
    np.testing.assert_array_equal(d.loss, single.loss)
    np.testing.assert_array_equal(d.accuracy, single.accuracy)
    assert d.meta["distributed_world_size"] == 2 and d.meta["points_resumed"] == 9
    assert (part / names.LANDSCAPE_VTI).exists() and not (part / "chunks").exists()
    assert load_directions(part / names.DIRECTIONS_PT).digest() == \
        load_directions(tmp_path / "single" / names.DIRECTIONS_PT).digest()
    # a fresh distributed run (no chunks at all) too
    fresh = tmp_path / "fresh"
    r = _torchrun(ckpt, fresh)
    assert r.returncode == 0, r.stderr[-3000:]
    np.testing.assert_array_equal(load_landscape(fresh).loss, single.loss)
    shutil.rmtree(fresh)


def test_a_folder_in_use_is_refused_on_every_rank(ckpt, tmp_path):
    """Rank 0 takes the folder's lock; when another process holds it, every rank ends in the same line."""
    out = tmp_path / "busy"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from losstopo.fileio import output_lock\n"
                               f"with output_lock(Path({str(out)!r}), 'test'):\n"
                               "    print('held', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(REPO / "python")))
    try:
        assert holder.stdout.readline().strip() == "held"
        r = _torchrun(ckpt, out)
        assert r.returncode != 0
        ours = [ln for ln in r.stderr.splitlines() if ln.startswith("losstopo: error:")]
        # every rank that got to print printed the same line (torchrun may stop rank 1 first, then adds
        # its own failure report, which losstopo cannot silence)
        assert 1 <= len(ours) <= 2 and len(set(ours)) == 1, r.stderr[-3000:]
        assert f"in use by another process (pid {holder.pid}" in ours[0]
        assert sorted(p.name for p in out.iterdir()) == [".losstopo.lock"]  # nothing written
    finally:
        holder.kill()
        holder.wait()
