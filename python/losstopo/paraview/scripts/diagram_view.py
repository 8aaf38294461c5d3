"""pvpython only: the persistence-diagram view's coordinates (log10 axes, essential deaths clipped) and its
diagonal over equal ranges, used by pipelines.persistence_views."""

from __future__ import annotations

from paraview import simple as pv

DIAGRAM_VIEW = "DiagramViewPoint"


def diagram_view_expression() -> str:
    """PythonCalculator expression over a persistence diagram: each point's place in the diagram view, a
    point array set as coordinates at display time (a shift would cancel in float32 at 1e9). log10 of
    birth and death (when every value is positive, else as is), with the global maximum, where TTK lets every
    essential pair die (often a border exploding to 1e9), clipped to 15 % of the range above the next highest
    value (half a decade when there is none), so that the finite pairs are not squashed onto one point; birth
    and death share one transform, so the diagonal stays y = x."""
    v = "numpy.where(numpy.min(P[:, :2]) > 0, numpy.log10(numpy.maximum(P[:, :2], 1e-300)), P[:, :2])"
    clip = "numpy.minimum(m, t + (0.15 * (t - lo) if t > lo else 0.5))"
    body = f"numpy.stack([numpy.minimum(v[:, 0], {clip}), numpy.minimum(v[:, 1], {clip}), 0 * v[:, 0]], axis=1)"
    return (f"(lambda P: (lambda v: (lambda m, lo: (lambda t: {body})(numpy.max(numpy.where(v < m, v, lo))))"
            f"(numpy.max(v), numpy.min(v)))({v}))(numpy.asarray(inputs[0].Points))")


def in_view_coordinates(source, label: str):
    """`source` (a part of a diagram carrying DIAGRAM_VIEW) moved to the diagram view's coordinates."""
    return pv.Calculator(registrationName=label, Input=source, CoordinateResults=1, ResultArrayName="ViewPosition",
                         Function=DIAGRAM_VIEW)


_DIAGONAL_SCRIPT = """
from vtkmodules.vtkFiltersSources import vtkLineSource
b = self.GetInput().GetBounds()
lo = b[0] if b[0] < b[2] else b[2]  # not min/max: the filter's namespace has VTK's array versions
hi = b[1] if b[1] > b[3] else b[3]
hi = hi if hi > lo else lo + 1.0
line = vtkLineSource()
line.SetPoint1(lo, lo, 0.0)
line.SetPoint2(hi, hi, 0.0)
line.Update()
self.GetOutput().ShallowCopy(line.GetOutput())
"""


def square_diagonal(diagram_view):
    """The diagonal y = x over the diagram's whole range in both axes: the view then spans equal ranges
    (a diagram with one pair would otherwise have no width and collapse to a vertical line)."""
    return pv.ProgrammableFilter(registrationName="DiagramDiagonal", Input=diagram_view,
                                 OutputDataSetType="vtkPolyData", Script=_DIAGONAL_SCRIPT)
