"""pvpython only: load TTK's ParaView plugin the way users have it, and say which names it speaks.

Used by scripts/ttk_run.py (the TTK backend and its probe) and by scripts/pipelines.py (the `_ttk`
states), so that every pvpython side of losstopo finds TTK in the same order as ttk_find.py says:
ParaView's own TTK or one on PV_PLUGIN_PATH (LoadDistributedPlugin), then LOSSTOPO_TTK_PLUGIN.
"""

from __future__ import annotations

import os
from pathlib import Path

from paraview import servermanager as sm
from paraview import simple as pv

from losstopo.errors import LossTopoError
from losstopo.paraview.ttk_find import ENV_PLUGIN, ENV_SWITCH, INSTALL_HINT, PLUGIN_NAME, plugin_from_env
from losstopo.paraview.ttk_names import KNOWN, TTKNames, identify

_found: dict | None = None


def _ttk_functions() -> list[str]:
    return sorted(n for n in vars(pv) if n.startswith("TTK"))


def _plugin_record() -> tuple[str, str]:
    """(file, version) of the loaded TopologyToolKit plugin, from ParaView's plugin manager."""
    info = sm.vtkSMProxyManager.GetProxyManager().GetPluginManager().GetLocalInformation()
    for i in range(info.GetNumberOfPlugins()):
        if info.GetPluginName(i) == PLUGIN_NAME and info.GetPluginLoaded(i):
            return info.GetPluginFileName(i), info.GetPluginVersion(i)
    return "", ""


def _source(location: str) -> str:
    env_file = plugin_from_env()
    if env_file is not None and location and Path(location).resolve() == env_file.resolve():
        return ENV_PLUGIN
    for d in os.environ.get("PV_PLUGIN_PATH", "").split(os.pathsep):
        if d and location.startswith(str(Path(d).resolve())):
            return "PV_PLUGIN_PATH"
    return "ParaView's own plugins (TTK built in)"


def offered_properties() -> dict[str, list[str]]:
    """The properties of every TTK proxy the name table mentions and this ParaView offers."""
    wanted = {f.proxy for names in KNOWN for f in names.filters}
    dummy = pv.Sphere()
    out = {}
    for name in sorted(wanted & set(_ttk_functions())):
        proxy = getattr(pv, name)(Input=dummy)
        out[name] = list(proxy.ListProperties())
        pv.Delete(proxy)
    pv.Delete(dummy)
    return out


def load_ttk() -> dict:
    """Load TTK into paraview.simple (once); {source, location, version, offered}, or a LossTopoError."""
    global _found
    if _found is not None:
        return _found
    if os.environ.get(ENV_SWITCH) == "0":  # as ttk_find: even a ParaView with TTK built in
        raise LossTopoError(f"TTK is not loaded in this ParaView ({ENV_SWITCH}=0 hides it)", INSTALL_HINT)
    if not _ttk_functions():
        try:
            pv.LoadDistributedPlugin(PLUGIN_NAME, remote=False, ns=vars(pv))
        except Exception:  # noqa: BLE001 - ParaView raises RuntimeError or its own types; we try the next way
            pass
    if not _ttk_functions() and plugin_from_env() is not None:
        pv.LoadPlugin(str(plugin_from_env()), remote=False, ns=vars(pv))
    if not _ttk_functions():
        raise LossTopoError("TTK is not loaded in this ParaView", INSTALL_HINT)
    location, version = _plugin_record()
    _found = {"source": _source(location), "location": location, "version": version,
              "filters": _ttk_functions(), "offered": offered_properties()}
    return _found


def ttk_names() -> TTKNames:
    """Load TTK and return its entry of the name table (one line naming what is missing otherwise)."""
    found = load_ttk()
    return identify(found["offered"], where=f"TTK at {found['location'] or 'this ParaView'}")
