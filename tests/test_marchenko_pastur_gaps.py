"""MarchenkoPastur: the gaps a mutation run found (issue 24).

The accuracy tests here compare with ``abs=0`` (``pytest.approx``'s default ``abs=1e-12`` lets any
tail value below 1e-12 pass) against a reference quadrature with ``epsabs=0`` of the density (3.2)
typed in from the paper, not of ``law.pdf``.  Exact equalities are asserted where the code promises
them (cdf at +-inf and at the edges, sf beyond lambda+, moment(0) and moment(1)).
"""
import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from theory import marchenko_pastur
from theory.marchenko_pastur import MarchenkoPastur


def warned_at_the_callers_file(record, method) -> bool:
    """Whether a warning that ``method`` raised points at its caller, this file (stacklevel 2).

    Under mutmut the method is reached through two frames of mutmut's trampoline module: its
    wrapper (the ``method`` seen from here), then the dispatcher that calls the method.  Stacklevel
    2 then lands on the dispatcher: in the wrapper's file, on none of the wrapper's own lines (3
    lands on those, 1 in theory/marchenko_pastur.py); without mutmut, on this file."""
    code = method.__code__
    if code.co_filename == marchenko_pastur.__file__:
        return record.filename == __file__
    wrapper_lines = {line for _, _, line in code.co_lines() if line is not None}
    return record.filename == code.co_filename and record.lineno not in wrapper_lines


def density_3_2(x, c, var):
    """Paper 000 eq. (3.2) with the edges (3.3), written out independently of the class."""
    lo, hi = var * (1 - math.sqrt(c)) ** 2, var * (1 + math.sqrt(c)) ** 2
    return math.sqrt(max(hi - x, 0.0) * max(x - lo, 0.0)) / (2 * math.pi * var * c * x)


def lower_tail_mass(law, c, var, x):
    """Continuous mass in [lambda-, x]: (3.2) written in t = x - lambda- (no cancellation in
    x - lambda- at the quadrature nodes), integrated in u = sqrt(t) (no edge singularity)."""
    lo, width = law.lower, law.upper - law.lower
    dens = lambda t: math.sqrt(max(width - t, 0.0) * t) / (2 * math.pi * var * c * (lo + t))
    return integrate.quad(lambda u: dens(u * u) * 2 * u, 0.0, math.sqrt(x - lo),
                          epsabs=0, epsrel=1e-13, limit=200)[0]


def upper_tail_mass(law, c, var, x):
    """Mass in [x, lambda+]: (3.2) in t = lambda+ - x, integrated in u = sqrt(t)."""
    hi, width = law.upper, law.upper - law.lower
    dens = lambda t: math.sqrt(max(width - t, 0.0) * t) / (2 * math.pi * var * c * (hi - t))
    return integrate.quad(lambda u: dens(u * u) * 2 * u, 0.0, math.sqrt(hi - x),
                          epsabs=0, epsrel=1e-13, limit=200)[0]


def spectra(law, size, random_state, n_rows=None):
    return law.wishart_spectra(size, random_state=random_state, n_rows=n_rows)


# --- pdf --------------------------------------------------------------------------------------

@pytest.mark.parametrize("ratio", [0.3, 1.0, 2.0, 4.0])
def test_pdf_is_eq_3_2_inside_the_support(ratio):
    law = MarchenkoPastur(ratio, 1.7)
    xs = law.lower + (law.upper - law.lower) * np.array([1e-9, 0.01, 0.3, 0.5, 0.9, 1 - 1e-9])
    ref = [density_3_2(x, ratio, 1.7) for x in xs]
    assert law.pdf(xs) == pytest.approx(ref, rel=1e-12, abs=0)


@pytest.mark.parametrize("ratio", [0.3, 1.0, 2.0])
def test_pdf_is_zero_outside_the_open_support(ratio):
    law = MarchenkoPastur(ratio, 1.7)
    outside = [law.lower, law.upper, law.upper * (1 + 1e-12), 2 * law.upper, math.inf, -math.inf, -1.0, 0.0]
    if law.lower > 0:
        outside.append(law.lower * (1 - 1e-12))
    out = law.pdf(outside)
    assert out.tolist() == [0.0] * len(outside)


