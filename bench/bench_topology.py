"""Benchmark: built-in join tree + 0-dim persistence vs gudhi, side by side in one run.

One JSON line per case: case, n_vertices, ours_s, gudhi_s (median wall seconds), ratio (= gudhi_s /
ours_s, how many times faster ours is), ours_cpu_s, gudhi_cpu_s (process CPU seconds: the cost on an
idle machine when others share the 2 cores), rounds, load_avg_1min.
Ours = compute_topology (join tree, pairs, segmentation, region sizes) after warm-up; gudhi = its
fastest route: CubicalComplex(vertices=...) for images (4-/6-neighbour cubical connectivity, a
lighter domain than TTK's triangulation) and a lower-star SimplexTree built with
insert_batch for the graph. Rounds alternate ours/gudhi (the VM's speed drifts); medians reported.
A last line reports the first call's numba compile time in a fresh process with an empty cache.

Run: flock /tmp/losstopo-cpu.lock .venv/bin/python bench/bench_topology.py [--quick]
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

import numpy as np

from losstopo.representation import GraphConnectivity, ImageConnectivity
from losstopo.topology import compute_topology


def smooth_field(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A smooth landscape with many minima plus a little noise, in VTK order (x fastest)."""
    rng = np.random.default_rng(seed)
    axes = [np.linspace(-3, 3, n) for n in shape]
    grids = np.meshgrid(*axes, indexing="ij")
    f = sum(np.sin(2.5 * g + k) for k, g in enumerate(grids)) + 0.3 * sum(g * g for g in grids)
    f = f + 0.01 * rng.normal(size=f.shape)
    return np.ascontiguousarray(f.transpose(*reversed(range(len(shape)))).ravel())  # x fastest


def knn_graph(n: int, k: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    pts = rng.uniform(-1, 1, size=(n, 2))
    _, nn = cKDTree(pts).query(pts, k=k + 1)
    edges = np.stack([np.repeat(np.arange(n), k), nn[:, 1:].ravel()], axis=1)
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    values = np.sin(4 * pts[:, 0]) * np.cos(3 * pts[:, 1]) + pts[:, 0] ** 2 + 0.01 * rng.normal(size=n)
    return pts, edges, values


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of fn(); CPU time shows the cost when the
    shared machine is loaded (numba code here is single-threaded)."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def gudhi_image(values: np.ndarray, shape: tuple[int, ...]) -> tuple[float, float]:
    import gudhi

    def run():
        cc = gudhi.CubicalComplex(vertices=values.reshape(tuple(reversed(shape))))
        cc.compute_persistence(homology_coeff_field=2, min_persistence=-1)
        cc.persistence_intervals_in_dimension(0)

    return timed(run)


def gudhi_graph(values: np.ndarray, edges: np.ndarray) -> tuple[float, float]:
    import gudhi

    def run():
        st = gudhi.SimplexTree()
        st.insert_batch(np.arange(values.size)[None, :], values)
        st.insert_batch(edges.T, np.maximum(values[edges[:, 0]], values[edges[:, 1]]))
        st.compute_persistence(persistence_dim_max=False)
        st.persistence_intervals_in_dimension(0)

    return timed(run)


def ours(values: np.ndarray, conn) -> tuple[float, float]:
    return timed(lambda: compute_topology(values, conn))


def run_case(name: str, values: np.ndarray, conn, gudhi_fn, rounds: int, target: float | None = None) -> dict:
    ours(values, conn)  # warm-up (numba, caches)
    o, g = [], []
    for _ in range(rounds):
        o.append(ours(values, conn))
        g.append(gudhi_fn())
    med = lambda xs, k: statistics.median(x[k] for x in xs)  # noqa: E731
    out = {"case": name, "n_vertices": int(values.size), "ours_s": round(med(o, 0), 4),
           "gudhi_s": round(med(g, 0), 4)}
    out["ratio"] = round(out["gudhi_s"] / out["ours_s"], 2)
    out.update(ours_cpu_s=round(med(o, 1), 4), gudhi_cpu_s=round(med(g, 1), 4), rounds=rounds,
               load_avg_1min=round(os.getloadavg()[0], 2))
    if target is not None:
        out["target_ours_s"] = target
    return out


def compile_time() -> dict:
    """First compute_topology call in a fresh process with an empty numba cache."""
    code = ("import time, numpy as np; t=time.perf_counter();"
            "from losstopo.topology import compute_topology; from losstopo.representation import ImageConnectivity;"
            "compute_topology(np.random.rand(100), ImageConnectivity((10, 10)), simplify=0.1);"
            "print(time.perf_counter()-t)")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": tmp}
        cold = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True).stdout)
        warm = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True).stdout)
    return {"case": "numba_first_call", "compile_s": round(cold, 2), "cached_first_call_s": round(warm, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds, skip the 1001x1001 image")
    a = p.parse_args()
    rounds = 3 if a.quick else 5
    cases = [("image_201x201", (201, 201), None)]
    if not a.quick:
        cases.append(("image_1001x1001", (1001, 1001), 0.3))
    cases.append(("volume_64^3", (64, 64, 64), None))
    for name, shape, target in cases:
        values = smooth_field(shape)
        print(json.dumps(run_case(name, values, ImageConnectivity(shape),
                                  lambda v=values, s=shape: gudhi_image(v, s), rounds, target)), flush=True)
    pts, edges, values = knn_graph(100_000)
    conn = GraphConnectivity(edges, values.size, pts)
    print(json.dumps(run_case("knn8_graph_100k", values, conn, lambda: gudhi_graph(values, edges), rounds)),
          flush=True)
    print(json.dumps(compile_time()), flush=True)


if __name__ == "__main__":
    main()
