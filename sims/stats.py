"""Confidence intervals and convergence rates used by every Monte Carlo check.

All intervals are two-sided at level ``level`` (default 95%).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo mean with its confidence interval."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return 0.5 * (self.high - self.low)

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def as_list(self) -> list[float]:
        return [self.low, self.high]


def mean_ci(samples, level: float = 0.95) -> Estimate:
    """Student-t interval for the mean of iid samples (needs at least 2 finite samples)."""
    x = np.asarray(samples, dtype=float).ravel()
    if x.size < 2:
        raise ValueError(f"mean_ci needs at least 2 samples, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("mean_ci got NaN or inf samples")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    m = float(x.mean())
    se = float(x.std(ddof=1) / np.sqrt(x.size))
    q = float(stats.t.ppf(0.5 + level / 2, df=x.size - 1))
    return Estimate(m, m - q * se, m + q * se, int(x.size))


def bootstrap_ci(samples, statistic=np.mean, level: float = 0.95, n_resamples: int = 2000,
                 seed: int = 0) -> Estimate:
    """Percentile bootstrap interval for any statistic (scipy.stats.bootstrap)."""
    x = np.asarray(samples, dtype=float).ravel()
    if x.size < 2:
        raise ValueError(f"bootstrap_ci needs at least 2 samples, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("bootstrap_ci got NaN or inf samples")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    res = stats.bootstrap((x,), statistic, confidence_level=level, n_resamples=n_resamples,
                          method="percentile", random_state=np.random.default_rng(seed))
    return Estimate(float(statistic(x)), float(res.confidence_interval.low),
                    float(res.confidence_interval.high), int(x.size))


def proportion_ci(successes: int, trials: int, level: float = 0.95,
                  method: str = "wilson") -> Estimate:
    """Interval for a probability: ``wilson`` or ``exact`` (Clopper-Pearson), via scipy.stats."""
    if int(trials) != trials or int(successes) != successes:
        raise ValueError(f"successes and trials must be integers, got {successes!r}, {trials!r}")
    if trials <= 0:
        raise ValueError(f"trials must be positive, got {trials}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes={successes} outside [0, trials={trials}]")
    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=level,
                                                                    method=method)
    return Estimate(successes / trials, float(ci.low), float(ci.high), int(trials))


@dataclass(frozen=True)
class PowerLaw:
    """Fit of log(error) = log(c) + slope * log(N), with a t interval on the slope."""

    slope: float
    slope_low: float
    slope_high: float
    intercept: float
    n_points: int

    def contains_slope(self, value: float) -> bool:
        return self.slope_low <= value <= self.slope_high


def loglog_fit(ns, errors, level: float = 0.95) -> PowerLaw:
    """Least-squares slope of log|error| against log N, with its confidence interval.

    Needs at least 3 points with positive errors (2 points leave no degrees of freedom)."""
    n = np.asarray(ns, dtype=float).ravel()
    e = np.abs(np.asarray(errors, dtype=float).ravel())
    if n.shape != e.shape:
        raise ValueError(f"ns and errors differ in length: {n.size} vs {e.size}")
    if n.size < 3:
        raise ValueError(f"loglog_fit needs at least 3 points, got {n.size}")
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(e))):
        raise ValueError("loglog_fit got NaN or inf")
    if np.any(n <= 0) or np.any(e <= 0):
        raise ValueError("loglog_fit needs positive N and nonzero errors")
    res = stats.linregress(np.log(n), np.log(e))
    q = float(stats.t.ppf(0.5 + level / 2, df=n.size - 2))
    return PowerLaw(float(res.slope), float(res.slope - q * res.stderr),
                    float(res.slope + q * res.stderr), float(res.intercept), int(n.size))
