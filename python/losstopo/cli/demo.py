"""`losstopo demo`: the whole pipeline on the embedded digits default (what `make demo` runs)."""

from __future__ import annotations

import argparse

from ..settings import DIRECTION_KINDS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="demo", help="output folder (default ./demo)")
    p.add_argument("--resolution", type=int, default=41, help="points per axis (default 41)")
    p.add_argument("--span", type=float, default=1.0, help="half-width of the grid (default 1)")
    p.add_argument("--directions", default="filter", choices=DIRECTION_KINDS)
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from ..jobs.demo import run_demo

    print("\n".join(run_demo(args.out, resolution=args.resolution, span=args.span, directions=args.directions,
                             show_progress=not args.quiet)))
    return 0
