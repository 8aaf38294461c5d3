"""The one policy for non-finite losses (inf/NaN from large spans or diverging models).

Topology is that of the finite part: the subgraph induced on the vertices whose value is finite
(`finite_vertices`; stage 4's topology/finite_part.py builds it). Non-finite vertices are left out of
the sweep, so they carry no node and no pair, and every minimum, saddle, pair and persistence of the
finite vertices is that of the finite part (docs/topology.md has the proof). Landscape files keep the
raw values plus a mask (ValidMask).

For display only, `finite_version` fills non-finite entries with one value above the finite maximum
(the `Loss` array of VTK outputs, so colour maps and warps in ParaView stay finite; `RawLoss` and
`ValidMask` sit next to it). No topology is ever computed on the filled values: the topology code reads
ValidMask / RawLoss back. Never random noise.
"""

from __future__ import annotations

import numpy as np


def finite_vertices(values: np.ndarray) -> np.ndarray:
    """Ids (ascending, int64) of the vertices whose value is finite: the only vertices topology sweeps."""
    return np.flatnonzero(np.isfinite(np.asarray(values, dtype=np.float64).ravel())).astype(np.int64)


def fill_value(raw: np.ndarray) -> float:
    """The display value that stands in for non-finite entries: above the finite maximum by the finite range + 1."""
    finite = raw[np.isfinite(raw)]
    if finite.size == 0:
        return 0.0
    lo, hi = float(finite.min()), float(finite.max())
    return hi + (hi - lo) + 1.0


def finite_version(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(values, valid_mask, n_replaced): float64 copy of `raw` with non-finite entries filled (display only)."""
    raw = np.asarray(raw, dtype=np.float64)
    mask = np.isfinite(raw)
    values = raw.copy()
    n_bad = int(mask.size - np.count_nonzero(mask))
    if n_bad:
        values[~mask] = fill_value(raw)
    return values, mask, n_bad


def with_mask(values: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """float64 copy of `values` with NaN where `valid` is 0 (a finite display array back to raw meaning)."""
    v = np.array(values, dtype=np.float64).ravel()
    if valid is not None:
        v[np.asarray(valid).ravel() == 0] = np.nan
    return v
