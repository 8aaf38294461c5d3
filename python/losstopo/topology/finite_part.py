"""The finite part of a field: the subgraph induced on its finite vertices, shared by both backends.

The topology of a field with inf/NaN values is defined as the topology of its finite part: the
vertices with a finite value (losstopo.finite.finite_vertices) and the edges of the domain between two
of them (TTK's triangulation for images, the graph's edges otherwise). The built-in sweep simply never
processes a non-finite vertex (builtin.py), which computes exactly this; the TTK backend hands TTK the
finite part as a graph (`FinitePart.graph`) and maps the result back (`FinitePart.lift`). Vertex ids
are renumbered monotonically (new id i <-> old id vertices[i]), so ties of equal values are broken in
the same order (simulation of simplicity) on both sides. docs/topology.md has the rule and its proof.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ..errors import LossTopoError
from ..finite import finite_vertices
from ..representation import Connectivity, GraphConnectivity, ImageConnectivity, points3
from .builtin import IMAGE_OFFSETS
from .types import PersistencePairs, TopologyResult


@dataclass(frozen=True)
class FinitePart:
    """Which vertices of a domain of `n_vertices` have a finite value (ascending ids)."""

    vertices: np.ndarray
    n_vertices: int

    @property
    def n_nonfinite(self) -> int:
        return int(self.n_vertices - self.vertices.size)

    @property
    def mask(self) -> np.ndarray:
        """(V,) bool: True on the finite vertices."""
        m = np.zeros(self.n_vertices, dtype=bool)
        m[self.vertices] = True
        return m

    def graph(self, connectivity: Connectivity) -> GraphConnectivity:
        """The finite part as a graph on vertices 0..n-1 (new id i = old id vertices[i]), with their points."""
        keep = self.mask
        new_id = np.cumsum(keep) - 1
        e = domain_edges(connectivity)
        e = e[keep[e[:, 0]] & keep[e[:, 1]]]
        if isinstance(connectivity, ImageConnectivity):
            pts = connectivity.coords(self.vertices)
        elif connectivity.points is not None:
            pts = points3(np.asarray(connectivity.points).reshape(connectivity.n_vertices, -1))[self.vertices]
        else:
            pts = None
        return GraphConnectivity(edges=new_id[e], n_vertices=int(self.vertices.size), points=pts)

    def lift(self, sub: TopologyResult, values: np.ndarray, connectivity: Connectivity) -> TopologyResult:
        """A result computed on `graph(connectivity)` as a result on the whole domain of `values`.

        Vertex ids map back through `vertices`; non-finite vertices get segmentation -1 (no arc) and keep
        their raw value in `values`; node and arc ids, types, sizes and spans are unchanged.
        """
        v = self.vertices
        t = sub.tree
        seg = np.full(self.n_vertices, -1, dtype=np.int64)
        seg[v] = t.segmentation
        region = np.zeros(self.n_vertices, dtype=np.int8)
        region[v] = t.region_type
        tree = replace(t, node_vertex=v[np.asarray(t.node_vertex, dtype=np.int64)], segmentation=seg,
                       region_type=region)
        p = sub.pairs
        pairs = PersistencePairs(birth_vertex=v[p.birth_vertex], death_vertex=v[p.death_vertex], birth=p.birth,
                                 death=p.death, finite=p.finite)
        full = np.array(values, dtype=np.float64).ravel()
        full[v] = sub.values
        return TopologyResult(values=full, connectivity=connectivity, pairs=pairs, tree=tree,
                              n_vertices=self.n_vertices, simplify_threshold=sub.simplify_threshold,
                              n_components=sub.n_components, n_nonfinite=self.n_nonfinite)


def finite_part(values: np.ndarray, connectivity: Connectivity | None = None) -> FinitePart:
    """The finite part of `values`; a one-line error when fewer than two values are finite (but some are not).

    A domain of a single (finite) vertex is a valid field; a landscape of which at most one point is
    finite is not a result but a sign of a wrong span or a diverged model.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    n = v.size if connectivity is None else connectivity.n_vertices
    ids = finite_vertices(v)
    if ids.size < n and ids.size <= 1:
        what = "no value is finite" if ids.size == 0 else "only one value is finite"
        raise LossTopoError(f"{what} ({n - ids.size} of {n} points are inf/NaN): there is no landscape to analyse",
                            "use a smaller --span, or check the model and data (a diverged model gives NaN)")
    return FinitePart(vertices=ids, n_vertices=int(n))


def domain_edges(connectivity: Connectivity) -> np.ndarray:
    """(E, 2) edges of the domain's 1-skeleton: TTK's image triangulation (builtin.IMAGE_OFFSETS) or a graph's."""
    if isinstance(connectivity, GraphConnectivity):
        return np.asarray(connectivity.edges, dtype=np.int64).reshape(-1, 2)
    axes = [d for d in connectivity.dims if d > 1]
    shape = axes + [1] * (3 - len(axes))
    ids = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape[::-1])  # [z, y, x]
    offsets = np.array(IMAGE_OFFSETS[len(axes)], dtype=np.int64).reshape(-1, 3)
    assert np.array_equal(offsets[1::2], -offsets[0::2])  # +/- pairs: the even ones list each edge once
    out = []
    for dx, dy, dz in offsets[0::2].tolist():
        src = ids[max(0, -dz):shape[2] - max(0, dz), max(0, -dy):shape[1] - max(0, dy),
                  max(0, -dx):shape[0] - max(0, dx)]
        out.append(np.stack([src.ravel(), src.ravel() + dx + shape[0] * (dy + shape[1] * dz)], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


def component_key(connectivity: Connectivity, values: np.ndarray) -> Callable[[], np.ndarray]:
    """Per vertex, the key ordering the finite part's components as TTK orders a graph's (vtkConnectivityFilter
    numbers regions by their lowest cell id): the lowest index of its edges between finite vertices.

    The same order whether the finite part is swept in place or as its own graph (graph() keeps the edge
    order), so both routes number nodes alike. Lazy: only needed when there are several components."""
    def key() -> np.ndarray:
        e = domain_edges(connectivity)
        fin = np.isfinite(np.asarray(values, dtype=np.float64))
        idx = np.flatnonzero(fin[e[:, 0]] & fin[e[:, 1]])
        out = np.full(connectivity.n_vertices, e.shape[0], dtype=np.int64)
        np.minimum.at(out, e[idx].ravel(), np.repeat(idx, 2))
        return out
    return key

