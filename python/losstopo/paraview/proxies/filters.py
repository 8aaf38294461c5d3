"""The LossTopo plugin's filters: the built-in exact backend with TTK's output layout and property names
(merge tree, persistence diagram, simplification, metrics table, planar merge-tree layout)."""

from __future__ import annotations

from paraview.util.vtkAlgorithm import VTKPythonAlgorithmBase, smdomain, smhint, smproperty, smproxy
from vtkmodules.vtkCommonDataModel import vtkDataObject, vtkDataSet, vtkTable, vtkUnstructuredGrid

from ... import names
from ...errors import LossTopoError
from .base import documented, guarded, set_output_object


SCALAR_FIELD_XML = """
<StringVectorProperty name="{name}" label="{label}" command="SetInputArrayToProcess"
    element_types="0 0 0 0 2" number_of_elements="5" default_values="0">
  <ArrayListDomain name="array_list" attribute_type="Scalars">
    <RequiredProperties><Property name="Input" function="Input"/></RequiredProperties>
  </ArrayListDomain>
  <Documentation>The point scalar field to analyse (default: the active scalars, Loss for
  landscapes). Points whose raw loss is inf/NaN (RawLoss, ValidMask of a landscape) are left out:
  the topology is that of the finite points.</Documentation>
</StringVectorProperty>"""


class _TopologyFilter(VTKPythonAlgorithmBase):
    """Shared input handling: the selected scalar field and the dataset's connectivity."""

    def __init__(self, nOutputPorts=1, outputType="vtkUnstructuredGrid"):
        VTKPythonAlgorithmBase.__init__(self, nInputPorts=1, inputType="vtkDataSet",
                                        nOutputPorts=nOutputPorts, outputType=outputType)

    def _array_name(self) -> str:
        info = self.GetInputArrayInformation(0)
        name = info.Get(vtkDataObject.FIELD_NAME()) if info is not None else None
        return name or names.LOSS

    def _topology(self, in_info, simplify: float = 0.0, relative: bool = False):
        """(input dataset, TopologyResult) for the chosen array, exactly as `losstopo analyze` computes it."""
        from losstopo.paraview.filters import dataset_topology

        data = vtkDataSet.GetData(in_info[0], 0)
        result = dataset_topology(data, self._array_name(), simplify=simplify, simplify_relative=relative,
                                  source="the filter's input")
        return data, result


def _input_xml(datatypes=("vtkImageData", "vtkUnstructuredGrid")) -> str:
    types = "".join(f'<DataType value="{t}"/>' for t in datatypes)
    return f"""<InputProperty name="Input" command="SetInputConnection">
      <ProxyGroupDomain name="groups"><Group name="sources"/><Group name="filters"/></ProxyGroupDomain>
      <DataTypeDomain name="input_type">{types}</DataTypeDomain>
      <InputArrayDomain name="input_scalars" attribute_type="point" number_of_components="1"/>
      <Documentation>A landscape: vtkImageData (grid) or vtkUnstructuredGrid whose VTK_LINE cells are
      the edges of a graph (kNN graph).</Documentation>
    </InputProperty>"""


@smproxy.filter(name="LandscapeMergeTree", label="Landscape Merge Tree")
@smhint.xml('<ShowInMenu category="Loss Topology"/>')
@smproperty.xml(SCALAR_FIELD_XML.format(name="Scalar Field", label="Scalar Field"))
@smproperty.xml(_input_xml())
@smproperty.xml("""<OutputPort name="Skeleton Nodes" index="0" id="port0"/>""")
@smproperty.xml("""<OutputPort name="Skeleton Arcs" index="1" id="port1"/>""")
@smproperty.xml("""<OutputPort name="Segmentation" index="2" id="port2"/>""")
@documented
class LandscapeMergeTree(_TopologyFilter):
    """Join tree (merge tree of sublevel sets) of a scalar field: nodes, arcs and segmentation, with the
    arrays and ports of TTK's "Merge and Contour Tree (FTM)" with Tree Type = Join Tree (Gueunet et al.,
    'Task-based Augmented Merge Trees with Fibonacci Heaps', IEEE LDAV 2017)."""

    def __init__(self):
        super().__init__(nOutputPorts=3)


    @smproperty.intvector(name="Tree Type", default_values=0)
    @smdomain.xml("""<EnumerationDomain name="enum"><Entry value="0" text="Join Tree"/></EnumerationDomain>
      <Documentation>Only the join tree (minima merging as the loss rises) is computed; the property
      exists so that states can switch to TTK's filter unchanged.</Documentation>""")
    def SetTreeType(self, value):
        pass

    def FillOutputPortInformation(self, port, info):
        info.Set(vtkDataObject.DATA_TYPE_NAME(), "vtkUnstructuredGrid" if port < 2 else "vtkDataSet")
        return 1

    def RequestDataObject(self, request, in_info, out_info_vec):
        data = vtkDataSet.GetData(in_info[0], 0)
        if data is not None:
            set_output_object(out_info_vec, 2, data.NewInstance())
        return 1

    @guarded
    def RequestData(self, request, in_info, out_info_vec):
        from losstopo.vtkio import merge_tree_vtk

        data, result = self._topology(in_info)
        nodes, arcs, segmentation = merge_tree_vtk(result, data)
        for port, out in enumerate((nodes, arcs, segmentation)):
            vtkDataSet.GetData(out_info_vec, port).ShallowCopy(out)
        return 1


