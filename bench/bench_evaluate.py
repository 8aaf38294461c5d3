"""Benchmark: landscape evaluation (points/s), losstopo vs the naive per-point loop, side by side.

The naive loop is what Li et al.'s loss-landscape and the loss-landscapes package do: for every point
copy theta + a1 d1 + a2 d2 into the weights (`p.copy_`), forward under no_grad, loss and accuracy, all
with default settings. "Ours" is losstopo.landscape's evaluator with the settings `losstopo landscape` chooses for a
41x41 landscape of that case (strategy, channels_last, torch.compile, malloc tuning).

Each runs in its own worker process (malloc tuning is process-wide, so the naive loop must not inherit
it); the parent alternates rounds between them (same model, data and coordinates) and reports medians.
limit = the machine's float32 peak measured in this run (best of a 2048^2 matmul and conv2d at the
model's own layer shapes, batch = evaluation samples, channels_last) / FLOPs of one point's forward.

One JSON line per case: case, ours_pps, naive_pps, ratio, limit_pps, fraction_of_limit (+ details).
Run: flock /tmp/losstopo-cpu.lock .venv/bin/python bench/bench_evaluate.py [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

CASES = {
    # name: (model kwargs, data, points per round)
    "MLP-digits": ("mlp", {}, "digits", 600),
    "ResNet-20-digits": ("resnet20", {"in_channels": 1}, "digits", 60),
    "ResNet-20-32x32-256": ("resnet20", {"in_channels": 3}, "random32", 12),
}


def setup(case: str) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor, list[dict], np.ndarray]:
    from losstopo.models.data import load_dataset
    from losstopo.subspace.directions import make_directions
    from losstopo.models.zoo import build_model

    name, kwargs, data, n = CASES[case]
    torch.manual_seed(0)
    model = build_model(name, **kwargs).eval()
    if data == "digits":
        X, y = load_dataset("digits", "test")
    else:
        g = torch.Generator().manual_seed(0)
        X, y = torch.randn(256, 3, 32, 32, generator=g), torch.randint(0, 10, (256,), generator=g)
    dirs = make_directions(model, "filter", 2, seed=0).tensors
    coords = np.random.default_rng(0).uniform(-1, 1, (n, 2))
    return model, X, y, dirs, coords


class Naive:
    def __init__(self, model, X, y, dirs) -> None:
        self.model = copy.deepcopy(model).eval()
        self.theta = [p.detach().clone() for p in model.parameters()]
        names = [n for n, _ in model.named_parameters()]
        self.d1 = [dirs[0][n] for n in names]
        self.d2 = [dirs[1][n] for n in names]
        self.X, self.y = X, y

    def run(self, coords: np.ndarray) -> np.ndarray:
        out_loss = []
        with torch.no_grad():
            for a1, a2 in coords:
                for p, t, d1, d2 in zip(self.model.parameters(), self.theta, self.d1, self.d2):
                    p.copy_(t + a1 * d1 + a2 * d2)
                out = self.model(self.X)
                out_loss.append(F.cross_entropy(out, self.y).item())
                _ = (out.argmax(1) == self.y).float().mean().item()
        return np.array(out_loss)


class Ours:
    def __init__(self, model, X, y, dirs, n_landscape: int = 41 * 41) -> None:
        from losstopo import process
        from losstopo.fileio import cache_root
        from losstopo.landscape import EvalConfig, PointEvaluator, plan_run

        process.tune_malloc()  # what the command line opts in to (losstopo.cli)
        process.use_compile_cache(cache_root() / "inductor")
        plan = plan_run(model, dirs, np.zeros((n_landscape, 2)), X, y, EvalConfig(compile="auto"))
        self.ev = PointEvaluator(model, dirs, X, y, EvalConfig(strategy=plan.strategy))
        if plan.compile:
            self.ev.maybe_compile(np.zeros((1, 2)))
        self.detail = {"strategy": self.ev.strategy, "compiled": self.ev.compiled,
                       "channels_last": self.ev.channels_last, "first_layer_folded": self.ev._fold is not None,
                       "notes": self.ev.notes}

    def run(self, coords: np.ndarray) -> np.ndarray:
        return self.ev.evaluate(coords)[0]


def peak_gflops(model: torch.nn.Module, X: torch.Tensor, seconds: float = 1.0) -> dict[str, float]:
    """float32 GFLOP/s: a 2048^2 matmul, and conv2d at each of the model's conv layer shapes."""

    def rate(fn, flops: float, seconds: float = seconds) -> float:
        fn()
        best = 0.0
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end:
            t = time.perf_counter()
            fn()
            best = max(best, flops / (time.perf_counter() - t))
        return best / 1e9

    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = {"matmul_2048": rate(lambda: torch.mm(a, b), 2 * n ** 3)}
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append((m, i[0].shape, o.shape)))
             for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model(X[:1])
    for h in hooks:
        h.remove()
    seen = set()
    with torch.no_grad():
        for m, ishape, oshape in shapes:
            key = (m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, tuple(ishape[1:]))
            if key in seen:
                continue
            seen.add(key)
            x = torch.randn(len(X), *ishape[1:]).contiguous(memory_format=torch.channels_last)
            w = m.weight.detach().clone().contiguous(memory_format=torch.channels_last)
            flops = 2 * len(X) * oshape[1] * oshape[2] * oshape[3] * m.in_channels * m.kernel_size[0] * \
                m.kernel_size[1] // m.groups
            out[f"conv{m.in_channels}-{m.out_channels}@{ishape[2]}px"] = rate(
                lambda x=x, w=w, m=m: F.conv2d(x, w, None, m.stride, m.padding), flops, seconds / 2)
    return out


