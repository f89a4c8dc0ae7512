"""theory.bema: the gaps a mutation run found (issue 24).

The Algorithm 4 window and the bulk of ``bulk_sup_distance`` are pinned with spectra built from the
law's own quantiles, ``lambda_(i) = F^{-1}((i - delta_i) / M)``, so that ``|F_X - F|`` at the i-th
eigenvalue is exactly ``delta_i / M`` (up to cdf(ppf(p)) = p, accurate to ~1e-15): a window one
index too wide or too narrow at either end changes the statistic by more than 0.04 / M.
"""
import math
import os
import warnings

import numpy as np
import pytest

from theory import bema
from theory.marchenko_pastur import MarchenkoPastur

# mutmut runs the tests through a trampoline, one more stack frame: a warning's stacklevel then
# points into the trampoline, so the caller's-line checks run outside mutmut only
UNDER_MUTMUT = "MUTANT_UNDER_TEST" in os.environ


def designed_spectrum(law, m, deltas):
    """M eigenvalues at levels (i - delta_i)/M, delta_i = 0.5 except where ``deltas`` says."""
    d = np.full(m, 0.5)
    for i, delta in deltas.items():
        d[i - 1] = delta
    i = np.arange(1, m + 1)
    return law.ppf((i - d) / m)


def noise(n_rows, n_cols, seed, sigma2=1.0):
    """One Wishart spectrum of X = W^T W / N (entries of variance sigma2)."""
    return MarchenkoPastur(n_cols / n_rows, sigma2).wishart_spectra(n_cols, random_state=seed, n_rows=n_rows)


# --- Algorithm 4: the window i_low..i_high, and the bulk --------------------------------------

@pytest.mark.parametrize("ratio,m,alpha", [(0.5, 40, 0.1), (1.0, 40, 0.15), (0.25, 50, 0.2)])
@pytest.mark.parametrize("peak", ["low", "high"])
def test_mp_fit_error_window_is_exactly_i_low_to_i_high(ratio, m, alpha, peak):
    law = MarchenkoPastur(ratio, 1.3)
    i_low, i_high = math.ceil(alpha * m - 1e-9), math.floor((1 - alpha) * m + 1e-9)
    inside = {"low": (0.9, 0.8), "high": (0.8, 0.9)}[peak]
    # just outside the window the deviations are larger still: including them changes s
    ev = designed_spectrum(law, m, {i_low - 1: 0.99, i_low: inside[0], i_high: inside[1], i_high + 1: 0.95})
    s, _ = bema.fit_errors(ev, ratio, 1.3, alpha, lambda_plus=law.upper)
    assert s == pytest.approx(0.9 / m, rel=0, abs=1e-13)


@pytest.mark.parametrize("ratio,m", [(0.5, 40), (1.0, 30)])
def test_bulk_sup_distance_counts_eigenvalues_up_to_and_including_lambda_plus(ratio, m):
    law = MarchenkoPastur(ratio, 0.7)
    top = m - 3
    ev = designed_spectrum(law, m, {top: 0.97, top + 1: 0.99})
    # both sides of each jump: at delta = 0.5 both are 0.5/M; at delta, max(delta, 1 - delta)/M
    _, bulk = bema.fit_errors(ev, ratio, 0.7, 0.1, lambda_plus=ev[top - 1])
    assert bulk == pytest.approx(0.97 / m, rel=0, abs=1e-13)
    _, bulk = bema.fit_errors(ev, ratio, 0.7, 0.1, lambda_plus=np.nextafter(ev[top - 1], 0.0))
    assert bulk == pytest.approx(0.5 / m, rel=0, abs=1e-13)
    _, bulk = bema.fit_errors(ev, ratio, 0.7, 0.1, lambda_plus=ev[top])
    assert bulk == pytest.approx(0.99 / m, rel=0, abs=1e-13)


def test_bulk_sup_distance_uses_the_left_limit_below_each_eigenvalue():
    # delta = 0.1 at one index: right-side gap 0.1/M, left-side gap 0.9/M: only the left one sees it
    law = MarchenkoPastur(0.5, 1.0)
    ev = designed_spectrum(law, 40, {20: 0.1})
    _, bulk = bema.fit_errors(ev, 0.5, 1.0, 0.1, lambda_plus=law.upper)
    assert bulk == pytest.approx(0.9 / 40, rel=0, abs=1e-13)


