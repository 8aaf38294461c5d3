"""Stage-5 metrics against numbers derived from TTK's CSVs, and on a hand-computed example."""

from __future__ import annotations

import numpy as np
import pytest

from losstopo.metrics import topology_metrics
from losstopo.representation import ImageConnectivity
from losstopo.topology import compute_topology
from conftest import needs_reference
from references import LOSSLENS, LOSSLENS_CASES as CASES, load_losslens, read_csv as _read_csv


def ttk_numbers(name: str, values: np.ndarray) -> dict:
    nodes = [int(r["CriticalType"]) for r in _read_csv(LOSSLENS / f"{name}.mergetree.csv")]
    rows = _read_csv(LOSSLENS / f"{name}.persistence.csv")
    zero = [(a, b) for a, b in zip(rows[0::2], rows[1::2]) if int(a["CriticalType"]) == 0]
    printed = np.array([float(b["Points:1"]) - float(b["Points:0"]) for _a, b in zero])
    exact = np.array([values[int(b["ttkVertexScalarField"])] - values[int(a["ttkVertexScalarField"])]
                      for a, b in zero])
    return {"minima": nodes.count(0), "saddles": nodes.count(1) + nodes.count(4),
            "degenerate_saddles": nodes.count(4), "maxima": nodes.count(3), "n_pairs": len(zero),
            "printed": printed, "exact": exact}


@pytest.fixture(scope="module")
def all_metrics():
    out = {}
    for name in CASES:
        values, conn = load_losslens(name)
        out[name] = (values, topology_metrics(compute_topology(values, conn)))
    return out


@needs_reference
@pytest.mark.parametrize("name", CASES)
def test_metrics_equal_ttk_numbers(name, all_metrics):
    values, m = all_metrics[name]
    t = ttk_numbers(name, values)
    for key in ("minima", "saddles", "degenerate_saddles", "maxima", "n_pairs"):
        assert m[key] == t[key], key
    # TTK's CSV values are printed with 8 significant digits: each is off by <= 5e-8 relative
    assert m["average_persistence"] == pytest.approx(t["printed"].mean(), abs=1e-7 * np.abs(values).max())
    assert m["average_persistence"] == pytest.approx(t["exact"].mean(), rel=1e-9)
    if t["n_pairs"] > 1:
        assert m["average_persistence_finite"] == pytest.approx(t["exact"][1:].mean(), rel=1e-9)
    else:  # only the global pair: a landscape with one minimum
        assert m["average_persistence_finite"] is None and m["minima"] == 1
    assert m["max_persistence"] == pytest.approx(t["exact"].max(), rel=1e-9)
    assert m["total_persistence"] == pytest.approx(t["exact"].sum(), rel=1e-9)
    assert m["max_persistence"] == pytest.approx(values.max() - values.min(), rel=1e-12)


def test_hand_example():
    """1-D [3, 1, 2, 0, 5, 4, 6]: minima 1, 3, 5; saddles 2 (value 2) and 4 (value 5); max 6.

    Pairs: global (3 -> 6) persistence 6; (1 -> 2) 1; (5 -> 4) 1. Average over all pairs 8/3.
    """
    r = compute_topology(np.array([3.0, 1, 2, 0, 5, 4, 6]), ImageConnectivity((7,)))
    m = topology_metrics(r)
    assert m == {"minima": 3, "saddles": 2, "degenerate_saddles": 0, "maxima": 1, "n_pairs": 3,
                 "average_persistence": pytest.approx(8 / 3), "average_persistence_finite": 1.0,
                 "max_persistence": 6.0, "total_persistence": 8.0, "simplify_threshold": 0.0}
    s = topology_metrics(compute_topology(np.array([3.0, 1, 2, 0, 5, 4, 6]), ImageConnectivity((7,)),
                                          simplify=1.0))
    assert (s["minima"], s["saddles"], s["n_pairs"], s["average_persistence"]) == (1, 0, 1, 6.0)
    assert s["average_persistence_finite"] is None and s["simplify_threshold"] == 1.0
