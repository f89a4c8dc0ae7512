"""MarchenkoPastur (paper 000 Theorem 3.1, eqs. 3.2-3.3) against independent numerics."""
import math

import numpy as np
import pytest
from scipy import integrate, stats

from tests.tolerances import t_factor
from theory.marchenko_pastur import MarchenkoPastur

RATIOS = [0.05, 0.3, 1.0, 1.7, 6.0]


def quad_cdf(law, x):
    """Reference cdf by adaptive quadrature of the density, substituting x = l- + u^2 to remove the
    square-root singularity at the soft edge (and the 1/sqrt(x) one at 0 when ratio = 1)."""
    a = law.lower
    if x <= a:
        return law.atom if x >= 0 else 0.0
    val = integrate.quad(lambda u: law.pdf(a + u * u) * 2 * u, 0.0, math.sqrt(min(x, law.upper) - a),
                         epsabs=1e-15, epsrel=1e-13, limit=200)[0]
    return law.atom + val


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), "x"])
def test_bad_ratio_raises_naming_ratio(bad):
    with pytest.raises(ValueError, match="ratio"):
        MarchenkoPastur(bad)


@pytest.mark.parametrize("bad", [0.0, -2.0, float("nan"), float("inf")])
def test_bad_sigma2_raises_naming_sigma2(bad):
    with pytest.raises(ValueError, match="sigma2"):
        MarchenkoPastur(0.5, bad)


@pytest.mark.parametrize("ratio", RATIOS)
def test_edges_are_eq_3_3(ratio):
    law = MarchenkoPastur(ratio, 0.7)
    assert law.edges == pytest.approx((0.7 * (1 - math.sqrt(ratio)) ** 2, 0.7 * (1 + math.sqrt(ratio)) ** 2),
                                      rel=1e-15)
    assert law.support()[1] == law.upper
    assert law.support()[0] == (0.0 if ratio > 1 else law.lower)


