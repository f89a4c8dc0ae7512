"""Spiked model W = R + S (theory.spiked): closed forms, general D-transform, Monte Carlo, findings.

Independent references: the MP law integrated numerically (Cauchy transform), brute-force resolvent
traces of a sampled noise matrix, the paper's own Theorems A.3/A.4, and small Monte Carlo runs.
"""
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.sparse.linalg import eigsh

from tests.tolerances import t_factor
from theory import spiked as sp

RATIOS = [0.2, 0.5, 1.0, 2.0, 5.0]


# ----------------------------------------------------------------------------- closed form vs general
@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("var", [1.0, 0.3])
def test_general_d_transform_from_mp_reduces_to_closed_form(ratio, var):
    d = sp.DTransform.marchenko_pastur(ratio, var)
    assert d.threshold() == pytest.approx(sp.threshold(ratio, var), abs=1e-12)
    assert d.edge == pytest.approx(sp.edge(ratio, var), abs=1e-15)
    theta = sp.threshold(ratio, var) * np.array([0.5, 1.0, 1.01, 1.3, 2.0, 5.0, 30.0])
    np.testing.assert_allclose(d.singular_value_limit(theta), sp.singular_value_limit(theta, ratio, var),
                               rtol=1e-10, atol=1e-10)
    u_gen, v_gen = d.overlap_limits(theta)
    u_ref, v_ref = sp.overlap_limits(theta, ratio, var)
    # Near the threshold D'(rho) -> -inf (square-root edge), so allow 1e-8 there.
    np.testing.assert_allclose(u_gen, u_ref, atol=1e-8)
    np.testing.assert_allclose(v_gen, v_ref, atol=1e-8)


def test_mp_cauchy_transform_against_numerical_integration():
    # G(w) = int dmu_MP(x)/(w - x), with the MP density written out here independently.
    for ratio, var in [(0.5, 1.0), (1.0, 2.0), (3.0, 0.7)]:
        a, b = var * (1 - np.sqrt(ratio)) ** 2, var * (1 + np.sqrt(ratio)) ** 2
        pdf = lambda x: np.sqrt(max((b - x) * (x - a), 0.0)) / (2 * np.pi * var * ratio * x)  # noqa: E731
        atom = max(0.0, 1 - 1 / ratio)
        d = sp.DTransform.marchenko_pastur(ratio, var)
        for z in (1.05 * d.edge, 2 * d.edge):
            w = z * z
            G = quad(lambda x: pdf(x) / (w - x), a, b, epsabs=1e-14, epsrel=1e-13, limit=200)[0] + atom / w
            assert d.phi_cols(z) == pytest.approx(z * G, rel=1e-10)
            assert d.phi_rows(z) == pytest.approx(z * (ratio * G + (1 - ratio) / w), rel=1e-10)


def test_paper_theorems_a3_a4_equal_rectangular_at_ratio_one():
    theta = np.array([0.3, 0.99, 1.0, 1.2, 2.0, 7.0])
    np.testing.assert_allclose(sp.theorem_a3_singular_value_limit(theta), sp.singular_value_limit(theta, 1.0),
                               rtol=1e-15)
    u, v = sp.overlap_limits(theta, 1.0)
    np.testing.assert_allclose(u, sp.theorem_a4_overlap_limit(theta), atol=1e-15)
    np.testing.assert_allclose(v, sp.theorem_a4_overlap_limit(theta), atol=1e-15)


@pytest.mark.parametrize("ratio", RATIOS)
def test_continuity_at_threshold_and_monotonicity(ratio):
    thr = sp.threshold(ratio)
    assert sp.singular_value_limit(thr * (1 + 1e-9), ratio) == pytest.approx(sp.edge(ratio), abs=1e-6)
    u, v = sp.overlap_limits(thr * (1 + 1e-9), ratio)
    assert abs(u) < 1e-6 and abs(v) < 1e-6
    theta = np.linspace(thr * 1.001, 20, 200)
    assert np.all(np.diff(sp.singular_value_limit(theta, ratio)) > 0)
    u, v = sp.overlap_limits(theta, ratio)
    assert np.all(np.diff(u) > 0) and np.all(np.diff(v) > 0) and np.all(u < 1) and np.all(v < 1)


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("var", [1.0, 4.0])
def test_inverse_map_round_trip(ratio, var):
    theta = sp.threshold(ratio, var) * np.array([1.0, 1.001, 1.5, 3.0, 50.0])
    back = sp.theta_from_singular_value(sp.singular_value_limit(theta, ratio, var), ratio, var)
    # At the threshold itself the map has a double root (d sigma'/d theta = 0): accuracy ~sqrt(eps).
    np.testing.assert_allclose(back[1:], theta[1:], rtol=1e-9)
    assert back[0] == pytest.approx(theta[0], rel=1e-7)


