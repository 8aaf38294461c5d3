"""Find TTK the way users have it, say which one was found, and which names it speaks.

In this order (the first that loads wins):
  1. a ParaView with TTK built in or on PV_PLUGIN_PATH: `LoadDistributedPlugin("TopologyToolKit")` in
     pvpython (Kitware's binaries since 5.10 ship it);
  2. the plugin named by LOSSTOPO_TTK_PLUGIN (the TopologyToolKit .so, or a folder holding it);
  3. TTK's Python modules (`topologytoolkit`, as conda-forge ships them) in this Python, no ParaView.
A cheap file search runs first, so a machine without TTK never starts pvpython; the probe itself (one
pvpython or python subprocess, scripts/ttk_run.py, a few seconds) runs once per process. Which names
the TTK speaks comes from ttk_names.identify. LOSSTOPO_TTK=0 hides every TTK.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LossTopoError
from .ttk_names import TTKNames, identify

ENV_PLUGIN = "LOSSTOPO_TTK_PLUGIN"
ENV_SWITCH = "LOSSTOPO_TTK"
PLUGIN_NAME = "TopologyToolKit"
INSTALL_HINT = ("use --backend builtin, or install TTK: Kitware's ParaView binaries (TTK built in), conda-forge's "
                "topologytoolkit, or a TTK build named by LOSSTOPO_TTK_PLUGIN (see docs/paraview.md)")


@dataclass
class TTKInstall:
    """What the probe found. `names` is None when nothing loaded or the names are unknown (`problem`)."""

    route: str = "none"  # "paraview" (a plugin in pvpython) or "python" (topologytoolkit) or "none"
    source: str = ""  # how it was found, in words
    location: str = ""  # the plugin file or the topologytoolkit package folder
    version: str = ""  # the plugin's own version string ("1.2" for both 1.2.0 and the 2024 snapshot)
    filters: list[str] = field(default_factory=list)  # every TTK filter it offers (proxies or VTK classes)
    offered: dict[str, list[str]] = field(default_factory=dict)  # those the name table uses -> properties/setters
    names: TTKNames | None = None
    problem: str = ""

    @property
    def usable(self) -> bool:
        return self.names is not None


def plugin_from_env(env: dict[str, str] | None = None) -> Path | None:
    """The plugin file LOSSTOPO_TTK_PLUGIN names (a file, or the first TopologyToolKit*.so under a folder)."""
    value = (env or os.environ).get(ENV_PLUGIN, "")
    if not value:
        return None
    p = Path(value)
    if p.is_file():
        return p
    if p.is_dir():
        hits = sorted(p.glob(f"**/{PLUGIN_NAME}*.so"))
        return hits[0] if hits else None
    return None


def _paraview_plugin_dirs() -> list[Path]:
    """Folders where ParaView looks for distributed plugins: its own prefix and PV_PLUGIN_PATH."""
    dirs = [Path(p) for p in os.environ.get("PV_PLUGIN_PATH", "").split(os.pathsep) if p]
    pvpython = shutil.which("pvpython")
    prefixes = [str(Path(os.path.realpath(pvpython)).parent.parent)] if pvpython else []
    prefixes += ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib"]
    for prefix in prefixes:
        found = glob.glob(f"{prefix}/lib*/paraview-*") + glob.glob(f"{prefix}/paraview-*")
        dirs += [Path(p) / "plugins" for p in found]
    return [d for d in dirs if d.is_dir()]


def _plugin_on_disk() -> bool:
    if plugin_from_env() is not None:
        return True
    return any(next(d.glob(f"**/{PLUGIN_NAME}*.so"), None) is not None for d in _paraview_plugin_dirs())


def _run_probe(route: str) -> dict:
    from .env import find_executable, paraview_environment

    exe = find_executable("pvpython") if route == "paraview" else sys.executable
    script = Path(__file__).with_name("scripts") / "ttk_run.py"
    job = json.dumps({"job": "probe", "route": route})
    try:
        out = subprocess.run([exe, str(script), job], capture_output=True, text=True, timeout=180,
                             env=paraview_environment())
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"error": f"the TTK probe did not finish ({type(e).__name__})"}
    for line in out.stdout.splitlines()[::-1]:
        if line.startswith("TTK-PROBE "):
            return json.loads(line[len("TTK-PROBE "):])
    last = (out.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"the TTK probe failed ({last[:200]})"}


def _install(route: str, found: dict) -> TTKInstall:
    inst = TTKInstall(route=route, source=found["source"], location=found.get("location", ""),
                      version=found.get("version", ""), filters=found.get("filters", []),
                      offered=found.get("offered", {}))
    try:
        inst.names = identify(inst.offered, vtk=route == "python", where=f"TTK at {inst.location}")
    except LossTopoError as e:
        inst.problem = e.problem
    return inst


@functools.lru_cache(maxsize=1)
def find_ttk() -> TTKInstall:
    """The TTK losstopo would use (see the module docstring); cached for the process."""
    if os.environ.get(ENV_SWITCH) == "0":
        return TTKInstall(problem=f"{ENV_SWITCH}=0 hides TTK")
    problems = []
    if shutil.which("pvpython") and _plugin_on_disk():
        found = _run_probe("paraview")
        if "source" in found:
            return _install("paraview", found)
        problems.append(found.get("error", "pvpython did not load TTK"))
    if importlib.util.find_spec("topologytoolkit") is not None:
        found = _run_probe("python")
        if "source" in found:
            return _install("python", found)
        problems.append(found.get("error", "topologytoolkit did not import"))
    return TTKInstall(problem="; ".join(problems) or "no TTK found (no TopologyToolKit plugin for ParaView, "
                      f"no {ENV_PLUGIN}, no topologytoolkit Python package)")


def ttk_available() -> bool:
    """Whether a TTK with known names can be used."""
    return find_ttk().usable


def require_ttk() -> TTKInstall:
    """The usable TTK, else one line saying what was found and what to do."""
    inst = find_ttk()
    if inst.usable:
        return inst
    if inst.route != "none":
        raise LossTopoError(inst.problem, INSTALL_HINT)
    raise LossTopoError(f"--backend ttk needs TTK and none was found ({inst.problem})", INSTALL_HINT)
