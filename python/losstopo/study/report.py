"""The residual study's report: summary.md with group means, correlations and plainly stated verdicts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from ..fileio import atomic_path
from .config import REPRESENTATIONS, StudyConfig
from .stats import _small_n_note, _truthy, claim_checks, mean_std


def write_summary(path: Path, rows: Sequence[dict[str, Any]], cfg: StudyConfig) -> None:
    """summary.md: group means with spread, Spearman correlations, and whether each claim holds."""
    n = len(rows)
    lines = [
        "# Residual study: ResNet-20 with vs without residual connections", "",
        f"Data {cfg.data}, seeds {', '.join(map(str, cfg.seeds))}, {cfg.epochs} epochs, {cfg.directions} directions, "
        f"{cfg.resolution}x{cfg.resolution} grid over [-{cfg.span:g}, {cfg.span:g}]^2, "
        f"Hessian on {cfg.hessian_samples} samples, kNN graph k={cfg.k}.", "",
        f"**n = {n} models ({n // 2} per group).** {_small_n_note(n)}", "",
        "## ML metrics per group (mean ± sd)", "",
        "| group | test accuracy | test loss | top Hessian eigenvalue | Hessian trace |", "|---|---|---|---|---|",
    ]
    for label, flag in (("residual", True), ("no residual", False)):
        sel = [r for r in rows if _truthy(r["residual"]) == flag]
        lines.append(f"| {label} | " + " | ".join(mean_std([r[k] for r in sel], 4) for k in
                                                  ("test_accuracy", "test_loss", "hessian_top_eigenvalue",
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


def write_files_summary(path: Path, rows: list[dict[str, Any]], skipped: list[Path], regex: str) -> None:
    """Per group (and span): n, mean and std of saddles and average persistence, as a Markdown table."""
    keys = sorted({(str(r["group"]), r["span"] if r["span"] is not None else "") for r in rows},
                  key=lambda t: (t[0], float(t[1]) if isinstance(t[1], (int, float)) else 0.0))
    lines = [f"# Topology of {len(rows)} landscape files grouped by `{regex}`", "",
             "| group | span | n | minima | saddles (mean ± sd) | average persistence (mean ± sd) |",
             "|---|---|---|---|---|---|"]
    for grp, span in keys:
        sel = [r for r in rows if str(r["group"]) == grp and (r["span"] if r["span"] is not None else "") == span]
        lines.append(f"| {grp} | {span} | {len(sel)} | {mean_std([r['minima'] for r in sel])} | "
                     f"{mean_std([r['saddles'] for r in sel])} | "
                     f"{mean_std([r['average_persistence'] for r in sel], digits=4)} |")
    if skipped:
        lines += ["", f"Skipped (name does not match the regex): {', '.join(p.name for p in skipped)}"]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
