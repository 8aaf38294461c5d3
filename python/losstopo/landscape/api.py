"""The one call from your model, data and loss to a landscape, and from a landscape to its topology.

`losstopo.landscape(model, data, loss=None, ...)` (this function; the landscape package is callable)
reads the data once (objective.py), makes the directions (stage 1), evaluates every coordinate (stage 2)
and returns a `Landscape`; `Landscape.topology()` runs stages 3-5 on it. Cross-entropy on tensor data
(the zoo's case, and any classifier whose batches are tensors with integer labels) goes through the
zoo's evaluator and driver (folded first layer, torch.compile, vmap on CUDA, resumable chunks), so it is
as fast as `losstopo landscape CKPT` and equal to `evaluate_coords` bitwise; every other model, data and
loss goes through general.py. The model is evaluated in eval mode and comes back bitwise unchanged.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from .. import settings as check
from ..errors import LossTopoError
from ..subspace.directions import (DEFAULT_KEEP_1D, DEFAULT_NORM, FORMAT, Directions, cosines, flatten,
                                   gram_schmidt, make_directions, normalize_direction)
from .chunks import array_digest
from .compute import check_device
from .evaluator import STRATEGIES, EvalConfig
from .files import Landscape
from .grid import check_coords, grid_coords
from .objective import Objective, accuracy, as_batches, as_tensor_pair, make_objective

API_VERSION = 1
DEFAULT_BATCH = 512


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """torch.set_num_threads(n) for the block (None: leave torch's default), restored after."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def landscape(model: nn.Module, data: Any, loss: Callable | None = None, *, closure: Callable | None = None,
              adapter: Callable | None = None, metrics: dict[str, Callable] | None = None,
              directions: str | Directions | Sequence[dict[str, torch.Tensor]] = "filter",
              resolution: int | Sequence[int] = 41, span: float = 1.0, dims: int = 2, seed: int = 0,
              norm: str | None = None, keep_1d: bool | None = None, orthonormalize: bool = False,
              coords: np.ndarray | None = None, samples: int | None = None, batch_size: int | None = None,
              device: str | None = None, out: str | Path | None = None, overwrite: bool = False,
              threads: int | None = None, strategy: str = "auto", compile: bool | str = "auto",
              progress: bool = True) -> Landscape:
    """The loss landscape of `model` on `data` around its weights, in one call.

    model: any nn.Module, evaluated in eval mode on its own device (or `device`).
    data: a DataLoader, a Dataset, an (X, y) pair of tensors or any iterable of (inputs, targets) batches;
      `adapter(batch) -> (inputs, targets)` for dicts or tuples with more fields. Read once; `samples`
      keeps the first N samples, `batch_size` splits a pair / batches a Dataset (default 512).
    loss: `loss(outputs, targets) -> scalar` (default: cross-entropy for integer targets, MSE for float
      targets; meta["loss"] says which), or `closure(model, batch) -> scalar` for any other loss.
    metrics: {name: fn} evaluated at every point next to the loss, of the loss's kind; in `.metrics`
      (accuracy also in `.accuracy`; with the default cross-entropy it is added by itself).
    directions: "filter" | "random" | "hessian" (dims of them, seeded), or your own Directions / list of
      {parameter name: tensor}. coords (P, dims) replaces the grid over [-span, span]^dims.
    out: a folder for landscape.npz, meta.json and directions.pt (a finished folder of the same settings is
      returned as is; one of other settings is refused unless overwrite).
    threads: torch threads for the call (None: torch's default; 1 is often faster on a busy 2-core machine).
    """
    from .folder import digest

    dirs_given = None if isinstance(directions, str) else directions
    kind = "custom" if dirs_given is not None else check.choice("directions", directions, check.DIRECTION_KINDS)
    if norm is not None:
        norm = check.choice("norm", norm, check.NORMALIZATIONS)
    strategy = check.choice("strategy", strategy, STRATEGIES)
    seed, samples = check.seed(seed), check.samples(samples)
    bs = check.optional_positive("batch size", batch_size, "batch_size=N")
    threads = check.threads(threads)
    if not isinstance(model, nn.Module):
        raise LossTopoError(f"the model is a {type(model).__name__}, not a torch.nn.Module", "pass an nn.Module")
    first = next(iter(model.parameters()), None)
    if first is None:
        raise LossTopoError("the model has no parameters", "pass a model with parameters to perturb")
    dev = torch.device(check_device(device or str(first.device)))
    if dirs_given is not None:
        dims = len(dirs_given.tensors if isinstance(dirs_given, Directions) else dirs_given)
    if coords is None:
        dims = check.dims(dims)
        res: tuple[int, ...] | None = check.resolution(resolution, dims)
        the_span = check.span(span)
        grid = grid_coords(res, the_span, dims)
    else:
        grid = check_coords(coords)
        res, the_span = None, float(np.abs(grid).max())
        if grid.shape[1] != dims and dirs_given is not None:
            raise LossTopoError(f"coords have {grid.shape[1]} columns for {dims} directions", "pass matching coords")
        dims = grid.shape[1]
    t0 = time.perf_counter()
    with torch_threads(threads):
        batches = as_batches(data, adapter, dev, bs or DEFAULT_BATCH, samples)
        objective = make_objective(loss, closure, metrics, sample=batches[0])
        pair = as_tensor_pair(batches) if _fast_objective(objective) and adapter is None else None
        settings = {"version": API_VERSION, "model": type(model).__name__, "weights": _state_digest(model),
                    "data": array_digest(*_tensors(batches)), "loss": objective.name, "kind": objective.kind,
                    "metrics": sorted(objective.metrics), "directions": kind, "dims": dims, "seed": seed,
                    "norm": norm, "keep_1d": keep_1d, "orthonormalize": bool(orthonormalize),
                    "custom_directions": None if dirs_given is None else _dirs_digest(dirs_given),
                    "resolution": list(res) if res else None, "span": the_span,
                    "coords": array_digest(grid), "device": dev.type, "strategy": strategy, "compile": compile,
                    "batch_size": bs}
        key = digest(settings)
        folder = _out_folder(out, settings, key, overwrite)
        with folder as (out_path, done):
            if done is not None:
                return done
            dirs = _directions(model, kind, dirs_given, dims, seed, norm, keep_1d, orthonormalize, batches,
                               objective, pair)
            if out_path is not None:
                from ..subspace.directions import save_directions

                save_directions(out_path / "directions.pt", dirs)
            values, columns, info = _evaluate(model, dirs, grid, batches, objective, pair, dev, strategy, compile,
                                              bs, out_path, key, progress)
            meta = {"api": "losstopo.landscape", "model": type(model).__name__, "parameters": _n_params(model),
                    "loss": objective.name, "loss_kind": objective.kind, "metrics": columns[1:], "mode": "eval",
                    "samples": int(sum(_sizes(batches))), "batches": len(batches), "directions": kind,
                    "direction_meta": {k: v for k, v in dirs.meta.items() if k != "settings_key"}, "seed": seed,
                    "dims": dims, "resolution": list(res) if res else None, "span": the_span,
                    "n_points": int(len(grid)), "device": str(dev), "threads": torch.get_num_threads(),
                    "threads_set": threads is not None, "torch_version": torch.__version__,
                    "wall_seconds": round(time.perf_counter() - t0, 3),
                    "n_nonfinite": int((~np.isfinite(values[:, 0])).sum()), "settings_key": key,
                    "settings": settings, **info}
            return _finish(grid, res, the_span, values, columns, meta, out_path)


