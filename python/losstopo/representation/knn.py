"""Stage 3: a landscape as an image (grids) or as a k-nearest-neighbour graph (any coordinates).

Images keep VTK's point order (id = i + nx*j + nx*ny*k), so vertex ids agree with `coords`/`loss`.
Graphs connect every point to its k nearest neighbours (pynndescent, seeded), symmetrised: an edge
exists where either end lists the other. The recall against the exact kNN (scipy cKDTree) is
measured every time and travels with the graph, so an approximate graph never goes unnoticed.
VTK objects are built through vtkio only.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy as np

from . import names, vtkio
from .errors import LossTopoError
from .finite import finite_version


class LandscapeLike(Protocol):
    """What this module needs of a landscape (losstopo.landscape_files.Landscape fits)."""

    coords: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    resolution: np.ndarray
    span: float


# ---------------------------------------------------------------------------------------------- image

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


def point_arrays(loss: np.ndarray, accuracy: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The landscape point arrays: finite Loss, Accuracy, ValidMask and the raw loss."""
    raw = np.asarray(loss, dtype=np.float64).ravel()
    values, mask, _ = finite_version(raw)
    arrays = {names.LOSS: values}
    if accuracy is not None and np.size(accuracy) == raw.size:
        arrays[names.ACCURACY] = np.asarray(accuracy, dtype=np.float64).ravel()
    arrays[names.VALID_MASK] = mask.astype(np.uint8)
    arrays[names.RAW_LOSS] = raw
    return arrays


def is_grid(landscape: LandscapeLike) -> bool:
    """True when the landscape was computed on a regular grid (non-empty resolution)."""
    if landscape.resolution is None:
        return False
    res = np.asarray(landscape.resolution, dtype=np.int64).ravel()
    return res.size > 0 and int(np.prod(res)) == len(np.asarray(landscape.loss).ravel())


def to_vtk_image(landscape: LandscapeLike) -> Any:
    """vtkImageData of a grid landscape (1-D, 2-D or 3-D) with the landscape point arrays."""
    if not is_grid(landscape):
        raise LossTopoError("the landscape has scattered coordinates, not a grid",
                            "use the kNN graph representation (--knn K)")
    dims, origin, spacing = grid_geometry(np.asarray(landscape.resolution).ravel(), float(landscape.span))
    return vtkio.make_image(dims, origin, spacing, point_arrays(landscape.loss, landscape.accuracy),
                            active=names.LOSS)


# ---------------------------------------------------------------------------------------------- graph