@pytest.mark.parametrize("ratio", [0.3, 1.0, 4.0])
def test_general_inverse_map_equals_closed_form(ratio):
    d = sp.DTransform.marchenko_pastur(ratio, var=2.0)
    sv = d.edge * np.array([1.0001, 1.1, 2.0, 10.0])
    np.testing.assert_allclose(d.theta_from_singular_value(sv), sp.theta_from_singular_value(sv, ratio, 2.0),
                               rtol=1e-11)


@pytest.mark.parametrize("kind", ["mp", "empirical"])
def test_d_inverse_round_trip(kind):
    if kind == "mp":
        d = sp.DTransform.marchenko_pastur(0.5)
        ys = d.at_edge() * np.array([0.99, 0.5, 0.1, 1e-3])
    else:
        rng = np.random.default_rng(3)
        d = sp.DTransform.from_noise_matrix(rng.normal(0, 1 / np.sqrt(300), (300, 150)))
        ys = np.array([10.0, 1.0, 0.3, 1e-3])
    z = d.inverse(ys)
    np.testing.assert_allclose(d(z), ys, rtol=1e-11)
    assert np.all(z > d.edge)


def test_empirical_transform_matches_brute_force_resolvent():
    rng = np.random.default_rng(5)
    N, M = 120, 80
    R = rng.normal(0, 1 / np.sqrt(N), (N, M))
    d = sp.DTransform.from_noise_matrix(R)
    for z in (1.1 * d.edge, 3.0 * d.edge):
        phi_N = np.trace(z * np.linalg.inv(z * z * np.eye(N) - R @ R.T)) / N
        phi_M = np.trace(z * np.linalg.inv(z * z * np.eye(M) - R.T @ R)) / M
        assert d.phi_rows(z) == pytest.approx(phi_N, rel=1e-11)
        assert d.phi_cols(z) == pytest.approx(phi_M, rel=1e-11)
        h = 1e-6 * z  # derivative by central differences: error ~ h^2 |D'''| + eps/h, far below 1e-6
        assert d.derivative(z) == pytest.approx((d(z + h) - d(z - h)) / (2 * h), rel=1e-6)


def test_empirical_transform_at_n2000_close_to_mp_limit():
    # D_emp(z) - D(z) is a linear spectral statistic divided by N: by the Bai-Silverstein CLT it is
    # O(1/N) (O(1) Gaussian fluctuation + O(1) mean for real Gaussian entries, z away from the edge).
    # Measured N * |difference| over 24 draws (N = 250..2000, c = 0.5, theta = 3, z = 1.5 edge):
    # D: <= 0.25, sigma': <= 1.0, overlaps: <= 0.5. Bounds below: 1/N, 3/N, 1.5/N (factor ~3 margin).
    N, M = 2000, 1000
    rng = np.random.default_rng(11)
    R = rng.normal(0, 1 / np.sqrt(N), (N, M))
    sv = np.sqrt(np.clip(np.linalg.eigvalsh(R.T @ R), 0, None))
    emp = sp.DTransform.from_singular_values(sv, N, M)
    mp = sp.DTransform.marchenko_pastur(M / N)
    z = 1.5 * mp.edge
    assert abs(emp(z) - mp(z)) < 1 / N
    theta = np.array([2.0, 3.0])
    assert np.max(np.abs(emp.singular_value_limit(theta) - sp.singular_value_limit(theta, M / N))) < 3 / N
    for got, ref in zip(emp.overlap_limits(theta), sp.overlap_limits(theta, M / N)):
        assert np.max(np.abs(got - ref)) < 1.5 / N


def test_empirical_threshold_needs_edge_above_spectrum():
    rng = np.random.default_rng(1)
    R = rng.normal(0, 1 / np.sqrt(200), (200, 100))
    d = sp.DTransform.from_noise_matrix(R)
    assert d.at_edge() == np.inf
    with pytest.raises(ValueError, match="diverges"):
        d.threshold()
    sv = np.linalg.svd(R, compute_uv=False)
    d2 = sp.DTransform.from_singular_values(sv, 200, 100, edge=1.2 * sv.max())
    assert 0 < d2.threshold() < np.inf


