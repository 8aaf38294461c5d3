"""`losstopo analyze`: stages 3-5 on a landscape folder, a .vti image or a .vtu graph.

    losstopo analyze INPUT.vti|INPUT.vtu|DIR [--array Loss] [--backend auto|builtin|ttk]
                     [--simplify X] [--simplify-relative] [--knn K] --out DIR

Reads the scalar field, applies the non-finite policy (finite.py), builds the representation (image
or kNN graph, stage 3), computes the join tree and 0-dim persistence (stage 4, built-in or TTK) and
the metrics (stage 5). Writes, each atomically, into --out: topology.json, merge_tree_nodes.vtu,
merge_tree_arcs.vtu, segmentation.vti|vtu, persistence_diagram.vtu (TTK's layouts), knn_graph.vtu
(graphs built here) and the pictures landscape.png, merge_tree.png, persistence_diagram.png.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import names, vtkio
from .errors import LossTopoError
from .fileio import ensure_output_dir, write_json
from .finite import finite_version
from .representation import dataset_connectivity

TOPOLOGY_JSON = "topology.json"
NODES_VTU = "merge_tree_nodes.vtu"
ARCS_VTU = "merge_tree_arcs.vtu"
SEGMENTATION = "segmentation"  # + .vti or .vtu, like the input
DIAGRAM_VTU = "persistence_diagram.vtu"
KNN_VTU = "knn_graph.vtu"
PICTURES = {"landscape_png": "landscape.png", "merge_tree_png": "merge_tree.png",
            "persistence_diagram_png": "persistence_diagram.png"}
BACKENDS = ("auto", "builtin", "ttk")


@dataclass
class Domain:
    """The analysed field on its domain: what the topology backends and the writers need."""

    dataset: Any  # vtkImageData or graph vtkUnstructuredGrid (VTK point order = vertex ids)
    raw: np.ndarray  # the chosen array, raw (may hold inf/NaN)
    connectivity: Any  # ImageConnectivity | GraphConnectivity
    kind: str  # "image" | "graph"
    source: str
    coords: np.ndarray  # (V, 3) vertex positions
    grid_dims: tuple[int, ...] | None = None
    knn: dict | None = None
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ inputs

def _graph_from_points(points: np.ndarray, arrays: dict[str, np.ndarray], k: int, seed: int,
                       source: str, raw: np.ndarray) -> Domain:
    from .representation import knn_graph
    from .topology import GraphConnectivity

    edges, info = knn_graph(points, k=k, seed=seed)
    ds = vtkio.make_graph(points, edges, arrays, active=names.LOSS if names.LOSS in arrays else None)
    vtkio.set_field_data(ds, {names.KNN_K: np.array([info["k"]]),
                              names.KNN_RECALL: np.array([info["recall"]])})
    pts3 = np.zeros((len(points), 3))
    p = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    pts3[:, : min(3, p.shape[1])] = p[:, :3]
    conn = GraphConnectivity(edges=edges, n_vertices=len(points), points=pts3)
    return Domain(ds, raw, conn, "graph", source, pts3, knn=info)


def _from_landscape_dir(path: Path, array: str, knn: int | None, seed: int) -> Domain:
    from .landscape_files import load_landscape
    from .representation import is_grid, point_arrays, to_vtk_image

    ls = load_landscape(path)
    choices = {names.LOSS: ls.loss, names.RAW_LOSS: ls.loss, names.ACCURACY: ls.accuracy}
    if array not in choices:
        raise LossTopoError(f"landscape {path} has no array {array!r} "
                            f"(it has {[names.LOSS, names.ACCURACY]})",
                            "pass --array Loss or --array Accuracy")
    raw = np.asarray(choices[array], dtype=np.float64).ravel()
    arrays = point_arrays(ls.loss, ls.accuracy)
    arrays[array] = finite_version(raw)[0]
    if is_grid(ls) and knn is None:
        ds = to_vtk_image(ls)
        ds.GetPointData().RemoveArray(array)
        ds.GetPointData().AddArray(vtkio.to_vtk_array(array, arrays[array]))
        conn, dims3 = dataset_connectivity(ds), vtkio.image_geometry(ds)[0]
        return Domain(ds, raw, conn, "image", str(path), vtkio.points(ds), grid_dims=dims3)
    k = 8 if knn is None else knn
    dom = _graph_from_points(np.asarray(ls.coords, dtype=np.float64), arrays, k, seed, str(path), raw)
    if knn is None:
        dom.notes.append(f"scattered coordinates: analysed their {k}-nearest-neighbour graph")
    return dom


def _from_vtk(path: Path, array: str, knn: int | None, seed: int) -> Domain:
    from .topology import GraphConnectivity

    ds = vtkio.read(path)
    raw = vtkio.scalar_field(ds, array, source=str(path))
    if array == names.LOSS and ds.GetPointData().GetArray(names.RAW_LOSS) is not None:
        raw = vtkio.scalar_field(ds, names.RAW_LOSS, source=str(path))  # the file's Loss is already finite
    if knn is not None:
        arrays = vtkio.point_arrays(ds)
        arrays[array] = finite_version(raw)[0]
        return _graph_from_points(vtkio.points(ds), arrays, knn, seed, str(path), raw)
    if ds.IsA("vtkImageData"):
        conn, dims3 = dataset_connectivity(ds), vtkio.image_geometry(ds)[0]
        return Domain(ds, raw, conn, "image", str(path), vtkio.points(ds), grid_dims=dims3)
    edges = vtkio.line_edges(ds)
    if len(edges) == 0:
        raise LossTopoError(f"{path} has points but no edges (cells)",
                            "pass --knn K to build a kNN graph of them")
    pts = vtkio.points(ds)
    conn = GraphConnectivity(edges=edges, n_vertices=len(pts), points=pts)
    return Domain(ds, raw, conn, "graph", str(path), pts)


def load_domain(input_path: str | os.PathLike, array: str = names.LOSS, knn: int | None = None,
                seed: int = 0) -> Domain:
    """The field to analyse from a landscape folder, a .vti image or a .vtu graph (one-line errors)."""
    p = Path(input_path)
    if knn is not None and int(knn) < 1:
        raise LossTopoError(f"--knn {knn} is not a positive number of neighbours",
                            "pass --knn 8 (or any K >= 1)")
    if p.is_dir():
        if (p / names.LANDSCAPE_NPZ).exists():
            return _from_landscape_dir(p, array, knn, seed)
        for name in (names.LANDSCAPE_VTI, names.LANDSCAPE_VTU):
            if (p / name).exists():
                return _from_vtk(p / name, array, knn, seed)
        raise LossTopoError(f"folder {p} holds no {names.LANDSCAPE_NPZ}, {names.LANDSCAPE_VTI} or "
                            f"{names.LANDSCAPE_VTU}", "pass a landscape folder or a .vti/.vtu file")
    if not p.exists():
        raise LossTopoError(f"input {p} does not exist", "check the path")
    return _from_vtk(p, array, knn, seed)


# ------------------------------------------------------------------------------------------ compute

def resolve_backend(backend: str) -> str:
    """'auto' -> 'ttk' when TTK is loadable in ParaView, else 'builtin'; 'ttk' without TTK -> error."""
    from .topology.ttk import require_ttk, ttk_available

    if backend not in BACKENDS:
        raise LossTopoError(f"unknown backend {backend!r}", f"pass --backend one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "ttk" if ttk_available() else "builtin"
    if backend == "ttk":
        require_ttk()
    return backend


def _topology_json(dom: Domain, result: Any, metrics: dict, backend: str, array: str, n_bad: int,
                   simplify: float, simplify_relative: bool) -> dict:
    tree, pairs = result.tree, result.pairs
    return {
        "input": dom.source,
        "array": array,
        "backend": backend,
        "connectivity": dom.kind,
        "n_vertices": int(result.n_vertices),
        "n_components": int(result.n_components),
        **{k: metrics[k] for k in ("minima", "saddles", "degenerate_saddles", "maxima", "average_persistence",
                                   "average_persistence_finite", "max_persistence")},
        "metrics": metrics,
        "n_nonfinite": int(n_bad),
        "simplify": {"value": float(simplify), "relative": bool(simplify_relative),
                     "threshold": float(result.simplify_threshold)},
        "knn": dom.knn,
        "grid_dims": list(dom.grid_dims) if dom.grid_dims else None,
        "notes": dom.notes,
        "pairs": [{"birth": float(b), "death": float(d), "birth_vertex": int(bv), "death_vertex": int(dv),
                   "finite": bool(f)}
                  for b, d, bv, dv, f in zip(pairs.birth, pairs.death, pairs.birth_vertex, pairs.death_vertex,
                                             pairs.finite)],
        "merge_tree": {
            "nodes": [{"id": i, "vertex": int(v), "type": int(t), "scalar": float(s)}
                      for i, (v, t, s) in enumerate(zip(tree.node_vertex, tree.node_type, tree.node_scalar))],
            "arcs": [[int(u), int(d)] for u, d in np.asarray(tree.arcs).reshape(-1, 2)],
        },
    }


class _Steps:
    """A tqdm bar over the analysis steps (hidden when stderr is not a terminal or progress is off)."""

    def __init__(self, total: int, progress: bool):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc="analyze", unit="step", leave=False,
                        disable=None if progress else True)

    def start(self, what: str) -> None:
        self.bar.set_postfix_str(what, refresh=True)

    def done(self) -> None:
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def analyze_domain(dom: Domain, out_dir: str | os.PathLike, array: str = names.LOSS, backend: str = "auto",
                   simplify: float = 0.0, simplify_relative: bool = False, pictures: bool = True,
                   steps: _Steps | None = None) -> dict:
    """Stages 4-5 on a loaded Domain and every output file; returns the topology.json content."""
    steps = steps or _Steps(3, progress=False)
    from .metrics import topology_metrics
    from .topology import compute_topology
    from .topology.vtkoutput import merge_tree_vtk, persistence_diagram_vtk

    out = ensure_output_dir(out_dir)
    used = resolve_backend(backend)
    values, mask, n_bad = finite_version(dom.raw)
    if n_bad:
        dom.notes.append(f"{n_bad} non-finite values replaced by a plateau above the finite maximum")
    steps.start(f"merge tree and persistence ({used})")
    if used == "ttk":
        from .topology.ttk import compute_topology_ttk

        result = compute_topology_ttk(values, dom.connectivity, simplify, simplify_relative)
    else:
        result = compute_topology(values, dom.connectivity, simplify=simplify,
                                  simplify_relative=simplify_relative)
    metrics = topology_metrics(result)
    summary = _topology_json(dom, result, metrics, used, array, n_bad, simplify, simplify_relative)
    steps.done()

    steps.start("VTK outputs")
    dataset = vtkio.shallow_copy(dom.dataset)
    if result.simplify_threshold > 0:  # like TTK after its simplification: the field the tree was built on
        dataset.GetPointData().RemoveArray(array)
        dataset.GetPointData().AddArray(vtkio.to_vtk_array(array, result.values))
    nodes, arcs, segmentation = merge_tree_vtk(result, dataset)
    ext = ".vti" if dom.kind == "image" else ".vtu"
    files = {"merge_tree_nodes": NODES_VTU, "merge_tree_arcs": ARCS_VTU, "segmentation": SEGMENTATION + ext,
             "persistence_diagram": DIAGRAM_VTU}
    vtkio.write(out / NODES_VTU, nodes)
    vtkio.write(out / ARCS_VTU, arcs)
    vtkio.write(out / (SEGMENTATION + ext), segmentation)
    vtkio.write(out / DIAGRAM_VTU, persistence_diagram_vtk(result, dataset))
    if dom.knn is not None:
        vtkio.write(out / KNN_VTU, dom.dataset)
        files["knn_graph"] = KNN_VTU
    steps.done()
    steps.start("pictures")
    if pictures:
        from . import plots_topology as plots

        what = f"{array} ({dom.kind}{', k=%d' % dom.knn['k'] if dom.knn else ''})"
        plots.plot_landscape(out / PICTURES["landscape_png"], result, dom.coords,
                             grid_dims=dom.grid_dims if dom.kind == "image" else None, title=what)
        plots.plot_merge_tree(out / PICTURES["merge_tree_png"], result, title=f"merge tree of {what}")
        plots.plot_persistence_diagram(out / PICTURES["persistence_diagram_png"], result,
                                       title=f"persistence diagram of {what}")
        files.update(PICTURES)
    summary["files"] = files
    write_json(out / TOPOLOGY_JSON, summary)
    steps.done()
    return summary


def analyze_path(input: str | os.PathLike, out_dir: str | os.PathLike, array: str = names.LOSS,
                 backend: str = "auto", simplify: float = 0.0, knn: int | None = None,
                 simplify_relative: bool = False, seed: int = 0, pictures: bool = True,
                 progress: bool = True) -> dict:
    """Analyse a landscape folder / .vti / .vtu and write every output into out_dir; returns topology.json.

    knn: analyse the k-nearest-neighbour graph of the points instead of the file's own connectivity.
    progress: a tqdm bar over the steps on a terminal (building a kNN graph first compiles
    pynndescent's numba code, 20-80 s once per process).
    """
    out = ensure_output_dir(out_dir)  # fail on a bad --out before any long work
    resolve_backend(backend)
    steps = _Steps(4, progress)
    try:
        steps.start("reading input" + (f", building the {knn}-NN graph (pynndescent)" if knn else ""))
        dom = load_domain(input, array=array, knn=knn, seed=seed)
        steps.done()
        return analyze_domain(dom, out, array=array, backend=backend, simplify=simplify,
                              simplify_relative=simplify_relative, pictures=pictures, steps=steps)
    finally:
        steps.close()


# ------------------------------------------------------------------------------------------ CLI

def _nonnegative(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not np.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number >= 0")
    return v


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not >= 1")
    return v


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input",
                        help="landscape folder (landscape.npz / landscape.vti), or a .vti / .vtu file")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--array", default=names.LOSS, help="point array to analyse (default: %(default)s)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="topology backend: TTK when loadable in ParaView, else built-in (default: auto)")
    parser.add_argument("--simplify", type=_nonnegative, default=0.0,
                        help="remove minimum-saddle pairs of persistence <= this first (default: 0)")
    parser.add_argument("--simplify-relative", action="store_true",
                        help="read --simplify as a fraction of the value range")
    parser.add_argument("--knn", type=_positive_int, default=None, metavar="K",
                        help="analyse the K-nearest-neighbour graph of the points (writes knn_graph.vtu)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kNN graph construction")
    parser.add_argument("--no-pictures", action="store_true", help="skip the PNG pictures")


def run(args: argparse.Namespace) -> int:
    s = analyze_path(args.input, args.out, array=args.array, backend=args.backend, simplify=args.simplify,
                     knn=args.knn, simplify_relative=args.simplify_relative, seed=args.seed,
                     pictures=not args.no_pictures)
    knn = f", kNN k={s['knn']['k']} recall {s['knn']['recall']:.4f}" if s["knn"] else ""
    print(f"{s['connectivity']} of {s['n_vertices']} vertices ({s['backend']}{knn}): {s['minima']} minima, "
          f"{s['saddles']} saddles, average persistence {s['average_persistence']:.6g}; "
          f"wrote {Path(args.out) / TOPOLOGY_JSON}")
    for note in s["notes"]:
        print(f"note: {note}")
    return 0
