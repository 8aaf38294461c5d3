"""LossTopo: loss landscapes of PyTorch models and their topology, in ParaView.

A thin adapter over the `losstopo` Python package (stages 1-5): every RequestData reads its
properties, calls one losstopo function and copies the result into the output. Load it with
Tools > Manage Plugins > Load New, `LoadPlugin("plugin/LossTopo.py", ns=globals())` in pvpython, or
PV_PLUGIN_PATH=plugin/ (what `losstopo paraview` and `losstopo render` set up).

Proxies (menu labels):
  * Loss Landscape (source): trains nothing, evaluates a checkpoint's loss on a 1-3-D grid of
    directions; output vtkImageData (image) or vtkUnstructuredGrid (kNN graph).
  * Loss Landscape Reader: landscape folders written by `losstopo landscape` (landscape.npz/meta.json).
  * Landscape Merge Tree, Landscape Persistence Diagram, Landscape Topological Simplification,
    Landscape Metrics, Landscape Merge Tree Layout (filters): the built-in exact backend with
    TTK's output layout and TTK's property names, so a pipeline or state file can swap each of them
    for TTK's filter (ttkftmtree, ttkPersistenceDiagram, ttkTopologicalSimplificationByPersistence,
    ttkPlanarGraphLayout) and keep the same downstream views.

Errors (missing checkpoint, wrong array, ...) appear as one-line ParaView error messages; the
filter's output stays empty and ParaView keeps running.

Debian's ParaView 5.11 on Python 3.11 needs `inspect.getargspec` before it can load any Python
plugin: see docs/paraview.md (losstopo's launchers apply the fix for you).
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from paraview.util.vtkAlgorithm import VTKPythonAlgorithmBase, smdomain, smhint, smproperty, smproxy
from vtkmodules.vtkCommonCore import vtkOutputWindow
from vtkmodules.vtkCommonDataModel import vtkDataObject, vtkDataSet, vtkImageData, vtkTable, \
    vtkUnstructuredGrid
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline


def _ensure_losstopo() -> None:
    """Make `losstopo` importable: from PYTHONPATH if set up, else from this repository's python/ plus
    the folders in LOSSTOPO_SITE_DIRS, or the repository's .venv when it matches this Python."""
    try:
        import losstopo  # noqa: F401
    except ImportError:
        import site

        repo = Path(__file__).resolve().parent.parent
        if (repo / "python" / "losstopo").is_dir():
            sys.path.insert(0, str(repo / "python"))
        venv = repo / ".venv" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
        dirs = list(filter(None, os.environ.get("LOSSTOPO_SITE_DIRS", "").split(os.pathsep)))
        for d in dirs or ([str(venv)] if venv.is_dir() else []):
            site.addsitedir(d)


_ensure_losstopo()

from losstopo import names  # noqa: E402
from losstopo.errors import LossTopoError  # noqa: E402

IMAGE, GRAPH = 0, 1
DIRECTIONS = ("random", "filter", "hessian")


def report_error(algorithm: object, message: str) -> None:
    """A ParaView error message (like vtkErrorMacro): the Output Messages window, or stderr in pvpython."""
    label = type(algorithm).__name__
    vtkOutputWindow.GetInstance().DisplayErrorText(f"ERROR: In {label}: {message}\n")


def guarded(request):
    """Turn exceptions in a pipeline request into one error message and a failed request (return 0)."""

    @functools.wraps(request)
    def wrapper(self, *args):
        try:
            return request(self, *args)
        except LossTopoError as e:
            report_error(self, str(e))
        except MemoryError:
            report_error(self, "out of memory; lower the resolution or the number of samples")
        except Exception as e:  # a bug or an unexpected input: still a message, never a crash
            report_error(self, f"{type(e).__name__}: {e}; please report this with the input that caused it")
        return 0

    return wrapper


