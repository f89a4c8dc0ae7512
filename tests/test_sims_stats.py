"""Coverage of the shared statistics: intervals cover the truth at their nominal rate."""
import numpy as np
import pytest

from sims.stats import loglog_fit, mean_ci, proportion_ci
from tests.tolerances import binom_band


def test_mean_ci_coverage_near_nominal():
    rng = np.random.default_rng(0)
    reps = 2000
    covered = sum(mean_ci(rng.normal(1.0, 2.0, size=20)).contains(1.0) for _ in range(reps))
    # The t interval of normal samples covers with probability exactly 0.95, so covered ~ Bin(2000,
    # 0.95): its exact two-sided 1e-4 band [1860, 1936] (tests/tolerances.binom_band; false alarm
    # <= 1e-4).  Power: a 90% or 97% interval lands outside almost surely; a z interval in place of t
    # (coverage 0.935 at n = 20, 1870 expected) only ~20% of the time.
    lo, hi = binom_band(reps, 0.95)
    assert lo <= covered <= hi


@pytest.mark.parametrize("k,n", [(0, 30), (3, 40), (10, 100), (97, 100)])
def test_proportion_ci_matches_closed_forms(k, n):
    # Wilson (1927): centre (p + z^2/2n)/(1 + z^2/n), half-width z/(1 + z^2/n) sqrt(p(1-p)/n + z^2/4n^2);
    # Clopper-Pearson: Beta(a/2; k, n-k+1) and Beta(1-a/2; k+1, n-k) quantiles (0 / 1 at the ends).
    from scipy import stats
    z, p = stats.norm.ppf(0.975), k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    w = proportion_ci(k, n)
    assert (w.low, w.high) == pytest.approx((centre - half, centre + half), abs=1e-12)
    cp = proportion_ci(k, n, method="exact")
    lo = stats.beta.ppf(0.025, k, n - k + 1) if k > 0 else 0.0
    hi = stats.beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    assert (cp.low, cp.high) == pytest.approx((lo, hi), abs=1e-10)


@pytest.mark.parametrize("level", [0.8, 0.99, 0.9999])
@pytest.mark.parametrize("k,n", [(0, 30), (3, 40), (97, 100)])
def test_proportion_ci_honours_level(k, n, level):
    # the closed forms above at a non-default level: z = Phi^-1((1 + level)/2), alpha = 1 - level
    from scipy import stats
    z, p, a = stats.norm.ppf(0.5 + level / 2), k / n, 1 - level
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    w = proportion_ci(k, n, level=level)
    assert (w.low, w.high) == pytest.approx((centre - half, centre + half), abs=1e-12)
    cp = proportion_ci(k, n, level=level, method="exact")
    lo = stats.beta.ppf(a / 2, k, n - k + 1) if k > 0 else 0.0
    hi = stats.beta.ppf(1 - a / 2, k + 1, n - k) if k < n else 1.0
    assert (cp.low, cp.high) == pytest.approx((lo, hi), abs=1e-10)


def test_loglog_fit_recovers_exact_rate():
    ns = np.array([100, 200, 400, 800, 1600])
    rng = np.random.default_rng(1)
    errors = 3.0 * ns ** -0.5 * np.exp(rng.normal(0, 0.01, ns.size))
    # log errors are exactly normal (sd 0.01), so the regression t interval is exact: at level
    # 1 - 1e-4 it misses -0.5 with probability 1e-4 (the 95% interval missed it at 1 seed in 20).
    # The slope's sd is 0.01 / sqrt(sum (log N - mean)^2) = 0.0046: |slope + 0.5| < 0.05 is 11 sd.
    fit = loglog_fit(ns, errors, level=1 - 1e-4)
    assert fit.contains_slope(-0.5)
    assert abs(fit.slope + 0.5) < 0.05


@pytest.mark.parametrize("bad", [[1.0], [1.0, np.nan, 2.0]])
def test_mean_ci_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        mean_ci(bad)


def test_proportion_ci_rejects_impossible_counts():
    with pytest.raises(ValueError):
        proportion_ci(5, 3)
    with pytest.raises(ValueError, match="integers"):
        proportion_ci(2.5, 10)


def test_loglog_fit_slope_ci_coverage():
    # the t interval on the slope must cover the true exponent at ~95% when the log-errors scatter
    # iid normally about the power law (the regression model's own assumption), exactly, so covered ~
    # Bin(1000, 0.95): exact two-sided 1e-4 band [921, 975] (the old +-4 binomial sd: 1.02e-4)
    rng = np.random.default_rng(2)
    ns, reps = np.array([100, 200, 400, 800, 1600]), 1000
    covered = sum(loglog_fit(ns, 2.0 * ns ** -0.5 * np.exp(rng.normal(0, 0.2, ns.size)))
                  .contains_slope(-0.5) for _ in range(reps))
    lo, hi = binom_band(reps, 0.95)
    assert lo <= covered <= hi


def test_bootstrap_ci_rejects_bad_input_and_matches_t_interval():
    from sims.stats import bootstrap_ci
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_ci([1.0, np.nan, 2.0])
    # for 400 normal samples the percentile bootstrap of the mean and the t interval agree to
    # O(1/n) relative in the half-width.  The 2.5% quantile of 2000 resamples has sd
    # sqrt(0.025 * 0.975 / 2000) / phi(1.96) = 0.060 standard errors = 3.0% of the half-width (measured
    # over 300 data sets and seeds: sd 0.030, mean offset +-0.005 from sqrt(399/400) and z vs t).  So
    # 0.005 + 4.1 sd = 0.13 of the half-width: two-sided false alarm ~4e-5 per assertion (it was 0.1:
    # 3.3 sd, ~1e-3).  Power: a 90% bootstrap interval (16% narrower) fails.
    x = np.random.default_rng(3).normal(0, 1, 400)
    b, t = bootstrap_ci(x), mean_ci(x)
    assert abs(b.low - t.low) < 0.13 * t.half_width and abs(b.high - t.high) < 0.13 * t.half_width
