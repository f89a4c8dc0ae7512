"""What random-matrix theory predicts for the spectral norm ||B||_2 of an iid matrix.

Setting (package convention, see ``theory/__init__``): B is ``n_rows x n_cols`` with iid entries of
mean 0 and variance ``var`` (= s^2).  Example: paper 004 Lemma 3 takes entries U[-K/sqrt(n), K/sqrt(n)]
with n = max(n1, n2), so s^2 = K^2 / (3 n) (:func:`uniform_entry_variance`).

First order (Bai-Yin / Geman): ||B||_2 -> s (sqrt(n1) + sqrt(n2)) almost surely (:func:`edge`).

Fluctuations: Johnstone (2001), Theorem 1.1.  Let X be n x p with iid N(0, 1) entries and l_1 the
largest eigenvalue of X^T X.  With

    mu_np    = (sqrt(n - 1) + sqrt(p))^2,
    sigma_np = (sqrt(n - 1) + sqrt(p)) (1 / sqrt(n - 1) + 1 / sqrt(p))^(1/3),

(l_1 - mu_np) / sigma_np -> TW_1 (real case, beta = 1) as n/p -> gamma in (0, inf); El Karoui (2003)
extends it to gamma in {0, inf}.  Ma (2012, Bernoulli 18(1), Theorem 1) shows that replacing n - 1, p by
n - 1/2, p - 1/2 in both constants makes the approximation second order, O(min(n, p)^(-2/3)) in the
CDF.  ``centering="ma2012"`` (default) uses those constants, ``"johnstone2001"`` the original ones
(there n is the larger dimension).

Mapping to ||B||_2:  B = s X with X of unit variance, so ||B||_2^2 = s^2 l_1 and

    P(||B||_2 <= c) = P(l_1 <= c^2 / s^2) ~ F_1((c^2 / s^2 - mu_np) / sigma_np),
    c_q = s sqrt(mu_np + sigma_np F_1^{-1}(q))            (exact inversion, no linearisation),
    E ||B||_2 ~ s E sqrt(mu_np + sigma_np W),  W ~ TW_1   (quadrature against the TW_1 density).

Universality: the TW_1 limit holds for non-Gaussian entries with enough moments (Soshnikov 2002,
Peche 2009, Pillai-Yin 2014), but the finite-n corrections differ: the fourth cumulant moves the edge
by O(kappa_4 / n) relative to s (sqrt(n1) + sqrt(n2)), i.e. O(n^(-1/3)) in TW units, which at n = 32 is
a visible fraction of a TW standard deviation.  Uniform entries have excess kurtosis -6/5.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.validate import InvalidArgument, check_choice, check_float, check_int, check_real_array
from theory import tracy_widom

CENTERINGS = ("ma2012", "johnstone2001")

# Quadrature range in TW units: the TW_1 density is below 1e-16 left of -12 (tail ~ exp(-|s|^3/24))
# and below 1e-12 right of 12 (tail ~ exp(-2/3 s^(3/2))).
_TW_LOW, _TW_HIGH = -12.0, 12.0


@lru_cache(maxsize=1)
def _tw_quadrature() -> tuple[np.ndarray, np.ndarray]:
    """Nodes s and weights w * pdf_TW1(s) on [-12, 12], shared by every law (the TW variable does not
    depend on the matrix).  400 Gauss-Legendre nodes resolve a density that varies on scale ~1."""
    nodes, weights = np.polynomial.legendre.leggauss(400)
    s = 0.5 * (_TW_HIGH - _TW_LOW) * nodes + 0.5 * (_TW_HIGH + _TW_LOW)
    w = 0.5 * (_TW_HIGH - _TW_LOW) * weights * tracy_widom.pdf(s, 1)
    return s, w / w.sum()


def _check_dims(n_rows, n_cols):
    check_int("n_rows", n_rows, 2, None)
    check_int("n_cols", n_cols, 2, None)


def _check_positive(name, v):
    check_float(name, v, 0.0, None, lo_open=True)


def uniform_entry_variance(K: float, n: int) -> float:
    """Variance K^2 / (3 n) of U[-K/sqrt(n), K/sqrt(n)] (paper 004, Lemma 3 and Theorem 1 (iii))."""
    _check_positive("K", K)
    _check_positive("n", n)
    return K * K / (3.0 * n)


def edge(n_rows: int, n_cols: int, var: float = 1.0) -> float:
    """First-order limit s (sqrt(n_rows) + sqrt(n_cols)) of ||B||_2 (Bai-Yin)."""
    _check_dims(n_rows, n_cols)
    _check_positive("var", var)
    return math.sqrt(var) * (math.sqrt(n_rows) + math.sqrt(n_cols))


def tw_constants(n_rows: int, n_cols: int, centering: str = "ma2012") -> tuple[float, float]:
    """(mu_np, sigma_np) for the largest eigenvalue of X^T X, X with unit-variance entries.

    Johnstone (2001) Theorem 1.1 with n the larger dimension (``johnstone2001``), or Ma (2012) with
    n - 1/2 and p - 1/2 (``ma2012``)."""
    _check_dims(n_rows, n_cols)
    n, p = max(n_rows, n_cols), min(n_rows, n_cols)
    if centering == "ma2012":
        a, b = n - 0.5, p - 0.5
    elif centering == "johnstone2001":
        a, b = n - 1.0, float(p)
    else:
        raise ValueError(f"centering must be one of {CENTERINGS}, got {centering!r}")
    root = math.sqrt(a) + math.sqrt(b)
    return root * root, root * (1.0 / math.sqrt(a) + 1.0 / math.sqrt(b)) ** (1.0 / 3.0)


@dataclass(frozen=True)
class SpectralNormLaw:
    """Edge + Tracy-Widom (beta = 1) law of ||B||_2, scipy.stats style.

    ``SpectralNormLaw(n_rows, n_cols, var)``: B has iid entries of variance ``var``.  Methods
    ``cdf``, ``sf``, ``ppf``, ``pdf``, ``mean``, ``std``, and ``edge``."""

    n_rows: int
    n_cols: int
    var: float = 1.0
    centering: str = "ma2012"

    def __post_init__(self):
        _check_dims(self.n_rows, self.n_cols)
        _check_positive("var", self.var)
        check_choice("centering", self.centering, CENTERINGS)

    @property
    def constants(self) -> tuple[float, float]:
        return tw_constants(self.n_rows, self.n_cols, self.centering)

    @property
    def edge(self) -> float:
        return edge(self.n_rows, self.n_cols, self.var)

    def tw_score(self, x):
        """(x^2 / var - mu_np) / sigma_np: the TW_1 variable that ||B||_2 = x corresponds to."""
        x = check_real_array("x", x)
        mu, sigma = self.constants
        return (x * x / self.var - mu) / sigma

    def _norm_from_score(self, s):
        mu, sigma = self.constants
        return np.sqrt(self.var * np.maximum(mu + sigma * np.asarray(s, dtype=float), 0.0))

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        out = np.where(x > 0, tracy_widom.cdf(self.tw_score(np.maximum(x, 0.0)), 1), 0.0)
        return out if out.ndim else float(out)

    def sf(self, x):
        return 1.0 - self.cdf(x)

    def pdf(self, x):
        """Density of ||B||_2: F_1'(s(x)) ds/dx with ds/dx = 2 x / (var sigma_np)."""
        x = np.asarray(x, dtype=float)
        _, sigma = self.constants
        dens = tracy_widom.pdf(self.tw_score(np.maximum(x, 0.0)), 1) * 2.0 * x / (self.var * sigma)
        out = np.where(x > 0, dens, 0.0)
        return out if out.ndim else float(out)

    def ppf(self, q):
        """c_q with P(||B||_2 <= c_q) = q, by inverting the TW_1 CDF exactly."""
        q = check_real_array("q", q)
        if np.any((q <= 0) | (q >= 1)):
            raise InvalidArgument(f"q (quantile levels) must lie in (0, 1), got {q}")
        out = self._norm_from_score(tracy_widom.ppf(q, 1))
        return out if out.ndim else float(out)

    def _moment(self, k: int) -> float:
        s, w = _tw_quadrature()
        return float(np.sum(w * self._norm_from_score(s) ** k))

    def mean(self) -> float:
        return self._moment(1)

    def std(self) -> float:
        m1 = self._moment(1)
        return math.sqrt(max(self._moment(2) - m1 * m1, 0.0))

    def tw_units(self) -> float:
        """d||B||_2 / dW at the edge: the size of one TW_1 unit on the ||B||_2 scale."""
        mu, sigma = self.constants
        return math.sqrt(self.var) * sigma / (2.0 * math.sqrt(mu))