def test_pdf_at_zero_for_ratio_one_is_zero_and_finite_just_above():
    law = MarchenkoPastur(1.0, 0.5)
    assert float(law.pdf(0.0)) == 0.0
    x = 1e-10
    assert float(law.pdf(x)) == pytest.approx(density_3_2(x, 1.0, 0.5), rel=1e-12, abs=0)


# --- cdf and sf --------------------------------------------------------------------------------

@pytest.mark.parametrize("ratio", [0.05, 0.3, 0.95])
@pytest.mark.parametrize("d", [1e-12, 1e-8, 1e-4, 0.02, 0.5])
def test_cdf_lower_tail_relative_accuracy(ratio, d):
    # cdf itself (its own fast path), not only _cdf_phi: relative accuracy down to F ~ 1e-18
    law = MarchenkoPastur(ratio)
    x = law.lower + d * (law.upper - law.lower)
    assert float(law.cdf(x)) == pytest.approx(lower_tail_mass(law, ratio, 1.0, x), rel=1e-9, abs=0)


@pytest.mark.parametrize("ratio", [0.05, 0.3, 1.0, 1.7, 2.0, 6.0])
@pytest.mark.parametrize("d", [1e-12, 1e-8, 1e-4, 0.3, 0.9])
def test_sf_upper_tail_relative_accuracy_without_an_absolute_floor(ratio, d):
    law = MarchenkoPastur(ratio, 1.3)
    x = law.upper - d * (law.upper - law.lower)
    assert float(law.sf(x)) == pytest.approx(upper_tail_mass(law, ratio, 1.3, x), rel=1e-9, abs=0)


@pytest.mark.parametrize("ratio", [0.05, 0.3, 2.0])
def test_cdf_near_the_upper_edge_to_rounding(ratio):
    # for small ratios the closed form cancels terms of size (1 + c)/(2c) near lambda+; the
    # quadrature branch keeps 1 - F to a few ulps of 1
    law = MarchenkoPastur(ratio)
    for d in (1e-8, 1e-4, 0.01, 0.05):
        x = law.upper - d * (law.upper - law.lower)
        assert float(law.cdf(x)) == pytest.approx(1.0 - upper_tail_mass(law, ratio, 1.0, x), rel=0, abs=3e-16)


@pytest.mark.parametrize("ratio", [2.0, 1.0])
def test_cdf_at_ratio_two_and_one_against_quadrature(ratio):
    # ratio 2 pins the `ratio != 1` branches (the arctan term); ratio 1 the branch without it
    law = MarchenkoPastur(ratio, 0.8)
    for frac in (1e-6, 0.1, 0.37, 0.5, 0.8, 0.999):
        x = law.lower + frac * (law.upper - law.lower)
        ref = law.atom + lower_tail_mass(law, ratio, 0.8, x)
        assert float(law.cdf(x)) == pytest.approx(ref, rel=0, abs=1e-13)
        q = law.atom + frac * law.continuous_mass
        assert float(law.cdf(law.ppf(q))) == pytest.approx(q, rel=0, abs=1e-14)


@pytest.mark.parametrize("ratio", [0.3, 1.0, 2.0])
def test_cdf_and_sf_exact_values_at_the_edges_and_infinities(ratio):
    law = MarchenkoPastur(ratio, 1.1)
    assert float(law.cdf(math.inf)) == 1.0 and float(law.cdf(-math.inf)) == 0.0
    assert float(law.sf(math.inf)) == 0.0 and float(law.sf(-math.inf)) == 1.0
    assert float(law.cdf(law.upper)) == 1.0 and float(law.sf(law.upper)) == 0.0
    assert float(law.sf(law.upper * (1 + 1e-12))) == 0.0 and float(law.sf(5 * law.upper)) == 0.0
    assert float(law.cdf(-1.0)) == 0.0 and float(law.sf(-1.0)) == 1.0
    if ratio > 1:
        assert float(law.cdf(0.0)) == pytest.approx(1 - 1 / ratio, rel=1e-15, abs=0)
        assert float(law.sf(0.0)) == pytest.approx(1 / ratio, rel=1e-15, abs=0)
        assert float(law.sf(np.nextafter(0.0, -1.0))) == 1.0
    else:
        assert float(law.cdf(law.lower)) == 0.0 and float(law.sf(law.lower)) == 1.0


