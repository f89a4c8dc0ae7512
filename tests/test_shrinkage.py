"""theory.shrinkage and theory.shrinkage_symbolic against published constants, closed forms, direct
minimisation of the per-spike loss, and the independent implementation ``optht`` (test extra).

Published constants used (Gavish & Donoho 2014/2017 abstracts): lambda*(1) = 4/sqrt(3) ~ 2.309,
omega(1) ~ 2.858 (3 decimals), AMSE guarantees per unit of rank 5 (TSVD), 3 (hard threshold
4/sqrt 3) and 2 (optimal Frobenius shrinker), the square Frobenius shrinker sqrt(y^2 - 4).  GD14's
table of omega(beta) was not reachable here; omega(beta) is checked against optht's independent
computation (its own MP median by bisection) and against GD14's cubic approximation instead.
"""
import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from core.validate import InvalidArgument
from theory import shrinkage as sh
from theory import shrinkage_symbolic as ss
from theory import spiked

BETAS = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0])


# ------------------------------------------------------------------ published constants
def test_lambda_star_square_is_4_over_sqrt3():
    assert sh.gd_threshold_coefficient(1.0) == pytest.approx(4 / math.sqrt(3), rel=1e-15)


def test_omega_square_matches_abstract_to_its_3_decimals():
    assert abs(sh.gd_unknown_noise_coefficient(1.0) - 2.858) <= 5e-4


def test_mp_median_matches_optht_bisection():
    from optht.optht import _median_marcenko_pastur  # test extra (pyproject [test])
    for b in BETAS:
        # optht stops its bisection when the bracket is <= 0.001 wide and returns the midpoint
        assert abs(_median_marcenko_pastur(b) - sh.mp_median(b)) <= 5e-4 + 1e-9


def test_omega_against_published_cubic():
    # GD14 eq. (5) is a fit with 2-decimal coefficients, stated as an approximation of omega:
    # we hold it to 1% (its third significant digit; the largest deviation on BETAS is 0.36%); a
    # wrong median (e.g. the MP mean 1) misses by 0.8% at beta = 0.05 but by 13-19% for
    # beta >= 0.7, so the loop over BETAS catches it.
    for b in BETAS:
        exact = sh.gd_unknown_noise_coefficient(b)
        assert abs(exact - sh.gd_unknown_noise_coefficient_cubic(b)) <= 0.01 * exact


# ------------------------------------------------------------------ closed forms
def test_shrinkers_closed_forms_square():
    y = np.array([2.0, 2.5, 3.0, 7.0])
    fro = sh.optimal_shrinker(y, 1.0, "frobenius")
    assert fro[0] == 0.0                                   # at the edge
    np.testing.assert_allclose(fro[1:], np.sqrt(y[1:] ** 2 - 4), rtol=1e-14)
    x = (y[1:] + np.sqrt(y[1:] ** 2 - 4)) / 2              # y = x + 1/x
    np.testing.assert_allclose(sh.optimal_shrinker(y[1:], 1.0, "operator"), x, rtol=1e-14)
    np.testing.assert_allclose(sh.debias_shrinker(y[1:], 1.0), x, rtol=1e-14)
    # nuclear is 0 until x^4 - 1 > x y = x^2 + 1, i.e. x^2 > 2, y > sqrt 2 + 1/sqrt 2 = 2.1213
    assert sh.optimal_shrinker(2.12, 1.0, "nuclear") == 0.0
    assert sh.optimal_shrinker(2.13, 1.0, "nuclear") > 0.0


def test_nuclear_at_x_2_by_hand():
    # y = 2 + 1/2 = 2.5 for x = 2 (beta = 1): (16 - 1 - 2 * 2.5) / (4 * 2.5) = 1.0
    assert sh.optimal_shrinker(2.5, 1.0, "nuclear") == pytest.approx(1.0, rel=1e-14)


def test_shrinkers_zero_below_edge_and_vectorised():
    for b in BETAS:
        edge = 1 + math.sqrt(b)
        y = np.array([[0.0, 0.5 * edge], [edge, edge * (1 - 1e-12)]])
        for loss in sh.LOSSES:
            out = sh.optimal_shrinker(y, b, loss)
            assert out.shape == y.shape and np.all(out == 0)


