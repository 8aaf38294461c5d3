"""`losstopo analyze`: stages 3-5 on a landscape folder, a .vti image or a .vtu graph.

    losstopo analyze INPUT.vti|INPUT.vtu|DIR [--array Loss] [--backend auto|builtin|ttk]
                     [--simplify X] [--simplify-relative] [--representation image|knn] [--k 8] --out DIR

Reads the scalar field (raw: inf/NaN kept, see finite.py), builds the representation (image or kNN
graph, stage 3), computes the join tree and 0-dim persistence of its finite part (stage 4, built-in or
TTK; non-finite points left out) and the metrics (stage 5). Writes, each atomically, into --out:
topology.json, merge_tree_nodes.vtu, merge_tree_arcs.vtu, segmentation.vti|vtu, persistence_diagram.vtu
(TTK's layouts), knn_graph.vtu (graphs built here) and the pictures landscape.png, merge_tree.png,
persistence_diagram.png.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import names, settings, vtkio
from ..errors import LossTopoError
from ..fileio import differ_text, ensure_output_dir, output_folder, publish, reading, staging, write_json
from ..finite import finite_version
from ..metrics import topology_metrics
from ..representation import graph_connectivity
from ..topology import compute_topology

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

def _knn_domain(points: np.ndarray, arrays: dict[str, np.ndarray], k: int, seed: int, source: str,
                raw: np.ndarray, knn_method: str = "auto") -> Domain:
    conn, info = graph_connectivity(points, k=k, seed=seed, method=knn_method)
    ds = vtkio.graph_dataset(conn, arrays, info)
    return Domain(ds, raw, conn, "graph", source, conn.points, knn=info)


def _from_landscape_dir(path: Path, array: str, representation: str | None, k: int, seed: int,
                        knn_method: str = "auto") -> Domain:
    from ..landscape.files import load_landscape

    ls = load_landscape(path)
    choices = {names.LOSS: ls.loss, names.RAW_LOSS: ls.loss, names.ACCURACY: ls.accuracy}
    if array not in choices:
        raise LossTopoError(f"landscape {path} has no array {array!r} "
                            f"(it has {[names.LOSS, names.ACCURACY]})",
                            "pass --array Loss or --array Accuracy")
    raw = np.asarray(choices[array], dtype=np.float64).ravel()
    arrays = vtkio.landscape_arrays(ls.loss, ls.accuracy)
    arrays[array] = finite_version(raw)[0]
    if representation == "image" or (representation is None and ls.is_grid):
        ds, conn, _ = vtkio.landscape_to_vtk(ls, "image")
        ds.GetPointData().RemoveArray(array)
        ds.GetPointData().AddArray(vtkio.to_vtk_array(array, arrays[array]))
        return Domain(ds, raw, conn, "image", str(path), vtkio.points(ds), grid_dims=vtkio.image_geometry(ds)[0])
    dom = _knn_domain(np.asarray(ls.coords, dtype=np.float64), arrays, k, seed, str(path), raw, knn_method)
    if representation is None:
        dom.notes.append(f"scattered coordinates: analysed their {k}-nearest-neighbour graph")
    return dom


def _from_vtk(path: Path, array: str, representation: str | None, k: int, seed: int,
              knn_method: str = "auto") -> Domain:
    ds = vtkio.read(path)
    raw = vtkio.raw_field(ds, array, source=str(path))  # a landscape's Loss is finite for display only
    if representation == "knn":
        arrays = vtkio.point_arrays(ds)
        arrays[array] = finite_version(raw)[0]
        return _knn_domain(vtkio.points(ds), arrays, k, seed, str(path), raw, knn_method)
    if ds.IsA("vtkImageData"):
        return Domain(ds, raw, vtkio.dataset_connectivity(ds), "image", str(path), vtkio.points(ds),
                      grid_dims=vtkio.image_geometry(ds)[0])
    if representation == "image":
        raise LossTopoError(f"{path} is not an image (vtkImageData)", "use --representation knn for it")
    conn = vtkio.dataset_connectivity(ds)
    if len(conn.edges) == 0:
        raise LossTopoError(f"{path} has points but no edges (cells)",
                            "pass --representation knn to build a kNN graph of them")
    return Domain(ds, raw, conn, "graph", str(path), conn.points)


def load_domain(input_path: str | os.PathLike, array: str = names.LOSS, representation: str | None = None,
                k: int = 8, seed: int = 0, knn_method: str = "auto") -> Domain:
    """The field to analyse from a landscape folder, a .vti image or a .vtu graph (one-line errors).

    representation None: the input's own connectivity (a grid's image, a .vtu's line cells, the kNN
    graph of a scattered landscape); "image" or "knn" to choose. knn_method: how a kNN graph is built.
    """
    p = Path(input_path)
    knn_method = settings.knn_method(knn_method)
    if representation is not None:
        settings.choice("--representation", representation, vtkio.REPRESENTATIONS)
    k = settings.k(k)
    if p.is_dir():
        with reading(p):  # never a folder that another process is writing
            if (p / names.LANDSCAPE_NPZ).exists():
                return _from_landscape_dir(p, array, representation, k, seed, knn_method)
            for name in (names.LANDSCAPE_VTI, names.LANDSCAPE_VTU):
                if (p / name).exists():
                    return _from_vtk(p / name, array, representation, k, seed, knn_method)
        raise LossTopoError(f"folder {p} holds no {names.LANDSCAPE_NPZ}, {names.LANDSCAPE_VTI} or "
                            f"{names.LANDSCAPE_VTU}", "pass a landscape folder or a .vti/.vtu file")
    if not p.exists():
        raise LossTopoError(f"input {p} does not exist", "check the path")
    with reading(p.parent):
        return _from_vtk(p, array, representation, k, seed, knn_method)


# ------------------------------------------------------------------------------------------ compute

def id_ranges(ids: np.ndarray) -> list[list[int]]:
    """Sorted vertex ids as inclusive runs [[first, last], ...] (a blob of a grid is one run per row)."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(ids) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [ids.size - 1]])
    return [[int(ids[a]), int(ids[b])] for a, b in zip(starts, ends)]


