"""Shared fixtures and markers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference"


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
