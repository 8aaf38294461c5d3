"""The residual study's steps: each reads its cached result in OUT or computes and saves it atomically."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Callable

from ..fileio import write_json
from .config import ML_COLUMNS, TOPO_KEYS, ModelSpec, StudyConfig


class ResidualStudy:
    """The study in OUT: each step reads its cached result or computes and saves it atomically."""

    def __init__(self, out: Path, cfg: StudyConfig, show_progress: bool = True):
        self.out, self.cfg, self.show_progress = out, cfg, show_progress
        for sub in ("models", "landscapes", "results"):
            (out / sub).mkdir(exist_ok=True)

    def remove_stale_temporaries(self) -> None:
        """Delete temporaries a killed run left next to our final files (atomic writes name them '.NAME.*').

        Safe because we hold the study lock; landscapes/ is left to compute_landscape's own resume.
        """
        for folder in (self.out, self.out / "models", self.out / "results"):
            for p in folder.glob(".*"):
                if p.is_file() and p.name != ".losstopo.lock":
                    p.unlink(missing_ok=True)

    def checkpoint_path(self, spec: ModelSpec) -> Path:
        return self.out / "models" / f"{spec.name}.pt"

    def landscape_dir(self, spec: ModelSpec) -> Path:
        return self.out / "landscapes" / spec.name

    def result_path(self, spec: ModelSpec, kind: str = "") -> Path:
        return self.out / "results" / f"{spec.name}{'.' + kind if kind else ''}.json"

    def train(self, spec: ModelSpec) -> Path:
        """models/<name>.pt (trained once; a rerun reuses it)."""
        path = self.checkpoint_path(spec)
        if path.exists():
            return path
        from ..models.checkpoint import save_checkpoint
        from ..models.train import train_model

        model, info = train_model("resnet20", self.cfg.data, spec.seed, self.cfg.epochs,
                                  data_root=self.cfg.data_root, model_kwargs={"residual": spec.residual},
                                  progress=False, **self.cfg.train_kwargs)
        save_checkpoint(path, model, info)
        return path

    def ml(self, spec: ModelSpec) -> dict[str, Any]:
        """results/<name>.ml.json: accuracy, loss, top Hessian eigenvalue, Hessian trace."""
        path = self.result_path(spec, "ml")
        if path.exists():
            return json.loads(path.read_text())
        from ..models.checkpoint import load_checkpoint
        from .ml_metrics import ml_metrics

        m = ml_metrics(load_checkpoint(self.checkpoint_path(spec)), hessian_samples=self.cfg.hessian_samples,
                       seed=0, data_root=self.cfg.data_root, **self.cfg.ml_kwargs)
        write_json(path, m)
        return m

    def landscape(self, spec: ModelSpec) -> Any:
        """landscapes/<name>/: compute_landscape resumes its chunks there and returns a finished one as is."""
        from ..landscape.compute import compute_landscape

        return compute_landscape(self.checkpoint_path(spec), directions=self.cfg.directions,
                                 resolution=self.cfg.resolution, span=self.cfg.span, dims=2,
                                 samples=self.cfg.samples, seed=spec.seed, out_dir=self.landscape_dir(spec),
                                 resume=True, show_progress=self.show_progress, **self.cfg.landscape_kwargs)

    def topology(self, landscape: Any) -> dict[str, Any]:
        """Metrics of the landscape as an image (its grid) and as a kNN graph of its coordinates."""
        from ..metrics import topology_metrics
        from ..representation import graph_connectivity, landscape_image
        from ..topology import compute_topology

        image = compute_topology(landscape.loss, landscape_image(landscape.resolution, landscape.span))
        conn, info = graph_connectivity(landscape.coords, k=self.cfg.k, seed=0)
        graph = compute_topology(landscape.loss, conn)
        img, gra = topology_metrics(image), topology_metrics(graph)
        out: dict[str, Any] = {f"image_{k}": img.get(k) for k in TOPO_KEYS}
        out.update({f"graph_{k}": gra.get(k) for k in TOPO_KEYS})
        out["n_nonfinite"] = image.n_nonfinite
        out["knn_recall"] = info.get("recall")
        return out

    def row(self, spec: ModelSpec, stage: Callable[[str], Any] | None = None) -> dict[str, Any]:
        """results/<name>.json: the model's CSV row; computes whatever is missing.

        `stage(label)` is a context manager wrapped around each of the 4 steps (progress display).
        """
        path = self.result_path(spec)
        if path.exists():
            return json.loads(path.read_text())
        stage = stage or (lambda label: contextlib.nullcontext())
        with stage(f"train {spec.name}"):
            self.train(spec)
        with stage(f"metrics {spec.name}"):
            ml = self.ml(spec)
        with stage(f"landscape {spec.name}"):
            ls = self.landscape(spec)
        with stage(f"topology {spec.name}"):
            topo = self.topology(ls)
        row = {"name": spec.name, "residual": spec.residual, "seed": spec.seed,
               **{k: ml.get(k) for k in ML_COLUMNS}, **topo}
        write_json(path, row)
        return row
