"""Training: seeded, deterministic CPU training of a registered model on digits or CIFAR-10.

SGD with momentum and a cosine learning-rate schedule; the same seed gives bit-identical weights
(torch.manual_seed, deterministic algorithms, a seeded DataLoader generator, one process).
"""

from __future__ import annotations

import contextlib
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


def train_model(model_name: str, data: str = "digits", seed: int = 0, epochs: int = DEFAULTS["epochs"],
                lr: float = DEFAULTS["lr"], batch_size: int = DEFAULTS["batch_size"],
                momentum: float = DEFAULTS["momentum"], weight_decay: float = DEFAULTS["weight_decay"],
                data_root: str | None = None, samples: int | None = None,
                model_kwargs: dict[str, Any] | None = None, progress: bool = True,
                threads: int | None = None) -> tuple[nn.Module, dict]:
    """Train registered model `model_name` on data set `data`; returns (model in eval mode, info).

    `model_kwargs` override the ones fitted to the data (e.g. {"residual": False}); `samples` trains on a
    fixed seeded subset; `threads` defaults to default_threads(data). info holds everything save_checkpoint
    records (final losses/accuracies, history).
    """
    if model_name not in MODELS:
        raise LossTopoError(f"unknown model '{model_name}'", f"choose one of: {', '.join(MODELS)}")
    epochs = settings.positive("epochs", epochs, "--epochs")
    batch_size = settings.positive("batch size", batch_size, "--batch-size")
    seed = settings.seed(seed)
    threads = settings.threads(threads)
    if not lr > 0:
        raise LossTopoError(f"learning rate {lr} is not positive", "pass --lr > 0, e.g. 0.1")
    ds = dataset_info(data)
    kwargs = {**model_kwargs_for_data(model_name, ds.input_shape, ds.num_classes), **(model_kwargs or {})}
    x_tr, y_tr = load_dataset(data, "train", root=data_root, samples=samples)
    x_te, y_te = load_dataset(data, "test", root=data_root)
    history = []
    start = time.perf_counter()
    with deterministic(seed, threads or default_threads(data)):
        used_threads = torch.get_num_threads()  # results are bit-identical for the same seed AND thread count
        model = build_model(model_name, **kwargs)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_tr, y_tr), batch_size=batch_size,
                                             shuffle=True, generator=torch.Generator().manual_seed(seed))
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
                total += float(loss.detach()) * len(yb)
                correct += int((out.argmax(1) == yb).sum())
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
        "optimizer": "SGD", "schedule": "cosine", "threads": used_threads, "torch_version": torch.__version__,
        "train_loss": train_loss, "train_accuracy": train_acc, "test_loss": test_loss, "test_accuracy": test_acc,
        "train_seconds": time.perf_counter() - start, "history": history,
    }
    with deterministic(seed, threads or default_threads(data)):
        info["check"] = reference_record(model, data, data_root, len(y_te))  # verified on every load
    return model, info
