"""Edge cases of stage 4 (issue 6): flat, tiny and degenerate domains, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from losstopo.errors import LossTopoError
from losstopo.finite import finite_version
from losstopo.metrics import topology_metrics
from losstopo.names import CriticalType as CT
from losstopo.representation import GraphConnectivity, ImageConnectivity
from losstopo.topology import compute_topology


def test_constant_landscape():
    """Ties broken by vertex id: vertex 0 is the one minimum, the last vertex the maximum."""
    r = compute_topology(np.full(51 * 51, 2.5), ImageConnectivity((51, 51)))
    assert r.tree.node_vertex.tolist() == [0, 51 * 51 - 1]
    assert r.tree.node_type.tolist() == [CT.MINIMUM, CT.MAXIMUM]
    assert r.tree.arcs.tolist() == [[1, 0]]
    assert r.tree.arc_region_size.tolist() == [51 * 51 - 2]
    assert r.pairs.birth_vertex.tolist() == [0] and r.pairs.death_vertex.tolist() == [51 * 51 - 1]
    m = topology_metrics(r)
    assert (m["minima"], m["saddles"], m["maxima"], m["average_persistence"]) == (1, 0, 1, 0.0)
    assert m["average_persistence_finite"] is None


@pytest.mark.parametrize("conn", [ImageConnectivity((1,)), ImageConnectivity((1, 1)),
                                  ImageConnectivity((1, 1, 1)), GraphConnectivity(np.zeros((0, 2)), 1)])
def test_single_point(conn):
    r = compute_topology(np.array([3.0]), conn)
    assert r.tree.node_vertex.tolist() == [0] and r.tree.node_type.tolist() == [CT.MINIMUM]
    assert r.tree.n_arcs == 0 and r.tree.segmentation.tolist() == [-1]
    assert r.pairs.birth_vertex.tolist() == [0] and r.pairs.death_vertex.tolist() == [0]
    assert not r.pairs.finite[0] and r.pairs.persistence[0] == 0.0
    assert topology_metrics(r)["minima"] == 1


@pytest.mark.parametrize("dims", [(1, 9), (9, 1), (9,), (1, 9, 1), (1, 1, 9)])
def test_line_images_are_one_dimensional(dims):
    values = np.array([3.0, 1, 2, 0, 5, 4, 6, 2, 7])
    r = compute_topology(values, ImageConnectivity(dims))
    assert sorted(r.tree.node_vertex[r.tree.node_type == CT.MINIMUM].tolist()) == [1, 3, 5, 7]
    assert sorted(zip(r.pairs.birth_vertex.tolist(), r.pairs.death_vertex.tolist())) == \
        [(1, 2), (3, 8), (5, 4), (7, 6)]


def test_global_max_that_merges_is_degenerate_like_ttk():
    """[0, 1, 2, 1, 0]: the maximum joins both basins; TTK's trunk closes onto that node (type 4)."""
    r = compute_topology(np.array([0.0, 1, 2, 1, 0]), ImageConnectivity((5,)))
    assert dict(zip(r.tree.node_vertex.tolist(), r.tree.node_type.tolist())) == \
        {0: CT.MINIMUM, 4: CT.MINIMUM, 2: CT.DEGENERATE}
    assert r.pairs.birth_vertex.tolist() == [0, 4] and r.pairs.death_vertex.tolist() == [2, 2]
    m = topology_metrics(r)
    assert (m["saddles"], m["degenerate_saddles"], m["maxima"]) == (1, 1, 0)


def test_huge_plateau():
    """A 200x200 plateau of equal values with two dips.

    Ties go by vertex id, so the plateau's first vertex (id 0) is a minimum too (as in TTK); it
    dies with zero persistence when the plateau reaches a dip's basin.
    """
    v = np.zeros((200, 200))
    v[50, 50] = -1.0
    v[150, 140] = -2.0
    r = compute_topology(v.ravel(), ImageConnectivity((200, 200)))
    m = topology_metrics(r)
    assert (m["minima"], m["saddles"], m["maxima"]) == (3, 2, 1)
    assert set(r.tree.node_vertex[r.tree.node_type == CT.MINIMUM].tolist()) == \
        {0, 50 * 200 + 50, 150 * 200 + 140}
    assert r.pairs.birth_vertex.tolist() == [150 * 200 + 140, 50 * 200 + 50, 0]
    assert r.pairs.death_vertex[0] == 200 * 200 - 1
    assert r.pairs.persistence.tolist() == [2.0, 1.0, 0.0]
    assert m["average_persistence"] == pytest.approx(1.0)
    # simplifying at any positive threshold removes the zero pair and, above 1, the shallow dip
    s = compute_topology(v.ravel(), ImageConnectivity((200, 200)), simplify=1.5)
    assert s.pairs.birth_vertex.tolist() == [150 * 200 + 140]
    assert topology_metrics(s)["minima"] == 1


