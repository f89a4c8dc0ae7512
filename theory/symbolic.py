"""Symbolic (sympy) checks of the algebra behind theory.spiked and theory.bema.

Each function returns a sympy expression that must simplify to 0, or a bool, and is run as a test
(tests/test_symbolic.py) and in ``python -m theory``. Conventions as in theory.spiked: R is N x M with
entries of variance 1/N (var = 1 here; var enters by scaling), c = M/N, x = theta^2.

Paper 000 references: Theorems A.1-A.4 and (A.1)-(A.2) (Appendix A.1); the BEMA edge of Algorithm 2
(TW scaling term). The f_W checks of (4.24)/(B.7) belong to theory.approximation's owner.
"""
from __future__ import annotations

import sympy as sp

c, g, t, x = sp.symbols("c g t x", positive=True)


# ----------------------------------------------------------------------------- closed forms (our convention)
def singular_value_sq(theta_sq, ratio):
    """sigma'^2 = (1 + x)(c + x)/x (theory.spiked.singular_value_limit, var = 1)."""
    return (1 + theta_sq) * (ratio + theta_sq) / theta_sq


def left_overlap(theta_sq, ratio):
    return 1 - (ratio + theta_sq) / (theta_sq * (1 + theta_sq))


def right_overlap(theta_sq, ratio):
    return 1 - ratio * (1 + theta_sq) / (theta_sq * (ratio + theta_sq))


# ----------------------------------------------------------------------------- BGN 2012 Section 3.1 (their convention)
def _bgn_sigma_sq(theta_sq, cb):
    return (1 + theta_sq) * (cb + theta_sq) / theta_sq


def _bgn_left(theta_sq, cb):  # n-side vector, n <= m
    return 1 - cb * (1 + theta_sq) / (theta_sq * (theta_sq + cb))


def _bgn_right(theta_sq, cb):  # m-side vector
    return 1 - (cb + theta_sq) / (theta_sq * (theta_sq + 1))


def rectangular_reduces_to_theorems_a3_a4() -> list[sp.Expr]:
    """At c = 1: sigma' = (1 + theta^2)/theta (Theorem A.3) and both overlaps 1 - 1/theta^2 (Theorem A.4).

    Returns the three differences (must each simplify to 0).
    """
    theta = sp.sqrt(x)
    return [
        sp.simplify(sp.sqrt(singular_value_sq(x, 1)) - (1 + theta**2) / theta),
        sp.simplify(left_overlap(x, 1) - (1 - 1 / theta**2)),
        sp.simplify(right_overlap(x, 1) - (1 - 1 / theta**2)),
    ]


def rectangular_mapping_is_consistent() -> list[sp.Expr]:
    """Our unified formulas equal BGN Section 3.1 under both mappings (see theory.spiked docstring).

    N > M (c < 1): BGN applied to R^T with c_B = c, no rescaling; BGN's left vector is our v.
    N <= M (c >= 1): c_B = 1/c, R = sqrt(c) X, theta_B = theta / sqrt(c), sigma' = sqrt(c) sigma'_B.
    Also the thresholds: theta_B > c_B^{1/4} <=> theta > c^{1/4} in both cases.
    Returns differences that must simplify to 0.
    """
    diffs = [
        # c < 1
        sp.simplify(singular_value_sq(x, c) - _bgn_sigma_sq(x, c)),
        sp.simplify(right_overlap(x, c) - _bgn_left(x, c)),
        sp.simplify(left_overlap(x, c) - _bgn_right(x, c)),
    ]
    xb, cb = x / c, 1 / c
    diffs += [
        sp.simplify(singular_value_sq(x, c) - c * _bgn_sigma_sq(xb, cb)),
        sp.simplify(left_overlap(x, c) - _bgn_left(xb, cb)),
        sp.simplify(right_overlap(x, c) - _bgn_right(xb, cb)),
        # threshold: ours x = sqrt(c); mapped theta_B^2 = x/c must equal BGN's c_B^{1/2}
        sp.simplify(sp.sqrt(c) / c - sp.sqrt(cb)),
    ]
    return diffs


def tw_scaling_identity() -> sp.Expr:
    """(1 + sqrt g)(1 + 1/sqrt g)^{1/3} - (1 + sqrt g)^{4/3} g^{-1/6}: the Johnstone scaling of the TW
    term in BEMA's lambda_+ (Algorithm 2). Zero for g > 0 (note: NOT (1 + sqrt g)^4 / 3)."""
    lhs = (1 + sp.sqrt(g)) * (1 + 1 / sp.sqrt(g)) ** sp.Rational(1, 3)
    rhs = (1 + sp.sqrt(g)) ** sp.Rational(4, 3) * g ** sp.Rational(-1, 6)
    # (1 + 1/sqrt g) = (1 + sqrt g)/sqrt g; powsimp with force is valid as every base is positive
    return sp.simplify(sp.powsimp(sp.powdenest(lhs - rhs, force=True), force=True))


# ----------------------------------------------------------------------------- D-transform of the MP law
# Writing c = q^4 and, on the outlier branch x > sqrt(c), x = q^2 (1 + t) with q, t > 0 makes every
# quantity below a rational function of (q, t): the square root S = sqrt((w - 1 - c)^2 - 4c) at
# w = sigma'^2 is (x^2 - c)/x (checked by mp_branch_root_is_correct), so sympy's cancel decides exactly.
q = sp.Symbol("q", positive=True)