@pytest.mark.parametrize("ratio", [0.05, 0.5, 1.0, 3.0])
def test_sf_of_an_array_is_the_sf_of_each_element_and_complements_cdf(ratio):
    law = MarchenkoPastur(ratio, 0.9)
    fr = np.array([-0.5, 0.0, 1e-9, 0.2, 0.5, 0.8, 0.95, 1 - 1e-6, 1 - 1e-12, 1.0, 1.5])
    xs = law.lower + (law.upper - law.lower) * fr
    together = law.sf(xs)
    one_by_one = np.array([float(law.sf(x)) for x in xs])
    assert together.tolist() == one_by_one.tolist()
    np.testing.assert_allclose(together + law.cdf(xs), 1.0, rtol=0, atol=4e-16)
    assert law.sf(xs.reshape(1, -1)).shape == (1, xs.size)


@pytest.mark.parametrize("ratio", [0.05, 0.3, 1.0, 2.0, 6.0])
def test_sf_of_ppf_in_the_upper_tail(ratio):
    # ppf near q = 1 must land where the (independent) upper-tail quadrature of sf puts 1 - q.
    # Tolerance: ppf solves cdf(x) = q, and cdf near 1 is only known to one ulp of 1 (eps); x is
    # rounded to one ulp of lambda+, which moves sf by pdf(x) ulp(x).  Measured: < 5e-17.
    law = MarchenkoPastur(ratio, 1.2)
    eps = np.finfo(float).eps
    for k in (3, 6, 9, 12, 14, 15):
        q = 1.0 - 10.0 ** -k
        x = law.ppf(q)
        tol = eps + 2 * float(law.pdf(x)) * np.spacing(law.upper)
        assert float(law.sf(x)) == pytest.approx(1.0 - q, rel=0, abs=tol)


@pytest.mark.parametrize("ratio", [0.05, 0.3, 2.0])
def test_ppf_in_the_lower_tail_matches_the_quadrature(ratio):
    law = MarchenkoPastur(ratio, 1.2)
    for frac in (1e-10, 1e-6, 1e-3):
        x = law.lower + frac * (law.upper - law.lower)
        q = law.atom + lower_tail_mass(law, ratio, 1.2, x)
        if ratio > 1:  # q - atom loses the low digits: compare in x to the cube-root conditioning
            assert float(law.ppf(q)) == pytest.approx(x, rel=1e-6, abs=0)
        else:
            assert float(law.ppf(q)) - law.lower == pytest.approx(x - law.lower, rel=1e-7, abs=0)


@pytest.mark.parametrize("ratio", [0.05, 0.3, 1.0, 2.0])
def test_ppf_end_points(ratio):
    # 0.05: the top grid cell is not flat there (its mass is one ulp), so q = 1 lands in it
    law = MarchenkoPastur(ratio, 1.5)
    assert float(law.ppf(1.0)) == law.upper
    assert float(law.ppf(0.0)) == (0.0 if ratio > 1 else law.lower)
    assert law.ppf([0.0, 1.0]).tolist() == [float(law.ppf(0.0)), law.upper]
    for bad in (-1e-300, 1 + 1e-15):
        with pytest.raises(ValueError, match=r"q must be probabilities in \[0, 1\]"):
            law.ppf(bad)


# --- moments ----------------------------------------------------------------------------------

