"""Statistics over seeds and the decision rules that turn an interval into a verdict word: the one
statistics helper of the experiments on trained networks (no torch; numpy, and scipy.stats for the
t and F quantiles).  Issue 23's verdict protocol (declared endpoints, multiplicity, exact tests for
few seeds) will live here too.

Statistics (normal samples; NaN where undefined, never an exception, so a Result can say "no
interval" instead of failing):

* ``mean_ci``: mean, sample sd and the t-interval of the mean;
* ``variance_ratio_ci``: var(a) / var(b) with the F interval;
* ``linear_fit_ci``: least squares y = a + b x with t-intervals of a and b.

Decision rules (``WORDS``: holds / fails / inconclusive) for claims of paper 000's Section 3 and
Appendix E.2 measured at a reduced (CPU) scale.  A reduced scale (narrower layers, fewer training
images) lowers what a net reaches, so an absolute accuracy level is decided asymmetrically:
reaching a claimed level even at the reduced scale supports a "reaches X%" claim, and exceeding a
claimed ceiling at the reduced scale refutes a "never exceeds X%" claim, while the opposite
observations are explained by the scale and leave the claim open (inconclusive, the paper-scale run
decides).  Comparisons between two arms at the same scale (signs, sizes, equivalence) are decided
symmetrically.
"""
from __future__ import annotations

import math

WORDS = ("holds", "fails", "inconclusive")

def mean_ci(values, level: float = 0.95) -> dict:
    """Mean, sample sd and the t-interval of the mean (NaN interval for fewer than 2 values)."""
    import numpy as np
    from scipy import stats
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    n = x.size
    if n == 0:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "lo": math.nan, "hi": math.nan}
    mean = float(x.mean())
    if n < 2:
        return {"n": 1, "mean": mean, "sd": math.nan, "lo": math.nan, "hi": math.nan}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return {"n": int(n), "mean": mean, "sd": sd, "lo": mean - half, "hi": mean + half}


def variance_ratio_ci(a, b, level: float = 0.95) -> dict:
    """var(a) / var(b) with the F interval (normal samples): [R / F_hi, R / F_lo]."""
    import numpy as np
    from scipy import stats
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size < 2 or b.size < 2:
        return {"ratio": math.nan, "lo": math.nan, "hi": math.nan}
    va, vb = a.var(ddof=1), b.var(ddof=1)
    if vb == 0:
        return {"ratio": math.inf if va > 0 else math.nan, "lo": math.nan, "hi": math.nan}
    r = float(va / vb)
    d1, d2 = a.size - 1, b.size - 1
    return {"ratio": r, "lo": r / float(stats.f.ppf(0.5 + level / 2, d1, d2)),
            "hi": r / float(stats.f.ppf(0.5 - level / 2, d1, d2))}


def linear_fit_ci(x, y, level: float = 0.95) -> dict:
    """Least squares y = a + b x with t-intervals of a and b (NaN when x is constant or n < 3)."""
    import numpy as np
    from scipy import stats
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = x.size
    out = {"n": int(n), "slope": math.nan, "slope_lo": math.nan, "slope_hi": math.nan,
           "intercept": math.nan, "intercept_lo": math.nan, "intercept_hi": math.nan}
    if n < 3 or np.ptp(x) == 0:
        return out
    X = np.column_stack([np.ones(n), x])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    s2 = float(resid @ resid) / (n - 2)
    cov = s2 * np.linalg.inv(X.T @ X)
    t = float(stats.t.ppf(0.5 + level / 2, n - 2))
    for i, key in enumerate(("intercept", "slope")):
        half = t * math.sqrt(cov[i, i])
        out.update({key: float(coef[i]), f"{key}_lo": float(coef[i] - half), f"{key}_hi": float(coef[i] + half)})
    return out

def _finite(*xs) -> bool:
    return all(x is not None and math.isfinite(x) for x in xs)


