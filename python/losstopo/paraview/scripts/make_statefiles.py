"""Regenerate the .pvsm state files for a ParaView with TTK but without losstopo (pvpython, TTK loaded):

    make statefiles        (or: pvpython make_statefiles.py '{"out": "statefiles"}' with TTK loaded)

Builds each pipeline of pipelines.py with TTK's filters on a small synthetic landscape read by ParaView's
own XMLImageDataReader, saves it, and rewrites the reader's file name to the portable relative path
demo/landscape/landscape.vti (what `make demo` writes), so no absolute path is stored. The Python states
in losstopo/paraview/states are the readable source; these files are generated from the same code.
"""

from __future__ import annotations

import json
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from paraview import simple as pv

from losstopo import names
from losstopo.errors import LossTopoError
from losstopo.landscape.files import Landscape
from losstopo.paraview.scripts import pipelines, statefile
from losstopo.vtkio import write_landscape_vti

DEFAULT_DATA = "demo/landscape/landscape.vti"  # what `make demo` writes, relative to where ParaView starts


def synthetic_landscape(folder: Path, n: int = 41) -> Path:
    """landscape.vti with a few basins of different depth (any landscape would do; it is not stored)."""
    a = np.linspace(-1.0, 1.0, n)
    x, y = np.meshgrid(a, a, indexing="xy")

    def basin(cx: float, cy: float, depth: float, width: float) -> np.ndarray:
        return depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / width)

    loss = 1.0 + x**2 + y**2 - basin(0.4, -0.3, 0.6, 0.05) - basin(-0.5, 0.5, 0.4, 0.03) \
        - basin(-0.3, -0.6, 0.2, 0.02)
    coords = np.stack([x.ravel(), y.ravel()], axis=1)
    folder.mkdir(parents=True, exist_ok=True)
    ls = Landscape(coords=coords, loss=loss.ravel(), accuracy=1.0 - loss.ravel() / 3, resolution=(n, n), span=1.0)
    write_landscape_vti(ls, folder)
    return folder / names.LANDSCAPE_VTI


def build_state(name: str, vti: Path, out: Path) -> Path:
    """OUT/<name>_ttk-<tag>.pvsm: the state names the loaded TTK's proxies, so each TTK generation of the
    name table (ttk_names.py) gets its own file."""
    pv.ResetSession()
    tag = pipelines.require_ttk().tag
    reader = pipelines.open_landscape(str(vti), reader="XMLImageDataReader")
    pipelines.STATES[name](reader, backend="ttk")
    path = out / f"{name}_ttk-{tag}.pvsm"
    pv.SaveState(str(path))
    tree = ET.parse(path)
    statefile.set_reader_files(tree, DEFAULT_DATA)
    statefile.write(tree, path)
    return path


def main(payload: dict) -> int:
    out = Path(payload["out"])
    out.mkdir(parents=True, exist_ok=True)
    try:
        pipelines.require_ttk()
    except LossTopoError as e:
        print(f"losstopo: error: {e}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        vti = synthetic_landscape(Path(tmp) / "landscape")
        for name in pipelines.STATES:
            print(build_state(name, vti, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
