"""Distributed landscapes: `torchrun --nproc_per_node N -m losstopo landscape ... --distributed`.

Rank 0 makes (or reloads) the directions and opens the chunk store first (so a mismatched resume is
refused once, for everyone); the directions are broadcast. Chunks are dealt round-robin (chunk c goes
to rank c mod N), each rank writes its finished chunks to DIR/chunks/ (so each rank resumes its own
shard with --resume), and rank 0 gathers every rank's values with torch.distributed and writes the
final files. Each point is evaluated exactly as in a single process, so the result is identical.
Backend: gloo on CPU, NCCL on GPUs (each rank on cuda:LOCAL_RANK). Rank 0 holds the folder's lock
(fileio.output_folder) and checks it (folder.prepare_folder) for the whole run; the other ranks write
their chunks under that lock, and any refusal reaches every rank as the same one line.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..errors import LossTopoError
from ..fileio import output_folder
from ..subspace.directions import Directions
from .chunks import plan_run
from .driver import evaluate_coords
from .evaluator import EvalConfig
from .files import Landscape
from .folder import eval_data, finish_landscape, has_chunks, obtain_directions, prepare_folder


def _init() -> tuple[Any, int, int]:
    import torch.distributed as dist

    if not dist.is_available():
        raise LossTopoError("this torch build has no torch.distributed", "run without --distributed")
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise LossTopoError("--distributed needs the torchrun environment (RANK, WORLD_SIZE)",
                            "start it as: torchrun --nproc_per_node N -m losstopo landscape ... --distributed")
    return dist, int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])


def _broadcast_error(dist: Any, rank: int, fn: Callable[[], Any]) -> Any:
    """Run fn on rank 0; if it raises a LossTopoError every rank raises it (no rank is left waiting)."""
    msg: list[Any] = [None]
    result = None
    if rank == 0:
        try:
            result = fn()
        except LossTopoError as e:
            msg = [str(e)]
    dist.broadcast_object_list(msg, src=0)
    if msg[0] is not None:
        raise LossTopoError(msg[0])
    return result


def run_distributed(ckpt: Any, out_dir: str | os.PathLike, grid: np.ndarray, res: tuple[int, ...] | None,
                    span: float, settings: dict[str, Any], settings_key: str, *, resume: bool, overwrite: bool,
                    directions_file: str | os.PathLike | None, samples: int | None, device: str,
                    strategy: str, compile: bool | str, batch_size: int, chunk_points: int | None,
                    show_progress: bool,
                    progress: Callable[[float], None] | None) -> Landscape | None:
    """This rank's part of a landscape; rank 0 returns the Landscape, the others None."""
    dist, rank, world = _init()
    is_cuda = torch.device(device).type == "cuda"
    if is_cuda:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
        torch.cuda.set_device(torch.device(device))
    dist.init_process_group("nccl" if is_cuda else "gloo")
    try:
        with contextlib.ExitStack() as held:
            return _run(dist, rank, world, held, ckpt, Path(out_dir), grid, res, span, settings, settings_key,
                        resume=resume, overwrite=overwrite, directions_file=directions_file, samples=samples,
                        device=device, strategy=strategy, compile=compile, batch_size=batch_size,
                        chunk_points=chunk_points, show_progress=show_progress, progress=progress)
    finally:
        dist.destroy_process_group()


def _run(dist: Any, rank: int, world: int, held: contextlib.ExitStack, ckpt: Any, out: Path, grid: np.ndarray,
         res: tuple[int, ...] | None, span: float, settings: dict[str, Any], settings_key: str, *, resume: bool,
         overwrite: bool, directions_file: str | os.PathLike | None, samples: int | None, device: str,
         strategy: str, compile: bool | str, batch_size: int, chunk_points: int | None, show_progress: bool,
         progress: Callable[[float], None] | None) -> Landscape | None:
    """The run itself; rank 0 enters the folder's lock into `held` first (released when the run ends)."""

    def lock_and_check() -> Landscape | None:
        held.enter_context(output_folder(out, "landscape", keep=has_chunks))
        return prepare_folder(out, settings, settings_key, resume, overwrite)

    done = _broadcast_error(dist, rank, lock_and_check)
    finished_already = [done is not None]
    dist.broadcast_object_list(finished_already, src=0)
    if finished_already[0]:
        return done
    t0 = time.perf_counter()
    X, y, data_name = eval_data(ckpt.info, samples)
    made = _broadcast_error(dist, rank, lambda: obtain_directions(ckpt.model, out, settings, X, y, resume,
                                                                   directions_file))
    payload = [(made.tensors, made.meta) if rank == 0 else None]
    dist.broadcast_object_list(payload, src=0)
    dirs = Directions(*payload[0])
    cfg = EvalConfig(device=device, strategy=strategy, batch_size=batch_size, compile=compile,
                     chunk_points=chunk_points)
    plan = plan_run(ckpt.model, dirs.tensors, grid, X, y, cfg, {"settings": settings_key})
    store = _broadcast_error(dist, rank, lambda: plan.open_store(out, resume))
    if rank != 0:
        store = plan.open_store(out, resume=True)  # same key: only checks it (or writes it on a local disk)
    n_chunks = math.ceil(len(grid) / store.chunk_points)
    mine = list(range(rank, n_chunks, world))
    loss, acc, info = evaluate_coords(ckpt.model, dirs.tensors, grid, X, y, cfg, store=store, chunk_ids=mine,
                                      show_progress=show_progress and rank == 0,
                                      progress=progress if rank == 0 else None)
    gathered: list[Any] | None = [None] * world if rank == 0 else None
    dist.gather_object((mine, loss, acc, info.points_computed, info.seconds), gathered, dst=0)
    result = None
    if rank == 0:
        assert gathered is not None
        full_loss, full_acc = np.full(len(grid), np.nan), np.full(len(grid), np.nan)
        info.points_computed, info.seconds = 0, 0.0
        for ids, lo_, ac_, computed, seconds in gathered:
            for c in ids:
                lo, hi = store.bounds(c)
                full_loss[lo:hi], full_acc[lo:hi] = lo_[lo:hi], ac_[lo:hi]
            info.points_computed += computed
            info.seconds = max(info.seconds, seconds)
        info.points_resumed = len(grid) - info.points_computed
        result = finish_landscape(out, grid, res, span, full_loss, full_acc, settings, settings_key, ckpt, dirs,
                                  data_name, len(y), info, time.perf_counter() - t0,
                                  extra_meta={"distributed_world_size": world,
                                              "distributed_backend": dist.get_backend()})
    dist.barrier()
    return result