def documented(cls):
    """Give a proxy its class docstring as ParaView documentation (Properties panel, `?` button)."""
    import html

    text = " ".join((cls.__doc__ or "").split())
    short = text.split(". ")[0].rstrip(".") + "."
    return smproperty.xml(f'<Documentation long_help="{html.escape(short)}" short_help="{html.escape(short)}">'
                          f"{html.escape(text)}</Documentation>")(cls)


def _new_output(kind: int) -> vtkDataSet:
    return vtkImageData() if kind == IMAGE else vtkUnstructuredGrid()


def _set_output_object(out_info_vec, port: int, obj: vtkDataObject) -> None:
    info = out_info_vec.GetInformationObject(port)
    current = info.Get(vtkDataObject.DATA_OBJECT())
    if current is None or current.GetClassName() != obj.GetClassName():
        info.Set(vtkDataObject.DATA_OBJECT(), obj)


def _landscape_to_vtk(landscape, representation: int, k: int) -> vtkDataSet:
    """The landscape as an image (grids) or a kNN graph (any coordinates), via losstopo.representation."""
    if representation == IMAGE:
        if landscape.resolution is None:
            raise LossTopoError("this landscape has scattered coordinates and cannot be an image",
                                "set Representation to kNN graph")
        return landscape.to_vtk_image()
    from losstopo.representation import to_vtk_graph

    return to_vtk_graph(landscape, k)[0]


def _image_whole_extent(out_info_vec, dims: tuple[int, ...]) -> None:
    d = list(dims) + [1] * (3 - len(dims))
    ext = (0, d[0] - 1, 0, d[1] - 1, 0, d[2] - 1)
    out_info_vec.GetInformationObject(0).Set(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT(), ext, 6)


class _RepresentationMixin:
    """Representation (image / kNN graph) and k properties shared by the source and the reader."""

    _representation = IMAGE
    _k = 8

    @smproperty.intvector(name="Representation", default_values=IMAGE)
    @smdomain.xml("""<EnumerationDomain name="enum">
        <Entry value="0" text="Image (regular grid)"/>
        <Entry value="1" text="kNN graph"/>
      </EnumerationDomain>
      <Documentation>How the landscape's points are connected for topology. Image: the grid's
      cells (vtkImageData, triangulated like TTK). kNN graph: each point joined to its k nearest
      neighbours in direction space (vtkUnstructuredGrid of VTK_LINE cells); works for scattered
      samples and any dimension. Changing it does not recompute the losses.</Documentation>""")
    def SetRepresentation(self, value):
        if value != self._representation:
            self._representation = int(value)
            self.Modified()

    @smproperty.intvector(name="K", label="K", default_values=8)
    @smdomain.xml("""<IntRangeDomain name="range" min="1" max="64"/>
      <Hints><PropertyWidgetDecorator type="GenericDecorator" mode="visibility"
        property="Representation" value="1"/></Hints>
      <Documentation>Number of nearest neighbours per point in the kNN graph (symmetrised).
      </Documentation>""")
    def SetK(self, value):
        if value != self._k:
            self._k = int(value)
            self.Modified()

    def RequestDataObject(self, request, in_info, out_info_vec):
        _set_output_object(out_info_vec, 0, _new_output(self._representation))
        return 1


