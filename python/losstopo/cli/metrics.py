"""`losstopo metrics CKPT`: accuracy, loss, top Hessian eigenvalue and Hessian trace of a checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import settings
from ..errors import LossTopoError
from ..study.ml_metrics import HESSIAN_MAX_ITER, HESSIAN_SAMPLES, HESSIAN_TOL


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="a .pt file written by `losstopo train`")
    p.add_argument("--samples", type=int, help="evaluate on this many samples per split (default: all)")
    p.add_argument("--hessian-batch", type=int, default=HESSIAN_SAMPLES,
                   help=f"training samples in the fixed Hessian batch (default {HESSIAN_SAMPLES})")
    p.add_argument("--max-iter", type=int, default=HESSIAN_MAX_ITER, help="Hessian iterations at most")
    p.add_argument("--tol", type=float, default=HESSIAN_TOL, help="Hessian relative tolerance")
    p.add_argument("--seed", type=int, default=0, help="seed of the Hessian's random vectors")
    p.add_argument("--data-root", help="CIFAR-10 folder, if it moved since training")
    p.add_argument("--out", help="JSON file (default: CHECKPOINT with suffix .metrics.json)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from ..fileio import write_json
    from ..models.checkpoint import load_checkpoint
    from ..study.ml_metrics import format_table, ml_metrics

    settings.positive("Hessian batch", args.hessian_batch, "--hessian-batch")
    loaded = load_checkpoint(args.checkpoint, data_root=args.data_root)
    out = Path(args.out) if args.out else Path(args.checkpoint).with_suffix(".metrics.json")
    if out.is_dir() or not out.parent.is_dir():
        raise LossTopoError(f"cannot write {out}", "pass --out a JSON file path in an existing folder")
    m = ml_metrics(loaded, samples=args.samples, hessian_samples=args.hessian_batch, seed=args.seed,
                   data_root=args.data_root, max_iter=args.max_iter, tol=args.tol, progress=not args.no_progress)
    try:
        write_json(out, m)
    except OSError as e:
        raise LossTopoError(f"cannot write {out} ({e.strerror})", "pass --out a writable path") from None
    print(format_table(m))
    print(f"written: {out}")
    return 0
