"""The demo (`losstopo demo --out DIR`, `make demo`): two models side by side on the embedded digits.

ResNet-20 (--depth: any 6n+2) with its skip connections and its plain twin (the same network without
them: Li et al. 2018, Fig. 5), each trained for 10 epochs with seed 0. For each: accuracy, test loss and
the Hessian's top eigenvalue and trace (the landscape's own data, the test split), its filter-normalised
landscape, the topology of that landscape as an image and as its kNN graph (merge tree, persistence
diagram), and the same views rendered by pvpython from the plugin's merge-tree and persistence-diagram
states. DIR/comparison.png puts the two side by side with the metrics; DIR/summary.txt (also printed)
names the difference found.

Layout: the residual model at the top level (DIR/model.pt, DIR/landscape/, DIR/topology_image/, ... as
`losstopo paraview` and the state files expect), the plain twin in DIR/noshort/ with the same names.
Idempotent: models, metrics and landscapes are reused when they exist.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path
from typing import Any

from .. import settings
from ..fileio import output_folder, write_json

DEMO_DATA = "digits"
DEMO_EPOCHS = 10
DEMO_SEED = 0
DEMO_DEPTH = 20


def demo_models(depth: int = DEMO_DEPTH) -> list[tuple[str, str, dict[str, Any], str]]:
    """(label, model, kwargs, sub-folder): the residual model first (DIR/landscape is what ParaView opens)."""
    return [(f"ResNet-{depth}", "resnet", {"depth": depth, "residual": True}, ""),
            (f"ResNet-{depth}-noshort", "resnet", {"depth": depth, "residual": False}, "noshort")]
DEMO_RESOLUTION = 21
DEMO_THREADS = 1
# Hessian estimators at the demo's budget (the depth study's): Lanczos to 1e-3, Hutch++ to a 5 % error.
DEMO_ML_KWARGS = {"tol": 1e-3, "rel_se": 0.05, "min_probes": 8, "max_probes": 40, "sketch": 8}
RENDER_STATES = ("merge_tree", "persistence_diagram")  # paraview/states/: what pvpython renders per model
METRICS = ("test_accuracy", "test_loss", "hessian_top_eigenvalue", "hessian_trace", "hessian_trace_stderr")


def ensure_model(folder: Path, model: str = "resnet20", kwargs: dict[str, Any] | None = None,
                 show_progress: bool = True, threads: int | None = None) -> Path:
    """FOLDER/model.pt: trained once, then reused."""
    path = folder / "model.pt"
    if path.exists():
        from ..errors import LossTopoError
        from ..models.checkpoint import load_checkpoint

        have = load_checkpoint(path).info
        if have.get("model") != model or any(have.get("model_kwargs", {}).get(k) != v
                                             for k, v in (kwargs or {}).items()):
            raise LossTopoError(f"{path} is a {have.get('model')} {have.get('model_kwargs')}, not the demo's "
                                f"{model} {kwargs}", "choose another --out (or remove that folder)")
        return path
    from ..models.checkpoint import save_checkpoint
    from ..models.train import train_model

    folder.mkdir(parents=True, exist_ok=True)
    net, info = train_model(model, data=DEMO_DATA, seed=DEMO_SEED, epochs=DEMO_EPOCHS, model_kwargs=kwargs,
                            progress=show_progress, threads=threads)
    save_checkpoint(path, net, info)
    return path


def ensure_metrics(folder: Path, model_path: Path) -> dict[str, Any]:
    """FOLDER/metrics.json: accuracy, loss and the Hessian metrics (study.ml_metrics), computed once."""
    path = folder / "metrics.json"
    if path.exists():
        return json.loads(path.read_text())
    from ..models.checkpoint import load_checkpoint
    from ..study.ml_metrics import ml_metrics

    m = ml_metrics(load_checkpoint(model_path), **DEMO_ML_KWARGS)
    write_json(path, m)
    return m


def _one(out: Path, label: str, model: str, kwargs: dict[str, Any], sub: str, resolution: int, span: float,
         directions: str, show_progress: bool, threads: int | None) -> dict[str, Any]:
    """Train, measure, compute the landscape and analyse it (image and kNN graph) for one model."""
    from .. import vtkio
    from ..landscape.compute import compute_landscape
    from .analyze import analyze_path

    folder = out / sub if sub else out
    model_path = ensure_model(folder, model, kwargs, show_progress, threads)
    ml = ensure_metrics(folder, model_path)
    ls = compute_landscape(model_path, directions=directions, resolution=resolution, span=span,
                           out_dir=folder / "landscape", resume=True, show_progress=show_progress)
    vtkio.write_landscape_vti(ls)
    image = analyze_path(folder / "landscape", folder / "topology_image", progress=show_progress, overwrite=True)
    graph = analyze_path(folder / "landscape", folder / "topology_graph", representation="knn",
                         progress=show_progress, overwrite=True)
    return {"label": label, "folder": str(folder), "model": str(model_path), "landscape": str(folder / "landscape"),
            "points_per_second": ls.meta.get("points_per_second"), **{k: ml.get(k) for k in METRICS},
            "image": {k: image[k] for k in ("minima", "saddles", "average_persistence",
                                            "average_persistence_finite", "max_persistence")},
            "graph": {k: graph[k] for k in ("minima", "saddles", "average_persistence",
                                            "average_persistence_finite", "max_persistence")}}


def _render(landscape: str, out: Path, state: str, attempts: int = 2) -> list[str]:
    """pvpython's views of `state` on the landscape, as PNGs in out (paraview.launch.render); a crashed
    pvpython (seen once in a while when two start together on a loaded machine) is run once more."""
    from ..errors import LossTopoError
    from ..paraview.launch import RenderRequest, render

    for attempt in range(attempts):
        try:
            render(RenderRequest(out=str(out), landscape=landscape, state=state, width=900, height=650),
                   timeout=600, overwrite=True)
            break
        except LossTopoError as e:
            if attempt + 1 == attempts or "crashed" not in str(e):
                raise
    return sorted(str(p) for p in out.glob("*.png"))


def _render_states(landscape: str, out: Path) -> list[str]:
    """The plugin's merge-tree and persistence-diagram states on one landscape: out/<state>/*.png."""
    return [p for state in RENDER_STATES for p in _render(landscape, out / state, state)]


