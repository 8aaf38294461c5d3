"""`losstopo train`: train a registered model on digits or CIFAR-10, seeded; a checkpoint and its curve."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import LossTopoError
from ..fileio import check_creatable
from ..models.data import DATASETS, dataset_info, load_dataset
from ..models.train import DEFAULTS, train_model
from ..models.zoo import MODELS


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
    from ..models.checkpoint import save_checkpoint
    from ..plots.training import plot_history

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
    check_creatable(out.parent or Path("."))  # fail before training, not after (and create nothing yet)
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
          f"in {info['train_seconds']:.1f} s; train loss {info['train_loss']:.4f} accuracy "
          f"{info['train_accuracy']:.4f}, test loss {info['test_loss']:.4f} accuracy {info['test_accuracy']:.4f} "
          f"(curve: {png})")
    return 0