@smproxy.filter(name="LandscapePersistenceDiagram", label="Landscape Persistence Diagram")
@smhint.xml('<ShowInMenu category="Loss Topology"/>')
@smproperty.xml(SCALAR_FIELD_XML.format(name="ScalarFieldNew", label="Scalar Field"))
@smproperty.xml(_input_xml())
@documented
class LandscapePersistenceDiagram(_TopologyFilter):
    """0-dimensional (minimum-saddle) persistence diagram in TTK PersistenceDiagram's layout: two points per
    pair, (birth, birth) and (birth, death), joined by a cell with Persistence and PairIdentifier, and the
    diagonal as the cell with PairIdentifier -1 (Edelsbrunner, Letscher, Zomorodian, 'Topological
    Persistence and Simplification', 2002; exact union-find over TTK's triangulation)."""


    @guarded
    def RequestData(self, request, in_info, out_info_vec):
        from losstopo.vtkio import persistence_diagram_vtk

        data, result = self._topology(in_info)
        vtkUnstructuredGrid.GetData(out_info_vec, 0).ShallowCopy(persistence_diagram_vtk(result, data))
        return 1


@smproxy.filter(name="LandscapeTopologicalSimplification", label="Landscape Topological Simplification")
@smhint.xml('<ShowInMenu category="Loss Topology"/>')
@smproperty.xml(SCALAR_FIELD_XML.format(name="InputArray", label="Input Array"))
@smproperty.xml(_input_xml())
@documented
class LandscapeTopologicalSimplification(_TopologyFilter):
    """The input with its scalar field simplified so that no minimum-saddle pair of persistence below the
    threshold remains (TTK's TopologicalSimplificationByPersistence with Pair Type Minimum-Saddle;
    Tierny and Pascucci, 'Generalized Topological Simplification of Scalar Fields on Surfaces', 2012).
    Downstream merge trees and diagrams then show only the persistent basins."""

    def __init__(self):
        super().__init__(outputType="vtkDataSet")
        self._threshold = 0.0
        self._absolute = 1


    @smproperty.doublevector(name="PersistenceThreshold", label="Persistence Threshold", default_values=0.0)
    @smdomain.xml("""<DoubleRangeDomain name="range" min="0"/>
      <Documentation>Pairs with persistence (death - birth) at or below this are removed; absolute loss
      units, or a fraction of the scalar range when Threshold Is Absolute is off.</Documentation>""")
    def SetPersistenceThreshold(self, value):
        if value != self._threshold:
            self._threshold = float(value)
            self.Modified()

    @smproperty.intvector(name="ThresholdIsAbsolute", label="Threshold Is Absolute", default_values=1)
    @smdomain.xml("""<BooleanDomain name="bool"/>
      <Documentation>On: the threshold is in loss units. Off: a fraction (0-1) of the loss range.
      </Documentation>""")
    def SetThresholdIsAbsolute(self, value):
        if value != self._absolute:
            self._absolute = int(value)
            self.Modified()

    @smproperty.intvector(name="PairType", label="Pair Type", default_values=1)
    @smdomain.xml("""<EnumerationDomain name="enum"><Entry value="1" text="Minimum-Saddle"/>
      </EnumerationDomain><Documentation>Only minimum-saddle pairs are simplified (basins of the
      loss).</Documentation>""")
    def SetPairType(self, value):
        pass

    def RequestDataObject(self, request, in_info, out_info_vec):
        data = vtkDataSet.GetData(in_info[0], 0)
        if data is not None:
            set_output_object(out_info_vec, 0, data.NewInstance())
        return 1

    @guarded
    def RequestData(self, request, in_info, out_info_vec):
        from losstopo.finite import finite_version
        from losstopo.paraview.filters import vertex_ranks
        from losstopo.vtkio import to_vtk_array

        data, result = self._topology(in_info, simplify=self._threshold, relative=not self._absolute)
        out = vtkDataSet.GetData(out_info_vec, 0)
        out.ShallowCopy(data)
        name = self._array_name()
        out.GetPointData().RemoveArray(name)
        out.GetPointData().AddArray(to_vtk_array(name, finite_version(result.values)[0]))  # finite for display
        if name == names.LOSS and out.GetPointData().GetArray(names.RAW_LOSS) is not None:
            # downstream filters read RawLoss (the raw values): it must be the simplified field too
            out.GetPointData().RemoveArray(names.RAW_LOSS)
            out.GetPointData().AddArray(to_vtk_array(names.RAW_LOSS, result.values))
        # TTK's order array: the flattened basins are ties that only this order tells apart; downstream
        # filters (ours and TTK's) sweep by it, so they find the minima TTK's chain finds
        out.GetPointData().AddArray(to_vtk_array(names.order_array(name), vertex_ranks(result)))
        out.GetPointData().SetActiveScalars(name)
        return 1


