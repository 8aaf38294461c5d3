"""`losstopo landscape` end to end: files and conventions, determinism, reuse, and one-line user errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from losstopo import cli, names
from losstopo.models.checkpoint import load_checkpoint, save_checkpoint
from losstopo.models.data import load_dataset
from losstopo.subspace.directions import load_directions
from losstopo.landscape.grid import grid_coords
from losstopo.landscape.compute import compute_landscape
from losstopo.landscape.files import Landscape, load_landscape, save_landscape
from losstopo.models.zoo import build_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    model = build_model("mlp", hidden=(16,))
    path = tmp_path_factory.mktemp("ckpt") / "mlp.pt"
    save_checkpoint(path, model, {"model": "mlp", "model_kwargs": {"hidden": [16]}, "data": "digits", "seed": 0})
    return path


@pytest.fixture(scope="module")
def landscape_dir(ckpt, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ls")
    assert cli.main([ "landscape", str(ckpt), "--resolution", "5", "--span", "0.5", "--samples", "64",
                     "--out", str(out), "--quiet"]) == 0
    return out


def _user_error(argv: list[str], capsys) -> str:
    rc = cli.main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err and err.startswith("losstopo: error:")
    return err


def test_files_and_conventions(landscape_dir, ckpt):
    for f in (names.LANDSCAPE_NPZ, names.LANDSCAPE_VTI, names.DIRECTIONS_PT, names.META_JSON):
        assert (landscape_dir / f).is_file(), f
    assert not (landscape_dir / "chunks").exists()
    leftovers = [p for p in landscape_dir.iterdir() if p.name.startswith(".") and p.name != ".losstopo.lock"]
    assert not leftovers  # no temporary leftovers (the lock file stays: fileio.output_lock)
    z = np.load(landscape_dir / names.LANDSCAPE_NPZ)
    np.testing.assert_array_equal(z["coords"], grid_coords(5, 0.5, 2))
    assert z["coords"].dtype == np.float64 and z["loss"].dtype == np.float64
    assert list(z["resolution"]) == [5, 5] and float(z["span"]) == 0.5
    meta = json.loads((landscape_dir / names.META_JSON).read_text())
    for k in ("checkpoint", "checkpoint_sha256", "directions", "seed", "normalization", "resolution", "span",
              "samples", "torch_version", "wall_seconds", "points_per_second", "strategy", "n_nonfinite"):
        assert k in meta, k
    assert meta["checkpoint_sha256"] == load_checkpoint(ckpt).sha256 and meta["samples"] == 64
    # the centre is the checkpoint itself: its loss equals a direct evaluation
    lc = load_checkpoint(ckpt)
    X, y = load_dataset("digits", "test", samples=64)
    with torch.no_grad():
        direct = torch.nn.functional.cross_entropy(lc.model(X), y).item()
    assert abs(z["loss"][12] - direct) <= 1e-5
    # the .vti: same values, same point order, coordinate units
    from losstopo import vtkio

    img = vtkio.read(landscape_dir / names.LANDSCAPE_VTI)
    dims, origin, spacing = vtkio.image_geometry(img)
    assert dims == (5, 5, 1) and origin[:2] == (-0.5, -0.5) and np.allclose(spacing[:2], 0.25)
    np.testing.assert_array_equal(vtkio.scalar_field(img, names.LOSS), z["loss"])
    np.testing.assert_array_equal(vtkio.scalar_field(img, "RawLoss"), z["loss"])
    np.testing.assert_array_equal(vtkio.scalar_field(img, names.ACCURACY), z["accuracy"])
    np.testing.assert_allclose(vtkio.points(img)[:, :2], z["coords"])


def test_deterministic_and_directions_file_reproduces(landscape_dir, ckpt, tmp_path):
    again = tmp_path / "again"
    assert cli.main(["landscape", str(ckpt), "--resolution", "5", "--span", "0.5", "--samples", "64",
                     "--out", str(again), "--quiet"]) == 0
    a, b = load_landscape(landscape_dir), load_landscape(again)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert load_directions(landscape_dir / names.DIRECTIONS_PT).digest() == \
        load_directions(again / names.DIRECTIONS_PT).digest()
    # scattered coordinates with --directions-file: exactly the grid's values at those points
    pick = np.array([0, 7, 12, 24])
    np.save(tmp_path / "c.npy", a.coords[pick])
    sc = tmp_path / "scatter"
    assert cli.main(["landscape", str(ckpt), "--coords", str(tmp_path / "c.npy"), "--samples", "64",
                     "--directions-file", str(landscape_dir / names.DIRECTIONS_PT), "--out", str(sc), "--quiet"]) == 0
    s = load_landscape(sc)
    assert s.resolution is None and not (sc / names.LANDSCAPE_VTI).exists()
    np.testing.assert_array_equal(s.loss, a.loss[pick])
    np.testing.assert_array_equal(s.accuracy, a.accuracy[pick])


def test_compute_landscape_cache_is_reused(ckpt, tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSTOPO_CACHE", str(tmp_path))
    first = compute_landscape(ckpt, resolution=3, samples=32, show_progress=False)
    assert first.directory is not None and str(first.directory).startswith(str(tmp_path))
    assert first.resolution == (3, 3) and first.finite_loss().shape == (9,)

    def fail(*a, **k):
        raise AssertionError("recomputed")

    monkeypatch.setattr("losstopo.landscape.compute.evaluate_coords", fail)
    second = compute_landscape(ckpt, resolution=3, samples=32, show_progress=False)
    np.testing.assert_array_equal(first.loss, second.loss)
    assert second.directory == first.directory
    with pytest.raises(AssertionError, match="recomputed"):  # other settings: another folder
        compute_landscape(ckpt, resolution=3, samples=32, seed=1, show_progress=False)


def test_nonfinite_values_in_files(tmp_path):
    loss = np.array([1.0, np.inf, 0.5, np.nan])
    corners = np.array([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    ls = Landscape(coords=corners, loss=loss, accuracy=np.zeros(4), resolution=(2, 2), span=1.0)
    save_landscape(tmp_path, ls)
    from losstopo import vtkio

    vtkio.write_landscape_vti(ls, tmp_path)
    img = vtkio.read(tmp_path / names.LANDSCAPE_VTI)
    finite = vtkio.scalar_field(img, names.LOSS)
    assert np.all(np.isfinite(finite)) and finite[1] > 1.0 and finite[3] > 1.0
    np.testing.assert_array_equal(vtkio.scalar_field(img, names.VALID_MASK), [1, 0, 1, 0])
    back = load_landscape(tmp_path)
    assert np.isinf(back.loss[1]) and np.isnan(back.loss[3])


def test_bad_inputs_one_line_exit_2(ckpt, tmp_path, capsys):
    out = str(tmp_path / "o")
    assert "does not exist" in _user_error(["landscape", str(tmp_path / "missing.pt"), "--out", out], capsys)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00garbage" * 10)
    _user_error(["landscape", str(bad), "--out", out], capsys)
    assert "span" in _user_error(["landscape", str(ckpt), "--span", "0", "--out", out], capsys)
    assert "span" in _user_error(["landscape", str(ckpt), "--span", "-1", "--out", out], capsys)
    assert "resolution" in _user_error(["landscape", str(ckpt), "--resolution", "1", "--out", out], capsys)
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert "is a file" in _user_error(["landscape", str(ckpt), "--out", str(afile)], capsys)
    assert "cannot create" in _user_error(["landscape", str(ckpt), "--out", str(afile / "sub")], capsys)
    txt = tmp_path / "c.npy"
    txt.write_text("hello")
    assert "coordinates" in _user_error(["landscape", str(ckpt), "--coords", str(txt), "--out", out], capsys)
    np.save(tmp_path / "c4.npy", np.zeros((3, 4)))
    assert "shape" in _user_error(["landscape", str(ckpt), "--coords", str(tmp_path / "c4.npy"), "--out", out],
                                  capsys)
    np.save(tmp_path / "cn.npy", np.array([[0.0, np.nan]]))
    assert "NaN" in _user_error(["landscape", str(ckpt), "--coords", str(tmp_path / "cn.npy"), "--out", out], capsys)
    assert "coordinates" in _user_error(["landscape", str(ckpt), "--coords", str(tmp_path / "none.npy"),
                                         "--out", out], capsys)
    assert "device" in _user_error(["landscape", str(ckpt), "--device", "nonsense", "--out", out], capsys)
    if not torch.cuda.is_available():
        assert "CUDA" in _user_error(["landscape", str(ckpt), "--device", "cuda", "--out", out], capsys)
    assert not (tmp_path / "o" / "chunks").exists()  # refused before any work
    assert "torchrun" in _user_error(["landscape", str(ckpt), "--resolution", "3", "--distributed", "--out", out],
                                     capsys)


def test_subprocess_error_has_no_traceback(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    r = subprocess.run([sys.executable, "-m", "losstopo", "landscape", str(tmp_path / "nope.pt"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_plots_for_every_shape(tmp_path):
    from losstopo.plots.landscape import plot_landscape

    rng = np.random.default_rng(0)
    cases = {
        "d1": Landscape(grid_coords(9, 1.0, 1), rng.uniform(0.1, 2, 9), np.zeros(9), (9,), 1.0),
        "d2": Landscape(grid_coords(6, 1.0, 2), np.r_[np.inf, rng.uniform(0.1, 2, 35)], np.zeros(36), (6, 6), 1.0),
        "d3": Landscape(grid_coords(4, 1.0, 3), rng.uniform(0.1, 2, 64), np.zeros(64), (4, 4, 4), 1.0),
        "scatter": Landscape(rng.uniform(-1, 1, (30, 2)), rng.uniform(0.1, 2, 30), np.zeros(30), None, 1.0),
    }
    for name, ls in cases.items():
        p = plot_landscape(tmp_path / f"{name}.png", ls.coords, ls.loss, ls.resolution)
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000, name


def test_hessian_directions_through_the_cli(ckpt, tmp_path):
    out = tmp_path / "h"
    assert cli.main(["landscape", str(ckpt), "--directions", "hessian", "--resolution", "3", "--samples", "32",
                     "--out", str(out), "--quiet"]) == 0
    d = load_directions(out / names.DIRECTIONS_PT)
    meta = json.loads((out / names.META_JSON).read_text())
    assert d.meta["kind"] == "hessian" and meta["normalization"] == "none" and meta["keep_1d"] is True
    from losstopo.subspace.directions import flatten

    norms = [float(flatten(t).norm()) for t in d.tensors]
    assert np.allclose(norms, 1.0, atol=1e-4)  # unit eigenvectors, not rescaled
    # the centre is the checkpoint whatever the directions are
    lc = load_checkpoint(ckpt)
    X, y = load_dataset("digits", "test", samples=32)
    with torch.no_grad():
        direct = torch.nn.functional.cross_entropy(lc.model(X), y).item()
    assert abs(load_landscape(out).loss[4] - direct) <= 1e-5
