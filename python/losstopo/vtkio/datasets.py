"""VTK adapter: numpy arrays <-> vtkImageData / vtkUnstructuredGrid, and .vti/.vtu files.

The only module (with topology/vtkoutput.py and the plugin) that touches VTK. VTK comes from
ParaView's Python modules (Debian python3-paraview); it is imported lazily so the core runs without
it. Point order is VTK's: x fastest, then y, then z (point id = i + nx*j + nx*ny*k), which is also the
order of `coords` and `loss` in a landscape, so vertex ids mean the same everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import LossTopoError
from .fileio import atomic_path

VTK_LINE = 3


def _vtk() -> Any:
    try:
        from vtkmodules import vtkCommonCore, vtkCommonDataModel, vtkIOXML  # noqa: F401
        from vtkmodules.util import numpy_support
    except ImportError:
        raise LossTopoError(
            "VTK is not importable",
            "install ParaView's Python modules (Debian: apt-get install python3-paraview, or `make setup`)",
        ) from None
    import vtkmodules.vtkCommonCore as cc
    import vtkmodules.vtkCommonDataModel as dm
    import vtkmodules.vtkIOXML as xml

    class _NS:
        pass

    ns = _NS()
    ns.cc, ns.dm, ns.xml, ns.np = cc, dm, xml, numpy_support
    return ns


def to_vtk_array(name: str, values: np.ndarray) -> Any:
    """numpy (P,) or (P, C) -> vtkDataArray named `name` (deep copy)."""
    vtk = _vtk()
    arr = np.ascontiguousarray(values)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    out = vtk.np.numpy_to_vtk(arr, deep=1)
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
    vtk = _vtk()
    d = list(dims) + [1] * (3 - len(dims))
    o = list(origin) + [0.0] * (3 - len(origin))
    s = list(spacing) + [1.0] * (3 - len(spacing))
    img = vtk.dm.vtkImageData()
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
    """A vtkUnstructuredGrid whose cells are VTK_LINE edges (E, 2) between `points` (P, 1..3)."""
    vtk = _vtk()
    pts3 = np.zeros((len(points), 3), dtype=np.float64)
    p = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    pts3[:, : p.shape[1]] = p[:, :3]
    grid = vtk.dm.vtkUnstructuredGrid()
    vpts = vtk.cc.vtkPoints()
    vpts.SetData(vtk.np.numpy_to_vtk(pts3, deep=1))
    grid.SetPoints(vpts)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    conn = np.empty((len(edges), 3), dtype=np.int64)
    conn[:, 0] = 2
    conn[:, 1:] = edges
    cells = vtk.dm.vtkCellArray()
    id_arr = vtk.np.numpy_to_vtkIdTypeArray(conn.ravel(), deep=1)
    cells.ImportLegacyFormat(id_arr)
    grid.SetCells(VTK_LINE, cells)
    _add_arrays(grid, point_arrays, cell_arrays)
    if active:
        grid.GetPointData().SetActiveScalars(active)
    return grid


def write(path: str | os.PathLike, data: Any) -> Path:
    """Write a VTK dataset to .vti/.vtu/.vtp (by the data's type), atomically."""
    vtk = _vtk()
    path = Path(path)
    writers = {
        "vtkImageData": (vtk.xml.vtkXMLImageDataWriter, ".vti"),
        "vtkUnstructuredGrid": (vtk.xml.vtkXMLUnstructuredGridWriter, ".vtu"),
        "vtkPolyData": (vtk.xml.vtkXMLPolyDataWriter, ".vtp"),
        "vtkTable": (vtk.xml.vtkXMLTableWriter, ".vtt"),
    }
    cls, _ext = writers[data.GetClassName()]
    with atomic_path(path) as tmp:
        w = cls()
        w.SetFileName(str(tmp))
        w.SetInputData(data)
        w.SetDataModeToAppended()
        w.EncodeAppendedDataOff()
        w.SetCompressorTypeToZLib()
        if not w.Write():
            raise LossTopoError(f"could not write {path}", "check that the folder is writable and has space")
    return path


def read(path: str | os.PathLike) -> Any:
    """Read a .vti or .vtu file; a one-line LossTopoError for missing, empty or unreadable files."""
    vtk = _vtk()
    path = Path(path)
    if not path.exists():
        raise LossTopoError(f"input file {path} does not exist", "check the path")
    if path.is_dir():
        raise LossTopoError(f"input {path} is a folder", "pass a .vti or .vtu file")
    readers = {".vti": vtk.xml.vtkXMLImageDataReader, ".vtu": vtk.xml.vtkXMLUnstructuredGridReader}
    cls = readers.get(path.suffix.lower())
    if cls is None:
        raise LossTopoError(f"unsupported file type {path.suffix!r} for {path}", "pass a .vti or .vtu file")
    size = path.stat().st_size
    if size == 0:
        raise LossTopoError(f"input file {path} is empty", "recompute or re-export it")
    _check_xml_file(path, size)
    from vtkmodules.vtkCommonCore import vtkCommand

    reader = cls()
    errors: list[str] = []

    def _on_error(_obj: Any, _event: str) -> None:
        errors.append("error")

    reader.AddObserver(vtkCommand.ErrorEvent, _on_error)
    reader.GetExecutive().AddObserver(vtkCommand.ErrorEvent, _on_error)
    reader.SetFileName(str(path))
    if not reader.CanReadFile(str(path)):
        raise LossTopoError(f"input file {path} is not a readable VTK XML {path.suffix} file",
                            "check that it is not truncated or of another format")
    prev = vtk.cc.vtkObject.GetGlobalWarningDisplay()
    vtk.cc.vtkObject.GlobalWarningDisplayOff()
    try:
        reader.Update()
    finally:
        vtk.cc.vtkObject.SetGlobalWarningDisplay(prev)
    out = reader.GetOutput()
    if errors or out is None or out.GetNumberOfPoints() == 0:
        raise LossTopoError(f"input file {path} is corrupt, truncated or has no points",
                            "recompute or re-export it")
    return out


def _check_xml_file(path: Path, size: int) -> None:
    """Structural checks before VTK parses a file: VTK's C++ readers abort the whole process or
    allocate without bound on some corrupt headers, and zero-fill truncated data without a word."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
        f.seek(max(0, size - 512))
        tail = f.read()
    if b"<VTKFile" not in head[:1024]:
        raise LossTopoError(f"input file {path} is not a VTK XML {path.suffix} file",
                            "pass a .vti/.vtu written by losstopo, ParaView or VTK")
    if b"</VTKFile>" not in tail:  # every complete file ends with it
        raise LossTopoError(f"input file {path} is truncated (no closing </VTKFile>)",
                            "recompute or re-export it")
    limit = 1100 * size + 1_000_000  # zlib compresses at most ~1032:1
    declared = _declared_points(head)
    if declared is not None and not 0 <= declared <= limit:
        raise LossTopoError(f"input file {path} declares {declared} points but holds only {size} bytes",
                            "the file is corrupt; recompute or re-export it")
    problem = _extent_problem(head) or _appended_blocks_problem(path, head, size, limit)
    if problem:
        raise LossTopoError(f"input file {path} is corrupt ({problem})", "recompute or re-export it")


def _extent_problem(head: bytes) -> str | None:
    """Image pieces must lie inside the whole extent, lo <= hi (VTK segfaults on some that do not)."""
    import re

    text = head.decode("latin-1")
    whole = re.search(r'WholeExtent="([^"]*)"', text)
    if whole is None:
        return None
    try:
        w = [int(v) for v in whole.group(1).split()]
        pieces = [[int(v) for v in m.split()] for m in re.findall(r'<Piece[^>]*\bExtent="([^"]*)"', text)]
    except ValueError:
        return "an extent is not six integers"
    for e in [w, *pieces]:
        if len(e) != 6 or any(e[2 * a] > e[2 * a + 1] for a in range(3)):
            return "an extent is not six integers lo <= hi"
        if any(e[2 * a] < w[2 * a] or e[2 * a + 1] > w[2 * a + 1] for a in range(3)):
            return "a piece lies outside the whole extent"
    return None


def _appended_blocks_problem(path: Path, head: bytes, size: int, limit: int) -> str | None:
    """Check the size headers of the data blocks (appended raw or base64, inline binary) against
    what the file holds: a corrupt one makes VTK allocate without bound (std::bad_alloc aborts)."""
    import re

    text = head.decode("latin-1")
    vtkfile = re.search(r"<VTKFile[^>]*>", text)
    attrs = vtkfile.group(0) if vtkfile else ""
    layout = _BlockLayout(wide='header_type="UInt64"' in attrs,
                          big='byte_order="BigEndian"' in attrs,
                          compressed="compressor=" in attrs and 'compressor=""' not in attrs)
    counts = [int(c) for c in re.findall(r'Number(?:OfCells|OfComponents)="\s*(-?\d+)', text)]
    if any(not 0 <= c <= limit for c in counts):
        return "a cell or component count is out of range"
    for m in re.finditer(r'<DataArray[^>]*format="binary"[^>]*>([^<]*)<', text):
        data = m.group(1).strip().encode("latin-1")
        problem = layout.problem(lambda n, d=data: d[:n], len(data), True, limit)
        if problem:
            return problem
    start = text.find("<AppendedData")
    if start < 0:
        return None
    b64 = 'encoding="base64"' in text[start:start + 200]
    underscore = text.find("_", start)
    if underscore < 0:
        return "no appended data marker"
    base = underscore + 1
    appended = r'<DataArray[^>]*format="appended"[^>]*offset="\s*(\d+)'
    offsets = [int(m) for m in re.findall(appended, text[:start])]
    with open(path, "rb") as f:
        for off in offsets:
            if base + off >= size:
                return f"data block at offset {off} lies beyond the end of the file"
            def read(n: int, pos: int = base + off) -> bytes:
                f.seek(pos)
                return f.read(n)

            problem = layout.problem(read, size - (base + off), b64, limit)
            if problem:
                return f"{problem} at offset {off}"
    return None


class _BlockLayout:
    """VTK XML binary data blocks: a size header (UInt32/UInt64), then the data; compressed blocks
    carry [number of blocks, block size, last block size, compressed sizes...]. In base64 the
    header is encoded on its own, then the data."""

    def __init__(self, wide: bool, big: bool, compressed: bool):
        self.width = 8 if wide else 4
        self.code = (">" if big else "<") + ("Q" if wide else "I")
        self.compressed = compressed

    def _ints(self, raw: bytes, n: int) -> list[int] | None:
        import struct

        need = n * self.width
        if len(raw) < need:
            return None
        return list(struct.unpack(self.code[0] + self.code[1] * n, raw[:need]))

    def problem(self, read: Any, length: int, b64: bool, limit: int) -> str | None:
        """read(n): the block's first n bytes; length: bytes from the block's start to the file's end."""
        import binascii

        def decode(chars: bytes) -> bytes:
            try:
                return binascii.a2b_base64(chars)
            except (binascii.Error, ValueError):
                return b""

        enc = lambda n: 4 * ((n + 2) // 3)  # noqa: E731  (base64 length of n bytes)
        w = self.width
        if not self.compressed:
            hdr = decode(read(enc(w))) if b64 else read(w)
            ints = self._ints(hdr, 1)
            if ints is None:
                return "a data block header is cut off"
            avail = (length - enc(w)) * 3 // 4 + 3 if b64 else length - w
            return f"a data block claims {ints[0]} bytes" if ints[0] > min(avail, limit) else None
        first = decode(read(4 * w)) if b64 else read(3 * w)
        ints = self._ints(first, 3)
        if ints is None:
            return "a compressed block header is cut off"
        nblocks, block, last = ints
        if nblocks * max(block, 1) > limit or last > block:
            return f"a compressed block header claims {nblocks} x {block} bytes"
        hlen = (3 + nblocks) * w
        if enc(hlen) > length:
            return "a compressed block header runs past the end of the file"
        hdr = decode(read(enc(hlen))) if b64 else read(hlen)
        sizes = self._ints(hdr[3 * w:], nblocks)
        if sizes is None:
            return "a compressed block header is cut off"
        avail = (length - enc(hlen)) * 3 // 4 + 3 * nblocks if b64 else length - hlen
        return "compressed data runs past the end of the file" if sum(sizes) > avail else None


def _declared_points(head: bytes) -> int | None:
    """Number of points a VTK XML header declares (image extents or pieces' NumberOfPoints), or None."""
    import re

    text = head.decode("latin-1")
    ext = re.search(r'WholeExtent="\s*(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)', text)
    if ext:
        e = [int(v) for v in ext.groups()]
        n = 1
        for a in range(3):
            n *= e[2 * a + 1] - e[2 * a] + 1
        return n if all(e[2 * a + 1] >= e[2 * a] for a in range(3)) else -1
    counts = re.findall(r'NumberOfPoints="\s*(-?\d+)', text)
    return sum(int(c) for c in counts) if counts else None


def point_arrays(data: Any) -> dict[str, np.ndarray]:
    """All named point arrays of a dataset as numpy arrays (copies)."""
    vtk = _vtk()
    pd = data.GetPointData()
    out = {}
    for i in range(pd.GetNumberOfArrays()):
        arr = pd.GetAbstractArray(i)
        if arr is None or arr.GetName() is None or not hasattr(arr, "GetNumberOfComponents"):
            continue
        try:
            out[arr.GetName()] = np.array(vtk.np.vtk_to_numpy(arr))
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
    vtk = _vtk()
    return np.asarray(vtk.np.vtk_to_numpy(arr), dtype=np.float64).copy()


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
    return np.array(_vtk().np.vtk_to_numpy(data.GetPoints().GetData()), dtype=np.float64).reshape(-1, 3)


def line_edges(data: Any) -> np.ndarray:
    """The (E, 2) vertex ids of the 2-point cells of an unstructured grid (edges of a graph).

    Cells with more than two points contribute all their edges (consecutive point pairs, closed).
    """
    vtk = _vtk()
    ca = data.GetCells()
    offsets = vtk.np.vtk_to_numpy(ca.GetOffsetsArray()).astype(np.int64)
    conn = vtk.np.vtk_to_numpy(ca.GetConnectivityArray()).astype(np.int64)
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


VTK_VERTEX = 1


def make_cells(points: np.ndarray, cells: np.ndarray, cell_type: int,
               point_arrays: Mapping[str, np.ndarray] | None = None,
               cell_arrays: Mapping[str, np.ndarray] | None = None, active: str | None = None,
               active_cell: str | None = None, float32_points: bool = True) -> Any:
    """A vtkUnstructuredGrid with cells (C, m) of one type (VTK_VERTEX, VTK_LINE, ...) over points (P, 1..3).

    Points are float32 by default, as in TTK's outputs (vtkPoints' default type).
    """
    vtk = _vtk()
    p = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    pts3 = np.zeros((len(p), 3), dtype=np.float32 if float32_points else np.float64)
    pts3[:, : min(3, p.shape[1])] = p[:, :3]
    grid = vtk.dm.vtkUnstructuredGrid()
    vpts = vtk.cc.vtkPoints()
    vpts.SetData(vtk.np.numpy_to_vtk(pts3, deep=1))
    grid.SetPoints(vpts)
    cells = np.asarray(cells, dtype=np.int64)
    cells = cells.reshape(len(cells), -1) if cells.size else np.zeros((0, 1), dtype=np.int64)
    conn = np.empty((len(cells), cells.shape[1] + 1), dtype=np.int64)
    conn[:, 0] = cells.shape[1]
    conn[:, 1:] = cells
    ca = vtk.dm.vtkCellArray()
    ca.ImportLegacyFormat(vtk.np.numpy_to_vtkIdTypeArray(conn.ravel(), deep=1))
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
    vtk = _vtk()
    fd = data.GetFieldData()
    out = {}
    for i in range(fd.GetNumberOfArrays()):
        arr = fd.GetArray(i)
        if arr is not None and arr.GetName():
            out[arr.GetName()] = np.array(vtk.np.vtk_to_numpy(arr))
    return out


def cell_arrays(data: Any) -> dict[str, np.ndarray]:
    """All named numeric cell arrays of a dataset as numpy arrays (copies)."""
    vtk = _vtk()
    cd = data.GetCellData()
    out = {}
    for i in range(cd.GetNumberOfArrays()):
        arr = cd.GetArray(i)
        if arr is not None and arr.GetName():
            out[arr.GetName()] = np.array(vtk.np.vtk_to_numpy(arr))
    return out


def make_table(columns: Mapping[str, Any]) -> Any:
    """A one-row-per-entry vtkTable: numbers become numeric columns, text becomes string columns."""
    vtk = _vtk()
    table = vtk.dm.vtkTable()
    for name, values in columns.items():
        vals = np.atleast_1d(np.asarray(values))
        if vals.dtype.kind in "biuf":
            table.AddColumn(to_vtk_array(name, vals.astype(np.float64) if vals.dtype.kind == "b" else vals))
        else:
            col = vtk.cc.vtkStringArray()
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
