"""The training curve of a checkpoint: loss and accuracy per epoch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._mpl import pyplot, save


def plot_history(path: str | Path, info: dict[str, Any]) -> Path:
    """Loss and accuracy per epoch (a checkpoint's info['history']) as a PNG, written atomically."""
    h = info["history"]
    ep = [r["epoch"] for r in h]
    acc = lambda r, split: r.get(f"{split}_accuracy", r.get(f"{split}_acc"))  # noqa: E731  (format 1 spelling)
    fig, (a, b) = pyplot().subplots(1, 2, figsize=(8, 3.2))
    a.plot(ep, [r["train_loss"] for r in h], label="train (running)")
    a.plot(ep, [r["test_loss"] for r in h], label="test")
    a.set(xlabel="epoch", ylabel="cross-entropy", yscale="log")
    b.plot(ep, [acc(r, "train") for r in h], label="train (running)")
    b.plot(ep, [acc(r, "test") for r in h], label="test")
    b.set(xlabel="epoch", ylabel="accuracy")
    a.legend()
    fig.suptitle(f"{info['model']} {info['model_kwargs']} on {info['data']}, seed {info['seed']}", fontsize=8)
    fig.tight_layout()
    return save(fig, path, dpi=100)
