"""Environment for running ParaView (pvpython, pvbatch, paraview) with losstopo and its plugin.

ParaView is an edge of the project: this module only builds the environment variables and command
lines; it does not import ParaView.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

from .errors import LossTopoError

PACKAGE_DIR = Path(__file__).resolve().parent
SITE_FIX_DIR = PACKAGE_DIR / "paraview_site"
REPO_ROOT = PACKAGE_DIR.parent.parent
PLUGIN_DIR = REPO_ROOT / "plugin"
PLUGIN_FILE = PLUGIN_DIR / "LossTopo.py"
STATE_DIR = REPO_ROOT / "statefiles"


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
    pythonpath = [str(SITE_FIX_DIR), str(PACKAGE_DIR.parent)]
    if env.get("PYTHONPATH"):
        pythonpath.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    site_dirs = [purelib] + ([env["LOSSTOPO_SITE_DIRS"]] if env.get("LOSSTOPO_SITE_DIRS") else [])
    env["LOSSTOPO_SITE_DIRS"] = os.pathsep.join(site_dirs)
    plugin_paths = [str(PLUGIN_DIR)] + ([env["PV_PLUGIN_PATH"]] if env.get("PV_PLUGIN_PATH") else [])
    env["PV_PLUGIN_PATH"] = os.pathsep.join(plugin_paths)
    env.setdefault("LOSSTOPO_PYTHON", sys.executable)
    return env