def resolve_backend(backend: str) -> str:
    """'auto' -> 'ttk' when a TTK whose names losstopo knows is found (paraview/ttk_find.py), else
    'builtin' (saying so in one line on stderr when a TTK was found but its names are unknown);
    'ttk' without a usable TTK -> one-line error."""
    from ..paraview.ttk import find_ttk, require_ttk

    if backend not in BACKENDS:
        raise LossTopoError(f"unknown backend {backend!r}", f"pass --backend one of {', '.join(BACKENDS)}")
    if backend == "auto":
        found = find_ttk()
        if found.route != "none" and not found.usable:
            print(f"losstopo: {found.problem}; using the built-in backend", file=sys.stderr)
        return "ttk" if found.usable else "builtin"
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
        "nonfinite_vertices": id_ranges(np.flatnonzero(~np.isfinite(dom.raw))),
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
                   steps: _Steps | None = None, record: dict | None = None) -> dict:
    """Stages 4-5 on a loaded Domain and every output file; returns the topology.json content."""
    steps = steps or _Steps(3, progress=False)
    out = ensure_output_dir(out_dir)
    used = resolve_backend(backend)
    steps.start(f"merge tree and persistence ({used})")
    if used == "ttk":  # both backends leave non-finite points out: the topology of the finite part
        from ..paraview.ttk import compute_topology_ttk

        result = compute_topology_ttk(dom.raw, dom.connectivity, simplify, simplify_relative)
    else:
        result = compute_topology(dom.raw, dom.connectivity, simplify=simplify,
                                  simplify_relative=simplify_relative)
    n_bad = result.n_nonfinite
    if n_bad:
        dom.notes.append(f"{n_bad} of {result.n_vertices} points have a non-finite {array} (inf/NaN): left out, "
                         "the topology is that of the finite points (nonfinite_vertices, ValidMask)")
    metrics = topology_metrics(result)
    summary = _topology_json(dom, result, metrics, used, array, n_bad, simplify, simplify_relative)
    steps.done()

    steps.start("VTK outputs")
    dataset = vtkio.shallow_copy(dom.dataset)
    if n_bad:  # ValidMask, RawLoss and a finite display array (landscapes carry them already)
        vtkio.mark_nonfinite(dataset, array, dom.raw)
    if result.simplify_threshold > 0:  # like TTK after its simplification: the field the tree was built on
        dataset.GetPointData().RemoveArray(array)
        dataset.GetPointData().AddArray(vtkio.to_vtk_array(array, finite_version(result.values)[0]))
    nodes, arcs, segmentation = vtkio.merge_tree_vtk(result, dataset)
    ext = ".vti" if dom.kind == "image" else ".vtu"
    files = {"merge_tree_nodes": NODES_VTU, "merge_tree_arcs": ARCS_VTU, "segmentation": SEGMENTATION + ext,
             "persistence_diagram": DIAGRAM_VTU}
    vtkio.write(out / NODES_VTU, nodes)
    vtkio.write(out / ARCS_VTU, arcs)
    vtkio.write(out / (SEGMENTATION + ext), segmentation)
    vtkio.write(out / DIAGRAM_VTU, vtkio.persistence_diagram_vtk(result, dataset))
    if dom.knn is not None:
        vtkio.write(out / KNN_VTU, dom.dataset)
        files["knn_graph"] = KNN_VTU
    steps.done()
    steps.start("pictures")
    if pictures:
        from .. import plots

        what = f"{array} ({dom.kind}{', k=%d' % dom.knn['k'] if dom.knn else ''})"
        plots.plot_landscape(out / PICTURES["landscape_png"], dom.coords, dom.raw,
                             dom.grid_dims if dom.kind == "image" else None, result=result, title=what,
                             loss_name=array)
        plots.plot_merge_tree(out / PICTURES["merge_tree_png"], result, title=f"merge tree of {what}",
                              loss_name=array)
        plots.plot_persistence_diagram(out / PICTURES["persistence_diagram_png"], result,
                                       title=f"persistence diagram of {what}", loss_name=array)
        files.update(PICTURES)
    summary["files"] = files
    if record is not None:  # what check_previous compares a rerun with
        summary["settings"] = record
    write_json(out / TOPOLOGY_JSON, summary)
    steps.done()
    return summary


