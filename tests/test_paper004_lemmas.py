"""sims.paper004_lemmas: paper 004's lemmas against independent computations."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from sims import paper004_lemma6 as lemma6
from sims import paper004_lemmas as p4


def test_conv_matrix_equals_torch_circular_convolution():
    # Independent of the module's own direct formula: torch's cross-correlation with wrap-around.
    rng = np.random.default_rng(3)
    kernel = rng.standard_normal((3, 2, 3, 3))
    x = rng.standard_normal((2, 5, 5))
    w = p4.conv_matrix(kernel, 5)
    xt = torch.from_numpy(x)[None]
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, (0, 2, 0, 2), mode="circular"),
                                   torch.from_numpy(kernel))[0].numpy()
    assert np.allclose(w @ x.ravel(), y.ravel(), atol=1e-12)


def test_single_channel_conv_singular_values_are_dft_magnitudes():
    # d = 1: W is doubly circulant, its singular values are |2-D DFT of K| (a textbook fact).
    rng = np.random.default_rng(4)
    kernel = rng.standard_normal((1, 1, 2, 2))
    k = np.zeros((4, 4))
    k[:2, :2] = kernel[0, 0]
    expected = np.sort(np.abs(np.fft.fft2(k)).ravel())[::-1]
    assert np.allclose(np.linalg.svd(p4.conv_matrix(kernel, 4), compute_uv=False), expected)
    rows, (v,) = p4.lemma_7(rng)
    assert v.verdict == "holds"


@pytest.mark.parametrize("n, r", [(5, 1), (5, 5), (30, 7)])
def test_order_statistic_moments_match_lemma_1_as_printed(n, r):
    a = 1.5
    assert p4.order_stat_moment(n, r, 1, a) == pytest.approx(a ** 2 * (r + 1) * r / ((n + 2) * (n + 1)))
    assert p4.order_stat_moment(n, r, 2, a) == pytest.approx(
        a ** 4 * (r + 3) * (r + 2) * (r + 1) * r / ((n + 4) * (n + 3) * (n + 2) * (n + 1)))


def test_lemma_5_counterexample_is_real():
    # Bin(10^4, 0.1), mu = 1000, delta = 0.1: exact P(X >= 1100) = 5.3e-4 against the printed
    # exp(-delta^2 mu / (1 + delta)) = 1.1e-4; the (2 + delta) form gives 8.6e-3 and holds.
    tail = stats.binom.sf(1099, 10**4, 0.1)
    assert tail > math.exp(-0.01 * 1000 / 1.1)
    assert tail < math.exp(-0.01 * 1000 / 2.1)
    _, (v,) = p4.lemma_5()
    assert v.verdict == "fails" and v.corrected


def test_alpha_bound_reproduces_the_papers_numbers():
    assert p4.alpha_bound(128) == pytest.approx(0.6729, abs=5e-5)
    assert p4.alpha_bound(1024) == pytest.approx(0.7205, abs=5e-5)


def test_no_repeat_probability_matches_enumeration():
    # D = 9 entries, N = 3 draws: P(no repeat) = 9*8*7 / 9^3 by counting ordered draws.
    from itertools import product
    cells = range(9)
    count = sum(len(set(t)) == 3 for t in product(cells, repeat=3))
    assert count / 9 ** 3 == pytest.approx(9 * 8 * 7 / 9 ** 3)
    rows, _ = p4.text_e2_1(ds=(3,), alphas=(0.5,))   # D = 9, N = floor(9^0.5) = 3
    assert 10 ** rows[0]["log10_p_no_repeat"] == pytest.approx(count / 9 ** 3)


def test_table_1_split_into_approximately_bounded_and_glorots_variance():
    rows, (approx, glorot) = p4.table_1()
    assert approx.claim == "004:table:1" and glorot.claim == "004:text:D.1.1"
    # 0.0035 / (3/1024) = 1.195: within the declared 20%, above a strict bound
    assert approx.measured == pytest.approx(0.0035 * 1024 / 3) and approx.verdict == "holds"
    assert approx.measured > 1 and approx.bound == 1 + p4.TABLE_1_TOLERANCE
    # Glorot & Bengio (2010), normalised init: Var U[-a, a] = a^2/3 with a = sqrt(6/(n_in + n_out))
    a = math.sqrt(6 / 2048)
    assert glorot.measured == pytest.approx(a ** 2 / 3) == pytest.approx(1 / 1024)
    assert glorot.verdict == "fails" and "3.58 x Glorot's" in glorot.corrected
    assert max(r["ratio_to_glorot"] for r in rows) == pytest.approx(0.0035 * 1024)


# ------------------------------------------------------------------ Appendix E.2 (no repeat), vacuity

def test_text_e21_vacuous_at_the_papers_width_not_at_a_small_one():
    """004:text:E.2.1: the factor P(no repeat) = D!/((D-N)! D^N) multiplies the guarantees.  At
    d = 1024, alpha = 0.4: N = floor(2^(20*0.6)) = 3981, P ~ exp(-N^2/(2D)) = exp(-7.56) = 5e-4 <= 1%:
    the premise of a usable factor is never met, vacuous.  At d = 64, alpha = 0.4: N = 147,
    P ~ exp(-2.64) = 0.07 > 1%: the factor is usable there, so the rule does not call it vacuous."""
    _, (wide,) = p4.text_e2_1(ds=(1024,), alphas=(0.25, 0.4))
    assert wide.verdict == "vacuous" and wide.protocol["rule"] == "condition"
    n = math.floor(1024 ** (2 * 0.6))
    exact = sum(math.log1p(-k / 1024 ** 2) for k in range(n)) / math.log(10)   # prod (1 - k/D), by hand
    assert wide.measured == pytest.approx(exact, rel=1e-9)
    _, (narrow,) = p4.text_e2_1(ds=(64,), alphas=(0.4,))
    assert narrow.verdict == "inconclusive" and 10 ** narrow.measured > 0.01


# ------------------------------------------------------------------ Lemma 6 at any n (exact tails)

def test_log_binomial_tail_matches_scipy_where_scipy_is_exact():
    for n_balls, n, k in ((50, 10, 16), (2000, 100, 61), (10**6, 10**4, 301)):
        assert lemma6.log_binomial_tail(n_balls, n, k) == pytest.approx(
            float(stats.binom.logsf(k - 1, n_balls, 1 / n)), rel=1e-10)
    with pytest.raises(ValueError, match="k"):
        lemma6.log_binomial_tail(10, 5, 1)   # not a right tail: k <= N/n


def test_log_binomial_tail_at_n_1e45_matches_high_precision_arithmetic():
    """The float64 log-space sum against mpmath at 80 digits (an independent implementation):
    N = ceil(1e45 log 1e45) balls, P(X >= k) = sum_j C(N, j) p^j (1 - p)^(N - j)."""
    import mpmath  # a dependency of sympy, which theory/ requires: never missing, never skipped
    mpmath.mp.dps = 80
    n = 10 ** 45
    big = lemma6.min_balls(n)
    assert big == int(mpmath.ceil(mpmath.mpf(n) * mpmath.log(n)))
    k = 3 * big // n + 1
    p = mpmath.mpf(1) / n
    tail = mpmath.fsum(mpmath.binomial(big, j) * p ** j * (1 - p) ** (big - j) for j in range(k, k + 200))
    assert lemma6.log_binomial_tail(big, n, k) == pytest.approx(float(mpmath.log(tail)), rel=1e-11)


def test_failure_bounds_bracket_the_enumerated_probability():
    """n = 4 bins, N = 6 balls (>= 4 log 4): P(max load > 4.5) by enumerating all 4^6 throws lies
    between the negative-association lower bound 1 - (1 - q)^n and the union bound n q."""
    from itertools import product
    loads = [np.bincount(t, minlength=4).max() for t in product(range(4), repeat=6)]
    exact = np.mean(np.array(loads) > 4.5)
    row = lemma6.max_load_failure(4, N=6)
    claim = 4 ** (-1 / 3)
    assert exact == (4 + 4 * 3 * 6) / 4 ** 6   # all six in one bin, or five in one plus one elsewhere
    # two bins cannot both hold five of six balls, so here the union bound is exact (to rounding)
    assert row["union_over_claim"] * claim == pytest.approx(exact, rel=1e-12)
    assert row["lower_over_claim"] * claim < exact


def test_lemma6_fails_at_large_n_and_the_corrected_statements_hold_there():
    """The issue's number: at n = 1e45, N = ceil(n log n), n P / n^(-1/3) = 1.40 (exact tails); the
    first grid point above 1 is n ~ 4.5e38.  The corrected statements, checked with the same exact
    tails: the failure probability stays below n^-(3 log 3 - 3) with N = ceil(n log n), and below
    n^(-1/3) with N = ceil(1.0289 n log n)."""
    at_45 = lemma6.max_load_failure(10 ** 45)
    assert at_45["union_over_claim"] == pytest.approx(1.395, abs=1e-3)
    assert at_45["lower_over_claim"] == pytest.approx(at_45["union_over_claim"], rel=1e-12)
    _, (v,) = p4.lemma_6_large_n()
    assert v.claim == "004:lemma:6" and v.verdict == "fails" and v.measured > 1
    assert 38 < v.extra["log10_n"] < 39 and "3 log 3 - 3" in v.corrected
    for e in (39, 45, 60):
        n = 10 ** e
        row = lemma6.max_load_failure(n)
        assert row["union_over_claim"] * n ** (-1 / 3) <= n ** (-lemma6.CORRECTED_EXPONENT)
        more = math.ceil(lemma6.CORRECTED_BALLS_FACTOR * math.log(n) * n)   # float N: 1e-16 relative
        assert lemma6.max_load_failure(n, N=more)["union_over_claim"] <= 1


def test_lemma6_holds_where_the_scan_finds_no_counterexample():
    """Planted range: n up to 1e17 only, where the exact union bound stays below n^(-1/3)."""
    _, (v,) = p4.lemma_6_large_n(decades=(1.0, 17.0))
    assert v.verdict == "holds" and v.measured < 1 and not v.corrected
