"""The depth study's report: summary.md with group means, spread, Spearman correlations and verdicts.

Li et al. (2018, Fig. 5) claim, from pictures: (1) without skip connections, deeper networks have more
chaotic landscapes; (2) skip connections keep the landscape convex-looking as depth grows; (3) ResNet-20
without skips is still fairly convex. Here "chaotic" is read as more minima and saddles of the merge tree
(and lower average persistence), "convex" as a single minimum without saddles; each claim is checked per
direction kind, span and representation, with Spearman's rho and p over the models (not over the seeds'
means) and the share of same-seed pairs that agree.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..fileio import atomic_path
from .depth_config import REPRESENTATIONS, DepthConfig
from .stats import _small_n_note, _truthy, mean_std, spearman


def _f(v: Any) -> float:
    return float("nan") if v is None or v == "" else float(v)


def _groups(cfg: DepthConfig) -> list[tuple[str, int, bool]]:
    return [(f"ResNet-{d}{'' if r else '-noshort'}", d, r) for d in cfg.depths for r in (True, False)]


def _sel(rows: Sequence[dict[str, Any]], **kw: Any) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        if all((_truthy(r[k]) == v) if k == "residual" else
               (float(r[k]) == float(v) if k in ("span", "depth") else r[k] == v) for k, v in kw.items()):
            out.append(r)
    return out


def _rho_text(rho: float, p: float, n: int) -> str:
    return f"rho = {rho:+.2f}, p = {p:.3f}, n = {n}" if math.isfinite(rho) else f"undefined (n = {n}, constant)"


def _verdict(ok: bool | None, p: float | None = None) -> str:
    if ok is None:
        return "undefined"
    if ok and p is not None and not p < 0.05:
        return "sign only (not significant)"
    return "yes" if ok else "no"


def claim_rows(rows: Sequence[dict[str, Any]], cfg: DepthConfig, rep: str) -> list[tuple[str, str, str]]:
    """(claim, numbers, verdict) for one representation, per direction kind and span."""
    out = []
    for d in cfg.directions:
        for s in sorted(cfg.spans):
            sub = _sel(rows, directions=d, span=s)
            at = f"{d}, span {s:g}"
            plain, skip = _sel(sub, residual=False), _sel(sub, residual=True)
            crit = [_f(r[f"{rep}_minima"]) + _f(r[f"{rep}_saddles"]) for r in plain]
            rho, p, n = spearman([r["depth"] for r in plain], crit)
            out.append((f"1. no skips: deeper -> more minima + saddles ({at})", _rho_text(rho, p, n),
                        _verdict(None if not math.isfinite(rho) else rho > 0, p)))
            pairs, agree = 0, 0
            by = {(int(r["depth"]), int(r["seed"])): _f(r[f"{rep}_minima"]) + _f(r[f"{rep}_saddles"]) for r in skip}
            for r in plain:
                key = (int(r["depth"]), int(r["seed"]))
                if key in by:
                    pairs += 1
                    agree += by[key] <= _f(r[f"{rep}_minima"]) + _f(r[f"{rep}_saddles"])
            convex = sum(int(_f(r[f"{rep}_minima"]) == 1) for r in skip)
            rho2, p2, n2 = spearman([r["depth"] for r in skip],
                                    [_f(r[f"{rep}_minima"]) + _f(r[f"{rep}_saddles"]) for r in skip])
            ok = bool(skip) and convex == len(skip) or (pairs > 0 and agree == pairs and not (rho2 > 0 and p2 < 0.05))
            out.append((f"2. skips keep it convex ({at})",
                        f"{convex}/{len(skip)} residual landscapes have one minimum; residual <= plain in "
                        f"{agree}/{pairs} same-seed pairs; residual depth vs minima+saddles {_rho_text(rho2, p2, n2)}",
                        _verdict(ok if skip else None)))
            r20 = _sel(plain, depth=min(cfg.depths))
            deep = _sel(plain, depth=max(cfg.depths))
            m20 = [_f(r[f"{rep}_minima"]) for r in r20]
            mdeep = [_f(r[f"{rep}_minima"]) for r in deep]
            one = sum(int(m == 1) for m in m20)
            ok3 = bool(m20) and one * 2 >= len(m20) and (not mdeep or np.mean(m20) <= np.mean(mdeep))
            out.append((f"3. ResNet-{min(cfg.depths)}-noshort fairly convex ({at})",
                        f"{one}/{len(m20)} with one minimum; minima {mean_std(m20)} vs "
                        f"ResNet-{max(cfg.depths)}-noshort {mean_std(mdeep)}", _verdict(ok3 if m20 else None)))
    return out


def _recipe(cfg: Any) -> str:
    """The training recipe in words (older study.json files have no optimizer: SGD, no warm-up)."""
    opt = getattr(cfg, "optimizer", "sgd")
    warm = getattr(cfg, "warmup_epochs", 0)
    bias = getattr(cfg, "bn_bias", None)
    text = f"{'Adam' if opt == 'adam' else 'SGD'} lr {cfg.lr:g} ("
    text += f"{warm}-epoch linear warm-up, cosine)" if warm else "cosine)"
    if bias is not None:
        text += f", BatchNorm biases {bias:g} at init"
    return text


def write_depth_summary(path: Path, rows: Sequence[dict[str, Any]], cfg: DepthConfig,
                        threads: int | None = None, missing: Sequence[str] = ()) -> None:
    """summary.md: accuracies and Hessian metrics per group, topology per group, claims with verdicts."""
    n_models = len({r["name"] for r in rows})
    first = _sel(rows, directions=cfg.directions[0], span=cfg.largest_span)
    lines = [
        f"# Depth study: ResNet-{'/'.join(map(str, cfg.depths))} with and without skip connections "
        "(Li et al. 2018, Fig. 5)", "",
        f"Data {cfg.data}; depths {', '.join(map(str, cfg.depths))}; seeds {', '.join(map(str, cfg.seeds))}; "
        f"{_recipe(cfg)}, batch {cfg.batch_size}, {cfg.epochs} epochs; "
        f"directions {', '.join(cfg.directions)}; {cfg.resolution}x{cfg.resolution} grid over "
        f"[-{cfg.largest_span:g}, {cfg.largest_span:g}]^2, smaller spans "
        f"{', '.join(f'{s:g}' for s in sorted(cfg.spans)[:-1]) or '-'} as centred crops; "
        f"landscape on {'the whole test split' if cfg.samples is None else f'{cfg.samples} test samples'}; "
        "Hessian metrics on "
        f"{'the whole test split' if cfg.hessian_samples is None else f'{cfg.hessian_samples} test samples'}; "
        f"kNN graph k = {cfg.k}; Hessian estimators {cfg.ml_kwargs or 'at ml_metrics defaults'}.", "",
        f"**n = {n_models} models.** {_small_n_note(n_models // 2)}", ""]
    if missing:
        lines += [f"**Incomplete: the study was stopped before {len(missing)} of its "
                  f"{n_models + len(missing)} models finished** ({', '.join(missing)}); every number below is "
                  "over the finished ones only.", ""]
    accs = {label: [_f(x["test_accuracy"]) for x in _sel(first, depth=d, residual=r)] for label, d, r in _groups(cfg)}
    means = {k: float(np.mean(v)) for k, v in accs.items() if v}
    best = max(means.values(), default=float("nan"))
    behind = [f"{k} ({100 * m:.0f} %)" for k, m in means.items() if m < best - 0.10]
    if behind:
        lines += [f"**Not comparable accuracy:** with this recipe {', '.join(behind)} stayed more than 10 points "
                  f"below the best group ({100 * best:.0f} % test accuracy); their landscapes are those of "
                  "barely trained networks, so the claims below compare training failure as much as "
                  "architecture.", ""]
    lines += [
        "Average persistence is given twice: over the finite pairs only (`average_persistence_finite`) and "
        "over all pairs with the global minimum's pair, which dies at the landscape's maximum "
        "(`average_persistence`).", "",
        "## Accuracy and Hessian per group (mean ± sd over seeds)", "",
        "| group | train accuracy | test accuracy | test loss | top Hessian eigenvalue | Hessian trace | "
        "trace standard error |", "|---|---|---|---|---|---|---|"]
    for label, d, r in _groups(cfg):
        sel = _sel(first, depth=d, residual=r)
        lines.append(f"| {label} | " + " | ".join(mean_std([x[k] for x in sel], 4) for k in
                                                  ("train_accuracy", "test_accuracy", "test_loss",
                                                   "hessian_top_eigenvalue", "hessian_trace",
                                                   "hessian_trace_stderr")) + " |")
    for rep in REPRESENTATIONS:
        lines += ["", f"## Topology per group, {rep} representation (mean ± sd over seeds)", "",
                  "| directions | span | group | minima | saddles | average persistence (finite pairs) | "
                  "average persistence (with global pair) |", "|---|---|---|---|---|---|---|"]
        for d in cfg.directions:
            for s in sorted(cfg.spans):
                for label, depth, r in _groups(cfg):
                    sel = _sel(rows, directions=d, span=s, depth=depth, residual=r)
                    lines.append(f"| {d} | {s:g} | {label} | " + " | ".join(
                        mean_std([x[f"{rep}_{k}"] for x in sel], 4) for k in
                        ("minima", "saddles", "average_persistence_finite", "average_persistence")) + " |")
        lines += ["", f"## Claims of Li et al. (2018), {rep} representation", "",
                  "| claim | numbers | holds here |", "|---|---|---|"]
        lines += [f"| {c} | {nums} | {v} |" for c, nums, v in claim_rows(rows, cfg, rep)]
        lines += ["", f"## Topology against accuracy and curvature, {rep} representation (Spearman over all models)",
                  "", "| directions | span | topology | vs | rho | p | n |", "|---|---|---|---|---|---|---|"]
        for d in cfg.directions:
            for s in sorted(cfg.spans):
                sub = _sel(rows, directions=d, span=s)
                for key in ("saddles", "average_persistence_finite"):
                    for ml in ("test_accuracy", "hessian_top_eigenvalue", "hessian_trace"):
                        rho, p, n = spearman([x[f"{rep}_{key}"] for x in sub], [x[ml] for x in sub])
                        lines.append(f"| {d} | {s:g} | {key} | {ml} | {rho:+.2f} | {p:.3f} | {n} |"
                                     if math.isfinite(rho) else f"| {d} | {s:g} | {key} | {ml} | - | - | {n} |")
    if threads is not None:
        lines += ["", f"torch threads: {threads}."]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
