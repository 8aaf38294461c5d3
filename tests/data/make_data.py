"""Regenerate tests/data: fixtures made by losstopo itself, each with the outputs real TTK gives for it.

    .venv/bin/python tests/data/make_data.py                          # fields, landscapes and TTK outputs
    .venv/bin/python tests/data/make_data.py --ttk 1.2.0=/opt/ttk-1.2.0/bin/plugins/TopologyToolKit/TopologyToolKit.so \
        --ttk 0a69faadd=/opt/ttk/bin/plugins/TopologyToolKit/TopologyToolKit.so   # which TTK builds to run
    .venv/bin/python tests/data/make_data.py --only-ttk               # keep the cases, rerun TTK only

Cases (tests/data/cases/<name>.vti|.vtu, point array `Loss`): seeded synthetic fields of the kinds the
topology must get right (2-D and 3-D images full of ties, rough 3-D, float32, a 301x301 image, a 1-D
image, kNN graphs of scattered and of grid points, a disconnected graph) and landscapes computed by
losstopo itself (a deep plain ResNet trained on digits, as an image and as its 8-NN graph). The fields
are stored, not regenerated in the tests, so no test depends on a random stream.

For every case and every TTK build given, one pvpython process (ttk_outputs.py, crash- and hang-tolerant)
runs TTK's merge tree (Join Tree, direct arcs, 1 thread), TTK's persistence diagram (defaults) and the
chain TTKTopologicalSimplificationByPersistence (Minimum-Saddle, absolute threshold from manifest.json)
-> merge tree -> diagram, and stores every array of every output port, in TTK's own point and cell
order and types, in cases/<name>.ttk-<build>.npz. TTK failures (TTK crashes on some 1-D inputs) are
recorded in manifest.json and the tests skip those cases with the recorded reason.

Anyone with TTK can rerun this and diff the files: the .npz hold TTK's raw outputs, nothing of losstopo.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
MANIFEST = HERE / "manifest.json"
TTK_SCRIPT = HERE / "ttk_outputs.py"
TTK_TIMEOUT = 120


# ----------------------------------------------------------------------------------------------- fields
def _image(name: str, values: np.ndarray, dims: tuple[int, ...], spacing: float = 1.0, origin: float = 0.0,
           note: str = "") -> dict:
    from losstopo import vtkio
    from losstopo.representation import ImageConnectivity

    n = len(dims)
    conn = ImageConnectivity(dims=dims, origin=(origin,) * n, spacing=(spacing,) * n)
    vtkio.write(CASES / f"{name}.vti", vtkio.image_dataset(conn, {"Loss": values}))
    return {"name": name, "file": f"{name}.vti", "kind": f"image{n}d", "dtype": str(values.dtype), "note": note}


def _graph(name: str, values: np.ndarray, points: np.ndarray, edges: np.ndarray, note: str = "") -> dict:
    from losstopo import vtkio
    from losstopo.representation import GraphConnectivity, points3

    conn = GraphConnectivity(edges=edges, n_vertices=len(points), points=points3(points))
    vtkio.write(CASES / f"{name}.vtu", vtkio.graph_dataset(conn, {"Loss": values}))
    return {"name": name, "file": f"{name}.vtu", "kind": "graph", "dtype": str(values.dtype), "note": note}


def _exact_knn_edges(points: np.ndarray, k: int = 8) -> np.ndarray:
    from losstopo.representation import exact_knn, symmetric_edges

    return symmetric_edges(exact_knn(points, k)[0])


def _bumps(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    z = 0.3 * (x ** 2 + y ** 2)
    for _ in range(n):
        cx, cy, w, d = rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.05, 0.3), rng.uniform(0.2, 1.0)
        z -= d * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / w ** 2)
    return z


def synthetic_cases() -> list[dict]:
    out = []
    rng = np.random.default_rng(20261201)
    out.append(_image("ties2d_50x30", rng.integers(0, 5, 50 * 30).astype(np.float64), (50, 30),
                      note="integer values 0..4: ties everywhere"))
    a, b = np.meshgrid(np.linspace(-1, 1, 64), np.linspace(-1, 1, 48), indexing="xy")
    smooth = _bumps(a, b, rng, 8) + 1e-3 * rng.standard_normal(a.shape)
    out.append(_image("smooth2d_64x48", smooth.ravel().astype(np.float64), (64, 48), spacing=2 / 63, origin=-1.0,
                      note="eight Gaussian basins in a bowl"))
    a, b = np.meshgrid(np.linspace(-1, 1, 40), np.linspace(-1, 1, 40), indexing="xy")
    f32 = (_bumps(a, b, rng, 5) + 0.02 * rng.standard_normal(a.shape)).astype(np.float32)
    out.append(_image("float32_40x40", f32.ravel(), (40, 40), spacing=0.05, origin=-1.0,
                      note="float32 values (TTK keeps the input's type)"))
    out.append(_image("rough3d_16x12x10", rng.random(16 * 12 * 10), (16, 12, 10), note="uniform noise"))
    out.append(_image("ties3d_12", rng.integers(0, 4, 12 ** 3).astype(np.float64), (12, 12, 12),
                      note="integer values 0..3 in 3-D"))
    a, b = np.meshgrid(np.linspace(-1, 1, 301), np.linspace(-1, 1, 301), indexing="xy")
    big = (_bumps(a, b, rng, 20) + 0.05 * np.sin(23 * a) * np.cos(19 * b)).astype(np.float32)
    out.append(_image("big2d_301x301", big.ravel(), (301, 301), spacing=2 / 300, origin=-1.0,
                      note="301x301 float32, many shallow basins"))
    walk = np.cumsum(rng.standard_normal(200)) + np.linspace(0, 60, 200)  # the maximum at the end
    out.append(_image("line_200", walk, (200,), note="1-D random walk on a ramp (highest vertex at the end)"))
    pts = rng.random((800, 2)) * 2 - 1
    vals = _bumps(pts[:, 0], pts[:, 1], rng, 6) + 0.01 * rng.standard_normal(800)
    out.append(_graph("knn_scatter_800", vals, pts, _exact_knn_edges(pts), note="exact 8-NN of 800 scattered points"))
    g = np.linspace(-1, 1, 21)
    gx, gy = np.meshgrid(g, g, indexing="xy")
    gpts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    gvals = _bumps(gpts[:, 0], gpts[:, 1], rng, 4) + 0.005 * rng.standard_normal(len(gpts))
    out.append(_graph("knn_grid_21", gvals, gpts, _exact_knn_edges(gpts),
                      note="exact 8-NN of 21x21 grid points (equidistant neighbours)"))
    left = rng.random((150, 2)) * 0.8 - 1.0
    right = rng.random((120, 2)) * 0.8 + 0.2
    both = np.concatenate([left, right])
    perm = rng.permutation(len(both))  # interleave the components' vertex ids
    both = both[perm]
    dvals = _bumps(both[:, 0], both[:, 1], rng, 4)
    out.append(_graph("graph_disconnected", dvals, both, _exact_knn_edges(both, 6),
                      note="two point clouds, their 6-NN graphs: two components with interleaved ids"))
    return out


# ------------------------------------------------------------------------------------------- landscapes
LANDSCAPE = "landscape_resnet56_noshort"


def landscape_cases() -> list[dict]:
    """A landscape computed by losstopo: ResNet-56 without skips on digits, 41x41 filter-normalised, span 1."""
    import torch

    from losstopo import vtkio
    from losstopo.landscape import Landscape, save_landscape
    from losstopo.landscape.driver import evaluate_coords
    from losstopo.landscape.grid import grid_coords
    from losstopo.models import load_dataset
    from losstopo.models.train import evaluate_model
    from losstopo.models.zoo import ResNet20
    from losstopo.subspace import make_directions

    folder = HERE / LANDSCAPE
    if not (folder / "landscape.npz").exists():
        torch.set_num_threads(1)
        x_tr, y_tr = load_dataset("digits", "train")
        x_te, y_te = load_dataset("digits", "test")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = ResNet20(in_channels=1, num_classes=10, residual=False, blocks_per_stage=9)
            opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
            loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_tr, y_tr), batch_size=128,
                                                 shuffle=True, generator=torch.Generator().manual_seed(0))
            for _ in range(10):
                model.train()
                for xb, yb in loader:
                    opt.zero_grad(set_to_none=True)
                    torch.nn.functional.cross_entropy(model(xb), yb).backward()
                    opt.step()
                sched.step()
        model.eval()
        test_loss, test_acc = evaluate_model(model, x_te, y_te)
        dirs = make_directions(model, "filter", dims=2, seed=0)
        coords = grid_coords(41, 1.0, 2)
        loss, acc, _info = evaluate_coords(model, dirs.tensors, coords, x_te, y_te, show_progress=True)
        meta = {"model": "ResNet-56 without skip connections (losstopo.models.zoo.ResNet20, blocks_per_stage=9)",
                "data": "digits", "directions": "filter", "seed": 0, "training": "SGD lr 0.1 momentum 0.9 "
                "weight decay 5e-4, cosine, 10 epochs, batch 128, seed 0, 1 thread", "test_loss": test_loss,
                "test_accuracy": test_acc, "made_by": "tests/data/make_data.py"}
        ls = Landscape(coords=coords, loss=loss, accuracy=acc, resolution=(41, 41), span=1.0, meta=meta)
        save_landscape(folder, ls)
        vtkio.write_landscape_vti(ls, folder)
    from losstopo.landscape import load_landscape

    ls = load_landscape(folder)
    ds, _conn, _info = vtkio.landscape_to_vtk(ls, "image")
    vtkio.write(CASES / f"{LANDSCAPE}.vti", ds)
    graph, _gconn, _ginfo = vtkio.landscape_to_vtk(ls, "knn", 8)
    vtkio.write(CASES / f"{LANDSCAPE}_knn8.vtu", graph)
    return [{"name": LANDSCAPE, "file": f"{LANDSCAPE}.vti", "kind": "image2d", "dtype": "float64",
             "note": "losstopo landscape of a deep plain ResNet on digits (several basins)"},
            {"name": f"{LANDSCAPE}_knn8", "file": f"{LANDSCAPE}_knn8.vtu", "kind": "graph", "dtype": "float64",
             "note": "the same landscape's 8-NN graph (grid coordinates)"}]


# ------------------------------------------------------------------------------------------------- TTK
def simplification_threshold(case: dict) -> float:
    """A threshold halfway between two distinct finite persistence values around the median (0 if none)."""
    from losstopo import vtkio
    from losstopo.topology import compute_topology

    data = vtkio.read(CASES / case["file"])
    r = compute_topology(vtkio.scalar_field(data, "Loss"), vtkio.dataset_connectivity(data))
    pers = np.unique(r.pairs.persistence[r.pairs.finite])
    if pers.size < 2:
        return 0.0
    i = max(1, pers.size // 2)
    return float(0.5 * (pers[i - 1] + pers[i]))


def ttk_file(case: dict, build: str, job: str) -> Path:
    """Where TTK's outputs of `job` ('topology': tree and diagram; 'simplification': the chain) are kept."""
    return CASES / f"{case['name']}.ttk-{build}{'' if job == 'topology' else '.' + job}.npz"


