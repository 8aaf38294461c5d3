"""Jobs: what each command does, composed of the stages and the edges (files, VTK, pictures)."""

from .analyze import analyze_path, load_domain
from .demo import run_demo
from .study import run_residual_study
from .study_files import study_files

__all__ = ["analyze_path", "load_domain", "run_demo", "run_residual_study", "study_files"]
