"""Jobs: what each command does, composed of the stages and the edges (files, VTK, pictures).

The face is lazy (PEP 562): `losstopo analyze` or `doctor` do not import torch or the study."""

from ..lazy import lazy_face

_EXPORTS = {
    "analyze_path": ".analyze", "load_domain": ".analyze",
    "run_demo": ".demo",
    "run_residual_study": ".study",
    "study_files": ".study_files",
    "report": ".doctor",
}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_face(__name__, _EXPORTS)
