"""Stage 3 for any coordinates: the landscape as the symmetrised k-nearest-neighbour graph.

Every point is joined to its k nearest neighbours (pynndescent, seeded), symmetrised: an edge exists
where either end lists the other. The recall against the exact kNN (scipy cKDTree) is measured every
time and travels with the graph, so an approximate graph never goes unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import settings
from ..errors import LossTopoError


@dataclass(frozen=True)
class GraphConnectivity:
    """An undirected graph: edges (E, 2) of vertex ids in [0, n_vertices); points optional (V, 1..3)."""

    edges: np.ndarray
    n_vertices: int
    points: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = int(self.n_vertices)
        if n < 1:
            raise LossTopoError(f"a graph needs at least one vertex (got {self.n_vertices})",
                                "pass n_vertices >= 1")
        e = np.asarray(self.edges, dtype=np.int64)
        if e.size == 0:
            e = np.zeros((0, 2), dtype=np.int64)
        if e.ndim != 2 or e.shape[1] != 2:
            raise LossTopoError(f"graph edges have shape {np.shape(self.edges)}", "pass an (E, 2) array")
        if e.size and (e.min() < 0 or e.max() >= n):
            raise LossTopoError(f"graph edges name vertices outside [0, {n})",
                                "check the edge list against the number of points")
        object.__setattr__(self, "edges", e)
        object.__setattr__(self, "n_vertices", n)


def _check_knn_input(coords: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    pts = np.asarray(coords, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts[:, None]
    if pts.ndim != 2 or pts.shape[0] == 0:
        raise LossTopoError(f"coordinates of shape {pts.shape} cannot make a graph",
                            "pass a (points, dims) array")
    if not np.all(np.isfinite(pts)):
        raise LossTopoError("coordinates contain inf/NaN", "recompute the landscape coordinates")
    return pts, settings.k(k, pts.shape[0])


def drop_self(idx: np.ndarray, k: int, *aligned: np.ndarray) -> tuple[np.ndarray, ...]:
    """The first k entries of each row of a (P, k + 1) neighbour table that are not the point itself.

    With duplicate points the point need not come first (or at all): then the row's last entry goes.
    Arrays in `aligned` (distances) are selected the same way; missing entries (-1) stay -1 / NaN.
    """
    idx = np.asarray(idx, dtype=np.int64)
    n = len(idx)
    keep = (idx != np.arange(n)[:, None]) & (idx >= 0)
    slot = np.cumsum(keep, axis=1) - 1
    keep &= slot < k
    rows, cols = np.nonzero(keep)
    out = [np.full((n, k), -1, dtype=np.int64)]
    out[0][rows, slot[rows, cols]] = idx[rows, cols]
    for a in aligned:
        o = np.full((n, k), np.nan, dtype=np.float64)
        o[rows, slot[rows, cols]] = np.asarray(a)[rows, cols]
        out.append(o)
    return tuple(out)


def exact_knn(coords: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances), each (P, k): the exact k nearest other points (scipy cKDTree)."""
    from scipy.spatial import cKDTree

    pts, k = _check_knn_input(coords, k)
    dist, idx = cKDTree(pts).query(pts, k=k + 1)
    return drop_self(idx, k, dist)


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
    pts, k = _check_knn_input(coords, k)
    from pynndescent import NNDescent

    index = NNDescent(pts, n_neighbors=k + 1, random_state=int(seed), n_jobs=1)
    (nb,) = drop_self(index.neighbor_graph[0], k)
    edges = symmetric_edges(nb)
    recall = neighbour_recall(pts, nb, k)
    info = {"k": k, "seed": int(seed), "method": "pynndescent", "n_edges": int(len(edges)),
            "recall": recall, "recall_reference": "scipy cKDTree exact kNN, ties at equal distance aside"}
    return edges, info


def graph_connectivity(coords: np.ndarray, k: int = 8, seed: int = 0) -> tuple[GraphConnectivity, dict]:
    """(GraphConnectivity of the symmetrised kNN graph of `coords`, kNN info) with the points kept."""
    from .points import points3

    pts = np.asarray(coords, dtype=np.float64)
    edges, info = knn_graph(pts, k=k, seed=seed)
    return GraphConnectivity(edges=edges, n_vertices=len(pts), points=points3(pts)), info