def _branch():
    cq = q**4
    xs = q**2 * (1 + t)
    w = singular_value_sq(xs, cq)
    S = (xs**2 - cq) / xs
    return cq, xs, w, S


def _mp_g_and_derivative(w, S, ratio):
    """G(w) = (w + c - 1 - S)/(2 c w) (MP, var 1, branch ~1/w at infinity) and G'(w), S' = (w - 1 - c)/S."""
    G = (w + ratio - 1 - S) / (2 * ratio * w)
    dS = (w - 1 - ratio) / S
    dG = ((1 - dS) * w - (w + ratio - 1 - S)) / (2 * ratio * w**2)
    return G, dG


def mp_branch_root_is_correct() -> sp.Expr:
    """S^2 - [(w - 1 - c)^2 - 4c] at w = sigma'^2, and S > 0 there (x^2 > c): returns the difference."""
    cq, xs, w, S = _branch()
    assert sp.factor(xs**2 - cq).is_positive  # S has the sign of the principal root
    return sp.cancel(S**2 - ((w - 1 - cq) ** 2 - 4 * cq))


def mp_d_inverse_round_trip() -> sp.Expr:
    """D(sigma'(theta)) - 1/theta^2 on the outlier branch: Theorem A.1 with the MP law gives the closed
    form (A.3)/BGN Sec. 3.1. D = phi_N phi_M, phi_M = z G(z^2), phi_N = z (c G + (1 - c)/z^2)."""
    cq, xs, w, S = _branch()
    G, _ = _mp_g_and_derivative(w, S, cq)
    D = (cq * G + (1 - cq) / w) * w * G
    return sp.cancel(D - 1 / xs)


def mp_threshold() -> sp.Expr:
    """D(edge)^{-1/2} - c^{1/4} with edge = 1 + sqrt c ((A.2) in our convention: theta_bar = c^{1/4}).

    At the edge S = 0: G = 1/(sqrt c (1 + sqrt c)), phi_M = 1/sqrt c, phi_N = 1, D = c^{-1/2}.
    """
    cq = q**4
    w = (1 + q**2) ** 2
    G = (w + cq - 1) / (2 * cq * w)
    D = sp.cancel((cq * G + (1 - cq) / w) * w * G)
    assert sp.cancel(D - 1 / q**2) == 0
    return sp.simplify(D ** sp.Rational(-1, 2) - q)  # c^{1/4} = q


def mp_overlaps_from_d() -> list[sp.Expr]:
    """Theorem A.2 in the corrected side-matched form: -2 phi_side(rho)/(theta^2 D'(rho)) equals the
    closed-form overlaps (left side: phi_N, right side: phi_M). d/dz [z G(z^2)] = G + 2 w G'(w)."""
    cq, xs, w, S = _branch()
    G, dG = _mp_g_and_derivative(w, S, cq)
    # phi_side = z * g_side with z = sqrt(w); D' = z (dphi_N g_M + g_N dphi_M) is linear in z, so the
    # common factor z cancels and everything stays rational in (q, t).
    g_M = G
    g_N = cq * G + (1 - cq) / w
    dphi_M = G + 2 * w * dG
    dphi_N = cq * G + (1 - cq) / w + 2 * w * (cq * dG - (1 - cq) / w**2)
    dD_over_z = dphi_N * g_M + g_N * dphi_M
    left = -2 * g_N / (xs * dD_over_z)
    right = -2 * g_M / (xs * dD_over_z)
    return [sp.cancel(left - left_overlap(xs, cq)), sp.cancel(right - right_overlap(xs, cq))]


def wigner_round_trip() -> sp.Expr:
    """Appendix B.2: the semicircle (variance 1) Stieltjes transform G(z) = (z - sqrt(z^2 - 4))/2 satisfies
    G(theta + 1/theta) = 1/theta for theta > 1 (BGN 2011: outlier at G^{-1}(1/theta)). Returns G - 1/theta."""
    theta = 1 + t
    zz = theta + 1 / theta
    root = theta - 1 / theta  # sqrt(z^2 - 4) on theta > 1
    assert sp.simplify(root**2 - (zz**2 - 4)) == 0
    return sp.simplify((zz - root) / 2 - 1 / theta)


def all_checks() -> dict[str, list[sp.Expr]]:
    return {
        "rectangular -> Theorems A.3/A.4 at c = 1": rectangular_reduces_to_theorems_a3_a4(),
        "unified formulas = BGN 2012 Sec. 3.1 under both mappings": rectangular_mapping_is_consistent(),
        "TW scaling (1+sqrt g)(1+1/sqrt g)^(1/3) = (1+sqrt g)^(4/3) g^(-1/6)": [tw_scaling_identity()],
        "MP D-transform: S root on the outlier branch": [mp_branch_root_is_correct()],
        "MP D-transform: D(sigma'(theta)) = 1/theta^2": [mp_d_inverse_round_trip()],
        "MP threshold D(edge)^(-1/2) = c^(1/4)": [mp_threshold()],
        "A.2 overlaps from D, D' = closed forms": mp_overlaps_from_d(),
        "Wigner (B.2): G(theta + 1/theta) = 1/theta": [wigner_round_trip()],
    }


def self_check() -> list[dict]:
    rows = []
    for name, exprs in all_checks().items():
        ok = all(sp.simplify(e) == 0 for e in exprs)
        rows.append({"check": f"sympy: {name}", "value": 0.0 if ok else 1.0, "reference": 0.0,
                     "error": 0.0 if ok else 1.0, "ok": ok})
    return rows