def _block_loss(eta, x, b, loss):
    c, ct = sh.cosines(x, b)
    a, bb = np.array([c, math.sqrt(1 - c * c)]), np.array([ct, math.sqrt(1 - ct * ct)])
    sv = np.linalg.svd(eta * np.outer(a, bb) - x * np.diag([1.0, 0.0]), compute_uv=False)
    return {"frobenius": np.sqrt(np.sum(sv**2)), "operator": sv[0], "nuclear": sv.sum()}[loss]


@pytest.mark.parametrize("loss", sh.LOSSES)
def test_each_shrinker_minimises_its_loss_on_the_2x2_block(loss):
    # independent route: numpy SVD of the explicit block, scalar minimisation over eta
    for b in (0.1, 0.4, 1.0):
        for x in (1.05 * b**0.25, 1.5, 3.0, 10.0):
            y = sh.outlier_from_signal(x, b)
            eta = sh.optimal_shrinker(y, b, loss)
            best = minimize_scalar(lambda e: _block_loss(e, x, b, loss), bounds=(0, 2 * x),
                                   method="bounded", options={"xatol": 1e-12})
            mine = _block_loss(eta, x, b, loss)
            assert mine <= best.fun + 1e-9 * x
            assert mine <= _block_loss(0.0, x, b, loss) + 1e-12


def test_operator_shrinkers_jump_at_the_edge():
    # module docstring: just above the edge, x -> beta^(1/4); corrected operator x sqrt((x^2+b)/(x^2+1))
    # -> sqrt(beta) (hand: (sqrt b + b)/(sqrt b + 1) = sqrt b), debias x -> beta^(1/4)
    for b in (0.1, 0.25, 0.5, 1.0):
        y = (1 + math.sqrt(b)) * (1 + 1e-14)
        assert sh.optimal_shrinker(y, b, "operator") == pytest.approx(math.sqrt(b), rel=1e-5)
        assert sh.debias_shrinker(y, b) == pytest.approx(b**0.25, rel=1e-5)


def test_gd2017_operator_shrinker_is_suboptimal_off_square():
    # beta = 1/4, x = sqrt 2: x(y) gives 0.8951..., the corrected shrinker x s~ = sqrt(0.75) = 0.866
    b, x = 0.25, math.sqrt(2.0)
    y = sh.outlier_from_signal(x, b)
    corrected = _block_loss(sh.optimal_shrinker(y, b, "operator"), x, b, "operator")
    printed = _block_loss(sh.debias_shrinker(y, b), x, b, "operator")
    assert corrected == pytest.approx(math.sqrt(0.75), rel=1e-12)
    assert printed > corrected + 0.02
    # square: the two coincide
    y1 = sh.outlier_from_signal(2.0, 1.0)
    assert sh.debias_shrinker(y1, 1.0) == pytest.approx(sh.optimal_shrinker(y1, 1.0, "operator"), rel=1e-14)


# ------------------------------------------------------------------ package convention mapping
@pytest.mark.parametrize("N,M", [(400, 100), (100, 400), (300, 300)])
def test_truncate_is_the_package_mp_edge(N, M):
    edge = spiked.edge(M / N)                  # 1 + sqrt(c) for R ~ N(0, 1/N)
    k = min(N, M)
    s = np.full(k, 0.5 * edge)
    s[0], s[1], s[2] = edge * (1 + 1e-9), edge * (1 - 1e-9), 3 * edge
    out = sh.shrink_singular_values(s, N, M, "truncate", noise_sigma=1 / math.sqrt(N))
    assert out[0] == s[0] and out[1] == 0 and out[2] == s[2] and np.all(out[3:] == 0)


@pytest.mark.parametrize("theta,N,M", [(1.7, 400, 100), (3.0, 100, 400), (2.2, 300, 300)])
def test_shrinker_on_package_units_matches_limits(theta, N, M):
    # frobenius shrinker of the limiting outlier = theta sqrt(g_u g_v) (package overlaps)
    c = M / N
    y = spiked.singular_value_limit(theta, c)
    g_u, g_v = spiked.overlap_limits(theta, c)
    s = np.full(min(N, M), 0.1)
    s[0] = y
    out = sh.shrink_singular_values(s, N, M, "frobenius", noise_sigma=1 / math.sqrt(N))
    assert out[0] == pytest.approx(theta * math.sqrt(g_u * g_v), rel=1e-12)
    deb = sh.shrink_singular_values(s, N, M, "debias", noise_sigma=1 / math.sqrt(N))
    assert deb[0] == pytest.approx(theta, rel=1e-12)