def sign(lo: float, hi: float, want_positive: bool = True) -> str:
    """holds when the interval excludes 0 on the claimed side, fails when it excludes 0 on the other."""
    if not _finite(lo, hi):
        return "inconclusive"
    if want_positive:
        return "holds" if lo > 0 else ("fails" if hi < 0 else "inconclusive")
    return "holds" if hi < 0 else ("fails" if lo > 0 else "inconclusive")


def level_reached_at_reduced_scale(lo: float, hi: float, level: float) -> str:
    """A claim "reaches ``level``" measured at a reduced scale: holds when the whole interval is at or
    above the level; otherwise inconclusive (a shortfall at reduced scale does not refute it)."""
    if not _finite(lo, hi):
        return "inconclusive"
    return "holds" if lo >= level else "inconclusive"


def ceiling_at_reduced_scale(lo: float, hi: float, ceiling: float) -> str:
    """A claim "never exceeds ``ceiling``" measured at a reduced scale: fails when the whole interval
    lies above the ceiling (exceeded even with less capacity and data); otherwise inconclusive
    (staying below at reduced scale does not show it stays below at the paper's scale)."""
    if not _finite(lo, hi):
        return "inconclusive"
    return "fails" if lo > ceiling else "inconclusive"


def equivalent(lo: float, hi: float, margin: float) -> str:
    """"Comparable": holds when the interval of the difference lies inside [-margin, margin], fails
    when it lies wholly outside it, inconclusive otherwise."""
    if not _finite(lo, hi) or margin < 0:
        return "inconclusive"
    if -margin <= lo and hi <= margin:
        return "holds"
    if hi < -margin or lo > margin:
        return "fails"
    return "inconclusive"


def all_parts(words) -> str:
    """A claim made of several parts: holds when every part holds, fails when any part fails."""
    words = list(words)
    if any(w not in WORDS for w in words):
        raise ValueError(f"verdict words must be among {WORDS}, got {words}")
    if words and all(w == "holds" for w in words):
        return "holds"
    return "fails" if "fails" in words else "inconclusive"


def every_seed(values, predicate) -> bool:
    """True when ``values`` is non-empty and ``predicate`` holds for each (a one-seed rule that
    says so in its note)."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    return bool(values) and all(predicate(v) for v in values)


def size(lo: float, hi: float, claimed: float) -> str:
    """A claimed gain of about ``claimed`` (> 0): fails when the whole interval lies below it, holds
    when the interval reaches it and excludes 0, inconclusive when it holds both 0 and the claimed
    value (or is not finite)."""
    if not _finite(lo, hi):
        return "inconclusive"
    if hi < claimed:
        return "fails"
    return "holds" if lo > 0 else "inconclusive"


def pct(x) -> str:
    """A fraction as percentage points with two decimals ("nan" when undefined)."""
    return "nan" if x is None or not math.isfinite(x) else f"{100 * x:.2f}"


def ci_text(s: dict, scale: float = 100.0, unit: str = "") -> str:
    """``mean [lo, hi]`` of a ``mean_ci`` dict, times ``scale`` (the mean alone without interval)."""
    return (f"{s['mean'] * scale:.2f}{unit} [{s['lo'] * scale:.2f}, {s['hi'] * scale:.2f}]"
            if math.isfinite(s.get("lo", math.nan)) else f"{s['mean'] * scale:.2f}{unit}")


def paired_verdict(diffs, want_positive: bool = True, *, identical: bool = False) -> tuple[str, dict]:
    """Paired differences ``diffs`` (one per seed) decided by the sign of their mean's t-interval
    (``mean_ci``, then ``sign``): holds when the interval excludes 0 on the claimed side, fails when
    it excludes 0 on the other, inconclusive when it holds 0 (or has fewer than 2 seeds); vacuous
    when the two arms were ``identical`` (the treatment changed nothing).  Returns (word, mean_ci)."""
    s = mean_ci(diffs)
    if identical:
        return "vacuous", s
    return sign(s["lo"], s["hi"], want_positive), s
