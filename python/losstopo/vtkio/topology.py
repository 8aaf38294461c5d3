"""TopologyResult -> VTK datasets in TTK's exact output layout, so any ParaView pipeline or state
file works whichever backend computed the topology.

Layouts follow TTK's adapters (topology-tool-kit/ttk):
* merge tree = ttkFTMTree's three ports (ttkFTMStructures.h NodeData / ArcData / VertData, "direct"
  arcs, i.e. Arc Sampling 0): nodes, arcs and the segmented input;
* persistence diagram = ttkPersistenceDiagramUtils.cpp DiagramToVTU (not embedded in the domain):
  one VTK_LINE per pair from (birth, birth) to (birth, death), then the diagonal cell from the first
  point to the pair with the highest birth, PairIdentifier -1, PairType -1, IsFinite 0,
  Persistence = 2 x the global pair's persistence, Birth 0.
Integer arrays are 32-bit (TTK's ttkSimplexIdTypeArray without 64-bit ids), Scalar on tree outputs
is float32, Persistence/Birth have the input's type (float64 here), points are float32.

Values and order are TTK's (topology/numbering.py; tests/topology/test_topology_ttk_arrays.py checks
every array against TTK 1.2.0 and the snapshot). Differences to TTK, all on purpose: node points carry
VTK_VERTEX cells (TTK's one poly-vertex cell renders only through Glyphs); the diagram holds the
0-dimensional pairs only (TTK's default backend adds the higher pairs), so its PairIdentifier counts
those only and its diagonal ends at the highest minimum.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .. import names
from ..errors import LossTopoError
from ..names import CriticalType
from ..representation import GraphConnectivity, ImageConnectivity, points3
from ..topology.numbering import ttk_image_points
from ..topology.types import JoinTree, PersistencePairs, TopologyResult
from . import datasets as vtkio


def domain_points(result: TopologyResult, dataset: Any | None = None) -> np.ndarray:
    """(V, 3) positions of the input vertices: the dataset's points, else the connectivity's geometry."""
    if dataset is not None:
        return vtkio.points(dataset)
    conn = result.connectivity
    if isinstance(conn, ImageConnectivity):
        return conn.points()
    if isinstance(conn, GraphConnectivity) and conn.points is not None:
        return points3(np.asarray(conn.points).reshape(result.n_vertices, -1))
    return np.zeros((result.n_vertices, 3), dtype=np.float64)


def domain_dataset(result: TopologyResult, array: str = names.LOSS) -> Any:
    """A vtkImageData / graph vtkUnstructuredGrid of the result's domain carrying its values."""
    conn = result.connectivity
    arrays = {array: np.asarray(result.values, dtype=np.float64)}
    if isinstance(conn, ImageConnectivity):
        n = len(conn.dims)
        return vtkio.make_image(conn.dims, conn.origin or (0.0,) * n, conn.spacing or (1.0,) * n, arrays,
                                active=array)
    return vtkio.make_graph(domain_points(result), conn.edges, arrays, active=array)


def domain_dimension(result: TopologyResult) -> int:
    """Dimension of the domain as TTK sees it: number of non-trivial image axes, 1 for graphs."""
    conn = result.connectivity
    if isinstance(conn, ImageConnectivity):
        return max(1, sum(1 for d in conn.dims if d > 1))
    return 1


def ttk_points(result: TopologyResult, ids: np.ndarray, dataset: Any | None = None) -> np.ndarray:
    """(k, 3) float32 points of vertices `ids` as TTK's triangulation gives them (getVertexPoint): for
    images origin + spacing * index computed in float32, else the dataset's points as float32."""
    conn = result.connectivity
    ids = np.asarray(ids, dtype=np.int64)
    if isinstance(conn, ImageConnectivity):
        if dataset is not None:
            dims, origin, spacing = vtkio.image_geometry(dataset)
            return ttk_image_points(dims, origin, spacing, ids)
        return ttk_image_points(conn.dims, conn.origin, conn.spacing, ids)
    return domain_points(result, dataset)[ids].astype(np.float32)


