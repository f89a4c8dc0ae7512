"""theory.norm_predictions: edge + TW_1 law of ||B||_2 against independent routes.

Monte Carlo here uses numpy only (Gaussian matrices, for which Ma 2012 proves the TW_1 approximation
with the n - 1/2 constants is second order, O(n^(-2/3)) in the CDF)."""
import math

import numpy as np
import pytest
from scipy import integrate

from theory import norm_predictions as npred

TW1_MEAN, TW1_VAR = -1.2065335745820, 1.6077810345810


def test_johnstone_constants_by_hand():
    # Johnstone (2001) Theorem 1.1 typed out for n = 100, p = 50.
    mu, sigma = npred.tw_constants(50, 100, "johnstone2001")
    root = math.sqrt(99) + math.sqrt(50)
    assert mu == pytest.approx(root**2, rel=1e-14)
    assert sigma == pytest.approx(root * (1 / math.sqrt(99) + 1 / math.sqrt(50)) ** (1 / 3), rel=1e-14)


def test_ma_constants_symmetric_and_by_hand():
    mu, sigma = npred.tw_constants(40, 90)
    assert (mu, sigma) == npred.tw_constants(90, 40)
    root = math.sqrt(89.5) + math.sqrt(39.5)
    assert mu == pytest.approx(root**2, rel=1e-14)
    assert sigma == pytest.approx(root * (1 / math.sqrt(89.5) + 1 / math.sqrt(39.5)) ** (1 / 3), rel=1e-14)


def test_edge_and_uniform_variance():
    assert npred.uniform_entry_variance(math.sqrt(3), 50) == pytest.approx(1 / 50)
    assert npred.edge(64, 256, 1 / 256) == pytest.approx((8 + 16) / 16)
    # Lemma 3 with K = sqrt 3, square: edge 2 exactly.
    assert npred.lemma3_law(128, 128, math.sqrt(3)).edge == pytest.approx(2.0)


@pytest.mark.parametrize("shape", [(32, 32), (32, 128), (200, 50)])
def test_ppf_inverts_cdf_and_cdf_monotone(shape):
    law = npred.SpectralNormLaw(*shape, var=1 / max(shape))
    qs = np.array([0.01, 0.3, 0.5, 0.95, 0.9999])
    assert law.cdf(law.ppf(qs)) == pytest.approx(qs, abs=1e-9)
    xs = np.linspace(0.5 * law.edge, 1.3 * law.edge, 200)
    assert np.all(np.diff(law.cdf(xs)) >= 0)


def test_pdf_integrates_and_moments_match_quadrature_on_norm_scale():
    # Independent route: adaptive quadrature of x pdf(x) on the ||B|| scale vs Gauss-Legendre on TW scale.
    law = npred.lemma3_law(32, 64, 1.0)
    lo, hi = law.ppf(1e-10), law.ppf(1 - 1e-12)
    mass = integrate.quad(law.pdf, lo, hi, limit=200)[0]
    m1 = integrate.quad(lambda x: x * law.pdf(x), lo, hi, limit=200)[0]
    m2 = integrate.quad(lambda x: x * x * law.pdf(x), lo, hi, limit=200)[0]
    assert mass == pytest.approx(1.0, abs=1e-8)
    assert law.mean() == pytest.approx(m1, rel=1e-8)
    assert law.std() == pytest.approx(math.sqrt(m2 - m1 * m1), rel=1e-6)


def test_edge_limit_large_n():
    # mean = edge + tw_unit * E W + (the n - 1/2 centering: s (sqrt n - sqrt(n - 1/2)) * 2 ~ 1/(2n) for
    # var = 1/n) + (curvature ~ tw_unit^2 E W^2 / edge ~ 1e-6 here), so |mean - first order| <= 1/n.
    n = 20000
    law = npred.SpectralNormLaw(n, n, 1 / n)
    first_order = law.edge + law.tw_units() * TW1_MEAN
    assert law.mean() == pytest.approx(first_order, abs=1 / n)
    # std = tw_unit sd(W) (1 + O(tw_unit / edge)): relative 1e-2 is ~10x that correction.
    assert law.std() == pytest.approx(law.tw_units() * math.sqrt(TW1_VAR), rel=1e-2)


