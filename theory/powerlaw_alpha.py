"""Power-law tail exponent alpha of an empirical spectral density (the heavy-tailed self-
regularisation reading of layer spectra, Martin and Mahoney, JMLR 2021, that WeightWatcher reports).

The tail of the eigenvalues ``x >= x_min`` is fitted with the density ``p(x) ~ x^(-alpha)``
(Clauset, Shalizi and Newman, SIAM Review 2009):

* for a given ``x_min`` the continuous maximum-likelihood estimate is
  ``alpha = 1 + n / sum_{x_i >= x_min} ln(x_i / x_min)`` (their eq. 3.1), n the tail size;
* ``x_min`` is the candidate (each eigenvalue, keeping at least ``min_tail`` of them) that minimises
  the Kolmogorov-Smirnov distance ``D = max |S(x) - P(x)|`` between the empirical cdf of the tail
  and the fitted one, ``P(x) = 1 - (x / x_min)^(1 - alpha)`` (their Section 3.3).

With ``xmax`` given the law is truncated at ``xmax`` (density normalised on [x_min, xmax], cdf
``(x_min^(1-a) - x^(1-a)) / (x_min^(1-a) - xmax^(1-a))``) and alpha is the numerical maximum of that
likelihood. WeightWatcher 0.7.7 passes ``xmax = max eigenvalue`` to its fitter but reports the
untruncated estimate: ``xmax=None`` (the default) is the reading that agrees with its ``alpha`` and
``xmin`` (compared layer by layer in ``sims.weightwatcher_compare``). numpy/scipy only.

Hook for the spectral report (``nets.spectral_report.layer_report``): with ``s`` the singular
values and N = max(out, in), ``fit_powerlaw_alpha(s ** 2 / N)`` gives ``alpha`` (and ``xmin`` on
the same eigenvalue scale as the report's ESD); catch ValueError for layers with < 10 eigenvalues.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PowerLawFit", "fit_powerlaw_alpha"]


@dataclass(frozen=True)
class PowerLawFit:
    alpha: float
    xmin: float
    xmax: float | None
    n_tail: int
    ks_distance: float


def _truncated_alpha(tail: np.ndarray, xmin: float, xmax: float, start: float) -> float:
    """MLE of the exponent of the law truncated to [xmin, xmax], in units of xmin (t = x / xmin >= 1,
    so no power overflows): -log L / n = a mean(ln t) - ln(a - 1) + ln(1 - T^(1 - a)), T = xmax / xmin."""
    from scipy.optimize import minimize_scalar
    mean_log = float(np.log(tail / xmin).mean())
    log_T = math.log(xmax / xmin)

    def nll(a):
        return a * mean_log - math.log(a - 1.0) + math.log(-math.expm1((1.0 - a) * log_T))
    res = minimize_scalar(nll, bounds=(1.0 + 1e-6, max(20.0, 2 * start)), method="bounded",
                          options={"xatol": 1e-10})
    return float(res.x)


def _cdf(x, xmin, a, xmax):
    """Fitted cdf on the tail, in units of xmin (stable for any exponent)."""
    ratio = (x / xmin) ** (1.0 - a)
    if xmax is None:
        return 1.0 - ratio
    return (1.0 - ratio) / (1.0 - (xmax / xmin) ** (1.0 - a))


def fit_powerlaw_alpha(eigenvalues, *, min_tail: int = 10, xmax: float | str | None = None) -> PowerLawFit:
    """Clauset-Shalizi-Newman fit of the tail of ``eigenvalues`` (module docstring).
    ``xmax``: None (untruncated), a number, or "max" (the largest eigenvalue, WeightWatcher's
    choice). Raises ValueError with fewer than ``min_tail`` positive eigenvalues."""
    x = np.sort(np.asarray(eigenvalues, dtype=float))
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("eigenvalues must be a finite 1-D array")
    x = x[x > 0]
    if isinstance(min_tail, bool) or int(min_tail) != min_tail or min_tail < 2:
        raise ValueError(f"min_tail must be an integer >= 2, got {min_tail!r}")
    if x.size < min_tail:
        raise ValueError(f"need at least min_tail = {min_tail} positive eigenvalues, got {x.size}")
    if isinstance(xmax, str):
        if xmax != "max":
            raise ValueError(f"xmax must be None, a number or 'max', got {xmax!r}")
        xmax = float(x[-1])
    best = None
    logs = np.log(x)
    suffix = np.cumsum(logs[::-1])[::-1]            # sum_{j >= i} ln x_j
    for i in range(x.size - min_tail + 1):
        xmin = x[i]
        if i > 0 and xmin == x[i - 1]:
            continue
        tail = x[i:]
        n = tail.size
        denom = suffix[i] - n * math.log(xmin)
        if denom <= 0:
            continue
        a = 1.0 + n / denom
        if xmax is not None:
            if xmax <= xmin:
                continue
            a = _truncated_alpha(tail, xmin, xmax, a)
        model = _cdf(tail, xmin, a, xmax)
        emp_hi = np.arange(1, n + 1) / n
        emp_lo = np.arange(0, n) / n
        d = float(max(np.max(np.abs(emp_hi - model)), np.max(np.abs(emp_lo - model))))
        if best is None or d < best.ks_distance:
            best = PowerLawFit(alpha=float(a), xmin=float(xmin), xmax=xmax, n_tail=int(n), ks_distance=d)
    if best is None:
        raise ValueError("no admissible x_min: the tail eigenvalues are all equal")
    return best
