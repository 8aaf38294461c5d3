"""The studies' settings (residual, depth): frozen records, checked once, stored in OUT/study.json for resumes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .. import settings
from ..errors import LossTopoError
from ..fileio import write_json

STUDY_FORMAT = "losstopo-study/1"
PAPER_SEEDS = (0, 123, 123456, 2023)

# Digits defaults, chosen by measurement on the 2-core machine (docs/study.md): the whole study
# (8 models) finishes within 20 minutes.
DEFAULT_EPOCHS = 10
DEFAULT_RESOLUTION = 41
DEFAULT_SPAN = 1.0
DEFAULT_HESSIAN_SAMPLES = 128
DEFAULT_K = 8

# ML metrics (ml_metrics keys) and topology metrics carried into study.csv.
ML_COLUMNS = ("train_accuracy", "test_accuracy", "train_loss", "test_loss", "hessian_top_eigenvalue", "hessian_trace")
TOPO_KEYS = ("minima", "saddles", "degenerate_saddles", "average_persistence", "max_persistence", "n_pairs")
REPRESENTATIONS = ("image", "graph")
CSV_COLUMNS = ("name", "residual", "seed") + ML_COLUMNS + tuple(
    f"{rep}_{k}" for rep in REPRESENTATIONS for k in TOPO_KEYS) + ("n_nonfinite", "knn_recall")


@dataclass(frozen=True)
class StudyConfig:
    """Every setting that changes a result; stored in OUT/study.json so a resume uses the same ones."""

    data: str = "digits"
    data_root: str | None = None
    seeds: tuple[int, ...] = PAPER_SEEDS
    epochs: int = DEFAULT_EPOCHS
    resolution: int = DEFAULT_RESOLUTION
    span: float = DEFAULT_SPAN
    directions: str = "filter"
    samples: int | None = None  # evaluation samples per landscape point (None: the whole test split)
    hessian_samples: int = DEFAULT_HESSIAN_SAMPLES
    k: int = DEFAULT_K
    train_kwargs: dict[str, Any] = field(default_factory=dict)  # extra train_model keywords (e.g. samples)
    landscape_kwargs: dict[str, Any] = field(default_factory=dict)  # extra compute_landscape keywords
    ml_kwargs: dict[str, Any] = field(default_factory=dict)  # extra ml_metrics keywords (e.g. max_iter)

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["seeds"] = list(self.seeds)
        return d


@dataclass(frozen=True)
class ModelSpec:
    """One model of the study: ResNet-20 with or without residual connections, one seed."""

    residual: bool
    seed: int

    @property
    def name(self) -> str:
        return f"resnet20_{'res' if self.residual else 'nores'}_seed{self.seed}"


def model_specs(seeds: Sequence[int]) -> list[ModelSpec]:
    """Residual first, then plain, seed by seed (the order of the CSV rows)."""
    return [ModelSpec(residual, int(s)) for residual in (True, False) for s in seeds]


# ---------------------------------------------------------------------------------------- checks
def validate_config(cfg: StudyConfig) -> None:
    """One-line errors for settings that would fail later (before any work starts)."""
    from ..models.data import DATASETS

    settings.choice("data set", cfg.data, tuple(sorted(DATASETS)))
    settings.seeds(cfg.seeds)
    settings.positive("epochs", cfg.epochs, "--epochs")
    (res,) = set(settings.resolution(cfg.resolution, 2))
    settings.span(cfg.span)
    settings.k(cfg.k, res * res)
    settings.positive("Hessian samples", cfg.hessian_samples, "--hessian-samples")
    settings.choice("--directions", cfg.directions, settings.DIRECTION_KINDS)
    if cfg.data == "cifar10":
        # Fails fast with data.py's one-line error when the folder is missing or malformed.
        from ..models.data import load_dataset

        load_dataset("cifar10", "test", root=cfg.data_root, samples=2)


def check_or_write_config(out: Path, cfg: Any, fmt: str = STUDY_FORMAT) -> None:
    """Refuse to continue a study in OUT that was started with other settings (or is another kind of study)."""
    path = out / "study.json"
    want = {"format": fmt, "config": cfg.as_json()}
    if path.exists():
        try:
            have = json.loads(path.read_text())
        except ValueError:
            have = None
        if not isinstance(have, dict) or have.get("format") != fmt:
            raise LossTopoError(f"{path} is not a losstopo study record", "choose an empty --out folder")
        if have.get("config") != want["config"]:
            diff = [k for k in want["config"] if have.get("config", {}).get(k) != want["config"][k]]
            raise LossTopoError(f"{out} holds a study with other settings ({', '.join(diff)} differ)",
                                "rerun with the same settings to resume it, or choose a new --out")
        return
    write_json(path, want)