# ----------------------------------------------------------------------------- Monte Carlo (fast)
def _top_triplet(W: np.ndarray, max_iter: int = 2000, tol: float = 1e-13):
    """Top singular triplet of each W[t] (T, N, M) by batched power iteration on W^T W. The outlier is
    separated from the bulk edge (ratio (edge/sigma')^2 <= 0.7 here), so it converges geometrically."""
    T, N, M = W.shape
    v = np.ones((T, M)) / np.sqrt(M)
    for _ in range(max_iter):
        u = np.einsum("tnm,tm->tn", W, v)
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        v_new = np.einsum("tnm,tn->tm", W, u)
        v_new /= np.linalg.norm(v_new, axis=1, keepdims=True)
        done = np.max(1 - np.abs(np.einsum("tm,tm->t", v, v_new))) < tol
        v = v_new
        if done:
            break
    else:
        raise AssertionError("power iteration did not converge")
    u = np.einsum("tnm,tm->tn", W, v)
    s = np.linalg.norm(u, axis=1)
    return u / s[:, None], s, v


@pytest.mark.parametrize("n_rows,n_cols", [(400, 200), (200, 400), (400, 400)])
@pytest.mark.parametrize("theta", [2.0, 3.0])
def test_monte_carlo_rectangular_gaussian(n_rows, n_cols, theta):
    # Tolerance: per trial the outlier sigma' and the overlaps fluctuate at O(N^{-1/2}) (Gaussian CLT for
    # outliers; observed sd * sqrt(N) ~ 0.9 for sigma', <= 0.5 for overlaps). The mean of T = 16 trials
    # then has standard error sd_hat/sqrt(T); the two-sided 1e-4 quantile of t_15 (5.24 standard errors,
    # tests/tolerances.t_factor: P(false alarm) <= 1e-4 per check; it was 5, p ~ 1.6e-4)
    # plus a finite-N bias budget 3/N (bias is O(1/N); measured N * |bias| <= 2.4 +- 2, 60 trials at
    # N = 100..400). Discrimination: at c = 1/2, theta = 2 the square formula (A.3) is off by 0.13 and
    # swapping the two overlap formulas by 0.086, versus tolerances ~0.06 and ~0.03.
    T = 16
    rng = np.random.default_rng(2024 + n_rows + 7 * n_cols + int(10 * theta))
    N, M = n_rows, n_cols
    R = rng.normal(0, 1 / np.sqrt(N), (T, N, M))
    u0 = rng.normal(size=(T, N))
    u0 /= np.linalg.norm(u0, axis=1, keepdims=True)
    v0 = rng.normal(size=(T, M))
    v0 /= np.linalg.norm(v0, axis=1, keepdims=True)
    u, s, v = _top_triplet(R + theta * u0[:, :, None] * v0[:, None, :])
    observed = [s, np.einsum("tn,tn->t", u, u0) ** 2, np.einsum("tm,tm->t", v, v0) ** 2]
    limits = [sp.singular_value_limit(theta, M / N), *sp.overlap_limits(theta, M / N)]
    for name, obs, lim in zip(["sigma'", "|<u,u'>|^2", "|<v,v'>|^2"], observed, limits):
        tol = t_factor(T) * obs.std(ddof=1) / np.sqrt(T) + 3 / N
        assert abs(obs.mean() - lim) < tol, f"{name}: mean {obs.mean():.4f} vs limit {lim:.4f} (tol {tol:.4f})"


def _wigner(n, offdiag_var, diag_var, T, rng):
    A = rng.normal(0, np.sqrt(offdiag_var), (T, n, n))
    A = np.triu(A, 1)
    A = A + np.swapaxes(A, 1, 2)
    idx = np.arange(n)
    A[:, idx, idx] = rng.normal(0, np.sqrt(diag_var), (T, n))
    return A


def test_monte_carlo_wigner_appendix_b2():
    # sigma^2 = n * offdiag variance (semicircle [-2 sigma, 2 sigma]). Tolerance as above: 5 standard
    # errors of the mean of T trials + O(1/n) bias budget 3/n.
    n, T, sigma = 400, 8, 1.3
    rng = np.random.default_rng(7)
    A = _wigner(n, sigma**2 / n, 2 * sigma**2 / n, T, rng)
    for theta in (2.0, 3.0):
        u0 = rng.normal(size=(T, n))
        u0 /= np.linalg.norm(u0, axis=1, keepdims=True)
        lam, ov = np.empty(T), np.empty(T)
        for k in range(T):  # Lanczos for the top eigenpair only (a full eigh is needlessly slow)
            val, vec = eigsh(A[k] + theta * np.outer(u0[k], u0[k]), k=1, which="LA", tol=1e-12)
            lam[k], ov[k] = val[0], (vec[:, 0] @ u0[k]) ** 2
        for obs, lim in ((lam, sp.wigner_eigenvalue_limit(theta, sigma)), (ov, sp.wigner_overlap_limit(theta, sigma))):
            assert abs(obs.mean() - lim) < 5 * obs.std(ddof=1) / np.sqrt(T) + 3 / n


