"""losstopo: loss landscapes of PyTorch models and their topology.

The pipeline, one module per stage:
  1. directions.py      subspace (random / filter-normalised / Hessian directions)
  2. evaluate.py        loss at arbitrary coordinates (chunked, resumable)
  3. representation.py image (vtkImageData) or kNN graph (vtkUnstructuredGrid)
  4. topology/          merge tree and 0-dimensional persistence (built-in exact backend, TTK)
  5. metrics.py         minima, saddles, average persistence
  6. study.py           relating topology to ML metrics
"""

__version__ = "0.1.0"
