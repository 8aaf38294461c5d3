"""Pictures of the studies: the paper's Figure 5, the `study files` figure and the landscape gallery.

matplotlib with the Agg backend; every PNG is written atomically. The landscape and merge-tree
panels of the gallery are drawn by plots.landscape and plots.topology (the `analyze` pictures).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._mpl import pyplot, save
from .style import Scale, loss_ticks

RES_COLOR, NORES_COLOR = "#1f77b4", "#d62728"
ML_ROWS = (("test_accuracy", "test accuracy"), ("hessian_top_eigenvalue", "top Hessian eigenvalue"),
           ("hessian_trace", "Hessian trace"))
TOPO_COLUMNS = (("saddles", "number of saddles"), ("average_persistence", "average persistence"))


def _plt() -> Any:
    return pyplot()


def _save(fig: Any, path: str | Path, dpi: int = 120) -> Path:
    return save(fig, path, dpi=dpi)


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.array([float(v) if v is not None and v != "" else np.nan for v in values], dtype=float)


def spans_decades(values: np.ndarray) -> bool:
    """True when all finite values are positive and max/min >= 10 (then a log axis is used)."""
    v = values[np.isfinite(values)]
    return bool(v.size >= 2 and np.all(v > 0) and v.max() / v.min() >= 10.0)


def _log_if_decades(ax: Any, v: np.ndarray, axis: str) -> None:
    """A log axis (ticks at readable values: 10, 20, 50, 100, not 2x10^1) when v spans a decade or more."""
    if spans_decades(v):
        f = v[np.isfinite(v)]
        Scale("log").apply(ax, axis)
        loss_ticks(ax.xaxis if axis == "x" else ax.yaxis, float(f.min()), float(f.max()), Scale("log"))


def _is_residual(v: Any) -> bool:
    return v if isinstance(v, bool) else str(v).strip().lower() in ("1", "true", "yes")


def group_color(group: str, k: int) -> Any:
    """The residual study's colours for groups named like res / nores, tab10 otherwise."""
    g = group.lower()
    if any(t in g for t in ("nores", "no_res", "no-res", "plain", "noskip")):
        return NORES_COLOR
    if "res" in g:
        return RES_COLOR
    return _plt().get_cmap("tab10")(k % 10)


def figure5(rows: Sequence[dict[str, Any]], path: str | Path, representation: str = "image") -> Path:
    """The paper's Figure 5: columns = saddles / average persistence, rows = accuracy, top Hessian
    eigenvalue, Hessian trace; one point per model, coloured residual / no residual; Spearman rho in
    each panel; log axes where values span a decade or more."""
    from ..study.stats import spearman

    plt = _plt()
    fig, axes = plt.subplots(len(ML_ROWS), len(TOPO_COLUMNS), figsize=(8.4, 9.0), squeeze=False)
    res = np.array([_is_residual(r["residual"]) for r in rows], dtype=bool)
    for j, (tkey, tlabel) in enumerate(TOPO_COLUMNS):
        x = _floats([r[f"{representation}_{tkey}"] for r in rows])
        for i, (mkey, mlabel) in enumerate(ML_ROWS):
            ax = axes[i, j]
            y = _floats([r.get(mkey) for r in rows])
            ax.scatter(x[res], y[res], c=RES_COLOR, s=46, label="residual", edgecolors="k", linewidths=0.4)
            ax.scatter(x[~res], y[~res], c=NORES_COLOR, s=46, marker="s", label="no residual",
                       edgecolors="k", linewidths=0.4)
            _log_if_decades(ax, x, "x")
            _log_if_decades(ax, y, "y")
            rho, p, n = spearman(x, y)
            txt = f"Spearman ρ = {rho:+.2f} (p={p:.2f}, n={n})" if math.isfinite(rho) else f"ρ undefined (n={n})"
            ax.set_title(txt, fontsize=9)
            if i == len(ML_ROWS) - 1:
                ax.set_xlabel(tlabel)
            if j == 0:
                ax.set_ylabel(mlabel)
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="best")
    fig.suptitle(f"Topology vs ML metrics ({representation} representation)", fontsize=12)
    fig.tight_layout()
    return _save(fig, path)


