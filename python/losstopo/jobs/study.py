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

from ..errors import LossTopoError
from ..fileio import output_folder, write_csv
from ..study.config import CSV_COLUMNS, ModelSpec, StudyConfig, check_or_write_config, model_specs, validate_config
from ..study.report import write_summary
from ..study.steps import ResidualStudy


# What a study writes into its folder: removed (and only this) by overwrite=True.
STUDY_OUTPUTS = ("study.json", "study.csv", "figure5.png", "figure5_graph.png", "gallery.png", "summary.md",
                 "models", "landscapes", "results", "gallery")


def _has_work(out: Path) -> bool:
    """Whether a failed study leaves anything a rerun resumes from (then its new folder is kept)."""
    return any(p.is_file() for sub in ("models", "landscapes", "results") for p in (out / sub).rglob("*"))


def run_residual_study(out_dir: str | os.PathLike, cfg: StudyConfig, show_progress: bool = True,
                       overwrite: bool = False) -> Path:
    """Run (or resume) the whole study in out_dir; returns the path of study.csv.

    The folder has one writer (its lock); a study of other settings in it is refused unless
    overwrite=True, which removes that study's files first; a failed first run removes the folder.
    """
    from tqdm import tqdm

    validate_config(cfg)
    with output_folder(out_dir, "study", keep=_has_work) as out:
        try:
            check_or_write_config(out, cfg)
        except LossTopoError:
            if not overwrite:
                raise
            for name in STUDY_OUTPUTS:  # study.json first: the folder no longer claims the old study
                target = out / name
                if target.is_dir():
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)
            check_or_write_config(out, cfg)
        study = ResidualStudy(out, cfg, show_progress=show_progress)
        study.remove_stale_temporaries()
        specs = model_specs(cfg.seeds)
        rows = []
        with tqdm(total=4 * len(specs) + 1, desc="study", unit="stage", disable=not show_progress) as bar:

            @contextlib.contextmanager
            def stage(label: str) -> Iterator[None]:
                bar.set_postfix_str(label)
                yield
                bar.update(1)

            for spec in specs:
                if study.result_path(spec).exists():
                    bar.update(4)
                rows.append(study.row(spec, stage))
            with stage("figures and summary"):
                csv_path = write_csv(out / "study.csv", rows, CSV_COLUMNS)
                write_outputs(study, specs, rows)
    return csv_path


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
