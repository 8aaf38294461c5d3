"""The project's fix lets Debian's ParaView 5.11 (Python 3.11) load Python plugins in pvpython."""

from __future__ import annotations

import os
import textwrap

from conftest import needs_pvpython, run_pvpython

TRIVIAL_PLUGIN = textwrap.dedent('''
    from paraview.util.vtkAlgorithm import smproxy, smproperty, VTKPythonAlgorithmBase
    from vtkmodules.vtkCommonDataModel import vtkPolyData

    @smproxy.source(name="LossTopoTrivialSource", label="LossTopo Trivial Source")
    class TrivialSource(VTKPythonAlgorithmBase):
        def __init__(self):
            super().__init__(nInputPorts=0, nOutputPorts=1, outputType="vtkPolyData")
            self._n = 3

        @smproperty.intvector(name="N", default_values=3)
        def SetN(self, n):
            self._n = n
            self.Modified()

        def RequestData(self, request, inInfo, outInfo):
            from vtkmodules.vtkCommonCore import vtkPoints
            out = vtkPolyData.GetData(outInfo)
            pts = vtkPoints()
            for i in range(self._n):
                pts.InsertNextPoint(i, 0, 0)
            out.SetPoints(pts)
            return 1
''')

SCRIPT = textwrap.dedent('''
    import sys
    from paraview.simple import *
    LoadPlugin(sys.argv[1], remote=False, ns=globals())
    src = LossTopoTrivialSource(N=7)
    src.UpdatePipeline()
    print("POINTS", src.GetDataInformation().GetNumberOfPoints())
''')


@needs_pvpython
def test_trivial_python_plugin_loads_in_pvpython(tmp_path):
    (tmp_path / "Trivial.py").write_text(TRIVIAL_PLUGIN)
    (tmp_path / "script.py").write_text(SCRIPT)
    res = run_pvpython(tmp_path / "script.py", str(tmp_path / "Trivial.py"))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "POINTS 7" in res.stdout


@needs_pvpython
def test_without_the_fix_the_plugin_fails(tmp_path):
    """Negative control: the failure the fix exists for is real on this ParaView."""
    from losstopo.paraview.env import SITE_FIX_DIR, paraview_environment

    env = paraview_environment()
    env["PYTHONPATH"] = os.pathsep.join(p for p in env["PYTHONPATH"].split(os.pathsep) if p != str(SITE_FIX_DIR))
    (tmp_path / "Trivial.py").write_text(TRIVIAL_PLUGIN)
    (tmp_path / "script.py").write_text(SCRIPT)
    res = run_pvpython(tmp_path / "script.py", str(tmp_path / "Trivial.py"), env=env)
    import inspect

    if hasattr(inspect, "getargspec"):  # an older Python where the bug does not exist
        return
    assert "POINTS 7" not in res.stdout
    assert "getargspec" in (res.stdout + res.stderr)
