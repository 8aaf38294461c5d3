"""Pictures of one topology analysis (matplotlib, Agg): the merge tree drawn as a tree and the
persistence diagram (the landscape with its critical points is plots.landscape). PNGs, atomically.
"""

from __future__ import annotations

import os

import numpy as np

from ..names import CriticalType
from ..topology import TopologyResult, planar_tree_layout
from ._mpl import pyplot, save
from .landscape import MAX_STYLE, MIN_STYLE, SADDLE_STYLE, log_scale

def plot_merge_tree(path: str | os.PathLike, result: TopologyResult,
                    title: str = "merge tree (join tree)") -> None:
    """The join tree with y = loss: each branch a vertical line, the most persistent one unbroken."""
    tree = result.tree
    scalar = np.asarray(tree.node_scalar, dtype=np.float64)
    arcs = np.asarray(tree.arcs, dtype=np.int64).reshape(-1, 2)
    x = planar_tree_layout(arcs[:, 0], arcs[:, 1], scalar)
    fig, ax = pyplot().subplots(figsize=(6.5, 5.0), dpi=110)
    from matplotlib.collections import LineCollection

    up, down = arcs[:, 0], arcs[:, 1]  # each arc: up from the child, then across to its parent
    segments = np.stack([np.stack([x[down], scalar[down]], 1), np.stack([x[down], scalar[up]], 1),
                         np.stack([x[up], scalar[up]], 1)], axis=1)
    ax.add_collection(LineCollection(segments, colors="0.35", linewidths=0.8 if len(arcs) < 500 else 0.3))
    ax.autoscale_view()
    t = np.asarray(tree.node_type)
    for codes, style, label in (((CriticalType.MINIMUM,), MIN_STYLE, "minima"),
                                ((CriticalType.SADDLE1, CriticalType.DEGENERATE), SADDLE_STYLE, "saddles"),
                                ((CriticalType.MAXIMUM,), MAX_STYLE, "root (maximum)")):
        sel = np.isin(t, [int(c) for c in codes])
        if sel.any():
            ax.scatter(x[sel], scalar[sel], label=f"{label} ({int(sel.sum())})", **style)
    if log_scale(scalar):
        ax.set_yscale("log")
    ax.set_xticks([])
    ax.set_ylabel("loss")
    ax.set_title(title)
    _nonfinite_note(ax, result)
    ax.legend(loc="best", fontsize=8, framealpha=0.8)
    save(fig, path)


def _nonfinite_note(ax, result: TopologyResult) -> None:
    """Say in the picture that (and how many) non-finite points were left out of the topology."""
    n = int(getattr(result, "n_nonfinite", 0))
    if n:
        ax.text(0.01, 0.01, f"{n} of {result.n_vertices} points non-finite (inf/NaN): left out",
                transform=ax.transAxes, fontsize=7, color="0.35", ha="left", va="bottom")


def plot_persistence_diagram(path: str | os.PathLike, result: TopologyResult,
                             title: str = "persistence diagram (0-dim)") -> None:
    """(birth, death) of every minimum-saddle pair; essential pairs drawn as open squares."""
    p = result.pairs
    birth = np.asarray(p.birth, dtype=np.float64)
    death = np.asarray(p.death, dtype=np.float64)
    finite = np.asarray(p.finite, dtype=bool)
    fig, ax = pyplot().subplots(figsize=(5.5, 5.0), dpi=110)
    lo = float(min(birth.min(), death.min())) if len(birth) else 0.0
    hi = float(max(birth.max(), death.max())) if len(birth) else 1.0
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, ls="--", label="diagonal")
    ax.scatter(birth[finite], death[finite], s=18, color="tab:blue",
               label=f"finite pairs ({int(finite.sum())})", zorder=4)
    if (~finite).any():
        ax.scatter(birth[~finite], death[~finite], s=40, marker="s", facecolors="none",
                   edgecolors="tab:red", label=f"essential ({int((~finite).sum())})", zorder=5)
    if log_scale(np.concatenate([birth, death])):
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("birth (loss at the minimum)")
    ax.set_ylabel("death (loss at the saddle)")
    ax.set_title(title)
    _nonfinite_note(ax, result)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.8)
    save(fig, path)
