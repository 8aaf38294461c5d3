"""`losstopo demo --out DIR` (`make demo`): the whole pipeline on the embedded digits default.

Default model: ResNet-20 (with residual connections) on scikit-learn's digits, 10 epochs, seed 0; it
trains in about 7 s on 2 cores (98.6% test accuracy), well under the 40 s that would have made the small
CNN the default. Then its 41x41 filter-normalised landscape (span 1) and a contour PNG, then the
topology of that landscape (image and kNN graph) when losstopo.analyze is present. Idempotent: the
model (DIR/model.pt) and the landscape (DIR/landscape/) are reused when they exist.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .fileio import ensure_output_dir

DEMO_MODEL = "resnet20"
DEMO_DATA = "digits"
DEMO_EPOCHS = 10
DEMO_SEED = 0


def ensure_model(out: Path, show_progress: bool = True) -> Path:
    """DIR/model.pt: trained once, then reused."""
    path = out / "model.pt"
    if path.exists():
        return path
    from .checkpoint import save_checkpoint
    from .train import train_model

    model, info = train_model(DEMO_MODEL, data=DEMO_DATA, seed=DEMO_SEED, epochs=DEMO_EPOCHS,
                              progress=show_progress)
    save_checkpoint(path, model, info)
    return path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="demo", help="output folder (default ./demo)")
    p.add_argument("--resolution", type=int, default=41, help="points per axis (default 41)")
    p.add_argument("--span", type=float, default=1.0, help="half-width of the grid (default 1)")
    p.add_argument("--directions", default="filter", choices=("random", "filter", "hessian"))
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from .landscape import compute_landscape
    from .plots_landscape import plot_landscape

    t0 = time.perf_counter()
    out = ensure_output_dir(args.out)
    model_path = ensure_model(out, show_progress=not args.quiet)
    ls_dir = out / "landscape"
    ls = compute_landscape(model_path, directions=args.directions, resolution=args.resolution, span=args.span,
                           out_dir=ls_dir, resume=True, show_progress=not args.quiet)
    png = plot_landscape(ls, out / "landscape.png")
    lines = [f"model      {model_path}",
             f"landscape  {ls_dir} ({len(ls.loss)} points, loss min {float(ls.finite_loss().min()):.4f}, "
             f"{ls.meta.get('points_per_second')} points/s when computed)",
             f"picture    {png}"]

    # Stages 3-5: topology of the landscape as an image (TTK's triangulation) and as its 8-NN graph.
    from .analyze import analyze_path

    for sub, kwargs, label in (("topology_image", {}, "grid image"),
                               ("topology_graph", {"knn": 8}, "8-nearest-neighbour graph")):
        s = analyze_path(ls_dir, out / sub, **kwargs)
        lines.append(f"topology   {out / sub} ({label}: {s['minima']} minima, {s['saddles']} saddles, "
                     f"average persistence {s['average_persistence']:.4g})")

    print("\n".join(lines) + f"\ndemo done in {time.perf_counter() - t0:.1f} s")
    return 0
