"""What every proxy of the LossTopo plugin shares: one-line error reporting, documentation from docstrings,
output-type handling, and the Representation / K properties of the source and the reader."""

from __future__ import annotations

import functools

from paraview.util.vtkAlgorithm import smdomain, smproperty
from vtkmodules.vtkCommonCore import vtkOutputWindow
from vtkmodules.vtkCommonDataModel import vtkDataObject, vtkDataSet, vtkImageData, vtkUnstructuredGrid
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline

from ...errors import LossTopoError
from ...settings import REPRESENTATIONS

IMAGE, GRAPH = 0, 1


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


def new_output(kind: int) -> vtkDataSet:
    return vtkImageData() if kind == IMAGE else vtkUnstructuredGrid()


def set_output_object(out_info_vec, port: int, obj: vtkDataObject) -> None:
    info = out_info_vec.GetInformationObject(port)
    current = info.Get(vtkDataObject.DATA_OBJECT())
    if current is None or current.GetClassName() != obj.GetClassName():
        info.Set(vtkDataObject.DATA_OBJECT(), obj)


def landscape_to_vtk(landscape, representation: int, k: int) -> vtkDataSet:
    """The landscape as an image (grids) or a kNN graph (any coordinates): losstopo's one path to VTK."""
    from losstopo.vtkio import landscape_to_vtk

    return landscape_to_vtk(landscape, REPRESENTATIONS[representation], k)[0]


def image_whole_extent(out_info_vec, dims: tuple[int, ...]) -> None:
    d = list(dims) + [1] * (3 - len(dims))
    ext = (0, d[0] - 1, 0, d[1] - 1, 0, d[2] - 1)
    out_info_vec.GetInformationObject(0).Set(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT(), ext, 6)


class RepresentationMixin:
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
        set_output_object(out_info_vec, 0, new_output(self._representation))
        return 1