# ------------------------------------------------------------------------------------------------
# Sources
# ------------------------------------------------------------------------------------------------
@smproxy.source(name="LossLandscapeSource", label="Loss Landscape")
@smhint.xml('<ShowInMenu category="Loss Topology"/>')
@documented
class LossLandscapeSource(_RepresentationMixin, VTKPythonAlgorithmBase):
    """Loss and accuracy of a trained PyTorch checkpoint on a grid in a 1-3-D subspace of its weights."""

    # ParaView collects properties from the class's own namespace only
    SetRepresentation = _RepresentationMixin.SetRepresentation
    SetK = _RepresentationMixin.SetK

    def __init__(self):
        VTKPythonAlgorithmBase.__init__(self, nInputPorts=0, nOutputPorts=1, outputType="vtkDataSet")
        self._checkpoint = ""
        self._directions = 1
        self._seed = 0
        self._span = 1.0
        self._resolution = 41
        self._dims = 2
        self._samples = 0
        self._cache_dir = ""
        self._landscape = None
        self._landscape_key = None

    def _set(self, attr, value):
        if getattr(self, attr) != value:
            setattr(self, attr, value)
            self.Modified()

    @smproperty.stringvector(name="Checkpoint", default_values="")
    @smdomain.filelist()
    @smhint.filechooser(extensions="pt pth", file_description="PyTorch checkpoints")
    @smdomain.xml("""<Documentation>Checkpoint written by `losstopo train` (model.pt): the trained
      weights and what is needed to rebuild the model and its evaluation data.</Documentation>""")
    def SetCheckpoint(self, path):
        self._set("_checkpoint", path or "")

    @smproperty.intvector(name="Directions", default_values=1)
    @smdomain.xml("""<EnumerationDomain name="enum">
        <Entry value="0" text="Random (layer-normalised)"/>
        <Entry value="1" text="Filter-normalised random"/>
        <Entry value="2" text="Hessian (top eigenvectors)"/>
      </EnumerationDomain>
      <Documentation>The subspace the landscape spans. Random: Gaussian directions rescaled layer by
      layer to the weights' norms. Filter-normalised: random Gaussian directions
      rescaled filter by filter to the weights' norms (Li et al., 'Visualizing the Loss Landscape of
      Neural Nets', NeurIPS 2018). Hessian: the eigenvectors of the largest Hessian eigenvalues
      (PyHessian; Yao et al., 'PyHessian: Neural Networks Through the Lens of the Hessian', 2020).
      </Documentation>""")
    def SetDirections(self, value):
        self._set("_directions", int(value))

    @smproperty.intvector(name="DirectionSeed", label="Direction Seed", default_values=0)
    @smdomain.xml("""<IntRangeDomain name="range" min="0" max="1000000"/>
      <Documentation>Seed of the random directions (and of Hessian power iteration).</Documentation>""")
    def SetDirectionSeed(self, value):
        self._set("_seed", int(value))

    @smproperty.doublevector(name="Span", default_values=1.0)
    @smdomain.xml("""<DoubleRangeDomain name="range" min="1e-6" max="100"/>
      <Documentation>Half-width of the grid: each coordinate runs over [-Span, Span] in units of the
      (normalised) directions.</Documentation>""")
    def SetSpan(self, value):
        self._set("_span", float(value))

    @smproperty.intvector(name="Resolution", default_values=41)
    @smdomain.xml("""<IntRangeDomain name="range" min="2" max="1001"/>
      <Documentation>Points per axis of the grid (the loss is evaluated Resolution^Dimensions times).
      </Documentation>""")
    def SetResolution(self, value):
        self._set("_resolution", int(value))

    @smproperty.intvector(name="Dimensions", default_values=2)
    @smdomain.xml("""<EnumerationDomain name="enum">
        <Entry value="1" text="1 (a line)"/>
        <Entry value="2" text="2 (a plane)"/>
        <Entry value="3" text="3 (a volume)"/>
      </EnumerationDomain>
      <Documentation>Number of directions, i.e. the dimension of the landscape.</Documentation>""")
    def SetDimensions(self, value):
        self._set("_dims", int(value))

    @smproperty.intvector(name="Samples", default_values=0)
    @smdomain.xml("""<IntRangeDomain name="range" min="0" max="100000"/>
      <Documentation>Number of data samples the loss is averaged over at each point (0: the
      checkpoint's default evaluation set).</Documentation>""")
    def SetSamples(self, value):
        self._set("_samples", int(value))

    @smproperty.stringvector(name="CacheDirectory", label="Cache Directory", default_values="",
                             panel_visibility="advanced")
    @smdomain.xml("""<Documentation>Folder the landscape is written to (landscape.npz, .vti, meta.json).
      Empty: losstopo's cache ($LOSSTOPO_CACHE or ~/.cache/losstopo), keyed by the checkpoint and every
      setting, so asking again for the same settings (after a restart too) returns at once, and an
      interrupted computation resumes from its finished chunks.</Documentation>""")
    def SetCacheDirectory(self, path):
        self._set("_cache_dir", path or "")

    def settings(self) -> dict:
        """The compute_landscape keyword arguments these properties stand for."""
        return dict(directions=DIRECTIONS[self._directions], resolution=self._resolution, span=self._span,
                    dims=self._dims, samples=self._samples or None, seed=self._seed)

    def cache_dir(self) -> Path | None:
        """None: losstopo's cache ($LOSSTOPO_CACHE or ~/.cache/losstopo), keyed by checkpoint and settings."""
        return Path(self._cache_dir) if self._cache_dir else None

    def RequestInformation(self, request, in_info, out_info_vec):
        if self._representation == IMAGE:
            _image_whole_extent(out_info_vec, (self._resolution,) * self._dims)
        return 1

    @guarded
    def RequestData(self, request, in_info, out_info_vec):
        if not self._checkpoint:
            raise LossTopoError("no checkpoint chosen",
                                "set Checkpoint to a model.pt written by `losstopo train`")
        ckpt = Path(self._checkpoint)
        if not ckpt.is_file():
            raise LossTopoError(f"checkpoint {ckpt} does not exist", "choose an existing model.pt")
        key = (str(ckpt.resolve()), ckpt.stat().st_mtime_ns, tuple(sorted(self.settings().items())),
               str(self.cache_dir()))
        if key != self._landscape_key:  # only the representation changed: reuse the losses
            from losstopo.landscape import compute_landscape

            self._landscape = compute_landscape(
                str(ckpt), **self.settings(), out_dir=self.cache_dir(), resume=True,
                progress=lambda f: self.UpdateProgress(float(f)), show_progress=False)
            self._landscape_key = key
        data = _landscape_to_vtk(self._landscape, self._representation, self._k)
        vtkDataSet.GetData(out_info_vec, 0).ShallowCopy(data)
        return 1


