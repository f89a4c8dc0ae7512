"""BEMA (paper 000 Algorithm 2, after Ke, Ma and Lin, JASA 2021) for any aspect ratio, and the MP fit
test (paper 000 Algorithm 4 = paper 001 Section 4.3).

Convention (package-wide, see ``theory.marchenko_pastur``): W is N x M (``n_rows = N``,
``n_cols = M``), ratio ``c = M / N``, and ``eigenvalues`` are those of ``X = W^T W / N``.

Algorithm 2, general aspect ratio
---------------------------------
Ke-Ma-Lin observe an n x p data matrix (n samples, p variables), form ``S = X^T X / n`` and write
``gamma = p / n``.  Our W plays their data matrix: **their n = our N (n_rows), their p = our M
(n_cols), their gamma = our c**.  Then

1. ``sigma^2 = sum_k q_k lambda_(k) / sum_k q_k^2`` over ``alpha n' <= k <= (1 - alpha) n'``, where
   ``lambda_(k)`` is the k-th smallest of the ``n' = min(N, M)`` nonzero eigenvalues and ``q_k`` the
   quantile of their limit law at unit variance at the level given by ``levels`` (below; default
   ``(k - 1/2)/n'``) (least squares through the origin: MP quantiles scale with sigma^2).  For ``c <= 1`` that law is ``MP(c, 1)``.  For ``c > 1``, X has
   ``M - N`` structural zero eigenvalues carrying no information about sigma^2; the N nonzero ones
   are those of ``W W^T / N`` whose limit law is ``MP(1/c, c)`` (the nonzero part of ``MP(c, 1)``
   renormalised), and the fit uses them.
   Which quantile is paired with the k-th smallest eigenvalue (``levels``): paper 000 step 3 calls
   q_k the "(k/N) upper-quantile" but defines it by ``int_0^{q_k} = k/N`` (a lower quantile) and pairs
   it with the k-th *smallest* eigenvalue ("lower", level k/n); Ke-Ma-Lin's "(k/p) upper quantile"
   with eigenvalues in decreasing order is level (k-1)/n for the k-th smallest ("upper").  The k-th
   order statistic sits at level ~(k - 1/2)/n, so both printed readings bias sigma^2 by about
   -/+ 1/(2n) in level, which is about one sampling standard deviation of sigma^2 at every n (both are
   O(1/n)), and moves lambda+ by O(n^{-1/3}) Tracy-Widom units.  The default here is
   "midpoint", level (k - 1/2)/n, which removes that bias; the exceedance P(top noise eigenvalue >
   lambda+) of each pairing, and of the oracle with sigma^2 known, is measured by
   ``python -m sims.bema_checks`` (``results/bema_checks.json``).  The oracle's own shortfall is the
   O(N^{-1/3}) error of the (N, M) centring in step 3, which is kept as printed.
2. ``t = TW_1.ppf(1 - tw_level)`` (real entries: the beta = 1 Tracy-Widom law of
   ``theory.tracy_widom``). The paper calls the level beta; here it is ``tw_level``, because
   ``theory.tracy_widom``'s ``beta`` is the ensemble index (1, 2, 4). ``beta=`` is accepted as a
   deprecated alias for a release.
3. ``lambda+ = sigma^2 [(1 + sqrt c)^2 + t N^{-2/3} c^{-1/6} (1 + sqrt c)^{4/3}]``.

Step 3 (the paper's step 7) is Johnstone's (2001) centring and scaling of the largest eigenvalue,
``mu = (sqrt N + sqrt M)^2``, ``s = (sqrt N + sqrt M)(1/sqrt N + 1/sqrt M)^{1/3}``, divided by N;
it is symmetric in (N, M), so the same formula holds for ``c > 1``.  For square W (c = 1) it is the
paper's ``4 + 2^{4/3} t N^{-2/3}`` exactly.  The exponent is 4/3: ``(1+sqrt g)**4/3`` in a public
reference implementation is ``(1 + sqrt g)^4 / 3`` by operator precedence, which is wrong.

Algorithm 4 (MP fit test), as printed
-------------------------------------
``i_low`` = smallest integer with ``i_low / M >= alpha``, ``i_high`` = largest with
``i_high / M <= 1 - alpha``; ``s = max_{i_low <= i <= i_high} |F_X(i) - F'_X(i)|`` with ``F_X`` the
empirical cdf of the M eigenvalues of X (D.2) and ``F'_X`` the MP cdf "with parameters sigma^2 and
lambda = N/M"; reject when ``s > gamma`` (tolerance tau here).  Read literally, ``F_X(i)`` evaluates
the cdfs at the integer i; the text ("sampling at each point in the empirical distribution") means the
i-th smallest eigenvalue.  So ``mp_fit_error`` is

    max_{i_low <= i <= i_high} | F_X(lambda_(i)) - F_MP(lambda_(i); c = M/N, sigma^2) |,

``F_X(a) = #{j : lambda_j <= a} / M`` (right-continuous, ties counted; i counted from 1, so
``i_low >= 1``).  The paper's ``lambda = N/M`` contradicts Theorem 3.1's ``c = M/N`` (they agree only
for square W; with N/M the fitted law is wrong for rectangular W), so we use ``c = M/N``.
``bulk_sup_distance`` is the variant "empirical cdf of the bulk against the fitted MP cdf": the same
absolute difference, maximised over every eigenvalue ``<= lambda+`` and on both sides of each jump.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from core.validate import InvalidArgument, check_allocation, check_choice, check_float, check_int, check_real_array
from theory import tracy_widom
from theory.marchenko_pastur import MarchenkoPastur

__all__ = ["BemaFit", "fit", "fit_matrix", "fit_sigma2", "fit_window", "quantile_levels", "QUANTILE_LEVELS",
           "edge_with_tw_correction", "tw_quantile", "self_check"]

# Eigenvalues of a Gram matrix are >= 0; LAPACK returns them with absolute error of order
# eps * max|lambda| times a modest multiple of the dimension.
_ROUNDING_FACTOR = 64.0
_MIN_WINDOW = 3
# Level of the k-th smallest eigenvalue is (k - shift)/n.  "lower": paper 000 Algorithm 2 step 3 as
# its integral defines q_k (int_0^{q_k} = k/N); "upper": Ke-Ma-Lin's "(k/p) upper-quantile" paired
# with the k-th *largest* eigenvalue, i.e. level (k-1)/n for the k-th smallest; "midpoint": (k-1/2)/n,
# the centre of the k-th order statistic's probability cell.
QUANTILE_LEVELS = {"lower": 0.0, "midpoint": 0.5, "upper": 1.0}


def _renamed_level(tw_level, beta, function: str) -> float:
    """``tw_level``, or the deprecated ``beta`` (with a DeprecationWarning at the user's line)."""
    if beta is None:
        return 0.1 if tw_level is None else tw_level
    warnings.warn(f"{function}: 'beta' is renamed 'tw_level' (Algorithm 2's Tracy-Widom level); "
                  "theory.tracy_widom's beta is the ensemble index. 'beta' will be removed in the next "
                  "release", DeprecationWarning, stacklevel=3)
    if tw_level is not None and tw_level != beta:
        raise InvalidArgument(f"{function}: give tw_level or its old name beta, not both")
    return beta


@lru_cache(maxsize=64)
def tw_quantile(tw_level: float) -> float:
    """``t_{1-tw_level}``: the (1 - tw_level) quantile of TW_1 (Algorithm 2 step 6), cached.

    Examples
    --------
    >>> round(tw_quantile(0.1), 4)
    0.4501
    """
    tw_level = _check_level("tw_level", tw_level, 1.0)
    if 1.0 - tw_level >= 1.0:
        # ppf(1) = inf would make lambda+ infinite and silently report no spikes
        raise InvalidArgument(f"tw_level = {tw_level!r} is below double precision: 1 - tw_level rounds to 1")
    return float(tracy_widom.ppf(1.0 - tw_level, beta=1))


def edge_with_tw_correction(sigma2: float, n_rows: int, ratio: float, t: float) -> float:
    """``sigma^2 [(1 + sqrt c)^2 + t N^{-2/3} c^{-1/6} (1 + sqrt c)^{4/3}]`` (Algorithm 2 step 7,
    general aspect ratio; see the module docstring for the map to Ke-Ma-Lin's n, gamma)."""
    for name, v in (("sigma2", sigma2), ("ratio", ratio)):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    if not math.isfinite(t):
        raise ValueError(f"Tracy-Widom quantile t must be finite, got {t!r}")
    if isinstance(n_rows, bool) or int(n_rows) != n_rows or n_rows < 1:
        raise ValueError(f"n_rows must be a positive integer, got {n_rows!r}")
    root = math.sqrt(ratio)
    return sigma2 * ((1.0 + root) ** 2
                     + t * n_rows ** (-2.0 / 3.0) * ratio ** (-1.0 / 6.0) * (1.0 + root) ** (4.0 / 3.0))


@dataclass(frozen=True)
class BemaFit:
    """Result of BEMA + the Algorithm 4 statistic.  Eigenvalues refer to ``X = W^T W / n_rows``.

    Attributes
    ----------
    sigma2 : float
        The fitted noise entry variance (Algorithm 2 step 5).
    lambda_plus : float
        The edge with the Tracy-Widom margin (step 7), for the eigenvalues of X.
    n_rows, n_cols : int
        N and M (ratio c = M / N).
    alpha, tw_level : float
        The trimmed fraction and the Tracy-Widom level (the paper's beta; ``.beta`` still reads it).
    tw_quantile : float
        t = TW_1.ppf(1 - tw_level).
    n_spikes : int
        Eigenvalues above lambda_plus.
    mp_fit_error : float
        Algorithm 4's sup distance; ``accepts(tau)`` compares it with tau.
    """

    sigma2: float
    lambda_plus: float
    n_rows: int
    n_cols: int
    alpha: float
    tw_level: float
    tw_quantile: float
    levels: str
    n_spikes: int
    mp_fit_error: float
    bulk_sup_distance: float
    eigenvalues: np.ndarray = field(repr=False)

    @property
    def ratio(self) -> float:
        return self.n_cols / self.n_rows

    @property
    def beta(self) -> float:
        """Deprecated name of ``tw_level``."""
        return self.tw_level

    @property
    def mp_edge(self) -> float:
        """``sigma^2 (1 + sqrt c)^2``: the fitted law's edge, without the Tracy-Widom margin."""
        return self.sigma2 * (1.0 + math.sqrt(self.ratio)) ** 2

    @property
    def singular_value_threshold(self) -> float:
        """``sqrt(lambda+ N)``: the same edge for the singular values of W (Algorithm 3 step 6)."""
        return math.sqrt(self.lambda_plus * self.n_rows)

    @property
    def law(self) -> MarchenkoPastur:
        """The fitted MP law of X (Algorithm 4's F'_X, with c = M/N)."""
        return MarchenkoPastur(self.ratio, self.sigma2)

    def accepts(self, tau: float) -> bool:
        """Algorithm 4 steps 8-11: keep the MP hypothesis iff ``mp_fit_error <= tau``."""
        tau = check_float("tau", tau, 0.0, None, lo_open=True)
        return self.mp_fit_error <= tau


def _check_dims(n_rows, n_cols) -> tuple[int, int]:
    n_rows, n_cols = check_int("n_rows", n_rows, 1, None), check_int("n_cols", n_cols, 1, None)
    # fit() holds all n_cols eigenvalues (zeros included) in memory: refuse what cannot fit
    check_allocation("n_cols", n_cols)
    return n_rows, n_cols


def _check_level(name: str, value, upper: float) -> float:
    return check_float(name, value, 0.0, upper, lo_open=True, hi_open=True)


def _nonzero_spectrum(eigenvalues, n_rows: int, n_cols: int) -> np.ndarray:
    """Validated, sorted nonzero spectrum (length min(N, M)) from the M (or min(N, M)) eigenvalues."""
    ev = check_real_array("eigenvalues", eigenvalues, ndim=1)
    rank = min(n_rows, n_cols)
    if ev.size not in (n_cols, rank):
        raise InvalidArgument(f"eigenvalues: got {ev.size} eigenvalues but X = W^T W / N of a {n_rows} x {n_cols} W has "
                         f"{n_cols} (or {rank} nonzero); check n_rows / n_cols")
    ev = np.sort(ev)
    tol = _ROUNDING_FACTOR * np.finfo(float).eps * ev.size * max(abs(ev[-1]), abs(ev[0]), 1e-300)
    if ev[0] < -tol:
        raise InvalidArgument(f"eigenvalues: negative eigenvalue {ev[0]:.3g} beyond rounding (tolerance {tol:.2g}); "
                         "X = W^T W / N is positive semi-definite")
    if ev.size > rank:
        structural = ev[:ev.size - rank]
        if structural[-1] > tol:
            raise InvalidArgument(f"eigenvalues: with n_cols = {n_cols} > n_rows = {n_rows}, X has rank <= {n_rows}, but the "
                             f"{ev.size - rank} smallest eigenvalues are not ~0 (largest {structural[-1]:.3g}); "
                             "check n_rows / n_cols")
        ev = ev[ev.size - rank:]
    return np.maximum(ev, 0.0)


def _reference_law(ratio: float) -> MarchenkoPastur:
    """Unit-variance limit law of the min(N, M) nonzero eigenvalues."""
    return MarchenkoPastur(ratio, 1.0) if ratio <= 1.0 else MarchenkoPastur(1.0 / ratio, ratio)


def quantile_levels(k: np.ndarray, n: int, levels: str) -> np.ndarray:
    """Probability level paired with the k-th smallest of n eigenvalues (k = 1..n)."""
    check_choice("levels", levels, sorted(QUANTILE_LEVELS))
    return (k - QUANTILE_LEVELS[levels]) / n


def fit_window(n: int, alpha: float) -> np.ndarray:
    """Indices ``alpha n <= k <= (1 - alpha) n`` (1-based) of Algorithm 2 step 2."""
    k = np.arange(math.ceil(alpha * n - 1e-9), math.floor((1.0 - alpha) * n + 1e-9) + 1)
    k = k[(k >= 1) & (k <= n)]
    if k.size < _MIN_WINDOW:
        raise ValueError(f"too few eigenvalues: the window alpha*n <= k <= (1-alpha)*n holds {k.size} of "
                         f"n = {n} nonzero eigenvalues (alpha = {alpha}); need at least {_MIN_WINDOW}")
    return k


@lru_cache(maxsize=256)
def reference_quantiles(ratio: float, n: int, alpha: float, levels: str) -> tuple[np.ndarray, np.ndarray]:
    """(k, q_k) of Algorithm 2 steps 2-4 for n nonzero eigenvalues; cached (read-only arrays), since
    Monte Carlo loops refit the same shape many times."""
    k = fit_window(n, alpha)
    q = _reference_law(ratio).ppf(quantile_levels(k, n, levels))
    k.setflags(write=False)
    q.setflags(write=False)
    return k, q


def fit_sigma2(nonzero: np.ndarray, ratio: float, alpha: float, levels: str = "midpoint") -> float:
    """Algorithm 2 steps 2-5: least squares of sorted bulk eigenvalues on MP quantiles."""
    n = nonzero.size
    check_choice("levels", levels, sorted(QUANTILE_LEVELS))
    k, q = reference_quantiles(float(ratio), int(n), float(alpha), levels)
    lam = nonzero[k - 1]
    sigma2 = float(q @ lam / (q @ q))
    if not sigma2 > 0:
        raise ValueError("the bulk eigenvalues in the fit window are all zero: sigma^2 cannot be fitted")
    return sigma2


def fit_errors(full_spectrum: np.ndarray, ratio: float, sigma2: float, alpha: float,
               lambda_plus: float) -> tuple[float, float]:
    """(Algorithm 4's s, bulk_sup_distance); ``full_spectrum`` sorted, all M eigenvalues."""
    m = full_spectrum.size
    law = MarchenkoPastur(ratio, sigma2)
    model = law.cdf(full_spectrum)
    ecdf = np.searchsorted(full_spectrum, full_spectrum, side="right") / m
    ecdf_left = np.searchsorted(full_spectrum, full_spectrum, side="left") / m
    i_low = max(1, math.ceil(alpha * m - 1e-9))
    i_high = math.floor((1.0 - alpha) * m + 1e-9)
    window = slice(i_low - 1, i_high)
    s = float(np.max(np.abs(ecdf[window] - model[window]))) if i_high >= i_low else math.nan
    bulk = full_spectrum <= lambda_plus
    if bulk.any():
        # left limits on both sides: F(x-) differs from F(x) at the atom x = 0 (ratio > 1)
        model_left = law.cdf(np.nextafter(full_spectrum, -np.inf))
        diff = np.maximum(np.abs(ecdf - model), np.abs(ecdf_left - model_left))
        bulk_sup = float(np.max(diff[bulk]))
    else:
        bulk_sup = math.nan
    return s, bulk_sup


def fit(eigenvalues, n_rows: int, n_cols: int, alpha: float = 0.1, tw_level: float | None = None,
        levels: str = "midpoint", *, beta: float | None = None) -> BemaFit:
    """BEMA (Algorithm 2) and the MP fit statistic (Algorithm 4) from the spectrum of X = W^T W / N.

    Parameters
    ----------
    eigenvalues : array_like
        The M eigenvalues of X, or only its min(N, M) nonzero ones (e.g. squared singular values
        of W divided by N).
    n_rows, n_cols : int
        N and M (W is N x M; ratio c = M / N).
    alpha : float in (0, 1/2), default 0.1
        Fraction trimmed at each end of the bulk.
    tw_level : float in (0, 1), default 0.1
        The probability that a pure-noise top eigenvalue exceeds lambda+ (the paper's beta;
        ``beta=`` is its deprecated name).
    levels : {"midpoint", "lower", "upper"}
        Which quantile each sorted eigenvalue is matched to, see ``QUANTILE_LEVELS``; the paper's
        own reading (``"lower"``, k/n) biases sigma^2 down by about one sampling sd.

    Returns
    -------
    BemaFit

    Examples
    --------
    >>> import numpy as np
    >>> from theory import bema
    >>> W = np.random.default_rng(0).standard_normal((400, 200))    # pure noise, sigma^2 = 1
    >>> f = bema.fit(np.linalg.svd(W, compute_uv=False) ** 2 / 400, 400, 200)
    >>> bool(abs(f.sigma2 - 1) < 0.05), f.accepts(0.7)
    (True, True)
    >>> bool(f.lambda_plus > f.mp_edge)       # the Tracy-Widom margin above sigma^2 (1 + sqrt c)^2
    True
    """
    tw_level = _renamed_level(tw_level, beta, "bema.fit")
    n_rows, n_cols = _check_dims(n_rows, n_cols)
    alpha = _check_level("alpha", alpha, 0.5)
    tw_level = _check_level("tw_level", tw_level, 1.0)
    check_choice("levels", levels, sorted(QUANTILE_LEVELS))
    ratio = n_cols / n_rows
    nonzero = _nonzero_spectrum(eigenvalues, n_rows, n_cols)
    sigma2 = fit_sigma2(nonzero, ratio, alpha, levels)
    t = tw_quantile(tw_level)
    lambda_plus = edge_with_tw_correction(sigma2, n_rows, ratio, t)
    full = np.concatenate((np.zeros(n_cols - nonzero.size), nonzero))
    s, bulk_sup = fit_errors(full, ratio, sigma2, alpha, lambda_plus)
    return BemaFit(sigma2=sigma2, lambda_plus=lambda_plus, n_rows=n_rows, n_cols=n_cols, alpha=alpha,
                   tw_level=tw_level, tw_quantile=t, levels=levels, n_spikes=int(np.count_nonzero(nonzero > lambda_plus)),
                   mp_fit_error=s, bulk_sup_distance=bulk_sup, eigenvalues=full)


def fit_matrix(W, alpha: float = 0.1, tw_level: float | None = None, levels: str = "midpoint", *,
               beta: float | None = None) -> BemaFit:
    """BEMA on a matrix W (N x M): eigenvalues of ``W^T W / N`` from the singular values of W.

    Parameters are those of :func:`fit`; returns a :class:`BemaFit`.

    Examples
    --------
    >>> import numpy as np
    >>> from theory import bema
    >>> rng = np.random.default_rng(1)
    >>> W = rng.standard_normal((300, 300)) + 3 * np.outer(rng.standard_normal(300), rng.standard_normal(300)) / 300 ** 0.5
    >>> bema.fit_matrix(W).n_spikes >= 1      # the planted direction (a noise one w.p. ~ tw_level)
    True
    """
    tw_level = _renamed_level(tw_level, beta, "bema.fit_matrix")
    W = check_real_array("W", W, ndim=2)
    n_rows, n_cols = W.shape
    sv = np.linalg.svd(W, compute_uv=False)
    return fit(sv ** 2 / n_rows, n_rows, n_cols, alpha=alpha, tw_level=tw_level, levels=levels)


def self_check() -> list[dict]:
    """Square-case reduction (Algorithm 2 step 7) and sigma^2 recovered from exact MP quantiles."""
    rows = []
    n, t = 500, tw_quantile(0.1)
    general = edge_with_tw_correction(1.0, n, 1.0, t)
    paper = 4.0 + 2.0 ** (4.0 / 3.0) * t * n ** (-2.0 / 3.0)
    rows.append(dict(check="BEMA edge at c=1 vs paper 4+2^{4/3} t N^{-2/3}", value=general,
                     reference=paper, error=abs(general - paper), ok=abs(general - paper) < 1e-14))
    rows.append(dict(check="TW_1 0.9-quantile used by BEMA (known 0.4501)", value=t, reference=0.4501,
                     error=abs(t - 0.4501), ok=abs(t - 0.4501) < 1e-4))
    for ratio in (0.5, 2.0):
        n_rows, n_cols = 400, int(400 * ratio)
        law = MarchenkoPastur(ratio, 1.7)
        # an idealised spectrum, the law's own quantiles at levels i/(M+1) (the means of uniform
        # order statistics, a convention other than the fit's): recovers sigma^2 to O(1/M)
        ev = law.ppf(np.arange(1, n_cols + 1) / (n_cols + 1))
        res = fit(ev, n_rows, n_cols)
        rows.append(dict(check=f"BEMA sigma^2 on MP quantiles i/(M+1), c={ratio}", value=res.sigma2,
                         reference=1.7, error=abs(res.sigma2 - 1.7),
                         ok=abs(res.sigma2 - 1.7) < 2 * 1.7 / min(n_rows, n_cols)))
    return rows
