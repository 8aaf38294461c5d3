"""A non-editable `pip install .` into a fresh --system-site-packages venv is a whole losstopo: from an
empty folder, with no checkout on the path, the demo runs, a state renders and the plugin loads.

Nothing is downloaded: the fresh venv sees the dependencies of the project's own venv through a .pth
line (pip checks the version ranges against them), and is built with --no-build-isolation --no-index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from conftest import REPO, needs_pvpython

pytestmark = [pytest.mark.slow, needs_pvpython,
              pytest.mark.skipif(not shutil.which("xvfb-run"), reason="needs xvfb-run to render")]


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None, timeout: int = 900) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{cmd}\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    return res


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv, a clean environment without the checkout) after `pip install .` from a copy of the repo."""
    base = tmp_path_factory.mktemp("install")
    src = base / "src"  # a copy, so the build never writes into the checkout
    shutil.copytree(REPO, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", "*.egg-info", "build", "demo", ".pytest_cache", ".hypothesis"))
    venv = base / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)], check=True)
    # the venv's own old setuptools would shadow the one torch requires (the project venv's is used)
    _run([str(venv / "bin" / "python"), "-m", "pip", "uninstall", "-q", "-y", "setuptools"], cwd=base, env=None)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "losstopo_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "LOSSTOPO_SITE_DIRS",
                                                            "PV_PLUGIN_PATH")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["LOSSTOPO_CACHE"] = str(base / "cache")
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation",
          "--disable-pip-version-check", str(src)], cwd=base, env=env)
    shutil.rmtree(src)  # nothing of the checkout is left to lean on
    return venv, env


def test_installed_package_is_not_the_checkout(installed, tmp_path):
    venv, env = installed
    res = _run([str(venv / "bin" / "python"), "-c", "import losstopo, sys; print(losstopo.__file__)"],
               cwd=tmp_path, env=env)
    path = Path(res.stdout.strip())
    assert venv in path.parents and REPO not in path.parents
    from_pkg = path.parent / "paraview"
    for data in ("plugin/LossTopo.py", "states/merge_tree.py", "states/persistence_diagram_ttk.py",
                 "scripts/render_state.py", "site/sitecustomize.py"):
        assert (from_pkg / data).is_file(), data


def test_demo_render_and_plugin_from_an_empty_folder(installed, tmp_path):
    venv, env = installed
    losstopo = str(venv / "bin" / "losstopo")
    _run([losstopo, "demo", "--out", "d", "--quiet", "--resolution", "11", "--span", "0.5"], cwd=tmp_path, env=env)
    assert (tmp_path / "d" / "landscape" / "landscape.npz").is_file()
    _run([losstopo, "render", "--state", "merge_tree", "d/landscape", "--out", "shots", "--size", "320x240"],
         cwd=tmp_path, env=env)
    assert sorted(p.name for p in (tmp_path / "shots").glob("*.png")) == [
        "merge_tree_LandscapeView.png", "merge_tree_MergeTreeView.png"]
    cmd = _run([losstopo, "paraview", "--print-command", "d/landscape"], cwd=tmp_path, env=env).stdout
    assert "paraview" in cmd and "--script=" in cmd
    probe = tmp_path / "probe.py"
    probe.write_text("from paraview import simple as pv\n"
                     "from losstopo.paraview.env import PLUGIN_FILE\n"
                     "pv.LoadPlugin(str(PLUGIN_FILE), remote=False)\n"
                     "r = pv.LossLandscapeReader(FileName='d/landscape')\n"
                     "r.UpdatePipeline()\n"
                     "print('POINTS', r.GetDataInformation().GetNumberOfPoints(), PLUGIN_FILE)\n")
    code = ("import subprocess, sys; from losstopo.paraview.env import paraview_environment; "
            "sys.exit(subprocess.run(['pvpython', 'probe.py'], env=paraview_environment()).returncode)")
    res = _run([str(venv / "bin" / "python"), "-c", code], cwd=tmp_path, env=env)
    assert "POINTS 121" in res.stdout and str(venv) in res.stdout
