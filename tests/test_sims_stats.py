"""Coverage of the shared statistics: intervals cover the truth at their nominal rate."""
import numpy as np
import pytest

from sims.stats import loglog_fit, mean_ci, proportion_ci


def test_mean_ci_coverage_near_nominal():
    rng = np.random.default_rng(0)
    reps = 2000
    covered = sum(mean_ci(rng.normal(1.0, 2.0, size=20)).contains(1.0) for _ in range(reps))
    # 95% nominal; binomial sd of the coverage over 2000 reps is ~0.0049, so +-4 sd.
    assert abs(covered / reps - 0.95) < 4 * np.sqrt(0.95 * 0.05 / reps)


def test_proportion_ci_contains_estimate_and_is_narrower_with_more_trials():
    small = proportion_ci(10, 100)
    large = proportion_ci(1000, 10000)
    assert small.contains(0.1) and large.contains(0.1)
    assert large.half_width < small.half_width / 5


def test_loglog_fit_recovers_exact_rate():
    ns = np.array([100, 200, 400, 800, 1600])
    rng = np.random.default_rng(1)
    errors = 3.0 * ns ** -0.5 * np.exp(rng.normal(0, 0.01, ns.size))
    fit = loglog_fit(ns, errors)
    assert fit.contains_slope(-0.5)
    assert abs(fit.slope + 0.5) < 0.05


@pytest.mark.parametrize("bad", [[1.0], [1.0, np.nan, 2.0]])
def test_mean_ci_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        mean_ci(bad)


def test_proportion_ci_rejects_impossible_counts():
    with pytest.raises(ValueError):
        proportion_ci(5, 3)
