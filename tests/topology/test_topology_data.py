"""The built-in backend against real TTK's outputs for our own fixtures (tests/data, both TTK builds).

tests/data/make_data.py ran TTK 1.2.0 and a later snapshot on every case (2-D and 3-D images with ties,
float32, 301x301, 1-D, kNN graphs of scattered and grid points, a disconnected graph, losstopo landscapes)
and stored TTK's raw outputs. Here the built-in result must give the same critical points with the same
types, the same arcs, the same 0-dim pairs and persistence, the same stage-5 metrics, and, after
simplification at the recorded threshold, the same simplified field and topology as TTK's chain. No TTK
is needed to run these tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from losstopo.metrics import topology_metrics
from losstopo.topology import compute_topology
from references import data_manifest, load_case, ttk_outputs, ttk_zero_dim_pairs

MANIFEST = data_manifest()
RUNS = [(c["name"], b, job) for c in MANIFEST["cases"] for b in MANIFEST["builds"]
        for job in ("topology", "simplification") if job in c["ttk"].get(b, {})]


def _case(name: str) -> dict:
    return next(c for c in MANIFEST["cases"] if c["name"] == name)


def _outputs(name: str, build: str, job: str) -> dict:
    out = ttk_outputs(name, build, job)
    if out is None:
        pytest.skip(f"TTK {build} failed on {name} ({job}) when the fixtures were made: "
                    f"{_case(name)['ttk'][build][job]['status']}")
    return out


def _finite_flags(out: dict) -> list[bool]:
    vid = out["diagram/point/ttkVertexScalarField"]
    conn = out["diagram/cells/connectivity"].reshape(-1, 2)
    return [bool(out["diagram/cell/IsFinite"][c]) for c in np.flatnonzero(out["diagram/cell/PairType"] == 0)
            if vid[conn[c, 0]] != vid[conn[c, 1]]]


@pytest.fixture(scope="module")
def builtin():
    """Built-in results per (case, job): the input field and its topology (simplified for the chain)."""
    cache = {}

    def get(name: str, job: str):
        if (name, job) not in cache:
            _data, values, conn = load_case(name)
            t = _case(name)["threshold"] if job == "simplification" else 0.0
            cache[name, job] = (values, conn, compute_topology(values, conn, simplify=t))
        return cache[name, job]

    return get


def test_the_fixtures_cover_the_kinds_that_matter():
    kinds = {c["kind"] for c in MANIFEST["cases"]}
    assert {"image1d", "image2d", "image3d", "graph"} <= kinds
    assert any(c["dtype"] == "float32" for c in MANIFEST["cases"])
    assert len(MANIFEST["builds"]) >= 1 and len(RUNS) >= 20
    ok = [r for r in RUNS if _case(r[0])["ttk"][r[1]][r[2]]["status"] == "ok"]
    assert len(ok) >= 0.8 * len(RUNS)  # TTK failed on a few known cases only (see the manifest)


@pytest.mark.parametrize("name, build, job", RUNS)
def test_critical_points_and_arcs_equal_ttk(builtin, name, build, job):
    ttk = _outputs(name, build, job)
    _values, _conn, r = builtin(name, job)
    ttk_nodes = sorted(zip(ttk["tree0/point/VertexId"].tolist(), ttk["tree0/point/CriticalType"].tolist()))
    ours = sorted(zip(r.tree.node_vertex.tolist(), r.tree.node_type.tolist()))
    assert ours == ttk_nodes
    # arcs as (down vertex, up vertex), found through the arcs' own end points (TTK's up/down node ids are
    # local to each component of a graph); TTK closes a root that merges components with a self-loop arc
    where = {tuple(p): int(v) for p, v in zip(ttk["tree0/points"].tolist(), ttk["tree0/point/VertexId"].tolist())}
    ends = ttk["tree1/cells/connectivity"].reshape(-1, 2)
    pts = ttk["tree1/points"].tolist()
    ttk_arcs = sorted((where[tuple(pts[d])], where[tuple(pts[u])]) for d, u in ends
                      if where[tuple(pts[d])] != where[tuple(pts[u])])
    our_arcs = sorted((int(r.tree.node_vertex[d]), int(r.tree.node_vertex[u])) for u, d in r.tree.arcs)
    assert our_arcs == ttk_arcs


@pytest.mark.parametrize("name, build, job", RUNS)
def test_pairs_and_persistence_equal_ttk(builtin, name, build, job):
    ttk = _outputs(name, build, job)
    values, _conn, r = builtin(name, job)
    if job == "simplification":
        values = r.values
    pairs = ttk_zero_dim_pairs(ttk)
    finite = _finite_flags(ttk)
    ttk_finite = sorted(p for p, f in zip(pairs, finite) if f)
    ours_finite = sorted(zip(r.pairs.birth_vertex[r.pairs.finite].tolist(),
                             r.pairs.death_vertex[r.pairs.finite].tolist()))
    assert ours_finite == ttk_finite
    # essential pairs: the same births (TTK lets every essential pair die at the global maximum)
    assert sorted(r.pairs.birth_vertex[~r.pairs.finite].tolist()) == sorted(p[0] for p, f in zip(pairs, finite)
                                                                          if not f)
    pers = sorted(values[d] - values[b] for (b, d) in ttk_finite)
    assert sorted(r.pairs.persistence[r.pairs.finite].tolist()) == pytest.approx(pers, rel=1e-12, abs=0)


@pytest.mark.parametrize("name, build, job", [run for run in RUNS if run[2] == "topology"])
def test_metrics_equal_the_numbers_of_ttks_outputs(builtin, name, build, job):
    ttk = _outputs(name, build, job)
    values, _conn, r = builtin(name, job)
    m = topology_metrics(r)
    types = ttk["tree0/point/CriticalType"].tolist()
    assert (m["minima"], m["saddles"], m["degenerate_saddles"]) == (
        types.count(0), types.count(1) + types.count(4), types.count(4))
    pairs, finite = ttk_zero_dim_pairs(ttk), _finite_flags(ttk)
    fin = [values[d] - values[b] for (b, d), f in zip(pairs, finite) if f]
    if r.n_components == 1:  # one essential pair, the global one: it dies at the global maximum in both
        glob = values.max() - values.min()
        assert m["average_persistence"] == pytest.approx(np.mean(fin + [glob]), rel=1e-12)
    assert m["n_pairs"] == len(pairs)
    if fin:
        assert m["average_persistence_finite"] == pytest.approx(np.mean(fin), rel=1e-12)


@pytest.mark.parametrize("name, build", [(n, b) for n, b, job in RUNS if job == "simplification"])
def test_simplified_field_equals_ttks(builtin, name, build):
    ttk = _outputs(name, build, "simplification")
    _values, _conn, r = builtin(name, "simplification")
    simplified = ttk["simplified/point/Loss"].astype(np.float64)
    assert np.array_equal(r.values.astype(simplified.dtype), simplified)
    assert "simplified/point/Loss_Order" in ttk  # TTK passes its vertex order along (the plugin must too)
