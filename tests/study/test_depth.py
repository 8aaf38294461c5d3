"""`losstopo study depth` on a small configuration, checked against independently recomputed numbers."""

from __future__ import annotations

import csv
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from losstopo.cli import main
from losstopo.errors import LossTopoError
from losstopo.jobs.study import run_depth_study
from losstopo.study.depth_config import CSV_COLUMNS, DepthConfig, crop, depth_specs, validate_depth_config
from references import ttk_minima_2d

# ResNet-8/14 (6n+2 with n = 1, 2), with and without skips, one seed, 1 epoch on 256 digits; a 7x7 grid over
# +-0.6 with the 0.2 crop (3x3) and the 0.4 crop (5x5); 64 evaluation samples; cheap Hessian estimators.
SMALL = DepthConfig(depths=(8, 14), seeds=(0,), epochs=1, resolution=7, spans=(0.2, 0.4, 0.6), samples=64,
                    hessian_samples=32, k=4, train_kwargs={"samples": 256}, landscape_kwargs={"compile": False},
                    ml_kwargs={"tol": 1e-2, "rel_se": 0.2, "min_probes": 4, "max_probes": 8, "sketch": 2})


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("depth") / "small"
    run_depth_study(out, SMALL, show_progress=False, threads=1)
    return out


@pytest.mark.slow
def test_rows_match_independent_recomputation(study_dir: Path) -> None:
    from losstopo.landscape.files import load_landscape
    from losstopo.metrics import topology_metrics
    from losstopo.models.checkpoint import load_checkpoint
    from losstopo.models.data import load_dataset
    from losstopo.representation import ImageConnectivity
    from losstopo.topology import compute_topology

    rows = read_rows(study_dir / "study.csv")
    assert list(rows[0]) == list(CSV_COLUMNS)
    specs = depth_specs(SMALL)
    assert len(rows) == len(specs) * 2 * 3
    assert [r["name"] for r in rows[::6]] == [s.name for s in specs]
    X, y = load_dataset("digits", "test")
    Xs, ys = load_dataset("digits", "test", samples=64)
    for r in rows:
        ck = load_checkpoint(study_dir / "models" / f"{r['name']}.pt")
        assert ck.info["model_kwargs"]["depth"] == int(r["depth"])
        assert ck.info["model_kwargs"]["residual"] == (r["residual"] == "1")
        with torch.no_grad():
            out = ck.model(X)
            acc = float((out.argmax(1) == y).double().mean())
            centre = float(torch.nn.functional.cross_entropy(ck.model(Xs), ys))
        assert float(r["test_accuracy"]) == pytest.approx(acc, abs=1e-12)
        # The grid centre is the checkpoint itself: its loss there is the checkpoint's own test loss on the
        # landscape's evaluation samples.
        assert float(r["centre_loss"]) == pytest.approx(centre, rel=1e-5)
        assert float(r["hessian_trace_stderr"]) > 0 and math.isfinite(float(r["hessian_top_eigenvalue"]))
        # The span's crop selected from the saved landscape by its coordinates (not by the study's crop()).
        ls = load_landscape(study_dir / "landscapes" / f"{r['name']}_{r['directions']}")
        span = float(r["span"])
        keep = np.all(np.abs(ls.coords) <= span + 1e-9, axis=1)
        n = int(round(math.sqrt(keep.sum())))
        assert n == int(r["resolution"]) and n * n == keep.sum()
        values = ls.loss[keep]
        assert int(r["image_minima"]) == ttk_minima_2d(values, n, n)
        img = topology_metrics(compute_topology(values, ImageConnectivity(dims=(n, n))))
        for key in ("saddles", "average_persistence", "max_persistence", "n_pairs"):
            assert float(r[f"image_{key}"]) == pytest.approx(img[key], rel=1e-12), key
        if img["average_persistence_finite"] is None:
            assert r["image_average_persistence_finite"] == ""
        else:
            assert float(r["image_average_persistence_finite"]) == pytest.approx(img["average_persistence_finite"])
    for name in ("figure5.png", "figure5_graph.png", "figure5_hessian.png", "gallery.png", "gallery_hessian.png",
                 "summary.md", "run.json"):
        assert (study_dir / name).is_file(), name
    summary = (study_dir / "summary.md").read_text()
    assert "no skips: deeper -> more minima + saddles" in summary and "Incomplete" not in summary


