"""The residual study as a job: every model's row (study.steps), then study.csv, the figures and summary.md.

`losstopo study residual` trains ResNet-20 with and without residual connections for each seed, measures
accuracy, loss, the top Hessian eigenvalue and the Hessian trace, computes each model's loss landscape
and the topology of that landscape as an image AND as a kNN graph, and writes:
  OUT/study.csv        one row per model
  OUT/figure5.png      the paper's layout (columns saddles / average persistence; rows accuracy,
                       top eigenvalue, trace), image representation; figure5_graph.png for the graph
  OUT/gallery.png      the landscapes with their merge trees
  OUT/summary.md       whether each claim of the paper holds here, with numbers
Every step is cached under OUT (models/, landscapes/<name>/ with chunk resume, results/<name>.json,
all written atomically), so a killed study continues where it stopped when rerun with the same command.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any, Iterator, Sequence

from .. import settings
from ..errors import LossTopoError
from ..fileio import output_folder, write_csv, write_json
from ..study.config import (CSV_COLUMNS, STUDY_FORMAT, ModelSpec, StudyConfig, check_or_write_config, model_specs,
                            validate_config)
from ..study.report import write_summary
from ..study.steps import ResidualStudy


# What a study writes into its folder: removed (and only this) by overwrite=True.
STUDY_OUTPUTS = ("study.json", "run.json", "study.csv", "figure5.png", "figure5_graph.png", "gallery.png", "summary.md",
                 "models", "landscapes", "results", "gallery",
                 "figure5_hessian.png", "figure5_hessian_graph.png", "gallery_hessian.png")


def _has_work(out: Path) -> bool:
    """Whether a failed study leaves anything a rerun resumes from (then its new folder is kept)."""
    return any(p.is_file() for sub in ("models", "landscapes", "results") for p in (out / sub).rglob("*"))


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[int]:
    """torch.set_num_threads(n) for the block (None: torch's default); yields the count in use; restored after."""
    import torch

    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(int(n))
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def _claim_folder(out: Path, cfg: Any, fmt: str, overwrite: bool) -> None:
    """study.json for cfg; a study of other settings is refused, or removed first with overwrite=True."""
    try:
        check_or_write_config(out, cfg, fmt)
    except LossTopoError:
        if not overwrite:
            raise
        for name in STUDY_OUTPUTS:  # study.json first: the folder no longer claims the old study
            target = out / name
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        check_or_write_config(out, cfg, fmt)


def run_residual_study(out_dir: str | os.PathLike, cfg: StudyConfig, show_progress: bool = True,
                       overwrite: bool = False, threads: int | None = None) -> Path:
    """Run (or resume) the whole study in out_dir; returns the path of study.csv.

    The folder has one writer (its lock); a study of other settings in it is refused unless
    overwrite=True, which removes that study's files first; a failed first run removes the folder.
    """
    validate_config(cfg)
    threads = settings.threads(threads)
    with output_folder(out_dir, "study", keep=_has_work) as out, torch_threads(threads) as used:
        _claim_folder(out, cfg, STUDY_FORMAT, overwrite)
        write_json(out / "run.json", {"threads": used, "threads_set": threads is not None})
        study = ResidualStudy(out, cfg, show_progress=show_progress)
        study.remove_stale_temporaries()
        specs = model_specs(cfg.seeds)
        rows = []
        with _stages(study, specs, 4, "study", show_progress) as stage:
            for spec in specs:
                rows.append(study.row(spec, stage))
            with stage("figures and summary"):
                csv_path = write_csv(out / "study.csv", rows, CSV_COLUMNS)
                write_outputs(study, specs, rows)
    return csv_path


@contextlib.contextmanager
def _stages(study: Any, specs: Sequence[Any], per_model: int, desc: str, show: bool) -> Iterator[Any]:
    """A tqdm bar over the study's stages (`per_model` per model, then the outputs), models already finished
    counted at once; yields `stage(label)`, the context manager each step runs in."""
    from tqdm import tqdm

    with tqdm(total=per_model * len(specs) + 1, desc=desc, unit="stage", disable=not show) as bar:
        bar.update(per_model * sum(study.result_path(s).exists() for s in specs))

        @contextlib.contextmanager
        def stage(label: str) -> Iterator[None]:
            bar.set_postfix_str(label)
            yield
            bar.update(1)

        yield stage


def write_outputs(study: ResidualStudy, specs: Sequence[ModelSpec], rows: list[dict[str, Any]]) -> None:
    """figure5.png, figure5_graph.png, gallery.png and summary.md from the rows and the saved landscapes."""
    from ..landscape.files import load_landscape
    from ..plots.study import figure5, gallery
    from ..representation import landscape_image
    from ..topology import compute_topology

    out = study.out
    figure5(rows, out / "figure5.png", representation="image")
    figure5(rows, out / "figure5_graph.png", representation="graph")
    items = []
    for spec in specs:
        ls = load_landscape(study.landscape_dir(spec))
        items.append((spec, ls, compute_topology(ls.loss, landscape_image(ls.resolution, ls.span))))
    gallery(items, out / "gallery.png", tiles_dir=out / "gallery")
    write_summary(out / "summary.md", rows, study.cfg)


def run_depth_study(out_dir: str | os.PathLike, cfg: Any, show_progress: bool = True, overwrite: bool = False,
                    threads: int | None = None, finished_only: bool = False) -> Path:
    """Run (or resume) the depth study (study.depth_config.DepthConfig) in out_dir; returns study.csv's path.

    The same folder rules as run_residual_study; OUT/run.json records the torch threads of the last run.
    finished_only: compute nothing; write the CSV, figures and summary of the models finished so far (the
    summary names the missing ones), e.g. for a study stopped early.
    """
    from ..study.depth import DepthStudy
    from ..study.depth_config import CSV_COLUMNS as DEPTH_COLUMNS
    from ..study.depth_config import DEPTH_FORMAT, depth_specs, validate_depth_config

    validate_depth_config(cfg)
    threads = settings.threads(threads)
    with output_folder(out_dir, "study", keep=_has_work) as out, torch_threads(threads) as used:
        if finished_only and not (out / "study.json").exists():
            raise LossTopoError(f"{out} holds no depth study", "run the study first (without --finished-only)")
        _claim_folder(out, cfg, DEPTH_FORMAT, overwrite and not finished_only)
        if not finished_only:
            write_json(out / "run.json", {"threads": used, "threads_set": threads is not None})
        study = DepthStudy(out, cfg, show_progress=show_progress, threads=threads)
        study.remove_stale_temporaries()
        specs = depth_specs(cfg)
        if finished_only:
            done = [s for s in specs if study.result_path(s).exists()]
            if not done:
                raise LossTopoError(f"no model of the study in {out} has finished", "let the study run longer")
            rows = [r for s in done for r in study.rows(s)]
            csv_path = write_csv(out / "study.csv", rows, DEPTH_COLUMNS)
            write_depth_outputs(study, done, rows, missing=[s.name for s in specs if s not in done])
            return csv_path
        per = 2 + len(cfg.directions)
        rows: list[dict[str, Any]] = []
        with _stages(study, specs, per, "depth study", show_progress) as stage:
            for spec in specs:
                rows.extend(study.rows(spec, stage))
            with stage("figures and summary"):
                csv_path = write_csv(out / "study.csv", rows, DEPTH_COLUMNS)
                write_depth_outputs(study, specs, rows)
    return csv_path


def write_depth_outputs(study: Any, specs: Sequence[Any], rows: list[dict[str, Any]],
                        missing: Sequence[str] = ()) -> None:
    """figure5*.png (per direction kind and representation), gallery.png, depth_figure.png and summary.md."""
    from ..landscape.files import load_landscape
    from ..plots.compare import depth_figure5, depth_gallery
    from ..study.depth_report import write_depth_summary

    out, cfg = study.out, study.cfg
    for directions in cfg.directions:
        sel = [r for r in rows if r["directions"] == directions and r["span"] == cfg.largest_span]
        tag = "" if directions == cfg.directions[0] else f"_{directions}"
        for rep in ("image", "graph"):
            depth_figure5(sel, out / f"figure5{tag}{'' if rep == 'image' else '_graph'}.png", representation=rep,
                          title=f"{directions} directions, span {cfg.largest_span:g}, {rep} representation")
    first = [s for s in specs if s.seed == specs[0].seed]
    for directions in cfg.directions:
        tag = "" if directions == cfg.directions[0] else f"_{directions}"
        landscapes = {s.name: load_landscape(study.landscape_dir(s, directions)) for s in first}
        depth_gallery(first, landscapes, directions, out / f"gallery{tag}.png")
    import json

    threads = json.loads((out / "run.json").read_text()).get("threads") if (out / "run.json").exists() else None
    write_depth_summary(out / "summary.md", rows, cfg, threads=threads, missing=missing)
