"""Pictures that compare models: the depth study's Figure 5 and gallery, the demo's comparison figure.

matplotlib with the Agg backend; every PNG is written atomically. Landscape and merge-tree tiles are drawn
by plots.landscape and plots.topology (the `analyze` pictures), so every view looks the same everywhere.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._mpl import pyplot, save
from .study import _floats, _is_residual, _log_if_decades

ML_ROWS = (("test_accuracy", "test accuracy"), ("hessian_top_eigenvalue", "top Hessian eigenvalue"),
           ("hessian_trace", "Hessian trace"))
TOPO_COLUMNS = (("minima", "minima"), ("saddles", "saddles"),
                ("average_persistence_finite", "average persistence (finite pairs)"))
DEPTH_COLORS = ("#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")


def _depth_style(depths: Sequence[int], depth: int, residual: bool) -> dict[str, Any]:
    c = DEPTH_COLORS[sorted(set(depths)).index(depth) % len(DEPTH_COLORS)]
    return dict(marker="o" if residual else "s", s=46, edgecolor=c, facecolor=c if residual else "none",
                linewidth=1.6)


def depth_figure5(rows: Sequence[dict[str, Any]], path: str | Path, representation: str = "image",
                  title: str = "") -> Path:
    """Figure 5 of the TDA paper for the depth study: columns minima / saddles / average persistence (finite
    pairs), rows test accuracy / top Hessian eigenvalue / Hessian trace (error bars: its standard error);
    colour = depth, filled circles = with skips, open squares = without; Spearman rho and p in each panel."""
    from ..study.stats import spearman

    plt = pyplot()
    depths = sorted({int(r["depth"]) for r in rows})
    fig, axes = plt.subplots(len(ML_ROWS), len(TOPO_COLUMNS), figsize=(4.2 * len(TOPO_COLUMNS), 3.3 * len(ML_ROWS)),
                             squeeze=False)
    for i, (mk, ml_label) in enumerate(ML_ROWS):
        for j, (tk, t_label) in enumerate(TOPO_COLUMNS):
            ax = axes[i, j]
            x = _floats([r[f"{representation}_{tk}"] for r in rows])
            y = _floats([r[mk] for r in rows])
            jitter = 0.08 * (np.arange(len(x)) % 5 - 2) if tk in ("minima", "saddles") else 0.0
            for k, r in enumerate(rows):
                st = _depth_style(depths, int(r["depth"]), _is_residual(r["residual"]))
                ax.scatter([x[k] + (jitter[k] if np.ndim(jitter) else 0.0)], [y[k]], zorder=3, **st)
                if mk == "hessian_trace" and r.get("hessian_trace_stderr") not in (None, ""):
                    ax.errorbar([x[k] + (jitter[k] if np.ndim(jitter) else 0.0)], [y[k]],
                                yerr=[float(r["hessian_trace_stderr"])], color=st["edgecolor"], lw=1, zorder=2)
            _log_if_decades(ax, y, "y")
            if tk == "average_persistence_finite":
                _log_if_decades(ax, x, "x")
                ax.tick_params(axis="x", labelrotation=35)  # log ticks of small values run into each other
            if tk in ("minima", "saddles"):
                ax.xaxis.get_major_locator().set_params(integer=True)
            rho, p, n = spearman(x, y)
            if tk == "average_persistence_finite" and n < 3:
                ax.text(0.5, 0.9, f"only {n} landscape{'s' if n != 1 else ''} with a finite pair\n(the others are "
                        "single basins)", transform=ax.transAxes, ha="center", va="top", fontsize=9, color="0.3")
            ax.set_title(f"Spearman rho = {rho:+.2f}, p = {p:.2g} (n = {n})" if math.isfinite(rho)
                         else f"Spearman rho undefined (n = {n})", fontsize=9)
            ax.grid(alpha=0.3)
            if i == len(ML_ROWS) - 1:
                ax.set_xlabel(t_label)
            if j == 0:
                ax.set_ylabel(ml_label)
    handles = [plt.Line2D([], [], linestyle="none", markersize=7, label=f"ResNet-{d}{'' if r else '-noshort'}",
                          marker="o" if r else "s", markeredgecolor=_depth_style(depths, d, r)["edgecolor"],
                          markerfacecolor=_depth_style(depths, d, r)["facecolor"], markeredgewidth=1.6)
               for d in depths for r in (True, False)]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=9)
    fig.suptitle(f"Topology of the loss landscape against accuracy and curvature ({title})", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return save(fig, path, dpi=110)


def depth_gallery(specs: Sequence[Any], landscapes: dict[str, Any], directions: str, path: str | Path) -> Path:
    """Li et al.'s Fig. 5 with merge trees, for one direction kind: rows = with skips (landscape, merge tree)
    and without (landscape, merge tree), one column per depth (one seed). Tiles go to OUT/gallery/."""
    from ..representation import landscape_image
    from ..topology import compute_topology
    from .landscape import plot_landscape
    from .topology import plot_merge_tree

    plt = pyplot()
    tiles = Path(path).parent / "gallery"
    tiles.mkdir(parents=True, exist_ok=True)
    depths = sorted({s.depth for s in specs})
    fig, axes = plt.subplots(4, len(depths), figsize=(4.2 * len(depths), 17.0), squeeze=False,
                             gridspec_kw=dict(height_ratios=[5.0, 4.4, 5.0, 4.4]))
    for ax in axes.ravel():
        ax.axis("off")
    for spec in specs:
        ls = landscapes[spec.name]
        result = compute_topology(ls.loss, landscape_image(ls.resolution, ls.span))
        label = f"{spec.group}, {directions}"
        land = tiles / f"{spec.name}_{directions}_landscape.png"
        tree = tiles / f"{spec.name}_{directions}_merge_tree.png"
        plot_landscape(land, ls.coords, ls.loss, ls.resolution, result=result, title=label)
        plot_merge_tree(tree, result, title=f"merge tree, {label}")
        row0 = 0 if spec.residual else 2
        for k, tile in enumerate((land, tree)):
            axes[row0 + k, depths.index(spec.depth)].imshow(plt.imread(tile), interpolation="antialiased")
    fig.suptitle(f"Loss landscapes ({directions} directions, seed {specs[0].seed}) with skip connections (top) "
                 f"and without (bottom), and their merge trees", fontsize=13)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    return save(fig, path, dpi=110)


DEMO_BARS = (("test_accuracy", "test accuracy (%)", 100.0, None), ("test_loss", "test loss", 1.0, None),
             ("hessian_top_eigenvalue", "top Hessian eigenvalue", 1.0, None),
             ("hessian_trace", "Hessian trace", 1.0, "hessian_trace_stderr"),
             ("image.minima", "minima", 1.0, None), ("image.saddles", "saddles", 1.0, None),
             ("image.average_persistence", "average persistence\n(with the global pair)", 1.0, None))
DEMO_COLORS = ("#1f77b4", "#d62728")


def _get(m: dict[str, Any], key: str) -> float:
    v: Any = m
    for part in key.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return float("nan") if v is None else float(v)


def demo_figure(models: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """The demo's comparison: per model a row of its landscape, merge tree and persistence diagram (the
    `analyze` pictures in <folder>/topology_image/), then the metrics side by side, one panel each."""
    plt = pyplot()
    n = len(models)
    fig = plt.figure(figsize=(15.0, 5.0 * n + 3.4))
    outer = fig.add_gridspec(n + 1, 1, height_ratios=[5.0] * n + [3.0], hspace=0.12)
    for i, m in enumerate(models):
        row = outer[i].subgridspec(1, 3, wspace=0.02)
        for j, name in enumerate(("landscape.png", "merge_tree.png", "persistence_diagram.png")):
            ax = fig.add_subplot(row[j])
            ax.imshow(plt.imread(Path(m["folder"]) / "topology_image" / name), interpolation="antialiased")
            ax.axis("off")
            if j == 0:
                ax.text(-0.02, 0.5, m["label"], transform=ax.transAxes, rotation=90, ha="right", va="center",
                        fontsize=14, fontweight="bold", color=DEMO_COLORS[i % len(DEMO_COLORS)])
    bars = outer[n].subgridspec(1, len(DEMO_BARS), wspace=0.55)
    for j, (key, label, scale, err) in enumerate(DEMO_BARS):
        ax = fig.add_subplot(bars[j])
        vals = [scale * _get(m, key) for m in models]
        errs = [scale * _get(m, err) for m in models] if err else None
        ax.bar(range(n), vals, yerr=errs, capsize=4, color=[DEMO_COLORS[i % len(DEMO_COLORS)] for i in range(n)])
        ax.set_xticks(range(n), [m["label"].replace("-noshort", "\nnoshort") for m in models], fontsize=8)
        ax.set_title(label, fontsize=10)
        for i, v in enumerate(vals):
            top = v + (errs[i] if errs and math.isfinite(errs[i]) else 0.0)
            ax.text(i + (0.22 if errs else 0.0), top, f"{v:.3g}", ha="center", va="bottom", fontsize=8)
        if key.startswith("image.") and key != "image.average_persistence":
            ax.yaxis.get_major_locator().set_params(integer=True)
            ax.set_ylim(0, max([v for v in vals if math.isfinite(v)] + [1.0]) * 1.25)
        if key == "test_accuracy":
            finite = [v for v in vals if math.isfinite(v)]
            ax.set_ylim(max(0.0, min(finite) - 5.0) if finite else 0.0, 100.5)
        ax.margins(y=0.18)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Two models on digits: landscape, merge tree and persistence diagram (filter directions), "
                 "then accuracy, curvature and topology side by side", fontsize=13)
    fig.subplots_adjust(left=0.04, right=0.99, top=0.955, bottom=0.05)
    return save(fig, path, dpi=100)
