"""Stage 2's driver: evaluate every coordinate chunk by chunk, resuming finished chunks, with progress."""

from __future__ import annotations

import math
import os
import time
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from .chunks import ChunkStore, plan_run
from .evaluator import EvalConfig, EvalInfo, PointEvaluator


def evaluate_coords(model: nn.Module, directions: Sequence[dict[str, torch.Tensor]], coords: np.ndarray,
                    X: torch.Tensor, y: torch.Tensor, config: EvalConfig | None = None, *,
                    out_dir: str | os.PathLike | None = None, key: dict[str, Any] | None = None,
                    resume: bool = False, store: ChunkStore | None = None,
                    chunk_ids: Iterable[int] | None = None,
                    progress: Callable[[float], None] | None = None,
                    show_progress: bool = True) -> tuple[np.ndarray, np.ndarray, EvalInfo]:
    """Loss and accuracy at every row of `coords`; resumable through DIR/chunks when out_dir is given.

    `chunk_ids` restricts the work to those chunks (distributed shards); their values are returned at
    their positions and the other entries are NaN. `key` names the run (checkpoint, directions, ...);
    `store` is an already opened ChunkStore (distributed runs open it on rank 0 first).
    """
    cfg = config or EvalConfig()
    coords = np.asarray(coords, np.float64)
    n = len(coords)
    plan = plan_run(model, directions, coords, X, y, cfg, key)
    if store is None and out_dir is not None:
        store = plan.open_store(out_dir, resume)
    cfg = EvalConfig(**{**cfg.__dict__, "strategy": plan.strategy})
    chunk_points = store.chunk_points if store is not None else plan.chunk_points
    n_chunks = math.ceil(n / chunk_points)
    todo_ids = list(range(n_chunks)) if chunk_ids is None else list(chunk_ids)
    loss = np.full(n, np.nan)
    acc = np.full(n, np.nan)
    pending = []
    resumed = 0
    for c in todo_ids:
        lo, hi = c * chunk_points, min(n, (c + 1) * chunk_points)
        got = store.load(c) if store is not None else None
        if got is None:
            pending.append(c)
        else:
            loss[lo:hi], acc[lo:hi] = got
            resumed += hi - lo
    ev = PointEvaluator(model, directions, X, y, cfg)
    info = EvalInfo(ev.strategy, False, ev.channels_last, points_resumed=resumed)
    total = sum(min(n, (c + 1) * chunk_points) - c * chunk_points for c in todo_ids)
    if pending and plan.compile:
        lo = pending[0] * chunk_points
        ev.maybe_compile(coords[lo:lo + 1])
    info.compiled = ev.compiled
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=resumed, unit="pt", desc="landscape", disable=not show_progress,
               dynamic_ncols=True, smoothing=0.1)
    t0 = time.perf_counter()
    done = resumed
    try:
        for c in pending:
            lo, hi = c * chunk_points, min(n, (c + 1) * chunk_points)
            cl, ca = ev.evaluate(coords[lo:hi], global_start=lo)
            if store is not None:
                store.save(c, cl, ca)
            loss[lo:hi], acc[lo:hi] = cl, ca
            done += hi - lo
            info.points_computed += hi - lo
            bar.update(hi - lo)
            if progress is not None:
                progress(done / max(1, total))
    finally:
        bar.close()
        info.seconds = time.perf_counter() - t0
        info.notes.extend(ev.notes)
    return loss, acc, info

