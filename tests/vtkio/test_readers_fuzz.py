"""Readers under corrupt input: random bytes, truncated and bit-flipped copies of real files.

Every case must end in either a clean read or a one-line LossTopoError: never another exception, a
crash or a hang. VTK's C++ readers could in principle segfault on corrupt input, so VTK cases run
in a child process (one per batch) with a timeout; the .npz landscape reader runs in-process.
The number of examples is bounded to keep the whole file under ~20 s.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DATA
from losstopo.errors import LossTopoError
from losstopo.landscape.files import Landscape, load_landscape, save_landscape

VTK_SOURCES = [DATA / "cases" / f for f in ("landscape_resnet56_noshort.vti", "knn_scatter_800.vtu",
                                             "rough3d_16x12x10.vti")]

# The child: every reader on the path of `losstopo analyze` (vtkio.read, the array lookup, edges,
# connectivity checks) for each file; prints one JSON object {file: outcome}.
_CHILD = r"""
import json, sys
from losstopo.jobs.analyze import load_domain
from losstopo.errors import LossTopoError
out = {}
for f in sys.argv[1:]:
    try:
        dom = load_domain(f)
        out[f] = "ok"
    except LossTopoError as e:
        msg = str(e)
        out[f] = "error" if msg and "\n" not in msg else "bad-message:" + msg
    except Exception as e:
        out[f] = "other:" + type(e).__name__ + ": " + str(e)[:200]
