"""Environment for running ParaView (pvpython, pvbatch, paraview) with losstopo and its plugin.

The plugin, the state files, the pvpython scripts and the getargspec fix are package data of
losstopo.paraview, found through importlib.resources, so an installed losstopo (not only a checkout)
has them. This module only builds paths, environment variables and command lines; it does not
import ParaView.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from importlib.resources import files
from pathlib import Path

from ..errors import LossTopoError


def _data(*parts: str) -> Path:
    """A file or folder shipped in losstopo.paraview (packages are plain folders on disk here)."""
    return Path(str(files(__package__).joinpath(*parts)))


PACKAGE_PARENT = _data().parent.parent  # the folder that holds the losstopo package
SITE_FIX_DIR = _data("site")
PLUGIN_DIR = _data("plugin")
PLUGIN_FILE = _data("plugin", "LossTopo.py")
STATE_DIR = _data("states")
SCRIPTS_DIR = _data("scripts")
STATE_SUFFIX = ".py"


def state_names() -> list[str]:
    """The names of the shipped state files (merge_tree, persistence_diagram, ... without suffix)."""
    return sorted(p.stem for p in STATE_DIR.glob(f"*{STATE_SUFFIX}") if not p.name.startswith("_"))


def state_path(name_or_path: str) -> Path:
    """A shipped state by name (merge_tree, merge_tree.py) or a state file by path; else a one-line error."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    shipped = STATE_DIR / (p.stem + STATE_SUFFIX)
    if p.parent == Path(".") and shipped.is_file():
        return shipped
    raise LossTopoError(f"state {name_or_path} does not exist",
                        f"pass one of {', '.join(state_names())} or a state file's path")


def find_executable(name: str) -> str:
    """Path of a ParaView executable (pvpython, pvbatch, paraview) or a one-line error."""
    path = shutil.which(name)
    if path is None:
        raise LossTopoError(
            f"{name} not found",
            "install ParaView (Debian/Ubuntu: apt-get install paraview python3-paraview, or run `make setup`)",
        )
    return path


def paraview_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment in which ParaView loads Python plugins and imports losstopo from this Python.

    - PYTHONPATH starts with the sitecustomize fix, then the package's parent folder;
    - LOSSTOPO_SITE_DIRS names this interpreter's site-packages (the venv) for site.addsitedir;
    - PV_PLUGIN_PATH names plugin/, so the GUI and pvpython load the Loss Landscape plugin.
    """
    env = dict(os.environ if base is None else base)
    purelib = sysconfig.get_paths()["purelib"]
    pythonpath = [str(SITE_FIX_DIR), str(PACKAGE_PARENT)]
    if env.get("PYTHONPATH"):
        pythonpath.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    site_dirs = [purelib] + ([env["LOSSTOPO_SITE_DIRS"]] if env.get("LOSSTOPO_SITE_DIRS") else [])
    env["LOSSTOPO_SITE_DIRS"] = os.pathsep.join(site_dirs)
    plugin_paths = [str(PLUGIN_DIR)] + ([env["PV_PLUGIN_PATH"]] if env.get("PV_PLUGIN_PATH") else [])
    env["PV_PLUGIN_PATH"] = os.pathsep.join(plugin_paths)
    env.setdefault("LOSSTOPO_PYTHON", sys.executable)
    return env
