"""Pictures of one topology analysis (matplotlib, Agg): the landscape with its critical points, the
merge tree drawn as a tree, and the persistence diagram. Each is written atomically as a PNG.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .fileio import atomic_path
from .names import CriticalType
from .topology.types import TopologyResult
from .tree_layout import planar_tree_layout

_MIN_STYLE = dict(marker="v", color="tab:blue", s=36, edgecolors="white", linewidths=0.6, zorder=5)
_SADDLE_STYLE = dict(marker="X", color="tab:red", s=36, edgecolors="white", linewidths=0.6, zorder=5)
_MAX_STYLE = dict(marker="^", color="tab:orange", s=36, edgecolors="white", linewidths=0.6, zorder=5)


def _figure(figsize: tuple[float, float] = (6.0, 5.0)) -> tuple[Any, Any]:
    import warnings

    import matplotlib

    matplotlib.use("Agg", force=True)
    with warnings.catch_warnings():  # Debian's system matplotlib next to the venv's: its 3-D axes do not load
        warnings.filterwarnings("ignore", message="Unable to import Axes3D")
        import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, dpi=110)
    return fig, ax


def _save(fig: Any, path: str | os.PathLike) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _log_scale(values: np.ndarray) -> bool:
    """Log scale when all values are positive and span more than three decades."""
    v = values[np.isfinite(values)]
    return v.size > 1 and v.min() > 0 and v.max() / v.min() > 1e3


def _critical(result: TopologyResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(result.tree.node_type)
    v = np.asarray(result.tree.node_vertex, dtype=np.int64)
    saddle = np.isin(t, [int(CriticalType.SADDLE1), int(CriticalType.DEGENERATE)])
    return v[t == int(CriticalType.MINIMUM)], v[saddle], v[t == int(CriticalType.MAXIMUM)]


def plot_landscape(path: str | os.PathLike, result: TopologyResult, coords: np.ndarray,
                   grid_dims: tuple[int, ...] | None = None, title: str = "loss landscape") -> None:
    """Contours of the analysed field with minima (v) and saddles (X) marked.

    coords: (V, >=1) vertex positions. Images (grid_dims given) are drawn as filled contours of the
    grid (3-D images: the middle z slice); graphs as a triangulated contour plot of their points.
    """
    values = np.asarray(result.values, dtype=np.float64)
    pts = np.asarray(coords, dtype=np.float64).reshape(len(values), -1)
    mins, saddles, _ = _critical(result)
    fig, ax = _figure()
    dims = tuple(d for d in (grid_dims or ()) if d > 1)
    if pts.shape[1] == 1 or len(dims) == 1:
        x = pts[:, 0] if pts.shape[1] == 1 or not grid_dims or grid_dims[0] > 1 else pts[:, 1]
        order = np.argsort(x, kind="stable")
        ax.plot(x[order], values[order], color="0.3", lw=1)
        ax.scatter(x[mins], values[mins], label=f"minima ({len(mins)})", **_MIN_STYLE)
        ax.scatter(x[saddles], values[saddles], label=f"saddles ({len(saddles)})", **_SADDLE_STYLE)
        ax.set_xlabel("a1")
        ax.set_ylabel("loss")
        if _log_scale(values):
            ax.set_yscale("log")
    else:
        shown = np.ones(len(values), dtype=bool)
        if grid_dims is not None and len(grid_dims) == 3 and grid_dims[2] > 1:
            nx, ny, nz = grid_dims
            k = nz // 2
            shown[:] = False
            shown[k * nx * ny:(k + 1) * nx * ny] = True
            title += f" (slice z={pts[k * nx * ny, 2]:.3g})"
        z = values
        log = _log_scale(values)
        if log:
            z = np.log10(values)
        if grid_dims is not None and len(dims) >= 2:
            nx, ny = grid_dims[0], grid_dims[1]
            sel = np.flatnonzero(shown)
            X = pts[sel, 0].reshape(ny, nx)
            Y = pts[sel, 1].reshape(ny, nx)
            cs = ax.contourf(X, Y, z[sel].reshape(ny, nx), levels=30, cmap="viridis")
            ax.contour(X, Y, z[sel].reshape(ny, nx), levels=15, colors="k", linewidths=0.3, alpha=0.5)
        else:
            cs = ax.tricontourf(pts[:, 0], pts[:, 1], z, levels=30, cmap="viridis")
            ax.scatter(pts[:, 0], pts[:, 1], s=1.5, color="k", alpha=0.25, linewidths=0)
        fig.colorbar(cs, ax=ax, label="log10 loss" if log else "loss")
        m, s = mins[shown[mins]], saddles[shown[saddles]]
        ax.scatter(pts[m, 0], pts[m, 1], label=f"minima ({len(mins)})", **_MIN_STYLE)
        ax.scatter(pts[s, 0], pts[s, 1], label=f"saddles ({len(saddles)})", **_SADDLE_STYLE)
        ax.set_xlabel("a1")
        ax.set_ylabel("a2")
        ax.set_aspect("equal", adjustable="box")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    _save(fig, path)


def plot_merge_tree(path: str | os.PathLike, result: TopologyResult,
                    title: str = "merge tree (join tree)") -> None:
    """The join tree with y = loss: each branch a vertical line, the most persistent one unbroken."""
    tree = result.tree
    scalar = np.asarray(tree.node_scalar, dtype=np.float64)
    arcs = np.asarray(tree.arcs, dtype=np.int64).reshape(-1, 2)
    x = planar_tree_layout(arcs[:, 0], arcs[:, 1], scalar)
    fig, ax = _figure((6.5, 5.0))
    from matplotlib.collections import LineCollection

    up, down = arcs[:, 0], arcs[:, 1]  # each arc: up from the child, then across to its parent
    segments = np.stack([np.stack([x[down], scalar[down]], 1), np.stack([x[down], scalar[up]], 1),
                         np.stack([x[up], scalar[up]], 1)], axis=1)
    ax.add_collection(LineCollection(segments, colors="0.35", linewidths=0.8 if len(arcs) < 500 else 0.3))
    ax.autoscale_view()
    t = np.asarray(tree.node_type)
    for codes, style, label in (((CriticalType.MINIMUM,), _MIN_STYLE, "minima"),
                                ((CriticalType.SADDLE1, CriticalType.DEGENERATE), _SADDLE_STYLE, "saddles"),
                                ((CriticalType.MAXIMUM,), _MAX_STYLE, "root (maximum)")):
        sel = np.isin(t, [int(c) for c in codes])
        if sel.any():
            ax.scatter(x[sel], scalar[sel], label=f"{label} ({int(sel.sum())})", **style)
    if _log_scale(scalar):
        ax.set_yscale("log")
    ax.set_xticks([])
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8, framealpha=0.8)
    _save(fig, path)


def plot_persistence_diagram(path: str | os.PathLike, result: TopologyResult,
                             title: str = "persistence diagram (0-dim)") -> None:
    """(birth, death) of every minimum-saddle pair; essential pairs drawn as open squares."""
    p = result.pairs
    birth = np.asarray(p.birth, dtype=np.float64)
    death = np.asarray(p.death, dtype=np.float64)
    finite = np.asarray(p.finite, dtype=bool)
    fig, ax = _figure((5.5, 5.0))
    lo = float(min(birth.min(), death.min())) if len(birth) else 0.0
    hi = float(max(birth.max(), death.max())) if len(birth) else 1.0
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, ls="--", label="diagonal")
    ax.scatter(birth[finite], death[finite], s=18, color="tab:blue",
               label=f"finite pairs ({int(finite.sum())})", zorder=4)
    if (~finite).any():
        ax.scatter(birth[~finite], death[~finite], s=40, marker="s", facecolors="none",
                   edgecolors="tab:red", label=f"essential ({int((~finite).sum())})", zorder=5)
    if _log_scale(np.concatenate([birth, death])):
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("birth (loss at the minimum)")
    ax.set_ylabel("death (loss at the saddle)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.8)
    _save(fig, path)
