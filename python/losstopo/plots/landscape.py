"""The one landscape picture: filled contours of the loss (a curve in 1-D, the middle slice in 3-D,
a triangulated contour plot for scattered points), with the critical points or the lowest point, the
trained weights (the origin) and the non-finite points marked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..names import CriticalType
from ._mpl import pyplot, save

MIN_STYLE = dict(marker="v", color="tab:blue", s=36, edgecolors="white", linewidths=0.6, zorder=5)
SADDLE_STYLE = dict(marker="X", color="tab:red", s=36, edgecolors="white", linewidths=0.6, zorder=5)
MAX_STYLE = dict(marker="^", color="tab:orange", s=36, edgecolors="white", linewidths=0.6, zorder=5)


def log_scale(values: np.ndarray) -> bool:
    """Log scale when all finite values are positive and span more than three decades."""
    v = values[np.isfinite(values)]
    return bool(v.size > 1 and v.min() > 0 and v.max() / v.min() > 1e3)


def critical_vertices(result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(minima, saddles, maxima) vertex ids of a TopologyResult's join tree."""
    t = np.asarray(result.tree.node_type)
    v = np.asarray(result.tree.node_vertex, dtype=np.int64)
    saddle = np.isin(t, [int(CriticalType.SADDLE1), int(CriticalType.DEGENERATE)])
    return v[t == int(CriticalType.MINIMUM)], v[saddle], v[t == int(CriticalType.MAXIMUM)]


def plot_landscape(path: str | os.PathLike, coords: np.ndarray, loss: np.ndarray,
                   resolution: Sequence[int] | None = None, result: Any | None = None,
                   title: str = "loss landscape") -> Path:
    """Write the landscape picture of `loss` (raw; inf/NaN allowed) at `coords` (V, d).

    resolution: the grid's points per axis (VTK order), None for scattered points. result: a
    TopologyResult whose minima (v) and saddles (X) are marked; without it the lowest point is.
    """
    raw = np.asarray(loss, dtype=np.float64).ravel()
    pts = np.asarray(coords, dtype=np.float64).reshape(len(raw), -1)
    bad = ~np.isfinite(raw)
    values = np.where(bad, np.nan, raw)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 5.0))
    if resolution is not None:
        axes = [a for a, n in enumerate(resolution) if n > 1] or [0]
    else:  # scattered points: their first two coordinates that vary
        axes = [a for a in range(pts.shape[1]) if np.ptp(pts[:, a]) > 0][:2] or [0]
    shown = np.ones(len(raw), dtype=bool)
    if resolution is not None and len(axes) == 3:  # the middle slice of the third axis
        nx, ny, nz = resolution[:3]
        k = nz // 2
        shown[:] = False
        shown[k * nx * ny:(k + 1) * nx * ny] = True
        title += f" (slice a3 = {pts[k * nx * ny, axes[2]]:.3g})"
    if result is not None:
        mins, saddles, _ = critical_vertices(result)
        marks = [(mins, MIN_STYLE, "minima"), (saddles, SADDLE_STYLE, "saddles")]
    else:
        low = np.flatnonzero(shown & ~bad)
        lowest = low[np.argmin(values[low])] if low.size else np.zeros(0, dtype=np.int64)
        marks = [(np.atleast_1d(lowest), dict(MIN_STYLE, marker="*", s=120), "lowest point")]
    if len(axes) == 1:
        x = pts[:, axes[0]]
        order = np.argsort(x, kind="stable")
        ax.plot(x[order], values[order], color="0.3", lw=1)
        for ids, style, label in marks:
            ax.scatter(x[ids], values[ids], label=f"{label} ({len(ids)})", **style)
        if bad.any():  # on the bottom edge: they have no value to plot
            ax.scatter(x[bad], np.zeros(int(bad.sum())), marker="|", s=60, color="0.5", zorder=4,
                       transform=ax.get_xaxis_transform(), label=f"non-finite ({int(bad.sum())})")
        ax.set_xlabel("a1")
        ax.set_ylabel("loss")
        if log_scale(values):
            ax.set_yscale("log")
    else:
        ca, cb = axes[0], axes[1]
        log = log_scale(values[shown])
        z = np.log10(values) if log else values
        sel = np.flatnonzero(shown)
        if resolution is not None:
            nx, ny = resolution[ca], resolution[cb]
            X, Y = pts[sel, ca].reshape(ny, nx), pts[sel, cb].reshape(ny, nx)
            Z = np.ma.masked_invalid(z[sel].reshape(ny, nx))
            cs = ax.contourf(X, Y, Z, levels=30, cmap="viridis")
            ax.contour(X, Y, Z, levels=15, colors="k", linewidths=0.3, alpha=0.5)
        else:
            ok = sel[~bad[sel]]
            cs = ax.tricontourf(pts[ok, ca], pts[ok, cb], z[ok], levels=30, cmap="viridis")
            ax.scatter(pts[sel, ca], pts[sel, cb], s=1.5, color="k", alpha=0.25, linewidths=0)
        fig.colorbar(cs, ax=ax, label="log10 loss" if log else "loss")
        for ids, style, label in marks:
            ids = ids[shown[ids]]
            ax.scatter(pts[ids, ca], pts[ids, cb], label=f"{label} ({len(ids)})", **style)
        if bad[shown].any():
            nb = np.flatnonzero(bad & shown)
            ax.scatter(pts[nb, ca], pts[nb, cb], marker="s", s=8, color="0.5", label=f"non-finite ({len(nb)})",
                       zorder=4)
        lo_a, hi_a = pts[:, ca].min(), pts[:, ca].max()
        lo_b, hi_b = pts[:, cb].min(), pts[:, cb].max()
        if lo_a <= 0 <= hi_a and lo_b <= 0 <= hi_b:
            ax.plot(0, 0, "w+", ms=12, mew=2, label="trained weights", zorder=6)
        ax.set_xlabel("a1")
        ax.set_ylabel("a2")
        ax.set_aspect("equal", adjustable="box")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7, framealpha=0.8)
    return save(fig, path)
