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
from ..fileio import differ_text
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


def read_meta(out: Path) -> dict[str, Any] | None:
    """DIR/meta.json as a dict, or None when it is missing or unreadable."""
    try:
        meta = json.loads((out / names.META_JSON).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


# meta.json keys written before meta.json recorded its settings, by the setting they hold
_OLD_META_KEYS = {"checkpoint_sha256": "checkpoint_sha256", "directions": "directions", "norm": "normalization",
                  "keep_1d": "keep_1d", "orthonormalize": "orthonormalize", "seed": "seed", "dims": "dims",
                  "resolution": "resolution", "span": "span", "samples": "samples", "device": "device",
                  "directions_file": "directions_file"}


def differing_settings(meta: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """The settings whose values differ between a finished landscape's meta.json and `settings`."""
    old = meta.get("settings")
    if isinstance(old, dict):
        return sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
    diff = [k for k, m in _OLD_META_KEYS.items() if m in meta and meta[m] != settings.get(k)]
    return diff or ["settings"]


def prepare_folder(out: Path, settings: dict[str, Any], settings_key: str, resume: bool,
                   overwrite: bool) -> Landscape | None:
    """Check the folder before anything is written into it (the caller holds its lock).

    A finished landscape is one with a readable meta.json (save_landscape writes it last). Returns the
    finished landscape when it has these settings and resume is on; refuses (one line
    naming the differing settings) to replace a finished landscape of other settings unless overwrite,
    which removes it first (meta.json first, so an interrupted overwrite never looks finished); refuses
    to mix with the unfinished chunks of another run (overwrite removes them).
    """
    meta = read_meta(out)  # written last: without it (a run killed while finishing) nothing is finished
    if meta is not None:
        if meta.get("settings_key") == settings_key:
            done = finished(out, settings_key) if resume else None
            if done is not None:
                return done
        elif not overwrite:
            diff = differing_settings(meta, settings)
            raise LossTopoError(f"{out} holds a finished landscape computed with other settings "
                                f"({differ_text(diff)})",
                                "pass --overwrite to replace it, or choose another --out")
        else:
            for name in (names.META_JSON, names.LANDSCAPE_NPZ, names.LANDSCAPE_VTI, names.LANDSCAPE_VTU,
                         names.DIRECTIONS_PT):
                (out / name).unlink(missing_ok=True)
    key_path = out / CHUNKS_DIR / "key.json"
    if key_path.exists():
        try:
            old_key = json.loads(key_path.read_text()).get("settings")
        except (OSError, ValueError, AttributeError):
            old_key = None
        if overwrite:
            shutil.rmtree(out / CHUNKS_DIR, ignore_errors=True)
            (out / names.DIRECTIONS_PT).unlink(missing_ok=True)
        elif not resume:
            raise LossTopoError(f"{out / CHUNKS_DIR} holds chunks of an unfinished run",
                                "add --resume to continue it, or --overwrite to start over")
        elif old_key is not None and old_key != settings_key:
            raise LossTopoError(f"cannot resume: the chunks in {out / CHUNKS_DIR} were computed with other "
                                "settings", "rerun with the original settings, or pass --overwrite to start over")
    return None


def has_chunks(out: Path) -> bool:
    """Whether `out` holds finished chunks a --resume would continue (work worth keeping after a failure)."""
    return any((out / CHUNKS_DIR).glob("chunk_*.npz"))


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
        "hessian_eigenvalues": dirs.meta.get("hessian", {}).get("eigenvalues"), "hessian": dirs.meta.get("hessian"),
        "dims": settings["dims"], "resolution": list(res) if res else None, "span": span,
        "n_points": int(len(grid)), "data": data_name, "samples": n_samples, "torch_version": torch.__version__,
        "device": settings["device"], "wall_seconds": round(wall, 3),
        "points_per_second": round(info.points_per_second, 3) if info.points_computed else None,
        "points_computed": info.points_computed, "points_resumed": info.points_resumed,
        "strategy": info.strategy, "compiled": info.compiled, "channels_last": info.channels_last,
        "notes": info.notes, "n_nonfinite": int(np.count_nonzero(~np.isfinite(loss))),
        "settings_key": settings_key, "settings": settings, **(extra_meta or {}),
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
