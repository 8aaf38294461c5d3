"""`losstopo analyze`: merge tree, persistence diagram and metrics of a landscape (stages 3-5)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import names, settings
from ..jobs.analyze import BACKENDS, TOPOLOGY_JSON
from .parser import checked


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input",
                        help="landscape folder (landscape.npz / landscape.vti), or a .vti / .vtu file")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--array", default=names.LOSS, help="point array to analyse (default: %(default)s)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="topology backend: TTK when loadable in ParaView, else built-in (default: auto)")
    parser.add_argument("--simplify", type=checked(settings.threshold), default=0.0,
                        help="remove minimum-saddle pairs of persistence <= this first (default: 0)")
    parser.add_argument("--simplify-relative", action="store_true",
                        help="read --simplify as a fraction of the value range")
    parser.add_argument("--representation", choices=("image", "knn"), default=None,
                        help="image (grids) or knn (the k-nearest-neighbour graph of the points, written as "
                             "knn_graph.vtu); default: the input's own connectivity")
    parser.add_argument("--k", type=checked(settings.k, int), default=8,
                        help="neighbours per point of the kNN graph (default 8)")
    parser.add_argument("--knn-method", choices=settings.KNN_METHODS, default="auto",
                        help="kNN graph: exact (k-d tree), nndescent (pynndescent, recall recorded) or auto "
                             "(exact in 1-3 dimensions or below 20,000 points; default)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kNN graph construction")
    parser.add_argument("--no-pictures", action="store_true", help="skip the PNG pictures")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an analysis of other settings in --out (refused without it)")


def run(args: argparse.Namespace) -> int:
    from ..jobs.analyze import analyze_path

    s = analyze_path(args.input, args.out, array=args.array, backend=args.backend, simplify=args.simplify,
                     representation=args.representation, k=args.k, simplify_relative=args.simplify_relative,
                     seed=args.seed, pictures=not args.no_pictures, overwrite=args.overwrite,
                     knn_method=args.knn_method)
    knn = (f", kNN k={s['knn']['k']} {s['knn'].get('method', '')} recall {s['knn']['recall']:.4f}"
           if s["knn"] else "")
    print(f"{s['connectivity']} of {s['n_vertices']} vertices ({s['backend']}{knn}): {s['minima']} minima, "
          f"{s['saddles']} saddles, average persistence {s['average_persistence']:.6g}; "
          f"wrote {Path(args.out) / TOPOLOGY_JSON}")
    for note in s["notes"]:
        print(f"note: {note}")
    return 0