def analyze_path(input: str | os.PathLike, out_dir: str | os.PathLike, array: str = names.LOSS,
                 backend: str = "auto", simplify: float = 0.0, representation: str | None = None, k: int = 8,
                 simplify_relative: bool = False, seed: int = 0, pictures: bool = True,
                 progress: bool = True, overwrite: bool = False, knn_method: str = "auto") -> dict:
    """Analyse a landscape folder / .vti / .vtu and write every output into out_dir; returns topology.json.

    representation: "knn" analyses the k-nearest-neighbour graph of the points instead of the file's own
    connectivity (see load_domain).
    knn_method: "auto" | "exact" | "nndescent" (representation/knn.py; NN-descent first compiles
    pynndescent's numba code, 20-80 s once per process).
    progress: a tqdm bar over the steps on a terminal.
    out_dir has one writer (its lock). An analysis of other settings (or of another input) already in it
    is refused unless overwrite=True; the outputs are written to a staging folder and moved in at the
    end (topology.json last), so a failed run changes nothing, and a folder it created is removed.
    """
    resolve_backend(backend)
    wanted = analysis_settings(input, array, backend, simplify, simplify_relative, representation, k, seed,
                               knn_method)
    with output_folder(out_dir, "analysis") as out:  # fail on a bad --out before any long work
        replaced = check_previous(out, wanted, overwrite)
        steps = _Steps(4, progress)
        try:
            steps.start("reading input" + (f", building the {k}-NN graph" if representation == "knn" else ""))
            dom = load_domain(input, array=array, representation=representation, k=k, seed=seed,
                              knn_method=knn_method)
            steps.done()
            with staging(out) as stage:
                summary = analyze_domain(dom, stage, array=array, backend=backend, simplify=simplify,
                                         simplify_relative=simplify_relative, pictures=pictures, steps=steps,
                                         record=wanted)
                publish(stage, out, last=TOPOLOGY_JSON, drop=replaced)
            return summary
        finally:
            steps.close()


def _input_digest(p: Path) -> str | None:
    """sha256 of what an analysis reads (a landscape folder's landscape.npz or .vti/.vtu, or the file)."""
    if p.is_dir():
        p = next((p / n for n in (names.LANDSCAPE_NPZ, names.LANDSCAPE_VTI, names.LANDSCAPE_VTU)
                  if (p / n).exists()), p)
    if not p.is_file():
        return None
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def analysis_settings(input: str | os.PathLike, array: str, backend: str, simplify: float, simplify_relative: bool,
                      representation: str | None, k: int, seed: int, knn_method: str = "auto") -> dict:
    """What decides an analysis's outputs: the input (path and content) and every setting."""
    p = Path(input)
    return {"input": str(p.resolve()), "input_sha256": _input_digest(p), "array": array, "backend": backend,
            "simplify": float(settings.threshold(simplify)), "simplify_relative": bool(simplify_relative),
            "representation": representation, "k": int(settings.k(k)), "seed": int(seed),
            "knn_method": settings.knn_method(knn_method)}


def check_previous(out: Path, wanted: dict, overwrite: bool) -> list[str]:
    """Refuse (one line naming what differs) to replace an analysis of other settings in `out` unless
    overwrite; returns the files of the analysis to be replaced (removed when the new one is published)."""
    path = out / TOPOLOGY_JSON
    if not path.exists():
        return []
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        old = {}
    if not isinstance(old, dict):
        old = {}
    have = old.get("settings")
    if not isinstance(have, dict):  # written before topology.json recorded its settings
        simp = old.get("simplify") if isinstance(old.get("simplify"), dict) else {}
        have = {"input": str(Path(str(old.get("input", ""))).resolve()), "array": old.get("array"),
                "simplify": simp.get("value"), "simplify_relative": simp.get("relative")}
        have = {k: v for k, v in have.items() if v is not None}
    diff = sorted(k for k in have if have.get(k) != wanted.get(k))
    if diff and not overwrite:
        raise LossTopoError(f"{out} holds an analysis with other settings ({differ_text(diff)})",
                            "pass --overwrite to replace it, or choose another --out")
    files = old.get("files") if isinstance(old.get("files"), dict) else {}
    return [str(f) for f in files.values()] + [TOPOLOGY_JSON]
