"""TTK backend: the same TopologyResult, computed by TTK's own filters.

Where TTK is found (ttk_find.py: ParaView's own TTK, LOSSTOPO_TTK_PLUGIN, or the topologytoolkit Python
package), `compute_topology_ttk` writes the domain with the (finite) scalar field to a temporary file and
runs, in a pvpython (or python) subprocess, scripts/ttk_run.py: TTKTopologicalSimplificationByPersistence
(only when simplifying; Minimum-Saddle, absolute threshold), the join tree and TTKPersistenceDiagram, each
named and set up as the installed TTK's entry of ttk_names says, with 1 thread (deterministic ids). A
subprocess, so that a TTK that crashes or hangs on an input costs one line, not the caller. Outputs are
read back and converted array by array into the built-in backend's types, so metrics, JSON, VTK
outputs and pictures are produced by the same code whichever backend ran. A field with inf/NaN values
goes to TTK as its finite part (topology/finite_part.py: the graph of the domain's edges between finite
vertices, whose 1-skeleton fixes the join tree and the 0-dim pairs), and the result is mapped back, so
both backends compute the topology of the same finite part.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .. import names, vtkio
from ..errors import LossTopoError
from ..representation import Connectivity, GraphConnectivity, ImageConnectivity
from ..topology.types import TopologyResult
from ..vtkio import join_tree_from_ttk, pairs_from_ttk
from .ttk_find import find_ttk, require_ttk, ttk_available

__all__ = ["compute_topology_ttk", "find_ttk", "require_ttk", "ttk_available"]


def _domain(values: np.ndarray, connectivity: Connectivity) -> Any:
    arrays = {names.LOSS: values}
    if isinstance(connectivity, ImageConnectivity):
        return vtkio.image_dataset(connectivity, arrays)
    assert isinstance(connectivity, GraphConnectivity)
    return vtkio.graph_dataset(connectivity, arrays)


def compute_topology_ttk(values: np.ndarray, connectivity: Connectivity, simplify: float = 0.0,
                         simplify_relative: bool = False, timeout: int = 3600) -> TopologyResult:
    """TopologyResult from TTK's filters (see the module docstring); needs TTK, else a LossTopoError.

    Non-finite values: TTK gets the finite part (a graph) and the result is lifted back to the domain.
    """
    from ..topology.finite_part import finite_part
    from ..topology.simplify import absolute_threshold

    from .env import find_executable, paraview_environment

    ttk = require_ttk()
    v = np.ascontiguousarray(values, dtype=np.float64).ravel()
    if v.size != connectivity.n_vertices:
        raise LossTopoError(f"scalar field has {v.size} values but the domain has {connectivity.n_vertices} "
                            "vertices", "pass one value per grid point / graph vertex")
    threshold = absolute_threshold(v, simplify, simplify_relative)
    part = finite_part(v, connectivity)
    if part.n_nonfinite:
        sub = compute_topology_ttk(v[part.vertices], part.graph(connectivity), threshold, False, timeout)
        return part.lift(sub, v, connectivity)
    ext = ".vti" if isinstance(connectivity, ImageConnectivity) else ".vtu"
    with tempfile.TemporaryDirectory(prefix="losstopo-ttk-") as tmp:
        src = Path(tmp) / f"input{ext}"
        vtkio.write(src, _domain(v, connectivity))
        job = {"job": "topology", "route": ttk.route, "merge_tree": ttk.names.merge_tree.proxy, "input": str(src),
               "out": tmp, "threshold": float(threshold), "array": names.LOSS}
        exe = find_executable("pvpython") if ttk.route == "paraview" else sys.executable
        script = Path(__file__).with_name("scripts") / "ttk_run.py"
        try:
            out = subprocess.run([exe, str(script), json.dumps(job)], capture_output=True, text=True,
                                 timeout=timeout, env=paraview_environment())
        except subprocess.TimeoutExpired:
            raise LossTopoError(f"TTK did not finish within {timeout} s", "use --backend builtin") from None
        if "TTK-DONE" not in out.stdout:
            last = (out.stderr.strip().splitlines() or ["no output"])[-1]
            raise LossTopoError(f"TTK failed ({last[:300]})", "use --backend builtin or check the TTK install")
        simplified = vtkio.scalar_field(vtkio.read(Path(tmp) / f"simplified{ext}"), names.LOSS, "TTK output")
        tree = join_tree_from_ttk(vtkio.read(Path(tmp) / "nodes.vtu"), vtkio.read(Path(tmp) / "arcs.vtu"),
                                  vtkio.read(Path(tmp) / f"segmentation{ext}"), simplified)
        pairs = pairs_from_ttk(vtkio.read(Path(tmp) / "diagram.vtu"), simplified)
    n_comp = int((~pairs.finite).sum()) or 1
    if n_comp > 1:
        pairs = _essential_deaths_per_component(pairs, simplified, connectivity)
    return TopologyResult(values=simplified, connectivity=connectivity, pairs=pairs, tree=tree,
                          n_vertices=connectivity.n_vertices, simplify_threshold=threshold,
                          n_components=n_comp)


def _essential_deaths_per_component(pairs, values: np.ndarray, connectivity: Connectivity):
    """TTK lets every essential pair die at the global maximum; the built-in result (PersistencePairs)
    lets each die at its own component's highest vertex (by value, then vertex id), so that metrics
    agree between backends. The VTK diagram writer gives TTK's convention back (vtkio/topology.py)."""
    from dataclasses import replace

    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = connectivity.n_vertices
    e = np.asarray(connectivity.edges, dtype=np.int64).reshape(-1, 2)
    _, label = connected_components(coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)), directed=False)
    order = np.lexsort((np.arange(n), values))  # (value, id) ascending: the last of a component is its top
    top = np.empty(label.max() + 1, dtype=np.int64)
    top[label[order]] = order
    death_vertex = pairs.death_vertex.copy()
    ess = ~pairs.finite
    death_vertex[ess] = top[label[pairs.birth_vertex[ess]]]
    return replace(pairs, death_vertex=death_vertex, death=values[death_vertex])
