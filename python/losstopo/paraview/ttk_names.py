"""TTK's names per version: the one table of proxies, properties and output ports losstopo uses.

TTK renamed its merge-tree filter after 1.2.0 ("Merge and Contour Tree (FTM)", proxy
`TTKMergeandContourTreeFTM`, XML `ttkftmtree`, VTK class `ttkFTMTree`) into `TTKMergeTree` (XML
`ttkMergeTree`, class `ttkMergeTree`, with a Backend property: FTM or ExTreeM) and `TTKContourTree`;
that is what ParaView 5.12+ binaries and conda-forge's topologytoolkit 1.3 ship. Both names were read
from TTK's proxy XML (paraview/xmls/FTMTree.xml at tag 1.2.0, MergeTree.xml at 0a69faadd) and checked
with `ListProperties()` in pvpython against real builds of both (tests/paraview/test_ttk_live.py).

Everything that drives TTK reads this table: the TTK backend (paraview/ttk.py and its runner
scripts/ttk_topology.py), the pipelines and the `_ttk` states (scripts/pipelines.py), the plugin's
"swap for TTK" path and `losstopo doctor`. A TTK whose proxies match no entry is refused in one line
naming what is missing (`identify`). Leaf module: no ParaView import, so it runs anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import LossTopoError


@dataclass(frozen=True)
class TTKFilter:
    """One TTK filter: its names in pvpython, state files and TTK's VTK modules, and how we set it up.

    `settings` are pvpython property values (property name -> value); `vtk_settings` the same through
    the VTK class's setters (method -> arguments) for TTK's Python modules without ParaView. The scalar
    array is set through `scalar` (pvpython) and SetInputArrayToProcess (VTK).
    """

    proxy: str  # paraview.simple function, e.g. "TTKMergeTree"
    xml: str  # proxy XML name (what a .pvsm state names), e.g. "ttkMergeTree"
    vtk_class: str  # class in the topologytoolkit Python package, e.g. "ttkMergeTree"
    scalar: str  # property that names the input scalar array
    settings: tuple[tuple[str, object], ...] = ()
    vtk_settings: tuple[tuple[str, tuple], ...] = ()

    def required_properties(self) -> list[str]:
        """The properties this entry sets, which the installed proxy must offer."""
        return [self.scalar] + [name for name, _ in self.settings]


_ONE_THREAD = (("UseAllCores", 0), ("ThreadNumber", 1))  # deterministic ids (TTK's order depends on threads)
_ONE_THREAD_VTK = (("SetUseAllCores", (False,)), ("SetThreadNumber", (1,)))

_DIAGRAM = TTKFilter("TTKPersistenceDiagram", "ttkPersistenceDiagram", "ttkPersistenceDiagram", "ScalarField",
                     _ONE_THREAD, _ONE_THREAD_VTK)
_SIMPLIFICATION = TTKFilter(
    "TTKTopologicalSimplificationByPersistence", "ttkTopologicalSimplificationByPersistence",
    "ttkTopologicalSimplificationByPersistence", "InputArray",
    (("PairType", "Minimum-Saddle"), ("ThresholdIsAbsolute", 1)) + _ONE_THREAD,
    (("SetPairType", (1,)), ("SetThresholdIsAbsolute", (True,))) + _ONE_THREAD_VTK)
_LAYOUT = TTKFilter("TTKPlanarGraphLayout", "ttkPlanarGraphLayout", "ttkPlanarGraphLayout", "SequenceArray")
_JOIN_TREE_VTK = (("SetTreeType", (0,)), ("SetSuperArcSamplingLevel", (0,))) + _ONE_THREAD_VTK


@dataclass(frozen=True)
class TTKNames:
    """The names of one TTK generation. Merge-tree output ports: 0 nodes, 1 arcs, 2 segmentation."""

    version: str  # the TTK versions this entry covers, as people say them
    tag: str  # short name in file names (statefiles/<state>_ttk-<tag>.pvsm)
    merge_tree: TTKFilter
    persistence_diagram: TTKFilter = _DIAGRAM
    simplification: TTKFilter = _SIMPLIFICATION
    planar_layout: TTKFilter = _LAYOUT
    planar_layout_merge_tree: str = "InputisaMergeTree"  # pvpython name of "Input is a Merge Tree" (both)
    nodes_port: int = 0
    arcs_port: int = 1
    segmentation_port: int = 2

    @property
    def filters(self) -> tuple[TTKFilter, ...]:
        return (self.merge_tree, self.persistence_diagram, self.simplification)

    def missing(self, offered: dict[str, list[str]], vtk: bool = False) -> list[str]:
        """What of this entry `offered` lacks: proxy -> its properties (ListProperties() in pvpython), or
        with `vtk`, VTK class -> its methods (TTK's Python modules)."""
        out = []
        for f in self.filters:
            name = f.vtk_class if vtk else f.proxy
            wanted = [m for m, _ in f.vtk_settings] if vtk else f.required_properties()
            if name not in offered:
                out.append(name)
            else:
                out += [f"{name}.{p}" for p in wanted if p not in offered[name]]
        return out


TTK_1_2 = TTKNames(
    version="1.2.0 and earlier 1.x", tag="1.2",
    merge_tree=TTKFilter("TTKMergeandContourTreeFTM", "ttkftmtree", "ttkFTMTree", "ScalarField",
                         (("TreeType", "Join Tree"), ("ArcSampling", 0)) + _ONE_THREAD, _JOIN_TREE_VTK))
TTK_1_3 = TTKNames(
    version="after 1.2.0 (1.3, the 2024 development snapshots)", tag="1.3",
    merge_tree=TTKFilter("TTKMergeTree", "ttkMergeTree", "ttkMergeTree", "ScalarField",
                         (("Backend", "FTM (IEEE TPDS 2019)"), ("TreeType", "Join Tree"), ("ArcSampling", 0))
                         + _ONE_THREAD, (("SetBackend", (0,)),) + _JOIN_TREE_VTK))
KNOWN: tuple[TTKNames, ...] = (TTK_1_3, TTK_1_2)  # newest first: the first entry that matches wins


def identify(offered: dict[str, list[str]], vtk: bool = False, where: str = "the installed TTK") -> TTKNames:
    """The entry whose proxies and properties (or, with `vtk`, classes and setters) `offered` has; else a
    one-line error naming what is missing."""
    for names in KNOWN:
        if not names.missing(offered, vtk):
            return names
    closest = min(KNOWN, key=lambda n: len(n.missing(offered, vtk)))
    raise LossTopoError(
        f"{where} has TTK filters losstopo does not know (for TTK {closest.version} it lacks "
        f"{', '.join(closest.missing(offered, vtk)[:4])})",
        f"use --backend builtin, or a TTK losstopo knows: {'; '.join(n.version for n in KNOWN)}")


def by_key(key: str) -> TTKNames:
    """The entry named by its merge-tree proxy (how runner scripts receive the table's choice)."""
    return next(n for n in KNOWN if n.merge_tree.proxy == key)
