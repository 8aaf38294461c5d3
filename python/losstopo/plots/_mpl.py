"""The one matplotlib set-up: the Agg backend (no display), and PNGs written atomically."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import matplotlib

from ..fileio import atomic_path

matplotlib.use("Agg", force=True)
with warnings.catch_warnings():  # Debian's system mpl_toolkits next to the venv's matplotlib: 3-D axes unused
    warnings.filterwarnings("ignore", message="Unable to import Axes3D")
    import matplotlib.pyplot as plt  # noqa: E402

from .style import PAPER_RC  # noqa: E402

plt.rcParams.update(PAPER_RC)  # paper-sized fonts, no top/right spines: every figure alike


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend."""
    return plt


def save(fig: Any, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Write `fig` as a PNG atomically (tight bounding box) and close it."""
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path
