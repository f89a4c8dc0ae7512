"""Tracy-Widom laws TW_1, TW_2, TW_4 (paper 000, Section D.1; BEMA's threshold, Algorithm 2).

The largest eigenvalue of a GOE (beta=1) / GUE (beta=2) / GSE (beta=4) matrix, and of a real (beta=1)
white Wishart matrix X = W^T W / N, fluctuates on the scale N^{-2/3} with limit law F_beta. BEMA
(theory.bema) uses the quantile ``ppf(1 - tw_level, beta=1)``: here ``beta`` is always the
ensemble (Dyson) index 1, 2 or 4, never a probability level (BEMA's level is ``tw_level``).

Convention for beta = 4: Tracy & Widom (1996) / Bornemann (2010), F_4(t) = (det(I - A_u) + det(I + A_u))/2
with u = sqrt(2) t (theory._tw_quadrature); TW_4 has mean -2.3068848932 and variance 0.5177237208.
(Some authors, e.g. the beta-ensemble literature, use a variable scaled by 2^{-1/6} relative to this.)

Two methods, chosen by ``method=``:

- ``"quadrature"``: Bornemann's Fredholm-determinant quadrature (theory._tw_quadrature), the reference:
  ~1e-15 absolute accuracy, ~0.1 ms per point.
- ``"table"`` (default): piecewise polynomials stored in theory/_tw_tables.npz (theory.tw_tables:
  g = log(-log F), h = log(F'/F) and the inverse of g on [-20, UPPER]), built from the quadrature and,
  left of s = -6.25, -6.75, -5.25 (beta = 1, 2, 4; F < ~1e-6, 1e-11, 1e-9 there), from the left-tail
  asymptotic series (theory._tw_asymptotics), which is the more accurate of the two there. cdf, sf, pdf
  and ppf cost one to three compiled piecewise-polynomial evaluations (scipy PPoly). Left of -20 the
  series is evaluated directly; right of the tables (1 - F < 1e-17: F = 1 in double) the quadrature.
  Agreement with the quadrature: tests/test_tracy_widom.py and ``python -m theory.tw_tables``.

Relative accuracy of F in the left tail is limited for both methods: the quadrature's rounding floor
grows like eps / (1 - lambda_max) and the asymptotic series is only asymptotic; where they meet both
are ~1e-9 relative (F itself is < 1e-6 there, so the absolute error is < 1e-15).

ppf: ``table`` inverts y = log(-log p) with the inverse table, polished by one Newton step on the
forward table (so cdf(ppf(p)) = p to rounding); ``quadrature`` runs a safeguarded Newton iteration
(Newton inside a shrinking bracket, bisection when a step would leave it), solving cdf(s) = p for
p <= 1/2 and sf(s) = 1 - p above, stopping when the step or the bracket is below ``tol`` RELATIVE to
max(1, |s|) or the bracket is a few ulps wide.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.polynomial.legendre import leggauss

from core.validate import InvalidArgument, check_choice, check_float, check_int
from theory import _tw_asymptotics, _tw_quadrature, tw_tables
from theory._tw_quadrature import airy_ai  # noqa: F401  (re-exported: tests check the Airy table)

__all__ = ["cdf", "sf", "logcdf", "pdf", "ppf", "TracyWidom", "BETAS", "METHODS", "LOWER_LIMIT",
           "UPPER_LIMIT", "self_check"]

BETAS = (1, 2, 4)
METHODS = ("table", "quadrature")
# Outside [LOWER_LIMIT, UPPER_LIMIT] the mass is < 1e-28 (moments integrate over this range). The
# quadrature method reports F = 0 left of LOWER_LIMIT (its relative accuracy is gone there) and its
# ppf refuses p whose quantile lies outside.
LOWER_LIMIT = {1: -11.0, 2: -9.5, 4: -9.0}
UPPER_LIMIT = {1: 24.0, 2: 16.0, 4: 10.0}
# Beyond this the right tail and the density underflow for every beta (1 - F_1 ~ exp(-2/3 s^1.5)).
_RIGHT_UNDERFLOW = 150.0


def _check_beta(beta) -> int:
    if beta.__class__ is int and beta in BETAS:
        return beta
    value = check_int("beta", beta)
    if value not in BETAS:
        raise InvalidArgument(f"beta must be one of {BETAS} (Tracy-Widom TW_1, TW_2, TW_4), got {beta!r}")
    return value


def _check_method(method) -> str:
    if method == "table" or method == "quadrature":
        return method
    return check_choice("method", method, METHODS)


def _real_array(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise InvalidArgument(f"{name} must be real numbers, got {x!r} (dtype {arr.dtype})")
    return arr.astype(float, copy=False)


@lru_cache(maxsize=1)
def _tables():
    return tw_tables.load()


def _slow_points(x: np.ndarray, beta: int, with_derivative: bool, method: str):
    """(-log F, F'/F) at points the table does not cover (or all points for the quadrature)."""
    if method == "table" and (x < _tables()[beta]["left"]).all() and (x > -1e100).all():
        return _tw_asymptotics.left_tail(x, beta, with_derivative)  # the usual case: left tail only
    if np.isnan(x).any():
        raise InvalidArgument("s must not contain NaN")
    neg_log = np.zeros_like(x)
    dlog = np.zeros_like(x)
    if method == "table":
        left = x < _tables()[beta]["left"]
        series = left & np.isfinite(x)
        quad = ~left & (x < _RIGHT_UNDERFLOW)
    else:
        left = x < LOWER_LIMIT[beta]
        series = np.zeros_like(left)
        quad = ~left & (x < _RIGHT_UNDERFLOW)
    neg_log[left] = np.inf  # F = 0: overwritten by the series where it applies; pdf 0 (dlog 0)
    if series.any():
        with np.errstate(over="ignore", invalid="ignore"):
            nl, dl = _tw_asymptotics.left_tail(x[series], beta, with_derivative)
        neg_log[series] = nl
        if with_derivative:
            dlog[series] = np.where(np.isfinite(dl), dl, 0.0)
    if quad.any():
        nl, dl = _tw_quadrature.neg_log_cdf(x[quad], beta, with_derivative)
        neg_log[quad] = nl
        if with_derivative:
            dlog[quad] = dl
    return neg_log, dlog


def _neg_log_cdf(s, beta, method, with_derivative: bool):
    beta = _check_beta(beta)
    method = _check_method(method)
    arr = _real_array(s, "s")
    flat = arr.ravel()
    if method == "table":
        tab = _tables()[beta]
        neg_log = np.exp(tab["g"](flat))
        dlog = np.exp(tab["h"](flat)) if with_derivative else None
        outside = np.isnan(neg_log)
        if outside.any():  # NaN input, or a point left/right of the table
            nl, dl = _slow_points(flat[outside], beta, with_derivative, method)
            neg_log[outside] = nl
            if with_derivative:
                dlog[outside] = dl
    else:
        neg_log, dlog = _slow_points(flat, beta, with_derivative, method)
    return arr.shape, neg_log, dlog


def _shaped(out: np.ndarray, shape):
    return out[0] if shape == () else out.reshape(shape)


def cdf(s, beta: int = 1, method: str = "table"):
    """F_beta(s) = P(TW_beta <= s), beta in {1, 2, 4}; vectorised over s."""
    shape, neg_log, _ = _neg_log_cdf(s, beta, method, False)
    return _shaped(np.exp(-neg_log), shape)


def logcdf(s, beta: int = 1, method: str = "table"):
    """log F_beta(s), finite far into the left tail where F itself underflows."""
    shape, neg_log, _ = _neg_log_cdf(s, beta, method, False)
    return _shaped(-neg_log, shape)


def sf(s, beta: int = 1, method: str = "table"):
    """1 - F_beta(s), with relative accuracy in the right tail (no 1 - F cancellation)."""
    shape, neg_log, _ = _neg_log_cdf(s, beta, method, False)
    return _shaped(-np.expm1(-neg_log), shape)


def pdf(s, beta: int = 1, method: str = "table"):
    """F_beta'(s) = F (log F)': table of log((log F)'), or the exact derivative of the quadrature."""
    shape, neg_log, dlog = _neg_log_cdf(s, beta, method, True)
    F = np.exp(-neg_log)
    return _shaped(np.where(F > 0, dlog * F, 0.0), shape)


def _check_probabilities(p) -> np.ndarray:
    arr = _real_array(p, "p")
    if np.isnan(arr).any():
        raise InvalidArgument("p must not contain NaN")
    if arr.size and not ((arr >= 0.0).all() and (arr <= 1.0).all()):
        raise InvalidArgument(f"p must lie in [0, 1], got values in [{arr.min()!r}, {arr.max()!r}]")
    return arr


def ppf(p, beta: int = 1, method: str = "table", tol: float = 1e-14):
    """Quantile: the s with F_beta(s) = p (vectorised). ppf(0) = -inf, ppf(1) = inf.

    Parameters
    ----------
    p : array_like in [0, 1]
    beta : {1, 2, 4}
        The ensemble index (not a probability level).
    method : {"table", "quadrature"}
    tol : float in (0, 1e-2]
        Relative step tolerance of the quadrature method's Newton iteration (checked for both
        methods).

    Returns
    -------
    float or ndarray
        Shaped as ``p``.

    Examples
    --------
    >>> [round(float(ppf(q, beta=1)), 2) for q in (0.90, 0.95, 0.99)]   # Johnstone (2001), Table 1
    [0.45, 0.98, 2.02]
    >>> ppf([0.0, 1.0], beta=2)
    array([-inf,  inf])
    """
    beta = _check_beta(beta)
    method = _check_method(method)
    if not (tol.__class__ is float and 0.0 < tol <= 1e-2):
        tol = check_float("tol", tol, 0.0, 1e-2, lo_open=True)
    arr = _check_probabilities(p)
    flat = arr.ravel()
    if method == "table":
        out = _table_quantile(flat, beta)
    else:
        out = _quadrature_quantile(flat, beta, tol)
    return _shaped(out, arr.shape)


def _table_quantile(p: np.ndarray, beta: int) -> np.ndarray:
    tab = _tables()[beta]
    with np.errstate(divide="ignore"):
        y = np.log(-np.log(p))  # p = 0 -> inf, p = 1 -> -inf: outside the table
    s = tab["inv"](y)
    inside = ~np.isnan(s)
    if not inside.all():
        s[p == 0.0] = -np.inf
        s[p == 1.0] = np.inf
        left = np.isnan(s) & (y > tab["y_high"])
        if left.any():
            s[left] = _series_quantile(y[left], beta, tab["left"])
        rest = np.isnan(s)
        if rest.any():  # only if 1 - F(upper) were above 2^-53: quadrature
            s[rest] = _quadrature_quantile(p[rest], beta, 1e-14)
        s_in = s[inside]
    else:
        s_in = s
    # One Newton step on the forward table: y = g(s), g' = -exp(h - g); the inverse table is accurate
    # to ~1e-14, the step makes ppf the inverse of cdf to rounding.
    g_val = tab["g_ext"](s_in)
    step = (g_val - y[inside]) * np.exp(g_val - tab["h_ext"](s_in))
    if inside.all():
        return s_in + step
    s[inside] = s_in + step
    return s


def _series_quantile(y: np.ndarray, beta: int, left: float) -> np.ndarray:
    """Solve log(-log F(s)) = y left of the table with the asymptotic series (Newton, monotone)."""
    lead = {1: 1.0 / 24.0, 2: 1.0 / 12.0, 4: 2.0 * np.sqrt(2.0) / 24.0}[beta]  # -log F ~ lead |s|^3
    s = np.minimum(-np.cbrt(np.exp(y) / lead), left)
    for _ in range(60):
        nl, dl = _tw_asymptotics.left_tail(s, beta)
        step = (np.log(nl) - y) * nl / dl  # d/ds log(-log F) = -dlog / nl
        new = np.minimum(s + step, left)
        if np.all(np.abs(new - s) <= 4e-16 * np.abs(s)):
            return new
        s = new
    return s


def _quadrature_quantile(p: np.ndarray, beta: int, tol: float) -> np.ndarray:
    out = np.full(p.shape, np.nan)
    out[p == 0] = -np.inf
    out[p == 1] = np.inf
    todo = np.flatnonzero((p > 0) & (p < 1))
    if todo.size:
        lo_s, hi_s = LOWER_LIMIT[beta], UPPER_LIMIT[beta]
        p_in = p[todo]
        upper = p_in > 0.5
        target = np.where(upper, 1.0 - p_in, p_in)
        lo_val = cdf(lo_s, beta, "quadrature")
        hi_val = sf(hi_s, beta, "quadrature")
        if (target[~upper] <= lo_val).any() or (target[upper] <= hi_val).any():
            raise InvalidArgument(
                f"p too close to 0 or 1 for method='quadrature': the quantile lies outside [{lo_s}, {hi_s}] "
                "where the tail probability is below the quadrature's resolution (~1e-28); use method='table'"
            )
        out[todo] = _solve_quantile(target, upper, beta, lo_s, hi_s, tol)
    return out


def _solve_quantile(target, upper, beta, lo_s, hi_s, tol, max_iter: int = 200):
    """Safeguarded Newton on g(s) = cdf(s) - p (lower half) or (1-p) - sf(s) (upper half); g increasing.

    Convergence is RELATIVE (step or bracket below tol * max(1, |s|)), and a Newton step that does not
    land strictly inside the bracket is replaced by bisection, so the bracket shrinks every time the
    iteration would otherwise cycle (issue 10: at p = 0.01157619798251357, beta = 1, Newton oscillated
    between two points 4.1e-14 apart while the step and bracket tests were absolute 1e-14).
    """
    a = np.full(target.shape, lo_s)
    b = np.full(target.shape, hi_s)
    # Start near the bulk: the medians (TW_1 ~ -1.27, TW_2 ~ -1.80, TW_4 ~ -2.33).
    x = np.full(target.shape, {1: -1.27, 2: -1.80, 4: -2.33}[beta])
    active = np.ones(target.shape, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        xs = x[idx]
        neg_log, dlog = _tw_quadrature.neg_log_cdf(xs, beta, True)
        F = np.exp(-neg_log)
        dens = F * dlog
        g = np.where(upper[idx], target[idx] + np.expm1(-neg_log), F - target[idx])
        neg = g < 0
        a[idx] = np.where(neg, xs, a[idx])
        b[idx] = np.where(neg, b[idx], xs)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = xs - g / dens
        inside = np.isfinite(newton) & (newton > a[idx]) & (newton < b[idx])
        nxt = np.where(g == 0, xs, np.where(inside, newton, 0.5 * (a[idx] + b[idx])))
        step = np.abs(nxt - xs)
        x[idx] = nxt
        scale = tol * np.maximum(1.0, np.abs(nxt))
        width = b[idx] - a[idx]
        done = (step <= scale) | (width <= scale) | (width <= 4 * np.spacing(np.abs(nxt))) | (g == 0)
        active[idx[done]] = False
    if active.any():  # the bracket halves at least every other step: cannot happen
        raise RuntimeError("Tracy-Widom quantile solve did not converge")
    return x


class TracyWidom:
    """Frozen TW_beta law in scipy.stats style: TracyWidom(beta).cdf/.sf/.logcdf/.pdf/.ppf/.mean/.var/.std.

    mean/var are integrals of the pdf (composite Gauss-Legendre over [LOWER_LIMIT, UPPER_LIMIT];
    the mass outside is < 1e-28), computed once per beta and cached.

    Parameters
    ----------
    beta : {1, 2, 4}
        The ensemble (Dyson) index: GOE / real Wishart, GUE, GSE.
    method : {"table", "quadrature"}
        Stored piecewise polynomials (fast) or Bornemann's quadrature (the reference).

    Examples
    --------
    >>> tw = TracyWidom(beta=1)
    >>> round(tw.mean(), 6), round(tw.var(), 6)          # -1.2065335745820, 1.6077810345810
    (-1.206534, 1.607781)
    >>> round(float(tw.ppf(0.9)), 4)                     # BEMA's t at tw_level = 0.1
    0.4501
    >>> bool(abs(tw.cdf(tw.ppf(0.3)) - 0.3) < 1e-14)
    True
    """

    def __init__(self, beta: int, method: str = "table"):
        self.beta = _check_beta(beta)
        self.method = _check_method(method)

    def cdf(self, s):
        return cdf(s, self.beta, self.method)

    def logcdf(self, s):
        return logcdf(s, self.beta, self.method)

    def sf(self, s):
        return sf(s, self.beta, self.method)

    def pdf(self, s):
        return pdf(s, self.beta, self.method)

    def ppf(self, p):
        return ppf(p, self.beta, self.method)

    def mean(self) -> float:
        return _moments(self.beta)[1]

    def var(self) -> float:
        m0, m1, m2 = _moments(self.beta)
        return m2 - m1**2

    def std(self) -> float:
        return float(np.sqrt(self.var()))

    def support(self) -> tuple[float, float]:
        return (-np.inf, np.inf)

    def __repr__(self) -> str:
        return f"TracyWidom(beta={self.beta})" if self.method == "table" else \
            f"TracyWidom(beta={self.beta}, method={self.method!r})"


def moment_nodes(beta: int, panels: int = 40, order: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes/weights on [LOWER_LIMIT, UPPER_LIMIT] for integrating the pdf."""
    beta = _check_beta(beta)
    edges = np.linspace(LOWER_LIMIT[beta], UPPER_LIMIT[beta], panels + 1)
    t, w = leggauss(order)
    half = np.diff(edges)[:, None] / 2
    nodes = (edges[:-1, None] + half * (t[None, :] + 1)).ravel()
    weights = (half * w[None, :]).ravel()
    return nodes, weights


@lru_cache(maxsize=None)
def _moments(beta: int) -> tuple[float, float, float]:
    """(total mass, mean, second moment) of TW_beta by quadrature of ``pdf``."""
    nodes, weights = moment_nodes(beta)
    dens = pdf(nodes, beta)
    return (
        float(np.sum(weights * dens)),
        float(np.sum(weights * nodes * dens)),
        float(np.sum(weights * nodes**2 * dens)),
    )


# Published values, 13 significant digits: Bornemann (2010), Markov Process. Related Fields 16,
# Table 4 (beta = 1, 2, 4; also Prahofer-Spohn for beta = 2).
REFERENCE_MOMENTS = {
    1: {"mean": -1.2065335745820, "var": 1.6077810345810},
    2: {"mean": -1.7710868074116, "var": 0.8131947928329},
    4: {"mean": -2.3068848932410, "var": 0.5177237207726},
}


def self_check() -> list[dict]:
    """TW moments from the integrated pdf against the published constants (issue 2)."""
    rows = []
    for beta in BETAS:
        law = TracyWidom(beta)
        for name, value in (("mean", law.mean()), ("var", law.var())):
            ref = REFERENCE_MOMENTS[beta][name]
            err = abs(value - ref)
            rows.append(
                {
                    "check": f"TW{beta} {name} (integral of pdf) vs published",
                    "value": value,
                    "reference": ref,
                    "error": err,
                    "ok": err < 1e-10,
                }
            )
        mass = _moments(beta)[0]
        rows.append(
            {
                "check": f"TW{beta} total mass of pdf",
                "value": mass,
                "reference": 1.0,
                "error": abs(mass - 1.0),
                "ok": abs(mass - 1.0) < 1e-12,
            }
        )
    return rows