@smproxy.reader(name="LossLandscapeReader", label="Loss Landscape Reader",
                file_description="losstopo landscape", filename_patterns="landscape.npz meta.json")
@smhint.xml('<ShowInMenu category="Loss Topology"/>')
@documented
class LossLandscapeReader(_RepresentationMixin, VTKPythonAlgorithmBase):
    """A landscape written by `losstopo landscape --out DIR`: DIR, DIR/landscape.npz or DIR/meta.json;
    a .vti/.vtu file (such as a reference landscape) is read as it is."""

    SetRepresentation = _RepresentationMixin.SetRepresentation
    SetK = _RepresentationMixin.SetK

    def __init__(self):
        VTKPythonAlgorithmBase.__init__(self, nInputPorts=0, nOutputPorts=1, outputType="vtkDataSet")
        self._filename = ""

    @smproperty.stringvector(name="FileName", default_values="")
    @smdomain.filelist()
    @smhint.filechooser(extensions="npz json",
                        file_description="losstopo landscape (landscape.npz, meta.json)")
    @smdomain.xml("""<Documentation>The landscape folder written by `losstopo landscape --out DIR`, its
      landscape.npz or its meta.json; a .vti/.vtu file is read as it is.</Documentation>""")
    def SetFileName(self, name):
        if name != self._filename:
            self._filename = name or ""
            self.Modified()

    def _path(self) -> Path:
        if not self._filename:
            raise LossTopoError("no landscape file chosen",
                                "set FileName to a landscape folder or landscape.npz")
        p = Path(self._filename)
        if p.name == names.META_JSON:
            p = p.parent
        if not p.exists():
            raise LossTopoError(f"landscape {p} does not exist",
                                "run `losstopo landscape ... --out DIR` first")
        return p

    def _is_vtk_file(self, p: Path) -> bool:
        return p.is_file() and p.suffix.lower() in (".vti", ".vtu")

    def RequestDataObject(self, request, in_info, out_info_vec):
        p = Path(self._filename) if self._filename else None
        if p is not None and p.suffix.lower() == ".vtu":
            _set_output_object(out_info_vec, 0, vtkUnstructuredGrid())
            return 1
        if p is not None and p.suffix.lower() == ".vti":
            _set_output_object(out_info_vec, 0, vtkImageData())
            return 1
        return super().RequestDataObject(request, in_info, out_info_vec)

    @guarded
    def RequestInformation(self, request, in_info, out_info_vec):
        p = Path(self._filename) if self._filename else None
        if p is None or not p.exists():
            return 1  # reported by RequestData
        if self._is_vtk_file(p):
            if p.suffix.lower() == ".vti":
                from losstopo import vtkio

                _image_whole_extent(out_info_vec, vtkio.read(p).GetDimensions())
            return 1
        if self._representation == IMAGE:
            from losstopo.landscape_files import load_landscape

            ls = load_landscape(self._path())
            if ls.resolution is not None:
                _image_whole_extent(out_info_vec, ls.resolution)
        return 1

    @guarded
    def RequestData(self, request, in_info, out_info_vec):
        p = self._path()
        if self._is_vtk_file(p):
            from losstopo import vtkio

            data = vtkio.read(p)
        else:
            from losstopo.landscape_files import load_landscape

            data = _landscape_to_vtk(load_landscape(p), self._representation, self._k)
        vtkDataSet.GetData(out_info_vec, 0).ShallowCopy(data)
        return 1


