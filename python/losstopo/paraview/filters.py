"""What the ParaView plugin's filters compute, as plain functions on VTK datasets (testable without ParaView).

The plugin (paraview/plugin/LossTopo.py) only moves properties in and datasets out; these functions turn an input
dataset into losstopo's numpy inputs (scalar field, image or graph connectivity) the same way
`losstopo analyze` does, and build the planar merge-tree layout dataset.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from vtkmodules.util import numpy_support

from .. import names, vtkio
from ..topology import TopologyResult, compute_topology, planar_tree_layout


def dataset_topology(data: Any, array: str = names.LOSS, simplify: float = 0.0,
                     simplify_relative: bool = False, source: str = "input") -> TopologyResult:
    """compute_topology on a dataset's point array `array`: the topology of its finite part, with the
    landscape's RawLoss / ValidMask read back (its Loss array is finite only for display). Ties are
    ordered by the dataset's order array `<array>_Order` when it has one, as TTK's filters do (a
    simplified field is flat on the removed basins: only its order array tells them apart)."""
    order = data.GetPointData().GetArray(names.order_array(array))
    return compute_topology(vtkio.raw_field(data, array, source), vtkio.dataset_connectivity(data),
                            simplify=simplify, simplify_relative=simplify_relative,
                            vertex_order=None if order is None else numpy_support.vtk_to_numpy(order))


def vertex_ranks(result: TopologyResult) -> np.ndarray:
    """The order array to pass on with a (simplified) field, in TTK's layout: every vertex's position in
    the sweep order (int32, a permutation of 0..n-1; non-finite vertices last, by id)."""
    from ..finite import finite_vertices
    from ..topology.builtin import sort_order

    order = result.order if result.order is not None else sort_order(
        result.values, finite_vertices(result.values))[0]
    rest = np.setdiff1d(np.arange(result.n_vertices), order)
    rank = np.empty(result.n_vertices, dtype=np.int32)
    rank[np.concatenate([order, rest])] = np.arange(result.n_vertices, dtype=np.int32)
    return rank


def merge_tree_layout_vtk(nodes: Any, arcs: Any, width: float = 1.0) -> Any:
    """The merge tree (Skeleton Nodes + Skeleton Arcs of TTK's layout) as a planar graph.

    One point per node at (x, Scalar, 0) with x from tree_layout.planar_tree_layout scaled to `width`
    times the scalar range; one line per arc. Node point arrays and arc cell arrays are kept.
    """
    node_arrays = vtkio.point_arrays(nodes)
    scalar = np.asarray(node_arrays[names.SCALAR], dtype=np.float64)
    cell = vtkio.cell_arrays(arcs)
    up = np.asarray(cell.get(names.UP_NODE_ID, np.zeros(0)), dtype=np.int64)
    down = np.asarray(cell.get(names.DOWN_NODE_ID, np.zeros(0)), dtype=np.int64)
    x = planar_tree_layout(up, down, scalar)
    extent = float(scalar.max() - scalar.min()) if scalar.size else 0.0
    pts = np.zeros((len(scalar), 3))
    pts[:, 0] = x * width * (extent if extent > 0 else 1.0)
    pts[:, 1] = scalar
    return vtkio.make_graph(pts, np.stack([down, up], axis=1) if up.size else np.zeros((0, 2), np.int64),
                           point_arrays=node_arrays, cell_arrays=cell, active=names.SCALAR)