def lemma3_law(n1: int, n2: int, K: float, centering: str = "ma2012") -> SpectralNormLaw:
    """Law of ||B||_2 for paper 004 Lemma 3: iid U[-K/sqrt(n), K/sqrt(n)], n = max(n1, n2)."""
    return SpectralNormLaw(n1, n2, uniform_entry_variance(K, max(n1, n2)), centering)


def lemma3_delta0(q, n):
    """delta_0 solving q = 1 - 2 exp(-4 delta_0 n) (paper 004 Lemma 3, Appendix D.3):
    delta_0 = log(2 / (1 - q)) / (4 n).

    Note that it depends on q and n only, not on the law of B: the Table 2 column delta_0 is a
    re-parametrisation of q, and at fixed q it decays like 1/n whatever the matrix."""
    q = check_real_array("q", q)
    n = check_real_array("n", n)
    if np.any((q <= -1) | (q >= 1)):
        raise InvalidArgument(f"q must lie in (-1, 1) for a positive delta_0, got {q}")
    if np.any(n <= 0):
        raise InvalidArgument(f"n must be positive, got {n}")
    out = np.log(2.0 / (1.0 - q)) / (4.0 * n)
    return out if out.ndim else float(out)


def lemma3_q(delta0, n):
    """Inverse of :func:`lemma3_delta0`: q = 1 - 2 exp(-4 delta_0 n)."""
    delta0 = check_real_array("delta0", delta0)
    n = check_real_array("n", n)
    if np.any(delta0 <= 0):
        raise InvalidArgument(f"delta0 must be positive, got {delta0}")
    if np.any(n <= 0):
        raise InvalidArgument(f"n must be positive, got {n}")
    out = 1.0 - 2.0 * np.exp(-4.0 * delta0 * n)
    return out if out.ndim else float(out)


