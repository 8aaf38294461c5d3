"""Bad input to every subcommand of the real `losstopo` executable (issue 10): missing, empty and corrupt
files, wrong arrays, read-only and existing outputs, huge and tiny spans, resolution 2, 3-D landscapes
with 2-D states, all-NaN landscapes. Each must end in exit code 2 and one line on stderr naming the
problem, with no traceback, no crash or core dump, and no partial output: an --out that did not exist
does not exist afterwards, one that existed is byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import have_pvpython

pytestmark = pytest.mark.slow  # ~70 runs of the real executable, about 2-3 s each

ONE_LINE = re.compile(r"^losstopo( [a-z]+)*: error: \S")


def _unwritable(tmp: Path) -> Path:
    """A folder path no command can create (root can write anywhere but /proc)."""
    if os.geteuid() == 0:
        return Path("/proc/losstopo-test-out")
    ro = tmp / "readonly"
    ro.mkdir(exist_ok=True)
    ro.chmod(0o555)
    return ro / "out"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Every kind of input the matrix uses, made once."""
    from losstopo import vtkio
    from losstopo.landscape.files import Landscape, save_landscape
    from losstopo.landscape.grid import grid_coords
    from losstopo.models.checkpoint import save_checkpoint
    from losstopo.models.train import train_model
    from losstopo.representation import ImageConnectivity

    d = tmp_path_factory.mktemp("inputs")
    f: dict[str, Path] = {"dir": d, "missing": d / "missing.pt", "unwritable": _unwritable(d)}
    model, info = train_model("mlp", data="digits", seed=0, epochs=1, samples=64, progress=False)
    f["ckpt"] = save_checkpoint(d / "model.pt", model, info)
    data = bytearray(f["ckpt"].read_bytes())
    data[len(data) // 2] ^= 0x40  # a flipped bit inside the stored tensors
    (d / "flipped.pt").write_bytes(bytes(data))
    f["flipped"] = d / "flipped.pt"
    (d / "empty.pt").write_bytes(b"")
    f["empty"] = d / "empty.pt"
    (d / "text.pt").write_text("epoch,loss\n1,0.5\n")
    f["text"] = d / "text.pt"
    for dims, n in ((2, 9), (3, 5)):
        c = grid_coords((n,) * dims, 1.0, dims)
        loss = (c ** 2).sum(1) + 0.2 * np.cos(4 * c[:, 0])
        ls = Landscape(coords=c, loss=loss, accuracy=0 * loss, resolution=(n,) * dims, span=1.0)
        save_landscape(d / f"ls{dims}d", ls)
        vtkio.write_landscape_vti(ls, d / f"ls{dims}d")
        f[f"ls{dims}d"] = d / f"ls{dims}d"
    nan = Landscape(coords=grid_coords((5, 5), 1.0, 2), loss=np.full(25, np.nan), accuracy=np.zeros(25),
                    resolution=(5, 5), span=1.0)
    save_landscape(d / "allnan", nan)
    vtkio.write_landscape_vti(nan, d / "allnan")
    f["allnan"] = d / "allnan"
    vtkio.write(d / "noloss.vti", vtkio.image_dataset(ImageConnectivity((5, 5)), {"Foo": np.arange(25.0)}))
    f["noloss"] = d / "noloss.vti"
    good = (f["ls2d"] / "landscape.vti").read_bytes()
    (d / "truncated.vti").write_bytes(good[: len(good) // 2])
    f["truncated"] = d / "truncated.vti"
    (d / "empty.vti").write_bytes(b"")
    f["empty_vti"] = d / "empty.vti"
    (d / "text.vti").write_text("not a vtk file\n")
    f["text_vti"] = d / "text.vti"
    (d / "corrupt").mkdir()
    (d / "corrupt" / "landscape.npz").write_bytes(os.urandom(2000))
    f["corrupt_dir"] = d / "corrupt"
    (d / "nolandscape").mkdir()
    f["nolandscape"] = d / "nolandscape"
    (d / "a_file").write_text("I am a file\n")
    f["a_file"] = d / "a_file"
    np.save(d / "coords_bad.npy", np.array([[np.nan, 0.0]]))
    f["coords_bad"] = d / "coords_bad.npy"
    return f


LS = ["--resolution", "5", "--samples", "32", "--quiet"]
CASES: dict[str, tuple[list[str], str]] = {
    # name: (arguments with {placeholders}, text the one line must contain)
    "train epochs 0": (["train", "--model", "mlp", "--epochs", "0", "--out", "{out}/m.pt"], "epochs"),
    "train negative lr": (["train", "--model", "mlp", "--lr", "-1", "--out", "{out}/m.pt"], "learning rate"),
    "train out inside a file": (["train", "--model", "mlp", "--out", "{a_file}/m.pt"], "is a file"),
    "metrics missing checkpoint": (["metrics", "{missing}", "--out", "{out}.json"], "does not exist"),
    "metrics empty checkpoint": (["metrics", "{empty}", "--out", "{out}.json"], "is empty"),
    "metrics text checkpoint": (["metrics", "{text}", "--out", "{out}.json"], "not a losstopo checkpoint"),
    "metrics flipped bits": (["metrics", "{flipped}", "--out", "{out}.json"], "corrupt"),
    "metrics out in a missing folder": (["metrics", "{ckpt}", "--out", "{out}/sub/m.json"], "cannot write"),
    "landscape missing checkpoint": (["landscape", "{missing}", *LS, "--out", "{out}"], "does not exist"),
    "landscape empty checkpoint": (["landscape", "{empty}", *LS, "--out", "{out}"], "is empty"),
    "landscape flipped bits": (["landscape", "{flipped}", *LS, "--out", "{out}"], "CRC check failed"),
    "landscape huge span": (["landscape", "{ckpt}", *LS, "--span", "1e300", "--out", "{out}"], "span 1e+300"),
    "landscape tiny span": (["landscape", "{ckpt}", *LS, "--span", "1e-300", "--out", "{out}"], "outside"),
    "landscape nan span": (["landscape", "{ckpt}", *LS, "--span", "nan", "--out", "{out}"], "span"),
    "landscape resolution 2": (["landscape", "{ckpt}", "--resolution", "2", "--out", "{out}"], "resolution"),
    "landscape dims 4": (["landscape", "{ckpt}", "--dims", "4", "--out", "{out}"], "dims"),
    "landscape out is a file": (["landscape", "{ckpt}", *LS, "--out", "{a_file}"], "is a file"),
    "landscape out unwritable": (["landscape", "{ckpt}", *LS, "--out", "{unwritable}"], "losstopo-test-out"
                                 if os.geteuid() == 0 else "readonly"),
    "landscape coords missing": (["landscape", "{ckpt}", "--coords", "{missing}.npy", "--out", "{out}"],
                                 "missing.pt.npy"),
    "landscape coords with NaN": (["landscape", "{ckpt}", "--coords", "{coords_bad}", "--out", "{out}"], "coord"),
    "landscape directions file missing": (["landscape", "{ckpt}", *LS, "--directions-file", "{missing}",
                                           "--out", "{out}"], "does not exist"),
    "analyze missing input": (["analyze", "{missing}.vti", "--out", "{out}"], "does not exist"),
    "analyze empty vti": (["analyze", "{empty_vti}", "--out", "{out}"], "empty"),
    "analyze truncated vti": (["analyze", "{truncated}", "--out", "{out}"], "truncated"),
    "analyze text as vti": (["analyze", "{text_vti}", "--out", "{out}"], "not a VTK XML"),
    "analyze corrupt landscape.npz": (["analyze", "{corrupt_dir}", "--out", "{out}"], "corrupt"),
    "analyze folder without landscape": (["analyze", "{nolandscape}", "--out", "{out}"], "holds no"),
    "analyze wrong array": (["analyze", "{ls2d}/landscape.vti", "--array", "Nope", "--out", "{out}"], "'Nope'"),
    "analyze no Loss array": (["analyze", "{noloss}", "--out", "{out}"], "no point array 'Loss'"),
    "analyze all NaN": (["analyze", "{allnan}", "--out", "{out}"], "no value is finite"),
    "analyze all NaN vti": (["analyze", "{allnan}/landscape.vti", "--out", "{out}"], "no value is finite"),
    "analyze out is a file": (["analyze", "{ls2d}", "--out", "{a_file}"], "is a file"),
    "analyze out unwritable": (["analyze", "{ls2d}", "--out", "{unwritable}"], "losstopo-test-out"
                               if os.geteuid() == 0 else "readonly"),
    "analyze k 0": (["analyze", "{ls2d}", "--representation", "knn", "--k", "0", "--out", "{out}"], "k = 0"),
    "analyze negative simplify": (["analyze", "{ls2d}", "--simplify", "-1", "--out", "{out}"], "threshold"),
    "study residual huge span": (["study", "residual", "--span", "1e300", "--out", "{out}"], "span"),
    "study residual resolution 2": (["study", "residual", "--resolution", "2", "--out", "{out}"], "resolution"),
    "study residual repeated seeds": (["study", "residual", "--seeds", "0", "0", "--out", "{out}"], "seeds repeat"),
    "study residual out is a file": (["study", "residual", "--out", "{a_file}"], "is a file"),
    "study files no match": (["study", "files", "{dir}/nothing_*.vti", "--group-by", "(a)", "--out", "{out}"],
                             "nothing_"),
    "study files bad regex": (["study", "files", "{ls2d}", "--group-by", "(", "--out", "{out}"], "group-by"),
    "study files corrupt file": (["study", "files", "{truncated}", "--group-by", "(trunc)", "--out", "{out}"],
                                 "truncated"),
    "study files all NaN": (["study", "files", "{allnan}", "--group-by", "(all)", "--out", "{out}"],
                            "no value is finite"),
    "demo huge span": (["demo", "--span", "1e300", "--out", "{out}"], "span"),
    "demo resolution 2": (["demo", "--resolution", "2", "--out", "{out}"], "resolution"),
    "demo out is a file": (["demo", "--out", "{a_file}"], "is a file"),
}
RENDER_CASES: dict[str, tuple[list[str], str]] = {
    "render no Loss array": (["render", "{noloss}", "--out", "{out}"], "no point array 'Loss'"),
    "render 3-D landscape with a 2-D state": (["render", "--state", "merge_tree", "{ls3d}", "--out", "{out}"],
                                              "3-D landscape"),
    "render 3-D landscape": (["render", "{ls3d}", "--out", "{out}"], "3-D landscape"),
    "render missing landscape": (["render", "{missing}.vti", "--out", "{out}"], "does not exist"),
    "render truncated vti": (["render", "{truncated}", "--out", "{out}"], "truncated"),
    "render empty vti": (["render", "{empty_vti}", "--out", "{out}"], "empty"),
    "render corrupt landscape.npz": (["render", "{corrupt_dir}", "--out", "{out}"], "corrupt"),
    "render all NaN": (["render", "{allnan}", "--out", "{out}"], "no value is finite"),
    "render flipped checkpoint": (["render", "--checkpoint", "{flipped}", "--out", "{out}"], "CRC check failed"),
    "render checkpoint huge span": (["render", "--checkpoint", "{ckpt}", "--span", "1e300", "--out", "{out}"],
                                    "span"),
    "render checkpoint resolution 2": (["render", "--checkpoint", "{ckpt}", "--resolution", "2", "--out", "{out}"],
                                       "resolution"),
    "render out unwritable": (["render", "{ls2d}", "--out", "{unwritable}"], "losstopo-test-out"
                              if os.geteuid() == 0 else "readonly"),
    "render out is a file": (["render", "{ls2d}", "--out", "{a_file}"], "is a file"),
    "render tiny size": (["render", "{ls2d}", "--size", "1x1", "--out", "{out}"], "size"),
    "render unknown state": (["render", "--state", "nope", "{ls2d}", "--out", "{out}"], "does not exist"),
    "render no output folder": (["render", "{ls2d}"], "no output folder"),
    "paraview missing landscape": (["paraview", "{missing}.vti", "--print-command"], "does not exist"),
    "paraview corrupt landscape": (["paraview", "{truncated}", "--print-command"], "truncated"),
    "paraview no Loss array": (["paraview", "{noloss}", "--print-command"], "no point array 'Loss'"),
    "paraview unknown state": (["paraview", "{ls2d}", "--state", "nope", "--print-command"], "does not exist"),
}


def _digest(path: Path) -> dict[str, str] | str | None:
    if not path.exists():
        return None
    if path.is_file():
        return hashlib.md5(path.read_bytes()).hexdigest()
    return {str(p.relative_to(path)): hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(path.rglob("*"))
            if p.is_file() and p.name != ".losstopo.lock"}


def _check(case: str, args: list[str], must: str, files: dict[str, Path], tmp_path: Path) -> None:
    values = {k: str(v) for k, v in files.items()} | {"out": str(tmp_path / "out")}
    argv = [a.format(**values) for a in args]
    outs = [Path(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "--out"]
    before = {p: _digest(p) for p in outs}
    inputs_before = _digest(files["dir"])
    res = subprocess.run([sys.executable, "-m", "losstopo", *argv], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2, (case, res.returncode, res.stderr[-3000:])
    assert len(lines) == 1 and ONE_LINE.match(lines[0]), (case, res.stderr[-3000:])
    assert must in lines[0], (case, lines[0])
    for bad in ("Traceback", "Segmentation", "SIGSEGV", "core dumped", "Fatal Python error"):
        assert bad not in res.stderr, (case, res.stderr[-3000:])
    assert not list(tmp_path.glob("core*")), case
    for p, digest in before.items():
        assert _digest(p) == digest, (case, "partial output", p)
    assert _digest(files["dir"]) == inputs_before, (case, "an input changed")
    assert not list(tmp_path.iterdir()), (case, "left behind", sorted(p.name for p in tmp_path.iterdir()))


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case, files, tmp_path):
    args, must = CASES[case]
    _check(case, args, must, files, tmp_path)


@pytest.mark.skipif(not have_pvpython(), reason="pvpython not installed")
@pytest.mark.parametrize("case", sorted(RENDER_CASES))
def test_bad_input_render_and_paraview(case, files, tmp_path):
    args, must = RENDER_CASES[case]
    _check(case, args, must, files, tmp_path)
