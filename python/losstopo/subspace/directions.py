"""Stage 1: the subspace. Seeded random or Hessian directions, normalised per Li et al. (2018).

A direction is a dict parameter-name -> tensor shaped like that parameter (buffers such as BatchNorm
running statistics are never part of it, so they are never perturbed). Kinds (the CLI's --directions):

- `random`  Gaussian, *layer*-normalised: each tensor rescaled to the norm of its weight tensor
            (what the reference landscapes in shared/reference used);
- `filter`  Gaussian, *filter*-normalised (Li et al. 2018): each output filter / neuron row (dim 0 of a
            weight tensor) rescaled to the norm of the matching weight row;
- `hessian` top-k Hessian eigenvectors (Lanczos, subspace/hessian.py: unit norm, mutually orthogonal;
            a warning gives the cosine otherwise) of the mean loss on the landscape's own evaluation data;
            eigenvalues in meta["hessian"]; no normalisation by default, so coordinates are Euclidean
            distances in parameter space.

1-D tensors (biases, BatchNorm weight/bias) of random/filter directions are zeroed by default (Li et al.'s
`--xignore biasbn`); Hessian eigenvectors keep them (zeroing would break the eigenvector). With
keep_1d=True they follow Li et al.'s code: under filter/layer normalisation they are *copied from the
weights* (d = w, i.e. the same relative scale as a normalised weight row), under `none` they keep their
Gaussian values. Optional Gram-Schmidt makes the directions orthonormal over the flattened vector of all
parameters (unit Euclidean norm, so filter/layer scaling is traded for orthonormality).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import settings
from ..errors import LossTopoError
from ..fileio import atomic_path

DEFAULT_NORM = {"random": "layer", "filter": "filter", "hessian": "none"}
DEFAULT_KEEP_1D = {"random": False, "filter": False, "hessian": True}
FORMAT = "losstopo-directions-1"

Direction = dict[str, torch.Tensor]


@dataclass
class Directions:
    """The direction tensors (one dict per axis) and how they were made."""

    tensors: list[Direction]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def dims(self) -> int:
        return len(self.tensors)

    def digest(self) -> str:
        """sha256 of the exact bytes of every tensor (resume keys use it)."""
        h = hashlib.sha256()
        for d in self.tensors:
            for name in sorted(d):
                t = d[name].detach().cpu().contiguous()
                h.update(name.encode())
                h.update(str(t.dtype).encode())
                h.update(t.numpy().tobytes())
        return h.hexdigest()


def parameter_dict(model: nn.Module) -> Direction:
    """The model's parameters by name (detached views, in registration order)."""
    return {n: p.detach() for n, p in model.named_parameters()}


def gaussian_direction(weights: Direction, generator: torch.Generator) -> Direction:
    """A standard normal tensor per parameter, drawn in parameter order from `generator` (on CPU)."""
    return {n: torch.randn(w.shape, generator=generator, dtype=torch.float32).to(w.dtype) for n, w in
            weights.items()}


def normalize_direction(direction: Direction, weights: Direction, norm: str = "filter",
                        keep_1d: bool = False) -> Direction:
    """Rescale `direction` against `weights` (see the module docstring); returns a new dict."""
    norm = settings.choice("normalisation", norm, settings.NORMALIZATIONS)
    out: Direction = {}
    for n, d in direction.items():
        w = weights[n].to(d.dtype)
        d = d.clone()
        if d.dim() <= 1:
            if not keep_1d:
                d.zero_()
            elif norm != "none":
                d.copy_(w)
        elif norm == "filter":
            rows_d = d.reshape(d.shape[0], -1)
            rows_w = w.reshape(w.shape[0], -1)
            scale = rows_w.norm(dim=1) / (rows_d.norm(dim=1) + 1e-10)
            d = (rows_d * scale[:, None]).reshape(d.shape)
        elif norm == "layer":
            d = d * (w.norm() / (d.norm() + 1e-10))
        out[n] = d
    return out


def flatten(direction: Direction) -> torch.Tensor:
    """All tensors of a direction as one float64 vector (parameter order)."""
    return torch.cat([t.reshape(-1).to(torch.float64) for t in direction.values()])


def unflatten(vector: torch.Tensor, like: Direction) -> Direction:
    out, i = {}, 0
    for n, t in like.items():
        out[n] = vector[i:i + t.numel()].reshape(t.shape).to(t.dtype)
        i += t.numel()
    return out


def cosines(directions: list[Direction]) -> list[list[float]]:
    """Pairwise cosine similarities of the flattened directions."""
    flat = [flatten(d) for d in directions]
    return [[float(torch.dot(a, b) / (a.norm() * b.norm() + 1e-300)) for b in flat] for a in flat]


