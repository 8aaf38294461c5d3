"""`losstopo doctor` says what was found: ParaView, TTK (how, where, version, filter names), torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from losstopo.paraview import ttk_find

LOSSTOPO = Path(sys.executable).with_name("losstopo")


def _doctor(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(LOSSTOPO), "doctor", *args], capture_output=True, text=True, timeout=300, env=env)


def test_doctor_without_ttk_says_none_was_found_and_auto_is_builtin():
    import os

    env = {**os.environ, "LOSSTOPO_TTK": "0"}
    res = _doctor("--json", env=env)
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)
    assert rep["ttk"]["found"] == "no" and "LOSSTOPO_TTK=0" in rep["ttk"]["why"]
    assert rep["analyze --backend auto"] == "builtin"
    assert rep["torch"].startswith("2.") and "version" in rep["paraview"]
    text = _doctor(env=env)
    assert text.returncode == 0 and "ttk:" in text.stdout and "found: no" in text.stdout


@pytest.mark.ttk
@pytest.mark.skipif(not ttk_find.find_ttk().usable, reason="no usable TTK here; .ci/run runs this with each build")
def test_doctor_names_the_ttk_it_found():
    found = ttk_find.find_ttk()
    rep = json.loads(_doctor("--json").stdout)["ttk"]
    assert rep["found"] == found.source and rep["location"] == found.location
    assert found.names.merge_tree.proxy in rep["names"]
    assert set(found.offered) <= set(rep["filters offered"])
    assert json.loads(_doctor("--json").stdout)["analyze --backend auto"] == "ttk"
