"""Training (seeded, deterministic, the digits default is accurate) and checkpoints (round trip, provenance,
every kind of bad file as a one-line error through the API and the CLI)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from losstopo.models import checkpoint as ckpt_mod
from losstopo.models.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from losstopo.cli import main as cli_main
from losstopo.models.data import load_dataset
from losstopo.errors import LossTopoError
from losstopo.models.train import evaluate_model, train_model


@pytest.fixture(scope="module")
def resnet_default():
    """The `make demo` default: ResNet-20 on digits with the default settings."""
    return train_model("resnet20", data="digits", seed=0, progress=False)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, resnet_default) -> Path:
    model, info = resnet_default
    path = tmp_path_factory.mktemp("ckpt") / "r20.pt"
    save_checkpoint(path, model, info)
    return path


def test_digits_default_is_accurate(resnet_default):
    model, info = resnet_default
    assert info["test_accuracy"] > 0.9 and info["train_accuracy"] > 0.95
    assert len(info["history"]) == info["epochs"] == 10
    assert not model.training


def test_evaluate_model_matches_a_direct_computation(resnet_default):
    model, _ = resnet_default
    x, y = load_dataset("digits", "test")
    with torch.no_grad():
        out = model.eval()(x)
    loss, acc = evaluate_model(model, x, y, batch_size=7)  # batching must not change the numbers
    assert loss == pytest.approx(float(nn.functional.cross_entropy(out, y)), rel=1e-5)
    assert acc == float((out.argmax(1) == y).double().mean())


def test_training_is_deterministic_per_seed():
    kw = dict(data="digits", epochs=2, samples=300, progress=False)
    threads = torch.get_num_threads()
    a, info_a = train_model("mlp", seed=3, **kw)
    b, info_b = train_model("mlp", seed=3, **kw)
    c, _ = train_model("mlp", seed=4, **kw)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.state_dict()["net.1.weight"], c.state_dict()["net.1.weight"])
    assert info_a["history"] == info_b["history"] and info_a["train_samples"] == 300
    assert not torch.are_deterministic_algorithms_enabled()  # the global settings are restored
    assert torch.get_num_threads() == threads and info_a["threads"] == 1  # digits train on one thread


def test_checkpoint_round_trip_records_provenance(saved, resnet_default):
    model, info = resnet_default
    loaded = load_checkpoint(saved)
    assert not loaded.model.training
    assert loaded.sha256 == hashlib.sha256(saved.read_bytes()).hexdigest()
    for key in ("model", "model_kwargs", "data", "seed", "epochs", "train_loss", "train_accuracy", "test_loss",
                "test_accuracy", "torch_version"):
        assert loaded.info[key] == info[key], key
    x, y = load_dataset("digits", "test")
    with torch.no_grad():
        assert torch.equal(loaded.model(x), model(x))
    assert evaluate_model(loaded.model, x, y)[1] == info["test_accuracy"]
    raw = torch.load(saved, weights_only=True)  # plain data only: loads without trusting code
    assert raw["format"] == FORMAT and raw["info"]["model"] == "resnet20"


def test_plain_resnet_round_trip(tmp_path):
    model, info = train_model("resnet20", epochs=1, samples=64, model_kwargs={"residual": False}, progress=False)
    save_checkpoint(tmp_path / "p.pt", model, info)
    loaded = load_checkpoint(tmp_path / "p.pt")
    assert loaded.info["model_kwargs"]["residual"] is False
    assert all(b.shortcut is None for b in loaded.model.modules() if hasattr(b, "shortcut"))


def test_failed_save_keeps_the_old_file(saved, tmp_path, monkeypatch, resnet_default):
    target = tmp_path / "keep.pt"
    target.write_bytes(saved.read_bytes())

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ckpt_mod.torch, "save", boom)
    with pytest.raises(LossTopoError, match="cannot write checkpoint"):
        save_checkpoint(target, *resnet_default)
    assert target.read_bytes() == saved.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["keep.pt"]  # no temporary file left behind


# ------------------------------------------------------------------------------------------- bad files
def _truncated(saved: Path, p: Path) -> None:
    data = saved.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _foreign_state_dict(saved: Path, p: Path) -> None:
    torch.save(nn.Linear(3, 2).state_dict(), p)


def _foreign_module(saved: Path, p: Path) -> None:
    torch.save(nn.Linear(3, 2), p)  # a pickled module: needs code, refused by weights_only


def _edited(**changes):
    def write(saved: Path, p: Path) -> None:
        payload = torch.load(saved, weights_only=True)
        payload["info"].update(changes)
        buf = io.BytesIO()
        torch.save(payload, buf)
        p.write_bytes(buf.getvalue())
    return write


BAD_FILES = {
    "missing": (None, "does not exist"),
    "empty": (lambda s, p: p.write_bytes(b""), "is empty"),
    "truncated": (_truncated, "truncated or corrupt"),
    "random": (lambda s, p: p.write_bytes(os.urandom(4096)), "not a losstopo checkpoint"),
    "text": (lambda s, p: p.write_text("epoch,loss\n1,0.5\n"), "not a losstopo checkpoint"),
    "state_dict": (_foreign_state_dict, "not a losstopo checkpoint"),
    "module": (_foreign_module, "not a losstopo checkpoint"),
    "different_model": (_edited(model_kwargs={"in_channels": 1, "num_classes": 10, "shortcut": "B"}),
                        "a checkpoint for a different model"),
    "other_architecture": (_edited(model="mlp", model_kwargs={"input_dim": 64, "num_classes": 10}),
                           "a checkpoint for a different model"),
    "unknown_model": (_edited(model="vgg11"), "unknown model 'vgg11'"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_checkpoints_give_one_line_errors(case, saved, tmp_path, capsys):
    make, match = BAD_FILES[case]
    path = tmp_path / "bad.pt"
    if make is not None:
        make(saved, path)
    with pytest.raises(LossTopoError, match=match) as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value)
    # the same through the CLI: exit code 2, one line on stderr, no traceback
    assert cli_main(["metrics", str(path), "--out", str(tmp_path / "m.json")]) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and match in stderr and "Traceback" not in stderr
    assert not (tmp_path / "m.json").exists()


def test_real_entry_point_exit_code_for_a_bad_checkpoint(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_text("not a model")
    r = subprocess.run([sys.executable, "-m", "losstopo", "metrics", str(bad)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "not a losstopo checkpoint" in r.stderr


# ------------------------------------------------------------------------------------------------- CLI
def test_cli_train_writes_a_loadable_checkpoint_and_a_curve(tmp_path, capsys):
    out = tmp_path / "runs" / "m.pt"
    assert cli_main(["train", "--model", "mlp", "--epochs", "2", "--samples", "200", "--seed", "1",
                     "--no-progress", "--out", str(out)]) == 0
    assert "test loss" in capsys.readouterr().out
    loaded = load_checkpoint(out)
    assert loaded.info["seed"] == 1 and loaded.info["epochs"] == 2 and loaded.info["model"] == "mlp"
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv,match", [
    (["--model", "mlp", "--no-residual"], "apply to resnet20"),
    (["--model", "mlp", "--epochs", "0"], "epochs must be at least 1"),
    (["--model", "mlp", "--samples", "99999"], "only 1437 exist"),
    (["--model", "nosuch"], "invalid choice"),
])
def test_cli_train_rejects_bad_arguments(argv, match, tmp_path, capsys):
    try:
        code = cli_main(["train", *argv, "--no-progress", "--out", str(tmp_path / "x.pt")])
    except SystemExit as e:  # argparse's own errors exit through the parser
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err and "Traceback" not in err
    assert not (tmp_path / "x.pt").exists()


def test_cli_train_refuses_an_unwritable_out_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli_main(["train", "--model", "mlp", "--out", str(blocker / "m.pt")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