def merge_tree_vtk(result: TopologyResult, dataset: Any | None = None) -> tuple[Any, Any, Any]:
    """(nodes, arcs, segmentation) like ttkFTMTree's output ports 0, 1 and 2 (Join Tree), in TTK's
    numbering (topology/numbering.py): the same arrays as TTK's, value for value."""
    tree = result.tree
    values = np.asarray(result.values, dtype=np.float64)
    nv = np.asarray(tree.node_vertex, dtype=np.int64)
    pts = np.zeros((result.n_vertices, 3), dtype=np.float32)
    pts[nv] = ttk_points(result, nv, dataset)

    nodes = vtkio.make_cells(
        pts[nv], np.arange(len(nv)).reshape(-1, 1), vtkio.VTK_VERTEX,
        point_arrays={
            names.NODE_ID: np.arange(len(nv), dtype=np.int32),
            names.SCALAR: values[nv].astype(np.float32),
            names.VERTEX_ID: nv.astype(np.int32),
            names.CRITICAL_TYPE: np.asarray(tree.node_type, dtype=np.int32),
            names.REGION_SIZE: np.asarray(tree.node_region_size, dtype=np.int32),
            names.REGION_SPAN: np.trunc(np.asarray(tree.node_region_span, dtype=np.float64)).astype(np.int32),
        },
        active=names.CRITICAL_TYPE)

    arcs = _arcs_vtk(tree, pts, values)

    base = dataset if dataset is not None else domain_dataset(result)
    segmentation = vtkio.shallow_copy(base)
    pd = segmentation.GetPointData()
    seg = np.asarray(tree.segmentation, dtype=np.int64)
    arc_of_id = np.full(int(np.max(tree.arc_segmentation_id, initial=-1)) + 2, -1, dtype=np.int64)
    arc_of_id[tree.arc_segmentation_id] = np.arange(tree.n_arcs)
    arc = arc_of_id[seg]  # -1 (no arc) maps to the last slot, -1
    for name, arr in {
        names.SEGMENTATION_ID: seg.astype(np.int32),
        names.REGION_SIZE: _per_vertex(arc, tree.arc_region_size, 0).astype(np.int32),
        names.REGION_SPAN: _per_vertex(arc, tree.arc_region_span, 0.0).astype(np.float64),
        names.REGION_TYPE: np.asarray(tree.region_type, dtype=np.int8),
    }.items():
        pd.AddArray(vtkio.to_vtk_array(name, arr))
    pd.SetActiveScalars(names.SEGMENTATION_ID)
    return nodes, arcs, segmentation


def _per_vertex(seg: np.ndarray, per_arc: np.ndarray, fill: float) -> np.ndarray:
    per_arc = np.asarray(per_arc)
    out = np.full(seg.shape, fill, dtype=per_arc.dtype if per_arc.size else np.float64)
    ok = seg >= 0
    out[ok] = per_arc[seg[ok]]
    return out


def _arcs_vtk(tree: JoinTree, pts: np.ndarray, values: np.ndarray) -> Any:
    """ttkFTMTree port 1 with direct arcs: a point per node vertex in order of first use (down, then up);
    up/downNodeId local to the arc's component, SegmentationId TTK's (normalized, offset) arc id."""
    arcs = np.asarray(tree.arcs, dtype=np.int64).reshape(-1, 2)  # [upNodeId, downNodeId]
    node_vertex = np.asarray(tree.node_vertex, dtype=np.int64)
    local = arcs - np.asarray(tree.node_offset, dtype=np.int64)[arcs[:, 1]][:, None]
    point_of_node: dict[int, int] = {}
    order: list[int] = []
    cells = np.empty((len(arcs), 2), dtype=np.int64)
    for a, (up, down) in enumerate(arcs.tolist()):
        for slot, node in ((0, down), (1, up)):
            if node not in point_of_node:
                point_of_node[node] = len(order)
                order.append(node)
            cells[a, slot] = point_of_node[node]
    verts = node_vertex[np.asarray(order, dtype=np.int64)] if order else np.zeros(0, dtype=np.int64)
    return vtkio.make_cells(
        pts[verts], cells, vtkio.VTK_LINE,
        point_arrays={names.SCALAR: values[verts].astype(np.float32),
                      names.MASK_SCALAR_FIELD: np.zeros(len(verts), dtype=np.int8)},
        cell_arrays={names.SEGMENTATION_ID: np.asarray(tree.arc_segmentation_id, dtype=np.int32),
                     names.UP_NODE_ID: local[:, 0].astype(np.int32),
                     names.DOWN_NODE_ID: local[:, 1].astype(np.int32),
                     names.REGION_SIZE: np.asarray(tree.arc_region_size, dtype=np.int32),
                     names.REGION_SPAN: np.asarray(tree.arc_region_span, dtype=np.float64)},
        active_cell=names.SEGMENTATION_ID)


def ttk_pair_order(result: TopologyResult) -> np.ndarray:
    """Indices of result.pairs in TTK's diagram order: the global pair first, then by birth (then vertex)."""
    p = result.pairs
    n = len(p)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rest = np.arange(1, n)
    rest = rest[np.lexsort((p.birth_vertex[rest], p.birth[rest]))]
    return np.concatenate([[0], rest]).astype(np.int64)


