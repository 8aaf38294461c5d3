"""Training: seeded, deterministic CPU training of a registered model on digits or CIFAR-10.

SGD with momentum (or Adam) and a cosine learning-rate schedule, optionally after a linear warm-up; the same
seed gives bit-identical weights (torch.manual_seed, deterministic algorithms, a seeded DataLoader generator,
one process). The defaults (SGD, no warm-up, torch's init) are those of every earlier checkpoint.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any, Iterator

import torch
from torch import nn
from tqdm import tqdm

from .. import settings
from ..errors import LossTopoError
from .data import dataset_info, load_dataset
from .evaluate import evaluate_model
from .verify import reference_record
from .zoo import MODELS, build_model, model_kwargs_for_data

DEFAULTS = {"epochs": 10, "lr": 0.1, "batch_size": 128, "momentum": 0.9, "weight_decay": 5e-4}


@contextlib.contextmanager
def deterministic(seed: int, threads: int | None = None) -> Iterator[None]:
    """Seed torch, force deterministic algorithms, optionally set the thread count; restore all afterwards."""
    previous = torch.are_deterministic_algorithms_enabled()
    previous_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        if threads:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(previous)
            torch.set_num_threads(previous_threads)


def default_threads(data: str) -> int | None:
    """1 thread for 8x8 digits (ops too small to share; on a busy machine 2 threads were 10x slower), else torch's."""
    return 1 if data == "digits" else None


def _warmup_cosine(warmup_steps: int, total_steps: int) -> Any:
    """Learning-rate factor at step s: linear from 1/warmup to 1, then a cosine from 1 to 0 at total_steps."""
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return 0.5 * (1.0 + math.cos(math.pi * (step - warmup_steps) / max(1, total_steps - warmup_steps)))
    return factor


def train_model(model_name: str, data: str = "digits", seed: int = 0, epochs: int = DEFAULTS["epochs"],
                lr: float = DEFAULTS["lr"], batch_size: int = DEFAULTS["batch_size"],
                momentum: float = DEFAULTS["momentum"], weight_decay: float = DEFAULTS["weight_decay"],
                data_root: str | None = None, samples: int | None = None,
                model_kwargs: dict[str, Any] | None = None, progress: bool = True,
                threads: int | None = None, optimizer: str = "sgd", warmup_epochs: int = 0,
                bn_bias: float | None = None) -> tuple[nn.Module, dict]:
    """Train registered model `model_name` on data set `data`; returns (model in eval mode, info).

    `model_kwargs` override the ones fitted to the data (e.g. {"residual": False}); `samples` trains on a
    fixed seeded subset; `threads` defaults to default_threads(data). info holds everything save_checkpoint
    records (final losses/accuracies, history).

    `optimizer` "sgd" (momentum) or "adam" (weight_decay as an L2 term); `warmup_epochs` > 0 raises the
    learning rate linearly over that many epochs, then anneals it by a cosine, both per step (0: the cosine
    per epoch of earlier checkpoints); `bn_bias` sets every BatchNorm bias before training (1-1.5 keeps the
    ReLUs of a deep plain BN network nearly linear at init, which stops its gradients exploding with depth).
    """
    if model_name not in MODELS:
        raise LossTopoError(f"unknown model '{model_name}'", f"choose one of: {', '.join(MODELS)}")
    epochs = settings.positive("epochs", epochs, "--epochs")
    batch_size = settings.positive("batch size", batch_size, "--batch-size")
    seed = settings.seed(seed)
    threads = settings.threads(threads)
    if not lr > 0:
        raise LossTopoError(f"learning rate {lr} is not positive", "pass --lr > 0, e.g. 0.1")
    optimizer = settings.optimizer(optimizer)
    warmup_epochs = settings.warmup_epochs(warmup_epochs, epochs)
    bn_bias = settings.bn_bias(bn_bias)
    ds = dataset_info(data)
    kwargs = {**model_kwargs_for_data(model_name, ds.input_shape, ds.num_classes), **(model_kwargs or {})}
    x_tr, y_tr = load_dataset(data, "train", root=data_root, samples=samples)
    x_te, y_te = load_dataset(data, "test", root=data_root)
    history = []
    start = time.perf_counter()
    with deterministic(seed, threads or default_threads(data)):
        used_threads = torch.get_num_threads()  # results are bit-identical for the same seed AND thread count
        model = build_model(model_name, **kwargs)
        if bn_bias is not None:
            for m in model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    nn.init.constant_(m.bias, bn_bias)
        if optimizer == "adam":
            opt: torch.optim.Optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        else:
            opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_tr, y_tr), batch_size=batch_size,
                                             shuffle=True, generator=torch.Generator().manual_seed(seed))
        per_step = warmup_epochs > 0
        if per_step:
            sched: Any = torch.optim.lr_scheduler.LambdaLR(
                opt, _warmup_cosine(warmup_epochs * len(loader), epochs * len(loader)))
        else:
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
        bar = tqdm(range(epochs), desc=f"train {model_name} on {data}", unit="epoch", disable=not progress)
        for epoch in bar:
            model.train()
            total, correct = 0.0, 0
            for xb, yb in loader:
                opt.zero_grad(set_to_none=True)
                out = model(xb)
                loss = nn.functional.cross_entropy(out, yb)
                if not torch.isfinite(loss.detach()):
                    raise LossTopoError(f"training diverged at epoch {epoch + 1} (loss {float(loss.detach())})",
                                        "lower --lr")
                loss.backward()
                opt.step()
                if per_step:
                    sched.step()
                total += float(loss.detach()) * len(yb)
                correct += int((out.argmax(1) == yb).sum())
            if not per_step:
                sched.step()
            test_loss, test_acc = evaluate_model(model, x_te, y_te)
            history.append({"epoch": epoch + 1, "train_loss": total / len(y_tr),
                            "train_accuracy": correct / len(y_tr), "test_loss": test_loss,
                            "test_accuracy": test_acc})
            bar.set_postfix(loss=f"{total / len(y_tr):.3f}", test_acc=f"{test_acc:.3f}")
        model.eval()
        train_loss, train_acc = evaluate_model(model, x_tr, y_tr)
        test_loss, test_acc = evaluate_model(model, x_te, y_te)
    info = {
        "model": model_name, "model_kwargs": kwargs, "data": data, "data_root": data_root,
        "train_samples": len(y_tr), "test_samples": len(y_te), "seed": seed, "epochs": epochs, "lr": lr,
        "batch_size": batch_size, "momentum": momentum, "weight_decay": weight_decay,
        "optimizer": {"sgd": "SGD", "adam": "Adam"}[optimizer],
        "schedule": f"linear warm-up {warmup_epochs} epochs, cosine per step" if per_step else "cosine",
        "warmup_epochs": warmup_epochs, "bn_bias": bn_bias, "threads": used_threads, "torch_version": torch.__version__,
        "train_loss": train_loss, "train_accuracy": train_acc, "test_loss": test_loss, "test_accuracy": test_acc,
        "train_seconds": time.perf_counter() - start, "history": history,
    }
    with deterministic(seed, threads or default_threads(data)):
        info["check"] = reference_record(model, data, data_root, len(y_te))  # verified on every load
    return model, info
