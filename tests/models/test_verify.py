"""Checkpoints are checked on load (issue 10): flipped bits, edited or non-finite weights are one line and
exit code 2; a valid checkpoint passes at 1 and at 2 threads."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from losstopo.errors import LossTopoError
from losstopo.models import check_reference_loss
from losstopo.models.checkpoint import load_checkpoint, save_checkpoint
from losstopo.models.data import load_dataset
from losstopo.models.evaluate import evaluate_model
from losstopo.models.train import train_model
from losstopo.models.verify import LOSS_ATOL, LOSS_RTOL


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model, info = train_model("resnet20", data="digits", seed=0, epochs=1, samples=200, progress=False)
    path = tmp_path_factory.mktemp("verify") / "r20.pt"
    save_checkpoint(path, model, info)
    return path, model, info


def _largest_tensor(data: bytes) -> tuple[int, int]:
    """(offset, size) in the file of the largest stored tensor of a torch.save zip."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len, info.file_size


def _flip(path: Path, out: Path, bits: list[int]) -> None:
    data = bytearray(path.read_bytes())
    offset, size = _largest_tensor(bytes(data))
    for b in bits:
        data[offset + (b // 8) % size] ^= 1 << (b % 8)
    out.write_bytes(bytes(data))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "losstopo", *args], capture_output=True, text=True, timeout=300)


def _one_line_exit_2(res: subprocess.CompletedProcess, must: str) -> None:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2, res.stderr[-2000:]
    assert len(lines) == 1 and "Traceback" not in res.stderr and must in lines[0], res.stderr[-2000:]


@pytest.mark.parametrize("bits", [[7 * 8 + 6], [8 * 1001 + 0, 8 * 5003 + 3], [31]])  # exponent, mantissa, sign
def test_flipped_bits_are_refused(trained, tmp_path, bits):
    path, _, _ = trained
    bad = tmp_path / "flipped.pt"
    _flip(path, bad, bits)
    assert bad.stat().st_size == path.stat().st_size and bad.read_bytes() != path.read_bytes()
    torch.load(bad, weights_only=True)  # torch itself accepts it: why the check exists
    with pytest.raises(LossTopoError, match="CRC check failed") as e:
        load_checkpoint(bad)
    assert "\n" not in str(e.value)
    _one_line_exit_2(_cli("landscape", str(bad), "--resolution", "3", "--out", str(tmp_path / "ls")), "CRC")
    assert not (tmp_path / "ls").exists()  # the failed command left no folder behind


def _resaved(path: Path, out: Path, edit) -> None:
    payload = torch.load(path, weights_only=True)
    edit(payload["state_dict"])
    torch.save(payload, out)


def test_edited_weights_with_valid_crcs_fail_the_forward_check(trained, tmp_path):
    """A file re-saved after its weights changed passes the CRCs; the forward pass catches it."""
    path, _, _ = trained
    bad = tmp_path / "edited.pt"
    _resaved(path, bad, lambda sd: sd["fc.weight"].mul_(1.01))
    with pytest.raises(LossTopoError, match="not the ones that were trained"):
        load_checkpoint(bad)
    _one_line_exit_2(_cli("metrics", str(bad), "--out", str(tmp_path / "m.json")), "not the ones that were trained")
    assert not (tmp_path / "m.json").exists()


def test_non_finite_weights_are_refused(trained, tmp_path):
    path, _, _ = trained
    bad = tmp_path / "nan.pt"
    _resaved(path, bad, lambda sd: sd["conv1.weight"].view(-1).__setitem__(0, float("nan")))
    with pytest.raises(LossTopoError, match=r"non-finite weights \(NaN/inf in conv1.weight\)"):
        load_checkpoint(bad)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_valid_checkpoint_passes_at_1_and_2_threads(trained, threads):
    path, model, info = trained
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        loaded = load_checkpoint(path)
        X, y = load_dataset("digits", "test")
        loss = evaluate_model(loaded.model, X, y)[0]
    finally:
        torch.set_num_threads(before)
    # the recorded loss is reproduced far inside the tolerance (measured here: < 1e-6 relative)
    assert abs(loss - info["test_loss"]) <= 0.01 * (LOSS_RTOL * info["test_loss"] + LOSS_ATOL)
    assert info["check"]["samples"] is None and info["check"]["loss"] == info["test_loss"]  # digits: whole split


def test_check_reference_loss_for_any_model_and_data(trained):
    _, model, info = trained
    X, y = load_dataset("digits", "test")
    assert check_reference_loss(model, X, y, info["test_loss"], "weights.pt") == pytest.approx(info["test_loss"])
    with pytest.raises(LossTopoError, match="weights.pt: the weights give a loss of"):
        check_reference_loss(model, X, y, info["test_loss"] * 1.001, "weights.pt")


def test_checkpoints_without_a_reference_load(tmp_path):
    """A checkpoint saved without a recorded loss (save_checkpoint of an untrained model) is not checked."""
    from losstopo.models.zoo import build_model

    save_checkpoint(tmp_path / "u.pt", build_model("mlp", hidden=(4,)),
                    {"model": "mlp", "model_kwargs": {"hidden": [4]}, "data": "digits"})
    assert load_checkpoint(tmp_path / "u.pt").info["model"] == "mlp"
