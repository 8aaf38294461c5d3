"""`losstopo render`: a state or the whole pipeline rendered headless by pvpython, one PNG per view."""

from __future__ import annotations

import argparse

from ..paraview.env import state_names
from ..paraview.launch import BACKENDS, REPRESENTATIONS
from ..settings import DIRECTION_KINDS
from .parser import size


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("landscape", nargs="?", help="landscape folder, landscape.npz, .vti or .vtu")
    p.add_argument("--state", help=f"state to apply ({', '.join(state_names())}, or a state file); without it "
                                   "the whole pipeline is built and both layouts rendered")
    p.add_argument("--out", help="folder for the PNGs (one per view)")
    p.add_argument("--checkpoint", help="compute the landscape in ParaView from this checkpoint (Loss "
                                        "Landscape source) instead of reading LANDSCAPE")
    p.add_argument("--directions", default="filter", choices=DIRECTION_KINDS)
    p.add_argument("--resolution", type=int, default=41)
    p.add_argument("--span", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--samples", type=int, default=0, help="evaluation samples (0: the whole test split)")
    p.add_argument("--representation", default="image", choices=REPRESENTATIONS)
    p.add_argument("--k", type=int, default=8, help="neighbours per point of the kNN graph")
    p.add_argument("--backend", default="builtin", choices=BACKENDS,
                   help="topology filters: the plugin's built-in ones, or TTK's (needs TTK in ParaView)")
    p.add_argument("--threshold", type=float, default=0.0, help="persistence threshold of the diagram layout")
    p.add_argument("--size", type=size, default=(800, 600), help="PNG size WIDTHxHEIGHT (default 800x600)")
    p.add_argument("--keep-camera", action="store_true", help="use the state's saved cameras")
    p.add_argument("--make-statefiles", action="store_true",
                   help="regenerate the .pvsm state files (needs TTK loaded in ParaView) into --out and exit")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before giving up (default 1800)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a finished render of other settings in --out (refused without it)")


def run(args: argparse.Namespace) -> int:
    from ..errors import LossTopoError
    from ..paraview.launch import RenderRequest, render, run_paraview, statefiles_command

    if args.make_statefiles:
        if not args.out:
            raise LossTopoError("no output folder for the state files", "pass --out statefiles")
        return run_paraview(statefiles_command(args.out), timeout=args.timeout)
    if not args.out:
        raise LossTopoError("no output folder", "pass --out DIR")
    w, h = args.size
    request = RenderRequest(out=args.out, landscape=args.landscape, state=args.state, checkpoint=args.checkpoint,
                            directions=args.directions, resolution=args.resolution, span=args.span,
                            seed=args.seed, samples=args.samples, representation=args.representation, k=args.k,
                            backend=args.backend, threshold=args.threshold, width=w, height=h,
                            keep_camera=args.keep_camera)
    return render(request, timeout=args.timeout, overwrite=args.overwrite)
