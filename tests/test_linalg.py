"""sims.linalg.top_singular_triplets against the dense SVD (an independent LAPACK route).

Tolerances: in float64 the certified bound eta/gap <= tol (1e-6 default, 1e-10 where asked) bounds
the sine of the angle to the true singular vectors, and |s - s_true| <= eta^2/gap; the dense SVD
itself is accurate to ~1e2 * eps * ||W||.  In float32 the certificate is 1e-3.
"""
import warnings

import numpy as np
import pytest
import torch

from sims.linalg import ConvergenceError, ConvergenceWarning, top_singular_triplets




def _random(shape, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=dtype) / shape[-2] ** 0.5


def _spiked(n, m, thetas, seed, batch=()):
    W = _random((*batch, n, m), seed)
    for i, t in enumerate(thetas):
        W[..., i, i] += t
    return W


def _dense(W, r):
    U, s, Vh = np.linalg.svd(W.double().numpy(), full_matrices=False)
    return U[..., :r], s[..., :r], np.swapaxes(Vh, -1, -2)[..., :r]


def _sin_angles(A, B):
    """sin of the angle between matching unit columns, sign-free; from d = min ||a -+ b|| =
    2 sin(angle/2), sin = d sqrt(1 - d^2/4) (sqrt(1 - cos^2) would lose half the digits)."""
    d = np.minimum(np.linalg.norm(A - B, axis=-2), np.linalg.norm(A + B, axis=-2))
    return d * np.sqrt(np.clip(1 - d**2 / 4, 0, None))


@pytest.mark.parametrize("n,m", [(300, 300), (200, 350), (350, 200)])
def test_matches_dense_svd_on_spiked_matrices(n, m):
    W = _spiked(n, m, [6.0, 4.0, 2.5, 1.6], seed=n + m)
    U, s, V, info = top_singular_triplets(W, 4, tol=1e-10, return_info=True)
    Ud, sd, Vd = _dense(W, 4)
    assert np.allclose(s.numpy(), sd, rtol=0, atol=1e-12 * sd[0])
    assert _sin_angles(U.numpy(), Ud).max() < 1e-9
    assert _sin_angles(V.numpy(), Vd).max() < 1e-9
    # orthonormal columns and the defining identity W v = s u
    assert np.allclose(U.T @ U, np.eye(4), atol=1e-12)
    assert np.allclose(V.T @ V, np.eye(4), atol=1e-12)
    assert torch.allclose(W @ V, U * s, atol=1e-12)
    assert bool(info.converged.all()) and float(info.vector_bound.max()) <= 1e-10


def test_matches_dense_svd_on_pure_noise_with_certificate():
    # no spikes: the top values are bulk-edge values with gaps ~ N^(-2/3); the certificate must
    # still bound the true errors (sin angle <= eta/gap, |ds| <= eta^2/gap, up to dense-SVD rounding)
    W = _random((250, 250), seed=7)
    U, s, V, info = top_singular_triplets(W, 3, tol=1e-8, return_info=True)
    Ud, sd, Vd = _dense(W, 3)
    assert np.all(np.abs(s.numpy() - sd) <= info.value_bound.numpy() + 1e-12)
    assert np.all(_sin_angles(V.numpy(), Vd) <= info.vector_bound.numpy() + 1e-9)
    assert np.all(_sin_angles(U.numpy(), Ud) <= info.vector_bound.numpy() + 1e-9)


def test_batched_equals_one_by_one():
    W = _spiked(180, 240, [5.0, 3.0, 1.5], seed=3, batch=(2, 3))
    U, s, V = top_singular_triplets(W, 3)
    assert U.shape == (2, 3, 180, 3) and s.shape == (2, 3, 3) and V.shape == (2, 3, 240, 3)
    for i in range(2):
        for j in range(3):
            Ud, sd, Vd = _dense(W[i, j], 3)
            assert np.allclose(s[i, j].numpy(), sd, atol=1e-10)
            assert _sin_angles(U[i, j].numpy(), Ud).max() < 1e-5  # default tol 1e-6
            u1, s1, v1 = top_singular_triplets(W[i, j], 3)
            # deterministic sign convention: identical up to the certified accuracy
            assert torch.allclose(u1, U[i, j], atol=1e-5) and torch.allclose(v1, V[i, j], atol=1e-5)


def test_float32_and_float64_option():
    W = _spiked(300, 300, [8.0, 5.0, 3.0], seed=11)
    Ud, sd, Vd = _dense(W, 3)
    U, s, V, info = top_singular_triplets(W.float(), 3, return_info=True)
    assert s.dtype == torch.float32 and info.tol == 1e-3
    assert np.allclose(s.numpy(), sd, rtol=1e-5)          # float32 rounding of ||W|| ~ 8
    assert _sin_angles(V.double().numpy(), Vd).max() <= 1e-3
    U64, s64, V64 = top_singular_triplets(W.float(), 3, dtype=torch.float64, tol=1e-10)
    assert s64.dtype == torch.float64
    # float64 computation on the float32-rounded matrix: compare with its own dense SVD
    _, sd32, _ = _dense(W.float().double(), 3)
    assert np.allclose(s64.numpy(), sd32, atol=1e-11)


