"""With a real TTK (marked `ttk`; .ci/run runs these once per TTK build it has, skipped without TTK):
the name table matches what the installed TTK offers, and `--backend ttk` equals `--backend builtin` on
every case of tests/data and on the published landscapes ($LOSSTOPO_REFERENCE): node types, arcs and pairs
by vertex id, persistence values, the stage-5 metrics. Both ways of running TTK are checked: its ParaView
plugin in pvpython, and its Python modules (topologytoolkit) without ParaView where they import.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from conftest import needs_reference
from references import LOSSLENS_CASES, data_manifest, load_case, load_losslens
from losstopo.metrics import topology_metrics
from losstopo.paraview import ttk as ttk_backend
from losstopo.paraview import ttk_find, ttk_names
from losstopo.topology import compute_topology

FOUND = ttk_find.find_ttk()
pytestmark = [pytest.mark.ttk, pytest.mark.skipif(
    not FOUND.usable, reason=f"no usable TTK here ({FOUND.problem}); .ci/run runs these with each TTK build")]
MANIFEST = data_manifest()
CASES = [(c["name"], c["threshold"]) for c in MANIFEST["cases"]]
HAVE_MODULES = importlib.util.find_spec("topologytoolkit") is not None


def _hangs(name: str, job: str) -> bool:
    """TTK hangs on some inputs (recorded in the manifest when the fixtures were made)."""
    case = next(c for c in MANIFEST["cases"] if c["name"] == name)
    return any("did not finish" in r.get(job, {}).get("status", "") for r in case["ttk"].values())


def assert_same_topology(ttk, ours) -> None:
    t, o = ttk.tree, ours.tree
    assert sorted(zip(t.node_vertex.tolist(), t.node_type.tolist())) == \
        sorted(zip(o.node_vertex.tolist(), o.node_type.tolist()))
    assert sorted((int(t.node_vertex[d]), int(t.node_vertex[u])) for u, d in t.arcs) == \
        sorted((int(o.node_vertex[d]), int(o.node_vertex[u])) for u, d in o.arcs)
    fin_t, fin_o = ttk.pairs.finite, ours.pairs.finite
    assert sorted(zip(ttk.pairs.birth_vertex[fin_t].tolist(), ttk.pairs.death_vertex[fin_t].tolist())) == \
        sorted(zip(ours.pairs.birth_vertex[fin_o].tolist(), ours.pairs.death_vertex[fin_o].tolist()))
    assert sorted(ttk.pairs.birth_vertex[~fin_t].tolist()) == sorted(ours.pairs.birth_vertex[~fin_o].tolist())
    assert sorted(ttk.pairs.persistence[fin_t].tolist()) == pytest.approx(
        sorted(ours.pairs.persistence[fin_o].tolist()), rel=1e-12, abs=0)
    assert np.array_equal(ttk.values, ours.values, equal_nan=True)
    mt, mo = topology_metrics(ttk), topology_metrics(ours)
    for key in ("minima", "saddles", "degenerate_saddles", "n_pairs"):
        assert mt[key] == mo[key], key
    assert mt["average_persistence"] == pytest.approx(mo["average_persistence"], rel=1e-12)


def test_the_name_table_entry_is_the_one_the_installed_ttk_speaks():
    names = FOUND.names
    offered = FOUND.offered
    key = names.merge_tree.vtk_class if FOUND.route == "python" else names.merge_tree.proxy
    assert key in offered
    other = [n for n in ttk_names.KNOWN if n is not names]
    assert all((n.merge_tree.vtk_class if FOUND.route == "python" else n.merge_tree.proxy) not in offered
               for n in other)
    assert names.missing(offered, vtk=FOUND.route == "python") == []


@pytest.mark.parametrize("name, threshold", CASES)
@pytest.mark.parametrize("job", ["topology", "simplification"])
def test_backend_ttk_equals_builtin_on_our_fixtures(name, threshold, job):
    if _hangs(name, job):
        pytest.skip(f"TTK hangs on {name} ({job}); recorded in tests/data/manifest.json")
    _data, values, conn = load_case(name)
    t = threshold if job == "simplification" else 0.0
    assert_same_topology(ttk_backend.compute_topology_ttk(values, conn, simplify=t, timeout=300),
                         compute_topology(values, conn, simplify=t))


@pytest.mark.skipif(not HAVE_MODULES, reason="TTK's Python modules (topologytoolkit) do not import here")
@pytest.mark.parametrize("name", ["ties2d_50x30", "rough3d_16x12x10", "knn_scatter_800"])
def test_ttk_python_modules_without_paraview_equal_builtin(monkeypatch, name):
    found = ttk_find._run_probe("python")
    inst = ttk_find._install("python", found)
    assert inst.usable and inst.names is FOUND.names  # the same TTK, by its classes instead of its proxies
    monkeypatch.setattr(ttk_backend, "require_ttk", lambda: inst)
    _data, values, conn = load_case(name)
    assert_same_topology(ttk_backend.compute_topology_ttk(values, conn, timeout=300),
                         compute_topology(values, conn))


@needs_reference
@pytest.mark.slow
@pytest.mark.parametrize("name", LOSSLENS_CASES)
def test_backend_ttk_equals_builtin_on_published_landscapes(name):
    values, conn = load_losslens(name)[:2]
    assert_same_topology(ttk_backend.compute_topology_ttk(values, conn, timeout=300),
                         compute_topology(values, conn))