print("RESULT" + json.dumps(out))
"""


def corrupt(data: bytes, how: str, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    b = bytearray(data)
    if how == "truncate":
        return bytes(b[: int(rng.integers(0, len(b)))])
    if how == "flip":
        for _ in range(int(rng.integers(1, 9))):
            p = int(rng.integers(0, len(b)))
            b[p] ^= 1 << int(rng.integers(0, 8))
        return bytes(b)
    if how == "splice":  # overwrite a run with random bytes (headers, offsets, sizes, data)
        p = int(rng.integers(0, len(b)))
        q = min(len(b), p + int(rng.integers(1, 200)))
        b[p:q] = rng.integers(0, 256, q - p, dtype=np.uint8).tobytes()
        return bytes(b)
    raise ValueError(how)


def run_child(files: list[Path]) -> dict[str, str]:
    proc = subprocess.run([sys.executable, "-c", _CHILD, *map(str, files)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"reader crashed (rc {proc.returncode}): {proc.stderr[-2000:]}"
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def check(outcomes: dict[str, str]) -> None:
    bad = {f: o for f, o in outcomes.items() if o not in ("ok", "error")}
    assert not bad, bad


def test_truncations_and_bit_flips_of_real_files(tmp_path):
    files = []
    for src in VTK_SOURCES:
        data = src.read_bytes()
        cuts = np.linspace(0, len(data) - len(b"</VTKFile>\n"), 12).astype(int)
        for i, cut in enumerate(cuts):  # truncations
            files.append(tmp_path / f"t{i}_{src.name}")
            files[-1].write_bytes(data[:cut])
        for seed in range(12):
            for how in ("flip", "splice"):
                files.append(tmp_path / f"{how}{seed}_{src.name}")
                files[-1].write_bytes(corrupt(data, how, seed))
    # Headers on which VTK itself aborts, segfaults or allocates without bound (found by fuzzing):
    # absurd extents, a piece with lo > hi, a data offset into the middle of another block.
    data = VTK_SOURCES[0].read_bytes()
    for i, n in enumerate((39999, 3999999)):
        files.append(tmp_path / f"t_extent{i}.vti")
        assert b"0 40 0 40 0 0" in data  # the 41x41 landscape's extent
        files[-1].write_bytes(data.replace(b"0 40 0 40 0 0", f"0 {n} 0 {n} 0 0".encode()))
    files.append(tmp_path / "t_piece.vti")
    files[-1].write_bytes(data.replace(b'Piece Extent="0 40 0 40 0 0"', b'Piece Extent="0 40 5 1 0 0"'))
    graph = VTK_SOURCES[1].read_bytes()
    last = re.findall(rb'offset="(\d+)"', graph)[-1]  # the last data block's offset, moved into another block
    files.append(tmp_path / "t_offset.vtu")
    files[-1].write_bytes(graph.replace(b'offset="' + last + b'"', b'offset="%d"' % (int(last) + 500)))
    outcomes = run_child(files)
    check(outcomes)
    # Every truncated copy is rejected (VTK itself would read them as zero-filled data without a word).
    assert all(outcomes[str(f)] == "error" for f in files if f.name.startswith("t"))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(st.tuples(st.sampled_from(range(len(VTK_SOURCES))),
                                st.sampled_from(["truncate", "flip", "splice"]),
                                st.integers(0, 2**32 - 1)), min_size=8, max_size=8),
       blobs=st.lists(st.binary(min_size=0, max_size=3000), min_size=2, max_size=2))
def test_hypothesis_corruptions_never_crash_vtk_readers(tmp_path_factory, specs, blobs):
    d = tmp_path_factory.mktemp("fuzz")
    files = []
    for i, (src, how, seed) in enumerate(specs):
        path = VTK_SOURCES[src]
        files.append(d / f"c{i}{path.suffix}")
        files[-1].write_bytes(corrupt(path.read_bytes(), how, seed))
    for i, blob in enumerate(blobs):  # raw random bytes, one with a plausible VTK XML start
        files.append(d / f"b{i}.vtu")
        head = b'<?xml version="1.0"?>\n<VTKFile type="UnstructuredGrid"' if i else b""
        files[-1].write_bytes(head + blob)
    check(run_child(files))


@pytest.fixture(scope="module")
def npz_bytes(tmp_path_factory) -> bytes:
    d = tmp_path_factory.mktemp("land")
    rng = np.random.default_rng(0)
    save_landscape(d, Landscape(coords=rng.random((30, 2)), loss=rng.random(30), accuracy=rng.random(30),
                                resolution=None, span=1.0))
    return (d / "landscape.npz").read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=st.sampled_from(["truncate", "flip", "splice", "random"]), seed=st.integers(0, 2**32 - 1),
       blob=st.binary(max_size=600))
def test_landscape_reader_fuzz(tmp_path_factory, npz_bytes, how, seed, blob):
    d = tmp_path_factory.mktemp("npz")
    data = blob if how == "random" else corrupt(npz_bytes, how, seed)
    (d / "landscape.npz").write_bytes(data)
    try:
        ls = load_landscape(d)
    except LossTopoError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert len(ls.coords) == len(ls.loss) == len(ls.accuracy)  # a read that succeeds is consistent


def test_every_vtk_xml_encoding_still_reads(tmp_path):
    """The structural checks before VTK parses a file accept every layout VTK writes."""
    from vtkmodules.vtkIOXML import vtkXMLImageDataWriter, vtkXMLUnstructuredGridWriter

    from losstopo import vtkio

    rng = np.random.default_rng(1)
    img = vtkio.make_image((30, 20), (0, 0), (1, 1), {"Loss": rng.random(600)})
    graph = vtkio.make_graph(rng.random((50, 2)), np.array([[0, 1], [1, 2], [2, 3]]),
                             {"Loss": rng.random(50)})
    cases = ((img, vtkXMLImageDataWriter, ".vti"), (graph, vtkXMLUnstructuredGridWriter, ".vtu"))
    for data, writer, ext in cases:
        for mode in ("Ascii", "Binary", "Appended"):
            for compressed in (False, True):
                for wide in (False, True):
                    w = writer()
                    path = tmp_path / f"{mode}_{compressed}_{wide}{ext}"
                    w.SetFileName(str(path))
                    w.SetInputData(data)
                    getattr(w, f"SetDataModeTo{mode}")()
                    if not compressed:
                        w.SetCompressorTypeToNone()
                    if wide:
                        w.SetHeaderTypeToUInt64()
                    w.SetEncodeAppendedData(compressed)  # base64 and raw appended data
                    assert w.Write()
                    back = vtkio.scalar_field(vtkio.read(path), "Loss")
                    assert np.array_equal(back, vtkio.scalar_field(data, "Loss")), path.name
