"""TTK's numbering of the join tree: node ids, arc order, SegmentationId, as ttkFTMTree (1 thread) writes them.

builtin.py's union-find sweep gives the tree's structure (which node is above which); this module lays
it out the way TTK's FTM does after ``FTMTree_MT::normalizeIds`` (run by ttkFTMTree / TTKMergeTree with
its default "normalize ids"), the same in TTK 1.2.0 and the 2024 snapshot:

* one tree per connected component (ttkFTMTree splits an unstructured grid with vtkConnectivityFilter,
  whose regions are numbered by their lowest cell id), written one after the other;
* inside a component, nodes sorted by the vertex order (``sortNodes``: value, then vertex id, or the
  explicit order array after simplification); NodeId = the component's node offset + local id;
* arcs sorted by (downNodeId, upNodeId) (``sortArcs``), up/down node ids local to the component;
* the arc's SegmentationId = the component's *node* offset + its normalized id: a breadth-first walk
  from the leaves in order, each node's up arc numbered at the node's first visit;
* per vertex, TTK writes the arcs in order and the last write wins: a regular vertex has its arc's
  values, a node vertex those of the last arc (in arc order) it ends;
* when a component's highest vertex is itself where components merge, TTK's trunk closes the last arc
  onto that node: a self-loop arc (no regular vertex, span 0) that is also the node's up arc.
Everything here is O(n) numpy or one O(nodes) numba loop.
"""

from __future__ import annotations

from typing import Callable

import numba
import numpy as np

from ..names import CriticalType
from .types import JoinTree

MIN, S1, S2, MAX, DEG, REG = (int(CriticalType.MINIMUM), int(CriticalType.SADDLE1), int(CriticalType.SADDLE2),
                              int(CriticalType.MAXIMUM), int(CriticalType.DEGENERATE), int(CriticalType.REGULAR))


def _roots(up: np.ndarray) -> np.ndarray:
    """The root of every node's tree, by pointer jumping (O(n log depth))."""
    root = np.where(up < 0, np.arange(up.size), up)
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


@numba.njit(cache=True)
def _normalized_ids(up_arc, arc_up, is_leaf, comp_start):
    """FTMTree_MT::normalizeIds for a join tree, per component: a queue starts with the leaves in node
    order; popping a node numbers its up arc (if not yet) and, once per arc, queues the arc's up node."""
    n = up_arc.shape[0]
    nid = np.full(arc_up.shape[0], -1, dtype=np.int64)
    seen = np.zeros(arc_up.shape[0], dtype=np.bool_)
    queue = np.empty(2 * n + 1, dtype=np.int64)
    for c in range(comp_start.shape[0] - 1):
        head = 0
        tail = 0
        for node in range(comp_start[c], comp_start[c + 1]):
            if is_leaf[node]:
                queue[tail] = node
                tail += 1
        count = 0
        while head < tail:
            node = queue[head]
            head += 1
            a = up_arc[node]
            if a < 0:
                continue
            if nid[a] < 0:
                nid[a] = count
                count += 1
            if not seen[a]:
                seen[a] = True
                queue[tail] = arc_up[a]
                tail += 1
    return nid


def _node_types(n: int, up: np.ndarray, down: np.ndarray) -> np.ndarray:
    """ttkFTMStructures.h WrapperData::getNodeType (Join Tree) from the arcs' end nodes."""
    up_deg = np.bincount(down, minlength=n)  # arcs going up from the node
    down_deg = np.bincount(up, minlength=n)
    ct = np.where(up_deg > 0, MIN, MAX)
    ct = np.where(up_deg + down_deg > 1, DEG, ct)
    ct[(up_deg == 2) & (down_deg == 1)] = S2
    ct[(up_deg == 1) & (down_deg == 2)] = S1
    ct[(up_deg == 1) & (down_deg == 1)] = REG
    ct[(up_deg == 0) & (down_deg == 0)] = MIN  # a one-vertex component (TTK leaves it out; docs/topology.md)
    return ct.astype(np.int8)


def region_type(up_t: np.ndarray, down_t: np.ndarray) -> np.ndarray:
    """TTK's ArcType of arcs from the critical types of their up and down nodes."""
    return np.select([(up_t == MIN) | (down_t == MIN), (up_t == MAX) | (down_t == MAX),
                      (up_t == S1) & (down_t == S1), (up_t == S2) & (down_t == S2)],
                     [0, 1, 2, 3], default=4).astype(np.int8)


