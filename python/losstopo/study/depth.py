"""The depth study's steps: each reads its cached result in OUT or computes and saves it atomically.

Per model: train once (models/<name>.pt), the ML metrics once (results/<name>.ml.json), one landscape per
direction kind over the largest span (landscapes/<name>_<kind>/, resumed chunk by chunk), then the topology
of each span's centred crop as an image and as a kNN graph; the model's rows go to results/<name>.json.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Callable

from ..fileio import write_json
from .depth_config import ML_COLUMNS, TOPO_KEYS, DepthConfig, DepthSpec, crop, crop_half_width
from .steps import ResidualStudy


class DepthStudy(ResidualStudy):
    """The depth study in OUT (the residual study's cache layout, one landscape per direction kind)."""

    def __init__(self, out: Path, cfg: DepthConfig, show_progress: bool = True, threads: int | None = None):
        super().__init__(out, cfg, show_progress)  # type: ignore[arg-type]
        self.threads = threads

    def landscape_dir(self, spec: Any, directions: str = "filter") -> Path:
        return self.out / "landscapes" / f"{spec.name}_{directions}"

    def train(self, spec: DepthSpec) -> Path:
        """models/<name>.pt (trained once; a rerun reuses it)."""
        path = self.checkpoint_path(spec)
        if path.exists():
            return path
        from ..models.checkpoint import save_checkpoint
        from ..models.train import train_model

        cfg = self.cfg
        model, info = train_model(spec.model, cfg.data, spec.seed, cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size,
                                  data_root=cfg.data_root,
                                  model_kwargs={"depth": spec.depth, "residual": spec.residual},
                                  progress=False, threads=self.threads, optimizer=cfg.optimizer,
                                  warmup_epochs=cfg.warmup_epochs,
                                  bn_bias=cfg.bn_bias, **cfg.train_kwargs)
        save_checkpoint(path, model, info)
        return path

    def depth_landscape(self, spec: DepthSpec, directions: str) -> Any:
        """landscapes/<name>_<kind>/ over the largest span (resumed; a finished one is returned as is)."""
        from ..landscape.compute import compute_landscape

        cfg = self.cfg
        return compute_landscape(self.checkpoint_path(spec), directions=directions, resolution=cfg.resolution,
                                 span=cfg.largest_span, dims=2, samples=cfg.samples, seed=spec.seed,
                                 out_dir=self.landscape_dir(spec, directions), resume=True,
                                 show_progress=self.show_progress, **cfg.landscape_kwargs)

    def crop_topology(self, landscape: Any, span: float) -> dict[str, Any]:
        """Metrics of the [-span, span]^2 crop as an image (its grid) and as a kNN graph of its coordinates."""
        from ..metrics import topology_metrics
        from ..representation import graph_connectivity, landscape_image
        from ..topology import compute_topology

        half = crop_half_width(self.cfg, span)
        n = 2 * half + 1
        loss = crop(landscape.loss, self.cfg.resolution, half)
        coords = crop(landscape.coords, self.cfg.resolution, half)
        image = compute_topology(loss, landscape_image((n, n), span))
        conn, _info = graph_connectivity(coords, k=self.cfg.k, seed=0)
        img, gra = topology_metrics(image), topology_metrics(compute_topology(loss, conn))
        out: dict[str, Any] = {"resolution": n}
        out.update({f"image_{k}": img.get(k) for k in TOPO_KEYS})
        out.update({f"graph_{k}": gra.get(k) for k in TOPO_KEYS})
        out["n_nonfinite"] = image.n_nonfinite
        out["centre_loss"] = float(loss[len(loss) // 2])
        return out

    def rows(self, spec: DepthSpec, stage: Callable[[str], Any] | None = None) -> list[dict[str, Any]]:
        """results/<name>.json: the model's CSV rows (one per direction kind and span); computes what is missing.

        `stage(label)` wraps each of the 2 + len(directions) steps (progress display).
        """
        path = self.result_path(spec)
        if path.exists():
            return json.loads(path.read_text())
        stage = stage or (lambda label: contextlib.nullcontext())
        with stage(f"train {spec.name}"):
            self.train(spec)
        with stage(f"metrics {spec.name}"):
            ml = self.ml(spec)
        head = {"name": spec.name, "depth": spec.depth, "residual": spec.residual, "seed": spec.seed}
        mlrow = {k: ml.get(k) for k in ML_COLUMNS}
        rows = []
        for directions in self.cfg.directions:
            with stage(f"landscape {spec.name} {directions}"):
                ls = self.depth_landscape(spec, directions)
                for span in sorted(self.cfg.spans):
                    rows.append({**head, "directions": directions, "span": span, **mlrow,
                                 **self.crop_topology(ls, span)})
        write_json(path, rows)
        return rows

