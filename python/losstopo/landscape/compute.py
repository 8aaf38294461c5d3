"""`losstopo landscape` and `compute_landscape`: stages 1-2 from a checkpoint to a landscape folder.

DIR/directions.pt is written first (so a resumed run uses the very same directions), then chunks go to
DIR/chunks/ as they finish, then landscape.npz, landscape.vti (grids) and meta.json are written
atomically and the chunks are removed. See docs/landscape.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from . import names
from .directions import (DEFAULT_KEEP_1D, DEFAULT_NORM, KINDS, NORMS, Directions, load_directions,
                         make_directions, save_directions)
from .errors import LossTopoError
from .evaluate import STRATEGIES, EvalConfig, cache_root, evaluate_coords, grid_coords
from .fileio import ensure_output_dir
from .landscape_files import Landscape, load_landscape, save_landscape

SETTINGS_VERSION = 1


def load_coords(path: str | os.PathLike) -> np.ndarray:
    """A (P, dims) float64 coordinate array from a .npy file, dims 1..3, finite; else a one-line error."""
    p = Path(path)
    if not p.is_file():
        raise LossTopoError(f"coordinates file {p} does not exist", "pass --coords FILE.npy with a (P, dims) array")
    try:
        a = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise LossTopoError(f"coordinates file {p} is not a readable .npy array ({type(e).__name__})",
                            "save it with numpy.save(FILE, array)") from None
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu":
        raise LossTopoError(f"coordinates file {p} does not hold a numeric array", "save a float (P, dims) array")
    a = a.astype(np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or not 1 <= a.shape[1] <= 3 or len(a) == 0:
        raise LossTopoError(f"coordinates in {p} have shape {a.shape}", "pass a (P, dims) array with dims 1, 2 or 3")
    if not np.all(np.isfinite(a)):
        raise LossTopoError(f"coordinates in {p} contain inf or NaN", "pass finite coordinates")
    return a


def _eval_data(info: dict[str, Any], samples: int | None) -> tuple[torch.Tensor, torch.Tensor, str]:
    from .data import load_dataset

    data = info.get("data") or "digits"
    X, y = load_dataset(data, "test", root=info.get("data_root"), samples=samples)
    return X, y, data


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def compute_landscape(checkpoint: str | os.PathLike, *, directions: str = "filter",
                      resolution: int | Sequence[int] = 41,
                      span: float = 1.0, dims: int = 2, samples: int | None = None, seed: int = 0,
                      out_dir: str | os.PathLike | None = None, resume: bool = True, device: str = "cpu",
                      progress: Callable[[float], None] | None = None, show_progress: bool = True,
                      coords: np.ndarray | None = None, directions_file: str | os.PathLike | None = None,
                      norm: str | None = None, keep_1d: bool | None = None, orthogonalize: bool = False,
                      strategy: str = "auto", compile: bool | str = "auto", batch_size: int = 512,
                      chunk_points: int | None = None, distributed: bool = False) -> Landscape:
    """The loss landscape of a checkpoint around its weights (stages 1-2), written to `out_dir`.

    With out_dir=None the folder is a cache under $LOSSTOPO_CACHE or ~/.cache/losstopo/landscapes/, keyed
    by the checkpoint's sha256 and every setting, so a second call returns at once. With resume=True a
    finished landscape with the same settings is returned as is and an interrupted run continues.
    `coords` (P x dims) replaces the grid (scattered points, no .vti).
    """
    from .checkpoint import load_checkpoint

    if directions not in KINDS:
        raise LossTopoError(f"unknown --directions {directions!r}", f"choose one of {', '.join(KINDS)}")
    if norm is not None and norm not in NORMS:
        raise LossTopoError(f"unknown --norm {norm!r}", f"choose one of {', '.join(NORMS)}")
    if not (isinstance(span, (int, float)) and math.isfinite(span) and span > 0):
        raise LossTopoError(f"span must be a positive number, not {span}", "pass --span > 0")
    if coords is None:
        if dims not in (1, 2, 3):
            raise LossTopoError(f"dims must be 1, 2 or 3, not {dims}", "pass --dims 1, 2 or 3")
        grid = grid_coords(resolution, span, dims)
        res: tuple[int, ...] | None = (int(resolution),) * dims if np.isscalar(resolution) \
            else tuple(int(r) for r in resolution)
        the_span = float(span)
    else:
        grid = np.asarray(coords, np.float64)
        dims = grid.shape[1]
        res = None
        the_span = float(np.abs(grid).max()) if grid.size else 0.0
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise LossTopoError(f"unknown device {device!r}", "pass --device cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise LossTopoError("--device cuda was asked for but CUDA is not available", "use --device cpu")
    if samples is not None and (isinstance(samples, bool) or int(samples) < 1):
        raise LossTopoError(f"samples must be a positive integer, not {samples}", "pass --samples N >= 1")
    ckpt = load_checkpoint(checkpoint)
    settings = {"version": SETTINGS_VERSION, "checkpoint_sha256": ckpt.sha256, "directions": directions,
                "norm": norm or DEFAULT_NORM[directions],
                "keep_1d": DEFAULT_KEEP_1D[directions] if keep_1d is None else bool(keep_1d),
                "orthogonalize": orthogonalize,
                "seed": int(seed), "dims": dims, "resolution": list(res) if res else None, "span": the_span,
                "coords": hashlib.sha256(grid.tobytes()).hexdigest(), "samples": samples, "device": device,
                "strategy": strategy, "compile": compile, "batch_size": batch_size, "chunk_points": chunk_points,
                "directions_file": _file_digest(directions_file)}
    settings_key = _digest(settings)
    if out_dir is None:
        out_dir = cache_root() / "landscapes" / settings_key[:24]
    out = ensure_output_dir(out_dir)
    if resume:
        done = _finished(out, settings_key)
        if done is not None:
            return done
    if distributed:
        from .distributed import run_distributed

        return run_distributed(ckpt, out, grid, res, the_span, settings, settings_key, resume=resume,
                               directions_file=directions_file, samples=samples, device=device,
                               strategy=strategy, compile=compile, batch_size=batch_size,
                               chunk_points=chunk_points, show_progress=show_progress, progress=progress)
    t0 = time.perf_counter()
    X, y, data_name = _eval_data(ckpt.info, samples)
    dirs = obtain_directions(ckpt.model, out, settings, X, y, resume, directions_file)
    cfg = EvalConfig(device=device, strategy=strategy, batch_size=batch_size, compile=compile,
                     chunk_points=chunk_points)
    loss, acc, info = evaluate_coords(ckpt.model, dirs.tensors, grid, X, y, cfg, out_dir=out,
                                      key={"settings": settings_key}, resume=resume, progress=progress,
                                      show_progress=show_progress)
    return finish_landscape(out, grid, res, the_span, loss, acc, settings, settings_key, ckpt, dirs, data_name,
                            len(y), info, time.perf_counter() - t0)


def _file_digest(path: str | os.PathLike | None) -> str | None:
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise LossTopoError(f"directions file {p} does not exist", "pass DIR/directions.pt of a landscape")
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _finished(out: Path, settings_key: str) -> Landscape | None:
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
        return load_landscape(out)
    except LossTopoError:
        return None


def obtain_directions(model: torch.nn.Module, out: Path, settings: dict[str, Any], X: torch.Tensor,
                      y: torch.Tensor, resume: bool, directions_file: str | os.PathLike | None) -> Directions:
    """Directions from --directions-file, from DIR/directions.pt of the run being resumed, or new."""
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
                if old.meta.get("settings_key") == _digest(_dir_settings(settings)):
                    dirs = old
            except LossTopoError:
                dirs = None
        if dirs is None:
            dirs = make_directions(model, settings["directions"], settings["dims"], settings["seed"],
                                   norm=settings["norm"], keep_1d=settings["keep_1d"],
                                   orthogonalize=settings["orthogonalize"], data=(X, y))
    dirs.meta["settings_key"] = _digest(_dir_settings(settings))
    save_directions(out / names.DIRECTIONS_PT, dirs)
    return dirs


def _dir_settings(settings: dict[str, Any]) -> dict[str, Any]:
    keys = ("checkpoint_sha256", "directions", "norm", "keep_1d", "orthogonalize", "seed", "dims", "samples",
            "directions_file")
    return {k: settings[k] for k in keys}


def finish_landscape(out: Path, grid: np.ndarray, res: tuple[int, ...] | None, span: float, loss: np.ndarray,
                     acc: np.ndarray, settings: dict[str, Any], settings_key: str, ckpt: Any, dirs: Directions,
                     data_name: str, n_samples: int, info: Any, wall: float) -> Landscape:
    """Write the final files atomically, then drop the chunks."""
    from .evaluate import CHUNKS_DIR
    import shutil

    meta = {
        "checkpoint": str(Path(ckpt.path).resolve()), "checkpoint_sha256": ckpt.sha256,
        "model": ckpt.info.get("model"), "model_kwargs": ckpt.info.get("model_kwargs"),
        "directions": settings["directions"], "seed": settings["seed"], "normalization": settings["norm"],
        "keep_1d": settings["keep_1d"], "orthonormalized": settings["orthogonalize"],
        "direction_cosines": dirs.meta.get("cosine"), "directions_file": settings["directions_file"],
        "dims": settings["dims"], "resolution": list(res) if res else None, "span": span,
        "n_points": int(len(grid)), "data": data_name, "samples": n_samples, "torch_version": torch.__version__,
        "device": settings["device"], "wall_seconds": round(wall, 3),
        "points_per_second": round(info.points_per_second, 3) if info.points_computed else None,
        "points_computed": info.points_computed, "points_resumed": info.points_resumed,
        "strategy": info.strategy, "compiled": info.compiled, "channels_last": info.channels_last,
        "notes": info.notes, "n_nonfinite": int(np.count_nonzero(~np.isfinite(loss))),
        "settings_key": settings_key,
    }
    meta.update(getattr(info, "extra", {}))
    ls = Landscape(coords=grid, loss=loss, accuracy=acc, resolution=res, span=span, meta=meta, directory=out)
    save_landscape(out, ls)
    shutil.rmtree(out / CHUNKS_DIR, ignore_errors=True)
    return ls


# -- CLI --------------------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="checkpoint written by `losstopo train` (or save_checkpoint)")
    p.add_argument("--directions", default="filter", choices=KINDS,
                   help="random = layer-normalised Gaussian, filter = filter-normalised Gaussian (Li et al.), "
                        "hessian = top Hessian eigenvectors (default filter)")
    p.add_argument("--norm", choices=NORMS, default=None, help="override the normalisation of --directions")
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
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--strategy", default="auto", choices=STRATEGIES, help="evaluation strategy (default auto)")
    p.add_argument("--compile", default="auto", choices=("auto", "on", "off"),
                   help="torch.compile the forward (auto: for runs long enough to pay the ~12 s)")
    p.add_argument("--batch-size", type=int, default=512, help="evaluation batch size (default 512)")
    p.add_argument("--chunk-points", type=int, default=None, help="points per saved chunk (default: ~seconds)")
    p.add_argument("--distributed", action="store_true", help="shard across torchrun processes")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    if args.resolution < 2:
        raise LossTopoError(f"resolution must be at least 2, not {args.resolution}", "pass --resolution >= 2")
    if not (math.isfinite(args.span) and args.span > 0):
        raise LossTopoError(f"span must be a positive number, not {args.span}", "pass --span > 0")
    if args.batch_size < 1:
        raise LossTopoError(f"batch size must be positive, not {args.batch_size}", "pass --batch-size >= 1")
    if args.chunk_points is not None and args.chunk_points < 1:
        raise LossTopoError(f"chunk size must be positive, not {args.chunk_points}", "pass --chunk-points >= 1")
    coords = load_coords(args.coords) if args.coords else None
    ensure_output_dir(args.out)
    comp = {"auto": "auto", "on": True, "off": False}[args.compile]
    ls = compute_landscape(args.checkpoint, directions=args.directions, resolution=args.resolution, span=args.span,
                           dims=args.dims, samples=args.samples, seed=args.seed, out_dir=args.out,
                           resume=args.resume, device=args.device, show_progress=not args.quiet, coords=coords,
                           directions_file=args.directions_file, norm=args.norm, keep_1d=args.keep_1d,
                           orthogonalize=args.orthonormalize, strategy=args.strategy, compile=comp,
                           batch_size=args.batch_size, chunk_points=args.chunk_points, distributed=args.distributed)
    if ls is None:  # a non-zero rank of a distributed run
        return 0
    m = ls.meta
    finite = ls.loss[np.isfinite(ls.loss)]
    lo = f"{finite.min():.4f}" if finite.size else "n/a"
    print(f"{ls.directory}: {len(ls.loss)} points, loss min {lo}, {m.get('n_nonfinite', 0)} non-finite, "
          f"{m.get('points_per_second')} points/s ({m.get('strategy')}{', compiled' if m.get('compiled') else ''})")
    return 0