def test_fit_errors_empty_window_and_empty_bulk_are_nan():
    law = MarchenkoPastur(0.5, 1.0)
    ev = designed_spectrum(law, 41, {})
    s, bulk = bema.fit_errors(ev, 0.5, 1.0, 0.5, lambda_plus=ev[0] / 2)  # i_low = 21 > i_high = 20
    assert math.isnan(s) and math.isnan(bulk)
    s, bulk = bema.fit_errors(ev, 0.5, 1.0, 0.1, lambda_plus=ev[0])  # bulk = the smallest only
    assert s == pytest.approx(0.5 / 41, abs=1e-13) and bulk == pytest.approx(0.5 / 41, abs=1e-13)


@pytest.mark.parametrize("n_rows,n_cols", [(60, 40), (40, 60)])
def test_fit_reports_fit_errors_of_its_own_sigma2_and_lambda_plus(n_rows, n_cols):
    ev = noise(n_rows, n_cols, 3, sigma2=2.0)
    f = bema.fit(ev, n_rows, n_cols, alpha=0.15)
    s, bulk = bema.fit_errors(np.sort(ev), n_cols / n_rows, f.sigma2, 0.15, f.lambda_plus)
    assert f.mp_fit_error == s and f.bulk_sup_distance == bulk
    assert f.eigenvalues.tolist() == np.maximum(np.sort(ev), 0.0).tolist()


# --- Algorithm 2: the fit window and sigma^2 ---------------------------------------------------

@pytest.mark.parametrize("n,alpha,first,last", [(25, 0.1, 3, 22), (20, 0.1, 2, 18), (10, 0.25, 3, 7),
                                                (30, 0.2, 6, 24), (7, 0.01, 1, 6)])
def test_fit_window_is_alpha_n_to_one_minus_alpha_n(n, alpha, first, last):
    assert bema.fit_window(n, alpha).tolist() == list(range(first, last + 1))


def test_fit_window_needs_three_eigenvalues():
    assert bema.fit_window(4, 0.01).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match=r"holds 2 of n = 3 .* need at least 3"):
        bema.fit_window(3, 0.01)


@pytest.mark.parametrize("levels,shift", [("lower", 0.0), ("midpoint", 0.5), ("upper", 1.0)])
def test_quantile_levels(levels, shift):
    k = np.arange(1, 9)
    assert bema.quantile_levels(k, 8, levels).tolist() == ((k - shift) / 8).tolist()


@pytest.mark.parametrize("ratio", [0.5, 1.0, 2.0])
def test_reference_quantiles_are_the_unit_variance_law_of_the_nonzero_spectrum(ratio):
    n, alpha = 40, 0.1
    k, q = bema.reference_quantiles(ratio, n, alpha, "upper")
    ref = MarchenkoPastur(ratio, 1.0) if ratio <= 1 else MarchenkoPastur(1 / ratio, ratio)
    assert k.tolist() == bema.fit_window(n, alpha).tolist()
    assert q.tolist() == ref.ppf((k - 1.0) / n).tolist()
    assert not k.flags.writeable and not q.flags.writeable


@pytest.mark.parametrize("ratio", [0.5, 2.0])
def test_fit_sigma2_is_least_squares_on_the_window_only(ratio):
    # eigenvalues exactly sigma^2 q_k: sigma^2 comes back to rounding, whatever lies outside the window
    n, alpha = 30, 0.1
    k, q = bema.reference_quantiles(ratio, n, alpha, "midpoint")
    lam = np.empty(n)
    lam[k - 1] = 1.7 * q
    lam[: k[0] - 1] = 1e-6
    lam[k[-1]:] = 1e3 + np.arange(n - k[-1])
    assert bema.fit_sigma2(lam, ratio, alpha) == pytest.approx(1.7, rel=1e-15, abs=0)
    with pytest.raises(ValueError, match="all zero"):
        bema.fit_sigma2(np.zeros(n), ratio, alpha)


# --- the spectrum: structural zeros and rounding -------------------------------------------------