@pytest.mark.parametrize("ratio", [0.3, 1.0, 2.5])
def test_low_moments_are_exact(ratio):
    var = 1.7
    law = MarchenkoPastur(ratio, var)
    assert law.moment(0) == 1.0
    assert law.moment(1) == var
    # Narayana polynomials: E x^2 = var^2 (1 + c), E x^3 = var^3 (1 + 3c + c^2)
    assert law.moment(2) == pytest.approx(var ** 2 * (1 + ratio), rel=1e-15, abs=0)
    assert law.moment(3) == pytest.approx(var ** 3 * (1 + 3 * ratio + ratio ** 2), rel=1e-15, abs=0)
    assert law.mean() == var
    assert law.var() == pytest.approx(var ** 2 * ratio, rel=1e-15, abs=0)
    assert law.std() == pytest.approx(var * math.sqrt(ratio), rel=1e-15, abs=0)
    assert law.moment(2) - law.mean() ** 2 == pytest.approx(law.var(), rel=1e-14, abs=0)
    with pytest.raises(ValueError, match="k"):
        law.moment(-1)


# --- sampling ---------------------------------------------------------------------------------

def test_rvs_is_reproducible_from_its_seed():
    law = MarchenkoPastur(0.5, 2.0)
    a, b = law.rvs((3, 8), random_state=11), law.rvs((3, 8), random_state=11)
    assert a.shape == (3, 8) and a.tolist() == b.tolist()
    assert law.rvs((3, 8), random_state=12).tolist() != a.tolist()
    assert law.rvs((2, 3, 4), random_state=1).shape == (2, 3, 4)
    s = spectra(law, (3, 8), 11)
    assert s.tolist() == spectra(law, (3, 8), 11).tolist() != spectra(law, (3, 8), 12).tolist()
    # rows are independent spectra, each sorted ascending
    assert s[0].tolist() != s[1].tolist()
    assert np.all(np.diff(s, axis=1) >= 0)
    assert spectra(law, (2, 3, 4), 1).shape == (2, 3, 4)
    # the default N is round(M / ratio): M = 8, ratio 0.5 -> N = 16, the same as asking for it
    assert spectra(law, 8, 5, n_rows=16).tolist() == spectra(law, 8, 5).tolist()
    assert spectra(law, 8, 5, n_rows=17).tolist() != spectra(law, 8, 5).tolist()


@pytest.mark.parametrize("n_rows,n_cols", [(9, 1), (1, 9)])
def test_rvs_with_one_nonzero_eigenvalue_is_a_scaled_chi_square(n_rows, n_cols):
    # min(N, M) = 1: the nonzero eigenvalue of W^T W / N is var * chi^2_max(N,M) / N exactly in law
    # (KS test at fixed seeds: a false alarm under the null has probability 1e-3)
    var, trials = 2.0, 3000
    law = MarchenkoPastur(n_cols / n_rows, var)
    out = spectra(law, (trials, n_cols), 3, n_rows=n_rows)
    assert np.all(out[:, :-1] == 0.0)
    top = out[:, -1]
    ref = stats.chi2(max(n_rows, n_cols), scale=var / n_rows)
    assert stats.kstest(top, ref.cdf).pvalue > 1e-3
    # the same sample against a chi-square with one degree of freedom fewer must be refused
    wrong = stats.chi2(max(n_rows, n_cols) - 1, scale=var / n_rows)
    assert stats.kstest(top, wrong.cdf).pvalue < 1e-3


@pytest.mark.parametrize("n_rows,n_cols", [(6, 2), (2, 6)])
def test_rvs_with_two_nonzero_eigenvalues_matches_direct_wishart(n_rows, n_cols):
    # min(N, M) = 2: the smallest one-by-one case with an off-diagonal term (KS, false alarm 1e-3
    # per comparison at fixed seeds)
    trials = 3000
    law = MarchenkoPastur(n_cols / n_rows, 1.5)
    model = spectra(law, (trials, n_cols), 4, n_rows=n_rows)
    rng = np.random.default_rng(5)
    W = rng.normal(0.0, math.sqrt(1.5), size=(trials, n_rows, n_cols))
    direct = np.linalg.eigvalsh(np.swapaxes(W, 1, 2) @ W / n_rows)
    assert np.all(model[:, : n_cols - 2] == 0.0)
    for col in (-2, -1):
        assert stats.ks_2samp(model[:, col], direct[:, col]).pvalue > 1e-3