@pytest.mark.parametrize("n1,n2", [(32, 32), (64, 64), (32, 96)])
def test_gaussian_monte_carlo_matches_prediction(n1, n2):
    """Gaussian entries: MC mean, std and 95% quantile against the TW_1 prediction.

    Tolerance in TW units (one unit = law.tw_units() on the ||B|| scale): 4 standard errors of the MC
    estimate plus n^(-2/3), the size of the second-order error Ma (2012) proves for these constants
    (constant taken as 1).  Levels (issue 23 item 5): 4 SE of a mean of 2000 draws is two-sided
    6.3e-5 (t_1999 ~ normal); 4 SE of the sample std with the TW_1 kurtosis bound, ~6e-5 under its
    CLT; the quantile band (ranks 1861 and 1939 of 2000) misses with exact binomial probability
    9.3e-5.  Each <= 1e-4 if the true second-order error is within n^(-2/3)."""
    rng = np.random.default_rng(1234 + n1 + n2)
    trials = 2000
    var = 1.0 / max(n1, n2)
    x = np.linalg.svd(rng.standard_normal((trials, n1, n2)) * math.sqrt(var), compute_uv=False)[:, 0]
    law = npred.SpectralNormLaw(n1, n2, var)
    unit = law.tw_units()
    bias = min(n1, n2) ** (-2 / 3)
    se_mean = x.std(ddof=1) / math.sqrt(trials) / unit
    assert abs(x.mean() - law.mean()) / unit <= 4 * se_mean + bias
    # std: the sample std has relative SE ~ sqrt((kurt - 1) / (4 N)) <= sqrt(2.2 / (4 N)) for TW_1.
    se_std = x.std(ddof=1) * math.sqrt(2.2 / (4 * trials)) / unit
    assert abs(x.std(ddof=1) - law.std()) / unit <= 4 * se_std + bias
    # 95% quantile: binomial order-statistic band of the empirical quantile, plus the bias term.
    k = np.sort(x)
    lo_rank = int(np.floor(trials * 0.95 - 4 * math.sqrt(trials * 0.95 * 0.05)))
    hi_rank = int(np.ceil(trials * 0.95 + 4 * math.sqrt(trials * 0.95 * 0.05)))
    c = law.ppf(0.95)
    assert k[lo_rank] - bias * unit <= c <= k[hi_rank] + bias * unit


def test_lemma3_delta0_closed_form_and_inverse():
    assert npred.lemma3_delta0(0.95, 32) == pytest.approx(math.log(40) / 128, rel=1e-14)
    qs = np.array([0.95, 0.99, 0.999, 0.9999])
    for n in (32, 512):
        assert npred.lemma3_q(npred.lemma3_delta0(qs, n), n) == pytest.approx(qs, abs=1e-14)
    # delta0 * n is the same for every n at fixed q: delta0 carries no information about B.
    assert npred.lemma3_delta0(0.99, 64) * 64 == pytest.approx(npred.lemma3_delta0(0.99, 512) * 512)


@pytest.mark.parametrize("bad", [
    lambda: npred.SpectralNormLaw(1, 10),
    lambda: npred.SpectralNormLaw(10, 10, var=-1.0),
    lambda: npred.SpectralNormLaw(10, 10, var=float("nan")),
    lambda: npred.SpectralNormLaw(10, 10, centering="other"),
    lambda: npred.SpectralNormLaw(10, 10).ppf(1.0),
    lambda: npred.SpectralNormLaw(10, 10).tw_score(float("inf")),
    lambda: npred.lemma3_delta0(1.0, 10),
    lambda: npred.lemma3_q(-0.1, 10),
    lambda: npred.uniform_entry_variance(0.0, 10),
])
def test_bad_input_raises(bad):
    with pytest.raises(ValueError):
        bad()


def test_self_check_rows_ok():
    rows = npred.self_check()
    assert rows and all(r["ok"] for r in rows)


def test_tw1_right_tail_asymptotic():
    # Where tracy_widom.sf is representable, the asymptotic is within its next-order term O(s^(-3/2)).
    s = np.array([8.0, 10.0, 12.0])
    asym = np.exp(-2 / 3 * s**1.5 - 0.75 * np.log(s)) / (4 * math.sqrt(math.pi))
    from theory import tracy_widom
    assert np.all(np.abs(asym / tracy_widom.sf(s, 1) - 1) <= 2 * s**-1.5)
    # far tail: the log survival keeps decreasing instead of underflowing to -inf
    far = npred.tw1_log_sf(np.array([60.0, 100.0]))
    assert np.all(np.isfinite(far)) and far[1] < far[0]


@pytest.mark.parametrize("ratio,n_max", [(1.0, 10**6), (0.25, 4 * 10**6)])
def test_lemma3_delta0_at_fixed_c0_converges_to_limit(ratio, n_max):
    K = math.sqrt(3.0)
    c0 = 1.15 * npred.edge(int(ratio * n_max), n_max, K * K / (3 * n_max))
    at = npred.lemma3_delta0_at(c0, int(ratio * n_max), n_max, K)
    # remaining corrections: log(s)/n and the n - 1/2 centering, both far below 1e-3 relative here
    assert at == pytest.approx(npred.lemma3_delta0_limit(c0, K, ratio), rel=1e-3)
    with pytest.raises(ValueError):
        npred.lemma3_delta0_limit(0.9 * c0 / 1.15, K, ratio)