def test_every_structural_eigenvalue_must_be_zero_including_the_largest():
    # N = 5, M = 8: the 3 smallest are structural.  Only the largest of them is not ~0.
    bulk = [0.5, 0.8, 1.0, 1.3, 1.9]
    with pytest.raises(ValueError, match=r"3 smallest eigenvalues are not ~0 \(largest 0.01\)"):
        bema.fit([0.0, 0.0, 0.01] + bulk, 5, 8, alpha=0.01)
    f = bema.fit([0.0, 1e-17, 0.0] + bulk, 5, 8, alpha=0.01)  # rounding-level zeros are fine
    assert f.eigenvalues.tolist() == [0.0, 0.0, 0.0] + bulk
    assert bema.fit(bulk, 5, 8, alpha=0.01).sigma2 == f.sigma2  # nonzero-only input


@pytest.mark.parametrize("scale", [1.0, 1e-12, 1e12])
def test_rounding_tolerance_scales_with_the_spectrum(scale):
    # a negative eigenvalue at 1e-15 of the top one is rounding (accepted, clipped to 0) at any scale;
    # at 1e-6 of it, it is not
    ev = noise(60, 40, 4) * scale
    ev_ok = ev.copy()
    ev_ok[np.argmin(ev_ok)] = -1e-15 * ev.max()
    f = bema.fit(ev_ok, 60, 40)
    assert f.eigenvalues[0] == 0.0 and f.sigma2 == pytest.approx(bema.fit(ev, 60, 40).sigma2, rel=1e-12)
    ev_bad = ev.copy()
    ev_bad[np.argmin(ev_bad)] = -1e-6 * ev.max()
    with pytest.raises(ValueError, match="negative eigenvalue"):
        bema.fit(ev_bad, 60, 40)


def test_input_order_does_not_matter():
    ev = noise(50, 30, 5)
    a = bema.fit(ev, 50, 30)
    b = bema.fit(ev[::-1].copy(), 50, 30)
    assert (a.sigma2, a.lambda_plus, a.mp_fit_error, a.bulk_sup_distance) == \
        (b.sigma2, b.lambda_plus, b.mp_fit_error, b.bulk_sup_distance)


# --- the fitted object ----------------------------------------------------------------------------

def test_spike_count_is_strictly_above_lambda_plus():
    ev = np.sort(noise(80, 40, 6))
    f = bema.fit(ev, 80, 40)
    assert f.n_spikes == int(np.count_nonzero(ev > f.lambda_plus))
    # the top eigenvalue is outside the fit window: moving it to exactly lambda+ leaves the fit alone
    at_edge = ev.copy()
    at_edge[-1] = f.lambda_plus
    g = bema.fit(at_edge, 80, 40)
    assert g.lambda_plus == f.lambda_plus and g.n_spikes == 0
    at_edge[-1] = np.nextafter(f.lambda_plus, np.inf)
    assert bema.fit(at_edge, 80, 40).n_spikes == 1


def test_bema_fit_properties():
    ev = noise(90, 30, 7, sigma2=1.5)
    f = bema.fit(ev, 90, 30, alpha=0.12, tw_level=0.05, levels="lower")
    assert (f.n_rows, f.n_cols, f.alpha, f.tw_level, f.levels) == (90, 30, 0.12, 0.05, "lower")
    assert f.ratio == 30 / 90 and f.beta == 0.05
    assert f.tw_quantile == bema.tw_quantile(0.05)
    assert f.mp_edge == pytest.approx(f.sigma2 * (1 + math.sqrt(1 / 3)) ** 2, rel=1e-15, abs=0)
    assert f.singular_value_threshold == pytest.approx(math.sqrt(f.lambda_plus * 90), rel=1e-15, abs=0)
    assert f.lambda_plus == bema.edge_with_tw_correction(f.sigma2, 90, 1 / 3, f.tw_quantile)
    assert (f.law.ratio, f.law.scale) == (1 / 3, f.sigma2)
    tau = f.mp_fit_error
    assert f.accepts(tau) and not f.accepts(float(np.nextafter(tau, 0.0)))


def test_defaults_are_alpha_one_tenth_tw_level_one_tenth_midpoint():
    ev = noise(60, 40, 8)
    f = bema.fit(ev, 60, 40)
    assert (f.alpha, f.tw_level, f.levels) == (0.1, 0.1, "midpoint")


