"""LossTopo: loss landscapes of PyTorch models and their topology, in ParaView.

A thin adapter over the `losstopo` Python package (stages 1-5): every RequestData reads its
properties, calls one losstopo function and copies the result into the output. Load it with
Tools > Manage Plugins > Load New, `LoadPlugin(".../losstopo/paraview/plugin/LossTopo.py", ns=globals())` in
pvpython, or
PV_PLUGIN_PATH=<this folder> (what `losstopo paraview` and `losstopo render` set up;
`losstopo paraview --print-command` shows where it is).

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

import os
from pathlib import Path


def _ensure_losstopo() -> None:
    """Make `losstopo` importable: from PYTHONPATH if set up (losstopo's launchers do), else from the
    folder that holds this file's losstopo package (a site-packages, or a checkout's python/ with the
    checkout's .venv beside it) plus the folders in LOSSTOPO_SITE_DIRS (torch and the other dependencies)."""
    try:
        import losstopo  # noqa: F401
    except ImportError:
        import site
        import sys

        holder = Path(__file__).resolve().parents[3]  # .../<holder>/losstopo/paraview/plugin/LossTopo.py
        dirs = list(filter(None, os.environ.get("LOSSTOPO_SITE_DIRS", "").split(os.pathsep)))
        venv = holder.parent / ".venv" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
        if (holder / "losstopo" / "__init__.py").is_file():
            dirs.insert(0, str(holder))
            if not dirs[1:] and venv.is_dir():
                dirs.append(str(venv))
        for d in dirs:
            site.addsitedir(d)


_ensure_losstopo()

from losstopo.paraview.proxies import (LandscapeMergeTree, LandscapeMergeTreeLayout, LandscapeMetrics,  # noqa: E402,F401
                                       LandscapePersistenceDiagram, LandscapeTopologicalSimplification,
                                       LossLandscapeReader, LossLandscapeSource)
