"""The landscape folder while it is computed: its settings key, its directions, its final files.

DIR/directions.pt is written first (so a resumed run uses the very same directions), chunks go to
DIR/chunks/ as they finish (chunks.py), then landscape.npz and meta.json are written atomically
(files.py) and the chunks are removed. Shared by the single-process and the distributed run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import names
from ..errors import LossTopoError
from ..subspace.directions import Directions, load_directions, make_directions, save_directions
from .chunks import CHUNKS_DIR
from .evaluator import EvalInfo
from .files import Landscape, load_landscape, save_landscape

# The settings that decide the directions (a subset of the landscape's settings).
DIRECTION_SETTINGS = ("checkpoint_sha256", "directions", "norm", "keep_1d", "orthonormalize", "seed", "dims",
                      "samples", "directions_file")


def digest(obj: Any) -> str:
    """sha256 of a JSON-able settings object (key order does not matter)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def file_digest(path: str | os.PathLike | None) -> str | None:
    """sha256 of a directions file, or None; a one-line error when it does not exist."""
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise LossTopoError(f"directions file {p} does not exist", "pass DIR/directions.pt of a landscape")
    return hashlib.sha256(p.read_bytes()).hexdigest()


def finished(out: Path, settings_key: str) -> Landscape | None:
    """The finished landscape in `out` if it was computed with exactly these settings, else None."""
    meta_path = out / names.META_JSON
    if not (out / names.LANDSCAPE_NPZ).exists() or not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("settings_key") != settings_key:
        return None
    try:
        done = load_landscape(out)
    except LossTopoError:
        return None
    shutil.rmtree(out / CHUNKS_DIR, ignore_errors=True)  # a run killed after its final files left them
    return done


def obtain_directions(model: torch.nn.Module, out: Path, settings: dict[str, Any], X: torch.Tensor,
                      y: torch.Tensor, resume: bool, directions_file: str | os.PathLike | None) -> Directions:
    """Directions from --directions-file, from DIR/directions.pt of the run being resumed, or new."""
    key = digest({k: settings[k] for k in DIRECTION_SETTINGS})
    if directions_file is not None:
        dirs = load_directions(directions_file, model)
        if dirs.dims != settings["dims"]:
            raise LossTopoError(f"{directions_file} holds {dirs.dims} directions, not {settings['dims']}",
                                f"pass --dims {dirs.dims}")
    else:
        saved = out / names.DIRECTIONS_PT
        dirs = None
        if resume and saved.exists():
            try:
                old = load_directions(saved, model)
                if old.meta.get("settings_key") == key:
                    dirs = old
            except LossTopoError:
                dirs = None
        if dirs is None:
            dirs = make_directions(model, settings["directions"], settings["dims"], settings["seed"],
                                   norm=settings["norm"], keep_1d=settings["keep_1d"],
                                   orthonormalize=settings["orthonormalize"], data=(X, y))
    dirs.meta["settings_key"] = key
    save_directions(out / names.DIRECTIONS_PT, dirs)
    return dirs


def finish_landscape(out: Path, grid: np.ndarray, res: tuple[int, ...] | None, span: float, loss: np.ndarray,
                     acc: np.ndarray, settings: dict[str, Any], settings_key: str, ckpt: Any, dirs: Directions,
                     data_name: str, n_samples: int, info: EvalInfo, wall: float,
                     extra_meta: dict[str, Any] | None = None) -> Landscape:
    """Write landscape.npz and meta.json atomically, then drop the chunks."""
    meta = {
        "checkpoint": str(Path(ckpt.path).resolve()), "checkpoint_sha256": ckpt.sha256,
        "model": ckpt.info.get("model"), "model_kwargs": ckpt.info.get("model_kwargs"),
        "directions": settings["directions"], "seed": settings["seed"], "normalization": settings["norm"],
        "keep_1d": settings["keep_1d"], "orthonormalize": settings["orthonormalize"],
        "direction_cosines": dirs.meta.get("cosine"), "directions_file": settings["directions_file"],
        "dims": settings["dims"], "resolution": list(res) if res else None, "span": span,
        "n_points": int(len(grid)), "data": data_name, "samples": n_samples, "torch_version": torch.__version__,
        "device": settings["device"], "wall_seconds": round(wall, 3),
        "points_per_second": round(info.points_per_second, 3) if info.points_computed else None,
        "points_computed": info.points_computed, "points_resumed": info.points_resumed,
        "strategy": info.strategy, "compiled": info.compiled, "channels_last": info.channels_last,
        "notes": info.notes, "n_nonfinite": int(np.count_nonzero(~np.isfinite(loss))),
        "settings_key": settings_key, **(extra_meta or {}),
    }
    ls = Landscape(coords=grid, loss=loss, accuracy=acc, resolution=res, span=span, meta=meta, directory=out)
    save_landscape(out, ls)
    shutil.rmtree(out / CHUNKS_DIR, ignore_errors=True)
    return ls


def eval_data(info: dict[str, Any], samples: int | None) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The evaluation set a checkpoint records (its data set's test split, the first `samples` of it)."""
    from ..models.data import load_dataset

    data = info.get("data") or "digits"
    X, y = load_dataset(data, "test", root=info.get("data_root"), samples=samples)
    return X, y, data
