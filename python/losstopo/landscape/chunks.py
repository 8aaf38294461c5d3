"""Stage 2's chunk store: finished chunks of a run written atomically under the key of its settings.

DIR/chunks/key.json names every setting that changes a value (coordinates, data, directions, strategy,
batch size, dtype, torch version, ...); DIR/chunks/chunk_NNNNNNN.npz hold the finished chunks. A
resume with other settings is refused, an unreadable key discards the chunks it cannot vouch for.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import LossTopoError
from ..fileio import atomic_path, write_json
from .evaluator import STRATEGIES, EvalConfig, choose_strategy, has_conv

CHUNKS_DIR = "chunks"
KEY_FILE = "key.json"


def array_digest(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        t = a.detach().cpu().contiguous().numpy() if isinstance(a, torch.Tensor) else np.ascontiguousarray(a)
        h.update(str(t.dtype).encode())
        h.update(str(t.shape).encode())
        h.update(t.tobytes())
    return h.hexdigest()


class ChunkStore:
    """Finished chunks of a run in DIR/chunks/, each written atomically, under a settings key."""

    def __init__(self, out_dir: str | os.PathLike, key: dict[str, Any], n_points: int, chunk_points: int,
                 resume: bool):
        self.dir = Path(out_dir) / CHUNKS_DIR
        self.n_points = n_points
        key = json.loads(json.dumps(dict(key, n_points=n_points, chunk_points=chunk_points), default=str))
        key_path = self.dir / KEY_FILE
        if key_path.exists():
            try:
                old = json.loads(key_path.read_text())
            except (OSError, ValueError):
                old = None
            if old is not None and not resume:
                raise LossTopoError(f"{self.dir} holds chunks of an unfinished run",
                                    "add --resume to continue it, or delete that folder to start over")
            if old is not None and old != key:
                diff = sorted(k for k in set(old) | set(key) if old.get(k) != key.get(k))
                raise LossTopoError(f"cannot resume: the chunks in {self.dir} were computed with other settings "
                                    f"({', '.join(diff)} differ)",
                                    "rerun with the original settings, or use a new --out (or delete the chunks)")
            if old is None:  # unreadable key: its chunks cannot be trusted
                shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        if not key_path.exists():
            write_json(key_path, key)
        self.chunk_points = chunk_points
        self.n_chunks = math.ceil(n_points / chunk_points)

    def bounds(self, c: int) -> tuple[int, int]:
        return c * self.chunk_points, min(self.n_points, (c + 1) * self.chunk_points)

    def path(self, c: int) -> Path:
        return self.dir / f"chunk_{c:07d}.npz"

    def load(self, c: int) -> tuple[np.ndarray, np.ndarray] | None:
        p = self.path(c)
        if not p.exists():
            return None
        try:
            with np.load(p) as z:
                loss, acc = np.array(z["loss"]), np.array(z["accuracy"])
        except (OSError, ValueError, KeyError, EOFError):
            return None
        lo, hi = self.bounds(c)
        return (loss, acc) if len(loss) == hi - lo == len(acc) else None

    def save(self, c: int, loss: np.ndarray, acc: np.ndarray) -> None:
        with atomic_path(self.path(c)) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, loss=loss, accuracy=acc)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def default_chunk_points(n_points: int, model: nn.Module, n_samples: int) -> int:
    """About a few seconds of work per chunk: fewer points for CNNs and large evaluation sets."""
    per_point = n_samples * (8 if has_conv(model) else 1)
    return int(max(1, min(n_points, 512, 200_000 // max(1, per_point))))


@dataclass
class RunPlan:
    """The resolved settings of one evaluation run and its key (what a resume must match)."""

    key: dict[str, Any]
    chunk_points: int
    strategy: str
    compile: bool
    n_points: int

    def open_store(self, out_dir: str | os.PathLike, resume: bool) -> ChunkStore:
        return ChunkStore(out_dir, self.key, self.n_points, self.chunk_points, resume)


def plan_run(model: nn.Module, directions: Sequence[dict[str, torch.Tensor]], coords: np.ndarray,
             X: torch.Tensor, y: torch.Tensor, config: EvalConfig | None = None,
             key: dict[str, Any] | None = None) -> RunPlan:
    """Resolve strategy, compile, chunking and the run key without building the evaluator."""
    cfg = config or EvalConfig()
    n = len(coords)
    strategy = choose_strategy(model, cfg.device) if cfg.strategy == "auto" else cfg.strategy
    if strategy not in ("loop", "vmap"):
        raise LossTopoError(f"unknown strategy {cfg.strategy!r}", f"choose one of {', '.join(STRATEGIES)}")
    chunk_points = cfg.chunk_points or default_chunk_points(n, model, len(y))
    if strategy == "vmap":
        chunk_points = max(cfg.vmap_k, (chunk_points // cfg.vmap_k) * cfg.vmap_k)
    compile_wanted = cfg.compile
    if compile_wanted == "auto":  # compiling costs ~12 s (3 s cached): worth it for runs of minutes
        compile_wanted = n * len(y) * (8 if has_conv(model) else 1) > 2_000_000
    channels_last = has_conv(model) if cfg.channels_last is None else bool(cfg.channels_last)
    full_key = dict(key or {}, coords=array_digest(np.asarray(coords, np.float64)), data=array_digest(X, y),
                    directions=array_digest(*[t for d in directions for t in d.values()]),
                    strategy=strategy, batch_size=cfg.batch_size,
                    fold=bool(cfg.fold and strategy == "loop" and not compile_wanted),
                    vmap_k=cfg.vmap_k if strategy == "vmap" else None, compile=bool(compile_wanted),
                    channels_last=channels_last, device=str(torch.device(cfg.device).type),
                    dtype=str(next(model.parameters()).dtype), torch=torch.__version__)
    return RunPlan(full_key, int(chunk_points), strategy, bool(compile_wanted), n)