def _finish(grid: np.ndarray, res: tuple[int, ...] | None, span: float, values: np.ndarray, columns: list[str],
            meta: dict[str, Any], out: Path | None) -> Landscape:
    """The Landscape of the computed columns, written to `out` (then its chunks removed) when given."""
    acc = values[:, columns.index("accuracy")] if "accuracy" in columns else np.full(len(grid), np.nan)
    ls = Landscape(coords=grid, loss=values[:, 0].copy(), accuracy=acc.copy(), resolution=res, span=span, meta=meta,
                   metrics={c: values[:, i].copy() for i, c in enumerate(columns) if i})
    if out is not None:
        import shutil

        from .chunks import CHUNKS_DIR
        from .files import save_landscape

        save_landscape(out, ls)
        shutil.rmtree(out / CHUNKS_DIR, ignore_errors=True)
    return ls


def _fast_objective(obj: Objective) -> bool:
    """Cross-entropy with (at most) losstopo's accuracy: the zoo evaluator computes exactly that."""
    return obj.kind == "loss" and obj.is_cross_entropy and all(m is accuracy for m in obj.outputs_metrics) \
        and set(obj.metrics) <= {"accuracy"}


def _tensors(obj: Any) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in _tensors(v)]
    return []


def _sizes(batches: Sequence[Any]) -> list[int]:
    from .objective import batch_len

    return [batch_len(b) for b in batches]


def _state_digest(model: nn.Module) -> str:
    return array_digest(*[t for t in model.state_dict().values() if isinstance(t, torch.Tensor)])


def _dirs_digest(d: Directions | Sequence[dict[str, torch.Tensor]]) -> str:
    tensors = d.tensors if isinstance(d, Directions) else d
    return array_digest(*[t for x in tensors for _, t in sorted(x.items())])


