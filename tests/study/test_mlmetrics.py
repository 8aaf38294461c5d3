"""ML metrics of a checkpoint: accuracies and losses against a direct computation, Hessian numbers against
the dense Hessian of a 610-parameter MLP on the same fixed batch, and the `losstopo metrics` command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from losstopo.models.checkpoint import load_checkpoint, save_checkpoint
from losstopo.cli import main as cli_main
from losstopo.models.data import load_dataset
from losstopo.study.ml_metrics import ml_metrics
from losstopo.models.train import train_model
from references import dense_hessian

HESSIAN_BATCH = 128


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    model, info = train_model("mlp", epochs=4, seed=0, model_kwargs={"hidden": (8,)}, progress=False)
    path = tmp_path_factory.mktemp("metrics") / "mlp8.pt"
    save_checkpoint(path, model, info)
    return path


@pytest.fixture(scope="module")
def metrics(ckpt) -> dict:
    return ml_metrics(load_checkpoint(ckpt), hessian_samples=HESSIAN_BATCH, seed=0)


def test_accuracy_and_loss_match_a_direct_computation(ckpt, metrics):
    model = load_checkpoint(ckpt).model
    for split in ("train", "test"):
        x, y = load_dataset("digits", split)
        with torch.no_grad():
            out = model(x)
        assert metrics[f"{split}_loss"] == pytest.approx(float(nn.functional.cross_entropy(out, y)), rel=1e-5)
        assert metrics[f"{split}_accuracy"] == float((out.argmax(1) == y).double().mean())
    assert metrics["test_accuracy"] > 0.8  # a trained model, so the Hessian below is taken near a minimum


def test_hessian_numbers_match_the_dense_hessian_of_the_same_batch(ckpt, metrics):
    model = load_checkpoint(ckpt).model
    x, y = load_dataset("digits", "train", samples=HESSIAN_BATCH)  # the documented fixed batch
    H = dense_hessian(model, x, y, vectorize=True)
    assert H.shape == (610, 610)
    evals = torch.linalg.eigvalsh(H)
    top = float(evals[-1])
    assert top >= abs(float(evals[0]))  # largest magnitude = largest, so power iteration targets it
    # tol 1e-3 on the change per step: the estimate is within 1 % (a Rayleigh quotient from below)
    assert metrics["hessian_top_eigenvalue"] == pytest.approx(top, rel=1e-2)
    h = metrics["hessian"]
    assert h["samples"] == HESSIAN_BATCH and h["eigen"]["tol"] == 1e-3 and h["eigen"]["max_iter"] == 100
    n = h["trace"]["iterations"]
    var = 2 * (float((H ** 2).sum()) - float((torch.diagonal(H) ** 2).sum()))  # Rademacher Hutchinson
    assert abs(metrics["hessian_trace"] - float(torch.trace(H))) <= 4 * math.sqrt(var / n)


def test_samples_restricts_the_evaluation(ckpt):
    m = ml_metrics(load_checkpoint(ckpt), samples=50, hessian_samples=16)
    model = load_checkpoint(ckpt).model
    x, y = load_dataset("digits", "test", samples=50)
    with torch.no_grad():
        assert m["test_accuracy"] == float((model(x).argmax(1) == y).double().mean())
    assert m["hessian"]["samples"] == 16 and m["samples"] == 50


def test_cli_prints_a_table_and_writes_json(ckpt, metrics, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert cli_main(["metrics", str(ckpt), "--hessian-batch", str(HESSIAN_BATCH), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Hessian top eigenvalue" in printed and "test loss / acc" in printed
    data = json.loads(out.read_text())
    assert data["sha256"] == load_checkpoint(ckpt).sha256
    for key in ("train_accuracy", "test_accuracy", "train_loss", "test_loss", "hessian_top_eigenvalue",
                "hessian_trace"):
        assert data[key] == pytest.approx(metrics[key], rel=1e-6), key  # seeded: same numbers again
    assert data["hessian"]["trace"]["iterations"] >= 1


def test_cli_default_out_and_bad_batch(ckpt, capsys):
    assert cli_main(["metrics", str(ckpt), "--hessian-batch", "0"]) == 2
    assert "Hessian batch must be at least 1" in capsys.readouterr().err
    assert cli_main(["metrics", str(ckpt), "--hessian-batch", "8", "--samples", "20"]) == 0
    assert json.loads(ckpt.with_suffix(".metrics.json").read_text())["hessian"]["samples"] == 8