# ------------------------------------------------------------------ optht (independent implementation)
def _random_lowrank(rng, m, n, rank, strength):
    U = np.linalg.qr(rng.standard_normal((m, rank)))[0]
    V = np.linalg.qr(rng.standard_normal((n, rank)))[0]
    return (U * strength) @ V.T + rng.standard_normal((m, n)) / math.sqrt(max(m, n))


@pytest.mark.parametrize("m,n", [(200, 200), (150, 300), (300, 120)])
def test_unknown_noise_rank_agrees_with_optht(m, n):
    import optht  # test extra (pyproject [test])
    rng = np.random.default_rng(12)
    beta = min(m, n) / max(m, n)
    for _ in range(5):
        Y = _random_lowrank(rng, m, n, 6, np.array([1.1, 1.4, 1.8, 2.4, 3.5, 6.0]))
        s = np.linalg.svd(Y, compute_uv=False)
        mine = int(np.count_nonzero(sh.shrink_singular_values(s, m, n, "gd_threshold")))
        theirs = int(optht.optht(beta, s))
        # optht's median is a bisection to +-5e-4: values in that band around the cutoff may differ
        mu = sh.mp_median(beta)
        lam = sh.gd_threshold_coefficient(beta)
        band = lam * np.median(s) / np.sqrt(np.array([mu + 5e-4, mu - 5e-4]))
        ambiguous = int(np.count_nonzero((s > band[0]) & (s <= band[1])))
        assert abs(mine - theirs) <= ambiguous


def test_known_noise_agrees_with_optht_square_and_shows_its_rectangular_unit():
    import optht  # test extra (pyproject [test])
    rng = np.random.default_rng(5)
    Y = _random_lowrank(rng, 250, 250, 4, np.array([1.5, 2.0, 3.0, 5.0]))
    s = np.linalg.svd(Y, compute_uv=False)
    sigma = 1 / math.sqrt(250)
    mine = int(np.count_nonzero(sh.shrink_singular_values(s, 250, 250, "gd_threshold", noise_sigma=sigma)))
    assert mine == int(optht.optht(1.0, s, sigma=sigma))
    # optht's known-sigma cutoff uses sqrt(len(sv)) = sqrt(min(m, n)); GD14's unit is sqrt(n), n the
    # larger side, so optht agrees with GD14 only after sigma is rescaled by sqrt(n/m).
    m, n = 120, 360
    Y = _random_lowrank(rng, m, n, 4, np.array([1.2, 1.6, 3.0, 5.0]))
    s = np.linalg.svd(Y, compute_uv=False)
    sigma = 1 / math.sqrt(n)
    mine = int(np.count_nonzero(sh.shrink_singular_values(s, m, n, "gd_threshold", noise_sigma=sigma)))
    assert mine == int(optht.optht(m / n, s, sigma=sigma * math.sqrt(n / m)))


# ------------------------------------------------------------------ OptShrink
def test_optshrink_with_the_mp_transform_is_the_frobenius_shrinker():
    # N14's -2 D / D' with the limiting (MP) D-transform equals GD17's Frobenius shrinker exactly
    for c in (0.3, 1.0, 2.5):
        dt = spiked.DTransform.marchenko_pastur(c)
        unit, beta = math.sqrt(max(1, c)), min(c, 1 / c)
        for theta in (1.3 * c**0.25, 2.0 * c**0.25, 5.0):
            z = spiked.singular_value_limit(theta, c)
            w = -2 * dt(z) / dt.derivative(z)
            assert w == pytest.approx(unit * sh.optimal_shrinker(z / unit, beta, "frobenius"), rel=1e-9)


