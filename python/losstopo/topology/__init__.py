"""Stage 4, the topology: join tree (merge tree of sublevel sets) and 0-dimensional persistence."""

from .compute import compute_topology
from .layout import planar_tree_layout
from .types import JoinTree, PersistencePairs, TopologyResult

__all__ = ["compute_topology", "TopologyResult", "JoinTree", "PersistencePairs", "planar_tree_layout"]
