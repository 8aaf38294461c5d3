"""`losstopo study files`: metrics equal real TTK's outputs, on our fixtures (tests/data) and, where
$LOSSTOPO_REFERENCE names them, on the published ResNet-20 landscapes with TTK's own CSVs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, REFERENCE, needs_reference
from references import data_manifest, ttk_outputs, ttk_zero_dim_pairs
from losstopo import vtkio
from losstopo.cli import main

LOSSLENS = REFERENCE / "losslens"
REGEX = r"resnet20_(?P<group>res|nores)_seed(?P<seed>\d+)_random_d(?P<span>[0-9.]+)"


def ttk_numbers(name: str) -> dict[str, float]:
    """Minima, saddles and average persistence from TTK's CSVs (values looked up exactly in the .vti)."""
    loss = vtkio.scalar_field(vtkio.read(LOSSLENS / f"{name}.vti"), "Loss")
    with open(LOSSLENS / f"{name}.mergetree.csv", newline="") as f:
        types = [int(r["CriticalType"]) for r in csv.DictReader(f)]
    with open(LOSSLENS / f"{name}.persistence.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    pers = []
    for a, b in zip(rows[0::2], rows[1::2]):
        if int(a["CriticalType"]) != 0:  # 1-dimensional (saddle-maximum) pairs are not ours
            continue
        pers.append(loss[int(b["ttkVertexScalarField"])] - loss[int(a["ttkVertexScalarField"])])
    return {"minima": types.count(0), "saddles": types.count(1) + types.count(4),
            "average_persistence": float(np.mean(pers)), "n_pairs": len(pers)}


@pytest.fixture(scope="module")
def files_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("files")
    rc = main(["study", "files", str(LOSSLENS / "resnet20_*.vti"), "--group-by", REGEX, "--out", str(out)])
    return rc, out


@needs_reference
def test_reference_metrics_equal_ttk(files_run: tuple[int, Path]) -> None:
    rc, out = files_run
    assert rc == 0
    with open(out / "files.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # 32 random-direction files match the regex; the one Hessian-direction file does not.
    assert len(rows) == 32
    assert {r["group"] for r in rows} == {"res", "nores"}
    assert {float(r["span"]) for r in rows} == {0.05, 0.1, 0.5, 1.0}
    assert {int(r["seed"]) for r in rows} == {0, 123, 123456, 2023}
    saddle_counts = set()
    for r in rows:
        ref = ttk_numbers(Path(r["file"]).stem)
        assert int(r["minima"]) == ref["minima"], r["file"]
        assert int(r["saddles"]) == ref["saddles"], r["file"]
        assert int(r["n_pairs"]) == ref["n_pairs"], r["file"]
        assert float(r["average_persistence"]) == pytest.approx(ref["average_persistence"], rel=1e-9)
        saddle_counts.add(ref["saddles"])
    assert len(saddle_counts) > 3  # the check is not vacuous: the files differ
    png = (out / "files_figure.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    summary = (out / "files_summary.md").read_text()
    assert "| nores | 0.05 | 4 |" in summary and "resnet20_nores_seed0_hessian_d0.05" in summary


def test_fixture_images_equal_real_ttk(tmp_path: Path) -> None:
    """The 2-D fixture images grouped by their kind: minima, saddles and pairs as real TTK found them."""
    rc = main(["study", "files", str(DATA / "cases" / "*2d*.vti"), str(DATA / "cases" / "landscape_*.vti"),
               "--group-by", r"^(?P<group>[a-z]+)", "--out", str(tmp_path)])
    assert rc == 0
    with open(tmp_path / "files.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 4 and len({r["group"] for r in rows}) >= 3
    build = data_manifest()["builds"][0]
    checked = 0
    for r in rows:
        ttk = ttk_outputs(Path(r["file"]).stem, build)
        if ttk is None:
            continue
        types = ttk["tree0/point/CriticalType"].tolist()
        assert int(r["minima"]) == types.count(0) and int(r["saddles"]) == types.count(1) + types.count(4)
        assert int(r["n_pairs"]) == len(ttk_zero_dim_pairs(ttk))
        checked += 1
    assert checked >= 3
    assert (tmp_path / "files_figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_graph_file(tmp_path: Path) -> None:
    """A .vtu graph input uses its line cells: the path 0-1-2-3-4 with values 1 0 2 0 3 has 2 minima."""
    from losstopo.jobs.study_files import topology_of_file

    pts = np.array([[i, 0.0] for i in range(5)])
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4]])
    vals = np.array([1.0, 0.0, 2.0, 0.0, 3.0])
    vtkio.write(tmp_path / "g.vtu", vtkio.make_graph(pts, edges, point_arrays={"Loss": vals}))
    m = topology_of_file(tmp_path / "g.vtu")
    assert (m["kind"], m["minima"], m["saddles"]) == ("graph", 2, 1)
    # pairs: global (vertex 1 -> global max 4) persistence 3; vertex 3 dies at the saddle 2: persistence 2
    assert m["average_persistence"] == pytest.approx(2.5)


def _err(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    last = err.strip().splitlines()[-1]  # earlier lines can only be the progress bar
    assert last.startswith("losstopo: error: ") and "; " in last
    assert all("%|" in line for line in err.strip().splitlines()[:-1])
    return last


def test_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vti = str(DATA / "cases" / "ties2d_50x30.vti")
    err = _err(capsys, ["study", "files", str(tmp_path / "nothing_*.vti"), "--group-by", "(x)", "--out",
                        str(tmp_path / "o")])
    assert "no landscape file matches" in err
    err = _err(capsys, ["study", "files", vti, "--group-by", "ties2d", "--out", str(tmp_path / "o")])
    assert "has no group" in err
    err = _err(capsys, ["study", "files", vti, "--group-by", "(unclosed", "--out", str(tmp_path / "o")])
    assert "not a valid regular expression" in err
    err = _err(capsys, ["study", "files", vti, "--group-by", "(vit)_", "--out", str(tmp_path / "o")])
    assert "matches none" in err
    err = _err(capsys, ["study", "files", vti, "--group-by", "(ties)", "--array", "Nope", "--out",
                        str(tmp_path / "o")])
    assert "no point array 'Nope'" in err
