"""Benchmark: TTK's own filters next to the built-in backend on the same inputs, side by side in one run.

One JSON line per case (1001x1001 image, 64^3 volume, 100k-point 8-NN graph): ours_s (compute_topology:
join tree, pairs, segmentation; warm, median of the rounds), ttk_s (TTK's merge tree + persistence diagram
as timed inside the TTK process, file reading excluded; 1 thread, as the TTK backend runs them, since only
then are TTK's ids deterministic), ttk_2threads_s (the same filters with 2 threads), ratio = ttk_s / ours_s
(how many times faster ours is), and backend_s: the whole `compute_topology_ttk` call (process start,
files, TTK, reading back), what `analyze --backend ttk` pays. Rounds alternate ours / TTK.
Needs TTK where losstopo finds it (`losstopo doctor`); prints one line and exits 0 without it.

Run: .venv/bin/python bench/bench_ttk.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_topology import knn_graph, smooth_field
from losstopo import names, vtkio
from losstopo.paraview import ttk as ttk_backend
from losstopo.paraview.env import find_executable, paraview_environment
from losstopo.paraview.ttk_find import find_ttk
from losstopo.representation import GraphConnectivity, ImageConnectivity
from losstopo.topology import compute_topology

SCRIPT = Path(ttk_backend.__file__).with_name("scripts") / "ttk_run.py"


def ttk_times(inst, src: Path, threads: int) -> float:
    """Seconds TTK's merge tree + persistence diagram took inside the TTK process."""
    with tempfile.TemporaryDirectory() as out:
        job = {"job": "topology", "route": inst.route, "merge_tree": inst.names.merge_tree.proxy,
               "input": str(src), "out": out, "threshold": 0.0, "array": names.LOSS, "threads": threads}
        exe = find_executable("pvpython") if inst.route == "paraview" else sys.executable
        res = subprocess.run([exe, str(SCRIPT), json.dumps(job)], capture_output=True, text=True, timeout=3600,
                             env=paraview_environment())
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("TTK-TIMES ")), None)
    if line is None:
        raise RuntimeError(f"TTK failed: {(res.stderr.strip().splitlines() or ['no output'])[-1]}")
    t = json.loads(line[len("TTK-TIMES "):])
    return t["merge_tree"] + t["persistence_diagram"]


def case(inst, name: str, values: np.ndarray, conn, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / ("in.vti" if isinstance(conn, ImageConnectivity) else "in.vtu")
        ds = (vtkio.image_dataset if isinstance(conn, ImageConnectivity) else vtkio.graph_dataset)(
            conn, {names.LOSS: values})
        vtkio.write(src, ds)
        compute_topology(values, conn)  # warm-up (numba)
        ours, ttk1, ttk2 = [], [], []
        for _ in range(rounds):
            t = time.perf_counter()
            compute_topology(values, conn)
            ours.append(time.perf_counter() - t)
            ttk1.append(ttk_times(inst, src, 1))
            ttk2.append(ttk_times(inst, src, 2))
        t = time.perf_counter()
        ttk_backend.compute_topology_ttk(values, conn)
        backend = time.perf_counter() - t
    out = {"case": name, "n_vertices": int(values.size), "ours_s": round(statistics.median(ours), 4),
           "ttk_s": round(statistics.median(ttk1), 4), "ttk_2threads_s": round(statistics.median(ttk2), 4)}
    out["ratio"] = round(out["ttk_s"] / out["ours_s"], 2)
    out.update(backend_s=round(backend, 2), ttk=f"{inst.names.version} via {inst.source}", rounds=rounds,
               load_avg_1min=round(os.getloadavg()[0], 2))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller inputs, one round")
    args = ap.parse_args()
    inst = find_ttk()
    if not inst.usable:
        print(json.dumps({"case": "ttk", "skipped": inst.problem}))
        return
    rounds = 1 if args.quick else 3
    side, vol, n = (201, 16, 10_000) if args.quick else (1001, 64, 100_000)
    print(json.dumps(case(inst, f"image_{side}x{side}", smooth_field((side, side)), ImageConnectivity((side, side)),
                          rounds)), flush=True)
    print(json.dumps(case(inst, f"volume_{vol}^3", smooth_field((vol,) * 3), ImageConnectivity((vol,) * 3),
                          rounds)), flush=True)
    pts, edges, values = knn_graph(n)
    print(json.dumps(case(inst, f"knn8_graph_{n}", values, GraphConnectivity(edges, n, pts), rounds)), flush=True)


if __name__ == "__main__":
    main()
