"""Descriptive statistics over seeds for the experiments on trained networks (no torch; numpy, and
scipy.stats for the t and F quantiles).  Verdicts are not made here: every decision rule is in
``core.protocol`` (declared endpoints, exact sign-flip tests, Holm, scoped words).

Statistics (normal samples; NaN where undefined, never an exception, so a Result can say "no
interval" instead of failing), used for descriptive columns and seed bands, not for verdicts:

* ``mean_ci``: mean, sample sd and the t-interval of the mean;
* ``variance_ratio_ci``: var(a) / var(b) with the F interval;
* ``linear_fit_ci``: least squares y = a + b x with t-intervals of a and b;
* ``pct``: a fraction as percentage points for notes.
"""
from __future__ import annotations

import math

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


def pct(x) -> str:
    """A fraction as percentage points with two decimals ("nan" when undefined)."""
    return "nan" if x is None or not math.isfinite(x) else f"{100 * x:.2f}"
