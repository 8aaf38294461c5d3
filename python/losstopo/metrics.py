"""Stage 5: the topological metrics of a loss landscape, one definition each.

With the join tree's node CriticalType codes (TTK) and the 0-dim persistence pairs (b_i, d_i):

* minima             = #nodes of type 0 (MINIMUM)
* saddles            = #nodes of type 1 (SADDLE1) or 4 (DEGENERATE): vertices where sublevel components merge
* degenerate_saddles = #nodes of type 4 (more than two components merge, or the root merges)
* maxima             = #nodes of type 3 (MAXIMUM: the root of each component's tree)
* n_pairs            = #0-dim pairs, the global (min, max) pair included
* average_persistence        = (1/n_pairs) * sum_i (d_i - b_i) over ALL pairs, the global pair included
                               (as in the TTK persistence diagram the paper averaged)
* average_persistence_finite = the same mean over the finite pairs only (None if there are none)
* max_persistence    = max_i (d_i - b_i) over all pairs (the global pair's, the value range, when connected)
* total_persistence  = sum_i (d_i - b_i) over all pairs
"""

from __future__ import annotations

import numpy as np

from .names import CriticalType
from .topology.types import TopologyResult


def topology_metrics(result: TopologyResult) -> dict:
    """The stage-5 numbers of one topology result (plain Python types, JSON-ready)."""
    t = result.tree.node_type
    pers = result.pairs.persistence
    finite = result.pairs.finite
    count = lambda *codes: int(np.isin(t, [int(c) for c in codes]).sum())  # noqa: E731
    return {
        "minima": count(CriticalType.MINIMUM),
        "saddles": count(CriticalType.SADDLE1, CriticalType.DEGENERATE),
        "degenerate_saddles": count(CriticalType.DEGENERATE),
        "maxima": count(CriticalType.MAXIMUM),
        "n_pairs": int(pers.size),
        "average_persistence": float(pers.mean()) if pers.size else 0.0,
        "average_persistence_finite": float(pers[finite].mean()) if finite.any() else None,
        "max_persistence": float(pers.max()) if pers.size else 0.0,
        "total_persistence": float(pers.sum()),
        "simplify_threshold": float(result.simplify_threshold),
    }
