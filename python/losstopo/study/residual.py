"""`losstopo study`: relate landscape topology to ML metrics (stage 6; the paper's Figure 5).

`study residual` trains ResNet-20 with and without residual connections for each seed, measures
accuracy, loss, the top Hessian eigenvalue and the Hessian trace, computes each model's loss landscape
and the topology of that landscape as an image AND as a kNN graph, and writes:
  OUT/study.csv        one row per model
  OUT/figure5.png      the paper's layout (columns saddles / average persistence; rows accuracy,
                       top eigenvalue, trace), image representation; figure5_graph.png for the graph
  OUT/gallery.png      the landscapes with their merge trees
  OUT/summary.md       whether each claim of the paper holds here, with numbers
Every step is cached under OUT (models/, landscapes/<name>/ with chunk resume, results/<name>.json,
all written atomically), so a killed study continues where it stopped when rerun with the same
command. `study files` (study_files.py) does the topology part for existing landscape files.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .errors import LossTopoError
from .fileio import atomic_path, ensure_output_dir, write_json

STUDY_FORMAT = "losstopo-study/1"
PAPER_SEEDS = (0, 123, 123456, 2023)

# Digits defaults, chosen by measurement on the 2-core machine (docs/study.md): the whole study
# (8 models) finishes within 20 minutes.
DEFAULT_EPOCHS = 10
DEFAULT_RESOLUTION = 41
DEFAULT_SPAN = 1.0
DEFAULT_HESSIAN_SAMPLES = 128
DEFAULT_KNN = 8

# ML metrics (ml_metrics keys) and topology metrics carried into study.csv.
ML_COLUMNS = ("train_accuracy", "test_accuracy", "train_loss", "test_loss", "top_eigenvalue", "hessian_trace")
TOPO_KEYS = ("minima", "saddles", "degenerate_saddles", "average_persistence", "max_persistence", "n_pairs")
REPRESENTATIONS = ("image", "graph")
CSV_COLUMNS = ("name", "residual", "seed") + ML_COLUMNS + tuple(
    f"{rep}_{k}" for rep in REPRESENTATIONS for k in TOPO_KEYS) + ("n_nonfinite", "knn_recall")


@dataclass(frozen=True)
class StudyConfig:
    """Every setting that changes a result; stored in OUT/study.json so a resume uses the same ones."""

    data: str = "digits"
    data_root: str | None = None
    seeds: tuple[int, ...] = PAPER_SEEDS
    epochs: int = DEFAULT_EPOCHS
    resolution: int = DEFAULT_RESOLUTION
    span: float = DEFAULT_SPAN
    directions: str = "filter"
    samples: int | None = None  # evaluation samples per landscape point (None: the whole test split)
    hessian_samples: int = DEFAULT_HESSIAN_SAMPLES
    knn: int = DEFAULT_KNN
    train_kwargs: dict[str, Any] = field(default_factory=dict)  # extra train_model keywords (e.g. samples)
    landscape_kwargs: dict[str, Any] = field(default_factory=dict)  # extra compute_landscape keywords
    ml_kwargs: dict[str, Any] = field(default_factory=dict)  # extra ml_metrics keywords (e.g. max_iter)

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["seeds"] = list(self.seeds)
        return d


@dataclass(frozen=True)
class ModelSpec:
    """One model of the study: ResNet-20 with or without residual connections, one seed."""

    residual: bool
    seed: int

    @property
    def name(self) -> str:
        return f"resnet20_{'res' if self.residual else 'nores'}_seed{self.seed}"


def model_specs(seeds: Sequence[int]) -> list[ModelSpec]:
    """Residual first, then plain, seed by seed (the order of the CSV rows)."""
    return [ModelSpec(residual, int(s)) for residual in (True, False) for s in seeds]


# ---------------------------------------------------------------------------------------- checks
def validate_config(cfg: StudyConfig) -> None:
    """One-line errors for settings that would fail later (before any work starts)."""
    from .data import DATASETS

    if cfg.data not in DATASETS:
        raise LossTopoError(f"unknown data set {cfg.data!r} (choices: {', '.join(sorted(DATASETS))})",
                            "pass --data digits or --data cifar10")
    if not cfg.seeds:
        raise LossTopoError("no seeds given", "pass --seeds with at least one seed")
    if len(set(cfg.seeds)) != len(cfg.seeds):
        raise LossTopoError(f"--seeds has duplicates ({list(cfg.seeds)})", "pass each seed once")
    if cfg.epochs < 1:
        raise LossTopoError(f"--epochs {cfg.epochs} is not positive", "pass --epochs 1 or more")
    if cfg.resolution < 3:
        raise LossTopoError(f"--resolution {cfg.resolution} is too small", "pass --resolution 3 or more")
    if not (cfg.span > 0 and math.isfinite(cfg.span)):
        raise LossTopoError(f"--span {cfg.span} is not a positive number", "pass e.g. --span 1.0")
    if cfg.knn < 1 or cfg.knn >= cfg.resolution ** 2:
        raise LossTopoError(f"--knn {cfg.knn} does not fit {cfg.resolution}x{cfg.resolution} points",
                            f"pass --knn between 1 and {cfg.resolution ** 2 - 1}")
    if cfg.data == "cifar10":
        # Fails fast with data.py's one-line error when the folder is missing or malformed.
        from .data import load_dataset

        load_dataset("cifar10", "test", root=cfg.data_root, samples=2)


@contextlib.contextmanager
def study_lock(out: Path) -> Iterator[None]:
    """Hold OUT/.study.lock while working, so two studies never write one folder at the same time.

    The lock dies with its process (also on SIGKILL), so a killed study never blocks its rerun.
    """
    f = open(out / ".study.lock", "w")
    try:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LossTopoError(f"another study is running in {out}", "wait for it or choose another --out") from None
        yield
    finally:
        f.close()


def check_or_write_config(out: Path, cfg: StudyConfig) -> None:
    """Refuse to continue a study in OUT that was started with other settings."""
    path = out / "study.json"
    want = {"format": STUDY_FORMAT, "config": cfg.as_json()}
    if path.exists():
        try:
            have = json.loads(path.read_text())
        except ValueError:
            have = None
        if not isinstance(have, dict) or have.get("format") != STUDY_FORMAT:
            raise LossTopoError(f"{path} is not a losstopo study record", "choose an empty --out folder")
        if have.get("config") != want["config"]:
            diff = [k for k in want["config"] if have.get("config", {}).get(k) != want["config"][k]]
            raise LossTopoError(f"{out} holds a study with other settings ({', '.join(diff)} differ)",
                                "rerun with the same settings to resume it, or choose a new --out")
        return
    write_json(path, want)


# ------------------------------------------------------------------------------------------ steps
class ResidualStudy:
    """The study in OUT: each step reads its cached result or computes and saves it atomically."""

    def __init__(self, out: Path, cfg: StudyConfig, show_progress: bool = True):
        self.out, self.cfg, self.show_progress = out, cfg, show_progress
        for sub in ("models", "landscapes", "results"):
            (out / sub).mkdir(exist_ok=True)

    def remove_stale_temporaries(self) -> None:
        """Delete temporaries a killed run left next to our final files (atomic writes name them '.NAME.*').

        Safe because we hold the study lock; landscapes/ is left to compute_landscape's own resume.
        """
        for folder in (self.out, self.out / "models", self.out / "results"):
            for p in folder.glob(".*"):
                if p.is_file() and p.name != ".study.lock":
                    p.unlink(missing_ok=True)

    def checkpoint_path(self, spec: ModelSpec) -> Path:
        return self.out / "models" / f"{spec.name}.pt"

    def landscape_dir(self, spec: ModelSpec) -> Path:
        return self.out / "landscapes" / spec.name

    def result_path(self, spec: ModelSpec, kind: str = "") -> Path:
        return self.out / "results" / f"{spec.name}{'.' + kind if kind else ''}.json"

    def train(self, spec: ModelSpec) -> Path:
        """models/<name>.pt (trained once; a rerun reuses it)."""
        path = self.checkpoint_path(spec)
        if path.exists():
            return path
        from .checkpoint import save_checkpoint
        from .train import train_model

        model, info = train_model("resnet20", self.cfg.data, spec.seed, self.cfg.epochs,
                                  data_root=self.cfg.data_root, model_kwargs={"residual": spec.residual},
                                  progress=False, **self.cfg.train_kwargs)
        save_checkpoint(path, model, info)
        return path

    def ml(self, spec: ModelSpec) -> dict[str, Any]:
        """results/<name>.ml.json: accuracy, loss, top Hessian eigenvalue, Hessian trace."""
        path = self.result_path(spec, "ml")
        if path.exists():
            return json.loads(path.read_text())
        from .checkpoint import load_checkpoint
        from .mlmetrics import ml_metrics

        m = ml_metrics(load_checkpoint(self.checkpoint_path(spec)), hessian_samples=self.cfg.hessian_samples,
                       seed=0, data_root=self.cfg.data_root, **self.cfg.ml_kwargs)
        write_json(path, m)
        return m

    def landscape(self, spec: ModelSpec) -> Any:
        """landscapes/<name>/: compute_landscape resumes its chunks there and returns a finished one as is."""
        from .landscape import compute_landscape

        return compute_landscape(self.checkpoint_path(spec), directions=self.cfg.directions,
                                 resolution=self.cfg.resolution, span=self.cfg.span, dims=2,
                                 samples=self.cfg.samples, seed=spec.seed, out_dir=self.landscape_dir(spec),
                                 resume=True, show_progress=self.show_progress, **self.cfg.landscape_kwargs)

    def topology(self, landscape: Any) -> dict[str, Any]:
        """Metrics of the landscape as an image (its grid) and as a kNN graph of its coordinates."""
        from .study_files import graph_connectivity, image_connectivity, topology_of_values

        res = tuple(int(r) for r in landscape.resolution)
        img, _ = topology_of_values(landscape.loss, image_connectivity(res))
        conn, info = graph_connectivity(landscape.coords, k=self.cfg.knn, seed=0)
        graph, _ = topology_of_values(landscape.loss, conn)
        out: dict[str, Any] = {f"image_{k}": img.get(k) for k in TOPO_KEYS}
        out.update({f"graph_{k}": graph.get(k) for k in TOPO_KEYS})
        out["n_nonfinite"] = img["n_nonfinite"]
        out["knn_recall"] = info.get("recall")
        return out

    def row(self, spec: ModelSpec, stage: Callable[[str], Any] | None = None) -> dict[str, Any]:
        """results/<name>.json: the model's CSV row; computes whatever is missing.

        `stage(label)` is a context manager wrapped around each of the 4 steps (progress display).
        """
        path = self.result_path(spec)
        if path.exists():
            return json.loads(path.read_text())
        stage = stage or (lambda label: contextlib.nullcontext())
        with stage(f"train {spec.name}"):
            self.train(spec)
        with stage(f"metrics {spec.name}"):
            ml = self.ml(spec)
        with stage(f"landscape {spec.name}"):
            ls = self.landscape(spec)
        with stage(f"topology {spec.name}"):
            topo = self.topology(ls)
        row = {"name": spec.name, "residual": spec.residual, "seed": spec.seed,
               **{k: _ml_value(ml, k) for k in ML_COLUMNS}, **topo}
        write_json(path, row)
        return row


# study.csv column -> ml_metrics key
_ML_KEYS = {"train_accuracy": "train_acc", "test_accuracy": "test_acc", "train_loss": "train_loss",
            "test_loss": "test_loss", "top_eigenvalue": "hessian_top_eigenvalue", "hessian_trace": "hessian_trace"}


def _ml_value(ml: dict[str, Any], key: str) -> float | None:
    v = ml.get(_ML_KEYS[key])
    return float(v) if isinstance(v, (int, float)) else None


# ------------------------------------------------------------------------------------- the study
def run_residual_study(out_dir: str | os.PathLike, cfg: StudyConfig, show_progress: bool = True) -> Path:
    """Run (or resume) the whole study in out_dir; returns the path of study.csv."""
    from tqdm import tqdm

    from .study_files import write_csv

    validate_config(cfg)
    out = ensure_output_dir(out_dir)
    with study_lock(out):
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
    from .landscape_files import load_landscape
    from .plots_study import figure5, gallery
    from .study_files import image_connectivity, topology_of_values

    out = study.out
    figure5(rows, out / "figure5.png", representation="image")
    figure5(rows, out / "figure5_graph.png", representation="graph")
    items = []
    for spec in specs:
        ls = load_landscape(study.landscape_dir(spec))
        res = tuple(int(r) for r in ls.resolution)
        _m, result = topology_of_values(ls.loss, image_connectivity(res))
        items.append((spec, ls, result))
    gallery(items, out / "gallery.png", tiles_dir=out / "gallery")
    write_summary(out / "summary.md", rows, study.cfg)


# ----------------------------------------------------------------------------------- statistics
def mean_std(values: Sequence[Any], digits: int = 2) -> str:
    """'mean ± sd' (sample sd) of the finite values, or '-' when there are none."""
    v = np.array([float(x) for x in values if x is not None and math.isfinite(float(x))], dtype=float)
    if v.size == 0:
        return "-"
    fmt = f"{{:.{digits}g}}" if digits > 3 else f"{{:.{digits}f}}"
    if v.size == 1:
        return fmt.format(v[0])
    return f"{fmt.format(v.mean())} ± {fmt.format(v.std(ddof=1))}"


def spearman(x: Sequence[Any], y: Sequence[Any]) -> tuple[float, float, int]:
    """(rho, p, n) of scipy.stats.spearmanr over the pairs where both are finite; NaN when undefined."""
    from scipy.stats import spearmanr

    pairs = [(float(a), float(b)) for a, b in zip(x, y)
             if a is not None and b is not None and math.isfinite(float(a)) and math.isfinite(float(b))]
    n = len(pairs)
    if n < 3:
        return float("nan"), float("nan"), n
    a, b = np.array(pairs).T
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan"), float("nan"), n
    r = spearmanr(a, b)
    return float(r.statistic), float(r.pvalue), n


# The paper's claims, as (topology key, ML key, expected sign of the correlation).
ML_LABELS = {"test_accuracy": "test accuracy", "top_eigenvalue": "top Hessian eigenvalue",
             "hessian_trace": "Hessian trace"}
CORRELATION_CLAIMS = [("saddles", k, -1) for k in ML_LABELS] + [("average_persistence", k, +1) for k in ML_LABELS]


def claim_checks(rows: Sequence[dict[str, Any]], representation: str) -> list[dict[str, Any]]:
    """Each claim of the paper with its numbers on these rows and whether it holds."""
    res = [r for r in rows if _truthy(r["residual"])]
    nores = [r for r in rows if not _truthy(r["residual"])]
    checks = []
    for key, more in (("saddles", True), ("average_persistence", False)):
        col = f"{representation}_{key}"
        a = np.array([float(r[col]) for r in res])
        b = np.array([float(r[col]) for r in nores])
        by_seed = {int(r["seed"]): float(r[col]) for r in res}
        pairs = [(by_seed[int(r["seed"])], float(r[col])) for r in nores if int(r["seed"]) in by_seed]
        wins = sum((q > p) if more else (q < p) for p, q in pairs)
        holds = bool(a.size and b.size and ((b.mean() > a.mean()) if more else (b.mean() < a.mean())))
        checks.append({"claim": f"no residual -> {'more saddles' if more else 'lower average persistence'}",
                       "key": key, "residual": mean_std(a, 4), "no_residual": mean_std(b, 4),
                       "seeds_agreeing": f"{wins}/{len(pairs)}", "holds": holds})
    for key, ml_key, sign in CORRELATION_CLAIMS:
        rho, p, n = spearman([r[f"{representation}_{key}"] for r in rows], [r[ml_key] for r in rows])
        checks.append({"claim": f"{key.replace('_', ' ')} {'inversely' if sign < 0 else 'directly'} related to "
                                f"{ML_LABELS[ml_key]}", "key": key, "ml": ml_key, "rho": rho, "p": p, "n": n,
                       "holds": bool(rho * sign > 0) if math.isfinite(rho) else None})
    return checks


def critical_rho(n: int, alpha: float = 0.05) -> float:
    """Smallest |rho| whose two-sided p (scipy's t approximation) is below alpha for n pairs."""
    from scipy.stats import t

    if n < 4:
        return float("nan")
    tc = float(t.isf(alpha / 2, n - 2))
    return tc / math.sqrt(n - 2 + tc * tc)


def _small_n_note(n: int) -> str:
    rc = critical_rho(n)
    need = f"|rho| >= {rc:.2f}" if math.isfinite(rc) else "more models"
    return (f"With so few models a Spearman correlation is significant at p < 0.05 only for {need}; "
            "read smaller correlations as signs, not evidence. Group means are given with the sample "
            "standard deviation over seeds.")


def _truthy(v: Any) -> bool:
    return v if isinstance(v, bool) else str(v).strip().lower() in ("1", "true", "yes")


def write_summary(path: Path, rows: Sequence[dict[str, Any]], cfg: StudyConfig) -> None:
    """summary.md: group means with spread, Spearman correlations, and whether each claim holds."""
    n = len(rows)
    lines = [
        "# Residual study: ResNet-20 with vs without residual connections", "",
        f"Data {cfg.data}, seeds {', '.join(map(str, cfg.seeds))}, {cfg.epochs} epochs, {cfg.directions} directions, "
        f"{cfg.resolution}x{cfg.resolution} grid over [-{cfg.span:g}, {cfg.span:g}]^2, "
        f"Hessian on {cfg.hessian_samples} samples, kNN graph k={cfg.knn}.", "",
        f"**n = {n} models ({n // 2} per group).** {_small_n_note(n)}", "",
        "## ML metrics per group (mean ± sd)", "",
        "| group | test accuracy | test loss | top Hessian eigenvalue | Hessian trace |", "|---|---|---|---|---|",
    ]
    for label, flag in (("residual", True), ("no residual", False)):
        sel = [r for r in rows if _truthy(r["residual"]) == flag]
        lines.append(f"| {label} | " + " | ".join(mean_std([r[k] for r in sel], 4) for k in
                                                  ("test_accuracy", "test_loss", "top_eigenvalue",
                                                   "hessian_trace")) + " |")
    for rep in REPRESENTATIONS:
        lines += ["", f"## Claims, {rep} representation", "",
                  "| claim | numbers | holds here |", "|---|---|---|"]
        for c in claim_checks(rows, rep):
            if "rho" in c:
                nums = (f"Spearman rho = {c['rho']:+.2f} (p = {c['p']:.2f}, n = {c['n']})"
                        if math.isfinite(c["rho"]) else f"undefined (n = {c['n']} or a constant column)")
            else:
                nums = (f"residual {c['residual']}, no residual {c['no_residual']}; "
                        f"same-seed pairs agreeing {c['seeds_agreeing']}")
            verdict = "undefined" if c["holds"] is None else ("yes" if c["holds"] else "no")
            if c["holds"] and "p" in c and not c["p"] < 0.05:
                verdict = "sign only (not significant)"
            lines.append(f"| {c['claim']} | {nums} | {verdict} |")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")


# -------------------------------------------------------------------------------------------- CLI
def add_arguments(p: argparse.ArgumentParser) -> None:
    from .cli import _Parser

    sub = p.add_subparsers(dest="study_command", metavar="STUDY", parser_class=_Parser)
    r = sub.add_parser("residual", help="ResNet-20 with vs without residual connections (the paper's Figure 5)",
                       description=__doc__.splitlines()[0])
    r.add_argument("--data", default="digits", help="digits (embedded, default) or cifar10 (needs --data-root)")
    r.add_argument("--data-root", default=None, help="folder holding cifar-10-batches-py")
    r.add_argument("--seeds", type=int, nargs="+", default=list(PAPER_SEEDS), help="seeds (default: the paper's)")
    r.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="training epochs (default %(default)s)")
    r.add_argument("--resolution", type=int, default=DEFAULT_RESOLUTION, help="grid points per axis")
    r.add_argument("--span", type=float, default=DEFAULT_SPAN, help="half-width of the grid (default %(default)s)")
    r.add_argument("--directions", choices=("random", "filter", "hessian"), default="filter",
                   help="landscape directions (default %(default)s)")
    r.add_argument("--samples", type=int, default=None,
                   help="evaluation samples per landscape point (default: the whole test split)")
    r.add_argument("--hessian-samples", type=int, default=DEFAULT_HESSIAN_SAMPLES,
                   help="samples of the Hessian batch (default %(default)s)")
    r.add_argument("--knn", type=int, default=DEFAULT_KNN, help="k of the kNN graph representation")
    r.add_argument("--out", required=True, help="study folder (rerun the same command to resume)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.set_defaults(_study=run_residual_cli)

    from . import study_files

    f = sub.add_parser("files", help="topology metrics of existing landscape files, grouped by a regex",
                       description=study_files.__doc__.splitlines()[0])
    study_files.add_arguments(f)
    f.set_defaults(_study=study_files.run)


def run_residual_cli(args: argparse.Namespace) -> int:
    cfg = StudyConfig(data=args.data, data_root=args.data_root, seeds=tuple(args.seeds), epochs=args.epochs,
                      resolution=args.resolution, span=args.span, directions=args.directions,
                      samples=args.samples, hessian_samples=args.hessian_samples, knn=args.knn)
    csv_path = run_residual_study(args.out, cfg, show_progress=not args.no_progress)
    out = csv_path.parent
    print(f"study done: {csv_path}, {out / 'figure5.png'}, {out / 'gallery.png'}, {out / 'summary.md'}")
    return 0


def run(args: argparse.Namespace) -> int:
    fn = getattr(args, "_study", None)
    if fn is None:
        raise LossTopoError("no study named", "use `losstopo study residual ...` or `losstopo study files ...`")
    return fn(args)