@smproxy.filter(name="LandscapeMetrics", label="Landscape Metrics")
@smhint.xml('<ShowInMenu category="Loss Topology"/>')
@smproperty.xml(SCALAR_FIELD_XML.format(name="Scalar Field", label="Scalar Field"))
@smproperty.xml(_input_xml())
@documented
class LandscapeMetrics(_TopologyFilter):
    """The stage-5 numbers of a landscape in one table row: number of minima and saddles, persistence
    statistics and the other values `losstopo analyze` writes to topology.json."""

    def __init__(self):
        super().__init__(outputType="vtkTable")
        self._threshold = 0.0


    @smproperty.doublevector(name="PersistenceThreshold", label="Persistence Threshold", default_values=0.0)
    @smdomain.xml("""<DoubleRangeDomain name="range" min="0"/>
      <Documentation>Simplify pairs of persistence at or below this (loss units) before counting.
      </Documentation>""")
    def SetPersistenceThreshold(self, value):
        if value != self._threshold:
            self._threshold = float(value)
            self.Modified()

    @guarded
    def RequestData(self, request, in_info, out_info_vec):
        from losstopo.metrics import topology_metrics
        from losstopo.vtkio import metrics_table

        _, result = self._topology(in_info, simplify=self._threshold)
        vtkTable.GetData(out_info_vec, 0).ShallowCopy(metrics_table(topology_metrics(result)))
        return 1


@smproxy.filter(name="LandscapeMergeTreeLayout", label="Landscape Merge Tree Layout")
@smhint.xml('<ShowInMenu category="Loss Topology"/>')
@smproperty.xml("""<InputProperty name="Arcs" command="SetInputConnection" port_index="1">
      <ProxyGroupDomain name="groups"><Group name="sources"/><Group name="filters"/></ProxyGroupDomain>
      <DataTypeDomain name="input_type"><DataType value="vtkUnstructuredGrid"/></DataTypeDomain>
      <Documentation>The Skeleton Arcs output (port 1) of Landscape Merge Tree or TTK's FTM: one cell
      per arc with upNodeId and downNodeId.</Documentation>
    </InputProperty>""")
@smproperty.xml("""<InputProperty name="Input" command="SetInputConnection" port_index="0">
      <ProxyGroupDomain name="groups"><Group name="sources"/><Group name="filters"/></ProxyGroupDomain>
      <DataTypeDomain name="input_type"><DataType value="vtkUnstructuredGrid"/></DataTypeDomain>
      <Documentation>The Skeleton Nodes output (port 0) of Landscape Merge Tree or TTK's FTM: one
      point per node with NodeId, Scalar and CriticalType.</Documentation>
    </InputProperty>""")
@documented
class LandscapeMergeTreeLayout(VTKPythonAlgorithmBase):
    """The merge tree drawn as a planar tree: y = the loss at each node, x from the branch decomposition
    (the most persistent branch is a vertical line, lesser branches hang beside it without crossings).
    The built-in counterpart of TTK's PlanarGraphLayout with 'Input is a Merge Tree' (Pont et al.,
    'Wasserstein Distances, Geodesics and Barycenters of Merge Trees', IEEE VIS 2021)."""

    def __init__(self):
        VTKPythonAlgorithmBase.__init__(self, nInputPorts=2, inputType="vtkUnstructuredGrid",
                                        nOutputPorts=1, outputType="vtkUnstructuredGrid")
        self._width = 1.0

    @smproperty.doublevector(name="Width", default_values=1.0)
    @smdomain.xml("""<DoubleRangeDomain name="range" min="0"/>
      <Documentation>Width of the layout as a fraction of the loss range (1: square).</Documentation>""")
    def SetWidth(self, value):
        if value != self._width:
            self._width = float(value)
            self.Modified()

    @guarded
    def RequestData(self, request, in_info, out_info_vec):
        from losstopo.paraview.filters import merge_tree_layout_vtk

        nodes = vtkUnstructuredGrid.GetData(in_info[0], 0)
        arcs = vtkUnstructuredGrid.GetData(in_info[1], 0)
        if nodes is None or arcs is None:
            raise LossTopoError("the layout needs both merge-tree outputs",
                                "connect Skeleton Nodes to Input and Skeleton Arcs to Arcs")
        layout = merge_tree_layout_vtk(nodes, arcs, self._width)
        vtkUnstructuredGrid.GetData(out_info_vec, 0).ShallowCopy(layout)
        return 1