def test_non_convergence_is_reported():
    W = _random((400, 400), seed=5)            # bulk-edge triplets: slow to certify
    with pytest.raises(ConvergenceError) as err:
        top_singular_triplets(W, 4, max_iter=2, tol=1e-12)
    assert not bool(err.value.info.converged.all())
    with pytest.warns(ConvergenceWarning):
        U, s, V, info = top_singular_triplets(W, 4, max_iter=2, tol=1e-12, on_fail="warn",
                                              return_info=True)
    assert not bool(info.converged.all())


def test_exact_multiplicity_cannot_be_certified():
    # singular value 5 twice: the vectors are not unique, the gap is 0, so no certificate
    W = torch.zeros(100, 100, dtype=torch.float64)
    W[0, 0] = W[1, 1] = 5.0
    W[2:, 2:] = _random((98, 98), seed=2) * 0.1
    with pytest.raises(ConvergenceError):
        top_singular_triplets(W, 2, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, s, _ = top_singular_triplets(W, 2, max_iter=5, on_fail="warn")
    assert np.allclose(s.numpy(), [5.0, 5.0], atol=1e-12)


def _with_spectrum(s, n, m, seed):
    """U diag(s) V^T with Haar-like orthogonal U (n x k), V (m x k): known singular triplets."""
    g = torch.Generator().manual_seed(seed)
    U = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64)).Q
    V = torch.linalg.qr(torch.randn(m, m, generator=g, dtype=torch.float64)).Q
    k = len(s)
    return U[:, :k] * torch.as_tensor(s, dtype=torch.float64) @ V[:, :k].T, U[:, :k], V[:, :k]


def test_certificate_of_a_near_degenerate_pair():
    """Singular values 8, 7.999, 5 (then a bulk <= 1), r = 2.  The gap of s_2 is its distance to
    s_1 (0.001), not to s_3 (2.999): a certificate that forgot the neighbour above would divide by
    3000x too large a gap (the _gaps mutant of issue 10 claimed 1.3e-13 where the true sine was 9e-13)."""
    k, seed = 60, 3
    spectrum = [8.0, 7.999, 5.0] + list(np.linspace(1.0, 0.01, k - 3))
    W, U, V = _with_spectrum(spectrum, 80, k, seed)
    Uh, s, Vh, info = top_singular_triplets(W, 2, return_info=True)
    # The certificate's gaps against the true ones: Ritz values are within value_bound of
    # 8 and 7.999, so each estimated gap is within 2 max(value_bound) of 0.001.
    slack = 2 * float(info.value_bound.max()) + 1e-12
    true_gaps = np.full(2, 8.0 - 7.999)
    assert np.all(np.abs(info.gap.numpy() - true_gaps) <= slack), info.gap
    # ... and its claim against the true error.  Wedin: sin(angle) <= eta / gap for exact
    # arithmetic; the computed vectors are exact for some W + E with ||E|| <= c eps ||W||, which
    # moves the vectors by ||E|| / gap more: allowance 100 eps ||W|| / 0.001 = 1.8e-10 << tol.
    allowance = 100 * np.finfo(float).eps * 8.0 / 1e-3
    for i in range(2):
        sin_v = torch.linalg.vector_norm(Vh[:, i] - (V[:, i] @ Vh[:, i]) * V[:, i])
        sin_u = torch.linalg.vector_norm(Uh[:, i] - (U[:, i] @ Uh[:, i]) * U[:, i])
        assert max(float(sin_u), float(sin_v)) <= float(info.vector_bound[i]) + allowance
    assert bool(info.converged.all()) and float(info.vector_bound.max()) <= 1e-6


def test_gap_rule_on_synthetic_ritz_values():
    """The rule itself: each of the first r values against both neighbours among r + 1."""
    from sims.linalg import _gaps
    got = _gaps(torch.tensor([[8.0, 7.999, 5.0], [9.0, 5.0, 4.999]], dtype=torch.float64), 2)
    assert torch.allclose(got, torch.tensor([[0.001, 0.001], [4.0, 0.001]], dtype=torch.float64),
                          rtol=0, atol=1e-12)


def test_small_matrix_uses_exact_svd():
    W = _random((20, 12), seed=1)
    U, s, V, info = top_singular_triplets(W, 3, return_info=True)
    _, sd, _ = _dense(W, 3)
    assert np.allclose(s.numpy(), sd, atol=1e-13) and info.iterations == 0


@pytest.mark.parametrize("bad,kwargs,match", [
    (torch.full((30, 30), float("nan"), dtype=torch.float64), {}, "NaN"),
    (torch.zeros(30, dtype=torch.float64), {}, "shape"),
    (torch.zeros(30, 30, dtype=torch.int64), {}, "floating"),
    (torch.zeros(30, 30), {"r": 0}, "r must"),
    (torch.zeros(30, 30), {"r": 31}, "r must"),
    (torch.zeros(30, 30), {"on_fail": "ignore"}, "on_fail"),
    (torch.zeros(30, 30), {"tol": 0.0}, "tol"),
    (torch.zeros(30, 30), {"oversample": 0}, "oversample"),
])
def test_bad_input(bad, kwargs, match):
    r = kwargs.pop("r", 2)
    with pytest.raises(ValueError, match=match):
        top_singular_triplets(bad, r, **kwargs)
