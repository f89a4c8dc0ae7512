"""sims.banded: the banded (block tridiagonal) reduced sampler against the dense engine, in distribution.

Two-sample Kolmogorov-Smirnov tests of s_1, s_2, |<u_i, u'_i>|^2, |<v_i, v'_i>|^2 (i = 1, 2) and
||W_r - S||_2 for square, c = M/N = 0.5 and c = 2 shapes: 7 statistics x 3 shapes = 21 tests, each at
alpha = 1e-4 / 21 (Bonferroni), so the family-wise false-alarm probability is <= 1e-4 under any seed.
Power: with 400 + 400 trials the KS critical distance at alpha = 4.8e-6 is sqrt(ln(2/alpha) (n+m)/(2nm))
= 0.18, so a sampler whose law differs from the dense one by a sup-cdf distance >= 0.18 is caught with
probability >= 1/2 (e.g. a chi degree of freedom off by r in every block moves the top singular value's
law by more than that at these sizes; a missing spike block or wrong scale moves it by ~1).
"""
import numpy as np
import pytest
import torch
from scipy import stats

from sims import banded
from sims.linalg import top_singular_triplets
from sims.noise import spiked_matrix

THETA = np.array([3.0, 2.0])
TRIALS = 400
ALPHA = 1e-4 / 21
SHAPES = [(40, 40), (60, 30), (30, 60)]


def _banded_stats(n_rows, n_cols, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(TRIALS):
        B = banded.banded_spiked(THETA, n_rows, n_cols, rng).toarray()
        U, s, Vt = np.linalg.svd(B)
        r = THETA.size
        Uh, Vh = U[:r, :r], Vt[:r, :r].T
        rows.append([s[0], s[1], Uh[0, 0] ** 2, Uh[1, 1] ** 2, Vh[0, 0] ** 2, Vh[1, 1] ** 2,
                     banded.truncation_error(s[:r], Uh, Vh, THETA)])
    return np.array(rows)


def _dense_stats(n_rows, n_cols, seed):
    sample = spiked_matrix(THETA, n_rows, n_cols, seed=seed, trials=range(TRIALS))
    U, s, V = top_singular_triplets(sample.W, 2)
    U, s, V = U.numpy(), s.numpy(), V.numpy()
    rows = []
    for b in range(TRIALS):
        Uh, Vh = U[b, :2, :2], V[b, :2, :2]
        rows.append([s[b, 0], s[b, 1], Uh[0, 0] ** 2, Uh[1, 1] ** 2, Vh[0, 0] ** 2, Vh[1, 1] ** 2,
                     banded.truncation_error(s[b], Uh, Vh, THETA)])
    return np.array(rows)


@pytest.mark.parametrize("n_rows,n_cols", SHAPES)
def test_banded_law_matches_dense_engine(n_rows, n_cols):
    torch.manual_seed(0)
    fast = _banded_stats(n_rows, n_cols, seed=11)
    dense = _dense_stats(n_rows, n_cols, seed=12)
    names = ["s1", "s2", "u1", "u2", "v1", "v2", "opnorm"]
    pvalues = {name: stats.ks_2samp(fast[:, k], dense[:, k]).pvalue for k, name in enumerate(names)}
    assert min(pvalues.values()) > ALPHA, pvalues


def test_reduced_shape_and_frobenius_mean():
    # Exact identity: E ||B||_F^2 = E ||W||_F^2 = M var_scale + sum theta^2 (each block's entries have
    # the variance / chi^2 mean of the rows or columns they replace). Var ||W||_F^2 = 2M/N + 4 sum
    # theta^2 / N (Gaussian entries of variance 1/N, cross terms 2 theta R_ii); the mean of 500 draws is
    # within 5 sd of M + sum theta^2 except with probability < 1e-6 (near-Gaussian: chi^2 sum of NM terms).
    rng = np.random.default_rng(3)
    for n_rows, n_cols in [(60, 30), (30, 60), (25, 25)]:
        A = banded.banded_spiked(THETA, n_rows, n_cols, rng).toarray()
        # rows/columns beyond min(N, M) + r are the zero padding to whole blocks
        assert np.count_nonzero(np.abs(A).sum(1)) <= min(n_rows, n_cols) + THETA.size
        assert np.count_nonzero(np.abs(A).sum(0)) <= min(n_rows, n_cols) + THETA.size
        fro = [banded.banded_spiked(THETA, n_rows, n_cols, rng).frobenius_sq() for _ in range(500)]
        sd = np.sqrt((2 * n_cols + 4 * np.sum(THETA**2)) / n_rows / 500)
        assert abs(np.mean(fro) - (n_cols + np.sum(THETA**2))) < 5 * sd


def test_truncation_error_matches_dense_norm():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((30, 20)) / np.sqrt(30)
    W[0, 0] += 3.0
    W[1, 1] += 2.0
    U, s, Vt = np.linalg.svd(W)
    Wr = (U[:, :2] * s[:2]) @ Vt[:2]
    S = np.zeros_like(W)
    S[0, 0], S[1, 1] = 3.0, 2.0
    want = np.linalg.norm(Wr - S, 2)
    assert banded.truncation_error(s[:2], U[:2, :2], Vt[:2, :2].T, THETA) == pytest.approx(want, rel=1e-12)


def test_one_trial_runs_and_rejects_bad_input():
    out = banded.one_trial(THETA, 2000, 1000, seed=0, trial=0)
    assert out.s[0] > out.s[1] > 1 + np.sqrt(0.5)
    with pytest.raises(ValueError, match="theta"):
        banded.one_trial([2.0, 2.0], 100, 100, seed=0, trial=0)
    with pytest.raises(ValueError, match="n_rows"):
        banded.one_trial(THETA, 0, 100, seed=0, trial=0)
