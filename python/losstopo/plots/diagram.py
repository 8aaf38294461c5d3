"""The 0-dim persistence diagram as a picture: (birth, death) of each minimum-saddle pair on square
axes with EQUAL ranges (so the diagonal is at 45 degrees and a pair's height above it is its
persistence), the region below the diagonal shaded. Essential pairs (finite False: a component's
minimum with its highest point) are red diamonds on a line "essential (dies at max)"; when the maximum
is far above the finite pairs (plots.style.far_apart) that line is a band above a broken axis, so the
finite pairs keep the square. Scales follow plots.style's rule (log when two decades or more).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..topology import TopologyResult
from ._mpl import pyplot, save
from .style import (ESSENTIAL_COLOR, FINITE_COLOR, broken_axes, far_apart, fmt_loss, loss_scale, loss_ticks,
                    outside_legend)


def nonfinite_note(ax: Any, result: TopologyResult) -> None:
    """Say in the picture that (and how many) non-finite points were left out of the topology."""
    n = int(getattr(result, "n_nonfinite", 0))
    if n:
        ax.text(0.99, 0.01, f"{n} of {result.n_vertices} points non-finite (inf/NaN): left out",
                transform=ax.transAxes, fontsize=7, color="0.35", ha="right", va="bottom", gid="nonfinite_note")


def plot_persistence_diagram(path: str | os.PathLike, result: TopologyResult,
                             title: str = "persistence diagram (0-dim)", loss_name: str = "loss") -> Path:
    """Write the persistence diagram of `result` as a PNG (see the module docstring)."""
    return save(persistence_diagram_figure(result, title, loss_name), path)


def persistence_diagram_figure(result: TopologyResult, title: str = "persistence diagram (0-dim)",
                               loss_name: str = "loss") -> Any:
    """The Figure of plot_persistence_diagram; artists carry gids 'diagonal', 'finite', 'essential'."""
    p = result.pairs
    birth = np.asarray(p.birth, dtype=np.float64).ravel()
    death = np.asarray(p.death, dtype=np.float64).ravel()
    finite = np.asarray(p.finite, dtype=bool).ravel()
    ess = ~finite
    main_vals = np.concatenate([birth, death[finite]]) if finite.any() else np.concatenate([birth, death])
    if main_vals.size == 0:
        main_vals = np.array([0.0, 1.0])
    lo, top = float(main_vals.min()), float(main_vals.max())
    scale = loss_scale(main_vals)
    far = float(death[ess].max()) if ess.any() else np.nan
    banded = bool(finite.any() and ess.any()) and far_apart(lo, top, far, scale)
    fig = pyplot().figure(figsize=(5.0, 5.6 if banded else 5.0), layout="constrained")
    if banded:
        band, ax = broken_axes(fig, ratio=0.14)
    else:
        ax, band = fig.add_subplot(), None
        main_vals = np.concatenate([birth, death]) if birth.size else main_vals
        lo, top = float(main_vals.min()), float(main_vals.max())
        scale = loss_scale(main_vals)
    for axis in "xy":
        scale.apply(ax, axis)
    a, b = scale.padded(lo, top, 0.07)
    ax.set_xlim(a, b)
    ax.set_ylim(a, b)
    ax.set_box_aspect(1.0)
    loss_ticks(ax.xaxis, a, b, scale)
    loss_ticks(ax.yaxis, a, b, scale)
    grid = scale.inverse(np.linspace(scale.forward(a), scale.forward(b), 64))
    ax.fill_between(grid, a, grid, color="0.93", lw=0, zorder=0)
    ax.plot([a, b], [a, b], color="0.45", lw=1, ls="--", label="diagonal (birth = death)", gid="diagonal")
    ax.scatter(birth[finite], death[finite], s=30, color=FINITE_COLOR, edgecolors="white", linewidths=0.6,
               zorder=5, gid="finite", label=f"finite pairs ({int(finite.sum())})")
    _multiplicity(ax, birth[finite], death[finite])
    ess_style = dict(s=60, marker="D", color=ESSENTIAL_COLOR, edgecolors="k", linewidths=0.6, zorder=6,
                     gid="essential")
    target = band if banded else ax
    if ess.any():
        lab = f"essential ({int(ess.sum())}): die at the max" + ("" if banded else ", dotted line")
        target.scatter(birth[ess], death[ess], label=lab, clip_on=False, **ess_style)
        _multiplicity(target, birth[ess], death[ess])
        if not banded:
            for v in np.unique(death[ess])[:3]:
                target.axhline(v, color=ESSENTIAL_COLOR, lw=0.8, ls=":", gid="essential_line")
    if banded:
        vals = np.unique(death[ess])
        pad = 0.5 * (np.ptp(vals) or abs(vals.max()) * 0.1 or 1.0)
        band.set_ylim(vals.min() - pad, vals.max() + pad)
        band.set_yticks(vals[:3], labels=[fmt_loss(v) for v in vals[:3]])
        band.text(0.99, 0.5, "essential (dies at max), axis broken", transform=band.transAxes, ha="right",
                  va="center", fontsize=7.5, color=ESSENTIAL_COLOR)
        band.set_title(title)
    else:
        ax.set_title(title)
    ax.set_xlabel(f"birth: {loss_name} at the minimum" + (" (log)" if scale.kind == "log" else ""))
    ax.set_ylabel(f"death: {loss_name} where it merges" + (" (log)" if scale.kind == "log" else ""))
    nonfinite_note(ax, result)
    outside_legend(fig, ax, extra=band, ncol=2)
    return fig


def _multiplicity(ax: Any, birth: np.ndarray, death: np.ndarray) -> None:
    """Write "x n" beside a point that n > 1 pairs share (symmetric landscapes repeat pairs exactly)."""
    if birth.size < 2:
        return
    pts, counts = np.unique(np.column_stack([birth, death]), axis=0, return_counts=True)
    for (b, d), n in zip(pts, counts):
        if n > 1:
            ax.annotate(f"\u00d7{n}", (b, d), xytext=(5, 3), textcoords="offset points", fontsize=7.5,
                        color="0.2", gid="multiplicity")