def test_two_vertex_graph():
    r = compute_topology(np.array([1.0, 0.0]), GraphConnectivity(np.array([[0, 1]]), 2))
    assert r.tree.node_vertex.tolist() == [1, 0] and r.tree.node_type.tolist() == [CT.MINIMUM, CT.MAXIMUM]
    assert r.pairs.birth_vertex.tolist() == [1] and r.pairs.death_vertex.tolist() == [0]
    assert r.pairs.persistence.tolist() == [1.0]


def test_graph_with_isolated_vertices():
    """One tree per component, like ttkFTMTree; each component's minimum pairs with its highest vertex."""
    edges = np.array([[0, 1], [1, 2], [3, 4]])
    values = np.array([0.0, 2.0, 1.0, 5.0, 4.0, 7.0, -1.0])  # 5 and 6 are isolated
    r = compute_topology(values, GraphConnectivity(edges, 7))
    assert r.n_components == 4
    pairs = list(zip(r.pairs.birth_vertex.tolist(), r.pairs.death_vertex.tolist(), r.pairs.finite.tolist()))
    assert pairs[0] == (6, 6, False)  # the global minimum's component first
    assert set(pairs[1:]) == {(0, 1, False), (4, 3, False), (5, 5, False), (2, 1, True)}
    m = topology_metrics(r)
    assert m["minima"] == 5 and m["n_pairs"] == 5
    assert m["average_persistence"] == pytest.approx((0 + 2 + 1 + 0 + 1) / 5)


def test_duplicate_edges_and_self_loops_are_harmless():
    edges = np.array([[0, 1], [1, 0], [1, 1], [1, 2], [1, 2]])
    r = compute_topology(np.array([0.0, 1.0, 0.5]), GraphConnectivity(edges, 3))
    assert r.tree.node_type.tolist() == [CT.MINIMUM, CT.MINIMUM, CT.DEGENERATE]


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_values_are_left_out(bad):
    """A non-finite vertex is no node and in no pair: the constant field keeps 1 minimum, its maximum is
    the highest finite vertex (15), not the non-finite one, and the display fill is never used."""
    v = np.zeros(16)
    v[5] = bad
    r = compute_topology(v, ImageConnectivity((4, 4)))
    assert r.n_nonfinite == 1 and 5 not in r.tree.node_vertex.tolist()
    assert r.pairs.birth_vertex.tolist() == [0] and r.pairs.death_vertex.tolist() == [15]
    assert r.tree.segmentation[5] == -1 and (np.delete(r.tree.segmentation, 5) >= 0).all()
    filled = compute_topology(finite_version(v)[0], ImageConnectivity((4, 4)))  # the old plateau policy
    assert filled.pairs.death_vertex.tolist() == [5]  # ... put the maximum on the non-finite vertex


@pytest.mark.parametrize("n_finite", [0, 1])
def test_all_or_all_but_one_non_finite_is_an_error(n_finite):
    v = np.full(16, np.nan)
    v[:n_finite] = 1.0
    with pytest.raises(LossTopoError, match="finite") as e:
        compute_topology(v, ImageConnectivity((4, 4)))
    assert "\n" not in str(e.value) and ";" in str(e.value)


def test_bad_inputs():
    with pytest.raises(LossTopoError, match="16 vertices"):
        compute_topology(np.zeros(15), ImageConnectivity((4, 4)))
    with pytest.raises(LossTopoError, match="dimensions"):
        ImageConnectivity((4, 4, 4, 4))
    with pytest.raises(LossTopoError, match="dimensions"):
        ImageConnectivity((0, 4))
    with pytest.raises(LossTopoError, match="outside"):
        GraphConnectivity(np.array([[0, 3]]), 3)
    with pytest.raises(LossTopoError, match="shape"):
        GraphConnectivity(np.array([0, 1, 2]), 3)
    with pytest.raises(LossTopoError, match="negative"):
        compute_topology(np.zeros(4), ImageConnectivity((4,)), simplify=-1)
    with pytest.raises(LossTopoError, match="non-numeric"):
        compute_topology(np.array(["a"] * 4), ImageConnectivity((4,)))
    for err in (LossTopoError,):
        try:
            compute_topology(np.zeros(3), ImageConnectivity((4,)))
        except err as e:
            assert "\n" not in str(e) and ";" in str(e)


def test_sort_order_is_value_then_vertex_id():
    """The radix argsort equals (value, vertex id) order, with -0.0 == 0.0, subnormals and extremes."""
    from losstopo.topology.builtin import sort_order

    rng = np.random.default_rng(1)
    v = np.concatenate([rng.normal(size=3000) * 10.0 ** rng.integers(-300, 300, size=3000),
                        rng.integers(-3, 3, size=2000).astype(float), [-0.0, 0.0, -0.0, 5e-324, -5e-324,
                                                                       1.7e308, -1.7e308]])
    rng.shuffle(v)
    order, rank = sort_order(v)
    expected = np.lexsort((np.arange(v.size), v + 0.0))
    assert np.array_equal(order, expected)
    assert np.array_equal(rank[order], np.arange(v.size))