def _check_knn_input(coords: np.ndarray, k: int) -> np.ndarray:
    pts = np.asarray(coords, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts[:, None]
    if pts.ndim != 2 or pts.shape[0] == 0:
        raise LossTopoError(f"coordinates of shape {pts.shape} cannot make a graph",
                            "pass a (points, dims) array")
    if not np.all(np.isfinite(pts)):
        raise LossTopoError("coordinates contain inf/NaN", "recompute the landscape coordinates")
    if int(k) < 1:
        raise LossTopoError(f"--knn {k} is not a positive number of neighbours",
                            "pass --knn 8 (or any K >= 1)")
    if int(k) >= pts.shape[0]:
        raise LossTopoError(f"--knn {k} needs at least {int(k) + 1} points but the input has {pts.shape[0]}",
                            f"pass --knn below {pts.shape[0]}")
    return pts


def exact_knn(coords: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances), each (P, k): the exact k nearest other points (scipy cKDTree)."""
    from scipy.spatial import cKDTree

    pts = _check_knn_input(coords, k)
    dist, idx = cKDTree(pts).query(pts, k=int(k) + 1)
    # Drop each point itself; with duplicate points it need not come first.
    own = idx == np.arange(len(pts))[:, None]
    keep = ~own
    keep[~own.any(axis=1), -1] = False  # self absent (duplicates): drop the farthest instead
    return idx[keep].reshape(len(pts), int(k)), dist[keep].reshape(len(pts), int(k))


def _vectorised_drop_self(idx: np.ndarray, k: int) -> np.ndarray | None:
    """Fast path of _nndescent_neighbours when every row starts with the point itself."""
    n = len(idx)
    if np.all(idx[:, 0] == np.arange(n)) and np.all(idx[:, 1:] != np.arange(n)[:, None]):
        return idx[:, 1: k + 1]
    return None


def symmetric_edges(neighbours: np.ndarray) -> np.ndarray:
    """Unique undirected edges (E, 2), i < j, from a (P, k) neighbour table (-1 = none)."""
    n = len(neighbours)
    src = np.repeat(np.arange(n, dtype=np.int64), neighbours.shape[1])
    dst = neighbours.ravel()
    ok = (dst >= 0) & (dst != src)
    lo, hi = np.minimum(src[ok], dst[ok]), np.maximum(src[ok], dst[ok])
    keys = np.unique(lo * n + hi)
    return np.stack([keys // n, keys % n], axis=1).astype(np.int64)


def neighbour_recall(coords: np.ndarray, neighbours: np.ndarray, k: int) -> float:
    """Fraction of the listed neighbours that are true k nearest neighbours, ties at equal distance aside.

    A listed neighbour counts when it is no farther than the exact k-th neighbour distance, so the
    arbitrary choice among equidistant points (grids are full of them) is not an error.
    """
    pts = np.asarray(coords, dtype=np.float64).reshape(len(coords), -1)
    _, dist = exact_knn(pts, k)
    kth = dist[:, -1]
    nb = neighbours
    valid = nb >= 0
    rows = np.repeat(np.arange(len(pts)), nb.shape[1]).reshape(nb.shape)
    d = np.linalg.norm(pts[np.where(valid, nb, 0)] - pts[rows], axis=-1)
    tol = kth[:, None] * 1e-6 + 1e-12
    hits = valid & (d <= kth[:, None] + tol)
    return float(hits.sum()) / float(len(pts) * k)


def knn_graph(coords: np.ndarray, k: int = 8, seed: int = 0) -> tuple[np.ndarray, dict]:
    """Symmetrised kNN graph of any point set: (edges (E, 2) with i < j, info).

    Neighbours come from pynndescent's NNDescent (seeded, one thread, so deterministic); info holds
    k, seed, the number of edges and `recall` against the exact kNN from scipy's cKDTree.
    """
    pts = _check_knn_input(coords, k)
    k = int(k)
    from pynndescent import NNDescent

    index = NNDescent(pts, n_neighbors=k + 1, random_state=int(seed), n_jobs=1)
    idx = np.asarray(index.neighbor_graph[0], dtype=np.int64)
    nb = _vectorised_drop_self(idx, k)
    if nb is None:
        nb = _drop_self_slow(idx, k)
    edges = symmetric_edges(nb)
    recall = neighbour_recall(pts, nb, k)
    info = {"k": k, "seed": int(seed), "method": "pynndescent", "n_edges": int(len(edges)),
            "recall": recall, "recall_reference": "scipy cKDTree exact kNN, ties at equal distance aside"}
    return edges, info


def _drop_self_slow(idx: np.ndarray, k: int) -> np.ndarray:
    n = len(idx)
    out = np.full((n, k), -1, dtype=np.int64)
    for i in range(n):
        row = idx[i]
        row = row[(row >= 0) & (row != i)][:k]
        out[i, : len(row)] = row
    return out


def to_vtk_graph(landscape: LandscapeLike, k: int = 8, seed: int = 0) -> tuple[Any, dict]:
    """(vtkUnstructuredGrid of VTK_LINE edges with the landscape point arrays, kNN info).

    Points are the first three coordinates; the recall and k are also stored as field data.
    """
    coords = np.asarray(landscape.coords, dtype=np.float64).reshape(len(landscape.coords), -1)
    edges, info = knn_graph(coords, k=k, seed=seed)
    arrays = point_arrays(landscape.loss, landscape.accuracy)
    grid = vtkio.make_graph(coords, edges, arrays, active=names.LOSS)
    vtkio.set_field_data(grid, {names.KNN_K: np.array([info["k"]], dtype=np.int64),
                                names.KNN_RECALL: np.array([info["recall"]], dtype=np.float64)})
    return grid, info


def dataset_connectivity(data: Any) -> Any:
    """The connectivity topology runs on: an image's grid (TTK's triangulation; trailing axes of size 1
    dropped, origin shifted by the extent) or the edges of a graph's line cells."""
    from .topology import GraphConnectivity, ImageConnectivity

    if data.IsA("vtkImageData"):
        dims, origin, spacing = vtkio.image_geometry(data)
        ext = data.GetExtent()
        origin = tuple(origin[a] + spacing[a] * ext[2 * a] for a in range(3))
        k = 3
        while k > 1 and dims[k - 1] == 1:
            k -= 1
        return ImageConnectivity(dims=tuple(dims[:k]), origin=tuple(origin[:k]), spacing=tuple(spacing[:k]))
    return GraphConnectivity(edges=vtkio.line_edges(data), n_vertices=data.GetNumberOfPoints(),
                             points=vtkio.points(data))
