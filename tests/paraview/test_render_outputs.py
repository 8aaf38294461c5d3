"""`losstopo render`'s output folder (issue 10): strict JSON, a finished render never replaced silently,
and a render that fails inside pvpython leaves no trace."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import needs_pvpython

pytestmark = [needs_pvpython, pytest.mark.paraview, pytest.mark.slow]


@pytest.fixture(scope="module")
def landscape(tmp_path_factory):
    from losstopo import vtkio
    from losstopo.landscape.files import Landscape, save_landscape
    from losstopo.landscape.grid import grid_coords

    d = tmp_path_factory.mktemp("render") / "ls"
    c = grid_coords((15, 15), 1.0, 2)
    loss = (c ** 2).sum(1) + 0.3 * np.cos(5 * c[:, 0])
    loss[(c ** 2).sum(1) > 1.5] = np.inf  # non-finite corners: ValidMask/RawLoss next to a finite Loss
    ls = Landscape(coords=c, loss=loss, accuracy=np.zeros_like(loss), resolution=(15, 15), span=1.0)
    save_landscape(d, ls)
    vtkio.write_landscape_vti(ls, d)
    return d


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "losstopo", "render", *args], capture_output=True, text=True,
                          timeout=600)


def _md5s(folder):
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
            and p.name != ".losstopo.lock"}


def test_render_folder(landscape, tmp_path):
    out = tmp_path / "shots"
    res = _cli(str(landscape), "--out", str(out), "--size", "320x240")
    assert res.returncode == 0, res.stderr[-3000:]
    printed = res.stdout.split()
    assert res.stderr.strip() == "" and len(printed) == 5 and all(p.startswith(str(out)) for p in printed)

    def bad(c):
        raise AssertionError(f"metrics.json holds {c}")

    metrics = json.loads((out / "metrics.json").read_text(), parse_constant=bad)
    assert metrics["average_persistence_finite"] is None or np.isfinite(metrics["average_persistence_finite"])
    record = json.loads((out / "render.json").read_text())
    assert sorted(record["files"]) == sorted(p.rsplit("/", 1)[1] for p in printed)
    before = _md5s(out)

    other = _cli(str(landscape), "--out", str(out), "--size", "400x300")
    assert other.returncode == 2 and "holds a finished render with other settings (height, width differ)" in \
        other.stderr and len(other.stderr.strip().splitlines()) == 1
    assert _md5s(out) == before

    failed = _cli("--state", "merge_tree_ttk", str(landscape), "--out", str(out), "--overwrite")  # no TTK here
    assert failed.returncode == 2 and "TTK" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert _md5s(out) == before and not [p for p in out.iterdir() if p.name.startswith(".staging")]

    again = _cli("--state", "merge_tree", str(landscape), "--out", str(out), "--size", "400x300", "--overwrite")
    assert again.returncode == 0, again.stderr[-3000:]
    assert sorted(_md5s(out)) == ["merge_tree_LandscapeView.png", "merge_tree_MergeTreeView.png", "render.json"]


def test_failed_render_removes_the_folder_it_made(landscape, tmp_path):
    res = _cli("--state", "merge_tree_ttk", str(landscape), "--out", str(tmp_path / "new"))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "new").exists()
