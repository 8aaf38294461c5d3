"""PNG pictures of a landscape: filled contours of log10(loss) with the minimum and the centre marked."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .fileio import atomic_path
from .landscape_files import Landscape


def plot_landscape(ls: Landscape, path: str | os.PathLike, title: str | None = None) -> Path:
    """Write a contour plot (2-D grid; middle slice of a 3-D grid; curve for 1-D; scattered points)."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():  # Debian's system matplotlib next to the venv's: its 3-D axes do not load
        warnings.filterwarnings("ignore", message="Unable to import Axes3D")
        import matplotlib.pyplot as plt

    path = Path(path)
    loss = ls.finite_loss()
    bad = ~np.isfinite(ls.loss)
    fig, ax = plt.subplots(figsize=(6, 5), dpi=110)
    i_min = int(np.argmin(loss))
    if ls.dims == 1:
        ax.plot(ls.coords[:, 0], np.where(bad, np.nan, ls.loss), "-", lw=1.5)
        ax.plot(ls.coords[i_min, 0], loss[i_min], "r*", ms=12, label=f"minimum {loss[i_min]:.4g}")
        ax.set_xlabel("a1")
        ax.set_ylabel("loss")
        ax.set_yscale("log" if np.all(loss > 0) else "linear")
    else:
        z = np.log10(np.maximum(loss, 1e-12))
        if ls.resolution is not None:
            nx, ny = ls.resolution[0], ls.resolution[1]
            sl = slice(None)
            if ls.dims == 3:  # the middle slice a3 = 0
                k = ls.resolution[2] // 2
                sl = slice(k * nx * ny, (k + 1) * nx * ny)
            zz = z[sl].reshape(ny, nx)  # VTK order: row j, column i
            xs, ys = ls.coords[sl][:nx, 0], ls.coords[sl][::nx, 1]
            cf = ax.contourf(xs, ys, zz, levels=30, cmap="viridis")
            ax.contour(xs, ys, zz, levels=15, colors="k", linewidths=0.4, alpha=0.6)
            if ls.dims == 3:
                i_min = sl.start + int(np.argmin(loss[sl]))
        else:
            cf = ax.tricontourf(ls.coords[:, 0], ls.coords[:, 1], z, levels=30, cmap="viridis")
            ax.plot(ls.coords[:, 0], ls.coords[:, 1], "k.", ms=1, alpha=0.3)
        fig.colorbar(cf, ax=ax, label="log10 loss")
        ax.plot(ls.coords[i_min, 0], ls.coords[i_min, 1], "r*", ms=14,
                label=f"minimum {loss[i_min]:.4g} at ({ls.coords[i_min, 0]:.3g}, {ls.coords[i_min, 1]:.3g})")
        ax.plot(0, 0, "w+", ms=12, mew=2, label="trained weights")
        ax.set_xlabel("a1")
        ax.set_ylabel("a2")
        ax.set_aspect("equal")
    if bad.any():
        ax.text(0.01, 0.01, f"{int(bad.sum())} non-finite points", transform=ax.transAxes, fontsize=8)
    m = ls.meta
    ax.set_title(title or f"{m.get('model', 'model')} on {m.get('data', '?')}: {m.get('directions', '')} "
                 f"directions", fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
