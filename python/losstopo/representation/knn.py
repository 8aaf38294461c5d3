"""Stage 3 for any coordinates: the landscape as the symmetrised k-nearest-neighbour graph.

Every point is joined to its k nearest neighbours, symmetrised: an edge exists where either end lists the
other. Methods (`method=`, the CLI's `--knn-method`, validated by settings.knn_method):

- `exact`: scipy's cKDTree, with a deterministic tie rule: neighbours are ranked by Euclidean distance
  rounded to 33 significant bits (about 10 decimal digits, so grid points that are equidistant in exact
  arithmetic tie despite float64 noise), then by point index: among equidistant points the LOWER INDEX
  wins. Rows whose tie group reaches past the queried candidates are queried again with more.
- `nndescent`: pynndescent's NNDescent (seeded, one thread, so deterministic); its recall against the
  exact kNN is measured every time and travels with the graph, so an approximate graph never goes unnoticed.
- `auto` (default): exact up to EXACT_MAX_DIMS dimensions, or below EXACT_MAX_POINTS points in any
  dimension; NN-descent beyond (bench/bench_knn.py measures both side by side; docs/topology.md).

The method used is recorded in the graph's info (`method`, `recall`), its field data (names.KNN_METHOD)
and topology.json.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import settings
from ..errors import LossTopoError

# auto (bench/bench_knn.py, docs/analyze.md): the k-d tree is 1.3-2.6x faster than warm NN-descent in 2-3-D
# at 10k and 250k points; in 8-D / 32-D at 10k points NN-descent is 2.6x / 35x faster warm but recalls
# 0.986 / 0.62 and compiles for 25-90 s per fresh process, about exact's time for 20k points in 32-D.
EXACT_MAX_DIMS = 3
EXACT_MAX_POINTS = 20_000


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


def tie_key(dist: np.ndarray) -> np.ndarray:
    """Distances rounded to 33 significant bits: the ranking key of the exact graph's tie rule."""
    m, e = np.frexp(np.asarray(dist, dtype=np.float64))
    return np.ldexp(np.round(np.ldexp(m, 33)), e - 33)


def _ranked(rows: np.ndarray, idx: np.ndarray, dist: np.ndarray, k: int,
            n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the q nearest candidates (idx, dist: (R, q), sorted by distance) of points `rows`: the first k
    other points by (key, index), their distances, and whether the list provably holds every point tied
    with the k-th (some candidate has a larger key, or all n points are candidates)."""
    other = idx != rows[:, None]
    key = np.where(other, tie_key(dist), np.inf)  # the point itself sorts last
    need = ~other[:, 0] | np.any(key[:, 1:] == key[:, :-1], axis=1)  # a tie, or self not first: re-rank
    order = np.broadcast_to(np.arange(1, k + 1), (len(rows), k)).copy()
    if need.any():
        order[need] = np.lexsort((np.where(other[need], idx[need], n), key[need]), axis=-1)[:, :k]
    take = np.take_along_axis
    top = take(key, order, axis=-1)[:, -1]
    complete = (idx.shape[1] >= n) | (top < np.max(np.where(np.isfinite(key), key, -np.inf), axis=1))
    return take(idx, order, axis=-1), take(dist, order, axis=-1), complete


def exact_knn(coords: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances), each (P, k): the exact k nearest other points (scipy cKDTree), ties at equal
    distance to the lower index (see the module docstring), ordered by (distance, index)."""
    from scipy.spatial import cKDTree

    pts, k = _check_knn_input(coords, k)
    n = len(pts)
    tree = cKDTree(pts)
    out_idx = np.empty((n, k), dtype=np.int64)
    out_dist = np.empty((n, k), dtype=np.float64)
    rows = np.arange(n)
    q = min(n, k + 2)
    while len(rows):
        dist, idx = tree.query(pts[rows], k=q)
        idx = np.asarray(idx, dtype=np.int64).reshape(len(rows), -1)
        sel, d, complete = _ranked(rows, idx, np.asarray(dist).reshape(len(rows), -1), k, n)
        done = rows[complete]
        out_idx[done], out_dist[done] = sel[complete], d[complete]
        rows = rows[~complete]
        q = min(n, 2 * q)
    return out_idx, out_dist


def symmetric_edges(neighbours: np.ndarray) -> np.ndarray:
    """Unique undirected edges (E, 2), i < j, from a (P, k) neighbour table (-1 = none)."""
    n = len(neighbours)
    src = np.repeat(np.arange(n, dtype=np.int64), neighbours.shape[1])
    dst = neighbours.ravel()
    ok = (dst >= 0) & (dst != src)
    lo, hi = np.minimum(src[ok], dst[ok]), np.maximum(src[ok], dst[ok])
    keys = np.sort(lo * n + hi)  # np.unique, without its hash-table path (20x slower here at 2M keys)
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if keys.size else keys
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


def resolve_method(method: str, n_points: int, dims: int) -> str:
    """'auto' -> 'exact' up to EXACT_MAX_DIMS dimensions or below EXACT_MAX_POINTS points, else 'nndescent'."""
    method = settings.knn_method(method)
    if method != "auto":
        return method
    return "exact" if dims <= EXACT_MAX_DIMS or n_points < EXACT_MAX_POINTS else "nndescent"


def nndescent_neighbours(pts: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """(P, k) approximate neighbour table from pynndescent's NNDescent (seeded, one thread: deterministic)."""
    from pynndescent import NNDescent

    index = NNDescent(pts, n_neighbors=k + 1, random_state=int(seed), n_jobs=1)
    return drop_self(index.neighbor_graph[0], k)[0]


def knn_graph(coords: np.ndarray, k: int = 8, seed: int = 0, method: str = "auto") -> tuple[np.ndarray, dict]:
    """Symmetrised kNN graph of any point set: (edges (E, 2) with i < j, info).

    method: "auto", "exact" or "nndescent" (module docstring). info holds k, seed, method (the one used),
    method_requested, the number of edges and `recall` (1.0 for exact; measured against the exact kNN for
    NN-descent).
    """
    pts, k = _check_knn_input(coords, k)
    used = resolve_method(method, len(pts), pts.shape[1])
    info = {"k": k, "seed": int(seed), "method": used, "method_requested": method}
    if used == "exact":
        edges = symmetric_edges(exact_knn(pts, k)[0])
        info.update(recall=1.0, recall_reference="exact by construction (scipy cKDTree; ties to the lower index)")
    else:
        nb = nndescent_neighbours(pts, k, seed)
        edges = symmetric_edges(nb)
        info.update(recall=neighbour_recall(pts, nb, k),
                    recall_reference="scipy cKDTree exact kNN, ties at equal distance aside")
    info["n_edges"] = int(len(edges))
    return edges, info


def graph_connectivity(coords: np.ndarray, k: int = 8, seed: int = 0,
                       method: str = "auto") -> tuple[GraphConnectivity, dict]:
    """(GraphConnectivity of the symmetrised kNN graph of `coords`, kNN info) with the points kept."""
    from .points import points3

    pts = np.asarray(coords, dtype=np.float64)
    edges, info = knn_graph(pts, k=k, seed=seed, method=method)
    return GraphConnectivity(edges=edges, n_vertices=len(pts), points=points3(pts)), info
