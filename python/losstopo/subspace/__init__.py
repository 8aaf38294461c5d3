"""Stage 1, the subspace: seeded random, filter-normalised (Li et al. 2018) or Hessian directions."""

from .directions import (DEFAULT_KEEP_1D, DEFAULT_NORM, Directions, gram_schmidt, load_directions,
                         make_directions, normalize_direction, save_directions)
from .hessian import cross_entropy_loss, hessian_directions, hessian_eigenpairs, hessian_trace, tensor_batches

__all__ = ["DEFAULT_NORM", "DEFAULT_KEEP_1D", "Directions", "make_directions",
           "normalize_direction", "gram_schmidt", "save_directions", "load_directions", "hessian_directions",
           "hessian_eigenpairs", "hessian_trace", "cross_entropy_loss", "tensor_batches"]
