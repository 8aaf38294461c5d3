"""`losstopo landscape`: stages 1-2 from a checkpoint, or your own model/weights/data/loss files, to a
landscape folder (plus its landscape.vti)."""

from __future__ import annotations

import argparse

import numpy as np

from ..errors import LossTopoError
from ..landscape.evaluator import STRATEGIES
from ..settings import DIRECTION_KINDS, NORMALIZATIONS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", nargs="?", help="checkpoint written by `losstopo train` (or use --model)")
    add_user_arguments(p)
    p.add_argument("--directions", default="filter", choices=DIRECTION_KINDS,
                   help="random = layer-normalised Gaussian, filter = filter-normalised Gaussian (Li et al.), "
                        "hessian = top Hessian eigenvectors (default filter)")
    p.add_argument("--norm", choices=NORMALIZATIONS, default=None, help="override the normalisation of --directions")
    p.add_argument("--keep-1d", action="store_const", const=True, default=None,
                   help="perturb biases/BatchNorm too (default: zeroed, except for hessian)")
    p.add_argument("--orthonormalize", action="store_true", help="Gram-Schmidt the directions (unit norm)")
    p.add_argument("--directions-file", default=None, help="reuse DIR/directions.pt of an earlier landscape")
    p.add_argument("--resolution", type=int, default=41, help="points per axis (default 41)")
    p.add_argument("--span", type=float, default=1.0, help="half-width: the grid covers [-span, span]")
    p.add_argument("--dims", type=int, default=2, choices=(1, 2, 3))
    p.add_argument("--samples", type=int, default=None, help="evaluation samples (default: whole test split)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random directions")
    p.add_argument("--coords", default=None, help="FILE.npy with (P, dims) coordinates instead of a grid")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a finished landscape of other settings in --out (refused without it)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--strategy", default="auto", choices=STRATEGIES, help="evaluation strategy (default auto)")
    p.add_argument("--compile", default="auto", choices=("auto", "on", "off"),
                   help="torch.compile the forward (auto: for runs long enough to pay the ~12 s)")
    p.add_argument("--batch-size", type=int, default=512, help="evaluation batch size (default 512)")
    p.add_argument("--chunk-points", type=int, default=None, help="points per saved chunk (default: ~seconds)")
    p.add_argument("--distributed", action="store_true", help="shard across torchrun processes")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_threads(p)


def add_user_arguments(p: argparse.ArgumentParser) -> None:
    """--model/--weights/--data/--loss/--closure: your own model, weights, data and loss (docs/models-data.md)."""
    g = p.add_argument_group("your own model (instead of a checkpoint)")
    g.add_argument("--model", metavar="FILE.py:FUNCTION", help="a function returning your nn.Module")
    g.add_argument("--weights", metavar="FILE", help="its weights: a state_dict, a saved module or a checkpoint")
    g.add_argument("--data", metavar="FILE.py:FUNCTION",
                   help="a function returning a DataLoader, Dataset, (X, y) or a list of (inputs, targets)")
    g.add_argument("--loss", metavar="FILE.py:FUNCTION", help="loss(outputs, targets) -> scalar "
                   "(default: cross-entropy for integer targets, MSE for float targets)")
    g.add_argument("--closure", metavar="FILE.py:FUNCTION", help="closure(model, batch) -> scalar loss instead")


def add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: torch's, all cores; 1 is often faster on a busy 2-core machine)")


def user_inputs(args: argparse.Namespace) -> tuple[object, object, object, object]:
    """(model, data, loss, closure) from --model/--weights/--data/--loss/--closure, each checked."""
    from ..models.user import build_user_model, load_function, load_user_data

    model = build_user_model(args.model, args.weights)
    data = load_user_data(args.data)
    loss = load_function(args.loss, "--loss") if args.loss else None
    closure = load_function(args.closure, "--closure") if args.closure else None
    return model, data, loss, closure


def run(args: argparse.Namespace) -> int:
    import contextlib

    from ..fileio import output_folder
    from ..landscape.folder import has_chunks
    from ..landscape.grid import load_coords

    from .. import settings

    source = settings.model_source(args.checkpoint, args.model, args.data,
                                   {"--weights": args.weights, "--loss": args.loss, "--closure": args.closure})
    threads = settings.threads(args.threads)
    if source == "user" and args.distributed:
        raise LossTopoError("--distributed works with checkpoints only", "drop --distributed with --model")
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    coords = load_coords(args.coords) if args.coords else None
    if source == "user":
        with output_folder(args.out, "landscape", keep=has_chunks):
            return _run_user(args, coords)
    # one writer for the whole command (landscape.vti included); under torchrun rank 0 locks inside
    folder = contextlib.nullcontext() if args.distributed else output_folder(args.out, "landscape", keep=has_chunks)
    with folder:
        return _run(args, coords)


def _run(args: argparse.Namespace, coords: np.ndarray | None) -> int:
    from ..landscape.compute import compute_landscape

    comp = {"auto": "auto", "on": True, "off": False}[args.compile]
    ls = compute_landscape(args.checkpoint, directions=args.directions, resolution=args.resolution, span=args.span,
                           dims=args.dims, samples=args.samples, seed=args.seed, out_dir=args.out,
                           resume=args.resume, device=args.device, show_progress=not args.quiet, coords=coords,
                           directions_file=args.directions_file, norm=args.norm, keep_1d=args.keep_1d,
                           orthonormalize=args.orthonormalize, strategy=args.strategy, compile=comp,
                           batch_size=args.batch_size, chunk_points=args.chunk_points, distributed=args.distributed,
                           overwrite=args.overwrite)
    if ls is None:  # a non-zero rank of a distributed run
        return 0
    _summary(ls, write_vti(ls))
    return 0


def _run_user(args: argparse.Namespace, coords: np.ndarray | None) -> int:
    from ..landscape.api import landscape

    model, data, loss, closure = user_inputs(args)
    directions = args.directions
    if args.directions_file:
        from ..subspace.directions import load_directions

        directions = load_directions(args.directions_file, model)
    comp = {"auto": "auto", "on": True, "off": False}[args.compile]
    ls = landscape(model, data, loss, closure=closure, directions=directions, resolution=args.resolution,
                   span=args.span, dims=args.dims, seed=args.seed, norm=args.norm, keep_1d=args.keep_1d,
                   orthonormalize=args.orthonormalize, coords=coords, samples=args.samples,
                   batch_size=args.batch_size, device=args.device, out=args.out, overwrite=args.overwrite,
                   threads=None, strategy=args.strategy, compile=comp, progress=not args.quiet)
    note = write_vti(ls)
    _summary(ls, note)
    return 0


def _summary(ls, note: str | None) -> None:
    m = ls.meta
    finite = ls.loss[np.isfinite(ls.loss)]
    lo = f"{finite.min():.4f}" if finite.size else "n/a"
    loss = f", loss {m['loss']}" if "loss" in m and isinstance(m["loss"], str) else ""
    print(f"{ls.directory}: {len(ls.loss)} points{loss}, loss min {lo}, {m.get('n_nonfinite', 0)} non-finite, "
          f"{m.get('points_per_second')} points/s ({m.get('strategy')}{', compiled' if m.get('compiled') else ''})")
    if note:
        print(f"note: {note}")


def write_vti(ls) -> str | None:
    """Add landscape.vti (the grid as VTK) to the folder; a note instead where VTK is not importable."""
    try:
        from ..vtkio import write_landscape_vti
    except LossTopoError as e:
        return f"landscape.vti not written ({e})"
    write_landscape_vti(ls)
    return None
