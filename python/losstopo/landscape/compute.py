"""Stage 2 from a checkpoint: `compute_landscape` writes (or returns the finished) landscape folder.

Checks every setting first (losstopo.settings), keys the folder by the checkpoint's sha256 and every
setting, makes or reloads the directions (stage 1, folder.py), evaluates the coordinates chunk by chunk
(driver.py; distributed.py under torchrun) and writes landscape.npz and meta.json (files.py). See
docs/landscape.md.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Callable, Sequence

import numpy as np
import torch

from .. import settings as check
from ..errors import LossTopoError
from ..fileio import cache_root, output_folder
from ..subspace.directions import DEFAULT_KEEP_1D, DEFAULT_NORM
from .driver import evaluate_coords
from .evaluator import STRATEGIES, EvalConfig
from .files import Landscape
from .folder import digest, eval_data, file_digest, finish_landscape, has_chunks, obtain_directions, prepare_folder
from .grid import check_coords, grid_coords

SETTINGS_VERSION = 1


def check_device(device: str) -> str:
    """`device` if torch knows it and it is available here, else a one-line error."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise LossTopoError(f"unknown device {device!r}", "pass --device cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise LossTopoError("--device cuda was asked for but CUDA is not available", "use --device cpu")
    return str(device)


def compute_landscape(checkpoint: str | os.PathLike, *, directions: str = "filter",
                      resolution: int | Sequence[int] = 41,
                      span: float = 1.0, dims: int = 2, samples: int | None = None, seed: int = 0,
                      out_dir: str | os.PathLike | None = None, resume: bool = True, device: str = "cpu",
                      progress: Callable[[float], None] | None = None, show_progress: bool = True,
                      coords: np.ndarray | None = None, directions_file: str | os.PathLike | None = None,
                      norm: str | None = None, keep_1d: bool | None = None, orthonormalize: bool = False,
                      strategy: str = "auto", compile: bool | str = "auto", batch_size: int = 512,
                      chunk_points: int | None = None, distributed: bool = False,
                      overwrite: bool = False) -> Landscape:
    """The loss landscape of a checkpoint around its weights (stages 1-2), written to `out_dir`.

    With out_dir=None the folder is a cache under $LOSSTOPO_CACHE or ~/.cache/losstopo/landscapes/, keyed
    by the checkpoint's sha256 and every setting, so a second call returns at once. With resume=True a
    finished landscape with the same settings is returned as is and an interrupted run continues.
    `coords` (P x dims) replaces the grid (scattered points). The folder has one writer (its lock; rank 0
    of a distributed run holds it); a finished landscape of other settings in it is never replaced
    unless overwrite=True; a failed run removes the folder if it created it and has no chunk to resume.
    """
    from ..models.checkpoint import load_checkpoint

    directions = check.choice("--directions", directions, check.DIRECTION_KINDS)
    if norm is not None:
        norm = check.choice("--norm", norm, check.NORMALIZATIONS)
    strategy = check.choice("--strategy", strategy, STRATEGIES)
    batch_size = check.positive("batch size", batch_size, "--batch-size")
    chunk_points = check.optional_positive("chunk size", chunk_points, "--chunk-points")
    samples = check.samples(samples)
    seed = check.seed(seed)
    res: tuple[int, ...] | None
    if coords is None:
        dims = check.dims(dims)
        res = check.resolution(resolution, dims)
        the_span = check.span(span)
        grid = grid_coords(res, the_span, dims)
    else:
        grid = check_coords(coords)
        dims, res = grid.shape[1], None
        the_span = float(np.abs(grid).max())
    device = check_device(device)
    ckpt = load_checkpoint(checkpoint)
    settings = {"version": SETTINGS_VERSION, "checkpoint_sha256": ckpt.sha256, "directions": directions,
                "norm": norm or DEFAULT_NORM[directions],
                "keep_1d": DEFAULT_KEEP_1D[directions] if keep_1d is None else bool(keep_1d),
                "orthonormalize": bool(orthonormalize),
                "seed": seed, "dims": dims, "resolution": list(res) if res else None, "span": the_span,
                "coords": hashlib.sha256(grid.tobytes()).hexdigest(), "samples": samples, "device": device,
                "strategy": strategy, "compile": compile, "batch_size": batch_size, "chunk_points": chunk_points,
                "directions_file": file_digest(directions_file)}
    settings_key = digest(settings)
    if out_dir is None:
        out_dir = cache_root() / "landscapes" / settings_key[:24]
    if distributed:
        from .distributed import run_distributed

        return run_distributed(ckpt, out_dir, grid, res, the_span, settings, settings_key, resume=resume,
                               overwrite=overwrite, directions_file=directions_file, samples=samples,
                               device=device, strategy=strategy, compile=compile, batch_size=batch_size,
                               chunk_points=chunk_points, show_progress=show_progress, progress=progress)
    with output_folder(out_dir, "landscape", keep=has_chunks) as out:
        done = prepare_folder(out, settings, settings_key, resume, overwrite)
        if done is not None:
            return done
        return _compute(ckpt, out, grid, res, the_span, settings, settings_key, resume=resume,
                        directions_file=directions_file, samples=samples, device=device, strategy=strategy,
                        compile=compile, batch_size=batch_size, chunk_points=chunk_points,
                        show_progress=show_progress, progress=progress)


def _compute(ckpt, out, grid, res, the_span, settings, settings_key, *, resume, directions_file, samples, device,
             strategy, compile, batch_size, chunk_points, show_progress, progress) -> Landscape:
    """One process's landscape in the locked, checked folder `out`."""
    t0 = time.perf_counter()
    X, y, data_name = eval_data(ckpt.info, samples)
    dirs = obtain_directions(ckpt.model, out, settings, X, y, resume, directions_file)
    cfg = EvalConfig(device=device, strategy=strategy, batch_size=batch_size, compile=compile,
                     chunk_points=chunk_points)
    loss, acc, info = evaluate_coords(ckpt.model, dirs.tensors, grid, X, y, cfg, out_dir=out,
                                      key={"settings": settings_key}, resume=resume, progress=progress,
                                      show_progress=show_progress)
    return finish_landscape(out, grid, res, the_span, loss, acc, settings, settings_key, ckpt, dirs, data_name,
                            len(y), info, time.perf_counter() - t0, {"threads": torch.get_num_threads()})
