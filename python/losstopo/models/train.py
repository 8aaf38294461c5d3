"""`losstopo train`: seeded, deterministic CPU training of a registered model on digits or CIFAR-10.

SGD with momentum and a cosine learning-rate schedule; the same seed gives bit-identical weights
(torch.manual_seed, deterministic algorithms, a seeded DataLoader generator, one process).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn
from tqdm import tqdm

from .checkpoint import save_checkpoint
from .data import DATASETS, dataset_info, load_dataset
from .errors import LossTopoError
from .fileio import atomic_path, ensure_output_dir
from .models import MODELS, build_model, model_kwargs_for_data

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
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise LossTopoError(f"invalid training settings epochs={epochs} batch_size={batch_size} lr={lr}",
                            "use epochs >= 1, batch size >= 1, lr > 0")
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
            history.append({"epoch": epoch + 1, "train_loss": total / len(y_tr), "train_acc": correct / len(y_tr),
                            "test_loss": test_loss, "test_acc": test_acc})
            bar.set_postfix(loss=f"{total / len(y_tr):.3f}", test_acc=f"{test_acc:.3f}")
        model.eval()
        train_loss, train_acc = evaluate_model(model, x_tr, y_tr)
        test_loss, test_acc = evaluate_model(model, x_te, y_te)
    info = {
        "model": model_name, "model_kwargs": kwargs, "data": data, "data_root": data_root,
        "train_samples": len(y_tr), "test_samples": len(y_te), "seed": seed, "epochs": epochs, "lr": lr,
        "batch_size": batch_size, "momentum": momentum, "weight_decay": weight_decay,
        "optimizer": "SGD", "schedule": "cosine", "threads": used_threads, "torch_version": torch.__version__,
        "train_loss": train_loss, "train_acc": train_acc, "test_loss": test_loss, "test_acc": test_acc,
        "train_seconds": time.perf_counter() - start, "history": history,
    }
    return model, info


def plot_history(path: str | Path, info: dict[str, Any]) -> None:
    """Loss and accuracy per epoch as a PNG, written atomically."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():  # Debian's mpl_toolkits next to pip's matplotlib: 3-D is not needed here
        warnings.filterwarnings("ignore", message="Unable to import Axes3D")
        import matplotlib.pyplot as plt

    h = info["history"]
    ep = [r["epoch"] for r in h]
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.2))
    a.plot(ep, [r["train_loss"] for r in h], label="train (running)")
    a.plot(ep, [r["test_loss"] for r in h], label="test")
    a.set(xlabel="epoch", ylabel="cross-entropy", yscale="log")
    b.plot(ep, [r["train_acc"] for r in h], label="train (running)")
    b.plot(ep, [r["test_acc"] for r in h], label="test")
    b.set(xlabel="epoch", ylabel="accuracy")
    a.legend()
    fig.suptitle(f"{info['model']} {info['model_kwargs']} on {info['data']}, seed {info['seed']}", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="resnet20", choices=sorted(MODELS), help="model to train")
    p.add_argument("--no-residual", action="store_true", help="resnet20 without any skip connection")
    p.add_argument("--shortcut", choices=("A", "B"), help="resnet20 shortcut: A zero-pad (default), B 1x1 conv")
    p.add_argument("--data", default="digits", choices=sorted(DATASETS), help="data set")
    p.add_argument("--data-root", help="folder holding cifar-10-batches-py (CIFAR-10 only)")
    p.add_argument("--samples", type=int, help="train on a fixed seeded subset of this many samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    p.add_argument("--momentum", type=float, default=DEFAULTS["momentum"])
    p.add_argument("--weight-decay", type=float, default=DEFAULTS["weight_decay"])
    p.add_argument("--out", help="checkpoint path (default runs/MODEL-DATA-seedN.pt); a .png curve goes next to it")
    p.add_argument("--threads", type=int, help="torch threads (default: 1 for digits, torch's default otherwise)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    model_kwargs: dict[str, Any] = {}
    if args.no_residual or args.shortcut:
        if args.model != "resnet20":
            raise LossTopoError(f"--no-residual/--shortcut apply to resnet20, not {args.model}",
                                "drop them or use --model resnet20")
        if args.no_residual:
            model_kwargs["residual"] = False
        if args.shortcut:
            model_kwargs["shortcut"] = args.shortcut
    suffix = "-plain" if args.no_residual else ""
    out = Path(args.out or f"runs/{args.model}{suffix}-{args.data}-seed{args.seed}.pt")
    if out.is_dir():
        raise LossTopoError(f"--out {out} is a folder", "pass a file path such as runs/model.pt")
    ensure_output_dir(out.parent or Path("."))  # fail before training, not after
    if dataset_info(args.data).needs_root:
        load_dataset(args.data, "test", root=args.data_root)  # a missing/malformed folder fails fast too
    model, info = train_model(args.model, data=args.data, seed=args.seed, epochs=args.epochs, lr=args.lr,
                              batch_size=args.batch_size, momentum=args.momentum,
                              weight_decay=args.weight_decay, data_root=args.data_root, samples=args.samples,
                              model_kwargs=model_kwargs, progress=not args.no_progress, threads=args.threads)
    save_checkpoint(out, model, info)
    png = out.with_suffix(".png")
    plot_history(png, info)
    print(f"{out}: {args.model} {info['model_kwargs']} on {args.data}, seed {args.seed}, {args.epochs} epochs "
          f"in {info['train_seconds']:.1f} s; train loss {info['train_loss']:.4f} acc {info['train_acc']:.4f}, "
          f"test loss {info['test_loss']:.4f} acc {info['test_acc']:.4f} (curve: {png})")
    return 0