def test_paper_example_4_3_variance_gives_sqrt2_sigma():
    # FINDING. Example 4.3 as printed: real symmetric R, variance sigma^2/n on the diagonal and
    # sigma^2/(2n) off it, and "sqrt(lambda_+) = 2 sigma". For real symmetric R the semicircle radius is
    # 2 sqrt(n * offdiag var) = sqrt(2) sigma. lambda_max - edge ~ edge_scale n^{-2/3} TW_1 with
    # edge_scale = sigma_eff: mean over T = 8 draws lies within sigma_eff n^{-2/3} (|E TW1| + 5 sd/sqrt 8)
    # ~ 0.13 of sqrt(2) sigma; the paper's 2 sigma is 0.76 away.
    n, T, sigma = 400, 8, 1.3
    rng = np.random.default_rng(8)
    A = _wigner(n, sigma**2 / (2 * n), sigma**2 / n, T, rng)
    lam_max = np.mean([eigsh(A[k], k=1, which="LA", tol=1e-12)[0][0] for k in range(T)])
    sigma_eff = sigma / np.sqrt(2)
    tol = sigma_eff * n ** (-2 / 3) * (1.21 + 5 * 1.27 / np.sqrt(T))
    assert abs(lam_max - 2 * sigma_eff) < tol
    assert abs(lam_max - sp.wigner_edge(sigma)) > 0.5


def test_paper_a5_as_printed_contradicts_a4_at_ratio_one():
    # FINDING. (A.5) as printed: |<v,v'>|^2 -> -2 phi_mu(rho) / (theta^2 D'_{mu~}(rho)) with
    # mu~ = c mu + (1 + c) delta_0. At c = 1 that is mu~ = mu + 2 delta_0 (mass 3), phi_{mu~} = phi + 2/z,
    # D_{mu~} = phi_{mu~}^2; the result must equal Theorem A.4's 1 - 1/theta^2 but does not.
    # BGN Thm 2.9 has mu~ = c mu + (1 - c) delta_0 in the NUMERATOR's phi (mu~ = mu at c = 1).
    d = sp.DTransform.marchenko_pastur(1.0)
    theta = 2.0
    rho = d.inverse(1 / theta**2)
    phi = d.phi_cols(rho)
    h = 1e-6
    phi_tilde = lambda z: d.phi_cols(z) + 2 / z  # noqa: E731
    dD_tilde = (phi_tilde(rho + h) ** 2 - phi_tilde(rho - h) ** 2) / (2 * h)
    printed = -2 * phi / (theta**2 * dD_tilde)
    correct = -2 * phi / (theta**2 * d.derivative(rho))
    assert correct == pytest.approx(sp.theorem_a4_overlap_limit(theta), abs=1e-10)
    assert abs(printed - sp.theorem_a4_overlap_limit(theta)) > 0.1


# ----------------------------------------------------------------------------- API and validation
def test_vectorised_shapes_and_scalars():
    assert isinstance(sp.singular_value_limit(2.0, 0.5), float)
    th = np.full((2, 3), 2.0)
    assert sp.singular_value_limit(th, 0.5).shape == (2, 3)
    u, v = sp.overlap_limits(th, 0.5)
    assert u.shape == v.shape == (2, 3)
    assert sp.DTransform.marchenko_pastur(0.5).singular_value_limit(th).shape == (2, 3)
    assert sp.singular_value_limit(0.0, 2.0) == sp.edge(2.0)
    assert sp.overlap_limits(0.0, 2.0) == (0.0, 0.0)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: sp.threshold(0.0), "ratio"),
        (lambda: sp.threshold(-1.0), "ratio"),
        (lambda: sp.singular_value_limit(2.0, np.nan), "ratio"),
        (lambda: sp.singular_value_limit(-1.0, 0.5), ">= 0"),
        (lambda: sp.singular_value_limit([1.0, np.nan], 0.5), "finite"),
        (lambda: sp.overlap_limits(2.0, 0.5, var=0.0), "var"),
        (lambda: sp.theta_from_singular_value(1.5, 1.0), "below the bulk edge"),
        (lambda: sp.DTransform.from_singular_values(np.ones(5), 10, 6), "singular values"),
        (lambda: sp.DTransform.from_singular_values([1.0, np.nan], 2, 2), "finite"),
        (lambda: sp.DTransform.marchenko_pastur(0.5)(1.0), "z > edge"),
        (lambda: sp.DTransform.marchenko_pastur(1.0).inverse(2.0), "below D"),
        (lambda: sp.wigner_eigenvalue_limit(2.0, sigma=-1.0), "sigma"),
        (lambda: sp.wigner_overlap_limit(np.nan), "finite"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
