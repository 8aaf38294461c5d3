"""What losstopo finds on this machine, as a dict (the `losstopo doctor` report)."""

from __future__ import annotations

import platform
import shutil
import subprocess

from .. import __version__


def _paraview() -> dict:
    pvpython = shutil.which("pvpython")
    if pvpython is None:
        return {"pvpython": "not found (apt-get install paraview python3-paraview, or Kitware's binaries)"}
    try:
        out = subprocess.run([pvpython, "--version"], capture_output=True, text=True, timeout=60)
        version = (out.stdout.strip() or out.stderr.strip()).splitlines()[-1]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        version = "did not answer"
    return {"pvpython": pvpython, "version": version}


def _ttk() -> dict:
    from ..paraview.ttk_find import find_ttk
    from ..paraview.ttk_names import KNOWN

    t = find_ttk()
    if t.route == "none":
        return {"found": "no", "why": t.problem, "known versions": [n.version for n in KNOWN]}
    rep = {"found": t.source, "route": "pvpython with TTK's plugin" if t.route == "paraview"
           else "TTK's Python modules (no ParaView)", "location": t.location,
           "plugin version": t.version or "not stated",
           "filters offered": t.filters}
    if t.names is not None:
        rep["names"] = f"TTK {t.names.version} (merge tree: {t.names.merge_tree.proxy})"
    else:
        rep["names"] = f"unknown: {t.problem}"
    return rep


def report() -> dict:
    """losstopo's version, Python, torch, ParaView, TTK, and the backend `--backend auto` picks."""
    from ..paraview.ttk_find import find_ttk

    try:
        import torch

        torch_version = f"{torch.__version__} (threads {torch.get_num_threads()}, "\
                        f"cuda {'yes' if torch.cuda.is_available() else 'no'})"
    except ImportError:
        torch_version = "not installed"
    return {"losstopo": __version__, "python": platform.python_version(), "torch": torch_version,
            "paraview": _paraview(), "ttk": _ttk(),
            "analyze --backend auto": "ttk" if find_ttk().usable else "builtin"}