@pytest.mark.slow
def test_rerun_resumes_and_finished_only_reports_partial(study_dir: Path, tmp_path: Path) -> None:
    import shutil

    before = (study_dir / "study.csv").read_bytes()
    run_depth_study(study_dir, SMALL, show_progress=False)  # everything cached: the same CSV, nothing computed
    assert (study_dir / "study.csv").read_bytes() == before
    partial = tmp_path / "partial"
    shutil.copytree(study_dir, partial)
    last = depth_specs(SMALL)[-1]
    (partial / "results" / f"{last.name}.json").unlink()
    assert main(["study", "depth", "--out", str(partial), "--depths", "8", "14", "--seeds", "0", "--epochs", "1",
                 "--resolution", "7", "--spans", "0.2", "0.4", "0.6", "--samples", "64", "--hessian-samples", "32",
                 "--k", "4", "--finished-only", "--no-progress"]) == 2  # other settings (train_kwargs): refused
    run_depth_study(partial, SMALL, show_progress=False, finished_only=True)
    rows = read_rows(partial / "study.csv")
    assert last.name not in {r["name"] for r in rows} and len(rows) == 6 * (len(depth_specs(SMALL)) - 1)
    assert "Incomplete" in (partial / "summary.md").read_text()


def test_crop_is_the_centred_subgrid() -> None:
    from losstopo.landscape.grid import grid_coords

    big = grid_coords(9, 1.0)
    assert np.allclose(crop(big, 9, 2), grid_coords(5, 0.5))


@pytest.mark.parametrize("change, words", [
    (dict(spans=(0.3, 1.0)), "does not lie on the"),
    (dict(resolution=8), "even"),
    (dict(depths=(20, 21)), r"6n\+2"),
    (dict(directions=("filter", "filter")), "repeat"),
    (dict(lr=0.0), "learning rate"),
    (dict(optimizer="rmsprop"), "unknown optimizer"),
    (dict(warmup_epochs=21), "does not fit 20 epochs"),
    (dict(warmup_epochs=-1), "does not fit"),
    (dict(bn_bias=float("nan")), "not a finite number"),
])
def test_bad_configs_are_one_line_errors(change: dict, words: str) -> None:
    with pytest.raises(LossTopoError, match=words):
        validate_depth_config(replace(DepthConfig(), **change))


def test_training_options_of_the_recipe() -> None:
    """bn_bias sets every BatchNorm bias before training (the trained biases stay near it after 1 short epoch);
    Adam with a warm-up is recorded; the default SGD recipe is unchanged (bit-identical to an explicit one)."""
    from torch import nn

    from losstopo.models.train import _warmup_cosine, train_model

    kw = dict(model_kwargs={"depth": 8, "residual": False}, progress=False, threads=1, samples=64, batch_size=32)
    net, info = train_model("resnet", "digits", 0, 1, lr=1e-5, optimizer="adam", warmup_epochs=1, bn_bias=1.0, **kw)
    biases = torch.cat([m.bias.detach() for m in net.modules() if isinstance(m, nn.BatchNorm2d)])
    assert torch.allclose(biases, torch.ones_like(biases), atol=1e-3)  # 2 Adam steps of at most ~lr each
    assert info["optimizer"] == "Adam" and info["warmup_epochs"] == 1 and info["bn_bias"] == 1.0
    plain, _ = train_model("resnet", "digits", 0, 1, lr=0.05, **kw)
    explicit, old = train_model("resnet", "digits", 0, 1, lr=0.05, optimizer="sgd", warmup_epochs=0, **kw)
    assert old["optimizer"] == "SGD" and old["schedule"] == "cosine" and old["bn_bias"] is None
    for a, b in zip(plain.state_dict().values(), explicit.state_dict().values()):
        assert torch.equal(a, b)
    zero = [m.bias.detach() for m in plain.modules() if isinstance(m, nn.BatchNorm2d)]
    assert max(float(b.abs().max()) for b in zero) < 0.5  # torch's init (0) when bn_bias is None
    f = _warmup_cosine(4, 12)
    assert [f(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert math.isclose(f(8), 0.5) and f(12) < 1e-12
