"""numpy arrays <-> VTK datasets (vtkImageData, graph vtkUnstructuredGrid, vtkTable) and back.

VTK comes from ParaView's Python modules (Debian python3-paraview); this package is the only one
outside losstopo.paraview that imports it. Point order is VTK's: x fastest, then y, then z (point id =
i + nx*j + nx*ny*k), which is also the order of `coords` and `loss` in a landscape, so vertex ids mean
the same everywhere.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import LossTopoError
from ..representation import points3

try:
    from vtkmodules.util import numpy_support as nps
    from vtkmodules.vtkCommonCore import vtkPoints, vtkStringArray
    from vtkmodules.vtkCommonDataModel import (VTK_LINE, VTK_VERTEX, vtkCellArray, vtkImageData, vtkTable,
                                               vtkUnstructuredGrid)
except ImportError:  # a one-line error at the edge instead of a traceback
    raise LossTopoError("VTK is not importable",
                        "install ParaView's Python modules (Debian: apt-get install python3-paraview, "
                        "or `make setup`)") from None

__all__ = ["VTK_LINE", "VTK_VERTEX"]


def to_vtk_array(name: str, values: np.ndarray) -> Any:
    """numpy (P,) or (P, C) -> vtkDataArray named `name` (deep copy)."""
    arr = np.ascontiguousarray(values)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    out = nps.numpy_to_vtk(arr, deep=1)
    out.SetName(name)
    return out


def _add_arrays(data: Any, point_arrays: Mapping[str, np.ndarray] | None,
                cell_arrays: Mapping[str, np.ndarray] | None) -> None:
    for name, values in (point_arrays or {}).items():
        data.GetPointData().AddArray(to_vtk_array(name, values))
    for name, values in (cell_arrays or {}).items():
        data.GetCellData().AddArray(to_vtk_array(name, values))


def make_image(dims: Sequence[int], origin: Sequence[float], spacing: Sequence[float],
               point_arrays: Mapping[str, np.ndarray] | None = None,
               cell_arrays: Mapping[str, np.ndarray] | None = None, active: str | None = None) -> Any:
    """A vtkImageData of `dims` points (1, 2 or 3 entries; missing ones are 1)."""
    d = list(dims) + [1] * (3 - len(dims))
    o = list(origin) + [0.0] * (3 - len(origin))
    s = list(spacing) + [1.0] * (3 - len(spacing))
    img = vtkImageData()
    img.SetDimensions(*d)
    img.SetOrigin(*o)
    img.SetSpacing(*s)
    _add_arrays(img, point_arrays, cell_arrays)
    if active:
        img.GetPointData().SetActiveScalars(active)
    return img


def make_graph(points: np.ndarray, edges: np.ndarray,
               point_arrays: Mapping[str, np.ndarray] | None = None,
               cell_arrays: Mapping[str, np.ndarray] | None = None, active: str | None = None) -> Any:
    """A vtkUnstructuredGrid whose cells are VTK_LINE edges (E, 2) between `points` (P, 1..3), float64."""
    return make_cells(points, np.asarray(edges, dtype=np.int64).reshape(-1, 2), VTK_LINE, point_arrays,
                      cell_arrays, active=active, float32_points=False)


def point_arrays(data: Any) -> dict[str, np.ndarray]:
    """All named point arrays of a dataset as numpy arrays (copies)."""
    pd = data.GetPointData()
    out = {}
    for i in range(pd.GetNumberOfArrays()):
        arr = pd.GetAbstractArray(i)
        if arr is None or arr.GetName() is None or not hasattr(arr, "GetNumberOfComponents"):
            continue
        try:
            out[arr.GetName()] = np.array(nps.vtk_to_numpy(arr))
        except (TypeError, ValueError):
            continue
    return out


def scalar_field(data: Any, name: str, source: str = "input") -> np.ndarray:
    """The one-component point array `name` as float64, or a one-line error naming the choices."""
    pd = data.GetPointData()
    arr = pd.GetArray(name)
    if arr is None:
        names = [pd.GetArrayName(i) for i in range(pd.GetNumberOfArrays())]
        raise LossTopoError(f"{source} has no point array {name!r} (it has {names})",
                            "pass one of these with --array")
    if arr.GetNumberOfComponents() != 1:
        raise LossTopoError(f"point array {name!r} of {source} has {arr.GetNumberOfComponents()} components",
                            "pass a one-component array with --array")
    return np.asarray(nps.vtk_to_numpy(arr), dtype=np.float64).copy()


def image_geometry(data: Any) -> tuple[tuple[int, ...], tuple[float, ...], tuple[float, ...]]:
    """(dims, origin, spacing) of a vtkImageData, each with 3 entries."""
    return tuple(data.GetDimensions()), tuple(data.GetOrigin()), tuple(data.GetSpacing())


def points(data: Any) -> np.ndarray:
    """Point coordinates (P, 3) of any vtkDataSet."""
    if data.IsA("vtkImageData"):
        (nx, ny, nz), o, s = image_geometry(data)
        e = data.GetExtent()  # point (i, j, k) lies at origin + spacing * (extent start + index)
        k, j, i = np.meshgrid(np.arange(nz) + e[4], np.arange(ny) + e[2], np.arange(nx) + e[0], indexing="ij")
        return np.stack([o[0] + s[0] * i.ravel(), o[1] + s[1] * j.ravel(), o[2] + s[2] * k.ravel()], axis=1)
    if data.GetPoints() is None:
        return np.zeros((0, 3), dtype=np.float64)
    return np.array(nps.vtk_to_numpy(data.GetPoints().GetData()), dtype=np.float64).reshape(-1, 3)


def line_edges(data: Any) -> np.ndarray:
    """The (E, 2) vertex ids of the 2-point cells of an unstructured grid (edges of a graph).

    Cells with more than two points contribute all their edges (consecutive point pairs, closed).
    """
    ca = data.GetCells()
    offsets = nps.vtk_to_numpy(ca.GetOffsetsArray()).astype(np.int64)
    conn = nps.vtk_to_numpy(ca.GetConnectivityArray()).astype(np.int64)
    sizes = np.diff(offsets)
    if len(sizes) and np.all(sizes == 2):
        return conn.reshape(-1, 2).copy()
    edges = []
    for c in range(len(sizes)):
        ids = conn[offsets[c]:offsets[c + 1]]
        if len(ids) == 2:
            edges.append(ids)
        elif len(ids) > 2:
            edges.extend(np.stack([ids, np.roll(ids, -1)], axis=1))
    return np.asarray(edges, dtype=np.int64).reshape(-1, 2)


def make_cells(points: np.ndarray, cells: np.ndarray, cell_type: int,
               point_arrays: Mapping[str, np.ndarray] | None = None,
               cell_arrays: Mapping[str, np.ndarray] | None = None, active: str | None = None,
               active_cell: str | None = None, float32_points: bool = True) -> Any:
    """A vtkUnstructuredGrid with cells (C, m) of one type (VTK_VERTEX, VTK_LINE, ...) over points (P, 1..3).

    Points are float32 by default, as in TTK's outputs (vtkPoints' default type).
    """
    pts3 = points3(points, np.float32 if float32_points else np.float64)
    grid = vtkUnstructuredGrid()
    vpts = vtkPoints()
    vpts.SetData(nps.numpy_to_vtk(pts3, deep=1))
    grid.SetPoints(vpts)
    cells = np.asarray(cells, dtype=np.int64)
    cells = cells.reshape(len(cells), -1) if cells.size else np.zeros((0, 1), dtype=np.int64)
    conn = np.empty((len(cells), cells.shape[1] + 1), dtype=np.int64)
    conn[:, 0] = cells.shape[1]
    conn[:, 1:] = cells
    ca = vtkCellArray()
    ca.ImportLegacyFormat(nps.numpy_to_vtkIdTypeArray(conn.ravel(), deep=1))
    grid.SetCells(cell_type, ca)
    _add_arrays(grid, point_arrays, cell_arrays)
    if active:
        grid.GetPointData().SetActiveScalars(active)
    if active_cell:
        grid.GetCellData().SetActiveScalars(active_cell)
    return grid


def set_field_data(data: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """Attach numpy arrays as field data (metadata that travels with the dataset into ParaView)."""
    for name, values in arrays.items():
        data.GetFieldData().AddArray(to_vtk_array(name, np.atleast_1d(values)))


def field_arrays(data: Any) -> dict[str, np.ndarray]:
    """All numeric field-data arrays of a dataset as numpy arrays (copies)."""
    fd = data.GetFieldData()
    out = {}
    for i in range(fd.GetNumberOfArrays()):
        arr = fd.GetArray(i)
        if arr is not None and arr.GetName():
            out[arr.GetName()] = np.array(nps.vtk_to_numpy(arr))
    return out


def cell_arrays(data: Any) -> dict[str, np.ndarray]:
    """All named numeric cell arrays of a dataset as numpy arrays (copies)."""
    cd = data.GetCellData()
    out = {}
    for i in range(cd.GetNumberOfArrays()):
        arr = cd.GetArray(i)
        if arr is not None and arr.GetName():
            out[arr.GetName()] = np.array(nps.vtk_to_numpy(arr))
    return out


def make_table(columns: Mapping[str, Any]) -> Any:
    """A one-row-per-entry vtkTable: numbers become numeric columns, text becomes string columns."""
    table = vtkTable()
    for name, values in columns.items():
        vals = np.atleast_1d(np.asarray(values))
        if vals.dtype.kind in "biuf":
            table.AddColumn(to_vtk_array(name, vals.astype(np.float64) if vals.dtype.kind == "b" else vals))
        else:
            col = vtkStringArray()
            col.SetName(name)
            for v in vals.ravel():
                col.InsertNextValue(str(v))
            table.AddColumn(col)
    return table


def shallow_copy(data: Any) -> Any:
    """A new dataset of the same type sharing the input's geometry and arrays (safe to add arrays to)."""
    out = data.NewInstance()
    out.ShallowCopy(data)
    return out
