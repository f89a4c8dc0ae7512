"""Bornemann's Fredholm-determinant quadrature for F_1, F_2, F_4: the REFERENCE behind the tables.

F. Bornemann, "On the numerical evaluation of Fredholm determinants", Math. Comp. 79 (2010) 871-915,
Sections 7-8, and "On the numerical evaluation of distributions in random matrix theory: a review",
Markov Process. Related Fields 16 (2010) 803-866, Section 4:

- F_2(s) = det(I - K_Ai) on L^2(s, inf), Airy kernel
  K_Ai(x, y) = (Ai(x) Ai'(y) - Ai'(x) Ai(y)) / (x - y),  K_Ai(x, x) = Ai'(x)^2 - x Ai(x)^2.
- F_1(s) = det(I - A_s) on L^2(s, inf), A_s(x, y) = Ai((x + y)/2) / 2 (Ferrari-Spohn 2005:
  det(I - B_s) on L^2(0, inf) with B_s(x, y) = Ai(x + y + s), after x -> (x - s)/2).
- F_4(t) = (det(I - A_u) + det(I + A_u)) / 2 with u = sqrt(2) t: the Tracy-Widom 1996 convention
  (Tracy & Widom, Commun. Math. Phys. 177 (1996) 727-754, eq. (54): F_4(s / sqrt 2) =
  cosh(mu / 2) F_2(s)^{1/2}, with F_1 = det(I - A), F_2 = det(I - A) det(I + A)); Bornemann (2010)
  uses the same scaling. TW_4 then has mean -2.3068848932 and variance 0.5177237208.

(s, inf) is truncated to (s, s + L) where the kernel has decayed below e^{-40} relative to its value at
max(s, 0), then discretised by m-point Gauss-Legendre (Nystrom): det(I - [w_i^{1/2} K(x_i, x_j)
w_j^{1/2}]). Both kernels are symmetric, so the determinant is the product of (1 - lambda_k) over the
eigenvalues of the symmetric Nystrom matrix: log F = sum log1p(-lambda_k) keeps full RELATIVE accuracy
of 1 - F in the right tail. Convergence is exponential in m (Bornemann Thm 6.2, entire kernels).

d/ds log F: the exact derivative of the discretised determinant, -tr((I - K_s)^{-1} dK_s/ds):
- beta=2: (d/dx + d/dy) K_Ai(x, y) = -Ai(x) Ai(y), so F_2'/F_2 = <(I - K)^{-1} Ai, Ai> (one solve);
- beta=1: dA_s/ds(x, y) = Ai'(s + (x + y)/2) / 2 on the shifted interval (one matrix solve);
- beta=4: in the eigenbasis of A_u, lambda_j' = v_j^T (dA_u/du) v_j (Hellmann-Feynman), so
  d/du log det(I -+ A_u) = -+ sum_j lambda_j' / (1 -+ lambda_j).
F_4 in the right tail: F_4 = sum_k e_{2k}(lambda) (the even elementary symmetric polynomials of the
eigenvalues), so 1 - F_4 = -sum_{k>=1} e_{2k}; computing e_k from the product recursion avoids the
cancellation of det(I - A) + det(I + A) = 2 - O(e_2) (the e_1 terms cancel exactly), and
de_k/du = sum_j lambda_j' e_{k-1}(lambda without lambda_j).

Accuracy limit: in the left tail the smallest 1 - lambda_k carries absolute rounding error ~1e-16, so
the RELATIVE accuracy of F degrades (measured against the asymptotic series of theory._tw_asymptotics:
~1e-9 at s = -7, ~2e-7 at s = -8 for beta = 2), while the absolute error stays below 1e-20 there.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.special import airy, airye

# Exponent budget for truncation: kernel at the cut-off is e^{-40} times its value at max(s, 0).
_DECAY = 40.0
# Points per vectorised batch: the Nystrom matrices take n * m^2 * 8 bytes (m <= 72), so 512 points
# hold at most ~21 MB per array whatever the caller asks for (issue 10: 2e6 points once took 7.9 GiB).
CHUNK = 512
SQRT2 = float(np.sqrt(2.0))


@lru_cache(maxsize=None)
def _gauss_legendre(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes/weights on (0, 1), cached: every call reuses them."""
    t, w = leggauss(m)
    return (t + 1.0) / 2.0, w / 2.0


