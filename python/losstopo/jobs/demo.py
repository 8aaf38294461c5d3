"""The demo (`losstopo demo --out DIR`, `make demo`): the whole pipeline on the embedded digits default.

Default model: ResNet-20 (with residual connections) on scikit-learn's digits, 10 epochs, seed 0; it
trains in about 7 s on 2 cores (98.6% test accuracy). Then its 41x41 filter-normalised landscape
(span 1) and a contour PNG, then the topology of that landscape as an image and as its kNN graph.
Idempotent: the model (DIR/model.pt) and the landscape (DIR/landscape/) are reused when they exist.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import settings
from ..fileio import output_folder

DEMO_MODEL = "resnet20"
DEMO_DATA = "digits"
DEMO_EPOCHS = 10
DEMO_SEED = 0


def ensure_model(out: Path, show_progress: bool = True) -> Path:
    """DIR/model.pt: trained once, then reused."""
    path = out / "model.pt"
    if path.exists():
        return path
    from ..models.checkpoint import save_checkpoint
    from ..models.train import train_model

    model, info = train_model(DEMO_MODEL, data=DEMO_DATA, seed=DEMO_SEED, epochs=DEMO_EPOCHS,
                              progress=show_progress)
    save_checkpoint(path, model, info)
    return path


def run_demo(out_dir: str | Path, resolution: int = 41, span: float = 1.0, directions: str = "filter",
             show_progress: bool = True) -> list[str]:
    """Train (or reuse) the model, compute its landscape and analyse it; returns the summary lines."""
    from .. import vtkio
    from ..landscape.compute import compute_landscape
    from ..plots.landscape import plot_landscape
    from .analyze import analyze_path

    t0 = time.perf_counter()
    settings.resolution(resolution, 2)  # bad settings fail before the training, not after it
    settings.span(span)
    settings.choice("--directions", directions, settings.DIRECTION_KINDS)
    with output_folder(out_dir, "demo", keep=lambda o: (o / "model.pt").exists()) as out:
        model_path = ensure_model(out, show_progress=show_progress)
        ls_dir = out / "landscape"
        ls = compute_landscape(model_path, directions=directions, resolution=resolution, span=span,
                               out_dir=ls_dir, resume=True, show_progress=show_progress)
        vtkio.write_landscape_vti(ls)
        png = plot_landscape(out / "landscape.png", ls.coords, ls.loss, ls.resolution,
                             title=f"{ls.meta.get('model')} on {ls.meta.get('data')}: {directions} directions")
        lines = [f"model      {model_path}",
                 f"landscape  {ls_dir} ({len(ls.loss)} points, loss min {float(ls.finite_loss().min()):.4f}, "
                 f"{ls.meta.get('points_per_second')} points/s when computed)",
                 f"picture    {png}"]
        for sub, rep, label in (("topology_image", None, "grid image"),
                                ("topology_graph", "knn", "8-nearest-neighbour graph")):
            s = analyze_path(ls_dir, out / sub, representation=rep, progress=show_progress)
            lines.append(f"topology   {out / sub} ({label}: {s['minima']} minima, {s['saddles']} saddles, "
                         f"average persistence {s['average_persistence']:.4g})")
    lines.append(f"demo done in {time.perf_counter() - t0:.1f} s")
    return lines