def test_optshrink_matches_direct_traces():
    rng = np.random.default_rng(3)
    N, M, r = 40, 25, 2
    Y = _random_lowrank(rng, N, M, r, np.array([4.0, 6.0]))
    U, s, Vt = np.linalg.svd(Y, full_matrices=False)
    w = sh.optshrink(s, N, M, r)
    assert np.all(w[r:] == 0)
    noise = np.zeros((N - r, M - r))
    noise[np.arange(M - r), np.arange(M - r)] = s[r:]

    def D(z):
        A = noise @ noise.T
        B = noise.T @ noise
        pa = np.trace(z * np.linalg.inv(z * z * np.eye(N - r) - A)) / (N - r)
        pb = np.trace(z * np.linalg.inv(z * z * np.eye(M - r) - B)) / (M - r)
        return pa * pb

    for i in range(r):
        h = 1e-6 * s[i]
        dD = (D(s[i] + h) - D(s[i] - h)) / (2 * h)
        assert w[i] == pytest.approx(-2 * D(s[i]) / dD, rel=1e-6)


# ------------------------------------------------------------------ shrink_matrix and validation
def test_shrink_matrix_rank_and_reconstruction():
    rng = np.random.default_rng(1)
    Y = _random_lowrank(rng, 60, 90, 3, np.array([2.0, 3.0, 5.0]))
    for rule in sh.RULES:
        W_hat, k = sh.shrink_matrix(Y, rule, noise_sigma=1 / math.sqrt(90))
        new = sh.shrink_singular_values(np.linalg.svd(Y, compute_uv=False), 60, 90, rule,
                                        noise_sigma=1 / math.sqrt(90))
        assert k == np.count_nonzero(new)
        np.testing.assert_allclose(np.linalg.svd(W_hat, compute_uv=False)[:k], np.sort(new)[::-1][:k],
                                   rtol=1e-10)
    W_hat, k = sh.shrink_matrix(Y, "optshrink", rank=1)
    assert k == 1