def _interval_length(s: np.ndarray, kernel: int) -> np.ndarray:
    """Length L of (s, s + L) such that cutting the kernel at T = s + L costs < e^{-_DECAY} relatively.

    kernel 2 (Airy): K_Ai(T, T) ~ exp(-4/3 T^{3/2}) and K_Ai(T, s)^2 ~ the same order, so
    4/3 (T^{3/2} - max(s, 0)^{3/2}) = _DECAY.
    kernel 1 (A_s): A(T, T) = Ai(T)/2 ~ exp(-2/3 T^{3/2}) and A(T, s)^2 ~ exp(-4/3 ((T + s)/2)^{3/2});
    the second is the binding one for s < 0 (a cut-off chosen from the diagonal alone leaves ~1e-7
    errors at s = -5, found by checking the analytic derivative against finite differences).
    """
    pos = np.maximum(s, 0.0) ** 1.5
    if kernel == 2:
        top = (pos + 0.75 * _DECAY) ** (2.0 / 3.0)
    else:
        diag = (pos + 1.5 * _DECAY) ** (2.0 / 3.0)
        pair = 2.0 * (pos + 0.75 * _DECAY) ** (2.0 / 3.0) - s
        top = np.maximum(diag, pair)
    return top - s


def _node_count(s: np.ndarray, kernel: int) -> np.ndarray:
    """Gauss-Legendre size: the kernel oscillates on the negative axis with frequency ~|s|^{1/2}.

    Chosen from a convergence study against m = 160 (tests/test_tracy_widom.py): beyond these m the
    change is at rounding level (~1e-14 absolute in log F for s >= -3; in the left tail the rounding
    floor rises because 1 - lambda_max -> 0, not because of the quadrature).
    """
    if kernel == 2:
        return np.where(s >= -6.0, 32, np.where(s >= -10.0, 48, 64))
    return np.where(s >= -7.0, 32, np.where(s >= -9.0, 40, np.where(s >= -11.0, 56, 72)))


# Piecewise Chebyshev table of Ai and Ai' for the A_s kernel, which needs m(m+1)/2 Airy values per
# point s (scipy's airy costs ~0.5-1 us each). Panels of width 0.5, degree 15; on x >= 2 the table
# holds the scaled airye values Ai(x) exp(2/3 x^{3/2}) so that the right tail keeps RELATIVE accuracy
# (the scaling is not smooth at 0, hence only from 2 on). Checked against scipy by
# test_tracy_widom.py::test_airy_table_matches_scipy.
_TAB_LO, _TAB_HI, _TAB_H, _TAB_DEG, _TAB_SCALE_FROM = -12.0, 34.0, 0.5, 15, 2.0


@lru_cache(maxsize=None)
def _airy_table() -> tuple[np.ndarray, np.ndarray]:
    n_panels = int(round((_TAB_HI - _TAB_LO) / _TAB_H))
    k = np.arange(_TAB_DEG + 1)
    theta = np.pi * (k + 0.5) / (_TAB_DEG + 1)  # Chebyshev points of the first kind
    centers = _TAB_LO + _TAB_H * (np.arange(n_panels) + 0.5)
    x = centers[:, None] + 0.5 * _TAB_H * np.cos(theta)[None, :]
    scaled = x >= _TAB_SCALE_FROM - 1e-12
    e_ai, e_aip, _, _ = airye(np.where(scaled, x, _TAB_SCALE_FROM))
    ai, aip, _, _ = airy(x)
    basis = np.cos(np.outer(k, theta))  # T_j at the nodes
    coefs = []
    for vals in (np.where(scaled, e_ai, ai), np.where(scaled, e_aip, aip)):
        c = vals @ basis.T * (2.0 / (_TAB_DEG + 1))
        c[:, 0] /= 2.0
        coefs.append(c)
    return coefs[0], coefs[1]


def _clenshaw(coef: np.ndarray, panel: np.ndarray, t: np.ndarray) -> np.ndarray:
    b1 = np.zeros_like(t)
    b2 = np.zeros_like(t)
    two_t = 2.0 * t
    for j in range(_TAB_DEG, 0, -1):
        b1, b2 = two_t * b1 - b2 + coef[panel, j], b1
    return t * b1 - b2 + coef[panel, 0]


