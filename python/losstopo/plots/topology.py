"""The merge tree (join tree) of one topology analysis as a picture: y = the loss of each node, x from
topology.planar_tree_layout (leaves ordered so that branches do not cross, the most persistent branch
one vertical line), nodes in the shared critical-point colours (plots.style). A root far above the rest
(the exploding border of a landscape) sits on a band above a broken axis with its value written, so
that the minima and saddles keep the height of the picture. The persistence diagram is plots.diagram.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..names import CriticalType
from ..topology import TopologyResult, planar_tree_layout
from ._mpl import pyplot, save
from .diagram import nonfinite_note, plot_persistence_diagram, persistence_diagram_figure
from .style import (CRITICAL, broken_axes, far_apart, fmt_loss, legend_types, loss_scale, loss_ticks, marker,
                    marker_size, outside_legend)

__all__ = ["plot_merge_tree", "merge_tree_figure", "plot_persistence_diagram", "persistence_diagram_figure"]

MAX_LABELLED = 12  # write the loss next to each node when the tree has at most this many nodes


def plot_merge_tree(path: str | os.PathLike, result: TopologyResult, title: str = "merge tree (join tree)",
                    loss_name: str = "loss") -> Path:
    """Write the merge-tree picture of `result` as a PNG (see the module docstring)."""
    return save(merge_tree_figure(result, title, loss_name), path)


def merge_tree_figure(result: TopologyResult, title: str = "merge tree (join tree)", loss_name: str = "loss") -> Any:
    """The Figure of plot_merge_tree; node markers carry gids of their type's label ('minima', ...)."""
    from matplotlib.collections import LineCollection

    tree = result.tree
    y = np.asarray(tree.node_scalar, dtype=np.float64).ravel()
    t = np.asarray(tree.node_type, dtype=np.int64).ravel()
    arcs = np.asarray(tree.arcs, dtype=np.int64).reshape(-1, 2)
    up, down = arcs[:, 0], arcs[:, 1]
    x = planar_tree_layout(up, down, y)
    is_root = np.ones(len(y), dtype=bool)
    is_root[down] = False
    plt = pyplot()
    fig = plt.figure(figsize=(5.6, 4.6), layout="constrained")
    rest = y[~is_root] if (~is_root).any() else y
    lo, top = (float(rest.min()), float(rest.max())) if len(y) else (0.0, 1.0)
    scale = loss_scale(rest)
    banded = bool(is_root.any()) and far_apart(lo, top, float(y[is_root].max()), scale)
    if not banded:
        scale = loss_scale(y)
        ax = fig.add_subplot()
        band = None
        axes = [ax]
    else:
        band, ax = broken_axes(fig)
        axes = [band, ax]
    segments = np.stack([np.stack([x[down], y[down]], 1), np.stack([x[down], y[up]], 1),
                         np.stack([x[up], y[up]], 1)], axis=1) if len(arcs) else np.zeros((0, 3, 2))
    size = marker_size(len(y))
    for a in axes:
        a.add_collection(LineCollection(segments, colors="0.3", linewidths=1.0 if len(arcs) < 300 else 0.4,
                                        gid="arcs"))
        for code in legend_types(t):
            sel = t == int(code)
            a.scatter(x[sel], y[sel], label=f"{CRITICAL[code]['label']} ({int(sel.sum())})",
                      **marker(code, size=size, gid=CRITICAL[code]["label"]))
        a.set_xlim(-0.06, 1.06)
        a.set_xticks([])
    if banded:
        ylo, yhi = scale.padded(lo, top, 0.06)
        roots = np.unique(y[is_root])
        band.set_ylim(roots.min() - 0.5 * (np.ptp(roots) or abs(roots.min()) * 0.1 or 1.0),
                      roots.max() + 0.5 * (np.ptp(roots) or abs(roots.max()) * 0.1 or 1.0))
        band.set_yticks(roots[:3], labels=[fmt_loss(v) for v in roots[:3]])
        band.set_title(title)
        band.text(0.99, 0.5, "root: the highest loss (axis broken)", transform=band.transAxes, ha="right",
                  va="center", fontsize=7.5, color="0.35")
    else:
        ylo, yhi = scale.padded(float(y.min()), float(y.max()), 0.06) if len(y) else (0.0, 1.0)
        ax.set_title(title)
    scale.apply(ax, "y")
    ax.set_ylim(ylo, yhi)
    loss_ticks(ax.yaxis, ylo, yhi, scale)
    if len(y) <= MAX_LABELLED:
        _value_labels(ax, x, y, t, np.flatnonzero(~is_root if banded else np.ones(len(y), dtype=bool)))
    ax.set_ylabel(loss_name + (" (log scale)" if scale.kind == "log" else ""))
    ax.set_xlabel("branches (planar layout: leaves ordered so that arcs do not cross)", fontsize=8, color="0.3")
    ax.spines["bottom"].set_visible(False)
    nonfinite_note(ax, result)
    outside_legend(fig, ax, ncol=4)
    return fig


def _value_labels(ax: Any, x: np.ndarray, y: np.ndarray, t: np.ndarray, ids: np.ndarray) -> None:
    """Write each node's loss beside it (minima below right, others above right), moving a label up
    when it would overlap one already written (labels of nodes at almost the same place)."""
    fig = ax.figure
    pix = ax.transData.transform(np.column_stack([x[ids], y[ids]]))
    to_pt = 72.0 / fig.dpi
    placed: list[tuple[float, float]] = []
    seen: dict[tuple[int, int, str], Any] = {}
    for k in np.lexsort((pix[:, 1], pix[:, 0])):
        i = ids[k]
        text = fmt_loss(float(y[i]))
        key = (int(round(pix[k, 0])), int(round(pix[k, 1])), text)
        if key in seen:  # nodes drawn on top of each other (symmetric landscapes): one label, x n
            ann, n = seen[key]
            ann.set_text(f"{text} (\u00d7{n + 1})")
            seen[key] = (ann, n + 1)
            continue
        is_min = t[i] == int(CriticalType.MINIMUM)
        px, py = pix[k, 0] + 6 / to_pt, pix[k, 1] + (-12 if is_min else 3) / to_pt
        while any(abs(px - qx) < 40 / to_pt and abs(py - qy) < 10 / to_pt for qx, qy in placed):
            py += 10 / to_pt
        placed.append((px, py))
        ann = ax.annotate(text, (x[i], y[i]), xytext=((px - pix[k, 0]) * to_pt, (py - pix[k, 1]) * to_pt),
                          textcoords="offset points", fontsize=7, color="0.2", va="bottom", ha="left",
                          gid="value_label")
        seen[key] = (ann, 1)
