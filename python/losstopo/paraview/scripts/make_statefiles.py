"""Regenerate statefiles/*.pvsm (pvpython; run from anywhere):

    losstopo render --make-statefiles            (or: pvpython -m ... with losstopo's environment)

Builds each pipeline of pipelines.py on a small synthetic landscape, saves it, and rewrites the reader's
file name to the portable relative path demo/landscape/landscape.npz (what `make demo` writes), so no
absolute path is stored. `losstopo render --state` and `losstopo paraview` point the states at any
other landscape. The *_ttk.pvsm variants swap each LossTopo filter for the TTK filter it mirrors and
read demo/landscape/landscape.vti with ParaView's own reader (they need TTK, not this plugin).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from paraview import simple as pv

from losstopo.landscape_files import Landscape, save_landscape
from losstopo.paraview_scripts import pipelines, statefile

STATES = {"merge_tree": pipelines.merge_tree_views, "persistence_diagram": pipelines.persistence_views}
REPO = Path(__file__).resolve().parents[3]


def synthetic_landscape(folder: Path, n: int = 41) -> Path:
    """A landscape with a few basins of different depth (any landscape would do; it is not stored)."""
    a = np.linspace(-1.0, 1.0, n)
    x, y = np.meshgrid(a, a, indexing="xy")
    def basin(cx: float, cy: float, depth: float, width: float) -> np.ndarray:
        return depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / width)

    loss = 1.0 + x**2 + y**2 - basin(0.4, -0.3, 0.6, 0.05) - basin(-0.5, 0.5, 0.4, 0.03) \
        - basin(-0.3, -0.6, 0.2, 0.02)
    coords = np.stack([x.ravel(), y.ravel()], axis=1)
    save_landscape(folder, Landscape(coords=coords, loss=loss.ravel(), accuracy=1.0 - loss.ravel() / 3,
                                     resolution=(n, n), span=1.0, meta={"synthetic": True}))
    return folder


def build_state(name: str, landscape: Path, out: Path) -> Path:
    pv.ResetSession()
    pipelines.ensure_plugin()
    reader = pipelines.open_landscape(str(landscape / "landscape.npz"))
    STATES[name](reader)
    path = out / f"{name}.pvsm"
    pv.SaveState(str(path))
    tree = ET.parse(path)
    statefile.set_reader_files(tree, statefile.DEFAULT_DATA)
    statefile.write(tree, path)
    ttk = statefile.to_ttk(ET.parse(path), str(Path(statefile.DEFAULT_DATA).with_name("landscape.vti")))
    statefile.write(ttk, out / f"{name}_ttk.pvsm")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(REPO / "statefiles"), help="folder for the .pvsm files")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        land = synthetic_landscape(Path(tmp) / "landscape")
        for name in STATES:
            print(build_state(name, land, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
