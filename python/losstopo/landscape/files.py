"""The landscape folder on disk: `Landscape` plus save/load of landscape.npz and meta.json.

Layout (shared by every stage): `landscape.npz` holds coords (P x dims, float64), loss (P, float64, raw,
may hold inf/NaN), accuracy (P, float64), resolution (int array, points per axis; empty for scattered
coordinates), span (float64 scalar) and, from the one-call API, metric_NAME (P, float64) per metric.
Point order is VTK's (p = i + nx*j + nx*ny*k), so vertex ids agree between the arrays and every VTK output.
The VTK view of a grid folder, landscape.vti, is written by the VTK edge (losstopo.vtkio.write_landscape_vti),
not here. Every file is written atomically.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import names
from ..errors import LossTopoError
from ..fileio import atomic_path, ensure_output_dir, reading, write_json
from ..finite import finite_version

METRIC_PREFIX = "metric_"  # landscape.npz keys of the API's metrics (metric_accuracy, metric_r2, ...)


@dataclass
class Landscape:
    """Loss and accuracy at coordinates in the span of the directions (raw values, VTK point order)."""

    coords: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    resolution: tuple[int, ...] | None
    span: float
    meta: dict[str, Any] = field(default_factory=dict)
    directory: Path | None = None
    metrics: dict[str, np.ndarray] = field(default_factory=dict)  # the API's metrics, (P,) each (accuracy too)

    @property
    def dims(self) -> int:
        return int(self.coords.shape[1])

    @property
    def is_grid(self) -> bool:
        """True when computed on a regular grid (resolution given and matching the number of points)."""
        return bool(self.resolution) and int(np.prod(self.resolution)) == int(np.size(self.loss))

    def finite_loss(self) -> np.ndarray:
        """The loss with non-finite values replaced per finite.py (what topology runs on)."""
        return finite_version(self.loss)[0]

    def topology(self, representation: str | None = None, k: int = 8, simplify: float = 0.0,
                 simplify_relative: bool = False, seed: int = 0, array: str = "loss") -> Any:
        """Stages 3-5: the TopologyResult of the loss (join tree, persistence pairs) with `.metrics`, the
        dict of losstopo.metrics.topology_metrics. representation: "image" (grids' default) or "knn" (the
        k-nearest-neighbour graph; scattered points' default). See analysis.topology_of."""
        from .analysis import topology_of

        return topology_of(self, representation, k, simplify, simplify_relative, seed, array)


def save_landscape(directory: str | os.PathLike, ls: Landscape) -> Path:
    """Write landscape.npz and meta.json into `directory`, each atomically."""
    d = ensure_output_dir(directory)
    res = np.asarray(ls.resolution if ls.resolution is not None else [], dtype=np.int64)
    with atomic_path(d / names.LANDSCAPE_NPZ) as tmp:
        with open(tmp, "wb") as f:
            extra = {METRIC_PREFIX + k: np.asarray(v, np.float64) for k, v in ls.metrics.items()}
            np.savez(f, coords=np.asarray(ls.coords, np.float64), loss=np.asarray(ls.loss, np.float64),
                     accuracy=np.asarray(ls.accuracy, np.float64), resolution=res,
                     span=np.float64(ls.span), **extra)
    write_json(d / names.META_JSON, ls.meta)
    ls.directory = d
    return d


def load_landscape(path: str | os.PathLike) -> Landscape:
    """Read a landscape folder (or its landscape.npz); one-line LossTopoError if missing or corrupt, or while
    another process writes the folder (fileio.reading: never half-written arrays next to old meta)."""
    p = Path(path)
    npz = p / names.LANDSCAPE_NPZ if p.is_dir() else p
    with reading(npz.parent):
        return _load(p, npz)


def _load(p: Path, npz: Path) -> Landscape:
    if not npz.exists():
        raise LossTopoError(f"no landscape at {p} ({npz.name} missing)", "run `losstopo landscape ... --out DIR` first")
    try:
        with np.load(npz, allow_pickle=False) as z:
            coords = np.asarray(z["coords"], np.float64)
            loss = np.asarray(z["loss"], np.float64)
            acc = np.asarray(z["accuracy"], np.float64)
            res = tuple(int(v) for v in np.asarray(z["resolution"]).ravel())
            span = float(z["span"])
            metrics = {k[len(METRIC_PREFIX):]: np.asarray(z[k], np.float64) for k in z.files
                       if k.startswith(METRIC_PREFIX)}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, NotImplementedError) as e:
        raise LossTopoError(f"landscape file {npz} is corrupt or incomplete ({type(e).__name__})",
                            "recompute it with `losstopo landscape`") from None
    if coords.ndim != 2 or len(coords) != len(loss) or len(acc) != len(loss):
        raise LossTopoError(f"landscape file {npz} has inconsistent array shapes", "recompute it")
    if res and int(np.prod(res)) != len(loss):
        raise LossTopoError(f"landscape file {npz}: resolution {res} does not match {len(loss)} points",
                            "recompute it")
    meta: dict[str, Any] = {}
    meta_path = npz.parent / names.META_JSON
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            meta = {}
    return Landscape(coords=coords, loss=loss, accuracy=acc, resolution=res or None, span=span, meta=meta,
                     directory=npz.parent, metrics=metrics)
