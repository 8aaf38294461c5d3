"""Stage 2, the loss computation: f(a) = L(theta + sum a_i d_i) at any coordinates; chunked, resumable.

The face is lazy (PEP 562): importing losstopo.landscape loads neither torch nor the evaluator until a
name is used, so readers of landscape folders (the ParaView plugin, analyze) start fast.
"""

from ..lazy import lazy_face

_EXPORTS = {
    "Landscape": ".files", "load_landscape": ".files", "save_landscape": ".files",
    "grid_coords": ".grid",
    "EvalConfig": ".evaluator", "EvalInfo": ".evaluator", "PointEvaluator": ".evaluator", "STRATEGIES": ".evaluator",
    "ChunkStore": ".chunks", "plan_run": ".chunks",
    "evaluate_coords": ".driver",
    "compute_landscape": ".compute",
}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_face(__name__, _EXPORTS)