def airy_ai(x: np.ndarray, derivative: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """(Ai(x), Ai'(x) or None) from the Chebyshev table on [-12, 34), scipy's airy elsewhere."""
    x = np.asarray(x, dtype=float)
    ai = np.empty_like(x)
    aip = np.empty_like(x) if derivative else None
    inside = (x >= _TAB_LO) & (x < _TAB_HI)
    if not inside.all():
        out_ai, out_aip, _, _ = airy(x[~inside])
        ai[~inside] = out_ai
        if derivative:
            aip[~inside] = out_aip
    xi = x[inside]
    n_panels = int(round((_TAB_HI - _TAB_LO) / _TAB_H))
    panel = np.minimum(((xi - _TAB_LO) / _TAB_H).astype(np.intp), n_panels - 1)
    t = 2.0 * (xi - (_TAB_LO + _TAB_H * (panel + 0.5))) / _TAB_H
    unscale = np.where(xi >= _TAB_SCALE_FROM, np.exp(-2.0 / 3.0 * np.maximum(xi, _TAB_SCALE_FROM) ** 1.5), 1.0)
    c_ai, c_aip = _airy_table()
    ai[inside] = _clenshaw(c_ai, panel, t) * unscale
    if derivative:
        aip[inside] = _clenshaw(c_aip, panel, t) * unscale
    return ai, aip


def _nystrom(s: np.ndarray, kernel: int, m: int, with_derivative: bool):
    """Symmetric Nystrom matrices (n, m, m) for the points s (n,), and the pieces for d/ds."""
    t, w = _gauss_legendre(m)
    L = _interval_length(s, kernel)[:, None]
    x = s[:, None] + L * t[None, :]  # (n, m) nodes on (s, s + L)
    sw = np.sqrt(L * w[None, :])
    if kernel == 2:
        ai, aip, _, _ = airy(x)
        diff = x[:, :, None] - x[:, None, :]
        diag = np.eye(m, dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            K = (ai[:, :, None] * aip[:, None, :] - aip[:, :, None] * ai[:, None, :]) / diff
        K[:, diag] = aip**2 - x * ai**2
        A = sw[:, :, None] * K * sw[:, None, :]
        extra = sw * ai if with_derivative else None  # vector a with dA/ds = -a a^T
    else:
        # Only the m(m+1)/2 distinct arguments s + (xi_i + xi_j)/2 need an Airy evaluation.
        iu, ju = np.triu_indices(m)
        xi = L * t[None, :]
        arg = s[:, None] + 0.5 * (xi[:, iu] + xi[:, ju])
        ai, aip = airy_ai(arg, derivative=with_derivative)
        A = np.empty((len(s), m, m))
        A[:, iu, ju] = 0.5 * ai
        A[:, ju, iu] = 0.5 * ai
        A *= sw[:, :, None] * sw[:, None, :]
        extra = None
        if with_derivative:
            dA = np.empty((len(s), m, m))
            dA[:, iu, ju] = 0.5 * aip
            dA[:, ju, iu] = 0.5 * aip
            extra = dA * (sw[:, :, None] * sw[:, None, :])
    return A, extra


def _log1p_sum(lam: np.ndarray, sign: float) -> np.ndarray:
    """sum_k log(1 + sign * lambda_k) per row; -inf where a factor is <= 0 (F below rounding)."""
    factor = 1.0 + sign * lam
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(factor.min(axis=1) > 0, np.log1p(np.maximum(sign * lam, -1.0)).sum(axis=1), -np.inf)


def _beta12(s: np.ndarray, beta: int, m: int, with_derivative: bool):
    A, extra = _nystrom(s, beta, m, with_derivative)
    lam = np.linalg.eigvalsh(A)
    neg_log = -_log1p_sum(lam, -1.0)
    dlog = None
    if with_derivative:
        I = np.eye(m)
        if beta == 2:
            sol = np.linalg.solve(I - A, extra[:, :, None])[:, :, 0]
            dlog = np.einsum("ni,ni->n", extra, sol)
        else:
            dlog = -np.trace(np.linalg.solve(I - A, extra), axis1=1, axis2=2)
    return neg_log, dlog


def _elementary(lam: np.ndarray, order: int) -> np.ndarray:
    """e_0..e_order of each row of lam (n, m) by the product recursion prod_j (1 + lambda_j z)."""
    n, m = lam.shape
    e = np.zeros((n, order + 1))
    e[:, 0] = 1.0
    for j in range(m):
        e[:, 1:] = e[:, 1:] + lam[:, j : j + 1] * e[:, :-1]
    return e


def _elementary_without_each(lam: np.ndarray, order: int) -> np.ndarray:
    """E[:, j, k] = e_k of the row with lambda_j left out (built directly: no deflation, which would
    cancel when one eigenvalue dominates)."""
    n, m = lam.shape
    E = np.zeros((n, m, order + 1))
    E[:, :, 0] = 1.0
    for i in range(m):
        upd = lam[:, i, None, None] * E[:, :, :-1]
        upd[:, i, :] = 0.0
        E[:, :, 1:] += upd
    return E


def _beta4(t: np.ndarray, m: int, with_derivative: bool):
    u = SQRT2 * t
    A, dA = _nystrom(u, 1, m, True)
    lam, V = np.linalg.eigh(A)
    log_minus = _log1p_sum(lam, -1.0)
    log_plus = _log1p_sum(lam, 1.0)
    log_f = np.logaddexp(log_minus, log_plus) - np.log(2.0)
    neg_log = -log_f
    dlam = np.einsum("nij,nik,nkj->nj", V, dA, V)  # lambda_j' = v_j^T dA v_j
    dlog = None
    if with_derivative:
        d_minus = -(dlam / (1.0 - lam)).sum(axis=1)
        d_plus = (dlam / (1.0 + lam)).sum(axis=1)
        w_minus = np.exp(log_minus - np.logaddexp(log_minus, log_plus))
        dlog = SQRT2 * (w_minus * d_minus + (1.0 - w_minus) * d_plus)
    # Right tail: 1 - F_4 = -sum_{k>=1} e_{2k} without the e_1 cancellation (module docstring).
    right = -np.expm1(log_f) < 0.5
    if right.any():
        lr, dr = lam[right], dlam[right]
        order = min(m, 24)  # |lambda_j| < 0.6 here: e_k <= (sum |lambda|)^k / k! is below 1e-30 by k = 24
        e = _elementary(lr, order)
        sf = -e[:, 2::2].sum(axis=1)
        neg_log[right] = -np.log1p(-sf)
        if with_derivative:
            E = _elementary_without_each(lr, order)
            de = np.einsum("nj,njk->nk", dr, E[:, :, :-1])  # de_k/du for k = 1..order
            dsf = -de[:, 1::2].sum(axis=1)  # k = 2, 4, ...
            dlog[right] = -SQRT2 * dsf / (1.0 - sf)
    return neg_log, dlog


def neg_log_cdf(s, beta: int, with_derivative: bool = False, node_scale: float = 1.0):
    """-log F_beta(s) (relative accuracy also where F -> 1) and, optionally, d/ds log F_beta(s).

    ``s`` a 1-d float array of finite points; processed in batches of CHUNK points. ``node_scale``
    multiplies the Gauss-Legendre sizes (convergence checks).
    """
    s = np.asarray(s, dtype=float).ravel()
    neg_log = np.empty_like(s)
    dlog = np.empty_like(s) if with_derivative else None
    kernel = 2 if beta == 2 else 1
    arg = SQRT2 * s if beta == 4 else s
    m_all = np.ceil(_node_count(arg, kernel) * node_scale).astype(int)
    for m in np.unique(m_all):
        idx = np.flatnonzero(m_all == m)
        for start in range(0, idx.size, CHUNK):
            sel = idx[start : start + CHUNK]
            if beta == 4:
                nl, dl = _beta4(s[sel], int(m), with_derivative)
            else:
                nl, dl = _beta12(s[sel], beta, int(m), with_derivative)
            neg_log[sel] = nl
            if with_derivative:
                dlog[sel] = dl
    return neg_log, dlog