def test_beta_is_the_deprecated_name_of_tw_level():
    ev = noise(60, 40, 9)
    with pytest.warns(DeprecationWarning, match="tw_level"):
        old = bema.fit(ev, 60, 40, beta=0.2)
    new = bema.fit(ev, 60, 40, tw_level=0.2)
    assert (old.sigma2, old.lambda_plus, old.n_spikes) == (new.sigma2, new.lambda_plus, new.n_spikes)
    assert old.tw_level == 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert bema.fit(ev, 60, 40, tw_level=0.2, beta=0.2).tw_level == 0.2
        with pytest.raises(ValueError, match="not both"):
            bema.fit(ev, 60, 40, tw_level=0.2, beta=0.3)


@pytest.mark.parametrize("shape", [(40, 25), (25, 40)])
def test_fit_matrix_passes_every_option_to_fit(shape):
    W = np.random.default_rng(11).standard_normal(shape)
    sv = np.linalg.svd(W, compute_uv=False)
    kw = dict(alpha=0.2, tw_level=0.3, levels="upper")
    a = bema.fit_matrix(W, **kw)
    b = bema.fit(sv ** 2 / shape[0], *shape, **kw)
    for name in ("sigma2", "lambda_plus", "alpha", "tw_level", "levels", "n_spikes", "mp_fit_error",
                 "bulk_sup_distance", "n_rows", "n_cols"):
        assert getattr(a, name) == getattr(b, name), name
    default = bema.fit_matrix(W)
    assert (default.alpha, default.tw_level, default.levels) == (0.1, 0.1, "midpoint")
    assert default.sigma2 != a.sigma2 and default.lambda_plus != a.lambda_plus


@pytest.mark.parametrize("n_rows,n_cols", [(400, 100), (100, 400), (300, 300)])
def test_edge_is_johnstones_centring_and_scaling(n_rows, n_cols):
    # mu = (sqrt N + sqrt M)^2, s = (sqrt N + sqrt M)(1/sqrt N + 1/sqrt M)^{1/3}, both divided by N
    t, sigma2 = -0.7, 2.5
    rn, rm = math.sqrt(n_rows), math.sqrt(n_cols)
    mu, s = (rn + rm) ** 2, (rn + rm) * (1 / rn + 1 / rm) ** (1 / 3)
    got = bema.edge_with_tw_correction(sigma2, n_rows, n_cols / n_rows, t)
    assert got == pytest.approx(sigma2 * (mu + t * s) / n_rows, rel=1e-14, abs=0)


def test_edge_refuses_a_boolean_row_count():
    with pytest.raises(ValueError, match="n_rows"):
        bema.edge_with_tw_correction(1.0, True, 1.0, 0.4)
    assert bema.edge_with_tw_correction(1.0, 1, 1.0, 0.0) == 4.0


def test_tw_level_at_the_edge_of_double_precision():
    # 1 - 1e-16 rounds to 1 - 1.1e-16 < 1: a finite quantile; below ~5.5e-17 it rounds to 1
    assert math.isfinite(bema.tw_quantile(1e-16))
    with pytest.raises(ValueError, match="below double precision"):
        bema.tw_quantile(5e-17)


def test_errors_and_warnings_name_the_parameter_and_the_function():
    ev = noise(60, 40, 12)
    f = bema.fit(ev, 60, 40)
    with pytest.raises(ValueError, match=r"^tau must be in \(0.0, inf"):
        f.accepts(0.0)
    with pytest.raises(ValueError, match=r"^levels must be one of"):
        bema.quantile_levels(np.arange(1, 4), 3, "middle")
    with pytest.raises(ValueError, match=r"^W must have 2 dimension"):
        bema.fit_matrix(np.ones(5))
    W = np.random.default_rng(13).standard_normal((40, 30))
    with pytest.warns(DeprecationWarning, match=r"^bema\.fit_matrix: 'beta' is renamed 'tw_level'"):
        g = bema.fit_matrix(W, beta=0.2)
    assert g.tw_level == 0.2
    with pytest.warns(DeprecationWarning, match=r"^bema\.fit: 'beta' is renamed 'tw_level'"):
        bema.fit(ev, 60, 40, beta=0.2)


def test_fit_window_with_a_tiny_alpha_is_every_index():
    # alpha n below the 1e-9 rounding allowance: the window is 1..n, neither 0 nor n + 1
    assert bema.fit_window(10, 1e-12).tolist() == list(range(1, 11))