def test_rvs_names_the_bad_entry_of_a_shape():
    law = MarchenkoPastur(0.5)
    with pytest.raises(ValueError, match=r"size\[1\] must be an integer in \[0, inf\], got -1"):
        law.rvs((2, -1))
    with pytest.raises(ValueError, match=r"^size must be an integer in \[0, inf\], got -1"):
        law.rvs(-1)


@pytest.mark.parametrize("ratio", [0.3, 2.0])
def test_phi_is_the_angle_of_the_clipped_point(ratio):
    # phi(x) of the module docstring, on [0, pi]: points outside the support are clipped to its ends
    law = MarchenkoPastur(ratio, 1.1)
    out = law._phi(np.array([law.lower - 1.0, law.lower, law.upper, law.upper + 1.0]))
    assert out.tolist() == [0.0, 0.0, math.pi, math.pi]
    mid = 0.5 * (law.lower + law.upper)
    assert float(law._phi(np.array([mid]))[0]) == pytest.approx(0.5 * math.pi, rel=1e-15, abs=0)


def test_ppf_error_names_q_and_the_first_bad_value():
    law = MarchenkoPastur(0.5)
    msg = r"q must be probabilities in \[0, 1\] \(no NaN\), got "
    with pytest.raises(ValueError, match=msg + "1.5$"):
        law.ppf([0.0, 1.5])
    with pytest.raises(ValueError, match=msg + "-0.5$"):
        law.ppf([1.0, -0.5])
    with pytest.raises(ValueError, match=msg + "inf$"):
        law.ppf([0.5, math.inf])
    with pytest.raises(ValueError, match=msg + "nan$"):
        law.ppf([0.5, math.nan])
    with pytest.raises(ValueError, match=r"^q must be an array of real numbers"):
        law.ppf(["a"])


def test_rvs_refuses_a_huge_size_before_drawing():
    with pytest.raises(ValueError, match=r"^size would need 8.19e\+03 GiB \(limit 4 GiB\)"):
        MarchenkoPastur(0.5).rvs((2**20, 2**20))


@pytest.mark.parametrize("ratio", [0.05, 0.3, 0.95, 1.0])
def test_ppf_deep_in_the_first_grid_cell(ratio):
    # q far below the first grid cell's mass (f_1 ~ 1e-16 .. 1e-5): the cube-root Newton start
    # matters here.  cdf(ppf(q)) = q to the relative change of F over one ulp of x,
    # ~ 1.5 ulp(x) / (x - lambda-) at a soft edge (F ~ (x - lambda-)^{3/2})
    law = MarchenkoPastur(ratio)
    for q in (1e-9, 1e-12, 1e-15, 1e-18, 1e-20):
        x = float(law.ppf(q))
        tol = 1e-9 + 3 * 1.5 * np.spacing(x) / (x - law.lower)
        assert float(law.cdf(x)) == pytest.approx(q, rel=tol, abs=0)