def pair_death_types(result: TopologyResult) -> np.ndarray:
    """CriticalType of each pair's death vertex as TTK reports it.

    Essential pairs die at a maximum; finite 0-dim pairs at a 1-saddle, which on a 1-dimensional
    domain (graphs, 1-D images) is a maximum (TTK's knn8_scatter_800 reference shows type 3).
    """
    finite = np.asarray(result.pairs.finite, dtype=bool)
    saddle = CriticalType.MAXIMUM if domain_dimension(result) == 1 else CriticalType.SADDLE1
    return np.where(finite, int(saddle), int(CriticalType.MAXIMUM)).astype(np.int32)


def persistence_diagram_vtk(result: TopologyResult, dataset: Any | None = None) -> Any:
    """TTK PersistenceDiagram's output (0-dimensional pairs, not embedded) plus its diagonal cell.

    Pairs in TTK's order (sortPersistenceDiagram: by the birth vertex's position in the vertex order),
    essential pairs dying at the global maximum, points and coordinates as TTK's (float32), Persistence
    and Birth in the input's type. TTK's cells of PairType 0 equal these cells array by array; TTK also
    writes the higher pairs, so its PairIdentifier and diagonal count those too (docs/topology.md)."""
    p = result.pairs
    order = ttk_pair_order(result)
    n = len(order)
    birth = np.asarray(p.birth, dtype=np.float64)[order]
    death = np.asarray(p.death, dtype=np.float64)[order]
    bv = np.asarray(p.birth_vertex, dtype=np.int64)[order]
    dv = np.asarray(p.death_vertex, dtype=np.int64)[order]
    if n:  # TTK lets every essential pair die at the global maximum (the global pair's death)
        essential = ~np.asarray(p.finite, dtype=bool)[order]
        dv[essential] = dv[0]
        death[essential] = death[0]
    dtype_ = pair_death_types(result)[order]

    points = np.zeros((2 * n, 3), dtype=np.float64)
    points[0::2, 0] = birth
    points[0::2, 1] = birth
    points[1::2, 0] = birth
    points[1::2, 1] = death
    vertex_ids = np.empty(2 * n, dtype=np.int32)
    vertex_ids[0::2], vertex_ids[1::2] = bv, dv
    ctype = np.empty(2 * n, dtype=np.int32)
    ctype[0::2], ctype[1::2] = int(CriticalType.MINIMUM), dtype_
    coords = np.empty((2 * n, 3), dtype=np.float32)
    coords[0::2], coords[1::2] = ttk_points(result, bv, dataset), ttk_points(result, dv, dataset)

    cells = np.stack([np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2)], axis=1)
    pers = death - birth
    if n:
        last = int(np.argmax(birth))  # first pair with the highest birth, like std::max_element
        cells = np.vstack([cells, [[0, 2 * last]]])
    diag_pers = [2.0 * pers[0]] if n else []
    return vtkio.make_cells(
        points, cells, vtkio.VTK_LINE,
        point_arrays={names.VERTEX_SCALAR_FIELD: vertex_ids, names.CRITICAL_TYPE: ctype,
                      names.COORDINATES: coords},
        cell_arrays={
            names.PAIR_IDENTIFIER: np.concatenate([np.arange(n), [-1] if n else []]).astype(np.int32),
            names.PAIR_TYPE: np.concatenate([np.zeros(n), [-1] if n else []]).astype(np.int32),
            names.PERSISTENCE: np.concatenate([pers, diag_pers]).astype(result.scalar_dtype),
            names.BIRTH: np.concatenate([birth, [0.0] if n else []]).astype(result.scalar_dtype),
            names.IS_FINITE: np.concatenate([np.asarray(p.finite, dtype=bool)[order],
                                             [False] if n else []]).astype(np.uint8),
        })


def metrics_table(metrics: Mapping[str, Any]) -> Any:
    """vtkTable with one column per scalar metric and one row (for spreadsheet and chart views).

    Numbers and booleans become numeric columns, text a string column; lists and dicts are skipped.
    """
    columns = {}
    for key, value in metrics.items():
        if isinstance(value, (bool, np.bool_, int, np.integer)):
            columns[key] = np.array([int(value)], dtype=np.int64)
        elif isinstance(value, (float, np.floating)) or value is None:
            columns[key] = np.array([np.nan if value is None else float(value)], dtype=np.float64)
        elif isinstance(value, str):
            columns[key] = np.array([value])
    return vtkio.make_table(columns)


# ---------------------------------------------------------------------- TTK's outputs -> our types
def _array(arrays: dict[str, np.ndarray], *candidates: str) -> np.ndarray:
    for name in candidates:
        if name in arrays:
            return np.asarray(arrays[name])
    raise LossTopoError(f"TTK output lacks the array {candidates[0]!r}",
                        "check the TTK version (1.2 or newer)")


