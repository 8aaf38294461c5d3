"""The one landscape picture: filled contours of the loss on a1/a2 axes (a curve in 1-D, the slice
through the lowest point in 3-D, a triangulated contour plot for scattered points), with the critical
points in the shared colour table (plots.style), the trained weights (the origin) and the non-finite
points marked (hatched grey cells and grey squares, legend "non-finite").

The colour scale follows plots.style's rule (log when the loss spans two decades or more) and its
colour-bar ticks sit at readable loss values (0.1, 1, 10, ...), not at log10 exponents.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..names import CriticalType
from ._mpl import pyplot, save
from .style import (CRITICAL, NONFINITE, NONFINITE_FILL, TRAINED, Scale, colour_ticks, fmt_loss, legend_types,
                    loss_scale, loss_ticks, marker, marker_size, outside_legend)

N_LEVELS = 24


def critical_nodes(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """(vertex ids, CriticalType codes) of a TopologyResult's join-tree nodes."""
    return (np.asarray(result.tree.node_vertex, dtype=np.int64).ravel(),
            np.asarray(result.tree.node_type, dtype=np.int64).ravel())


def plot_landscape(path: str | os.PathLike, coords: np.ndarray, loss: np.ndarray,
                   resolution: Sequence[int] | None = None, result: Any | None = None,
                   title: str = "loss landscape", loss_name: str = "loss") -> Path:
    """Write the landscape picture of `loss` (raw; inf/NaN allowed) at `coords` (V, d) as a PNG.

    resolution: the grid's points per axis (VTK order), None for scattered points. result: a
    TopologyResult whose critical points are marked; without it the lowest point is.
    """
    return save(landscape_figure(coords, loss, resolution, result, title, loss_name), path)


def landscape_figure(coords: np.ndarray, loss: np.ndarray, resolution: Sequence[int] | None = None,
                     result: Any | None = None, title: str = "loss landscape", loss_name: str = "loss") -> Any:
    """The matplotlib Figure of plot_landscape (artists carry gids: 'minima', 'nonfinite', ...)."""
    raw = np.asarray(loss, dtype=np.float64).ravel()
    pts = np.asarray(coords, dtype=np.float64).reshape(len(raw), -1)
    bad = ~np.isfinite(raw)
    values = np.where(bad, np.nan, raw)
    if resolution is not None and int(np.prod(resolution)) != len(raw):
        resolution = None  # not a full grid: draw it as scattered points
    if resolution is not None:
        axes = [a for a, n in enumerate(resolution) if n > 1] or [0]
    else:  # scattered points: their first two coordinates that vary
        axes = [a for a in range(pts.shape[1]) if np.ptp(pts[:, a]) > 0][:2] or [0]
    shown = np.ones(len(raw), dtype=bool)
    note = ""
    if resolution is not None and len(axes) == 3:  # the slice of the third axis through the lowest point
        nxy = int(resolution[0]) * int(resolution[1])
        k = int(np.nanargmin(values)) // nxy if (~bad).any() else int(resolution[2]) // 2
        shown[:] = False
        shown[k * nxy:(k + 1) * nxy] = True
        note = f"slice a3 = {pts[k * nxy, axes[2]]:.3g} through the lowest point"
    if result is not None:
        ids, codes = critical_nodes(result)
        size = marker_size(int(np.isin(codes, [int(CriticalType.MAXIMUM), int(CriticalType.REGULAR)],
                                       invert=True).sum()))
        marks = [(ids[codes == int(t)], marker(t, size=size, clip_on=False), t) for t in legend_types(codes)
                 if t not in (CriticalType.REGULAR, CriticalType.MAXIMUM)]  # the maximum: on the border
    else:
        low = np.flatnonzero(shown & ~bad)
        lowest = np.atleast_1d(low[np.argmin(values[low])]) if low.size else np.zeros(0, dtype=np.int64)
        marks = [(lowest, marker(CriticalType.MINIMUM, size=120, gid="lowest", clip_on=False), None)]
    plt = pyplot()
    one_d = len(axes) == 1
    fig, ax = plt.subplots(figsize=(5.6, 3.6) if one_d else (5.4, 5.0), layout="constrained")
    extras: list = []
    if one_d:
        _curve(ax, pts[:, axes[0]], values, bad, marks, loss_name)
    else:
        extras = _field(fig, ax, pts, values, bad, shown, axes, resolution, marks, loss_name)
    ax.set_title(title + (f"\n{note}" if note else ""))
    outside_legend(fig, ax, ncol=3 if one_d else 2, items=extras)
    return fig


