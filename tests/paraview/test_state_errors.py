"""A state whose proxies this ParaView cannot create ends in one line and exit 2, in `losstopo render` and in
`losstopo paraview` (checked before the GUI starts), instead of a picture without the tree.

ParaView itself only logs `Could not create a proxy of group: filters type: ...` and goes on; losstopo asks
ParaView's proxy manager for every (group, type) of a .pvsm first (GetPrototypeProxy) and loads TTK first
when the state needs it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import DATA, needs_pvpython
from losstopo.paraview import ttk_find
from test_render import without_ttk

pytestmark = [needs_pvpython, pytest.mark.paraview, pytest.mark.slow]
LANDSCAPE = DATA / "landscape_resnet56_noshort"  # a landscape folder with landscape.vti (what .pvsm states open)

PVSM = """<?xml version="1.0"?>
<ParaView>
  <ServerManagerState version="5.11.0">
    <Proxy group="sources" type="LossLandscapeReader" id="100" servers="1"/>
    <Proxy group="filters" type="{filter}" id="200" servers="1"/>
  </ServerManagerState>
</ParaView>
"""


def _state(tmp_path, filter_type: str):
    path = tmp_path / f"{filter_type}.pvsm"
    path.write_text(PVSM.format(filter=filter_type))
    return path


def _losstopo(*args, env=None):
    return subprocess.run([sys.executable, "-m", "losstopo", *args], capture_output=True, text=True, timeout=300,
                          env=env)


def _one_line(res, *words):
    assert res.returncode == 2, res.stdout[-1000:] + res.stderr[-2000:]
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("losstopo: error: "), res.stderr[-2000:]
    for w in words:
        assert w in lines[0]


def test_render_refuses_a_state_with_an_unknown_proxy(tmp_path):
    res = _losstopo("render", "--state", str(_state(tmp_path, "NoSuchFilter")), str(LANDSCAPE),
                    "--out", str(tmp_path / "out"))
    _one_line(res, "cannot create (NoSuchFilter)", "load the plugin that defines them")
    assert not list((tmp_path / "out").glob("*.png"))


def test_render_refuses_a_ttk_state_this_ttk_cannot_build(tmp_path):
    """An unknown ttk* proxy (as ttkftmtree is on a TTK after 1.2.0): the fix names TTK's version."""
    res = _losstopo("render", "--state", str(_state(tmp_path, "ttkNoSuchFilter")), str(LANDSCAPE),
                    "--out", str(tmp_path / "out"))
    _one_line(res, "ttkNoSuchFilter", "load TTK with the version the state was made for")


def test_render_refuses_ttk_1_2_states_on_other_ttks(tmp_path):
    names = ttk_find.find_ttk().names
    if names is not None and names.merge_tree.xml == "ttkftmtree":
        pytest.skip("the installed TTK is 1.2.0, which has ttkftmtree")
    res = _losstopo("render", "--state", str(_state(tmp_path, "ttkftmtree")), str(LANDSCAPE),
                    "--out", str(tmp_path / "out"))
    _one_line(res, "ttkftmtree")


@pytest.mark.parametrize("state", ["pvsm", "merge_tree_ttk"])
def test_gui_launcher_refuses_before_starting_paraview(tmp_path, state):
    """DISPLAY names no X server: had the check passed, ParaView would fail to start, not print one line."""
    path = str(_state(tmp_path, "ttkNoSuchFilter")) if state == "pvsm" else state
    env = dict(without_ttk(), DISPLAY=":65000")
    res = _losstopo("paraview", str(LANDSCAPE), "--state", path, env=env)
    _one_line(res, "TTK")