@pytest.mark.parametrize("call,name", [
    (lambda: sh.shrink_singular_values(np.ones(3), 3, 4, "soft"), "rule"),
    (lambda: sh.shrink_singular_values(np.ones(2), 3, 4, "truncate"), "s"),
    (lambda: sh.shrink_singular_values(-np.ones(3), 3, 4, "truncate"), "s"),
    (lambda: sh.shrink_singular_values(np.ones(3), 3, 4, "truncate", noise_sigma=0.0), "noise_sigma"),
    (lambda: sh.shrink_singular_values(np.ones(3), 0, 4, "truncate"), "n_rows"),
    (lambda: sh.optimal_shrinker(3.0, 1.5, "frobenius"), "beta"),
    (lambda: sh.optimal_shrinker(3.0, 1.0, "spectral"), "loss"),
    (lambda: sh.shrink_matrix(np.ones((3, 3)), "truncate", rank=1), "rank"),
    (lambda: ss.shrunk_error_limit([2.0, -1.0], 1.0, "truncate", "operator"), "theta"),
    (lambda: ss.shrunk_error_limit(2.0, 1.0, "truncate", "nuclear"), "norm"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(InvalidArgument, match=name):
        call()


# ------------------------------------------------------------------ limits (theory.shrinkage_symbolic)
GRID = 1 + np.geomspace(1e-6, 1e3, 600)   # sups at theta -> 1 (TSVD), -> inf (Frobenius: 2 - 1e-6)


def test_square_worst_case_amse_matches_published_guarantees():
    # per spike ||M||_F^2 in units of the noise: sup 5 (TSVD = truncation at the edge), 3 (4/sqrt 3),
    # 2 (Frobenius shrinker); GD14/GD17 abstracts
    # the GD threshold's worst case sits at theta = sqrt 3 (y = 4/sqrt 3): put it on the grid
    grid = np.sort(np.concatenate([GRID, math.sqrt(3) * (1 + np.array([-1e-9, 1e-9]))]))
    for rule, sup in (("truncate", 5.0), ("gd_threshold", 3.0), ("frobenius", 2.0)):
        f2 = ss.per_spike_limits(grid, 1.0, rule)[1]
        assert f2.max() <= sup + 1e-9 and f2.max() >= sup - 1e-4


def test_square_closed_forms():
    th = np.linspace(1.01, 40, 200)
    np.testing.assert_allclose(ss.per_spike_limits(th, 1.0, "truncate")[1], 2 + 3 / th**2, rtol=1e-12)
    np.testing.assert_allclose(ss.per_spike_limits(th, 1.0, "frobenius")[1], 2 - 1 / th**2, rtol=1e-12)
    np.testing.assert_allclose(ss.per_spike_limits(th, 1.0, "operator")[0], 1.0, rtol=1e-12)
    # truncation's operator norm is approximation_symbolic's (B.14) correction
    from theory import approximation_symbolic as ap
    # both routes cancel terms of size theta^2 down to ~1 (eta a b - theta; F^2 - 2 eta theta a b)
    diff = np.abs(ss.per_spike_limits(th, 1.0, "truncate")[0] - ap.block_opnorm_limits(th, eps=0.0))
    assert np.all(diff <= 50 * np.finfo(float).eps * th**2)


@pytest.mark.parametrize("c", [0.25, 0.6, 1.0, 2.0, 4.0])
def test_operator_rule_closed_form_any_ratio(c):
    th = c**0.25 * np.linspace(1.02, 30, 100)
    expect = np.sqrt((th**2 + c) / (th**2 + 1)) if c <= 1 else np.sqrt(c * (th**2 + 1) / (th**2 + c))
    np.testing.assert_allclose(ss.per_spike_limits(th, c, "operator")[0], expect, rtol=1e-11)


@pytest.mark.parametrize("c", [0.25, 1.0, 4.0])
def test_each_optimal_rule_is_best_in_its_norm(c):
    th = c**0.25 * np.linspace(1.02, 8, 60)
    lim = {r: ss.per_spike_limits(th, c, r) for r in ss.LIMIT_RULES}
    for r in ss.LIMIT_RULES:
        assert np.all(lim["operator"][0] <= lim[r][0] + 1e-12)
        assert np.all(lim["frobenius"][1] <= lim[r][1] + 1e-12)


def test_vector_theta_max_and_sum_and_dropped_spikes():
    th = [0.8, 1.5, 3.0]      # 0.8 below the square threshold: contributes theta
    op = ss.shrunk_error_limit(th, 1.0, "frobenius", "operator")
    fro = ss.shrunk_error_limit(th, 1.0, "frobenius", "frobenius")
    top, f2, eta = ss.per_spike_limits(th, 1.0, "frobenius")
    assert eta[0] == 0 and top[0] == 0.8 and f2[0] == pytest.approx(0.64)
    assert op == top.max() and fro == pytest.approx(math.sqrt(f2.sum()))
    # GD threshold drops theta = 1.5 (< sqrt 3): its error is theta
    top_gd = ss.per_spike_limits(th, 1.0, "gd_threshold")[0]
    assert top_gd[1] == 1.5


def test_sympy_derivations_on_a_grid():
    # the symbolic argmins / attained bound evaluated at many (x, beta) with x > beta^(1/4)
    eta_f, closed_f, _ = ss.frobenius_optimum()
    eta_n, closed_n = ss.nuclear_optimum()
    _, top2, bound2, gap = ss.operator_optimum()
    import sympy as sp
    fns = [sp.lambdify((ss.X, ss.BETA), e, "numpy") for e in (eta_f, closed_f, eta_n, closed_n, top2, bound2, gap)]
    for b in (0.05, 0.3, 0.7, 1.0):
        x = b**0.25 * np.linspace(1.01, 12, 40)
        ef, cf, en, cn, t2, b2, g = (np.asarray(f(x, b), dtype=float) * np.ones_like(x) for f in fns)
        np.testing.assert_allclose(ef, cf, rtol=1e-10)
        np.testing.assert_allclose(en, cn, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(t2, b2, rtol=1e-9)
        assert np.all(g >= -1e-15)


@pytest.mark.parametrize("rule", ["truncate", "gd_threshold", "frobenius", "operator", "nuclear"])
def test_pruning_api_applies_the_contract(rule):
    # nets.mp_prune (engineer api) with a shrinkage rule equals shrink_matrix on the same matrix
    import torch
    import nets
    rng = np.random.default_rng(8)
    W = _random_lowrank(rng, 80, 120, 3, np.array([2.0, 3.0, 5.0]))
    layer = torch.nn.Linear(120, 80).double()
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(W))
    sigma = 1 / math.sqrt(120)
    nets.mp_prune(layer, rule=rule, noise_sigma=sigma, tau=None)
    expect, _ = sh.shrink_matrix(W, rule, noise_sigma=sigma)
    np.testing.assert_allclose(layer.weight.detach().numpy(), expect, atol=1e-9)