def _label(t: CriticalType | None, n_shown: int, n_all: int) -> str:
    if t is None:
        return "lowest point"
    what = CRITICAL[t]["label"]
    return f"{what} ({n_shown})" if n_shown == n_all else f"{what} ({n_shown} of {n_all} in the slice)"


def _curve(ax: Any, x: np.ndarray, values: np.ndarray, bad: np.ndarray, marks: list, loss_name: str) -> None:
    """1-D: the loss along a1, non-finite points as grey squares on the bottom edge."""
    order = np.argsort(x, kind="stable")
    ax.plot(x[order], values[order], color="0.25", lw=1.2, label=loss_name)
    for ids, style, t in marks:
        ax.scatter(x[ids], values[ids], label=_label(t, len(ids), len(ids)),
                   **{"gid": CRITICAL[t]["label"] if t is not None else None, **style})
    if bad.any():
        ax.scatter(x[bad], np.zeros(int(bad.sum())), transform=ax.get_xaxis_transform(), s=20, zorder=4,
                   clip_on=False, marker=NONFINITE["marker"], color=NONFINITE["color"], gid="nonfinite",
                   label=f"{NONFINITE['label']} ({int(bad.sum())})")
    scale = loss_scale(values)
    scale.apply(ax, "y")
    loss_ticks(ax.yaxis, *_finite_range(values), scale)
    ax.set_xlabel("a1 (along direction 1)")
    ax.set_ylabel(loss_name + (" (log scale)" if scale.kind == "log" else ""))
    ax.grid(alpha=0.3)


def _finite_range(values: np.ndarray) -> tuple[float, float]:
    v = values[np.isfinite(values)]
    return (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)


def _norm_levels(lo: float, hi: float, scale: Scale) -> tuple[Any, np.ndarray]:
    from matplotlib.colors import LogNorm, Normalize, SymLogNorm

    if hi <= lo:
        hi = lo + (abs(lo) * 1e-3 or 1e-3)
    levels = scale.inverse(np.linspace(scale.forward(lo), scale.forward(hi), N_LEVELS + 1))
    levels[0], levels[-1] = lo, hi
    if scale.kind == "log":
        return LogNorm(lo, hi), levels
    if scale.kind == "symlog":
        return SymLogNorm(scale.linthresh, vmin=lo, vmax=hi, base=10), levels
    return Normalize(lo, hi), levels