@pytest.mark.parametrize("ratio", [0.05, 0.5, 1.0, 3.0])
def test_ppf_and_cdf_emit_no_numpy_warnings(ratio):
    # Newton divides by the density, which is 0 at phi = 0 and pi: those steps are refused silently
    law = MarchenkoPastur(ratio)
    q = np.array([0.0, law.atom, law.atom + 1e-300, 1e-20, 0.5, 1 - 1e-16, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = law.ppf(q)
        law.cdf(x), law.sf(x), law.pdf(x)


@pytest.mark.parametrize("ratio", [0.3, 2.0])
def test_sf_outside_the_support_is_exact_and_silent(ratio):
    law = MarchenkoPastur(ratio, 1.4)
    xs = np.array([-2.0, law.lower - 1e-3, law.upper + 1e-3, 3 * law.upper])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = law.sf(xs)
    assert out[0] == 1.0 and out[2] == 0.0 and out[3] == 0.0
    # just below lambda-: all the mass for ratio < 1; the continuous part 1/ratio above the atom
    assert out[1] == (1.0 if ratio < 1 else pytest.approx(1 / ratio, rel=1e-15, abs=0))
    with pytest.raises(ValueError, match=r"^x must not contain NaN"):
        law.sf([0.5, math.nan])


@pytest.mark.parametrize("ratio", [0.3, 1.0, 2.0])
def test_cdf_and_pdf_outside_the_support_are_silent(ratio):
    law = MarchenkoPastur(ratio, 0.6)
    xs = np.array([-3.0, law.lower - 1e-3, 0.0, law.upper + 1e-3, 10.0, math.inf, -math.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cdf, pdf = law.cdf(xs), law.pdf(xs)
    assert cdf[0] == 0.0 and cdf[3:6].tolist() == [1.0, 1.0, 1.0] and cdf[6] == 0.0
    assert pdf.tolist()[3:] == [0.0] * 4


def test_moment_order_is_capped_at_ten_thousand():
    law = MarchenkoPastur(0.5)
    with pytest.raises(ValueError, match=r"^k must be an integer in \[0, 10000\], got 10001"):
        law.moment(10_001)


def test_pdf_and_cdf_errors_name_x():
    law = MarchenkoPastur(0.5)
    for f in (law.pdf, law.cdf, law.sf):
        with pytest.raises(ValueError, match=r"^x must not contain NaN \(got 1 NaN of 2\)"):
            f([0.5, math.nan])
        with pytest.raises(ValueError, match=r"^x must be real, got a complex array"):
            f([0.5 + 1j])


@pytest.mark.parametrize("ratio", np.logspace(-3, 3, 13).tolist() + [0.0012030053494233])
def test_cdf_is_exactly_one_from_lambda_plus_on_and_never_above(ratio):
    # the closed form at lambda+ is 1 (1/ratio for the continuous part) only to ~1e-13 for small
    # ratios: cdf must put the mass exactly, and clip rounding above 1
    law = MarchenkoPastur(ratio, 1.7)
    assert law.cdf([law.upper, 2 * law.upper, math.inf]).tolist() == [1.0, 1.0, 1.0]
    near = law.upper - (law.upper - law.lower) * np.logspace(-16, -1, 60)
    assert np.all(law.cdf(near) <= 1.0)
    assert law.cdf([law.lower, -1.0]).tolist() == [law.atom, 0.0]  # the atom (ratio > 1) at 0 <= lambda-


def test_pdf_is_silent_for_a_wide_law():
    # pdf fills the points outside the support with the midpoint before the formula: it must be
    # inside the support for any scale (here lambda+- ~ 20, 2)
    law = MarchenkoPastur(0.3, 10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = law.pdf([-1.0, 0.0, 1.0, 100.0])
    assert out.tolist() == [0.0] * 4


def test_wishart_spectra_defaults_and_errors():
    law = MarchenkoPastur(4.0)
    assert law.wishart_spectra(random_state=0).shape == (1,)  # one eigenvalue by default
    # M = 2, ratio 4: the default N = max(1, round(2 / 4)) = 1, so exactly one nonzero eigenvalue
    assert np.count_nonzero(law.wishart_spectra(2, random_state=0)) == 1
    with pytest.raises(ValueError, match=r"^size must be a positive int or a shape of positive ints, got \(\)"):
        law.wishart_spectra(())
    with pytest.raises(ValueError, match=r"^size must be an integer in \[1, inf\], got 0"):
        law.wishart_spectra(0)
    with pytest.raises(ValueError, match=r"^size\[1\] must be an integer in \[1, inf\], got 0"):
        law.wishart_spectra((2, 0))
    with pytest.raises(ValueError, match=r"^size would need"):
        law.wishart_spectra((2**20, 2**20))


def test_wishart_spectra_row_count_limits():
    law = MarchenkoPastur(0.5)
    assert law.wishart_spectra(3, random_state=1, n_rows=2**62).shape == (3,)
    with pytest.raises(ValueError, match=r"^n_rows must be an integer in \[1, 4611686018427387904\], got 0"):
        law.wishart_spectra(3, n_rows=0)
    with pytest.raises(ValueError, match=r"^n_rows must be an integer in \[1, 4611686018427387904\]"):
        law.wishart_spectra(3, n_rows=2**62 + 1)


def test_deprecated_var_warns_at_the_callers_line_and_names_ratio():
    with pytest.warns(DeprecationWarning, match=r"^MarchenkoPastur: the entry variance 'var' is renamed 'sigma2'") as rec:
        law = MarchenkoPastur(0.5, var=2.0)
    assert law.scale == 2.0 and warned_at_the_callers_file(rec[0], MarchenkoPastur.__init__)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert MarchenkoPastur(0.5, 2.0, var=2.0).scale == 2.0
        with pytest.raises(ValueError, match=r"^MarchenkoPastur: give sigma2 or its old name var, not both"):
            MarchenkoPastur(0.5, 2.0, var=3.0)
    with pytest.raises(ValueError, match=r"^ratio must be in \(0.0, inf"):
        MarchenkoPastur(0.0)
    with pytest.raises(ValueError, match=r"^sigma2 must be in \(0.0, inf"):
        MarchenkoPastur(0.5, -1.0)


def test_rvs_with_n_rows_is_the_deprecated_spelling_of_wishart_spectra():
    law = MarchenkoPastur(0.5, 1.3)
    with pytest.warns(DeprecationWarning, match=r"^MarchenkoPastur\.rvs\(size, n_rows=\.\.\.\) returned Wishart") as rec:
        old = law.rvs(4, random_state=3, n_rows=8)
    assert warned_at_the_callers_file(rec[0], MarchenkoPastur.rvs)
    assert old.tolist() == law.wishart_spectra(4, random_state=3, n_rows=8).tolist()
    with pytest.warns(DeprecationWarning):
        assert law.rvs(random_state=3, n_rows=8).tolist() == law.wishart_spectra(1, random_state=3, n_rows=8).tolist()


def test_high_moments_do_not_overflow_in_their_terms():
    """moment(k) accepts k up to 10,000; beyond k ~ 1000 the Narayana terms C(k,r) C(k-1,r) exceed
    the float range although the moment itself may not (var < 1).  Reference: the same sum in exact
    rational arithmetic (fractions), independent of the code path."""
    from fractions import Fraction
    k = 1200
    law = MarchenkoPastur(ratio=0.5, sigma2=0.3)
    exact = Fraction(3, 10) ** k * sum(Fraction(1, 2) ** r * math.comb(k, r) * math.comb(k - 1, r) / Fraction(r + 1)
                                       for r in range(k))
    assert law.moment(k) == pytest.approx(float(exact), rel=1e-11, abs=0)
    # E[x^k] >= (lambda+ (1 - 1/k))^k P(x > lambda+ (1 - 1/k)) is beyond the float range here: inf, not an error.
    assert MarchenkoPastur(ratio=1.0).moment(1030) == math.inf


@pytest.mark.parametrize("q", [1e-40, 1e-31, 1e-20])
def test_ppf_deep_in_the_hard_lower_edge_at_ratio_one(q):
    """At ratio 1 the lower edge is hard: F(x) = (1/2pi) int_0^x sqrt((4-t)/t) dt = (2/pi) sqrt(x) (1 + O(x)),
    so ppf(q) = (pi q / 2)^2 to relative O(q^2).  The cube-root Newton start of the soft edges
    failed there (ppf(1e-40) was 6.5e-36, whose cdf is 1.6e-18: the mutation run's finding)."""
    law = MarchenkoPastur(ratio=1.0)
    assert float(law.ppf(q)) == pytest.approx((math.pi * q / 2) ** 2, rel=1e-12, abs=0)
    assert float(law.cdf(law.ppf(q))) == pytest.approx(q, rel=1e-12, abs=0)


# --- the lower switch between quadrature and closed form ---------------------------------------

def mass_above_lower_edge_mp(law, t):
    """Continuous mass of (3.2) in [lambda-, lambda- + t] at 40 digits (mpmath, an implementation
    independent of the class), for the law's own float edges and ratio (sigma^2 = 1): in u = sqrt(s),
    s = x - lambda-, the integrand u^2 sqrt(w - u^2) / (pi c (lambda- + u^2)) is smooth at 0."""
    import mpmath  # a dependency of sympy, which theory/ requires: never missing, never skipped
    with mpmath.workdps(40):
        lo, c = mpmath.mpf(law.lower), mpmath.mpf(law.ratio)
        w = mpmath.mpf(law.upper) - lo
        return mpmath.quad(lambda u: u * u * mpmath.sqrt(w - u * u) / (mpmath.pi * c * (lo + u * u)),
                           [0, mpmath.sqrt(mpmath.mpf(t))])


@pytest.mark.parametrize("ratio, d", [(0.01, 0.00536), (0.01, 0.00568), (0.95, 2.83e-6), (0.95, 3.12e-6)])
def test_cdf_relative_accuracy_where_the_closed_form_cancels(ratio, d):
    """Below phi ~ |1 - sqrt c| / c^(1/4) the closed form's O(phi) terms cancel to leave F ~ phi^3
    and it loses relative accuracy (2e-13 to 5e-13 at these points: ratio 0.01, phi ~ 0.15; ratio
    0.95, phi ~ 0.0034), which the quadrature below the switch keeps to ~1e-15 (measured).  The
    points sit just above where a switch lowered to c^(1/2) of itself (ratio 0.01) or to about a
    quarter of itself (ratio 0.95) would hand them to the closed form.  Tolerance 1e-13 (~450
    ulps): 100 times the code's error."""
    law = MarchenkoPastur(ratio)
    x = law.lower + d * (law.upper - law.lower)
    ref = mass_above_lower_edge_mp(law, x - law.lower)  # x - lambda- is exact (Sterbenz)
    assert float(law.cdf(x)) == pytest.approx(float(ref), rel=1e-13, abs=0)


def lower_edge_quantile_mp(law, target):
    """x with continuous mass ``target`` in [lambda-, x] (40 digits): the root in t = x - lambda- of
    the mpmath mass, bracketed by doubling (the mass is increasing in t)."""
    import mpmath
    with mpmath.workdps(40):
        a, b = mpmath.mpf(0), mpmath.mpf(1e-30)
        while mass_above_lower_edge_mp(law, b) < target:
            a, b = b, 2 * b
        t = mpmath.findroot(lambda t: mass_above_lower_edge_mp(law, t) - target, (a, b), solver="anderson")
        return mpmath.mpf(law.lower) + t


@pytest.mark.parametrize("ratio, phi", [(2.0, 1e-5), (2.0, 0.0285), (2.0, 0.11), (2.0, 0.131),
                                        (1000.0, 0.0035), (1000.0, 0.005)])
def test_ppf_above_the_atom_is_accurate_to_rounding(ratio, phi):
    """ratio > 1: q just above the atom 1 - 1/c.  ppf promises x to rounding; with the closed form
    used below the switch (no switch at ratio 2, or a switch lowered by c^(-5/4) or c^(-1)/4 in
    place of c^(-1/4)) x is off by 4-43 ulps at these points, the code by at most 0.5
    (measured).  The target q - atom is exact (Sterbenz) and the reference solves for it;
    tolerance 2 ulps of x."""
    law = MarchenkoPastur(ratio)
    width = law.upper - law.lower
    x_near = law.lower + width * math.sin(0.5 * phi) ** 2
    q = law.atom + float(mass_above_lower_edge_mp(law, x_near - law.lower))
    ref = lower_edge_quantile_mp(law, q - law.atom)
    x = float(law.ppf(q))
    assert abs(x - float(ref)) <= 2 * math.ulp(x)

