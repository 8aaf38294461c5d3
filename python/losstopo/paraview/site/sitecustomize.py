"""Start-up fix for Debian's ParaView 5.11 on Python 3.11 (pvpython, pvbatch and the GUI).

ParaView 5.11's `paraview/detail/pythonalgorithm.py` does `from inspect import getargspec`, which
Python 3.11 removed, so every Python plugin fails to load ("Problem loading plugin"). Python imports
`sitecustomize` at start-up from the first folder on PYTHONPATH that has one; losstopo's launchers put
this folder first, so `inspect.getargspec` exists before ParaView needs it. ParaView only reads
`.args` of the result, which `getfullargspec` provides.

It also adds the folders named in LOSSTOPO_SITE_DIRS (os.pathsep-separated) as site directories, so
that pvpython sees the project's virtual environment including its editable install (.pth files).
"""

import inspect
import os
import site

if not hasattr(inspect, "getargspec"):
    inspect.getargspec = inspect.getfullargspec  # type: ignore[attr-defined]

for _d in filter(None, os.environ.get("LOSSTOPO_SITE_DIRS", "").split(os.pathsep)):
    site.addsitedir(_d)