# ------------------------------------------------------------------------------------------------
# Filters (built-in backend, TTK's layout and property names)
# ------------------------------------------------------------------------------------------------
SCALAR_FIELD_XML = """
<StringVectorProperty name="{name}" label="{label}" command="SetInputArrayToProcess"
    element_types="0 0 0 0 2" number_of_elements="5" default_values="0">
  <ArrayListDomain name="array_list" attribute_type="Scalars">
    <RequiredProperties><Property name="Input" function="Input"/></RequiredProperties>
  </ArrayListDomain>
  <Documentation>The point scalar field to analyse (default: the active scalars, Loss for
  landscapes). Non-finite values must already be replaced (landscapes store the finite version as
  Loss and the raw values as RawLoss).</Documentation>
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
        from losstopo.paraview_filters import dataset_topology

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
            _set_output_object(out_info_vec, 2, data.NewInstance())
        return 1

    @guarded
    def RequestData(self, request, in_info, out_info_vec):
        from losstopo.topology.vtkoutput import merge_tree_vtk

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
        from losstopo.topology.vtkoutput import persistence_diagram_vtk

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
            _set_output_object(out_info_vec, 0, data.NewInstance())
        return 1

    @guarded
    def RequestData(self, request, in_info, out_info_vec):
        from losstopo.vtkio import to_vtk_array

        data, result = self._topology(in_info, simplify=self._threshold, relative=not self._absolute)
        out = vtkDataSet.GetData(out_info_vec, 0)
        out.ShallowCopy(data)
        name = self._array_name()
        out.GetPointData().RemoveArray(name)
        out.GetPointData().AddArray(to_vtk_array(name, result.values))
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
        from losstopo.topology.vtkoutput import metrics_table

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
        from losstopo.paraview_filters import merge_tree_layout_vtk

        nodes = vtkUnstructuredGrid.GetData(in_info[0], 0)
        arcs = vtkUnstructuredGrid.GetData(in_info[1], 0)
        if nodes is None or arcs is None:
            raise LossTopoError("the layout needs both merge-tree outputs",
                                "connect Skeleton Nodes to Input and Skeleton Arcs to Arcs")
        layout = merge_tree_layout_vtk(nodes, arcs, self._width)
        vtkUnstructuredGrid.GetData(out_info_vec, 0).ShallowCopy(layout)
        return 1
