"""Data types of stage 4: the domain's connectivity, 0-dim persistence pairs and the join tree.

The join tree follows TTK's "Merge and Contour Tree (FTM)" filter (Tree Type = Join Tree) so that
the VTK adapter can write TTK's exact output layout:

* nodes (TTK port 0, one point each): NodeId (= index into the node arrays), VertexId, CriticalType
  (TTK's ``NodeType`` array, ttk::CriticalType codes), Scalar, RegionSize, RegionSpan;
* arcs (TTK port 1, one cell each): SegmentationId (``arc_segmentation_id``), upNodeId, downNodeId
  (local to the component), RegionSize, RegionSpan;
* segmentation (TTK port 2, one value per input vertex): SegmentationId, RegionType, RegionSize,
  RegionSpan.

Definitions, taken from TTK's ttkFTMStructures.h (WrapperData::getNodeType, NodeData, ArcData,
VertData) and FTMTree_MT (build / trunk):

* A join-tree arc goes from a lower node (``downNodeId``) to a higher node (``upNodeId``).
* Node type from the node's arc degrees: no down arc -> MINIMUM (0); one up and two down arcs ->
  SADDLE1 (1); one down and no up arc -> MAXIMUM (3); any other degree -> DEGENERATE (4).
  So a vertex where more than two sublevel components meet is DEGENERATE, and when the root (a
  component's highest vertex) is itself the vertex where components merge, TTK's trunk closes the
  last arc onto that same node (a self-loop): it is typed DEGENERATE and the component has no MAXIMUM
  node. A one-vertex component is one MINIMUM node without arcs (TTK leaves such a vertex out).
* Arc RegionSize = number of vertices strictly inside the arc (its regular vertices, the nodes
  excluded), i.e. ``tree->getArcSize``. Arc RegionSpan = Euclidean distance between the points of
  the arc's two node vertices (TTK computes it from float32 coordinates).
* Node RegionSize / RegionSpan = those of the node's adjacent arc chosen by TTK's ``getAdjSa``: its
  down arc if it has exactly one, else its up arc if it has exactly one, else its first down arc.
  TTK stores the node RegionSpan in an *integer* array (truncated); ``node_region_span`` here keeps
  the float, the writer truncates.
* Numbering (numbering.py; docs/topology.md): TTK's, so the VTK outputs equal TTK's array by array.
  One tree per connected component, components in TTK's order; inside one, nodes by the vertex order
  (value, vertex id, or the simplified order); ``node_offset`` is the component's first node. Arcs by
  (down node, up node); ``arc_segmentation_id`` = node offset + the arc's normalized id (breadth-first
  from the minima). ``segmentation``: a regular vertex has its arc's SegmentationId, a node vertex that
  of the last arc (in arc order) it ends. RegionType of an arc (ttk::ftm::ArcType): 0 if one end is a
  MINIMUM, else 1 if one end is a MAXIMUM, 2 if both ends are SADDLE1, 3 if both are SADDLE2, else 4.
* A root where components merge carries TTK's self-loop arc (up node = down node, no regular vertex).

Disconnected domains (graphs): like ttkFTMTree, one tree per connected component, all in one set of
arrays; each component's root is its own highest vertex.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..representation import Connectivity




@dataclass
class PersistencePairs:
    """0-dimensional (minimum-saddle) persistence pairs.

    The global pair (global minimum, global maximum; finite False) comes first; then the essential
    pairs of other connected components (their minimum with their highest vertex; finite False);
    then the finite pairs by persistence descending, ties by birth vertex.
    """

    birth_vertex: np.ndarray
    death_vertex: np.ndarray
    birth: np.ndarray
    death: np.ndarray
    finite: np.ndarray

    def __len__(self) -> int:
        return int(self.birth_vertex.shape[0])

    @property
    def persistence(self) -> np.ndarray:
        return self.death - self.birth


@dataclass
class JoinTree:
    """The join tree (merge tree of sublevel sets) in TTK FTM's layout; see the module docstring."""

    node_vertex: np.ndarray  # (N,) int64 VertexId
    node_type: np.ndarray  # (N,) int8 CriticalType code
    node_scalar: np.ndarray  # (N,) float64
    node_region_size: np.ndarray  # (N,) int64
    node_region_span: np.ndarray  # (N,) float64 (TTK truncates to int)
    arcs: np.ndarray  # (A, 2) int64 [upNodeId, downNodeId]
    arc_region_size: np.ndarray  # (A,) int64
    arc_region_span: np.ndarray  # (A,) float64
    segmentation: np.ndarray  # (V,) int64 SegmentationId (arc id) of every vertex; -1 if no arc
    region_type: np.ndarray  # (V,) int8 RegionType of every vertex's arc
    arc_region_type: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))  # (A,)
    arc_segmentation_id: np.ndarray | None = None  # (A,) int64 TTK's SegmentationId of each arc
    node_offset: np.ndarray | None = None  # (N,) int64 first node index of the node's component

    def __post_init__(self) -> None:
        if self.arc_segmentation_id is None:
            self.arc_segmentation_id = np.arange(self.arcs.shape[0], dtype=np.int64)
        if self.node_offset is None:
            self.node_offset = np.zeros(self.node_vertex.shape[0], dtype=np.int64)

    @property
    def n_nodes(self) -> int:
        return int(self.node_vertex.shape[0])

    @property
    def n_arcs(self) -> int:
        return int(self.arcs.shape[0])


@dataclass
class TopologyResult:
    """Everything stage 4 computes for one scalar field."""

    values: np.ndarray
    connectivity: Connectivity
    pairs: PersistencePairs
    tree: JoinTree
    n_vertices: int
    simplify_threshold: float = 0.0
    n_components: int = 1
    n_nonfinite: int = 0  # input values that were inf/NaN: left out (the topology of the finite part)
    scalar_dtype: str = "float64"  # the input's type: TTK writes the diagram's Persistence/Birth in it
    order: np.ndarray | None = None  # sweep order (finite vertex ids) when not (value, id): simplified or given
