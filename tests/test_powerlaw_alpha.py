"""theory.powerlaw_alpha: the Clauset-Shalizi-Newman fit recovers the exponent of Pareto samples.

Pareto(alpha) samples with x_min = 1 (inverse cdf x = u^(-1/(alpha-1))). At the true x_min the MLE
has standard deviation (alpha - 1) / sqrt(n) (Clauset et al. 2009 eq. 3.2); the KS search picks an
x_min at or above the true one, whose tail is Pareto with the same exponent, so the estimate's sd is
(alpha - 1) / sqrt(n_tail). Assertions at 5 sd: false-alarm probability < 6e-7 each (normal
approximation of the MLE, n_tail >= 1000 checked first)."""
import math

import numpy as np
import pytest

from theory.powerlaw_alpha import fit_powerlaw_alpha


@pytest.mark.parametrize("alpha", [2.0, 3.5])
def test_recovers_pareto_exponent(alpha):
    rng = np.random.default_rng(int(alpha * 10))
    x = rng.random(4000) ** (-1.0 / (alpha - 1.0))
    fit = fit_powerlaw_alpha(x)
    assert fit.n_tail >= 1000 and fit.xmin >= 1.0
    assert abs(fit.alpha - alpha) < 5 * (alpha - 1) / math.sqrt(fit.n_tail)


def test_closed_form_at_a_single_candidate():
    # min_tail = n leaves one candidate, x_min = min(x): alpha = 1 + n / sum ln(x / x_min) exactly
    x = np.array([1.0, 2.0, 3.0, 5.0, 8.0])
    fit = fit_powerlaw_alpha(x, min_tail=5)
    assert fit.xmin == 1.0 and fit.alpha == pytest.approx(1 + 5 / np.log(x).sum(), rel=1e-14)


def test_truncated_fit_is_scale_invariant_and_bad_input_raises():
    rng = np.random.default_rng(1)
    x = rng.random(500) ** (-1.0 / 1.5)
    a = fit_powerlaw_alpha(x, xmax="max")
    b = fit_powerlaw_alpha(7.0 * x, xmax="max")
    assert a.alpha == pytest.approx(b.alpha, rel=1e-6) and b.xmin == pytest.approx(7.0 * a.xmin)
    with pytest.raises(ValueError, match="min_tail"):
        fit_powerlaw_alpha(x[:5])
    with pytest.raises(ValueError, match="finite"):
        fit_powerlaw_alpha([1.0, float("nan")] * 10)
