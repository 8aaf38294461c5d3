"""What every figure shares: the critical-point colour table, the non-finite marker, the loss-axis
scale rule and readable loss ticks.

The scale rule (one for every loss axis and colour bar, so that the landscape, its merge tree and its
persistence diagram read alike):

* ``log`` when every finite value is > 0 and max / min >= 100 (two decades or more: a linear axis then
  squeezes the low values that matter, the basin, into its bottom few pixels);
* ``symlog`` when some values are <= 0 and the non-zero magnitudes span two decades or more (linear
  within +-linthresh, the smallest non-zero magnitude rounded down to a power of ten, but not below
  1e-6 of the largest one): a log axis cannot show zero or negative losses, and shifting them would
  print wrong numbers on the axis;
* ``linear`` otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..names import CriticalType

DECADES = 2.0  # the scale rule's threshold, in decades

# One colour table for every figure: CriticalType -> marker style and legend label.
CRITICAL: dict[CriticalType, dict[str, Any]] = {
    CriticalType.MINIMUM: dict(marker="v", color="#1f77b4", label="minima"),
    CriticalType.SADDLE1: dict(marker="X", color="#d62728", label="saddles"),
    CriticalType.SADDLE2: dict(marker="P", color="#9467bd", label="2-saddles"),
    CriticalType.DEGENERATE: dict(marker="D", color="#2ca02c", label="degenerate saddles"),
    CriticalType.MAXIMUM: dict(marker="^", color="#ff7f0e", label="root (maximum)"),
    CriticalType.REGULAR: dict(marker="o", color="0.5", label="regular"),
}
NONFINITE = dict(marker="s", color="0.55", label="non-finite (inf/NaN)")
NONFINITE_FILL = dict(facecolor="0.88", hatch="////", edgecolor="0.6")  # grid cells without a value
TRAINED = dict(marker="P", s=110, facecolor="white", edgecolor="black", linewidths=0.8, zorder=5,
               label="trained weights (origin)")
ESSENTIAL_COLOR = "#d62728"
FINITE_COLOR = "#1f77b4"

PAPER_RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8,
            "ytick.labelsize": 8, "legend.fontsize": 8, "figure.dpi": 100, "savefig.dpi": 150,
            "axes.spines.top": False, "axes.spines.right": False}


def marker(code: int | CriticalType, size: float = 44.0, **extra: Any) -> dict[str, Any]:
    """scatter() keyword arguments of a critical type: its marker and colour, a white rim."""
    s = CRITICAL[CriticalType(int(code))]
    return dict(marker=s["marker"], color=s["color"], s=size, edgecolors="white",
                linewidths=0.7 if size >= 30 else 0.0, zorder=6, **extra)


def legend_types(codes: np.ndarray) -> list[CriticalType]:
    """The critical types present in `codes`, in the table's order (the legend's order)."""
    present = {int(c) for c in np.asarray(codes).ravel()}
    return [t for t in CRITICAL if int(t) in present]


@dataclass(frozen=True)
class Scale:
    """A loss axis: 'linear', 'log' or 'symlog' (with its linear threshold)."""

    kind: str
    linthresh: float = 1.0

    def apply(self, ax: Any, axis: str = "y") -> None:
        """Set this scale on ax's x or y axis."""
        setter = ax.set_xscale if axis == "x" else ax.set_yscale
        if self.kind == "symlog":
            setter("symlog", linthresh=self.linthresh)
        else:
            setter(self.kind)

    def forward(self, v: np.ndarray | float) -> np.ndarray:
        """Values in the axis's own units (where distances are what the eye sees)."""
        v = np.asarray(v, dtype=np.float64)
        if self.kind == "log":
            return np.log10(v)
        if self.kind == "symlog":
            t = self.linthresh
            return np.where(np.abs(v) <= t, v / t, np.sign(v) * (1.0 + np.log10(np.maximum(np.abs(v), t) / t)))
        return v

    def inverse(self, u: np.ndarray | float) -> np.ndarray:
        """The inverse of forward."""
        u = np.asarray(u, dtype=np.float64)
        if self.kind == "log":
            return 10.0 ** u
        if self.kind == "symlog":
            t = self.linthresh
            return np.where(np.abs(u) <= 1.0, u * t, np.sign(u) * t * 10.0 ** (np.abs(u) - 1.0))
        return u

    def padded(self, lo: float, hi: float, frac: float = 0.05) -> tuple[float, float]:
        """[lo, hi] widened by `frac` of its length in axis units (a point at the edge stays visible)."""
        a, b = float(self.forward(lo)), float(self.forward(hi))
        pad = (b - a) * frac if b > a else (abs(a) * 0.1 or 0.5)
        return float(self.inverse(a - pad)), float(self.inverse(b + pad))