def ttk_image_points(dims: tuple[int, ...], origin, spacing, ids: np.ndarray) -> np.ndarray:
    """(k, 3) float32 points of image vertices as TTK's ImplicitTriangulation::getVertexPoint makes them:
    origin + spacing * index in float32 on the axes with more than one point, the origin elsewhere."""
    d = list(dims) + [1] * (3 - len(dims))
    o = np.asarray(list(origin or ()) + [0.0] * (3 - len(origin or ())), dtype=np.float32)
    s = np.asarray(list(spacing or ()) + [1.0] * (3 - len(spacing or ())), dtype=np.float32)
    ids = np.asarray(ids, dtype=np.int64)
    idx = np.stack([ids % d[0], (ids // d[0]) % d[1], ids // (d[0] * d[1])], axis=1)
    out = np.empty((ids.size, 3), dtype=np.float32)
    for k in range(3):
        out[:, k] = o[k] + s[k] * idx[:, k].astype(np.float32) if d[k] > 1 else o[k]
    return out


def distance(points, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances between the points of vertices a and b in float32, as TTK computes RegionSpan.

    `points` maps vertex ids to (k, 3) coordinates (or is None: all distances 0).
    """
    if points is None or a.size == 0:
        return np.zeros(a.size, dtype=np.float64)
    d = points(a).astype(np.float32) - points(b).astype(np.float32)
    return np.sqrt(np.sum(d * d, axis=1, dtype=np.float32)).astype(np.float64)


def ttk_join_tree(values: np.ndarray, rank: np.ndarray, node_vertex: np.ndarray, node_merged: np.ndarray,
                  node_up: np.ndarray, below: np.ndarray, vertex_key: Callable[[], np.ndarray] | None,
                  points: Callable[[np.ndarray], np.ndarray] | None) -> JoinTree:
    """The JoinTree in TTK's numbering from the sweep's raw tree (see builtin._sweep).

    node_vertex / node_merged / node_up: the sweep's nodes (vertex, components merged there, parent
    node or -1); below: per vertex the node at the bottom of its arc (-1 for nodes and unswept ones);
    rank: each vertex's position in the sweep order; vertex_key: per vertex the key ordering the
    components (lowest key first; TTK: the lowest cell id), called only when there are several; None:
    by the sweep's order of their roots.
    """
    node_vertex = np.asarray(node_vertex, dtype=np.int64)
    up_old = np.asarray(node_up, dtype=np.int64)
    n = node_vertex.size
    nv = below.size
    root = _roots(up_old)
    comp_order = np.zeros(n, dtype=np.int64)
    if vertex_key is not None and np.count_nonzero(up_old < 0) > 1:
        owner = np.full(nv, -1, dtype=np.int64)
        reg = below >= 0
        owner[reg] = root[below[reg]]
        owner[node_vertex] = root
        keyed = owner >= 0
        key = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(key, owner[keyed], np.asarray(vertex_key(), dtype=np.int64)[keyed])
        comp_order = key[root]
    perm = np.lexsort((rank[node_vertex], root, comp_order))  # components contiguous, nodes by rank
    new_id = np.empty(n, dtype=np.int64)
    new_id[perm] = np.arange(n)
    vert = node_vertex[perm]
    root_new = new_id[root[perm]]
    starts = np.flatnonzero(np.r_[True, root_new[1:] != root_new[:-1]]) if n else np.zeros(0, np.int64)
    comp_start = np.r_[starts, n].astype(np.int64)
    node_offset = np.repeat(starts, np.diff(comp_start)).astype(np.int64)
    # arcs: every non-root node's up arc, plus TTK's self-loop on a root where components merge
    up_new = np.where(up_old[perm] >= 0, new_id[np.maximum(up_old[perm], 0)], -1)
    self_loop = (up_new < 0) & (np.asarray(node_merged)[perm] >= 2)
    down_nodes = np.flatnonzero((up_new >= 0) | self_loop)  # ascending: TTK's (down, up) order
    arc_up = np.where(self_loop[down_nodes], down_nodes, up_new[down_nodes])
    arcs = np.stack([arc_up, down_nodes], axis=1).astype(np.int64).reshape(-1, 2)
    n_arcs = down_nodes.size
    up_arc = np.full(n, -1, dtype=np.int64)
    up_arc[down_nodes] = np.arange(n_arcs)
    ct = _node_types(n, arcs[:, 0], arcs[:, 1])
    nid = _normalized_ids(up_arc, arc_up, ct == MIN, comp_start)
    arc_seg = node_offset[down_nodes] + nid
    # regular vertices: their arc; node vertices: the last arc (in arc order) they end
    arc_of_vertex = np.full(nv, -1, dtype=np.int64)
    reg = below >= 0
    arc_of_vertex[reg] = up_arc[new_id[below[reg]]]
    arc_size = np.bincount(arc_of_vertex[reg], minlength=n_arcs).astype(np.int64)
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, arcs[:, 1], np.arange(n_arcs))
    np.maximum.at(last, arcs[:, 0], np.arange(n_arcs))
    arc_of_vertex[vert] = last
    arc_span = distance(points, vert[arcs[:, 1]], vert[arcs[:, 0]])
    arc_type = region_type(ct[arcs[:, 0]], ct[arcs[:, 1]])
    has = arc_of_vertex >= 0
    seg = np.full(nv, -1, dtype=np.int64)
    seg[has] = arc_seg[arc_of_vertex[has]]
    vtype = np.zeros(nv, dtype=np.int8)
    vtype[has] = arc_type[arc_of_vertex[has]]
    # node RegionSize / RegionSpan: TTK's getAdjSa, the single down arc, else the up arc
    down_deg = np.bincount(arcs[:, 0], minlength=n)
    first_down = np.full(n, -1, dtype=np.int64)
    first_down[arcs[::-1, 0]] = np.arange(n_arcs)[::-1]
    adj = np.where(down_deg == 1, first_down, np.where(up_arc >= 0, up_arc, first_down))
    ok = adj >= 0
    node_size = np.zeros(n, dtype=np.int64)
    node_span = np.zeros(n, dtype=np.float64)
    node_size[ok] = arc_size[adj[ok]]
    node_span[ok] = arc_span[adj[ok]]
    return JoinTree(node_vertex=vert, node_type=ct, node_scalar=values[vert], node_region_size=node_size,
                    node_region_span=node_span, arcs=arcs, arc_region_size=arc_size, arc_region_span=arc_span,
                    segmentation=seg, region_type=vtype, arc_region_type=arc_type, arc_segmentation_id=arc_seg,
                    node_offset=node_offset)
