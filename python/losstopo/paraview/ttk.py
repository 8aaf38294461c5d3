"""TTK backend: the same TopologyResult, computed by TTK's own filters inside pvpython.

When the TopologyToolKit plugin is installed for ParaView, `compute_topology_ttk` writes the domain
with the (finite) scalar field to a temporary file and runs, in a pvpython subprocess:
TTKTopologicalSimplificationByPersistence (only when simplifying; Minimum-Saddle, absolute
threshold), the join tree (TTK 1.2 "TTKMergeandContourTreeFTM" with Tree Type "Join Tree"; newer
TTKs' "TTKMergeTree" with Type "Join Tree" otherwise) and TTKPersistenceDiagram. Their outputs are
read back and converted array by array into the built-in backend's types, so metrics, JSON, VTK
outputs and pictures are produced by the same code whichever backend ran. A field with inf/NaN values
goes to TTK as its finite part (topology/finite_part.py: the graph of the domain's edges between finite
vertices, whose 1-skeleton fixes the join tree and the 0-dim pairs), and the result is mapped back, so
both backends compute the topology of the same finite part.
"""

from __future__ import annotations

import functools
import glob
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .. import names, vtkio
from ..errors import LossTopoError
from ..representation import Connectivity, GraphConnectivity, ImageConnectivity
from ..topology.types import TopologyResult
from ..vtkio import join_tree_from_ttk, pairs_from_ttk

INSTALL_HINT = ("install TTK for ParaView: `conda install -c conda-forge topologytoolkit` (then run losstopo "
                "from that environment), or TTK's .deb packages for Ubuntu/Debian with ParaView from "
                "https://github.com/topology-tool-kit/ttk/releases; or use --backend builtin")

_PLUGIN_GLOBS = ("TopologyToolKit*.so", "libTopologyToolKit*.so", "TopologyToolKit/TopologyToolKit*.so")


def _plugin_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("PV_PLUGIN_PATH", "").split(os.pathsep) if p]
    for prefix in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib",
                   os.environ.get("CONDA_PREFIX", "") + "/lib"):
        dirs.extend(Path(p) / "plugins" for p in glob.glob(f"{prefix}/paraview-*"))
    return [d for d in dirs if d.is_dir()]


def find_ttk_plugin() -> Path | None:
    """The TopologyToolKit plugin library in a ParaView plugin folder, or None."""
    for d in _plugin_dirs():
        for pattern in _PLUGIN_GLOBS:
            hits = sorted(d.glob(pattern)) + sorted(d.glob("*/" + pattern))
            if hits:
                return hits[0]
    return None


_PROBE = """
from paraview.simple import LoadDistributedPlugin
LoadDistributedPlugin("TopologyToolKit", remote=False, ns=globals())
import paraview.simple as s
print("TTK-OK" if hasattr(s, "TTKPersistenceDiagram") else "TTK-MISSING")
"""


@functools.lru_cache(maxsize=1)
def ttk_available() -> bool:
    """Whether pvpython can load TTK. Cheap when TTK is absent (a file search); one pvpython probe
    (a few seconds, cached for the process) when a plugin library is found.

    LOSSTOPO_TTK=0 forces False, LOSSTOPO_TTK=1 skips the probe.
    """
    forced = os.environ.get("LOSSTOPO_TTK")
    if forced in ("0", "1"):
        return forced == "1"
    if find_ttk_plugin() is None:
        return False
    try:
        from .env import find_executable, paraview_environment

        out = subprocess.run([find_executable("pvpython"), "-c", _PROBE], capture_output=True, text=True,
                             timeout=120, env=paraview_environment())
    except (LossTopoError, OSError, subprocess.TimeoutExpired):
        return False
    return "TTK-OK" in out.stdout


def require_ttk() -> None:
    """Raise the one-line install hint unless TTK can be used."""
    if not ttk_available():
        raise LossTopoError("--backend ttk needs TTK (TopologyToolKit) loaded in ParaView, "
                            "and it was not found",
                            INSTALL_HINT)


_SCRIPT = r'''
import sys
from paraview.simple import *
LoadDistributedPlugin("TopologyToolKit", remote=False, ns=globals())
src_path, out_dir, threshold, array = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
reader = (XMLImageDataReader if src_path.endswith(".vti") else XMLUnstructuredGridReader)(FileName=[src_path])
src = reader
if threshold > 0:
    src = TTKTopologicalSimplificationByPersistence(Input=reader)
    src.InputArray = ["POINTS", array]
    try:
        src.PairType = "Minimum-Saddle"
    except Exception:
        pass
    src.PersistenceThreshold = threshold
    src.ThresholdIsAbsolute = 1
ext = ".vti" if src_path.endswith(".vti") else ".vtu"
SaveData(out_dir + "/simplified" + ext, proxy=src)
if "TTKMergeandContourTreeFTM" in globals():
    tree = TTKMergeandContourTreeFTM(Input=src)
    tree.ScalarField = ["POINTS", array]
    tree.TreeType = "Join Tree"
    tree.ArcSampling = 0  # direct arcs (the default): one VTK_LINE per arc
else:
    tree = TTKMergeTree(Input=src)
    tree.ScalarArray = ["POINTS", array]
    tree.Type = "Join Tree"
SaveData(out_dir + "/nodes.vtu", proxy=OutputPort(tree, 0))
SaveData(out_dir + "/arcs.vtu", proxy=OutputPort(tree, 1))
SaveData(out_dir + "/segmentation" + ext, proxy=OutputPort(tree, 2))
diagram = TTKPersistenceDiagram(Input=src)
diagram.ScalarField = ["POINTS", array]
SaveData(out_dir + "/diagram.vtu", proxy=diagram)
print("TTK-DONE")
'''


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

    require_ttk()
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
        script = Path(tmp) / "run_ttk.py"
        script.write_text(_SCRIPT)
        try:
            out = subprocess.run([find_executable("pvpython"), str(script), str(src), tmp, repr(threshold),
                                  names.LOSS], capture_output=True, text=True, timeout=timeout,
                                 env=paraview_environment())
        except subprocess.TimeoutExpired:
            raise LossTopoError(f"TTK did not finish within {timeout} s", "use --backend builtin") from None
        if "TTK-DONE" not in out.stdout:
            last = (out.stderr.strip().splitlines() or ["no output"])[-1]
            raise LossTopoError(f"TTK failed in pvpython ({last})",
                                "use --backend builtin or check the TTK install")
        simplified = vtkio.scalar_field(vtkio.read(Path(tmp) / f"simplified{ext}"), names.LOSS, "TTK output")
        tree = join_tree_from_ttk(vtkio.read(Path(tmp) / "nodes.vtu"), vtkio.read(Path(tmp) / "arcs.vtu"),
                                  vtkio.read(Path(tmp) / f"segmentation{ext}"), simplified)
        pairs = pairs_from_ttk(vtkio.read(Path(tmp) / "diagram.vtu"), simplified)
    n_comp = int((~pairs.finite).sum()) or 1
    return TopologyResult(values=simplified, connectivity=connectivity, pairs=pairs, tree=tree,
                          n_vertices=connectivity.n_vertices, simplify_threshold=threshold,
                          n_components=n_comp)


