"""The one path from a landscape to VTK (image or kNN graph), and from a VTK dataset to its connectivity.

Point arrays of every landscape dataset: Loss (the finite version, losstopo.finite), Accuracy,
ValidMask (1 where the raw loss was finite) and RawLoss. Images are in coordinate units (origin -span,
spacing 2 span / (n - 1)); graphs carry their k and the kNN recall as field data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import names
from ..settings import REPRESENTATIONS
from ..errors import LossTopoError
from ..fileio import output_lock
from ..finite import finite_version, with_mask
from ..landscape.files import Landscape
from ..representation import (Connectivity, GraphConnectivity, ImageConnectivity, graph_connectivity,
                              image_connectivity, landscape_image)
from . import datasets
from .files import write

IMAGE, KNN = REPRESENTATIONS


def landscape_arrays(loss: np.ndarray, accuracy: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The landscape point arrays: finite Loss, Accuracy, ValidMask and the raw loss."""
    raw = np.asarray(loss, dtype=np.float64).ravel()
    values, mask, _ = finite_version(raw)
    arrays = {names.LOSS: values}
    if accuracy is not None and np.size(accuracy) == raw.size:
        arrays[names.ACCURACY] = np.asarray(accuracy, dtype=np.float64).ravel()
    arrays[names.VALID_MASK] = mask.astype(np.uint8)
    arrays[names.RAW_LOSS] = raw
    return arrays


def raw_field(data: Any, array: str = names.LOSS, source: str = "input") -> np.ndarray:
    """The raw values topology runs on. For Loss: RawLoss where the dataset has it, else Loss with NaN where
    the dataset's ValidMask (which describes the loss) is 0, since a landscape's Loss array is finite only
    for display (losstopo.finite). Any other array as it is."""
    values = datasets.scalar_field(data, array, source)
    if array != names.LOSS:
        return values
    if data.GetPointData().GetArray(names.RAW_LOSS) is not None:
        raw = datasets.scalar_field(data, names.RAW_LOSS, source)
        if raw.size == values.size:
            finite = np.isfinite(raw)
            if np.array_equal(raw[finite], values[finite]):
                return raw
            # Loss was changed downstream (TTK's simplification rewrites Loss, not RawLoss): Loss is the
            # field, still without the points whose raw loss is non-finite
            return with_mask(values, finite)
    mask = data.GetPointData().GetArray(names.VALID_MASK)
    if mask is None or mask.GetNumberOfTuples() != values.size or mask.GetNumberOfComponents() != 1:
        return values
    return with_mask(values, datasets.scalar_field(data, names.VALID_MASK, source))


def mark_nonfinite(data: Any, array: str, raw: np.ndarray) -> None:
    """Give `data` (analysed on `array` with raw values `raw`) what every output carries for non-finite
    points: ValidMask, RawLoss (for Loss) and a finite display `array` (losstopo.finite)."""
    values, mask, _ = finite_version(raw)
    pd = data.GetPointData()
    if array == names.LOSS:
        pd.AddArray(datasets.to_vtk_array(names.RAW_LOSS, np.asarray(raw, dtype=np.float64)))
    if array == names.LOSS or pd.GetArray(names.VALID_MASK) is None:  # ValidMask describes the loss
        pd.AddArray(datasets.to_vtk_array(names.VALID_MASK, mask.astype(np.uint8)))
    active = pd.GetScalars()
    pd.AddArray(datasets.to_vtk_array(array, values))  # replaces the array of that name
    if active is not None and active.GetName() == array:
        pd.SetActiveScalars(array)


def image_dataset(conn: ImageConnectivity, arrays: dict[str, np.ndarray], active: str = names.LOSS) -> Any:
    """vtkImageData of an ImageConnectivity's grid carrying `arrays`."""
    n = len(conn.dims)
    return datasets.make_image(conn.dims, conn.origin or (0.0,) * n, conn.spacing or (1.0,) * n, arrays,
                               active=active if active in arrays else None)


def graph_dataset(conn: GraphConnectivity, arrays: dict[str, np.ndarray], info: dict | None = None,
                  active: str = names.LOSS) -> Any:
    """Graph vtkUnstructuredGrid (VTK_LINE cells) of a GraphConnectivity carrying `arrays`."""
    pts = conn.points if conn.points is not None else np.zeros((conn.n_vertices, 3))
    grid = datasets.make_graph(pts, conn.edges, arrays, active=active if active in arrays else None)
    if info is not None:
        datasets.set_field_data(grid, {names.KNN_K: np.array([info["k"]], dtype=np.int64),
                                       names.KNN_RECALL: np.array([info["recall"]], dtype=np.float64)})
        if "method" in info:  # exact | nndescent, as text in ParaView's Information panel
            from vtkmodules.vtkCommonCore import vtkStringArray

            method = vtkStringArray()
            method.SetName(names.KNN_METHOD)
            method.InsertNextValue(str(info["method"]))
            grid.GetFieldData().AddArray(method)
    return grid


def landscape_to_vtk(ls: Landscape, representation: str = IMAGE, k: int = 8,
                     seed: int = 0) -> tuple[Any, Connectivity, dict | None]:
    """(dataset, connectivity, kNN info or None) of a landscape as an image (grids) or its kNN graph."""
    arrays = landscape_arrays(ls.loss, ls.accuracy)
    if representation == IMAGE:
        if not ls.is_grid:
            raise LossTopoError("this landscape has scattered coordinates and cannot be an image",
                                "use the kNN graph representation (Representation = kNN graph in ParaView, "
                                "--representation knn on the command line)")
        conn = landscape_image(ls.resolution, ls.span)
        return image_dataset(conn, arrays), conn, None
    if representation != KNN:
        raise LossTopoError(f"unknown representation {representation!r}", "choose image or knn")
    conn, info = graph_connectivity(ls.coords, k=k, seed=seed)
    return graph_dataset(conn, arrays, info), conn, info


def write_landscape_vti(ls: Landscape, directory: str | Path | None = None) -> Path | None:
    """Write DIR/landscape.vti (the grid folder's VTK view; None for scattered landscapes), atomically,
    under the folder's lock (the caller's, when it holds it)."""
    if not ls.is_grid:
        return None
    folder = Path(directory if directory is not None else ls.directory)
    with output_lock(folder, "landscape"):
        return write(folder / names.LANDSCAPE_VTI, landscape_to_vtk(ls, IMAGE)[0])


def dataset_connectivity(data: Any) -> Connectivity:
    """The connectivity topology runs on: an image's grid (TTK's triangulation; trailing axes of size 1
    dropped, origin shifted by the extent) or the edges of a graph's line cells."""
    if data.IsA("vtkImageData"):
        dims, origin, spacing = datasets.image_geometry(data)
        ext = data.GetExtent()
        origin = tuple(origin[a] + spacing[a] * ext[2 * a] for a in range(3))
        return image_connectivity(dims, origin, spacing)
    return GraphConnectivity(edges=datasets.line_edges(data), n_vertices=data.GetNumberOfPoints(),
                             points=datasets.points(data))
