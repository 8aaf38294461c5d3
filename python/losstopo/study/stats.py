"""The residual study's statistics: group spread, Spearman correlations and the paper's claims checked."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np


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
ML_LABELS = {"test_accuracy": "test accuracy", "hessian_top_eigenvalue": "top Hessian eigenvalue",
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
