"""`losstopo study files`: stage-5 metrics of existing landscape files, grouped by a regex.

Reads .vti images, .vtu graphs (VTK_LINE edges) or landscape folders written by `losstopo landscape`,
computes the join tree and 0-dimensional persistence of each (of its finite part: inf/NaN points are
left out, finite.py) and tabulates minima, saddles and average persistence per group. The group is taken from the
file name by `--group-by REGEX`: the named group `group` or else the first group; optional named
groups `span` (the x axis of the figure) and `seed` are recorded too. Where a landscape folder's
checkpoint is at hand, its recorded accuracy and loss become extra rows of the figure.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .. import names, vtkio
from ..errors import LossTopoError
from ..fileio import check_settings, output_folder, publish, staging, write_csv, write_json
from ..metrics import topology_metrics
from ..representation import GraphConnectivity, graph_connectivity, image_connectivity
from ..topology import compute_topology

# The metrics reported per representation, in CSV order.
TOPOLOGY_COLUMNS = ("minima", "saddles", "degenerate_saddles", "average_persistence",
                    "average_persistence_finite", "max_persistence", "n_pairs")

LANDSCAPE_SUFFIXES = (".vti", ".vtu")


# --------------------------------------------------------------------------------------- topology
def topology_of_file(path: str | os.PathLike, array: str = names.LOSS, k: int = 8) -> dict[str, Any]:
    """Stage-5 metrics of one landscape file or folder, plus 'kind' ('image'/'graph') and 'span' if known.

    .vti -> image connectivity of its grid; .vtu -> the graph of its line cells; a landscape folder ->
    its grid (image), or the kNN graph of its coordinates when they are scattered. Folders use the RAW
    loss from landscape.npz (so the non-finite policy is applied here exactly once).
    """
    p = Path(path)
    span: float | None = None
    if p.is_dir():
        from ..landscape.files import load_landscape

        ls = load_landscape(p)
        res = tuple(int(r) for r in (ls.resolution or ()))
        if res:
            conn, kind = image_connectivity(res), "image"
        else:
            conn, _info = graph_connectivity(ls.coords, k=k)
            kind = "graph"
        raw = np.asarray(ls.loss, dtype=np.float64)
        span = float(ls.span)
    else:
        data = vtkio.read(p)
        raw = vtkio.raw_field(data, array, source=str(p))  # a landscape's Loss is finite for display only
        if data.IsA("vtkImageData"):
            dims, _origin, _spacing = vtkio.image_geometry(data)
            conn, kind = image_connectivity(dims), "image"
        else:
            edges = vtkio.line_edges(data)
            if len(edges) == 0:
                raise LossTopoError(f"{p} has no line cells (edges)", "pass a graph .vtu with VTK_LINE cells or a .vti")
            conn, kind = GraphConnectivity(edges=edges, n_vertices=int(data.GetNumberOfPoints())), "graph"
    result = compute_topology(raw, conn)
    metrics = topology_metrics(result)
    metrics["n_nonfinite"] = result.n_nonfinite
    metrics["n_vertices"] = result.n_vertices
    metrics["kind"] = kind
    metrics["span_from_file"] = span
    return metrics


# ------------------------------------------------------------------------------------------ files
def expand_patterns(patterns: Iterable[str]) -> list[Path]:
    """Files/folders matched by glob patterns (or plain paths), sorted, without duplicates.

    A folder counts when it is a landscape folder (holds landscape.npz); other matches must end in
    .vti or .vtu. No match at all -> LossTopoError.
    """
    found: dict[str, Path] = {}
    for pat in patterns:
        hits = sorted(glob.glob(os.path.expanduser(pat), recursive=True)) or ([pat] if Path(pat).exists() else [])
        for h in hits:
            hp = Path(h)
            if hp.is_dir() and (hp / names.LANDSCAPE_NPZ).exists():
                found[str(hp)] = hp
            elif hp.is_file() and hp.suffix.lower() in LANDSCAPE_SUFFIXES:
                found[str(hp)] = hp
    if not found:
        raise LossTopoError(f"no landscape file matches {' '.join(patterns)!s}",
                            "pass .vti/.vtu files or landscape folders (quote globs, e.g. 'dir/resnet20_*.vti')")
    return sorted(found.values(), key=lambda q: str(q))


def compile_group_regex(regex: str) -> re.Pattern[str]:
    """Compile --group-by; it must have a capturing group (first or named 'group') that names the group."""
    try:
        rx = re.compile(regex)
    except re.error as e:
        raise LossTopoError(f"--group-by {regex!r} is not a valid regular expression ({e})",
                            "fix the pattern, e.g. 'resnet20_(res|nores)_'") from None
    if rx.groups == 0:
        raise LossTopoError(f"--group-by {regex!r} has no group",
                            "put the part that names the group in parentheses, e.g. 'resnet20_(res|nores)_'")
    return rx


def file_label(path: Path) -> str:
    """The name the regex is matched against: the file name without extension, or the folder name."""
    return path.name if path.is_dir() else path.stem


def parse_name(rx: re.Pattern[str], label: str) -> dict[str, Any] | None:
    """group / span / seed from a file label (None when the regex does not match it)."""
    m = rx.search(label)
    if m is None:
        return None
    gd = m.groupdict()
    group = gd.get("group") if gd.get("group") is not None else m.group(1)
    out: dict[str, Any] = {"group": group if group is not None else ""}
    for key in ("span", "seed"):
        v = gd.get(key)
        out[key] = _number(v) if v is not None else None
    return out


def _number(s: str) -> float | int | str:
    try:
        f = float(s)
    except ValueError:
        return s
    return int(f) if f.is_integer() and "." not in s else f


def _checkpoint_metrics(folder: Path) -> dict[str, float]:
    """ML numbers recorded with a landscape folder's checkpoint (accuracy, loss), where available."""
    meta_path = folder / names.META_JSON
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return {}
    ck = meta.get("checkpoint")
    ck_path = ck.get("path") if isinstance(ck, dict) else ck
    if not ck_path or not Path(ck_path).exists():
        return {}
    try:
        from ..models.checkpoint import load_checkpoint

        info = load_checkpoint(ck_path).info
    except (LossTopoError, ImportError):
        return {}
    out = {}
    for key in ("test_accuracy", "test_loss"):
        v = info.get(key)
        if isinstance(v, (int, float)) and math.isfinite(v):
            out[key] = float(v)
    return out