def join_tree_from_ttk(nodes: Any, arcs: Any, segmentation: Any, values: np.ndarray) -> JoinTree:
    """JoinTree from ttkFTMTree's three outputs (direct arcs), scalars looked up exactly in `values`."""
    pa, ca, sa = vtkio.point_arrays(nodes), vtkio.cell_arrays(arcs), vtkio.point_arrays(segmentation)
    node_id = _array(pa, names.NODE_ID).astype(np.int64)
    order = np.argsort(node_id, kind="stable")
    vertex = _array(pa, names.VERTEX_ID).astype(np.int64)[order]
    seg_id = _array(ca, names.SEGMENTATION_ID).astype(np.int64)
    arc_order = np.argsort(seg_id, kind="stable")
    up, down = _arc_ends(nodes, arcs, node_id, ca)
    up, down = up[arc_order], down[arc_order]
    seg = _array(sa, names.SEGMENTATION_ID).astype(np.int64)
    region_type = _array(sa, names.REGION_TYPE).astype(np.int8)
    arc_type = np.zeros(len(up), dtype=np.int8)
    ok = (seg >= 0) & (seg < len(up))
    arc_type[seg[ok]] = region_type[ok]
    return JoinTree(
        node_vertex=vertex,
        node_type=_array(pa, names.CRITICAL_TYPE, "NodeType").astype(np.int8)[order],
        node_scalar=np.asarray(values, dtype=np.float64)[vertex],
        node_region_size=_array(pa, names.REGION_SIZE).astype(np.int64)[order],
        node_region_span=_array(pa, names.REGION_SPAN).astype(np.float64)[order],
        arcs=np.stack([up, down], axis=1),
        arc_region_size=_array(ca, names.REGION_SIZE).astype(np.int64)[arc_order],
        arc_region_span=_array(ca, names.REGION_SPAN).astype(np.float64)[arc_order],
        segmentation=seg, region_type=region_type, arc_region_type=arc_type)


def _arc_ends(nodes: Any, arcs: Any, node_id: np.ndarray, ca: dict) -> tuple[np.ndarray, np.ndarray]:
    """(upNodeId, downNodeId) of each arc cell as global node ids. TTK numbers them per connected
    component of a graph (local ids), so they are read from the arc's own end points, which are its nodes'
    points, whenever node points are distinct; else TTK's arrays are taken as they are."""
    up = _array(ca, names.UP_NODE_ID).astype(np.int64)
    down = _array(ca, names.DOWN_NODE_ID).astype(np.int64)
    node_pts, arc_pts = vtkio.points(nodes), vtkio.points(arcs)
    cells = vtkio.line_edges(arcs) if len(up) else np.zeros((0, 2), np.int64)
    keys = [tuple(p) for p in node_pts.tolist()]
    if len(set(keys)) != len(keys) or len(cells) != len(up):
        return up, down
    where = dict(zip(keys, node_id.tolist()))
    ends = [[where.get(tuple(arc_pts[c].tolist()), -1) for c in cell] for cell in cells.tolist()]
    ends = np.asarray(ends, dtype=np.int64).reshape(-1, 2)
    if (ends < 0).any():
        return up, down
    # a cell runs from its down node to its up node (the arc's lower end first)
    return ends[:, 1], ends[:, 0]


def pairs_from_ttk(diagram: Any, values: np.ndarray) -> PersistencePairs:
    """The 0-dimensional pairs of a TTK persistence diagram in PersistencePairs' order."""
    pa, ca = vtkio.point_arrays(diagram), vtkio.cell_arrays(diagram)
    pid = _array(ca, names.PAIR_IDENTIFIER).astype(np.int64)
    ptype = _array(ca, names.PAIR_TYPE).astype(np.int64)
    finite = _array(ca, names.IS_FINITE).astype(bool)
    vid = _array(pa, names.VERTEX_SCALAR_FIELD).astype(np.int64)
    cells = np.flatnonzero((pid >= 0) & (ptype == 0))
    cells = cells[vid[2 * cells] != vid[2 * cells + 1]]  # TTK's 1-D images add (v, v) pairs: no pairs
    bv, dv = vid[2 * cells], vid[2 * cells + 1]
    v = np.asarray(values, dtype=np.float64)
    birth, death, fin = v[bv], v[dv], finite[cells]
    ess = np.flatnonzero(~fin)
    ess = ess[np.lexsort((bv[ess], birth[ess]))]  # the global pair (lowest minimum) first
    fins = np.flatnonzero(fin)
    fins = fins[np.lexsort((bv[fins], -(death[fins] - birth[fins])))]
    sel = np.concatenate([ess, fins]).astype(np.int64)
    return PersistencePairs(birth_vertex=bv[sel], death_vertex=dv[sel], birth=birth[sel], death=death[sel],
                            finite=fin[sel])
