"""Stage 6, relating topology to ML metrics: the ML numbers of a model, the residual and the depth study."""

from .config import CSV_COLUMNS, PAPER_SEEDS, ModelSpec, StudyConfig, model_specs, validate_config
from .ml_metrics import format_table, ml_metrics
from .stats import claim_checks, mean_std, spearman
from .depth import DepthStudy
from .depth_config import DepthConfig, DepthSpec, depth_specs, validate_depth_config
from .steps import ResidualStudy

__all__ = ["ml_metrics", "format_table", "StudyConfig", "ModelSpec", "model_specs", "validate_config",
           "CSV_COLUMNS", "PAPER_SEEDS", "ResidualStudy", "DepthConfig", "DepthSpec", "depth_specs",
           "validate_depth_config", "DepthStudy", "claim_checks", "mean_std", "spearman"]