def tw1_log_sf(s):
    """log P(TW_1 > s): from ``tracy_widom.sf`` while it is representable, else the right-tail
    asymptotic 1 - F_1(s) ~ exp(-2/3 s^(3/2)) / (4 sqrt(pi) s^(3/4)) (half the integral of Ai)."""
    s = np.atleast_1d(check_real_array("s", s))
    out = np.empty_like(s)
    sf = tracy_widom.sf(s, 1)
    exact = sf > 1e-250
    out[exact] = np.log(sf[exact])
    t = s[~exact]
    out[~exact] = -2.0 / 3.0 * t**1.5 - 0.75 * np.log(t) - math.log(4 * math.sqrt(math.pi))
    return out if out.size > 1 else float(out[0])


def lemma3_delta0_at(c0: float, n1: int, n2: int, K: float) -> float:
    """The delta_0 for which Lemma 3 holds at a FIXED c0: -log(P(||B|| > c0) / 2) / (4n), n = max(n1, n2),
    with the tail from the edge + TW_1 law (an approximation that is good for c0 near the edge; far
    from it the large-deviation rate of the top eigenvalue takes over)."""
    law = lemma3_law(n1, n2, K)
    _check_positive("c0", c0)
    return float((math.log(2.0) - tw1_log_sf(law.tw_score(c0))) / (4.0 * max(n1, n2)))


