"""Stage 2, the loss computation: f(a) = L(theta + sum a_i d_i) at any coordinates; chunked, resumable.

The package is callable: `losstopo.landscape(model, data, loss=None, ...)` is api.landscape, the one call
from your model, data and loss to a `Landscape` (whose `.topology()` runs stages 3-5), while
`losstopo.landscape.grid_coords` & co. stay its members.

The face is lazy (PEP 562): importing losstopo.landscape loads neither torch nor the evaluator until a
name is used, so readers of landscape folders (the ParaView plugin, analyze) start fast.
"""

import sys
import types
from typing import Any

from ..lazy import lazy_face

_EXPORTS = {
    "Landscape": ".files", "load_landscape": ".files", "save_landscape": ".files",
    "grid_coords": ".grid",
    "EvalConfig": ".evaluator", "EvalInfo": ".evaluator", "PointEvaluator": ".evaluator", "STRATEGIES": ".evaluator",
    "ChunkStore": ".chunks", "plan_run": ".chunks",
    "evaluate_coords": ".driver",
    "compute_landscape": ".compute",
    "landscape": ".api", "topology_of": ".analysis",
    "as_batches": ".objective", "make_objective": ".objective", "accuracy": ".objective",
}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_face(__name__, _EXPORTS)


class _CallableModule(types.ModuleType):
    """The landscape package as a function: calling it is api.landscape (its docstring says more)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .api import landscape

        return landscape(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