def _field(fig: Any, ax: Any, pts: np.ndarray, values: np.ndarray, bad: np.ndarray, shown: np.ndarray,
           axes: list[int], resolution: Sequence[int] | None, marks: list, loss_name: str) -> list:
    """2-D: filled contours of the shown points on a1/a2, with a colour bar in loss units; returns extra
    legend entries (handle, label)."""
    ca, cb = axes[0], axes[1]
    sel = np.flatnonzero(shown)
    lo, hi = _finite_range(values[sel])
    scale = loss_scale(values[sel])
    norm, levels = _norm_levels(lo, hi, scale)
    nbad = int(bad[sel].sum())
    if resolution is not None:
        nx, ny = int(resolution[ca]), int(resolution[cb])
        grid = (pts[sel, ca].reshape(ny, nx), pts[sel, cb].reshape(ny, nx),
                np.ma.masked_invalid(values[sel].reshape(ny, nx)))
    else:
        ok = sel[~bad[sel]]
        grid = None
        tri = (pts[ok, ca], pts[ok, cb], values[ok])
    data = grid if grid is not None else tri

    def draw(a: Any, window: tuple | None = None, top: float = np.inf) -> Any:
        """Contours on axes a; in a zoom window with the colours spread from the window's lowest value to
        `top` (values above it in the top colour): the basin floor in full contrast."""
        if window is None:
            return _contours(a, data, grid is None, levels, norm, nbad)
        x, y = (np.asarray(data[0]), np.asarray(data[1]))
        inside = (x >= window[0]) & (x <= window[1]) & (y >= window[2]) & (y <= window[3])
        wlo, whi = _finite_range(np.ma.filled(np.ma.asarray(data[2], dtype=float), np.nan)[inside])
        whi = min(whi, top)
        wnorm, wlevels = _norm_levels(wlo, whi, loss_scale(np.array([wlo, whi])))
        _contours(a, data, grid is None, wlevels, wnorm, nbad, extend="max")
        return wlo, whi
    cs = draw(ax)
    if grid is None:
        ax.scatter(pts[sel, ca], pts[sel, cb], s=0.8, color="k", alpha=0.2, linewidths=0, gid="samples")
    cbar = fig.colorbar(cs, ax=ax, shrink=0.85, pad=0.02)
    cbar.set_label(loss_name + (" (log colour scale)" if scale.kind == "log" else
                                " (symlog colour scale)" if scale.kind == "symlog" else ""))
    ticks = colour_ticks(lo, hi, scale)
    if len(ticks) >= 2:
        cbar.set_ticks(ticks, labels=[fmt_loss(t) for t in ticks])
        cbar.ax.minorticks_off()
    ext = (pts[:, ca].min(), pts[:, ca].max(), pts[:, cb].min(), pts[:, cb].max())
    origin = bool(ext[0] <= 0 <= ext[1] and ext[2] <= 0 <= ext[3])
    if len(axes) == 3:  # the origin is in the slice only at a3 = 0
        origin = origin and bool(np.isclose(pts[sel[0], axes[2]], 0.0))
    crit, extras = [], []
    for ids, style, t in marks:
        n_all = len(ids)
        ids = ids[shown[ids]]
        ax.scatter(pts[ids, ca], pts[ids, cb], label=_label(t, len(ids), n_all),
                   **{"gid": CRITICAL[t]["label"] if t is not None else None, **style})
        if t is None or t != CriticalType.MAXIMUM:
            crit.extend(ids.tolist())
    if nbad:
        nb = np.flatnonzero(bad & shown)
        h = ax.scatter(pts[nb, ca], pts[nb, cb], marker=NONFINITE["marker"], s=5, color="0.45", linewidths=0,
                       zorder=4, gid="nonfinite")
        label = f"{NONFINITE['label']} ({nbad})"
        if grid is not None:
            from matplotlib.patches import Patch

            h = (Patch(**NONFINITE_FILL), h)
        extras.append((h, label))
    if origin:
        ax.scatter([0.0], [0.0], gid="trained", **TRAINED)
    ax.set_xlim(ext[0], ext[1])
    ax.set_ylim(ext[2], ext[3])
    ax.set_xlabel("a1 (along direction 1)")
    ax.set_ylabel("a2 (along direction 2)")
    ax.set_aspect("equal", adjustable="box")
    _zoom(ax, pts[:, [ca, cb]], values, np.array(crit, dtype=np.int64), ext, draw, marks, shown, origin)
    return extras


def _contours(ax: Any, data: Any, scattered: bool, levels: np.ndarray, norm: Any, nbad: int,
              extend: str = "neither") -> Any:
    """Filled contours and thin contour lines; cells without a value show the hatched grey background."""
    if scattered:
        cs = ax.tricontourf(*data, levels=levels, norm=norm, cmap="viridis", extend=extend)
        ax.tricontour(*data, levels=levels[::3], norm=norm, colors="k", linewidths=0.35, alpha=0.45)
        return cs
    cs = ax.contourf(*data, levels=levels, norm=norm, cmap="viridis", extend=extend)
    ax.contour(*data, levels=levels[::3], norm=norm, colors="k", linewidths=0.35, alpha=0.45)
    if nbad:
        ax.patch.set_facecolor(NONFINITE_FILL["facecolor"])
        ax.patch.set_hatch(NONFINITE_FILL["hatch"])
        ax.patch.set_edgecolor(NONFINITE_FILL["edgecolor"])
    return cs


