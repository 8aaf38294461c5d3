"""The built-in backend against TTK's outputs on third-party landscapes ($LOSSTOPO_REFERENCE): losslens
CSVs and TTK 1.2 JSONs (skipped without them; tests/topology/test_topology_data.py covers our own fixtures).

Compares vertex ids exactly (join-tree nodes with their CriticalType, 0-dim pairs), TTK's
RegionSize/RegionSpan node columns, and the average persistence computed from TTK's pairs with
exact values looked up in the .vti by vertex id.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from conftest import REFERENCE, needs_reference
from references import LOSSLENS, LOSSLENS_CASES, load_losslens, read_csv
from losstopo import vtkio
from losstopo.representation import GraphConnectivity, ImageConnectivity
from losstopo.topology import compute_topology
from losstopo.topology import builtin

TTK = REFERENCE / "ttk"
CASES = LOSSLENS_CASES
TYPE_NAMES = {0: "min", 1: "saddle1", 3: "max", 4: "degenerate"}
TTK_CASES = ["ties2d_50x30", "rough3d_16x12x10", "ties3d_12", "knn8_scatter_800"]

pytestmark = needs_reference


def ttk_zero_pairs(name: str) -> list[tuple[int, int]]:
    """TTK's 0-dim pairs (birth vertex, death vertex) in file order: rows come two per pair."""
    rows = read_csv(LOSSLENS / f"{name}.persistence.csv")
    return [(int(a["ttkVertexScalarField"]), int(b["ttkVertexScalarField"]))
            for a, b in zip(rows[0::2], rows[1::2]) if int(a["CriticalType"]) == 0]


@pytest.fixture(scope="module")
def losslens_results():
    out = {}
    for name in CASES:
        values, conn = load_losslens(name)
        out[name] = (values, compute_topology(values, conn))
    return out


def test_all_71_cases_present():
    assert len(CASES) == 71


@pytest.mark.parametrize("name", CASES)
def test_losslens_matches_ttk(name, losslens_results):
    values, r = losslens_results[name]
    rows = read_csv(LOSSLENS / f"{name}.mergetree.csv")
    ttk_nodes = sorted((int(x["VertexId"]), int(x["CriticalType"])) for x in rows)
    ours = sorted(zip(r.tree.node_vertex.tolist(), r.tree.node_type.tolist()))
    assert ours == ttk_nodes
    assert Counter(r.tree.node_type.tolist()) == Counter(int(x["CriticalType"]) for x in rows)
    # TTK's RegionSize / RegionSpan node columns (RegionSpan is an int array in TTK)
    ttk_region = {int(x["VertexId"]): (int(x["RegionSize"]), int(x["RegionSpan"])) for x in rows}
    our_region = {int(v): (int(s), int(sp)) for v, s, sp in
                  zip(r.tree.node_vertex, r.tree.node_region_size, r.tree.node_region_span)}
    assert our_region == ttk_region
    # 0-dim pairs: same vertex pairs, the global (min, max) pair first and infinite
    tp = ttk_zero_pairs(name)
    op = list(zip(r.pairs.birth_vertex.tolist(), r.pairs.death_vertex.tolist()))
    assert sorted(op) == sorted(tp)
    sos = np.lexsort((np.arange(values.size), values))  # (value, vertex id): ties at the max exist
    assert op[0] == tp[0] == (int(sos[0]), int(sos[-1]))
    assert not r.pairs.finite[0] and r.pairs.finite[1:].all()
    # average persistence of TTK's pairs with exact values from the .vti
    ttk_avg = np.mean([values[d] - values[b] for b, d in tp])
    assert r.pairs.persistence.mean() == pytest.approx(ttk_avg, rel=1e-9)
    # scalar column printed with 8 significant digits
    scal = {int(x["VertexId"]): float(x["Scalar"]) for x in rows}
    for v, s in zip(r.tree.node_vertex, r.tree.node_scalar):
        assert s == pytest.approx(scal[int(v)], rel=1e-6, abs=1e-30)


def load_ttk_case(name: str):
    ext = ".vtu" if name.startswith("knn") else ".vti"
    data = vtkio.read(TTK / f"{name}{ext}")
    values = vtkio.scalar_field(data, "Loss")
    if ext == ".vti":
        dims, origin, spacing = vtkio.image_geometry(data)
        conn = ImageConnectivity(dims, origin, spacing)
    else:
        conn = GraphConnectivity(vtkio.line_edges(data), data.GetNumberOfPoints(), vtkio.points(data))
    return values, conn, json.loads((TTK / f"{name}.ttk.json").read_text())


@pytest.mark.parametrize("name", TTK_CASES)
def test_ttk_cases(name):
    values, conn, ref = load_ttk_case(name)
    r = compute_topology(values, conn)
    jt = ref["trees"]["join"]
    assert dict(Counter(TYPE_NAMES[int(t)] for t in r.tree.node_type)) == jt["node_counts"]
    assert r.tree.n_nodes == jt["n_nodes"] and r.tree.n_arcs == jt["n_arcs"]
    ours = sorted(zip(r.tree.node_vertex.tolist(), [TYPE_NAMES[int(t)] for t in r.tree.node_type]))
    assert ours == sorted((int(v), t) for v, t, _s in jt["nodes"])
    ref_pairs = [p for p in ref["persistence"]["pairs"] if p["dim"] == 0]
    assert sorted(zip(r.pairs.birth_vertex.tolist(), r.pairs.death_vertex.tolist())) == \
        sorted((p["birth_vertex"], p["death_vertex"]) for p in ref_pairs)
    glob = [p for p in ref_pairs if not p["finite"]]
    assert len(glob) == 1 and (glob[0]["birth_vertex"], glob[0]["death_vertex"]) == \
        (int(r.pairs.birth_vertex[0]), int(r.pairs.death_vertex[0]))
    assert r.n_components == 1  # knn8_scatter_800 too: TTK reports one infinite 0-dim pair
    ours_avg = r.pairs.persistence.mean()
    assert ours_avg == pytest.approx(np.mean([p["death"] - p["birth"] for p in ref_pairs]), rel=1e-9)


@pytest.mark.parametrize("name", ["rough3d_16x12x10", "ties3d_12"])
def test_3d_stencil_is_ttks(name, monkeypatch):
    """The 3-D offsets reproduce TTK; the mirrored tetrahedralisation (other diagonals) does not."""
    values, conn, ref = load_ttk_case(name)
    expected = sorted((int(v), t) for v, t, _s in ref["trees"]["join"]["nodes"])

    def nodes():
        r = compute_topology(values, conn)
        types = [TYPE_NAMES.get(int(t), "?") for t in r.tree.node_type]
        return sorted(zip(r.tree.node_vertex.tolist(), types))

    assert nodes() == expected
    mirrored = {**builtin.IMAGE_OFFSETS,
                3: [(s * a, s * b, s * c) for (a, b, c) in
                    [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, -1), (1, 1, -1)]
                    for s in (1, -1)]}
    monkeypatch.setattr(builtin, "IMAGE_OFFSETS", mirrored)
    assert nodes() != expected
