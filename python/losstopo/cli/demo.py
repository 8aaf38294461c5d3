"""`losstopo demo`: two models side by side on the embedded digits (what `make demo` runs)."""

from __future__ import annotations

import argparse

from ..settings import DIRECTION_KINDS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="demo", help="output folder (default ./demo)")
    p.add_argument("--resolution", type=int, default=21, help="points per axis (default 21)")
    p.add_argument("--span", type=float, default=1.0, help="half-width of the grid (default 1)")
    p.add_argument("--directions", default="filter", choices=DIRECTION_KINDS)
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default 1: the digits models are too small to share; torch's own default "
                        "was 4x slower here); "
                        "recorded in OUT/demo.json")
    p.add_argument("--depth", type=int, default=20,
                   help="ResNet depth of the pair (default 20; 56 or 110 take minutes)")
    p.add_argument("--no-render", action="store_true", help="skip the pvpython renders")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from ..jobs.demo import run_demo

    print("\n".join(run_demo(args.out, resolution=args.resolution, span=args.span, directions=args.directions,
                             show_progress=not args.quiet, threads=args.threads, render=not args.no_render,
                             depth=args.depth)))
    return 0
