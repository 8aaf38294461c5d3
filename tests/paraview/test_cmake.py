"""CMake: the plugin builds the ParaView way (paraview_add_plugin) and ctest knows the ParaView tests."""

from __future__ import annotations

import glob
import shutil
import subprocess
import textwrap

import pytest

from conftest import REPO, needs_pvpython, run_pvpython

HAVE_SDK = bool(glob.glob("/usr/lib/*/cmake/paraview-*/paraview-config.cmake")) or bool(
    glob.glob("/usr/local/lib*/cmake/paraview-*/paraview-config.cmake"))
pytestmark = [pytest.mark.skipif(not shutil.which("cmake") or not shutil.which("c++") or not HAVE_SDK,
                                 reason="needs cmake, a C++ compiler and ParaView's CMake files (paraview-dev)")]


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    build = tmp_path_factory.mktemp("build")
    for cmd in (["cmake", "-S", str(REPO), "-B", str(build)], ["cmake", "--build", str(build)]):
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return build


def test_plugin_library_and_python_file_are_built(build):
    assert list(build.glob("lib/paraview-plugins/LossTopo/LossTopo.so"))
    packaged = REPO / "python/losstopo/paraview/plugin/LossTopo.py"
    assert (build / "lib/paraview-plugins/LossTopo.py").read_text() == packaged.read_text()


def test_ctest_lists_the_paraview_tests(build):
    res = subprocess.run(["ctest", "-N", "--test-dir", str(build)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    for name in ("paraview_plugin", "paraview_statefiles", "paraview_render", "paraview_gui"):
        assert name in res.stdout


@needs_pvpython
def test_built_plugins_load_in_pvpython(build, tmp_path):
    script = tmp_path / "load.py"
    script.write_text(textwrap.dedent('''
        import sys
        from paraview import simple as pv
        pv.LoadPlugin(sys.argv[1], remote=False)
        print("SO LOADED", flush=True)
        pv.LoadPlugin(sys.argv[2], remote=False)
        print("READER", hasattr(pv, "LossLandscapeReader"), flush=True)
    '''))
    so = next(build.glob("lib/paraview-plugins/LossTopo/LossTopo.so"))
    res = run_pvpython(script, str(so), str(build / "lib/paraview-plugins/LossTopo.py"))
    assert res.returncode == 0, res.stderr[-3000:]
    assert "SO LOADED" in res.stdout and "READER True" in res.stdout