FILES_COLUMNS = ("file", "group", "span", "seed", "kind", "n_vertices", "n_nonfinite") + TOPOLOGY_COLUMNS \
    + ("test_accuracy", "test_loss")


FILES_RECORD = "files_study.json"  # the settings of the finished files study in OUT (written last)


def study_files(patterns: Sequence[str], group_by: str, out_dir: str | os.PathLike,
                array: str = names.LOSS, k: int = 8, show_progress: bool = True,
                overwrite: bool = False) -> list[dict[str, Any]]:
    """Metrics of every matching landscape file, written to OUT/files.csv, OUT/files_figure.png and
    OUT/files_summary.md; returns the rows. Files the regex does not match are skipped (and listed).

    OUT has one writer (its lock); a files study of other settings in it is refused unless overwrite;
    the outputs are staged and moved in at the end, so a failed run changes nothing."""
    rx = compile_group_regex(group_by)
    paths = expand_patterns(patterns)
    wanted = {"files": [str(p.resolve()) for p in paths], "group_by": group_by, "array": array, "k": int(k)}
    with output_folder(out_dir, "files study") as out:
        check_settings(out, FILES_RECORD, wanted, overwrite, "files study")
        with staging(out) as stage:
            rows = _study_files(paths, rx, group_by, stage, array, k, show_progress)
            write_json(stage / FILES_RECORD, {"settings": wanted})
            publish(stage, out, last=FILES_RECORD)
    return rows


def _study_files(paths: list[Path], rx: re.Pattern, group_by: str, out: Path, array: str, k: int,
                 show_progress: bool) -> list[dict[str, Any]]:
    from tqdm import tqdm

    matched = [(p, parse_name(rx, file_label(p))) for p in paths]
    skipped = [p for p, g in matched if g is None]
    todo = [(p, g) for p, g in matched if g is not None]
    if not todo:
        raise LossTopoError(f"--group-by {group_by!r} matches none of the {len(paths)} file names "
                            f"(e.g. {file_label(paths[0])!r})", "adjust the regular expression")
    rows: list[dict[str, Any]] = []
    # on a terminal only, and cleared when done or failed: a bad file ends in its one line alone
    with tqdm(todo, desc="study files", unit="file", disable=None if show_progress else True, leave=False) as bar:
        for p, g in bar:
            m = topology_of_file(p, array=array, k=k)
            span = g["span"] if g["span"] is not None else m.pop("span_from_file", None)
            m.pop("span_from_file", None)
            row = {"file": str(p), "group": g["group"], "span": span, "seed": g["seed"], **m}
            if p.is_dir():
                row.update(_checkpoint_metrics(p))
            rows.append(row)
    write_csv(out / "files.csv", rows, FILES_COLUMNS)
    from ..plots.study import files_figure
    from ..study.report import write_files_summary

    files_figure(rows, out / "files_figure.png")
    write_files_summary(out / "files_summary.md", rows, skipped, group_by)
    return rows