def describe(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The summary's lines: each model's numbers, then the difference found (or that none was)."""
    lines = []
    for m in (a, b):
        t = m["image"]
        lines.append(f"{m['label']:<18} test accuracy {100 * m['test_accuracy']:.1f} %, "
                     f"test loss {m['test_loss']:.3f}, "
                     f"top Hessian eigenvalue {m['hessian_top_eigenvalue']:.3g}, trace {m['hessian_trace']:.3g} "
                     f"+- {m['hessian_trace_stderr']:.2g}; landscape: {t['minima']} minima, {t['saddles']} saddles, "
                     f"average persistence {t['average_persistence']:.3g} (with the global pair)")
    da, db = a["image"], b["image"]
    if (da["minima"], da["saddles"]) != (db["minima"], db["saddles"]):
        more, less = (a, b) if da["minima"] + da["saddles"] > db["minima"] + db["saddles"] else (b, a)
        lines.append(f"difference: {more['label']}'s landscape is rougher ({more['image']['minima']} minima and "
                     f"{more['image']['saddles']} saddles against {less['image']['minima']} and "
                     f"{less['image']['saddles']} for {less['label']}): its merge tree branches where the other's "
                     f"is a single basin or fewer branches")
    else:
        lines.append(f"difference: the same topology ({da['minima']} minima, {da['saddles']} saddles each) on this "
                     f"grid; the landscapes differ in depth and curvature only")
    ea, eb = a["hessian_top_eigenvalue"], b["hessian_top_eigenvalue"]
    sharp, flat = (a, b) if ea > eb else (b, a)
    lines.append(f"curvature: {sharp['label']} sits in the sharper minimum (top eigenvalue "
                 f"{max(ea, eb) / max(min(ea, eb), 1e-12):.1f}x the other's)")
    return lines


def run_demo(out_dir: str | Path, resolution: int = DEMO_RESOLUTION, span: float = 1.0, directions: str = "filter",
             show_progress: bool = True, threads: int | None = None, render: bool = True,
             depth: int = DEMO_DEPTH) -> list[str]:
    """Both models end to end, the comparison figure and the pvpython renders; returns the summary lines.

    depth: the ResNet depth of the pair (20: about a minute; 56 takes several and its plain twin does not
    train on digits in 10 epochs, see docs/study.md)."""
    from ..plots.compare import demo_figure
    from .study import torch_threads

    t0 = time.perf_counter()
    settings.resolution(resolution, 2)  # bad settings fail before the training, not after it
    settings.span(span)
    settings.choice("--directions", directions, settings.DIRECTION_KINDS)
    threads = settings.threads(threads)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        from ..errors import LossTopoError

        raise LossTopoError(f"--depth {depth!r} is not a ResNet depth 6n+2", "pass --depth 20 (or 56, 110)")
    # One torch thread unless told otherwise: 8x8 digits make ops too small to share, and torch's default
    # (2 threads here) took the demo from 89 s to 405 s of CPU time on this 2-core machine.
    with output_folder(out_dir, "demo", keep=lambda o: (o / "model.pt").exists()) as out, \
            torch_threads(threads or DEMO_THREADS) as used:
        models = [_one(out, label, name, kwargs, sub, resolution, span, directions, show_progress, threads)
                  for label, name, kwargs, sub in demo_models(depth)]
        renders: list[list[str]] = [[] for _ in models]
        if render:  # one pvpython at a time: parallel Xvfb servers failed now and then under load
            with contextlib.redirect_stdout(io.StringIO()):  # render() prints each PNG path; the summary lists them
                renders = [_render_states(m["landscape"], Path(m["folder"]) / "render") for m in models]
        fig = demo_figure(models, out / "comparison.png")
        lines = describe(*models)
        lines += [f"figure     {fig}"] + [f"pvpython   {p}" for r in renders for p in r]
        seconds = time.perf_counter() - t0
        lines.append(f"demo done in {seconds:.1f} s ({used} torch thread{'s' if used > 1 else ''})")
        write_json(out / "demo.json", {"depth": depth, "models": models, "renders": renders, "threads": used,
                                       "threads_set": threads is not None, "resolution": resolution, "span": span,
                                       "directions": directions, "seconds": seconds, "summary": lines})
        (out / "summary.txt").write_text("\n".join(lines) + "\n")
    return lines
