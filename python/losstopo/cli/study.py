"""`losstopo study residual|depth|files`: the residual study (the paper's Figure 5), the depth study (Li et al.
2018, Fig. 5: ResNet-20/56/110 with and without skips), or existing landscape files."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import names
from ..errors import LossTopoError
from ..study.config import (DEFAULT_EPOCHS, DEFAULT_HESSIAN_SAMPLES, DEFAULT_K, DEFAULT_RESOLUTION, DEFAULT_SPAN,
                            PAPER_SEEDS)
from ..settings import DIRECTION_KINDS
from .parser import Parser


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="study_command", metavar="STUDY", parser_class=Parser)
    r = sub.add_parser("residual", help="ResNet-20 with vs without residual connections (the paper's Figure 5)",
                       description="ResNet-20 with vs without residual connections (the paper's Figure 5)")
    r.add_argument("--data", default="digits", help="digits (embedded, default) or cifar10 (needs --data-root)")
    r.add_argument("--data-root", default=None, help="folder holding cifar-10-batches-py")
    r.add_argument("--seeds", type=int, nargs="+", default=list(PAPER_SEEDS), help="seeds (default: the paper's)")
    r.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="training epochs (default %(default)s)")
    r.add_argument("--resolution", type=int, default=DEFAULT_RESOLUTION, help="grid points per axis")
    r.add_argument("--span", type=float, default=DEFAULT_SPAN, help="half-width of the grid (default %(default)s)")
    r.add_argument("--directions", choices=DIRECTION_KINDS, default="filter",
                   help="landscape directions (default %(default)s)")
    r.add_argument("--samples", type=int, default=None,
                   help="evaluation samples per landscape point (default: the whole test split)")
    r.add_argument("--hessian-samples", type=int, default=DEFAULT_HESSIAN_SAMPLES,
                   help="samples of the Hessian batch (default %(default)s)")
    r.add_argument("--k", type=int, default=DEFAULT_K, help="neighbours per point of the kNN graph representation")
    r.add_argument("--out", required=True, help="study folder (rerun the same command to resume)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.add_argument("--overwrite", action="store_true",
                   help="replace a study of other settings in --out (refused without it)")
    add_threads(r)
    r.set_defaults(_study=run_residual)

    from ..study import depth_config as dc

    d = sub.add_parser("depth", help="ResNet-20/56/110 with vs without skip connections (Li et al. 2018, Fig. 5)",
                       description="ResNet-20/56/110 with vs without skip connections (Li et al. 2018, Fig. 5): "
                                   "accuracy, Hessian metrics and landscape topology per model")
    d.add_argument("--data", default="digits", help="digits (embedded, default) or cifar10 (needs --data-root)")
    d.add_argument("--data-root", default=None, help="folder holding cifar-10-batches-py")
    d.add_argument("--depths", type=int, nargs="+", default=list(dc.DEPTHS), help="ResNet depths 6n+2")
    d.add_argument("--seeds", type=int, nargs="+", default=list(PAPER_SEEDS), help="seeds (default: the paper's)")
    d.add_argument("--epochs", type=int, default=dc.DEFAULT_EPOCHS, help="training epochs (default %(default)s)")
    d.add_argument("--lr", type=float, default=dc.DEFAULT_LR, help="Adam learning rate (default %(default)s)")
    d.add_argument("--batch-size", type=int, default=dc.DEFAULT_BATCH_SIZE, help="batch size (default %(default)s)")
    d.add_argument("--resolution", type=int, default=dc.DEFAULT_RESOLUTION,
                   help="grid points per axis over the largest span (odd; default %(default)s)")
    d.add_argument("--spans", type=float, nargs="+", default=list(dc.DEFAULT_SPANS),
                   help="half-widths; smaller ones are centred crops of the largest one's grid (default %(default)s)")
    d.add_argument("--directions", nargs="+", choices=DIRECTION_KINDS, default=list(dc.DEFAULT_DIRECTIONS),
                   help="landscape direction kinds (default %(default)s)")
    d.add_argument("--samples", type=int, default=dc.DEFAULT_SAMPLES,
                   help="evaluation samples per landscape point (default: the whole test split)")
    d.add_argument("--hessian-samples", type=int, default=dc.DEFAULT_HESSIAN_SAMPLES,
                   help="test samples of the Hessian metrics (default: the whole test split, as the landscape)")
    d.add_argument("--k", type=int, default=dc.DEFAULT_K, help="neighbours per point of the kNN graph")
    d.add_argument("--out", required=True, help="study folder (rerun the same command to resume)")
    d.add_argument("--no-progress", action="store_true", help="no progress bars")
    d.add_argument("--overwrite", action="store_true",
                   help="replace a study of other settings in --out (refused without it)")
    d.add_argument("--finished-only", action="store_true",
                   help="compute nothing: write the CSV, figures and summary of the models finished so far")
    add_threads(d)
    d.set_defaults(_study=run_depth)

    f = sub.add_parser("files", help="topology metrics of existing landscape files, grouped by a regex",
                       description="topology metrics of existing landscape files, grouped by a regex")
    f.add_argument("patterns", nargs="+", metavar="PATTERN",
                   help="landscape files (.vti/.vtu) or landscape folders; globs allowed (quote them)")
    f.add_argument("--group-by", required=True, metavar="REGEX",
                   help="regex matched against each file name; its first group (or (?P<group>...)) names the group; "
                        "optional (?P<span>...) and (?P<seed>...) groups give the span (x axis) and seed")
    f.add_argument("--array", default=names.LOSS, help="point array to analyse (default %(default)s)")
    f.add_argument("--k", type=int, default=8, help="neighbours per point of the kNN graph of scattered landscapes")
    f.add_argument("--out", default="study-files", help="output folder (default %(default)s)")
    f.add_argument("--overwrite", action="store_true",
                   help="replace a files study of other settings in --out (refused without it)")
    f.set_defaults(_study=run_files)


def add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: torch's; 1 is often faster on a busy 2-core machine); "
                        "recorded in OUT/run.json")


def run_depth(args: argparse.Namespace) -> int:
    from ..jobs.study import run_depth_study
    from ..study.depth_config import DepthConfig, parse_spans

    cfg = DepthConfig(data=args.data, data_root=args.data_root, depths=tuple(args.depths), seeds=tuple(args.seeds),
                      epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, resolution=args.resolution,
                      spans=parse_spans(args.spans), directions=tuple(args.directions), samples=args.samples,
                      hessian_samples=args.hessian_samples or None, k=args.k)
    csv_path = run_depth_study(args.out, cfg, show_progress=not args.no_progress, overwrite=args.overwrite,
                               threads=args.threads, finished_only=args.finished_only)
    out = csv_path.parent
    print(f"depth study done: {csv_path}, {out / 'figure5.png'}, {out / 'gallery.png'}, {out / 'summary.md'}")
    return 0


def run_residual(args: argparse.Namespace) -> int:
    from ..jobs.study import run_residual_study
    from ..study.config import StudyConfig

    cfg = StudyConfig(data=args.data, data_root=args.data_root, seeds=tuple(args.seeds), epochs=args.epochs,
                      resolution=args.resolution, span=args.span, directions=args.directions,
                      samples=args.samples, hessian_samples=args.hessian_samples, k=args.k)
    csv_path = run_residual_study(args.out, cfg, show_progress=not args.no_progress, overwrite=args.overwrite,
                                  threads=args.threads)
    out = csv_path.parent
    print(f"study done: {csv_path}, {out / 'figure5.png'}, {out / 'gallery.png'}, {out / 'summary.md'}")
    return 0


def run_files(args: argparse.Namespace) -> int:
    from ..jobs.study_files import study_files

    rows = study_files(args.patterns, args.group_by, args.out, array=args.array, k=args.k, overwrite=args.overwrite)
    print(f"{len(rows)} landscapes -> {Path(args.out) / 'files.csv'}, {Path(args.out) / 'files_figure.png'}, "
          f"{Path(args.out) / 'files_summary.md'}")
    return 0


def run(args: argparse.Namespace) -> int:
    fn = getattr(args, "_study", None)
    if fn is None:
        raise LossTopoError("no study named", "use `losstopo study residual|depth|files ...`")
    return fn(args)
