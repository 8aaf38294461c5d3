"""ML metrics of a checkpoint: accuracies and losses against a direct computation, Hessian numbers against
the dense Hessian of a 610-parameter MLP on the same data (the whole digits test split, also what the
landscape's Hessian directions use: their eigenvalues in meta.json agree), and the `losstopo metrics` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from losstopo.models.checkpoint import load_checkpoint, save_checkpoint
from losstopo.cli import main as cli_main
from losstopo.models.data import load_dataset
from losstopo.study.ml_metrics import ml_metrics
from losstopo.models.train import train_model
from references import dense_hessian



@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    model, info = train_model("mlp", epochs=4, seed=0, model_kwargs={"hidden": (8,)}, progress=False)
    path = tmp_path_factory.mktemp("metrics") / "mlp8.pt"
    save_checkpoint(path, model, info)
    return path


@pytest.fixture(scope="module")
def metrics(ckpt) -> dict:
    return ml_metrics(load_checkpoint(ckpt), seed=0)  # defaults: the whole test split


def test_accuracy_and_loss_match_a_direct_computation(ckpt, metrics):
    model = load_checkpoint(ckpt).model
    for split in ("train", "test"):
        x, y = load_dataset("digits", split)
        with torch.no_grad():
            out = model(x)
        assert metrics[f"{split}_loss"] == pytest.approx(float(nn.functional.cross_entropy(out, y)), rel=1e-5)
        assert metrics[f"{split}_accuracy"] == float((out.argmax(1) == y).double().mean())
    assert metrics["test_accuracy"] > 0.8  # a trained model, so the Hessian below is taken near a minimum


@pytest.mark.slow
def test_hessian_numbers_match_the_dense_hessian_of_the_same_data(ckpt, metrics):
    model = load_checkpoint(ckpt).model
    x, y = load_dataset("digits", "test")  # the documented default: the whole test split
    H = dense_hessian(model, x, y, vectorize=True)
    assert H.shape == (610, 610)
    evals = torch.linalg.eigvalsh(H).flip(0)
    h = metrics["hessian"]
    assert h["split"] == "test" and h["samples"] == len(y) == 360 and h["whole_split"]
    assert metrics["hessian_top_eigenvalue"] == metrics["hessian_eigenvalues"][0]
    assert np.allclose(metrics["hessian_eigenvalues"], evals[:2].numpy(), rtol=1e-3, atol=0)  # float32 model
    assert h["eigen"]["converged"] and h["eigen"]["hessian_vector_products"] >= 2
    exact, est, se = float(torch.trace(H)), metrics["hessian_trace"], metrics["hessian_trace_stderr"]
    assert abs(est - exact) <= 3 * se
    t = h["trace"]
    assert metrics["hessian_trace_probes"] == t["probes"] >= 10 and t["standard_error"] == se
    assert t["converged"] and se <= 0.01 * abs(est) and t["rel_se"] == 0.01


def test_landscape_hessian_directions_use_the_same_data(ckpt, metrics, tmp_path):
    from losstopo.landscape import compute_landscape

    ls = compute_landscape(ckpt, directions="hessian", resolution=3, span=0.1, out_dir=tmp_path / "ls",
                           show_progress=False, compile=False)
    meta = json.loads((tmp_path / "ls" / "meta.json").read_text())
    assert meta["hessian_eigenvalues"] == ls.meta["hessian_eigenvalues"]
    assert np.allclose(meta["hessian_eigenvalues"], metrics["hessian_eigenvalues"], rtol=1e-9)
    assert meta["hessian"]["samples"] == meta["samples"] == metrics["hessian"]["samples"]
    cos = np.array(meta["direction_cosines"])
    assert np.allclose(cos, np.eye(2), atol=1e-6)  # orthonormal Lanczos eigenvectors


def test_samples_restricts_the_evaluation(ckpt):
    m = ml_metrics(load_checkpoint(ckpt), samples=50, hessian_samples=16, rel_se=0.1)
    model = load_checkpoint(ckpt).model
    x, y = load_dataset("digits", "test", samples=50)
    with torch.no_grad():
        assert m["test_accuracy"] == float((model(x).argmax(1) == y).double().mean())
    assert m["hessian"]["samples"] == 16 and not m["hessian"]["whole_split"] and m["samples"] == 50


def test_cli_prints_a_table_and_writes_json(ckpt, metrics, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert cli_main(["metrics", str(ckpt), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Hessian top eigenvalues" in printed and "test loss / acc" in printed and "probes" in printed
    data = json.loads(out.read_text())
    assert data["sha256"] == load_checkpoint(ckpt).sha256
    for key in ("train_accuracy", "test_accuracy", "train_loss", "test_loss", "hessian_top_eigenvalue",
                "hessian_trace", "hessian_trace_stderr"):
        assert data[key] == pytest.approx(metrics[key], rel=1e-6), key  # seeded: same numbers again
    assert data["hessian_trace_probes"] == metrics["hessian_trace_probes"] >= 10


def test_cli_default_out_and_bad_batch(ckpt, capsys):
    assert cli_main(["metrics", str(ckpt), "--hessian-batch", "0"]) == 2
    assert "Hessian batch must be at least 1" in capsys.readouterr().err
    assert cli_main(["metrics", str(ckpt), "--rel-se", "0"]) == 2
    assert "rel_se=0" in capsys.readouterr().err
    assert cli_main(["metrics", str(ckpt), "--min-probes", "20", "--max-probes", "5"]) == 2
    assert "min_probes <= max_probes" in capsys.readouterr().err
    assert cli_main(["metrics", str(ckpt), "--hessian-batch", "8", "--samples", "20", "--rel-se", "0.2"]) == 0
    assert json.loads(ckpt.with_suffix(".metrics.json").read_text())["hessian"]["samples"] == 8
