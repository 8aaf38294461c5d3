"""The proxies of the LossTopo ParaView plugin (plugin/LossTopo.py imports them into its namespace)."""

from .filters import (LandscapeMergeTree, LandscapeMergeTreeLayout, LandscapeMetrics, LandscapePersistenceDiagram,
                      LandscapeTopologicalSimplification)
from .sources import LossLandscapeReader, LossLandscapeSource

__all__ = ["LossLandscapeSource", "LossLandscapeReader", "LandscapeMergeTree", "LandscapePersistenceDiagram",
           "LandscapeTopologicalSimplification", "LandscapeMetrics", "LandscapeMergeTreeLayout"]