def gram_schmidt(directions: list[Direction]) -> list[Direction]:
    """Gram-Schmidt (twice, for float64-level orthogonality) over the flattened vectors; unit norms."""
    basis: list[torch.Tensor] = []
    for d in directions:
        v = flatten(d)
        for _ in range(2):
            for b in basis:
                v = v - torch.dot(v, b) * b
        nrm = v.norm()
        if nrm < 1e-12:
            raise LossTopoError("directions are linearly dependent", "use another --seed or fewer --dims")
        basis.append(v / nrm)
    return [unflatten(b, d) for b, d in zip(basis, directions)]


def make_directions(model: nn.Module, kind: str = "filter", dims: int = 2, seed: int = 0,
                    norm: str | None = None, keep_1d: bool | None = None, orthonormalize: bool = False,
                    data: tuple[torch.Tensor, torch.Tensor] | None = None) -> Directions:
    """`dims` directions of `kind` for `model` (deterministic in `seed`); `data` is needed for hessian."""
    kind = settings.choice("direction kind", kind, settings.DIRECTION_KINDS)
    dims = settings.dims(dims)
    norm = settings.choice("normalisation", norm or DEFAULT_NORM[kind], settings.NORMALIZATIONS)
    keep_1d = DEFAULT_KEEP_1D[kind] if keep_1d is None else bool(keep_1d)
    weights = {n: w.cpu() for n, w in parameter_dict(model).items()}
    hessian: dict[str, Any] = {}
    if kind == "hessian":
        raw = _hessian_raw(model, data, dims, seed, hessian)
    else:
        g = torch.Generator().manual_seed(int(seed))
        raw = [gaussian_direction(weights, g) for _ in range(dims)]
    tensors = [normalize_direction(d, weights, norm, keep_1d) for d in raw]
    cos_before = cosines(tensors)
    if orthonormalize:
        tensors = gram_schmidt(tensors)
    meta = {"format": FORMAT, "kind": kind, "seed": int(seed), "dims": dims, "normalization": norm,
            "keep_1d": keep_1d, "orthonormalize": orthonormalize, "cosine_before_orthonormalization": cos_before,
            "cosine": cosines(tensors), "norms": [float(flatten(d).norm()) for d in tensors]}
    if hessian:  # eigenvalues and Lanczos convergence; its eigenvectors are orthonormal, checked here
        meta["hessian"] = {k: v for k, v in hessian.items() if k != "parameter_names"}
        worst = max((abs(c) for i, row in enumerate(meta["cosine"]) for j, c in enumerate(row) if i != j), default=0.0)
        if worst > 1e-4 and not orthonormalize:
            warnings.warn(f"Hessian directions are not orthogonal (largest |cosine| {worst:.3g}, normalisation "
                          f"{norm}); pass orthonormalize=True (--orthonormalize)", RuntimeWarning, stacklevel=2)
    return Directions(tensors, meta)


def _hessian_raw(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor] | None, dims: int,
                 seed: int, info: dict[str, Any]) -> list[Direction]:
    if data is None:
        raise LossTopoError("hessian directions need evaluation data", "pass data=(X, y)")
    try:
        from .hessian import hessian_directions
    except ImportError:
        raise LossTopoError("Hessian directions are not available (losstopo.hessian missing)",
                            "use --directions filter or random") from None
    vecs = hessian_directions(model, data[0], data[1], dims, seed=int(seed), info=info)
    names_ = [n for n, _ in model.named_parameters()]
    out: list[Direction] = []
    for v in list(vecs)[:dims]:
        if isinstance(v, dict):
            out.append({n: v[n].detach().cpu().float() for n in names_})
        else:
            out.append({n: t.detach().cpu().float().reshape(p.shape)
                        for n, t, (_, p) in zip(names_, v, model.named_parameters())})
    return out


def save_directions(path: str | os.PathLike, directions: Directions) -> Path:
    """directions.pt: {"format", "directions": [name -> tensor, ...], "meta": {...}}, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "directions": [dict(d) for d in directions.tensors],
                    "meta": directions.meta}, tmp)
    return path


def load_directions(path: str | os.PathLike, model: nn.Module | None = None) -> Directions:
    """Read directions.pt; with `model`, check that names and shapes match its parameters."""
    path = Path(path)
    if not path.is_file():
        raise LossTopoError(f"directions file {path} does not exist", "pass DIR/directions.pt of a landscape")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
        tensors = [dict(d) for d in obj["directions"]]
        meta = dict(obj.get("meta", {}))
    except Exception as e:  # torch raises many types for foreign/truncated files
        raise LossTopoError(f"directions file {path} is not a losstopo directions file ({type(e).__name__})",
                            "pass DIR/directions.pt written by `losstopo landscape`") from None
    if model is not None:
        shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
        for d in tensors:
            if {n: tuple(t.shape) for n, t in d.items()} != shapes:
                raise LossTopoError(f"directions in {path} do not match this model's parameters",
                                    "use the directions of a landscape of the same model")
    return Directions(tensors, meta)
