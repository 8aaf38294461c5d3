"""The one policy for non-finite losses (inf/NaN from large spans or diverging models).

Landscape files keep the raw values plus a mask. Topology runs on a finite version in which every
non-finite value is replaced by one value strictly above the finite maximum: such points form a
plateau above everything else, so they can merge components but never create a spurious minimum
(ties inside the plateau are broken by vertex id, like every tie). Never random noise.
If no value is finite, the finite version is all zeros (one minimum, no saddles).
"""

from __future__ import annotations

import numpy as np


def fill_value(raw: np.ndarray) -> float:
    """The value that stands in for non-finite entries: above the finite maximum by the finite range + 1."""
    finite = raw[np.isfinite(raw)]
    if finite.size == 0:
        return 0.0
    lo, hi = float(finite.min()), float(finite.max())
    return hi + (hi - lo) + 1.0


def finite_version(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(values, valid_mask, n_replaced): float64 copy of `raw` with non-finite entries filled."""
    raw = np.asarray(raw, dtype=np.float64)
    mask = np.isfinite(raw)
    values = raw.copy()
    n_bad = int(mask.size - np.count_nonzero(mask))
    if n_bad:
        values[~mask] = fill_value(raw)
    return values, mask, n_bad