def test_mp_fit_error_window_from_the_first_eigenvalue_and_of_one_point():
    law = MarchenkoPastur(0.5, 1.0)
    # M = 8, alpha = 0.1: i_low = ceil(0.8) = 1, i_high = floor(7.2) = 7
    ev = designed_spectrum(law, 8, {1: 0.9, 8: 0.95})
    s, _ = bema.fit_errors(ev, 0.5, 1.0, 0.1, lambda_plus=law.upper)
    assert s == pytest.approx(0.9 / 8, rel=0, abs=1e-13)
    # M = 2, alpha = 0.45: i_low = i_high = 1, a window of one eigenvalue
    ev = designed_spectrum(law, 2, {1: 0.7})
    s, _ = bema.fit_errors(ev, 0.5, 1.0, 0.45, lambda_plus=law.upper)
    assert s == pytest.approx(0.7 / 2, rel=0, abs=1e-13)


def test_edge_errors_name_the_parameter():
    with pytest.raises(ValueError, match=r"^sigma2 must be a positive finite number"):
        bema.edge_with_tw_correction(0.0, 10, 1.0, 0.4)
    with pytest.raises(ValueError, match=r"^ratio must be a positive finite number"):
        bema.edge_with_tw_correction(1.0, 10, 0.0, 0.4)


def test_rounding_tolerance_follows_the_largest_eigenvalue_not_the_bulk():
    # one spike 1000x the bulk: a negative eigenvalue at 1e-13 of the spike (1e-10 of the bulk) is
    # rounding of an eigensolver on this matrix; 1e-10 of the spike is not
    ev = np.sort(noise(60, 40, 14))
    ev[-1] = 1000.0 * ev[-2]
    ok = ev.copy()
    ok[0] = -1e-13 * ev[-1]
    assert bema.fit(ok, 60, 40).eigenvalues[0] == 0.0
    bad = ev.copy()
    bad[0] = -1e-10 * ev[-1]
    with pytest.raises(ValueError, match=r"^eigenvalues: negative eigenvalue"):
        bema.fit(bad, 60, 40)
    with pytest.raises(ValueError, match=r"^eigenvalues must have 1 dimension"):
        bema.fit(ev.reshape(2, -1), 60, 40)


def test_fit_sigma2_names_levels():
    with pytest.raises(ValueError, match=r"^levels must be one of"):
        bema.fit_sigma2(np.linspace(0.5, 1.5, 20), 0.5, 0.1, levels="middle")


def test_dimension_errors_name_n_rows_and_n_cols():
    ev = noise(50, 40, 15)
    with pytest.raises(ValueError, match=r"^n_rows must be an integer in \[1, inf\], got 0"):
        bema.fit(ev, 0, 40)
    with pytest.raises(ValueError, match=r"^n_cols must be an integer in \[1, inf\], got 0"):
        bema.fit(ev, 50, 0)
    with pytest.raises(ValueError, match=r"^n_cols would need"):
        bema.fit(ev, 50, 2**40)
    # one row or one column is a valid shape; it has one nonzero eigenvalue, too few to fit
    with pytest.raises(ValueError, match="too few eigenvalues"):
        bema.fit([0.0, 0.0, 0.0, 0.0, 2.0], 1, 5)
    with pytest.raises(ValueError, match="too few eigenvalues"):
        bema.fit([2.0], 5, 1)


def test_option_errors_name_the_option():
    ev = noise(50, 40, 16)
    with pytest.raises(ValueError, match=r"^alpha must be in \(0.0, 0.5\), got 0.5"):
        bema.fit(ev, 50, 40, alpha=0.5)
    with pytest.raises(ValueError, match=r"^tw_level must be in \(0.0, 1.0\), got 1.0"):
        bema.fit(ev, 50, 40, tw_level=1.0)
    with pytest.raises(ValueError, match=r"^levels must be one of"):
        bema.fit(ev, 50, 40, levels="middle")


def test_deprecated_beta_warns_at_the_callers_line():
    ev = noise(50, 40, 17)
    with pytest.warns(DeprecationWarning) as rec:
        bema.fit(ev, 50, 40, beta=0.2)
    assert UNDER_MUTMUT or rec[0].filename == __file__
    W = np.random.default_rng(18).standard_normal((30, 20))
    with pytest.warns(DeprecationWarning) as rec:
        bema.fit_matrix(W, beta=0.2)
    assert UNDER_MUTMUT or rec[0].filename == __file__
