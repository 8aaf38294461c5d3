"""`losstopo metrics CKPT` (or --model/--weights/--data [--loss]): accuracy, loss, top Hessian eigenvalue and
Hessian trace of a checkpoint or of your own model, data and loss."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import settings
from ..errors import LossTopoError
from ..study.ml_metrics import HESSIAN_SKETCH, HESSIAN_SPLIT
from ..subspace.hessian import DEFAULT_MAX_PROBES, DEFAULT_MIN_PROBES, DEFAULT_REL_SE, DEFAULT_TOL


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .landscape import add_threads, add_user_arguments

    p.add_argument("checkpoint", nargs="?", help="a .pt file written by `losstopo train` (or use --model)")
    add_user_arguments(p)
    add_threads(p)
    p.add_argument("--samples", type=int, help="evaluate on this many samples per split (default: all)")
    p.add_argument("--hessian-batch", type=int, default=None,
                   help="first N samples of the Hessian data (default: all of --hessian-split, the data the "
                        "landscape and its Hessian directions use)")
    p.add_argument("--hessian-split", choices=("test", "train"), default=HESSIAN_SPLIT,
                   help="data set split of the Hessian of a checkpoint (default %(default)s)")
    p.add_argument("--tol", type=float, default=DEFAULT_TOL,
                   help="Lanczos tolerance: relative residual of each eigenpair (default %(default)g)")
    p.add_argument("--rel-se", type=float, default=DEFAULT_REL_SE,
                   help="Hessian trace: stop at this relative standard error (default %(default)g)")
    p.add_argument("--min-probes", type=int, default=DEFAULT_MIN_PROBES, help="Hessian trace: probes at least")
    p.add_argument("--max-probes", type=int, default=DEFAULT_MAX_PROBES, help="Hessian trace: probes at most")
    p.add_argument("--seed", type=int, default=0, help="seed of the Hessian's random vectors")
    p.add_argument("--data-root", help="CIFAR-10 folder, if it moved since training")
    p.add_argument("--out", help="JSON file (default: CHECKPOINT or WEIGHTS with suffix .metrics.json)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from ..fileio import write_json
    from ..models.checkpoint import load_checkpoint
    from ..study.ml_metrics import format_table, ml_metrics

    settings.optional_positive("Hessian batch", args.hessian_batch, "--hessian-batch")
    source = settings.model_source(args.checkpoint, args.model, args.data,
                                   {"--weights": args.weights, "--loss": args.loss, "--closure": args.closure})
    threads = settings.threads(args.threads)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    base = args.checkpoint if source == "checkpoint" else args.weights
    if args.out is None and base is None:
        raise LossTopoError("--model without --weights has no default --out", "pass --out FILE.json")
    out = Path(args.out) if args.out else Path(base).with_suffix(".metrics.json")
    if out.is_dir() or not out.parent.is_dir():
        raise LossTopoError(f"cannot write {out}", "pass --out a JSON file path in an existing folder")
    if source == "user":
        return _run_user(args, out)
    loaded = load_checkpoint(args.checkpoint, data_root=args.data_root)
    m = ml_metrics(loaded, samples=args.samples, hessian_samples=args.hessian_batch, seed=args.seed,
                   data_root=args.data_root, tol=args.tol, rel_se=args.rel_se, min_probes=args.min_probes,
                   max_probes=args.max_probes, sketch=HESSIAN_SKETCH, hessian_split=args.hessian_split,
                   progress=not args.no_progress)
    try:
        write_json(out, m)
    except OSError as e:
        raise LossTopoError(f"cannot write {out} ({e.strerror})", "pass --out a writable path") from None
    print(format_table(m))
    print(f"written: {out}")
    return 0


def _run_user(args: argparse.Namespace, out: Path) -> int:
    import torch

    from ..fileio import write_json
    from ..landscape.model_metrics import format_model_metrics, model_metrics
    from .landscape import user_inputs

    model, data, loss, closure = user_inputs(args)
    m = model_metrics(model, data, loss, closure=closure, samples=args.samples, hessian_samples=args.hessian_batch,
                      seed=args.seed, progress=not args.no_progress)
    m.update({"model_spec": args.model, "weights": args.weights, "data_spec": args.data,
              "threads": torch.get_num_threads()})
    write_json(out, m)
    print(format_model_metrics(m))
    print(f"written: {out}")
    return 0
