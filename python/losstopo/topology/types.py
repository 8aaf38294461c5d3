"""Data types of stage 4: the domain's connectivity, 0-dim persistence pairs and the join tree.

The join tree follows TTK's "Merge and Contour Tree (FTM)" filter (Tree Type = Join Tree) so that
the VTK adapter can write TTK's exact output layout:

* nodes (TTK port 0, one point each): NodeId (= index into the node arrays), VertexId, CriticalType
  (TTK's ``NodeType`` array, ttk::CriticalType codes), Scalar, RegionSize, RegionSpan;
* arcs (TTK port 1, one cell each): SegmentationId (= arc index), upNodeId, downNodeId, RegionSize,
  RegionSpan;
* segmentation (TTK port 2, one value per input vertex): SegmentationId, RegionType, RegionSize,
  RegionSpan.

Definitions, taken from TTK's ttkFTMStructures.h (WrapperData::getNodeType, NodeData, ArcData,
VertData) and FTMTree_MT (build / trunk):

* A join-tree arc goes from a lower node (``downNodeId``) to a higher node (``upNodeId``).
* Node type from the node's arc degrees: no down arc -> MINIMUM (0); one up and two down arcs ->
  SADDLE1 (1); one down and no up arc -> MAXIMUM (3); any other degree -> DEGENERATE (4).
  So a vertex where more than two sublevel components meet is DEGENERATE, and when the root (a
  component's highest vertex) is itself the vertex where components merge, TTK's trunk closes the
  last arc onto that same node: it is typed DEGENERATE and the component has no MAXIMUM node.
  A one-vertex component is one MINIMUM node without arcs (TTK writes a REGULAR node with a
  self-loop arc there; we drop the self-loop, see docs/topology.md).
* Arc RegionSize = number of vertices strictly inside the arc (its regular vertices, the nodes
  excluded), i.e. ``tree->getArcSize``. Arc RegionSpan = Euclidean distance between the points of
  the arc's two node vertices (TTK computes it from float32 coordinates).
* Node RegionSize / RegionSpan = those of the node's adjacent arc chosen by TTK's ``getAdjSa``: its
  down arc if it has exactly one, else its up arc if it has exactly one, else its first down arc.
  TTK stores the node RegionSpan in an *integer* array (truncated); ``node_region_span`` here keeps
  the float, the writer truncates.
* Segmentation: every regular vertex carries its arc's id; a node vertex carries the largest id of
  its adjacent arcs (TTK writes arcs in id order, so the last write wins). RegionType of an arc
  (ttk::ftm::ArcType): 0 if one end is a MINIMUM, else 1 if one end is a MAXIMUM, 2 if both ends are
  SADDLE1, 3 if both are SADDLE2, else 4.
* Node order (our choice; TTK's order depends on its thread schedule): minima by vertex id, then
  the other non-root nodes by (value, vertex id), then the component roots by (value, vertex id).
  Arc ids: arcs sorted by their down node's id (every node but a root has exactly one up arc).

Disconnected domains (graphs): like ttkFTMTree, one tree per connected component, all in one set of
arrays; each component's root is its own highest vertex.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import LossTopoError


@dataclass(frozen=True)
class ImageConnectivity:
    """A regular grid of dims = (nx[, ny[, nz]]) points in VTK order (x fastest), triangulated like TTK.

    origin/spacing only matter for RegionSpan (distances between node points); TTK uses the
    image's own geometry, so pass the .vti's origin and spacing to reproduce its RegionSpan.
    """

    dims: tuple[int, ...]
    origin: tuple[float, ...] | None = None
    spacing: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        dims = tuple(int(d) for d in self.dims)
        if not 1 <= len(dims) <= 3 or any(d < 1 for d in dims):
            raise LossTopoError(f"image dimensions {self.dims} are not 1 to 3 positive sizes",
                                "pass dims=(nx,), (nx, ny) or (nx, ny, nz)")
        object.__setattr__(self, "dims", dims)

    @property
    def n_vertices(self) -> int:
        return int(np.prod(self.dims))

    def dims3(self) -> tuple[int, int, int]:
        d = list(self.dims) + [1] * (3 - len(self.dims))
        return d[0], d[1], d[2]

    def coords(self, ids: np.ndarray) -> np.ndarray:
        """(k, 3) coordinates of the points `ids` (VTK order: id = i + nx*j + nx*ny*k)."""
        nx, ny, _nz = self.dims3()
        o = list(self.origin or ()) + [0.0] * 3
        s = list(self.spacing or ()) + [1.0] * 3
        ids = np.asarray(ids, dtype=np.int64)
        i, j, k = ids % nx, (ids // nx) % ny, ids // (nx * ny)
        return np.stack([o[0] + s[0] * i, o[1] + s[1] * j, o[2] + s[2] * k], axis=1).astype(np.float64)

    def points(self) -> np.ndarray:
        """(V, 3) point coordinates in VTK order."""
        return self.coords(np.arange(self.n_vertices))


@dataclass(frozen=True)
class GraphConnectivity:
    """An undirected graph: edges (E, 2) of vertex ids in [0, n_vertices); points optional (V, 1..3)."""

    edges: np.ndarray
    n_vertices: int
    points: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = int(self.n_vertices)
        if n < 1:
            raise LossTopoError(f"a graph needs at least one vertex (got {self.n_vertices})",
                                "pass n_vertices >= 1")
        e = np.asarray(self.edges, dtype=np.int64)
        if e.size == 0:
            e = np.zeros((0, 2), dtype=np.int64)
        if e.ndim != 2 or e.shape[1] != 2:
            raise LossTopoError(f"graph edges have shape {np.shape(self.edges)}", "pass an (E, 2) array")
        if e.size and (e.min() < 0 or e.max() >= n):
            raise LossTopoError(f"graph edges name vertices outside [0, {n})",
                                "check the edge list against the number of points")
        object.__setattr__(self, "edges", e)
        object.__setattr__(self, "n_vertices", n)


Connectivity = ImageConnectivity | GraphConnectivity


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
