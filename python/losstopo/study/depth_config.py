"""The depth study's settings (Li et al. 2018, Fig. 5): ResNet-20/56/110 with and without skip connections.

One landscape per model and direction kind, over the largest span; each smaller span is the centred crop of
that grid (the same loss values, so no point is computed twice). Every span must therefore lie on the
grid: span = j * (largest span) / ((resolution - 1) / 2) for a whole j >= 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from .. import settings
from ..errors import LossTopoError
from .config import PAPER_SEEDS

DEPTH_FORMAT = "losstopo-depth-study/1"
DEPTHS = (20, 56, 110)

# Digits defaults, chosen by measurement on the 2-core machine (docs/study.md): Adam with a 1-epoch linear
# warm-up and a cosine, 20 epochs, and every BatchNorm bias 1.5 at init (at the standard init, bias 0, the
# gradients of the plain nets explode with depth: norm 8e2 at the first conv of ResNet-56-noshort, 1e6 of
# ResNet-110-noshort, and they stay at chance; the positive bias keeps the ReLUs nearly linear at init).
DEFAULT_EPOCHS = 20
DEFAULT_LR = 3e-4
DEFAULT_BATCH_SIZE = 64
DEFAULT_OPTIMIZER = "adam"
DEFAULT_WARMUP_EPOCHS = 1
DEFAULT_BN_BIAS = 1.5
DEFAULT_RESOLUTION = 9
DEFAULT_SPANS = (0.5, 1.0)
DEFAULT_DIRECTIONS = ("filter", "hessian")
DEFAULT_SAMPLES = 128
DEFAULT_HESSIAN_SAMPLES = 128
# Hessian estimators at a budget: Lanczos to 1e-3, Hutch++ (8 sketch vectors) to a 5 % standard error.
DEFAULT_ML_KWARGS = {"tol": 1e-3, "rel_se": 0.05, "min_probes": 8, "max_probes": 40, "sketch": 8}
DEFAULT_K = 8

ML_COLUMNS = ("train_accuracy", "test_accuracy", "train_loss", "test_loss", "hessian_top_eigenvalue",
              "hessian_trace", "hessian_trace_stderr")
TOPO_KEYS = ("minima", "saddles", "degenerate_saddles", "average_persistence", "average_persistence_finite",
             "max_persistence", "n_pairs")
REPRESENTATIONS = ("image", "graph")
CSV_COLUMNS = ("name", "depth", "residual", "seed", "directions", "span", "resolution") + ML_COLUMNS + tuple(
    f"{rep}_{k}" for rep in REPRESENTATIONS for k in TOPO_KEYS) + ("n_nonfinite", "centre_loss")


@dataclass(frozen=True)
class DepthConfig:
    """Every setting that changes a result of the depth study; stored in OUT/study.json for resumes."""

    data: str = "digits"
    data_root: str | None = None
    depths: tuple[int, ...] = DEPTHS
    seeds: tuple[int, ...] = PAPER_SEEDS
    epochs: int = DEFAULT_EPOCHS
    lr: float = DEFAULT_LR
    batch_size: int = DEFAULT_BATCH_SIZE
    optimizer: str = DEFAULT_OPTIMIZER  # models.train.train_model's optimizer
    warmup_epochs: int = DEFAULT_WARMUP_EPOCHS
    bn_bias: float | None = DEFAULT_BN_BIAS  # initial BatchNorm bias of every network (None: torch's 0)
    resolution: int = DEFAULT_RESOLUTION  # points per axis of the largest span's grid
    spans: tuple[float, ...] = DEFAULT_SPANS
    directions: tuple[str, ...] = DEFAULT_DIRECTIONS
    samples: int | None = DEFAULT_SAMPLES  # evaluation samples per landscape point (None: the whole test split)
    hessian_samples: int | None = DEFAULT_HESSIAN_SAMPLES  # test samples of the Hessian metrics (None: all)
    k: int = DEFAULT_K
    train_kwargs: dict[str, Any] = field(default_factory=dict)  # extra train_model keywords (e.g. samples)
    landscape_kwargs: dict[str, Any] = field(default_factory=dict)  # extra compute_landscape keywords
    ml_kwargs: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_ML_KWARGS))  # ml_metrics keywords

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("depths", "seeds", "spans", "directions"):
            d[key] = list(d[key])
        return d

    @property
    def largest_span(self) -> float:
        return max(self.spans)


@dataclass(frozen=True)
class DepthSpec:
    """One model of the depth study: ResNet-`depth`, with or without skip connections, one seed."""

    depth: int
    residual: bool
    seed: int

    @property
    def model(self) -> str:
        return "resnet"  # zoo.resnet(depth=...)

    @property
    def group(self) -> str:
        return f"ResNet-{self.depth}{'' if self.residual else '-noshort'}"

    @property
    def name(self) -> str:
        return f"resnet{self.depth}_{'res' if self.residual else 'nores'}_seed{self.seed}"


def depth_specs(cfg: DepthConfig) -> list[DepthSpec]:
    """Seed by seed, then depth by depth, residual then plain (the order of the work and of the CSV rows: a
    study stopped early has every group for its first seeds)."""
    return [DepthSpec(int(d), r, int(s)) for s in cfg.seeds for d in cfg.depths for r in (True, False)]


def crop_half_width(cfg: DepthConfig, span: float) -> int:
    """Grid steps from the centre to the edge of the crop that covers [-span, span]^2."""
    h = (cfg.resolution - 1) // 2
    j = span / cfg.largest_span * h
    return int(round(j))


def crop(values: np.ndarray, resolution: int, half: int) -> np.ndarray:
    """The centred (2 half + 1)^2 crop of a grid array in VTK point order (p = i + n j)."""
    h = (resolution - 1) // 2
    grid = np.asarray(values).reshape((resolution, resolution) + np.asarray(values).shape[1:])
    return grid[h - half:h + half + 1, h - half:h + half + 1].reshape((-1,) + np.asarray(values).shape[1:])


def validate_depth_config(cfg: DepthConfig) -> None:
    """One-line errors for settings that would fail later (before any work starts)."""
    from ..models.data import DATASETS

    settings.choice("data set", cfg.data, tuple(sorted(DATASETS)))
    settings.seeds(cfg.seeds)
    settings.positive("epochs", cfg.epochs, "--epochs")
    settings.positive("batch size", cfg.batch_size, "--batch-size")
    if not (isinstance(cfg.lr, (int, float)) and cfg.lr > 0):
        raise LossTopoError(f"learning rate {cfg.lr!r} is not positive", "pass --lr > 0, e.g. 0.02")
    settings.optimizer(cfg.optimizer)
    settings.warmup_epochs(cfg.warmup_epochs, cfg.epochs)
    settings.bn_bias(cfg.bn_bias)
    if not cfg.depths or len(set(cfg.depths)) != len(cfg.depths) or any(
            isinstance(d, bool) or not isinstance(d, int) or d < 8 or (d - 2) % 6 for d in cfg.depths):
        raise LossTopoError(f"depths {list(cfg.depths)} are not distinct ResNet depths 6n+2",
                            "pass --depths such as 20 56 110")
    (res,) = set(settings.resolution(cfg.resolution, 2))
    if res % 2 == 0:
        raise LossTopoError(f"resolution {res} is even", "pass an odd --resolution (the trained weights at the centre)")
    if not cfg.spans or len(set(cfg.spans)) != len(cfg.spans):
        raise LossTopoError(f"spans {list(cfg.spans)} are empty or repeat", "pass --spans such as 0.5 1.0")
    for s in cfg.spans:
        settings.span(s)
        h = (res - 1) // 2
        j = s / cfg.largest_span * h
        if abs(j - round(j)) > 1e-9 or round(j) < 1:
            raise LossTopoError(f"span {s:g} does not lie on the {res}x{res} grid over +-{cfg.largest_span:g}",
                                f"pass spans that are multiples of {cfg.largest_span / h:g}")
    settings.k(cfg.k, (2 * crop_half_width(cfg, min(cfg.spans)) + 1) ** 2)
    settings.samples(cfg.samples)
    if cfg.hessian_samples is not None:
        settings.positive("Hessian samples", cfg.hessian_samples, "--hessian-samples")
    if not cfg.directions or len(set(cfg.directions)) != len(cfg.directions):
        raise LossTopoError(f"directions {list(cfg.directions)} are empty or repeat",
                            "pass --directions filter hessian")
    for d in cfg.directions:
        settings.choice("--directions", d, settings.DIRECTION_KINDS)


def parse_spans(values: Sequence[Any]) -> tuple[float, ...]:
    """Spans as sorted floats (the order of the CSV rows)."""
    return tuple(sorted(settings.span(v) for v in values))