def _zoom(ax: Any, xy: np.ndarray, values: np.ndarray, crit: np.ndarray, ext: tuple, draw: Any, marks: list,
          shown: np.ndarray, origin: bool) -> None:
    """An inset magnifying the critical points that crowd (two closer than 4 % of the extent, with
    their neighbours within 15 %); it goes into a corner free of critical points, the farthest one."""
    if len(crit) < 2 or len(crit) > 60:
        return
    p = xy[crit]
    w, h = ext[1] - ext[0], ext[3] - ext[2]
    d = np.hypot((p[:, None, 0] - p[None, :, 0]) / w, (p[:, None, 1] - p[None, :, 1]) / h)
    np.fill_diagonal(d, np.inf)
    i, j = np.unravel_index(np.argmin(d), d.shape)
    if d[i, j] >= 0.04:
        return
    mid = (p[i] + p[j]) / 2
    near = np.hypot((p[:, 0] - mid[0]) / w, (p[:, 1] - mid[1]) / h) <= 0.15
    crit, p = crit[near], p[near]
    box = np.ptp(p, axis=0)
    c = (p.min(axis=0) + p.max(axis=0)) / 2
    half = max(box.max() * 0.9, 0.06 * max(w, h))
    window = (c[0] - half, c[0] + half, c[1] - half, c[1] + half)
    size = 0.36
    avoid = np.vstack([xy[np.concatenate([m[0][shown[m[0]]] for m in marks])], [[0.0, 0.0]] if origin else
                       np.zeros((0, 2)), [c]])
    free = []
    for cx in (0, 1):
        for cy in (0, 1):
            x0, y0 = ext[0] + (0.01 + cx * (0.98 - size - 0.02)) * w, ext[2] + (0.01 + cy * (0.98 - size - 0.02)) * h
            inside = ((avoid[:, 0] >= x0) & (avoid[:, 0] <= x0 + (size + 0.02) * w)
                      & (avoid[:, 1] >= y0) & (avoid[:, 1] <= y0 + (size + 0.02) * h))
            if not inside.any():
                free.append(((cx, cy), np.hypot(x0 + size * w / 2 - c[0], y0 + size * h / 2 - c[1])))
    if not free:
        return
    (cx, cy), _ = max(free, key=lambda kv: kv[1])
    ins = ax.inset_axes([0.03 + cx * (0.94 - size), 0.03 + cy * (0.94 - size), size, size])
    cv = values[crit]
    wlo, whi = draw(ins, window, top=float(cv.min() + 2.0 * (cv.max() - cv.min())) if np.ptp(cv) > 0 else np.inf)
    for ids, style, _t in marks:
        ids = ids[shown[ids]]
        ins.scatter(xy[ids, 0], xy[ids, 1], **{**style, "s": style.get("s", 44) * 1.2, "clip_on": True})
    if origin:
        ins.scatter([0.0], [0.0], **TRAINED)
    ins.set_xlim(window[0], window[1])
    ins.set_ylim(window[2], window[3])
    ins.set_aspect("equal", adjustable="box")
    ins.set_xticks([])
    ins.set_yticks([])
    ins.text(0.03, 0.03, f"zoom x{w / (2 * half):.0f}; colours {fmt_loss(wlo)} to {fmt_loss(whi)}+",
             transform=ins.transAxes, fontsize=6.5, color="white", va="bottom", ha="left",
             bbox=dict(boxstyle="round,pad=0.2", facecolor="black", alpha=0.55, lw=0))
    ins.set_gid("zoom")
    ax.indicate_inset_zoom(ins, edgecolor="white", alpha=0.9)
