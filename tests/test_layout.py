"""The layout's rules hold: the import contracts (pyproject.toml, import-linter) pass and catch wrong
imports, argparse and VTK/ParaView stay at their edges, package faces are faces, modules stay small."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "python" / "losstopo"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 400

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed (make setup)")


def _lint(root: Path, config: Path = REPO / "pyproject.toml") -> subprocess.CompletedProcess:
    """lint-imports on the losstopo package under `root` with the project's contracts."""
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(config), "--no-cache"], capture_output=True,
                          text=True, env=env, cwd=root, timeout=300)


def _broken(report: str) -> list[str]:
    """Names of the broken contracts in lint-imports' report (it wraps long names over lines)."""
    summary = report.split("Analyzed", 1)[-1].split("Contracts:", 1)[0]
    text = " ".join(summary.split("-\n", 1)[-1].split())
    return [m.group(1).strip() for m in re.finditer(r"(.+?) (?:KEPT|BROKEN)(?: \(\d+ ignored imports?\))?", text)
            if m.group(0).rstrip().split(" (")[0].endswith("BROKEN")]


def test_the_import_contracts_hold():
    res = _lint(REPO / "python")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "5 kept, 0 broken" in res.stdout


@pytest.fixture(scope="module")
def copy_of_package(tmp_path_factory):
    root = tmp_path_factory.mktemp("pkg")
    shutil.copytree(PACKAGE, root / "losstopo", ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.mark.parametrize("module, line, contract", [
    ("topology/compute.py", "from ..vtkio import merge_tree_vtk", "layers"),  # a stage importing an edge
    ("landscape/grid.py", "from ..topology import compute_topology", "layers"),  # an earlier stage, a later one
    ("names.py", "from .errors import LossTopoError", "layers"),  # a leaf importing losstopo
    ("jobs/demo.py", "from ..cli import main", "layers"),  # importing the command line
    ("metrics.py", "import matplotlib.pyplot", "only the plots edge imports matplotlib"),
    ("study/stats.py", "import argparse", "only the command line imports argparse"),
    ("representation/knn.py", "import vtkmodules.vtkCommonCore", "only the VTK and ParaView edges"),
    ("topology/types.py", "from . import compute", "no import cycle"),
])
def test_a_wrong_import_breaks_a_contract(copy_of_package, module, line, contract):
    path = copy_of_package / "losstopo" / module
    original = path.read_text()
    try:
        path.write_text(original + f"\n{line}  # a deliberately wrong import\n")
        res = _lint(copy_of_package)
        assert res.returncode != 0
        assert any(name.startswith(contract) for name in _broken(res.stdout)), res.stdout[-3000:]
    finally:
        path.write_text(original)


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def test_vtk_and_paraview_are_imported_only_in_their_edges():
    """Every file counts here, also the plugin, the state files and the pvpython scripts (no package)."""
    edges = (PACKAGE / "vtkio", PACKAGE / "paraview")
    offenders = [p.relative_to(PACKAGE) for p in _sources()
                 if _imports(p) & {"vtkmodules", "vtk", "paraview"} and not any(e in p.parents for e in edges)]
    assert offenders == []


def test_argparse_lives_in_the_cli_only():
    offenders = []
    for p in _sources():
        if PACKAGE / "cli" in p.parents:
            continue
        tree = ast.parse(p.read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "add_argument"]
        if calls or "argparse" in _imports(p):
            offenders.append(p.relative_to(PACKAGE))
    assert offenders == []


def test_package_faces_have_a_docstring_and_all():
    for init in PACKAGE.rglob("__init__.py"):
        if init.parent.name == "scripts":  # pvpython scripts: a folder of programs, not an API
            continue
        tree = ast.parse(init.read_text())
        doc = ast.get_docstring(tree)
        assert doc, init
        names = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        assert "__all__" in names, init


def test_modules_are_small_or_say_why():
    for p in _sources():
        n = len(p.read_text().splitlines())
        if n > MAX_LINES:
            doc = ast.get_docstring(ast.parse(p.read_text())) or ""
            assert f"longer than {MAX_LINES} lines" in doc.lower(), f"{p.relative_to(PACKAGE)} has {n} lines"
