"""With a real TTK (marked `ttk`): both `_ttk` states render with TTK's filters, one marker per pair and
per merge-tree node, checked from the PNG as test_render.py checks the built-in states.

The merge-tree view of both backends draws y = log10(loss) with the root clipped above the highest saddle
(pipelines.tree_height_expression): the nodes' heights are checked against that, computed here from the
pairs `losstopo analyze` finds (every node is a birth or a death: minima, saddles, the global maximum).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import needs_pvpython
from losstopo.paraview import ttk_find
from test_render import _check_markers, _image, _probe, landscape, pairs  # noqa: F401 - fixtures

FOUND = ttk_find.find_ttk()
pytestmark = [needs_pvpython, pytest.mark.ttk, pytest.mark.paraview, pytest.mark.slow, pytest.mark.skipif(
    not FOUND.usable, reason=f"no usable TTK here ({FOUND.problem}); .ci/run runs these with each TTK build")]


@pytest.fixture(scope="module")
def ttk_diagram(tmp_path_factory, landscape):  # noqa: F811
    return _probe(tmp_path_factory, "persistence_diagram_ttk", landscape)


@pytest.fixture(scope="module")
def ttk_tree(tmp_path_factory, landscape):  # noqa: F811
    return _probe(tmp_path_factory, "merge_tree_ttk", landscape)


def test_ttk_diagram_view_has_one_marker_per_pair(ttk_diagram, pairs):  # noqa: F811
    world = np.array(ttk_diagram["world"])
    expected = np.array(sorted((p["birth"], p["death"]) for p in pairs))
    got = np.array(sorted((x, y) for x, y, _ in world))
    assert got.shape == expected.shape and np.allclose(got, expected, rtol=1e-6)
    _check_markers(_image(ttk_diagram["PersistenceDiagramView"]), ttk_diagram["pixels"])


def _expected_heights(pairs) -> np.ndarray:  # noqa: F811
    values = np.unique([p[k] for p in pairs for k in ("birth", "death")])
    v = np.log10(values)
    top = v[:-1].max() if v.size > 2 else v.max()  # the highest node below the root
    return np.unique(np.minimum(v, top + 0.15 * (top - v.min()) if top > v.min() else v.max()))


def test_ttk_tree_view_has_one_marker_per_node(ttk_tree, pairs):  # noqa: F811
    world = np.array(ttk_tree["world"])
    heights = np.unique(np.round(world[:, 1], 9))
    expected = _expected_heights(pairs)
    assert len(expected) >= 3 and heights.shape == expected.shape, (heights, expected)
    assert np.allclose(heights, expected, rtol=1e-5)
    # TTK's layout draws a saddle at both ends of its horizontal connector: markers there are one per
    # point drawn, and every point drawn is a node
    _check_markers(_image(ttk_tree["MergeTreeView"]), ttk_tree["pixels"])


@pytest.mark.parametrize("probe", ["ttk_tree", "ttk_diagram"])
def test_ttk_landscape_views_show_the_surface(probe, request):
    img = _image(request.getfixturevalue(probe)["LandscapeView"])
    background = np.all(img > 0.97, axis=2)
    assert 0.1 < 1 - background.mean() < 0.9
