""".vti / .vtu files: atomic writes, and reads that end in one line for any bad file (guard.py first)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vtkmodules.vtkCommonCore import vtkCommand, vtkObject
from vtkmodules.vtkIOXML import (vtkXMLImageDataReader, vtkXMLImageDataWriter, vtkXMLPolyDataWriter,
                                 vtkXMLTableWriter, vtkXMLUnstructuredGridReader, vtkXMLUnstructuredGridWriter)

from ..errors import LossTopoError
from ..fileio import atomic_path
from .guard import check_xml_file


def write(path: str | os.PathLike, data: Any) -> Path:
    """Write a VTK dataset to .vti/.vtu/.vtp (by the data's type), atomically."""
    path = Path(path)
    cls = {"vtkImageData": vtkXMLImageDataWriter, "vtkUnstructuredGrid": vtkXMLUnstructuredGridWriter,
           "vtkPolyData": vtkXMLPolyDataWriter, "vtkTable": vtkXMLTableWriter}[data.GetClassName()]
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
    path = Path(path)
    if not path.exists():
        raise LossTopoError(f"input file {path} does not exist", "check the path")
    if path.is_dir():
        raise LossTopoError(f"input {path} is a folder", "pass a .vti or .vtu file")
    readers = {".vti": vtkXMLImageDataReader, ".vtu": vtkXMLUnstructuredGridReader}
    cls = readers.get(path.suffix.lower())
    if cls is None:
        raise LossTopoError(f"unsupported file type {path.suffix!r} for {path}", "pass a .vti or .vtu file")
    size = path.stat().st_size
    if size == 0:
        raise LossTopoError(f"input file {path} is empty", "recompute or re-export it")
    check_xml_file(path, size)

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
    prev = vtkObject.GetGlobalWarningDisplay()
    vtkObject.GlobalWarningDisplayOff()
    try:
        reader.Update()
    finally:
        vtkObject.SetGlobalWarningDisplay(prev)
    out = reader.GetOutput()
    if errors or out is None or out.GetNumberOfPoints() == 0:
        raise LossTopoError(f"input file {path} is corrupt, truncated or has no points",
                            "recompute or re-export it")
    return out
