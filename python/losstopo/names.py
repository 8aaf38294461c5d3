"""The one place that names VTK arrays and critical-point codes.

Names and codes follow TTK (core/base/common/DataTypes.h and the array names of its ParaView
filters) so that our built-in backend's outputs and TTK's are interchangeable in a pipeline.
Every other module refers to these constants; none spells an array name itself.
"""

from enum import IntEnum


class CriticalType(IntEnum):
    """TTK's critical-point codes (ttk::CriticalType)."""

    MINIMUM = 0
    SADDLE1 = 1
    SADDLE2 = 2
    MAXIMUM = 3
    DEGENERATE = 4
    REGULAR = 5


# Landscape point arrays.
LOSS = "Loss"
ACCURACY = "Accuracy"
VALID_MASK = "ValidMask"  # 1 where the raw loss was finite, 0 where it was inf/NaN
RAW_LOSS = "RawLoss"  # the raw loss (may hold inf/NaN) next to the finite Loss


def order_array(array: str) -> str:
    """TTK's order array of a scalar array (ttk::OrderArrayName): a rank per vertex that orders ties;
    TopologicalSimplificationByPersistence writes it and TTK's filters sweep by it when present."""
    return f"{array}_Order"

# kNN graph representation (field data of the graph .vtu).
KNN_K = "KnnK"
KNN_RECALL = "KnnRecall"  # recall of the approximate kNN against the exact one
KNN_METHOD = "KnnMethod"  # how the kNN graph was built: "exact" (k-d tree) or "nndescent" (a string array)

# Merge tree (TTK FTM): nodes, arcs, segmentation.
NODE_ID = "NodeId"
VERTEX_ID = "VertexId"
CRITICAL_TYPE = "CriticalType"
SCALAR = "Scalar"
REGION_SIZE = "RegionSize"
REGION_SPAN = "RegionSpan"
UP_NODE_ID = "upNodeId"
DOWN_NODE_ID = "downNodeId"
SEGMENTATION_ID = "SegmentationId"
REGION_TYPE = "RegionType"
MASK_SCALAR_FIELD = "ttkMaskScalarField"  # arcs' point array: 1 on regular points, 0 on nodes

# Persistence diagram (TTK PersistenceDiagram).
VERTEX_SCALAR_FIELD = "ttkVertexScalarField"
COORDINATES = "Coordinates"
PAIR_IDENTIFIER = "PairIdentifier"
PAIR_TYPE = "PairType"
PERSISTENCE = "Persistence"
BIRTH = "Birth"
IS_FINITE = "IsFinite"

# TTK's filter names (proxy XML names) in ParaView.
TTK_MERGE_TREE_FTM = "TTKMergeandContourTreeFTM"  # TTK 1.2
TTK_MERGE_TREE = "TTKMergeTree"  # newer TTK
TTK_PERSISTENCE_DIAGRAM = "TTKPersistenceDiagram"
TTK_SIMPLIFICATION = "TTKTopologicalSimplificationByPersistence"

# Landscape folder layout written by `losstopo landscape`.
LANDSCAPE_NPZ = "landscape.npz"
LANDSCAPE_VTI = "landscape.vti"
LANDSCAPE_VTU = "landscape.vtu"
DIRECTIONS_PT = "directions.pt"
META_JSON = "meta.json"