def run_ttk(build: str, plugin: str, case: dict, job: str) -> dict:
    """TTK's outputs of one job for one case in its own pvpython process; {'status': ..., 'seconds': ...}."""
    out = ttk_file(case, build, job)
    job_spec = {"plugin": plugin, "input": str(CASES / case["file"]), "array": "Loss", "output": str(out),
                "job": job, "threshold": case["threshold"]}
    env = {k: v for k, v in os.environ.items() if k not in ("PV_PLUGIN_PATH", "PYTHONPATH")}
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(["pvpython", str(TTK_SCRIPT), json.dumps(job_spec)], stdout=log,
                                stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
        try:
            rc = proc.wait(timeout=TTK_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            rc = "timeout"
        log.seek(0)
        text = log.read()
    seconds = round(time.perf_counter() - t0, 2)
    if "TTK-OUTPUTS-WRITTEN" in text and out.exists():
        return {"status": "ok", "seconds": seconds}
    out.unlink(missing_ok=True)
    if rc == "timeout":
        return {"status": f"TTK did not finish within {TTK_TIMEOUT} s (it hangs on this input)", "seconds": seconds}
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in text.splitlines()]
    last = [ln for ln in lines if ln][-1:] or ["no output"]
    return {"status": f"TTK failed (exit {rc}): {last[0][:200]}", "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ttk", action="append", default=[], metavar="BUILD=PLUGIN.so",
                   help="a TTK build to run (repeatable); default: the two builds under /opt if present")
    p.add_argument("--only-ttk", action="store_true", help="keep the cases and thresholds, rerun TTK only")
    args = p.parse_args(argv)
    builds = dict(item.split("=", 1) for item in args.ttk) or {
        b: f for b, f in (("1.2.0", "/opt/ttk-1.2.0/bin/plugins/TopologyToolKit/TopologyToolKit.so"),
                          ("0a69faadd", "/opt/ttk/bin/plugins/TopologyToolKit/TopologyToolKit.so")) if Path(f).exists()}
    CASES.mkdir(parents=True, exist_ok=True)
    if args.only_ttk:
        cases = json.loads(MANIFEST.read_text())["cases"]
    else:
        cases = synthetic_cases() + landscape_cases()
        for case in cases:
            case["threshold"] = simplification_threshold(case)
    for case in cases:
        case.setdefault("ttk", {})
        for build, plugin in builds.items():
            jobs = ["topology"] + (["simplification"] if case["threshold"] > 0 else [])
            case["ttk"][build] = {job: run_ttk(build, plugin, case, job) for job in jobs}
            print(f"{case['name']:32s} TTK {build:10s} {case['ttk'][build]}", flush=True)
    MANIFEST.write_text(json.dumps({"made_by": "tests/data/make_data.py", "builds": sorted(builds),
                                    "cases": cases}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1] / "python"))
    sys.exit(main())
