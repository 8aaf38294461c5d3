"""Finished work is never replaced silently (issue 10): a rerun with other settings into a finished folder
is refused with one line naming the differing settings and leaves every file as it was (md5); the same
settings rerun; --overwrite replaces the old result (and only its files)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from losstopo import cli, names
from losstopo.errors import LossTopoError
from losstopo.fileio import LOCK_FILE
from losstopo.landscape.files import Landscape, load_landscape, save_landscape
from losstopo.models.checkpoint import save_checkpoint
from losstopo.models.zoo import build_model

LS = ["--resolution", "5", "--span", "0.5", "--samples", "64", "--quiet"]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "mlp.pt"
    save_checkpoint(path, build_model("mlp", hidden=(16,)),
                    {"model": "mlp", "model_kwargs": {"hidden": [16]}, "data": "digits", "seed": 0})
    return path


def md5s(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != LOCK_FILE}


def refused(argv: list[str], capsys, *must: str) -> str:
    capsys.readouterr()  # what earlier runs printed
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "--overwrite" in err, err
    for m in must:
        assert m in err, err
    return err


def test_landscape(ckpt, tmp_path, capsys):
    out = tmp_path / "ls"
    assert cli.main(["landscape", str(ckpt), *LS, "--out", str(out)]) == 0
    before = md5s(out)
    refused(["landscape", str(ckpt), *LS, "--seed", "1", "--span", "0.6", "--out", str(out)], capsys,
            "holds a finished landscape", "seed, span differ")
    refused(["landscape", str(ckpt), *LS, "--seed", "1", "--resume", "--out", str(out)], capsys, "seed differs")
    assert md5s(out) == before
    assert cli.main(["landscape", str(ckpt), *LS, "--resume", "--out", str(out)]) == 0  # same settings
    assert md5s(out) == before  # returned as it was
    assert cli.main(["landscape", str(ckpt), *LS, "--seed", "1", "--overwrite", "--out", str(out)]) == 0
    after = load_landscape(out)
    assert after.meta["seed"] == 1 and md5s(out)[names.LANDSCAPE_NPZ] != before[names.LANDSCAPE_NPZ]
    assert torch.load(out / names.DIRECTIONS_PT, weights_only=True)["meta"]["seed"] == 1


def test_unfinished_chunks_of_another_run_are_not_mixed(ckpt, tmp_path, capsys):
    """An interrupted run's chunks: a new run without --resume is refused before anything is written."""
    out = tmp_path / "ls"
    (out / "chunks").mkdir(parents=True)
    (out / "chunks" / "key.json").write_text('{"settings": "abc"}')
    refused(["landscape", str(ckpt), *LS, "--out", str(out)], capsys, "unfinished run")
    assert cli.main(["landscape", str(ckpt), *LS, "--resume", "--out", str(out)]) == 2
    assert "other settings" in capsys.readouterr().err
    assert sorted(md5s(out)) == ["chunks/key.json"]  # no directions.pt written next to them


def test_a_run_killed_while_finishing_is_not_finished_work(ckpt, tmp_path):
    """landscape.npz without meta.json (killed between the two; meta.json is written last) is redone."""
    out = tmp_path / "ls"
    assert cli.main(["landscape", str(ckpt), *LS, "--out", str(out)]) == 0
    (out / names.META_JSON).unlink()
    assert cli.main(["landscape", str(ckpt), *LS, "--seed", "1", "--out", str(out)]) == 0
    assert load_landscape(out).meta["seed"] == 1


def _landscape(folder: Path, shift: float = 0.0) -> Path:
    a = np.linspace(-1, 1, 9)
    y, x = np.meshgrid(a, a, indexing="ij")
    coords = np.stack([x.ravel(), y.ravel()], 1)
    loss = np.cos(3 * coords[:, 0]) + coords[:, 1] ** 2 + shift
    save_landscape(folder, Landscape(coords=coords, loss=loss, accuracy=0 * loss, resolution=(9, 9), span=1.0))
    return folder


def test_analyze(tmp_path, capsys):
    land, out = _landscape(tmp_path / "land"), tmp_path / "out"
    assert cli.main(["analyze", str(land), "--out", str(out), "--backend", "builtin"]) == 0
    before = md5s(out)
    refused(["analyze", str(land), "--out", str(out), "--backend", "builtin", "--no-pictures", "--simplify", "0.5"],
            capsys, "holds an analysis with other settings", "simplify differs")
    _landscape(land, shift=1.0)  # the same path, another landscape
    refused(["analyze", str(land), "--out", str(out), "--backend", "builtin", "--no-pictures"], capsys,
            "input_sha256 differs")
    assert md5s(out) == before
    assert cli.main(["analyze", str(land), "--out", str(out), "--backend", "builtin", "--no-pictures",
                     "--simplify", "0.5", "--overwrite"]) == 0
    files = set(md5s(out))
    assert "landscape.png" in before and not [f for f in files if f.endswith(".png")]  # the old pictures went
    assert "segmentation.vti" in files and md5s(out)["topology.json"] != before["topology.json"]
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_study_files(tmp_path, capsys):
    for g in ("a", "b"):
        _landscape(tmp_path / f"ls_{g}")
    out = tmp_path / "files"
    argv = ["study", "files", str(tmp_path / "ls_*"), "--group-by", "ls_(a|b)", "--out", str(out)]
    assert cli.main(argv) == 0
    before = md5s(out)
    refused(argv[:-2] + ["--k", "5", "--out", str(out)], capsys, "k differs")
    assert md5s(out) == before
    assert cli.main(argv[:-2] + ["--k", "5", "--overwrite", "--out", str(out)]) == 0
    assert md5s(out)["files_study.json"] != before["files_study.json"]


def test_study_residual(tmp_path, monkeypatch):
    """A study folder of another config is refused as it was; --overwrite removes that study's files first."""
    from losstopo.jobs import study as job
    from losstopo.study.config import StudyConfig

    out = tmp_path / "study"
    out.mkdir()
    first = StudyConfig(seeds=(0,), epochs=1, resolution=5)
    from losstopo.study.config import check_or_write_config

    check_or_write_config(out, first)
    (out / "study.csv").write_text("old\n")
    (out / "notes.txt").write_text("the user's own file\n")
    before = md5s(out)
    second = StudyConfig(seeds=(0,), epochs=2, resolution=5)
    with pytest.raises(LossTopoError, match="other settings"):
        job.run_residual_study(out, second, show_progress=False)
    assert md5s(out) == before

    class Stop(Exception):
        pass

    def stop(*a, **k):
        raise Stop

    monkeypatch.setattr(job, "ResidualStudy", stop)
    with pytest.raises(Stop):
        job.run_residual_study(out, second, show_progress=False, overwrite=True)
    assert not (out / "study.csv").exists() and (out / "notes.txt").exists()
    assert '"epochs": 2' in (out / "study.json").read_text()
