"""sims.qk_lemmas: paper 004's lemmas against independent computations."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from sims import qk_lemmas as qk


def test_conv_matrix_equals_torch_circular_convolution():
    # Independent of the module's own direct formula: torch's cross-correlation with wrap-around.
    rng = np.random.default_rng(3)
    kernel = rng.standard_normal((3, 2, 3, 3))
    x = rng.standard_normal((2, 5, 5))
    w = qk.conv_matrix(kernel, 5)
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
    assert np.allclose(np.linalg.svd(qk.conv_matrix(kernel, 4), compute_uv=False), expected)
    rows, (v,) = qk.lemma_7(rng)
    assert v.verdict == "holds"


@pytest.mark.parametrize("n, r", [(5, 1), (5, 5), (30, 7)])
def test_order_statistic_moments_match_lemma_1_as_printed(n, r):
    a = 1.5
    assert qk.order_stat_moment(n, r, 1, a) == pytest.approx(a ** 2 * (r + 1) * r / ((n + 2) * (n + 1)))
    assert qk.order_stat_moment(n, r, 2, a) == pytest.approx(
        a ** 4 * (r + 3) * (r + 2) * (r + 1) * r / ((n + 4) * (n + 3) * (n + 2) * (n + 1)))


def test_lemma_5_counterexample_is_real():
    # Bin(10^4, 0.1), mu = 1000, delta = 0.1: exact P(X >= 1100) = 5.3e-4 against the printed
    # exp(-delta^2 mu / (1 + delta)) = 1.1e-4; the (2 + delta) form gives 8.6e-3 and holds.
    tail = stats.binom.sf(1099, 10**4, 0.1)
    assert tail > math.exp(-0.01 * 1000 / 1.1)
    assert tail < math.exp(-0.01 * 1000 / 2.1)
    _, (v,) = qk.lemma_5()
    assert v.verdict == "fails" and v.corrected


def test_alpha_bound_reproduces_the_papers_numbers():
    assert qk.alpha_bound(128) == pytest.approx(0.6729, abs=5e-5)
    assert qk.alpha_bound(1024) == pytest.approx(0.7205, abs=5e-5)


def test_no_repeat_probability_matches_enumeration():
    # D = 9 entries, N = 3 draws: P(no repeat) = 9*8*7 / 9^3 by counting ordered draws.
    from itertools import product
    cells = range(9)
    count = sum(len(set(t)) == 3 for t in product(cells, repeat=3))
    assert count / 9 ** 3 == pytest.approx(9 * 8 * 7 / 9 ** 3)
    rows, _ = qk.text_e2_1(ds=(3,), alphas=(0.5,))   # D = 9, N = floor(9^0.5) = 3
    assert 10 ** rows[0]["log10_p_no_repeat"] == pytest.approx(count / 9 ** 3)


def test_table_1_split_into_approximately_bounded_and_glorots_variance():
    rows, (approx, glorot) = qk.table_1()
    assert approx.claim == "004:table:1" and glorot.claim == "004:text:D.1.1"
    # 0.0035 / (3/1024) = 1.195: within the declared 20%, above a strict bound
    assert approx.measured == pytest.approx(0.0035 * 1024 / 3) and approx.verdict == "holds"
    assert approx.measured > 1 and approx.bound == 1 + qk.TABLE_1_TOLERANCE
    # Glorot & Bengio (2010), normalised init: Var U[-a, a] = a^2/3 with a = sqrt(6/(n_in + n_out))
    a = math.sqrt(6 / 2048)
    assert glorot.measured == pytest.approx(a ** 2 / 3) == pytest.approx(1 / 1024)
    assert glorot.verdict == "fails" and "3.58 x Glorot's" in glorot.corrected
    assert max(r["ratio_to_glorot"] for r in rows) == pytest.approx(0.0035 * 1024)