def loss_scale(values: np.ndarray) -> Scale:
    """The module docstring's rule for the finite values of `values`."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size < 2:
        return Scale("linear")
    if v.min() > 0:
        return Scale("log") if math.log10(v.max() / v.min()) >= DECADES else Scale("linear")
    mag = np.abs(v[v != 0])
    if mag.size == 0:
        return Scale("linear")
    big = float(mag.max())
    thresh = max(10.0 ** math.floor(math.log10(float(mag.min()))), 10.0 ** math.floor(math.log10(big * 1e-6)))
    return Scale("symlog", thresh) if math.log10(big / thresh) >= DECADES else Scale("linear")


def fmt_loss(v: float) -> str:
    """A loss value as a reader writes it: 0.1, 2.5, 340, 1e+06 -> '10^6'."""
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    a = abs(v)
    if 1e-3 <= a < 1e4:
        return f"{v:.0f}" if a >= 1000 and v == round(v, -2) else f"{v:.3g}" if a < 1000 else f"{v:.4g}"
    k = math.log10(a)
    if abs(k - round(k)) < 1e-9:
        return f"{'-' if v < 0 else ''}$10^{{{int(round(k))}}}$"
    return f"{v:.2g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick values in [lo, hi] (lo > 0) at powers of ten, with 2 and 5 between them (3 when 1-2 decades
    are shown; none when more than 6); at least the two ends' decades."""
    if not (lo > 0 and hi >= lo):
        return []
    k0, k1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    span = math.log10(hi / lo)
    subs = (1.0, 2.0, 5.0) if span <= 3 else (1.0, 3.0) if span <= 5 else (1.0,)
    step = 1 if span <= 8 else int(math.ceil(span / 8))
    ticks = [m * 10.0 ** k for k in range(k0, k1 + 1, step) for m in subs]
    return [t for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]


def colour_ticks(lo: float, hi: float, scale: Scale) -> list[float]:
    """Colour-bar ticks at readable loss values for a colour range [lo, hi] in `scale` (on a log scale
    the lowest value itself too when the first tick is more than 3x above it: where the basin is)."""
    if scale.kind == "log":
        ticks = log_ticks(lo, hi)
        return [lo] + ticks if ticks and ticks[0] > 3.0 * lo else ticks
    if scale.kind == "symlog":
        pos = [t for t in log_ticks(scale.linthresh, hi)] if hi > scale.linthresh else []
        neg = [-t for t in log_ticks(scale.linthresh, -lo)] if lo < -scale.linthresh else []
        return sorted(neg + ([0.0] if lo <= 0 <= hi else []) + pos)
    from matplotlib.ticker import MaxNLocator

    return [float(t) for t in MaxNLocator(6).tick_values(lo, hi) if lo <= t <= hi]


def far_apart(lo: float, top: float, far: float, scale: Scale) -> bool:
    """True when drawing `far` at its value would leave [lo, top] less than a third of the axis (in the
    axis's units): then it goes on a separate band above a broken axis, its value written next to it."""
    if not (np.isfinite(far) and top > lo and far > top):
        return False
    f = [float(x) for x in scale.forward(np.array([lo, top, far]))]
    return f[2] - f[1] > 2.0 * (f[1] - f[0])


def broken_axes(fig: Any, ratio: float = 0.16) -> tuple[Any, Any]:
    """(band, main): a short band axes above the main axes, sharing x, with the break drawn between."""
    gs = fig.add_gridspec(2, 1, height_ratios=[ratio, 1.0], hspace=0.06)
    main = fig.add_subplot(gs[1])
    band = fig.add_subplot(gs[0], sharex=main)
    band.spines["bottom"].set_visible(False)
    band.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    kw = dict(marker=[(-1, -0.5), (1, 0.5)], markersize=9, linestyle="none", color="k", mec="k", mew=1,
              clip_on=False)
    band.plot([0], [0], transform=band.transAxes, **kw)
    main.plot([0], [1], transform=main.transAxes, **kw)
    return band, main


def loss_ticks(axis: Any, lo: float, hi: float, scale: Scale) -> None:
    """Put an axis's ticks at readable loss values (colour_ticks) on a log or symlog axis."""
    if scale.kind == "linear":
        return
    ticks = colour_ticks(lo, hi, scale)
    if len(ticks) >= 2:
        from matplotlib.ticker import NullLocator

        axis.set_ticks(ticks, labels=[fmt_loss(t) for t in ticks])
        axis.set_minor_locator(NullLocator())


def outside_legend(fig: Any, ax: Any, extra: Any = None, ncol: int = 2, items: Any = ()) -> Any:
    """One legend under the figure (constrained layout makes room): the handles of ax (and of the extra
    axes), then `items` (handle, label)."""
    from matplotlib.legend_handler import HandlerTuple

    handles, labels = ax.get_legend_handles_labels()
    if extra is not None:
        h2, l2 = extra.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    handles += [h for h, _ in items]
    labels += [lab for _, lab in items]
    if not handles:
        return None
    leg = fig.legend(handles, labels, loc="outside lower center", ncol=min(ncol, len(labels)), frameon=False,
                     handletextpad=0.4, columnspacing=1.4, handler_map={tuple: HandlerTuple(ndivide=None)})
    for h in leg.legend_handles:  # markers shrunk for hundreds of points stay readable in the legend
        if hasattr(h, "set_sizes") and len(h.get_sizes()) and h.get_sizes()[0] < 30:
            h.set_sizes([30.0])
    return leg


def marker_size(n: int) -> float:
    """Critical-point marker area for n points in one picture: big when few, small when hundreds."""
    return 46.0 if n <= 60 else 18.0 if n <= 400 else 6.0