def worker(kind: str, case: str) -> None:
    """Line protocol on stdin: 'run' -> {"pps", "checksum"}; 'peak' -> GFLOP/s; 'quit'."""
    model, X, y, dirs, coords = setup(case)
    runner = Naive(model, X, y, dirs) if kind == "naive" else Ours(model, X, y, dirs)
    runner.run(coords[:3])  # warm-up
    print(json.dumps({"ready": True, "detail": getattr(runner, "detail", {})}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "run":
            t = time.perf_counter()
            loss = runner.run(coords)
            dt = time.perf_counter() - t
            print(json.dumps({"pps": len(coords) / dt, "loss": loss.tolist()}), flush=True)
        elif cmd == "peak":
            print(json.dumps(peak_gflops(model, X)), flush=True)
        else:
            return


class Worker:
    def __init__(self, kind: str, case: str) -> None:
        self.p = subprocess.Popen([sys.executable, __file__, "--worker", kind, case], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.ready = self.ask(None)

    def ask(self, cmd: str | None) -> Any:
        if cmd is not None:
            self.p.stdin.write(cmd + "\n")
            self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"bench worker died (exit {self.p.wait()})")
        return json.loads(line)

    def close(self) -> None:
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
        except BrokenPipeError:
            pass
        self.p.wait(60)


def bench_case(case: str, rounds: int) -> dict[str, Any]:
    from losstopo.models.zoo import build_model, model_flops

    name, kwargs, data, _ = CASES[case]
    shape = (1, 8, 8) if data == "digits" else (3, 32, 32)
    n_samples = 360 if data == "digits" else 256
    flops_point = model_flops(build_model(name, **kwargs), shape) * n_samples
    naive, ours = Worker("naive", case), Worker("ours", case)
    try:
        np_, op_ = [], []
        max_diff = 0.0
        naive.ask("run"), ours.ask("run")  # a full warm-up round, not counted
        for _ in range(rounds):  # alternating rounds: both see the same drift of this VM's speed
            a, b = naive.ask("run"), ours.ask("run")
            np_.append(a["pps"])
            op_.append(b["pps"])
            la, lb = np.array(a["loss"]), np.array(b["loss"])  # relative: random-init losses reach 1e4
            max_diff = max(max_diff, float(np.max(np.abs(la - lb) / np.maximum(1.0, np.abs(la)))))
        peaks = ours.ask("peak")
    finally:
        naive.close()
        ours.close()
    peak = max(peaks.values())
    o, n = statistics.median(op_), statistics.median(np_)
    limit = peak * 1e9 / flops_point
    return {"case": case, "ours_pps": round(o, 2), "naive_pps": round(n, 2), "ratio": round(o / n, 3),
            "limit_pps": round(limit, 2), "fraction_of_limit": round(o / limit, 3),
            "peak_gflops": round(peak, 1), "peak_source": max(peaks, key=peaks.get),
            "mflop_per_point": round(flops_point / 1e6, 2), "rounds": rounds,
            "ours_rounds": [round(v, 2) for v in op_], "naive_rounds": [round(v, 2) for v in np_],
            "max_rel_loss_diff": max_diff, **ours.ready["detail"],
            "threads": torch.get_num_threads(), "load_avg_1min": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="3 rounds")
    ap.add_argument("--case", choices=list(CASES), action="append")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    for case in args.case or CASES:
        print(json.dumps(bench_case(case, 3 if args.quick else args.rounds)), flush=True)


if __name__ == "__main__":
    main()
