"""Shared fixtures and markers."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"  # fixtures made by losstopo itself, with real TTK's outputs (make_data.py)

# Third-party landscapes with TTK's outputs (no licence: never copied into the repository) are read only
# from the folder this variable names; .ci/run sets it to ../shared/reference when that exists.
REFERENCE_VARIABLE = "LOSSTOPO_REFERENCE"
REFERENCE = Path(os.environ.get(REFERENCE_VARIABLE) or "/nonexistent/LOSSTOPO_REFERENCE-is-unset")
HAVE_REFERENCE = (REFERENCE / "losslens").is_dir()
needs_reference = pytest.mark.skipif(
    not HAVE_REFERENCE, reason=f"third-party reference landscapes not available: set {REFERENCE_VARIABLE} "
                               "to their folder (.ci/run sets it to ../shared/reference)")


def have_pvpython() -> bool:
    return shutil.which("pvpython") is not None


needs_pvpython = pytest.mark.skipif(not have_pvpython(), reason="pvpython not installed")


def run_pvpython(script: Path, *args: str, env: dict | None = None, timeout: int = 300,
                 xvfb: bool = False) -> subprocess.CompletedProcess:
    """Run a pvpython script with losstopo's ParaView environment."""
    from losstopo.paraview.env import paraview_environment

    cmd = ["pvpython", str(script), *args]
    if xvfb:
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"] + cmd
    return subprocess.run(cmd, env=env or paraview_environment(), capture_output=True, text=True,
                          timeout=timeout)
