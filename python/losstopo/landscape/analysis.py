"""Stages 3-5 of a landscape in one call: `Landscape.topology()`, the merge tree, pairs and metrics.

The one module of stage 2 that looks ahead: a convenience for the one-call API (`losstopo.landscape(model,
data).topology()`), importing the later stages inside the function only; pyproject.toml's layers
contract names this module as its one exception. Pipelines (analyze, the plugin) compose the stages
themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import settings as check
from ..errors import LossTopoError


def topology_of(ls: Any, representation: str | None = None, k: int = 8, simplify: float = 0.0,
                simplify_relative: bool = False, seed: int = 0, array: str = "loss") -> Any:
    """Stages 3-5 of a files.Landscape: the TopologyResult of its loss, with `.metrics` (topology_metrics).

    representation: "image" (TTK's triangulation of the grid; default for grids) or "knn" (the k-nearest-
    neighbour graph of the coordinates; default for scattered points).
    """
    from ..metrics import topology_metrics
    from ..representation import graph_connectivity, landscape_image
    from ..topology import compute_topology

    rep = ("image" if ls.is_grid else "knn") if representation is None else \
        check.choice("representation", representation, check.REPRESENTATIONS)
    values = ls.loss if array == "loss" else ls.accuracy if array == "accuracy" else ls.metrics.get(array)
    if values is None:
        raise LossTopoError(f"the landscape has no array {array!r}", f"choose loss, accuracy or {list(ls.metrics)}")
    if rep == "image":
        if not ls.is_grid:
            raise LossTopoError("scattered coordinates have no image representation", "use representation='knn'")
        conn = landscape_image(ls.resolution, ls.span)
    else:
        conn, _ = graph_connectivity(np.asarray(ls.coords, np.float64), k=check.k(k, len(ls.coords)), seed=seed)
    result = compute_topology(np.asarray(values, np.float64), conn, simplify=simplify,
                              simplify_relative=simplify_relative)
    result.metrics = topology_metrics(result)
    return result
