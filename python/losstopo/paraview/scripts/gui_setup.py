"""Run by `losstopo paraview` inside the GUI (paraview --script=...): open a state on a landscape.

The same loading as render_state.py (the state's readers pointed at the landscape, colour maps and
cameras fitted to it); errors appear in ParaView's Output Messages instead of stopping the GUI. When
LOSSTOPO_GUI_READY names a file, it is written once everything is shown (the GUI test waits for it).
"""

from __future__ import annotations

import os
from pathlib import Path

from paraview import simple as pv

from losstopo.errors import LossTopoError
from losstopo.paraview.scripts import pipelines, render_state, statefile


def open_state(state: str, landscape: str) -> None:
    pipelines.ensure_plugin()
    try:
        views = render_state.load_state(Path(state), Path(landscape))
        for view in views.values():
            pipelines.fit_view(view)
        pv.SetActiveView(next(iter(views.values())))
        readers = [s for s in pv.GetSources().values() if s.GetXMLName() in statefile.READERS]
        if readers:  # so the Filters menu offers the landscape filters straight away
            pv.SetActiveSource(readers[0])
    except LossTopoError as e:
        from vtkmodules.vtkCommonCore import vtkOutputWindow

        vtkOutputWindow.GetInstance().DisplayErrorText(f"ERROR: losstopo: {e}\n")
    ready = os.environ.get("LOSSTOPO_GUI_READY")
    if ready:
        Path(ready).write_text("ready\n")
