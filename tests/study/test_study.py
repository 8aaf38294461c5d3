"""`losstopo study residual` on a tiny configuration: consistent CSV, figures, kill-and-resume, bad input."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REPO
from losstopo.cli import main
from losstopo.jobs.study import run_residual_study
from losstopo.study import CSV_COLUMNS, StudyConfig, model_specs
from references import ttk_minima_2d

# 2 seeds x {residual, plain}, 1 epoch on 256 digits, 7x7 grid, few samples: seconds per model.
TINY = StudyConfig(seeds=(0, 123), epochs=1, resolution=7, span=0.5, samples=64, hessian_samples=16,
                   train_kwargs={"samples": 256}, landscape_kwargs={"compile": False},
                   ml_kwargs={"max_probes": 10, "sketch": 0, "tol": 1e-3})
TINY_SOURCE = ("StudyConfig(seeds=(0, 123), epochs=1, resolution=7, span=0.5, samples=64, hessian_samples=16, "
               "train_kwargs={'samples': 256}, landscape_kwargs={'compile': False}, "
               "ml_kwargs={'max_probes': 10, 'sketch': 0, 'tol': 0.001})")


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("study") / "full"
    run_residual_study(out, TINY, show_progress=False)
    return out


@pytest.mark.slow
def test_csv_is_consistent(study_dir: Path) -> None:
    from losstopo.models.checkpoint import load_checkpoint
    from losstopo.models.data import load_dataset
    from losstopo.finite import finite_version
    from losstopo.landscape.files import load_landscape
    from losstopo.metrics import topology_metrics
    from losstopo.representation import knn_graph
    from losstopo.representation import GraphConnectivity, ImageConnectivity
    from losstopo.topology import compute_topology

    rows = read_rows(study_dir / "study.csv")
    assert list(rows[0].keys()) == list(CSV_COLUMNS)
    assert [r["name"] for r in rows] == [s.name for s in model_specs(TINY.seeds)]
    assert sorted((r["residual"], r["seed"]) for r in rows) == [("0", "0"), ("0", "123"), ("1", "0"), ("1", "123")]
    for r in rows:
        for k in CSV_COLUMNS[3:]:
            assert math.isfinite(float(r[k])), (r["name"], k)
        assert 0.0 <= float(r["test_accuracy"]) <= 1.0
        assert float(r["hessian_trace"]) != 0.0
        # The recorded test accuracy is that of the saved checkpoint on the whole test split.
        ck = load_checkpoint(study_dir / "models" / f"{r['name']}.pt")
        assert ck.info["model_kwargs"]["residual"] == (r["residual"] == "1")
        X, y = load_dataset("digits", "test")
        with torch.no_grad():
            acc = float((ck.model(X).argmax(1) == y).double().mean())
        assert float(r["test_accuracy"]) == pytest.approx(acc, abs=1e-12)
        # Topology columns equal what compute_topology gives on the saved landscape.
        ls = load_landscape(study_dir / "landscapes" / r["name"])
        assert tuple(ls.resolution) == (7, 7) and ls.span == 0.5
        values = finite_version(ls.loss)[0]
        img = topology_metrics(compute_topology(values, ImageConnectivity(dims=(7, 7))))
        edges, _info = knn_graph(ls.coords, k=TINY.k, seed=0)
        graph = topology_metrics(compute_topology(values, GraphConnectivity(edges=edges, n_vertices=49)))
        for key in ("minima", "saddles", "average_persistence", "max_persistence", "n_pairs"):
            assert float(r[f"image_{key}"]) == pytest.approx(img[key], rel=1e-12), key
            assert float(r[f"graph_{key}"]) == pytest.approx(graph[key], rel=1e-12), key
        assert int(r["image_minima"]) == ttk_minima_2d(values, 7, 7)  # independent of the topology code
        # The landscape really is the model's: the centre point's loss is the checkpoint's loss there.
        Xs, ys = load_dataset("digits", "test", samples=TINY.samples)
        with torch.no_grad():
            centre = float(torch.nn.functional.cross_entropy(ck.model(Xs), ys))
        assert ls.loss[24] == pytest.approx(centre, rel=1e-5)


@pytest.mark.slow  # the module's tiny study takes minutes
def test_figures_and_summary(study_dir: Path) -> None:
    for name in ("figure5.png", "figure5_graph.png", "gallery.png"):
        data = (study_dir / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, name
    import matplotlib.image as mpimg

    img = mpimg.imread(study_dir / "figure5.png")
    assert img.shape[0] > img.shape[1] > 500  # 3 rows x 2 columns: taller than wide
    assert np.unique(img.reshape(-1, img.shape[-1])[:, :3].round(2), axis=0).shape[0] > 50  # not blank
    assert len(list((study_dir / "gallery").glob("*_merge_tree.png"))) == 4
    summary = (study_dir / "summary.md").read_text()
    assert "n = 4 models (2 per group)" in summary
    assert summary.count("no residual -> more saddles") == 2  # image and graph sections
    rows = read_rows(study_dir / "study.csv")
    acc_res = np.mean([float(r["test_accuracy"]) for r in rows if r["residual"] == "1"])
    assert f"{acc_res:.4g}" in summary


@pytest.mark.slow
def test_rerun_reuses_everything(study_dir: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in (study_dir / "models").glob("*.pt")}
    csv_before = (study_dir / "study.csv").read_text()
    t0 = time.perf_counter()
    run_residual_study(study_dir, TINY, show_progress=False)
    assert time.perf_counter() - t0 < 30
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert (study_dir / "study.csv").read_text() == csv_before


@pytest.mark.slow
def test_killed_study_resumes_to_the_same_csv(study_dir: Path, tmp_path: Path) -> None:
    """SIGKILL a one-seed study subprocess once its first landscape is saved, rerun it: its CSV equals the
    uninterrupted two-seed study's rows for those models (a model's row depends on its own settings only)."""
    out = tmp_path / "killed"
    one_seed = TINY_SOURCE.replace("seeds=(0, 123)", "seeds=(0,)")
    code = ("import sys; from losstopo.study import StudyConfig; from losstopo.jobs.study import run_residual_study; "
            f"run_residual_study(sys.argv[1], {one_seed}, show_progress=False)")
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    target = out / "landscapes" / "resnet20_res_seed0" / "landscape.npz"
    deadline = time.monotonic() + 180
    while not target.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert not (out / "study.csv").exists()
    # Whatever sits under a final name is complete: the checkpoint loads, result files parse.
    from losstopo.models.checkpoint import load_checkpoint

    load_checkpoint(out / "models" / "resnet20_res_seed0.pt")
    for p in (out / "results").glob("[!.]*.json"):
        json.loads(p.read_text())
    run_residual_study(out, StudyConfig(**{**TINY.__dict__, "seeds": (0,)}), show_progress=False)
    full = {r["name"]: r for r in read_rows(study_dir / "study.csv")}
    resumed = read_rows(out / "study.csv")
    assert [r["name"] for r in resumed] == ["resnet20_res_seed0", "resnet20_nores_seed0"]
    for r in resumed:
        differ = {k: (v, full[r["name"]][k]) for k, v in r.items() if v != full[r["name"]][k]}
        assert not differ, (r["name"], differ)
    assert not [p.name for p in (out / "results").iterdir() if p.name.startswith(".")]  # stale temporaries gone


@pytest.mark.slow
def test_study_files_on_the_study_landscapes(study_dir: Path, tmp_path: Path) -> None:
    """`study files` on landscape folders: same topology as study.csv, ML rows from the checkpoints."""
    from losstopo.jobs.study_files import study_files

    rows = study_files([str(study_dir / "landscapes" / "*")], r"resnet20_(?P<group>res|nores)_seed(?P<seed>\d+)",
                       tmp_path, show_progress=False)
    ref = {r["name"]: r for r in read_rows(study_dir / "study.csv")}
    assert sorted(Path(r["file"]).name for r in rows) == sorted(ref)
    for r in rows:
        want = ref[Path(r["file"]).name]
        assert (r["kind"], r["span"], r["group"]) == ("image", 0.5, "res" if want["residual"] == "1" else "nores")
        assert r["saddles"] == int(want["image_saddles"]) and r["minima"] == int(want["image_minima"])
        assert r["average_persistence"] == pytest.approx(float(want["image_average_persistence"]), rel=1e-12)
        assert r["test_accuracy"] == pytest.approx(float(want["test_accuracy"]), abs=1e-12)
    assert (tmp_path / "files_figure.png").stat().st_size > 20_000


def _err(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("losstopo: error: ")
    return err


@pytest.mark.slow
def test_bad_input(study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "o")
    assert "unknown data set 'mnist'" in _err(capsys, ["study", "residual", "--data", "mnist", "--out", out])
    err = _err(capsys, ["study", "residual", "--data", "cifar10", "--data-root", str(tmp_path / "nope"),
                        "--out", out])
    assert "cifar" in err.lower()
    assert "--span" in _err(capsys, ["study", "residual", "--span", "0", "--out", out])
    assert "seeds repeat" in _err(capsys, ["study", "residual", "--seeds", "1", "1", "--out", out])
    (tmp_path / "file").write_text("x")
    assert "is a file" in _err(capsys, ["study", "residual", "--out", str(tmp_path / "file")])
    # The tiny study's folder holds other settings than the CLI defaults: refused, nothing touched.
    csv_before = (study_dir / "study.csv").read_text()
    assert "other settings" in _err(capsys, ["study", "residual", "--out", str(study_dir)])
    assert (study_dir / "study.csv").read_text() == csv_before
    assert "no study named" in _err(capsys, ["study"])
