"""One writer per output folder and finished work never replaced silently (issue 10), through the real
`losstopo` executable.

A first run is frozen (SIGSTOP) as soon as it holds the folder's lock, so the second run meets it for
certain: the second must exit 2 with one line naming the first (pid, command) and write nothing; a
reader of the folder is refused the same way; the first then finishes and its folder is consistent
(arrays, meta.json and directions.pt all of one run, equal to a reference run elsewhere). A SIGKILLed
holder's lock is gone: a rerun takes the folder at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from losstopo import cli, names
from losstopo.fileio import LOCK_FILE
from losstopo.landscape.files import load_landscape
from losstopo.models.checkpoint import save_checkpoint
from losstopo.models.zoo import build_model

pytestmark = pytest.mark.slow  # about 30 s: six runs of the real executable
ARGS = ["--resolution", "5", "--span", "0.5", "--samples", "64", "--quiet"]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "mlp.pt"
    save_checkpoint(path, build_model("mlp", hidden=(16,)),
                    {"model": "mlp", "model_kwargs": {"hidden": [16]}, "data": "digits", "seed": 0})
    return path


@pytest.fixture(scope="module")
def reference(ckpt, tmp_path_factory) -> dict[int, Path]:
    """The landscape of each seed, computed alone."""
    out = {}
    for seed in (0, 1):
        d = tmp_path_factory.mktemp(f"ref{seed}")
        assert cli.main(["landscape", str(ckpt), *ARGS, "--seed", str(seed), "--out", str(d)]) == 0
        out[seed] = d
    return out


def _cmd(ckpt: Path, out: Path, seed: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "losstopo", "landscape", str(ckpt), *ARGS, "--seed", str(seed), "--out",
            str(out), *extra]


def _start_and_freeze(cmd: list[str], out: Path) -> subprocess.Popen:
    """Start `cmd` and SIGSTOP it as soon as it holds out's lock (its pid in the lock file)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if json.loads((out / LOCK_FILE).read_text() or "{}").get("pid") == proc.pid:
                os.kill(proc.pid, signal.SIGSTOP)
                return proc
        except (OSError, ValueError):
            pass
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    proc.kill()
    raise AssertionError("the first run never took the lock")


def _one_line(res: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2 and len(lines) == 1 and "Traceback" not in res.stderr, res.stderr[-2000:]
    return lines[0]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
            and p.name != LOCK_FILE}


def _assert_is(folder: Path, ref: Path) -> None:
    """`folder` holds exactly the landscape of `ref`: arrays, directions and the settings in meta.json."""
    a, b = load_landscape(folder), load_landscape(ref)
    assert np.array_equal(a.loss, b.loss) and np.array_equal(a.coords, b.coords)
    assert a.meta["settings_key"] == b.meta["settings_key"] and a.meta["seed"] == b.meta["seed"]
    da, db = (torch.load(d / names.DIRECTIONS_PT, weights_only=True) for d in (folder, ref))
    assert da["meta"]["settings_key"] == db["meta"]["settings_key"]
    assert all(torch.equal(x[k], y[k]) for x, y in zip(da["directions"], db["directions"]) for k in x)
    assert not (folder / "chunks").exists()


@pytest.mark.parametrize("second_seed", [0, 1], ids=["same settings", "other settings"])
def test_two_writers_on_one_folder(ckpt, reference, tmp_path, second_seed):
    out = tmp_path / "ls"
    first = _start_and_freeze(_cmd(ckpt, out, 0), out)
    try:
        before = _digests(out)
        second = subprocess.run(_cmd(ckpt, out, second_seed), capture_output=True, text=True, timeout=300)
        line = _one_line(second)
        assert f"in use by another process (pid {first.pid}: losstopo landscape" in line and "--seed 0" in line
        assert _digests(out) == before  # the second wrote nothing
        reader = subprocess.run([sys.executable, "-m", "losstopo", "analyze", str(out), "--out",
                                 str(tmp_path / "analysis")], capture_output=True, text=True, timeout=300)
        assert "is being written by another process" in _one_line(reader)
        assert not (tmp_path / "analysis").exists()
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert first.wait(timeout=300) == 0, first.communicate()[1][-2000:]
    _assert_is(out, reference[0])


def test_a_killed_holder_leaves_no_lock(ckpt, reference, tmp_path):
    out = tmp_path / "ls"
    first = _start_and_freeze(_cmd(ckpt, out, 1), out)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=60)
    assert json.loads((out / LOCK_FILE).read_text())["pid"] == first.pid  # the file stays, its lock does not
    again = subprocess.run(_cmd(ckpt, out, 1, "--resume"), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    _assert_is(out, reference[1])


def test_the_cache_folder_has_one_writer_too(ckpt, tmp_path, monkeypatch):
    """The ParaView source computes into losstopo's cache (compute_landscape(out_dir=None)): locked the same way."""
    from losstopo.errors import LossTopoError
    from losstopo.landscape.compute import compute_landscape

    monkeypatch.setenv("LOSSTOPO_CACHE", str(tmp_path))
    kw = dict(resolution=5, span=0.5, samples=64, show_progress=False)
    first = compute_landscape(ckpt, **kw)
    folder = first.directory
    assert folder.parent == tmp_path / "landscapes"
    holder = subprocess.Popen([sys.executable, "-c", "import time; from pathlib import Path; "
                               "from losstopo.fileio import output_lock\n"
                               f"with output_lock(Path({str(folder)!r}), 'test'):\n"
                               "    print('held', flush=True); time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LossTopoError, match=f"in use by another process \\(pid {holder.pid}"):
            compute_landscape(ckpt, **kw)
        with pytest.raises(LossTopoError, match="is being written by another process"):
            load_landscape(folder)
    finally:
        holder.kill()
        holder.wait()
    assert np.array_equal(compute_landscape(ckpt, **kw).loss, first.loss)  # free again: the cached one
