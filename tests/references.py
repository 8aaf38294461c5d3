"""Independent references shared by several test modules (brute force and dense computations).

They do not use losstopo's own algorithms, so a test that compares against them can fail.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from conftest import REFERENCE

LOSSLENS = REFERENCE / "losslens"
LOSSLENS_CASES = sorted(p.with_suffix("").name for p in LOSSLENS.glob("*.vti"))

# TTK's 2-D triangulation: the 6 neighbours of (i, j).
TTK_2D_NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1))


def ttk_minima_2d(values: np.ndarray, nx: int, ny: int) -> int:
    """Brute force: vertices lower (by value, then id) than all their neighbours in TTK's triangulation."""
    count = 0
    for j in range(ny):
        for i in range(nx):
            p = i + nx * j
            lower = False
            for di, dj in TTK_2D_NEIGHBOURS:
                a, b = i + di, j + dj
                if 0 <= a < nx and 0 <= b < ny:
                    q = a + nx * b
                    lower |= (values[q], q) < (values[p], p)
            count += not lower
    return count


def dense_hessian(model: nn.Module, X: torch.Tensor, y: torch.Tensor, vectorize: bool = False) -> torch.Tensor:
    """The exact Hessian of the mean cross-entropy w.r.t. all parameters, in float64 (a deep copy of model)."""
    ref = copy.deepcopy(model).double()
    names = [n for n, _ in ref.named_parameters()]
    shapes = [p.shape for p in ref.parameters()]
    flat = torch.cat([p.detach().flatten() for p in ref.parameters()])

    def loss(w: torch.Tensor) -> torch.Tensor:
        params, offset = {}, 0
        for n, s in zip(names, shapes):
            params[n] = w[offset:offset + s.numel()].view(s)
            offset += s.numel()
        return nn.functional.cross_entropy(functional_call(ref, params, (X.double(),)), y)

    return torch.autograd.functional.hessian(loss, flat, vectorize=vectorize)


def grid_triangles_2d(nx: int, ny: int) -> list[list[int]]:
    if nx == 1 or ny == 1:  # a line of points: TTK's 1-D triangulation is the polyline
        return [[i, i + 1] for i in range(nx * ny - 1)]
    tris = []
    for j in range(ny - 1):
        for i in range(nx - 1):
            a, b, c, d = i + nx * j, i + 1 + nx * j, i + nx * (j + 1), i + 1 + nx * (j + 1)
            tris += [[a, b, c], [b, d, c]]
    return tris


def grid_edges_3d(nx: int, ny: int, nz: int) -> list[list[int]]:
    """Edges of TTK's tetrahedralisation of a grid (as listed in shared/reference/README.md)."""
    steps = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (-1, 1, 0), (-1, 0, 1), (0, 1, 1), (-1, 1, 1)]
    edges = []
    for k in range(nz):
        for j in range(ny):
            for i in range(nx):
                for dx, dy, dz in steps:
                    a, b, c = i + dx, j + dy, k + dz
                    if 0 <= a < nx and 0 <= b < ny and 0 <= c < nz:
                        edges.append([i + nx * (j + ny * k), a + nx * (b + ny * c)])
    return edges


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def load_losslens(name: str):
    """(Loss values, ImageConnectivity with the file's geometry) of a published losslens landscape."""
    from losstopo import vtkio
    from losstopo.representation import ImageConnectivity

    data = vtkio.read(LOSSLENS / f"{name}.vti")
    dims, origin, spacing = vtkio.image_geometry(data)
    return vtkio.scalar_field(data, "Loss"), ImageConnectivity(dims, origin, spacing)


# ------------------------------------------------------------------ tests/data: our own fixtures with TTK's outputs
def data_manifest() -> dict:
    """tests/data/manifest.json: the fixture cases and, per TTK build, whether TTK's outputs were made."""
    import json

    from conftest import DATA

    return json.loads((DATA / "manifest.json").read_text())


def data_cases(kind: str | None = None) -> list[str]:
    """Names of the fixture cases (of one kind: 'image1d', 'image2d', 'image3d', 'graph')."""
    return [c["name"] for c in data_manifest()["cases"] if kind is None or c["kind"] == kind]


def load_case(name: str):
    """(dataset, Loss values, connectivity) of a fixture case, read with losstopo's own VTK reader."""
    from conftest import DATA

    from losstopo import vtkio

    case = next(c for c in data_manifest()["cases"] if c["name"] == name)
    data = vtkio.read(DATA / "cases" / case["file"])
    return data, vtkio.scalar_field(data, "Loss"), vtkio.dataset_connectivity(data)


def ttk_outputs(name: str, build: str, job: str = "topology") -> dict[str, np.ndarray] | None:
    """TTK's raw outputs for a case (tests/data/make_data.py), or None when that TTK run failed."""
    from conftest import DATA

    suffix = "" if job == "topology" else f".{job}"
    path = DATA / "cases" / f"{name}.ttk-{build}{suffix}.npz"
    if not path.exists():
        return None
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def ttk_zero_dim_pairs(out: dict[str, np.ndarray], prefix: str = "diagram") -> list[tuple[int, int]]:
    """TTK's 0-dimensional pairs (birth vertex, death vertex): PairType 0 cells with distinct vertices
    (TTK's 1-D images add (v, v) pairs of persistence 0 for every non-minimum; those are no pairs)."""
    ptype = out[f"{prefix}/cell/PairType"]
    vid = out[f"{prefix}/point/ttkVertexScalarField"]
    conn = out[f"{prefix}/cells/connectivity"].reshape(-1, 2)
    pairs = []
    for c in np.flatnonzero(ptype == 0):
        a, b = int(vid[conn[c, 0]]), int(vid[conn[c, 1]])
        if a != b:
            pairs.append((a, b))
    return pairs


def vtk_from_outputs(out: dict[str, np.ndarray], prefix: str):
    """The vtkUnstructuredGrid TTK wrote (points, cells of one type, point and cell arrays) from its npz."""
    from losstopo import vtkio

    conn, offsets = out[f"{prefix}/cells/connectivity"], out[f"{prefix}/cells/offsets"]
    sizes = np.diff(offsets)
    assert sizes.size and np.all(sizes == sizes[0]), "one cell size expected"
    point = {k.split("/")[-1]: v for k, v in out.items() if k.startswith(f"{prefix}/point/")}
    cell = {k.split("/")[-1]: v for k, v in out.items() if k.startswith(f"{prefix}/cell/")}
    return vtkio.make_cells(out[f"{prefix}/points"], conn.reshape(-1, int(sizes[0])),
                            int(out[f"{prefix}/cells/types"][0]), point_arrays=point, cell_arrays=cell)