def lemma3_delta0_limit(c0: float, K: float, ratio: float = 1.0) -> float:
    """lim_{n -> inf} of :func:`lemma3_delta0_at` with n2/n1 fixed (ratio = min/max in (0, 1]):
    s ~ n^(2/3) x with x = (3 c0^2 / K^2 - (1 + sqrt c)^2) / ((1 + sqrt c)(1 + 1/sqrt c)^(1/3)), so
    delta_0 -> (2/3) x^(3/2) / 4 = x^(3/2) / 6 (square: (3 c0^2/K^2 - 4)^(3/2) / 24).  Positive for every
    c0 above the edge (K/sqrt 3)(1 + sqrt c): the constants of Lemma 3 do exist, independent of n."""
    _check_positive("c0", c0)
    _check_positive("K", K)
    check_float("ratio", ratio, 0.0, 1.0, lo_open=True)
    rc = math.sqrt(ratio)
    x = (3 * c0 * c0 / (K * K) - (1 + rc) ** 2) / ((1 + rc) * (1 + 1 / rc) ** (1 / 3))
    if x <= 0:
        raise ValueError(f"c0={c0} is not above the edge {(K / math.sqrt(3)) * (1 + rc):.6g}")
    return x**1.5 / 6.0


def self_check() -> list[dict]:
    """Each formula against an independent route to the same number."""
    rows = []

    def add(check, value, reference, tol):
        err = abs(value - reference)
        rows.append(dict(check=check, value=float(value), reference=float(reference), error=float(err),
                         ok=bool(err <= tol)))

    # Square, Ma constants: sigma_np = 2^(4/3) (n - 1/2)^(1/3) and mu_np = 4 (n - 1/2).
    mu, sigma = tw_constants(100, 100)
    add("ma2012 mu_np, n=p=100 vs 4(n-1/2)", mu, 4 * 99.5, 1e-9)
    add("ma2012 sigma_np, n=p=100 vs 2^(4/3)(n-1/2)^(1/3)", sigma, 2 ** (4 / 3) * 99.5 ** (1 / 3), 1e-9)
    # ppf inverts cdf.
    law = lemma3_law(64, 256, math.sqrt(3.0))
    c = law.ppf(0.99)
    add("lemma3_law(64,256,sqrt3).cdf(ppf(0.99))", law.cdf(c), 0.99, 1e-8)
    # Mean against the second-order Taylor expansion of s sqrt(mu + sigma W) in sigma W / mu with the
    # known TW_1 moments E W = -1.2065335745820, E W^2 = 1.6077810345810 + (E W)^2; the neglected third
    # order term is s sqrt(mu) (sigma / mu)^3 E W^3 / 16 with |E W^3| < 10 (TW_1 skewness 0.29).
    big = SpectralNormLaw(4000, 4000, 1.0 / 4000)
    mu, sigma = big.constants
    ew, ew2 = -1.2065335745820, 1.6077810345810 + 1.2065335745820**2
    r = sigma / mu
    taylor = math.sqrt(big.var * mu) * (1 + r * ew / 2 - r * r * ew2 / 8)
    add("mean vs 2nd-order Taylor mean, n=p=4000", big.mean(), taylor,
        math.sqrt(big.var * mu) * r**3 * 10 / 16)
    # Std against its first-order value tw_units * sd(TW_1); the second-order term is of relative
    # size ~ (sigma / mu) E|W|^3 / (4 sd W) ~ 1e-3, so 2e-3 relative is the tolerance.
    lin_sd = big.tw_units() * math.sqrt(1.6077810345810)
    add("std vs linearised std, n=p=4000", big.std(), lin_sd, 2e-3 * lin_sd)
    # delta0 at fixed c0 converges to its closed-form limit (corrections O(log n / n)).
    add("lemma3_delta0_at(2.3, 1e6, 1e6, sqrt3) vs limit", lemma3_delta0_at(2.3, 10**6, 10**6, math.sqrt(3)),
        lemma3_delta0_limit(2.3, math.sqrt(3)), 1e-3)
    # delta0 round trip.
    add("lemma3_q(lemma3_delta0(0.999, 128))", lemma3_q(lemma3_delta0(0.999, 128), 128), 0.999, 1e-14)
    return rows