def files_figure(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """`study files`: columns saddles / average persistence; rows = the ML metrics the files carry, or,
    when none, one row against the span (group means joined by lines) or against the group."""
    plt = _plt()
    groups = sorted({str(r["group"]) for r in rows})
    colors = {g: group_color(g, k) for k, g in enumerate(groups)}
    ml_rows = [(k, lbl) for k, lbl in (("test_accuracy", "test accuracy"), ("test_loss", "test loss"))
               if np.isfinite(_floats([r.get(k) for r in rows])).any()]
    spans = _floats([r.get("span") if isinstance(r.get("span"), (int, float)) else None for r in rows])
    have_span = bool(np.isfinite(spans).all())
    n_rows = max(1, len(ml_rows))
    fig, axes = plt.subplots(n_rows, 2, figsize=(9.0, 3.6 * n_rows), squeeze=False)
    for j, (tkey, tlabel) in enumerate(TOPO_COLUMNS):
        t = _floats([r[tkey] for r in rows])
        for i in range(n_rows):
            ax = axes[i, j]
            for g in groups:
                sel = np.array([str(r["group"]) == g for r in rows])
                if ml_rows:
                    mkey, mlabel = ml_rows[i]
                    y = _floats([r.get(mkey) for r in rows])
                    ax.scatter(t[sel], y[sel], color=colors[g], label=g, edgecolors="k", linewidths=0.4)
                    ax.set_xlabel(tlabel)
                    ax.set_ylabel(mlabel)
                elif have_span:
                    xs = spans[sel]
                    ax.scatter(xs, t[sel], color=colors[g], alpha=0.6, edgecolors="k", linewidths=0.3)
                    ux = np.unique(xs)
                    ax.plot(ux, [np.nanmean(t[sel][xs == u]) for u in ux], "-o", color=colors[g], label=f"{g} (mean)")
                    ax.set_xlabel("span")
                    ax.set_ylabel(tlabel)
                    _log_if_decades(ax, spans, "x")
                else:
                    k = groups.index(g)
                    ax.scatter(np.full(sel.sum(), k, dtype=float), t[sel], color=colors[g], edgecolors="k",
                               linewidths=0.4, label=g)
                    ax.set_xticks(range(len(groups)), groups, rotation=30, ha="right")
                    ax.set_ylabel(tlabel)
            if tkey == "average_persistence":
                _log_if_decades(ax, t, "x" if ml_rows else "y")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="best")
    fig.suptitle(f"Topology of {len(rows)} landscapes by group", fontsize=12)
    fig.tight_layout()
    return _save(fig, path)


def gallery(items: Sequence[tuple[Any, Any, Any]], path: str | Path, tiles_dir: str | Path) -> Path:
    """The study's landscapes with their merge trees: items = (ModelSpec, Landscape, TopologyResult).

    Each landscape and merge tree is drawn by plots.landscape and plots.topology (the `analyze` pictures)
    into tiles_dir
    (<name>_landscape.png, <name>_merge_tree.png, kept for a closer look); gallery.png puts them side by
    side: residual models on the top two rows (landscape, merge tree), plain models below, one column
    per seed.
    """
    from .landscape import plot_landscape
    from .topology import plot_merge_tree

    plt = _plt()
    tiles = Path(tiles_dir)
    tiles.mkdir(parents=True, exist_ok=True)
    seeds: list[int] = []
    for spec, _ls, _r in items:
        if spec.seed not in seeds:
            seeds.append(spec.seed)
    fig, axes = plt.subplots(4, len(seeds), figsize=(4.6 * len(seeds), 17.0), squeeze=False,
                             gridspec_kw=dict(height_ratios=[5.0, 4.6, 5.0, 4.6]))
    for ax in axes.ravel():
        ax.axis("off")
    for spec, ls, result in items:
        label = f"{'residual' if spec.residual else 'no residual'}, seed {spec.seed}"
        land, tree = tiles / f"{spec.name}_landscape.png", tiles / f"{spec.name}_merge_tree.png"
        plot_landscape(land, ls.coords, ls.loss, ls.resolution, result=result, title=label)
        plot_merge_tree(tree, result, title=f"merge tree, {label}")
        row0, col = (0 if spec.residual else 2), seeds.index(spec.seed)
        for k, tile in enumerate((land, tree)):
            axes[row0 + k, col].imshow(plt.imread(tile), interpolation="antialiased")
    fig.suptitle("Loss landscapes (filled contours, critical points as in each legend) and their merge trees",
                 fontsize=14)
    fig.tight_layout()
    return _save(fig, path, dpi=150)
