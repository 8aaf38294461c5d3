"""The real ParaView GUI under Xvfb with the plugin and a state file, as `losstopo paraview` starts it.

A screenshot of the whole screen (imagemagick `import -window root`) must show both views of the state
with content; an XML test script (`--test-script`, played by ParaView's own test player) must find the
plugin's source, reader and filters in the menus; a negative control shows a missing entry fails the run.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess

import numpy as np
import pytest

from conftest import DATA, needs_pvpython

pytestmark = [needs_pvpython, pytest.mark.gui, pytest.mark.slow,
              pytest.mark.skipif(not (shutil.which("paraview") and shutil.which("xvfb-run") and shutil.which("import")),
                                 reason="needs paraview, xvfb-run and imagemagick")]
STATE = "persistence_diagram"
REF = DATA / "cases" / "landscape_resnet56_noshort.vti"  # a losstopo landscape with several basins

MENU_CHECK = """<?xml version="1.0" ?>
<pqevents>
{events}
</pqevents>
"""


def _event(menu: str, entry: str) -> str:
    return (f'  <pqevent object="pqClientMainWindow/menubar/{menu}/Alphabetical" '
            f'command="activate" arguments="{entry}" />')


def _gui_command(tmp_path) -> list[str]:
    from losstopo.paraview.launch import gui_command

    landscape = tmp_path / "landscape.vti"
    shutil.copy(REF, landscape)
    return gui_command(str(landscape), STATE, tmp_path) + ["--dr"]  # --dr: the user's ParaView settings play no part


def _env(**extra):
    from losstopo.paraview.env import paraview_environment

    return paraview_environment() | extra


def _menu_run(tmp_path, events: list[str]) -> subprocess.CompletedProcess:
    from losstopo.paraview.launch import run_headless

    check = tmp_path / "check.xml"
    check.write_text(MENU_CHECK.format(events="\n".join(events)))
    return run_headless(_gui_command(tmp_path) + [f"--test-script={check}", "--exit"], env=_env(), timeout=180)


def test_gui_window_shows_both_views(tmp_path):
    from losstopo.paraview.launch import run_headless

    ready, shot = tmp_path / "ready", tmp_path / "screen.png"
    gui = " ".join(shlex.quote(c) for c in _gui_command(tmp_path))
    script = (f"{gui} & pid=$!; for i in $(seq 1 900); do [ -f {ready} ] && break; sleep 0.1; done; "
              f"sleep 2; import -window root {shot}; kill $pid; wait $pid; exit 0")
    res = run_headless(["sh", "-c", script], env=_env(LOSSTOPO_GUI_READY=str(ready)), timeout=240)
    assert ready.exists(), res.stderr[-3000:]
    assert "ERROR" not in res.stderr, res.stderr[-3000:]
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)[..., :3]
    window = np.argwhere(img.max(axis=2) > 0.05)  # the screen outside the window is black
    (y0, x0), (y1, x1) = window.min(axis=0), window.max(axis=0)
    h, w = y1 - y0, x1 - x0
    assert w > 600 and h > 400

    def region(fx0, fx1):  # the central view area right of the pipeline browser, below the toolbars
        return img[y0 + int(0.28 * h): y0 + int(0.93 * h), x0 + int(fx0 * w): x0 + int(fx1 * w)]

    land, diagram = region(0.27, 0.62), region(0.64, 0.99)
    saturated = (land.max(axis=2) - land.min(axis=2)) > 0.15
    assert saturated.mean() > 0.1  # the coloured landscape surface
    drawn = ~np.all(diagram > 0.95, axis=2)
    assert 0.01 < drawn.mean() < 0.6  # the diagram: axes, bars, markers, colour bar on white


def test_plugin_entries_are_in_the_menus(tmp_path):
    events = [_event("menuSources", "Loss Landscape"), _event("menuFilters", "Landscape Persistence Diagram"),
              _event("menuFilters", "Landscape Merge Tree")]
    res = _menu_run(tmp_path, events)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert "Success =  true" in res.stdout + res.stderr


def test_a_missing_menu_entry_fails_the_gui_test(tmp_path):
    res = _menu_run(tmp_path, [_event("menuSources", "No Such Source")])
    assert res.returncode != 0
    assert "couldn't find action" in res.stdout + res.stderr
