"""The mean cross-entropy and accuracy of a model on a data set: one definition, used by training, the
checkpoint check (verify.py) and the ML metrics."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def evaluate_model(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> tuple[float, float]:
    """(mean cross-entropy loss, accuracy) of `model` on (X, y) in eval mode; restores the model's mode."""
    was_training = model.training
    model.eval()
    try:
        total, correct = 0.0, 0
        for i in range(0, len(y), batch_size):
            out = model(X[i:i + batch_size])
            total += float(nn.functional.cross_entropy(out, y[i:i + batch_size], reduction="sum"))
            correct += int((out.argmax(1) == y[i:i + batch_size]).sum())
    finally:
        model.train(was_training)
    return total / len(y), correct / len(y)