@pytest.mark.parametrize("ratio", RATIOS)
def test_cdf_matches_quadrature_of_pdf(ratio):
    law = MarchenkoPastur(ratio, 0.7)
    xs = law.lower + (law.upper - law.lower) * np.array([1e-6, 0.01, 0.1, 0.3, 0.5, 0.77, 0.95, 0.999999])
    ref = np.array([quad_cdf(law, x) for x in xs])
    np.testing.assert_allclose(law.cdf(xs), ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("ratio", [0.05, 0.3, 0.95, 1.7, 6.0])
def test_lower_tail_has_relative_accuracy(ratio):
    # far into the soft edge the continuous mass is ~ (x - l-)^{3/2}: compare relatively
    law = MarchenkoPastur(ratio)
    for d in (1e-12, 1e-8, 1e-4):
        x = law.lower + d * (law.upper - law.lower)
        ref = quad_cdf(law, x) - law.atom
        got = law._cdf_phi(law._phi(np.array([x])))[0]
        assert got == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("ratio", RATIOS)
def test_sf_upper_tail_relative_accuracy(ratio):
    law = MarchenkoPastur(ratio)
    for d in (1e-12, 1e-8, 1e-4, 0.3):
        x = law.upper - d * (law.upper - law.lower)
        ref = integrate.quad(lambda u: law.pdf(law.upper - u * u) * 2 * u, 0.0, math.sqrt(law.upper - x),
                             epsabs=0, epsrel=1e-13)[0]
        assert float(law.sf(x)) == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("ratio", RATIOS)
def test_ppf_inverts_cdf(ratio):
    law = MarchenkoPastur(ratio, 1.3)
    p_cont = np.concatenate([np.logspace(-12, -1, 12), np.linspace(0.02, 0.98, 49), 1 - np.logspace(-12, -1, 12)])
    p = law.atom + p_cont * law.continuous_mass
    # the closed form cancels terms of size ~1/ratio: allow log10(1/ratio) lost digits
    np.testing.assert_allclose(law.cdf(law.ppf(p)), p, rtol=0, atol=2e-15 * max(1.0, 1 / ratio))
    # x -> cdf -> ppf: interior points (at the edges cdf is flat to rounding, so x is not recoverable
    # to better than the inverse density times 1e-16)
    xs = law.lower + (law.upper - law.lower) * np.linspace(0.001, 0.999, 101)
    np.testing.assert_allclose(law.ppf(law.cdf(xs)), xs, rtol=0, atol=1e-11 * law.upper)


def test_ppf_shape_and_edges():
    law = MarchenkoPastur(0.4, 2.0)
    q = np.linspace(0, 1, 12).reshape(3, 4)
    out = law.ppf(q)
    assert out.shape == (3, 4)
    assert out[0, 0] == law.lower and out[-1, -1] == law.upper
    assert np.all(np.diff(out.ravel()) > 0)
    with pytest.raises(ValueError, match="probabilities"):
        law.ppf([1.2])
    with pytest.raises(ValueError, match="NaN"):
        law.ppf([float("nan")])
    with pytest.raises(ValueError, match="NaN"):
        law.cdf([float("nan")])


@pytest.mark.parametrize("ratio", [1.5, 4.0])
def test_atom_at_zero_for_ratio_above_one(ratio):
    law = MarchenkoPastur(ratio, 0.5)
    atom = 1 - 1 / ratio
    assert law.atom == pytest.approx(atom, rel=1e-15)
    assert float(law.cdf(-1e-300)) == 0.0
    assert float(law.cdf(0.0)) == pytest.approx(atom, rel=1e-15)
    assert float(law.cdf(0.5 * law.lower)) == pytest.approx(atom, rel=1e-15)
    # the density (3.2) carries the rest of the mass, 1/ratio
    mass = integrate.quad(law.pdf, law.lower, law.upper, limit=200)[0]
    assert mass == pytest.approx(1 / ratio, rel=1e-9)
    assert float(law.ppf(0.5 * atom)) == 0.0
    assert float(law.ppf(atom)) == 0.0
    assert float(law.ppf(atom + 1e-12)) == pytest.approx(law.lower, rel=1e-6)


@pytest.mark.parametrize("ratio", RATIOS)
def test_mean_and_variance_by_integrating_pdf(ratio):
    var = 1.9
    law = MarchenkoPastur(ratio, var)
    m1 = integrate.quad(lambda x: x * law.pdf(x), law.lower, law.upper, limit=200)[0]
    m2 = integrate.quad(lambda x: (x - m1) ** 2 * law.pdf(x), law.lower, law.upper, limit=200)[0]
    m2 += law.atom * m1 ** 2
    assert m1 == pytest.approx(var, rel=1e-9)
    assert law.mean() == var
    assert m2 == pytest.approx(var ** 2 * ratio, rel=1e-9)
    assert law.var() == pytest.approx(m2, rel=1e-9)
    for k in (2, 3, 4):
        mk = integrate.quad(lambda x: x ** k * law.pdf(x), law.lower, law.upper, limit=200)[0]
        assert law.moment(k) == pytest.approx(mk, rel=1e-9)


def ks_distance(sorted_sample, law):
    """Two-sided sup |F_n - F| over the sample, ties (the zeros for ratio > 1) counted."""
    n = sorted_sample.size
    right = np.searchsorted(sorted_sample, sorted_sample, side="right") / n
    left = np.searchsorted(sorted_sample, sorted_sample, side="left") / n
    model = law.cdf(sorted_sample)
    model_left = law.cdf(np.nextafter(sorted_sample, -np.inf))  # F(x-): differs at the atom
    return float(np.max(np.maximum(np.abs(right - model), np.abs(left - model_left))))


@pytest.mark.parametrize("ratio", [0.25, 1.0, 3.0])
def test_wishart_spectrum_follows_the_law(ratio):
    # Tolerance: eigenvalues of Wishart matrices are rigid (Erdos-Yau-Yin; Pillai-Yin 2014): the
    # counting function M F_M(x) deviates from M F(x) by O(log M) uniformly (number variance
    # ~ (2/pi^2) log M for beta = 1), plus the O(1/M) bias of E F_M (Gotze-Tikhomirov).  So
    # sup |F_M - F| <= 2 log(M) / M with a wide margin (measured ~0.5 log(M)/M).  The same sample
    # against a law with the variance off by 5% must exceed it (the test can fail).
    m = 2000
    law = MarchenkoPastur(ratio, 1.4)
    spectrum = law.wishart_spectra(m, random_state=7)
    assert spectrum.shape == (m,)
    tol = 2 * math.log(m) / m
    assert ks_distance(spectrum, law) < tol
    assert ks_distance(spectrum, MarchenkoPastur(ratio, 1.4 * 1.05)) > tol
    if ratio > 1:
        n_rows = round(m / ratio)
        assert np.count_nonzero(spectrum == 0.0) == m - n_rows


@pytest.mark.parametrize("n_rows,n_cols", [(7, 4), (4, 7)])
def test_bidiagonal_sampler_matches_direct_wishart_at_small_size(n_rows, n_cols):
    # The MP law cannot check a finite-N sampler; compare the smallest nonzero and the top eigenvalue
    # laws of the bidiagonal (Dumitriu-Edelman) model with eigvalsh of W^T W / N for Gaussian W
    # (two-sample KS; with fixed seeds the test is deterministic; under the null each check fails with
    # probability <= 1e-4 at any seed: the KS p-value is exact/conservative under the null).  The
    # trace check: 4000 iid traces, the two-sided 1e-4 t quantile (3.9 SE; it was 3.3 SE, 1e-3).  (4, 7) is the M > N branch (M - N exact zeros), used by the BEMA tests.
    trials = 4000
    law = MarchenkoPastur(n_cols / n_rows, 2.0)
    model = law.wishart_spectra((trials, n_cols), random_state=1, n_rows=n_rows)
    rng = np.random.default_rng(2)
    W = rng.normal(0.0, math.sqrt(2.0), size=(trials, n_rows, n_cols))
    direct = np.linalg.eigvalsh(np.swapaxes(W, 1, 2) @ W / n_rows)
    n_zero = n_cols - min(n_rows, n_cols)
    assert np.all(model[:, :n_zero] == 0.0)
    for col in (n_zero, -1):
        assert stats.ks_2samp(model[:, col], direct[:, col]).pvalue > 1e-4
    # E tr X = M var exactly
    tr = model.sum(axis=1)
    assert abs(tr.mean() - n_cols * 2.0) < t_factor(trials) * tr.std(ddof=1) / math.sqrt(trials)


def test_wishart_spectra_and_rvs_reject_bad_size():
    law = MarchenkoPastur(1.0)
    with pytest.raises(ValueError, match="size"):
        law.wishart_spectra(0)
    with pytest.raises(ValueError, match="n_rows"):
        law.wishart_spectra(10, n_rows=0)
    with pytest.raises(ValueError, match="size"):
        law.rvs(-1)


@pytest.mark.parametrize("ratio", [0.3, 1.0, 3.0])
def test_rvs_draws_iid_from_the_law_as_scipy(ratio):
    # scipy semantics: size=None -> one float, size=n -> n draws, size=shape -> that shape.  The draws
    # follow the law: one-sample KS against the cdf (for ratio > 1 the atom at 0 is a jump of the cdf,
    # which the exact-distribution KS p-value treats conservatively); a false alarm has probability
    # <= 1e-4 per check at any seed (it was 1e-3).  The same draws against a 25% wider law are
    # rejected at 1e-3 (the test can fail).
    law = MarchenkoPastur(ratio, 1.4)
    assert isinstance(law.rvs(random_state=0), float)
    assert law.rvs(size=(2, 3), random_state=0).shape == (2, 3) and law.rvs(0).shape == (0,)
    x = law.rvs(size=4000, random_state=11)
    assert x.shape == (4000,) and np.all((x >= 0) & (x <= law.upper))
    zeros = int((x == 0).sum())            # the atom: a binomial count (two-sided exact test)
    assert stats.binomtest(zeros, x.size, law.atom).pvalue > 1e-4 if law.atom else zeros == 0
    positive = x[x > 0]                    # the continuous part, against its conditional cdf

    def conditional(other):
        return lambda t: (other.cdf(t) - other.atom) / other.continuous_mass
    assert stats.kstest(positive, conditional(law)).pvalue > 1e-4
    assert stats.kstest(positive, conditional(MarchenkoPastur(ratio, 1.4 * 1.25))).pvalue < 1e-3


def test_old_names_are_deprecated_aliases():
    with pytest.warns(DeprecationWarning, match="sigma2"):
        law = MarchenkoPastur(0.5, var=2.0)
    assert law.sigma2 == law.scale == 2.0 and law.var() == pytest.approx(2.0)
    assert repr(law) == "MarchenkoPastur(ratio=0.5, sigma2=2.0)"
    with pytest.warns(DeprecationWarning, match="wishart_spectra"):
        old = law.rvs(20, random_state=3, n_rows=40)
    np.testing.assert_array_equal(old, law.wishart_spectra(20, random_state=3, n_rows=40))
    with pytest.raises(ValueError, match="not both"), pytest.warns(DeprecationWarning):
        MarchenkoPastur(0.5, 1.0, var=2.0)
