"""Stage 3 for grids: the landscape as an image, triangulated like TTK's implicit triangulation.

Images keep VTK's point order (id = i + nx*j + nx*ny*k), so vertex ids agree with a landscape's
`coords` and `loss`. The neighbours of a vertex are TTK's (topology/builtin.py IMAGE_OFFSETS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import LossTopoError


@dataclass(frozen=True)
class ImageConnectivity:
    """A regular grid of dims = (nx[, ny[, nz]]) points in VTK order (x fastest), triangulated like TTK.

    origin/spacing only matter for RegionSpan (distances between node points); TTK uses the
    image's own geometry, so pass the .vti's origin and spacing to reproduce its RegionSpan.
    """

    dims: tuple[int, ...]
    origin: tuple[float, ...] | None = None
    spacing: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        dims = tuple(int(d) for d in self.dims)
        if not 1 <= len(dims) <= 3 or any(d < 1 for d in dims):
            raise LossTopoError(f"image dimensions {self.dims} are not 1 to 3 positive sizes",
                                "pass dims=(nx,), (nx, ny) or (nx, ny, nz)")
        object.__setattr__(self, "dims", dims)

    @property
    def n_vertices(self) -> int:
        return int(np.prod(self.dims))

    def dims3(self) -> tuple[int, int, int]:
        d = list(self.dims) + [1] * (3 - len(self.dims))
        return d[0], d[1], d[2]

    def coords(self, ids: np.ndarray) -> np.ndarray:
        """(k, 3) coordinates of the points `ids` (VTK order: id = i + nx*j + nx*ny*k)."""
        nx, ny, _nz = self.dims3()
        o = list(self.origin or ()) + [0.0] * 3
        s = list(self.spacing or ()) + [1.0] * 3
        ids = np.asarray(ids, dtype=np.int64)
        i, j, k = ids % nx, (ids // nx) % ny, ids // (nx * ny)
        return np.stack([o[0] + s[0] * i, o[1] + s[1] * j, o[2] + s[2] * k], axis=1).astype(np.float64)

    def points(self) -> np.ndarray:
        """(V, 3) point coordinates in VTK order."""
        return self.coords(np.arange(self.n_vertices))


def grid_geometry(resolution: Sequence[int], span: float) -> tuple[tuple[int, ...], tuple[float, ...],
                                                                   tuple[float, ...]]:
    """(dims, origin, spacing) of the grid linspace(-span, span, n) along each axis."""
    dims = tuple(int(n) for n in resolution)
    if not dims or any(n < 1 for n in dims) or len(dims) > 3:
        raise LossTopoError(f"grid resolution {list(dims)} is not 1 to 3 positive sizes",
                            "recompute the landscape on a grid (--resolution)")
    origin = tuple(-float(span) for _ in dims)
    spacing = tuple((2.0 * float(span) / (n - 1)) if n > 1 else 1.0 for n in dims)
    return dims, origin, spacing


def image_connectivity(dims: Sequence[int], origin: Sequence[float] | None = None,
                       spacing: Sequence[float] | None = None) -> ImageConnectivity:
    """ImageConnectivity of a VTK extent with trailing axes of size 1 dropped (a 40x40x1 image is 2-D)."""
    d = [int(x) for x in dims]
    while len(d) > 1 and d[-1] == 1:
        d.pop()
    n = len(d)
    return ImageConnectivity(dims=tuple(d), origin=None if origin is None else tuple(origin[:n]),
                             spacing=None if spacing is None else tuple(spacing[:n]))


def landscape_image(resolution: Sequence[int], span: float) -> ImageConnectivity:
    """The image of a grid landscape in coordinate units (origin -span, spacing 2 span / (n - 1))."""
    dims, origin, spacing = grid_geometry(resolution, span)
    return ImageConnectivity(dims=dims, origin=origin, spacing=spacing)
