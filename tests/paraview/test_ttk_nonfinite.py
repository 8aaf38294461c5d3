"""The TTK backend on a field with inf/NaN points gets the finite part as a graph (issue 10).

pvpython is replaced by a stand-in that reads the file TTK would get,
checks it, computes its topology with the built-in backend and writes it in TTK's output layout. What is
tested is losstopo's side of the TTK route: the input TTK is handed (a graph of the finite vertices, the
image triangulation's edges between them, their coordinates) and the mapping of TTK's vertex ids back.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from losstopo import vtkio
from losstopo.metrics import topology_metrics
from losstopo.paraview import ttk as ttk_backend
from losstopo.paraview import ttk_find, ttk_names
from losstopo.representation import ImageConnectivity
from losstopo.topology import compute_topology


@pytest.fixture
def fake_ttk(monkeypatch):
    seen: list[dict] = []

    def run(cmd, **kwargs):
        job = json.loads(cmd[2])
        src, tmp, threshold, array = job["input"], job["out"], job["threshold"], job["array"]
        ds = vtkio.read(src)
        values = vtkio.scalar_field(ds, array)
        conn = vtkio.dataset_connectivity(ds)
        seen.append({"type": ds.GetClassName(), "values": values, "points": vtkio.points(ds),
                     "edges": np.sort(conn.edges, axis=1) if hasattr(conn, "edges") else None})
        r = compute_topology(values, conn, simplify=float(threshold))
        ext = Path(src).suffix
        nodes, arcs, seg = vtkio.merge_tree_vtk(r, ds)
        for name, data in (("nodes.vtu", nodes), ("arcs.vtu", arcs), (f"segmentation{ext}", seg),
                           ("diagram.vtu", vtkio.persistence_diagram_vtk(r, ds)),
                           (f"simplified{ext}", ds)):
            vtkio.write(Path(tmp) / name, data)
        return subprocess.CompletedProcess(cmd, 0, stdout="TTK-DONE\n", stderr="")

    known = ttk_find.TTKInstall(route="paraview", names=ttk_names.TTK_1_3)
    monkeypatch.setattr(ttk_backend, "require_ttk", lambda: known)
    monkeypatch.setattr(ttk_backend.subprocess, "run", run)
    monkeypatch.setattr("losstopo.paraview.env.find_executable", lambda name: name)
    return seen


def test_ttk_gets_the_finite_part_as_a_graph(fake_ttk):
    rng = np.random.default_rng(3)
    conn = ImageConnectivity((9, 7), origin=(-1.0, -2.0), spacing=(0.25, 0.5))
    v = rng.integers(0, 5, 63).astype(np.float64)
    v[[0, 1, 9, 30, 31, 40]] = [np.inf, np.nan, -np.inf, np.nan, np.inf, np.nan]
    got = ttk_backend.compute_topology_ttk(v, conn)
    (fed,) = fake_ttk
    finite = np.flatnonzero(np.isfinite(v))
    assert fed["type"] == "vtkUnstructuredGrid" and np.array_equal(fed["values"], v[finite])
    assert np.allclose(fed["points"], conn.coords(finite))
    # the edges TTK gets are the image triangulation's between finite vertices, renumbered monotonically
    tri = {(a + 9 * b, c + 9 * d) for b in range(7) for a in range(9)
           for c, d in ((a + 1, b), (a, b + 1), (a + 1, b - 1)) if 0 <= c < 9 and 0 <= d < 7}
    new = {int(o): i for i, o in enumerate(finite)}
    expect = {tuple(sorted((new[p], new[q]))) for p, q in tri if p in new and q in new}
    assert {tuple(e) for e in fed["edges"].tolist()} == expect
    ref = compute_topology(v, conn)
    assert topology_metrics(got) == topology_metrics(ref)
    assert dict(zip(got.tree.node_vertex.tolist(), got.tree.node_type.tolist())) == \
        dict(zip(ref.tree.node_vertex.tolist(), ref.tree.node_type.tolist()))
    assert np.array_equal(got.pairs.birth_vertex, ref.pairs.birth_vertex)
    assert np.array_equal(got.pairs.death_vertex, ref.pairs.death_vertex)
    assert np.array_equal(got.tree.segmentation < 0, ref.tree.segmentation < 0)
    assert got.n_nonfinite == 6 and np.isnan(got.values[1]) and np.isinf(got.values[0])


def test_ttk_gets_a_finite_field_unchanged(fake_ttk):
    v = np.arange(20, dtype=np.float64)[::-1].copy()
    ttk_backend.compute_topology_ttk(v, ImageConnectivity((4, 5)))
    assert fake_ttk[0]["type"] == "vtkImageData" and np.array_equal(fake_ttk[0]["values"], v)


def test_simplification_threshold_is_relative_to_the_finite_range(fake_ttk):
    v = np.array([0.0, 3, 1, 4, np.inf, 2, 10])
    from losstopo.representation import GraphConnectivity

    conn = GraphConnectivity(np.array([[i, i + 1] for i in range(6)]), 7)
    got = ttk_backend.compute_topology_ttk(v, conn, simplify=0.1, simplify_relative=True)
    assert got.simplify_threshold == pytest.approx(1.0)  # 0.1 x (10 - 0), not inf
    fed = fake_ttk[0]
    assert np.array_equal(fed["values"], [0.0, 3, 1, 4, 2, 10])  # the inf vertex cut the path in two
    assert {tuple(e) for e in fed["edges"].tolist()} == {(0, 1), (1, 2), (2, 3), (4, 5)}
    assert got.n_components == 2 and 4 not in got.tree.node_vertex.tolist()