def _n_params(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


@contextlib.contextmanager
def _out_folder(out: str | Path | None, settings: dict, key: str, overwrite: bool) -> Iterator[tuple]:
    """(folder, finished landscape or None) with the folder locked; (None, None) without `out`."""
    if out is None:
        yield None, None
        return
    from ..fileio import output_folder
    from .folder import has_chunks, prepare_folder

    with output_folder(out, "landscape", keep=has_chunks) as path:
        yield path, prepare_folder(path, settings, key, True, overwrite)


def _directions(model: nn.Module, kind: str, given: Any, dims: int, seed: int, norm: str | None,
                keep_1d: bool | None, orthonormalize: bool, batches: list, objective: Objective,
                pair: tuple[torch.Tensor, torch.Tensor] | None) -> Directions:
    """The given directions (checked against the model), or `dims` new ones of `kind`."""
    if given is not None:
        tensors = [dict(d) for d in (given.tensors if isinstance(given, Directions) else given)]
        meta = dict(given.meta) if isinstance(given, Directions) else {"format": FORMAT, "kind": "custom"}
        return Directions(tensors, meta)
    if kind != "hessian":
        return make_directions(model, kind, dims, seed, norm=norm, keep_1d=keep_1d, orthonormalize=orthonormalize)
    from .hessian_user import hessian_raw

    raw, info = hessian_raw(model, batches, objective, pair, dims, seed)
    norm = norm or DEFAULT_NORM["hessian"]
    keep_1d = DEFAULT_KEEP_1D["hessian"] if keep_1d is None else bool(keep_1d)
    weights = {n: p.detach().cpu() for n, p in model.named_parameters()}
    tensors = [normalize_direction(d, weights, norm, keep_1d) for d in raw]
    before = cosines(tensors)
    if orthonormalize:
        tensors = gram_schmidt(tensors)
    meta = {"format": FORMAT, "kind": "hessian", "seed": seed, "dims": dims, "normalization": norm,
            "keep_1d": keep_1d, "orthonormalize": orthonormalize, "cosine_before_orthonormalization": before,
            "cosine": cosines(tensors), "norms": [float(flatten(d).norm()) for d in tensors], "hessian": info}
    return Directions(tensors, meta)


def _evaluate(model: nn.Module, dirs: Directions, grid: np.ndarray, batches: list, objective: Objective,
              pair: tuple[torch.Tensor, torch.Tensor] | None, dev: torch.device, strategy: str,
              compile: bool | str, bs: int | None, out: Path | None, key: str,
              progress: bool) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """(P, 1 + metrics) values, their column names, and how they were computed."""
    if pair is not None:
        from .driver import evaluate_coords

        cfg = EvalConfig(device=str(dev), strategy=_working_strategy(model, dirs, pair, dev, strategy),
                         batch_size=bs or DEFAULT_BATCH, compile=compile)
        loss, acc, info = evaluate_coords(model, dirs.tensors, grid, pair[0], pair[1], cfg, out_dir=out,
                                          key={"settings": key}, resume=True, show_progress=progress)
        return np.stack([loss, acc], 1), ["loss", "accuracy"], {
            "evaluator": "zoo", "strategy": info.strategy, "compiled": info.compiled, "notes": info.notes,
            "points_per_second": round(info.points_per_second, 3) if info.points_computed else None}
    from tqdm.auto import tqdm

    from .general import ObjectiveEvaluator, private_model

    if strategy == "vmap":
        raise LossTopoError("strategy vmap needs cross-entropy on tensor data", "use strategy='loop' or 'auto'")
    with private_model(model, dev) as work, tqdm(total=len(grid), unit="pt", desc="landscape",
                                                  disable=not progress, dynamic_ncols=True) as bar:
        ev = ObjectiveEvaluator(work, dirs.tensors, batches, objective)
        t0 = time.perf_counter()
        values = ev.evaluate(grid, progress=bar.update)
        seconds = time.perf_counter() - t0
    return values, ev.columns, {"evaluator": "general", "strategy": "loop", "compiled": False, "notes": [],
                                "points_per_second": round(len(grid) / seconds, 3) if seconds > 0 else None}


def _working_strategy(model: nn.Module, dirs: Directions, pair: tuple, dev: torch.device, strategy: str) -> str:
    """`strategy`; for auto on CUDA, vmap only if this model runs under vmap (else the loop)."""
    from .evaluator import PointEvaluator, choose_strategy

    if strategy != "auto" or choose_strategy(model, str(dev)) != "vmap":
        return strategy
    try:
        PointEvaluator(model, dirs.tensors, pair[0][:2], pair[1][:2],
                       EvalConfig(device=str(dev), strategy="vmap", vmap_k=2)).evaluate(np.zeros((2, dirs.dims)))
    except Exception:  # noqa: BLE001 - a model vmap cannot batch (data-dependent control flow, fused kernels)
        return "loop"
    return "vmap"
