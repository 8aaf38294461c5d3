"""losstopo: loss landscapes of PyTorch models and their topology, from Python, the shell and ParaView.

The map of the package, in pipeline order (each package's own docstring says more):
  leaves        names.py errors.py settings.py finite.py fileio.py process.py   import no other losstopo module
  models/       what is studied: model zoo, data sets, seeded training, checkpoints
  subspace/     1. directions: random, filter-normalised (Li et al. 2018), Hessian eigenvectors
  landscape/    2. the loss at any coordinates of the subspace: evaluator, chunk store, driver, folder
  representation/ 3. the landscape as an image (TTK's triangulation) or as its kNN graph
  topology/     4. join tree (merge tree) and 0-dimensional persistence, exact (numba)
  metrics.py    5. minima, saddles, average persistence
  study/        6. ML metrics (accuracy, Hessian) and the residual study's steps, statistics, report
  vtkio/ plots/ paraview/  edges: VTK datasets and files, matplotlib pictures, ParaView (plugin, states, TTK)
  jobs/         what each command does, stages and edges composed
  cli/          the `losstopo` command line (argparse only; nothing imports it)

The public API below is imported lazily (PEP 562), so `import losstopo` is cheap.
"""

from .lazy import lazy_face

__version__ = "0.1.0"

_EXPORTS = {
    "LossTopoError": ".errors",
    "load_checkpoint": ".models", "save_checkpoint": ".models", "train_model": ".models",
    "load_dataset": ".models", "register_model": ".models",
    "make_directions": ".subspace",
    "compute_landscape": ".landscape", "evaluate_coords": ".landscape", "load_landscape": ".landscape",
    "Landscape": ".landscape", "grid_coords": ".landscape",
    "ImageConnectivity": ".representation", "GraphConnectivity": ".representation",
    "compute_topology": ".topology", "TopologyResult": ".topology",
    "topology_metrics": ".metrics",
    "ml_metrics": ".study",
    "analyze_path": ".jobs",
}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_face(__name__, _EXPORTS)
