"""Checks that loaded weights are the ones that were trained: the file's CRCs, finite weights, and one
forward pass that must reproduce the recorded loss.

A checkpoint with flipped bits in its tensors loads without complaint in torch (its zip reader does not
check CRC-32), and a landscape of such weights is a landscape of noise. So on load:

* `check_zip`: every member's CRC-32 (Python's zipfile): any flipped bit in a stored tensor fails it;
* `check_finite_weights`: no NaN/inf in any floating-point parameter or buffer;
* `check_reference_loss`: the mean cross-entropy of the model on the recorded evaluation data must equal
  the recorded loss within LOSS_RTOL (relative) + LOSS_ATOL (absolute). The tolerance covers what changes
  between runs of the same weights: the thread count (float32 sums in another order; measured up to
  ~1e-6 relative between 1 and 2 threads for ResNet-20 on digits, tests/models/test_verify.py) and CPU
  kernels; a corrupted weight that survives the CRC (a file re-saved after editing) changes it by far more.

`train_model` records the reference as info["check"] = {"samples": n, "loss": l}: the loss on the first
n = CHECK_SAMPLES samples (load_dataset's fixed subset; None: the whole test split when it is smaller) of
the test split, so the check costs one small forward pass. Older checkpoints fall back to their
test_loss on the whole test split. Each failure is a one-line LossTopoError. `check_reference_loss`
is the function for any model, data and reference loss (e.g. a user's weights file where a reference
loss is given).
"""

from __future__ import annotations

import io
import math
import zipfile
from typing import Any, Mapping

import torch
from torch import nn

from ..errors import LossTopoError
from .evaluate import evaluate_model

LOSS_RTOL = 1e-4
LOSS_ATOL = 1e-6
CHECK_SAMPLES = 512


def check_zip(data: bytes, source: str) -> None:
    """One line if a zip file's (torch.save's format) members fail their CRC-32 check."""
    if data[:2] != b"PK":
        return  # not a zip (legacy torch format): torch.load decides
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError) as e:
        raise LossTopoError(f"{source} is truncated or corrupt ({type(e).__name__})",
                            "train it again or copy it again") from None
    if bad is not None:
        raise LossTopoError(f"{source} is corrupt (CRC check failed for {bad.split('/')[-1]}: its bytes changed "
                            "since it was written)", "copy it again from where it was trained, or train it again")


def check_finite_weights(state: nn.Module | Mapping[str, torch.Tensor], source: str) -> None:
    """One line naming the first parameter or buffer with NaN/inf values."""
    items = state.state_dict().items() if isinstance(state, nn.Module) else state.items()
    for name, t in items:
        if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise LossTopoError(f"{source} holds non-finite weights (NaN/inf in {name})",
                                "copy it again, or train it again (a diverged training saves such weights)")


def check_reference_loss(model: nn.Module, X: torch.Tensor, y: torch.Tensor, recorded: float, source: str,
                         what: str = "recorded test loss", batch_size: int = 1024) -> float:
    """The model's mean cross-entropy on (X, y) (eval mode, no grad); one line unless it equals `recorded`
    within LOSS_RTOL * |recorded| + LOSS_ATOL. Returns the loss computed here."""
    got = evaluate_model(model, X, y, batch_size=batch_size)[0]
    ok = math.isfinite(got) and abs(got - float(recorded)) <= LOSS_RTOL * abs(float(recorded)) + LOSS_ATOL
    if not ok:
        raise LossTopoError(f"{source}: the weights give a loss of {got:.6g} on the recorded evaluation data, not "
                            f"the {what} {float(recorded):.6g} (the weights are not the ones that were trained)",
                            "copy the file again, or train it again")
    return got


def reference(info: Mapping[str, Any]) -> tuple[int | None, float] | None:
    """(samples or None for the whole test split, loss) that a checkpoint's info records, or None."""
    check = info.get("check")
    if isinstance(check, Mapping) and isinstance(check.get("loss"), (int, float)) and info.get("data"):
        n = check.get("samples")
        return (int(n) if isinstance(n, int) else None), float(check["loss"])
    if isinstance(info.get("test_loss"), (int, float)) and info.get("data"):
        return None, float(info["test_loss"])
    return None


def reference_record(model: nn.Module, data: str, data_root: str | None, n_test: int) -> dict[str, Any]:
    """info["check"] for a trained model: its loss on load_dataset's first CHECK_SAMPLES test samples (the
    whole test split when it is no larger), exactly the data verify_checkpoint evaluates."""
    from .data import load_dataset
    samples = CHECK_SAMPLES if n_test > CHECK_SAMPLES else None
    X, y = load_dataset(data, "test", root=data_root, samples=samples)
    return {"samples": samples, "loss": evaluate_model(model, X, y)[0]}


def verify_checkpoint(model: nn.Module, info: Mapping[str, Any], source: str, data_root: str | None = None) -> None:
    """Finite weights, and the recorded reference loss reproduced on the recorded data (when recorded)."""
    check_finite_weights(model, source)
    ref = reference(info)
    if ref is None:
        return
    from .data import load_dataset

    samples, loss = ref
    X, y = load_dataset(str(info.get("data")), "test", root=data_root or info.get("data_root"), samples=samples)
    what = "recorded test loss" if samples is None else f"recorded loss on {samples} test samples"
    check_reference_loss(model, X, y, loss, source, what=what)
