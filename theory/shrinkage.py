"""Optimal hard thresholds and optimal shrinkers of singular values, against truncation at the MP edge.

References (equation numbers as in the arXiv versions):

* GD14: M. Gavish, D. L. Donoho, "The optimal hard threshold for singular values is 4/sqrt(3)",
  IEEE Trans. Inf. Theory 60 (2014) 5040-5053, arXiv:1305.5870.  lambda*(beta) (their eq. (11)),
  the unknown-noise coefficient omega(beta) = lambda*(beta) / sqrt(mu_beta) with mu_beta the median
  of the Marchenko-Pastur law of ratio beta, its cubic approximation (their eq. (5)), and the noise
  estimate sigma_hat = y_med / sqrt(n mu_beta).  (Equation numbers as the reference implementation
  optht cites them; the paper's text was not reachable here, only its abstract: lambda*(1) = 4/sqrt 3,
  omega(1) = 2.858, AMSE guarantees 5 / 3 / 2 n r sigma^2 for TSVD / 4/sqrt 3 / optimal shrinkage.)
* GD17: M. Gavish, D. L. Donoho, "Optimal shrinkage of singular values", IEEE Trans. Inf. Theory 63
  (2017) 2137-2152, arXiv:1405.7511.  The signal x(y) behind an outlier y, the cosines c(x),
  c~(x), and the optimal shrinkers for Frobenius, nuclear and operator norm losses.
* N14: R. R. Nadakuditi, "OptShrink: an algorithm for improved low-rank signal matrix denoising by
  optimal, data-driven singular value shrinkage", IEEE Trans. Inf. Theory 60 (2014) 3002-3018:
  eta_i = -2 D(sigma_i) / D'(sigma_i) with the D-transform of the empirical noise spectrum.

Normalisation (the papers')
---------------------------
Y = X + Z / sqrt(n) is m x n with m <= n, beta = m / n in (0, 1], Z iid N(0, 1).  Pure noise has
singular-value bulk [1 - sqrt(beta), 1 + sqrt(beta)].  A rank-one signal x a b^T (x > beta^{1/4})
produces an outlier

    y(x) = sqrt((1 + x^2)(beta + x^2)) / x,    x(y) = sqrt((y^2 - beta - 1 + sqrt((y^2-beta-1)^2 - 4 beta)) / 2),

and the cosines of the outlier's singular vectors with a (m-dim, the SMALL side) and b (n-dim, the
LARGE side) tend to c(x) and c~(x):

    c^2 = (x^4 - beta) / (x^4 + beta x^2),     c~^2 = (x^4 - beta) / (x^4 + x^2).

How it maps onto the package's convention (W = R + S, R N x M with iid N(0, 1/N) entries, c = M/N;
``theory.spiked``)
------------------------------------------------------------------------------------------------
With entry standard deviation ``noise_sigma`` (1/sqrt(N) for the package's R), the papers' unit on
singular values is ``unit = noise_sigma * sqrt(max(N, M))`` and beta = min(N, M) / max(N, M):

* c <= 1 (N >= M, tall W): n = N, m = M, beta = c, unit = 1.  The package's singular values ARE the
  papers' y; theta = x; the package's right vectors v (M-dim) are the small side (cosine c), the
  left vectors u (N-dim) the large side (cosine c~).  ``theory.spiked.overlap_limits`` gives
  (|<u,u'>|^2, |<v,v'>|^2) = (c~^2, c^2).
* c > 1 (N < M, wide W): W itself is the papers' m x n with m = N, n = M, beta = 1/c; the noise has
  entry variance 1/N = c / M, i.e. level sqrt(c) in the papers' units: unit = sqrt(c),
  y = s / sqrt(c), x = theta / sqrt(c).  Now u (N-dim) is the small side (cosine c) and v the large
  side.  The bulk edge unit (1 + sqrt(beta)) = sqrt(c) + 1 = 1 + sqrt(c) is the package's edge.
In both cases a shrinker eta of the papers acts on a package singular value s as
``unit * eta(s / unit, beta)``.  The package's Algorithm 3 (truncation) keeps s > unit (1 + sqrt beta)
= sqrt(lambda+) unchanged: the rule ``truncate`` here.

The operator-norm shrinker (a finding)
--------------------------------------
GD17 give eta(y) = x(y) for operator-norm loss.  On the 2 x 2 block of one spike (see
``theory.shrinkage_symbolic``), A = eta a' b'^T - x e_1 e_1^T with a' = (c, s), b' = (c~, s~),
s = sqrt(1 - c^2): testing A against the unit vectors orthogonal to a' and to b' gives
||A||_2 >= x max(s, s~) = x s~ for EVERY eta, with equality at eta = x c~ / c = x min(c/c~, c~/c).
For beta = 1 (c = c~) that is x(y); for beta < 1 the printed x(y) is strictly worse (e.g. beta = 1/4,
x = sqrt 2: 0.895 against 0.866).  ``optimal_shrinker(..., "operator")`` is the corrected one,
eta = x sqrt((x^2 + beta)/(x^2 + 1)); the printed one is ``debias_shrinker`` (rule ``"debias"``).
This agrees with the correction we recall from W. Leeb (Stat. Probab. Lett., 2022); that paper is not
reachable here, so the statement rests on the derivation above (checked in sympy and by direct
minimisation in tests/test_shrinkage.py).

Rules at the bulk edge
----------------------
Every rule sets singular values at or below its threshold to 0.  ``truncate`` and the operator
shrinkers jump at the edge (to the edge itself, to unit * sqrt(beta) for the corrected operator
shrinker, x -> beta^{1/4} in x sqrt((x^2 + beta)/(x^2 + 1)), and to unit * beta^{1/4} for
``debias``), so a noise singular
value that a finite-N fluctuation puts just above the edge is kept with a non-vanishing value; the
Frobenius and nuclear shrinkers are continuous there (0 at the edge), ``gd_threshold`` cuts well
above it.  The almost-sure limits of ``theory.shrinkage_symbolic`` assume no bulk value is kept
(the rule's threshold raised by any fixed eps > 0); ``sims.shrinkage`` measures how often the
exact-edge rules keep one.
"""
from __future__ import annotations

import math

import numpy as np

from core.validate import (InvalidArgument, check_choice, check_float, check_int, check_positive,
                           check_real_array)
from theory import spiked
from theory._selfcheck import check_row
from theory.marchenko_pastur import MarchenkoPastur

__all__ = [
    "LOSSES", "RULES",
    "aspect_ratio", "noise_unit", "bulk_edge",
    "gd_threshold_coefficient", "mp_median", "gd_unknown_noise_coefficient",
    "gd_unknown_noise_coefficient_cubic", "estimate_noise_sigma",
    "outlier_from_signal", "signal_from_outlier", "cosines",
    "optimal_shrinker", "debias_shrinker", "optshrink",
    "shrink_singular_values", "shrink_matrix", "self_check",
]

LOSSES = ("frobenius", "operator", "nuclear")
RULES = ("truncate", "gd_threshold", "frobenius", "operator", "nuclear", "debias", "optshrink")


# ----------------------------------------------------------------------------- shapes and units
def aspect_ratio(n_rows, n_cols) -> float:
    """beta = min(N, M) / max(N, M) in (0, 1]."""
    n_rows = check_int("n_rows", n_rows, 1)
    n_cols = check_int("n_cols", n_cols, 1)
    return min(n_rows, n_cols) / max(n_rows, n_cols)


def noise_unit(n_rows, n_cols, noise_sigma) -> float:
    """The papers' unit on singular values: noise_sigma * sqrt(max(N, M)) (module docstring)."""
    n_rows = check_int("n_rows", n_rows, 1)
    n_cols = check_int("n_cols", n_cols, 1)
    return check_positive("noise_sigma", noise_sigma) * math.sqrt(max(n_rows, n_cols))


def _beta(beta) -> float:
    return check_float("beta", beta, 0.0, 1.0, lo_open=True)


def bulk_edge(beta) -> float:
    """1 + sqrt(beta): top of the noise singular values in the papers' units."""
    return 1.0 + math.sqrt(_beta(beta))


# ----------------------------------------------------------------------------- GD14 hard threshold
def gd_threshold_coefficient(beta) -> float:
    """lambda*(beta) = sqrt(2 (beta + 1) + 8 beta / (beta + 1 + sqrt(beta^2 + 14 beta + 1))), GD14 eq.
    (11): the AMSE-optimal hard threshold on y for known noise (lambda*(1) = 4/sqrt 3)."""
    b = _beta(beta)
    return math.sqrt(2 * (b + 1) + 8 * b / (b + 1 + math.sqrt(b * b + 14 * b + 1)))


def mp_median(beta) -> float:
    """mu_beta: median of the MP law of ratio beta (eigenvalues of Y Y^T for pure noise, unit
    variance), from ``MarchenkoPastur.ppf`` (no atom: beta <= 1)."""
    return float(MarchenkoPastur(ratio=_beta(beta), sigma2=1.0).ppf(0.5))


def gd_unknown_noise_coefficient(beta) -> float:
    """omega(beta) = lambda*(beta) / sqrt(mu_beta) (GD14 Section on unknown noise): the threshold is
    omega(beta) * y_med with y_med the median singular value of the data (omega(1) ~ 2.858)."""
    return gd_threshold_coefficient(beta) / math.sqrt(mp_median(beta))


def gd_unknown_noise_coefficient_cubic(beta) -> float:
    """GD14's published approximation (eq. (5)): omega(beta) ~ 0.56 b^3 - 0.95 b^2 + 1.82 b + 1.43."""
    b = _beta(beta)
    return 0.56 * b**3 - 0.95 * b**2 + 1.82 * b + 1.43


def estimate_noise_sigma(singular_values, n_rows, n_cols) -> float:
    """sigma_hat = y_med / sqrt(max(N, M) mu_beta) (GD14): the entry standard deviation of the noise,
    from the median of all min(N, M) singular values (robust to a few outliers)."""
    s = _check_spectrum(singular_values, n_rows, n_cols)
    beta = aspect_ratio(n_rows, n_cols)
    return float(np.median(s)) / math.sqrt(max(n_rows, n_cols) * mp_median(beta))


# ----------------------------------------------------------------------------- GD17 spiked geometry
def outlier_from_signal(x, beta):
    """y(x) = sqrt((1 + x^2)(beta + x^2)) / x above x = beta^{1/4}, the edge 1 + sqrt(beta) below
    (papers' units; = ``theory.spiked.singular_value_limit`` for c <= 1)."""
    b = _beta(beta)
    x = check_real_array("x", x)
    if np.any(x < 0):
        raise InvalidArgument("x must be >= 0 (a singular value)")
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.sqrt((1 + x**2) * (b + x**2)) / x
    out = np.where(x > b**0.25, y, 1 + math.sqrt(b))
    return float(out) if out.ndim == 0 else out


def _x_of_y(y: np.ndarray, b: float) -> np.ndarray:
    t = y**2 - b - 1
    return np.sqrt(np.maximum(t + np.sqrt(np.maximum(t**2 - 4 * b, 0.0)), 0.0) / 2)


def signal_from_outlier(y, beta):
    """x(y) = sqrt((y^2 - beta - 1 + sqrt((y^2 - beta - 1)^2 - 4 beta)) / 2) for y > 1 + sqrt(beta)
    (GD17), 0 at or below the edge (no signal identifiable)."""
    b = _beta(beta)
    y = _check_y(y)
    out = np.where(y > 1 + math.sqrt(b), _x_of_y(y, b), 0.0)
    return float(out) if out.ndim == 0 else out


def cosines(x, beta):
    """(c, c~): limits of |<a, a'>| (small side, m-dim) and |<b, b'>| (large side, n-dim) for a
    signal x > beta^{1/4} (GD17); 0 at or below beta^{1/4}."""
    b = _beta(beta)
    x = check_real_array("x", x)
    above = x > b**0.25
    xs = np.where(above, x, 1.0)
    c2 = (xs**4 - b) / (xs**4 + b * xs**2)
    ct2 = (xs**4 - b) / (xs**4 + xs**2)
    c, ct = np.where(above, np.sqrt(np.maximum(c2, 0)), 0.0), np.where(above, np.sqrt(np.maximum(ct2, 0)), 0.0)
    return (float(c), float(ct)) if c.ndim == 0 else (c, ct)


def _check_y(y) -> np.ndarray:
    y = check_real_array("y", y)
    if np.any(y < 0):
        raise InvalidArgument("y must be >= 0 (singular values)")
    return y


def optimal_shrinker(y, beta, loss: str):
    """The optimal shrinker eta(y) for ``loss`` (papers' units, vectorised), 0 at or below the bulk
    edge 1 + sqrt(beta).  With x = x(y) and the cosines (c, c~):

    * ``"frobenius"`` (GD17): x c c~ = sqrt((y^2 - beta - 1)^2 - 4 beta) / y;
    * ``"nuclear"`` (GD17): max(0, x (c c~ - s s~)) = max(0, (x^4 - beta - sqrt(beta) x y) / (x^2 y));
    * ``"operator"``: x c~ / c = x sqrt((x^2 + beta) / (x^2 + 1)) (module docstring: GD17 print x,
      which is optimal only for beta = 1; ``debias_shrinker``).
    """
    b = _beta(beta)
    loss = check_choice("loss", loss, LOSSES)
    y = _check_y(y)
    above = y > 1 + math.sqrt(b)
    ys = np.where(above, y, 2 * (1 + math.sqrt(b)))   # any point above the edge; masked below
    x = _x_of_y(ys, b)
    if loss == "frobenius":
        eta = np.sqrt(np.maximum((ys**2 - b - 1) ** 2 - 4 * b, 0.0)) / ys
    elif loss == "nuclear":
        eta = np.maximum((x**4 - b - math.sqrt(b) * x * ys) / (x**2 * ys), 0.0)
    else:
        eta = x * np.sqrt((x**2 + b) / (x**2 + 1))
    out = np.where(above, eta, 0.0)
    return float(out) if out.ndim == 0 else out


def debias_shrinker(y, beta):
    """eta(y) = x(y) above the edge, 0 below: GD17's printed operator-norm shrinker (optimal for
    beta = 1 only; see the module docstring)."""
    return signal_from_outlier(y, beta)


# ----------------------------------------------------------------------------- N14 OptShrink
def optshrink(singular_values, n_rows, n_cols, rank):
    """OptShrink (N14, Algorithm 1): keep the ``rank`` largest singular values sigma_i and replace
    them by -2 D(sigma_i) / D'(sigma_i), D the D-transform (paper 000 (A.1); ``theory.spiked.
    DTransform``) of the remaining min(N, M) - rank singular values as the spectrum of an
    (N - rank) x (M - rank) noise matrix.  No noise level needed.  Returns all min(N, M) values in
    the input order (0 for the others).  The kept values must exceed the noise spectrum strictly
    (D has a pole at its top)."""
    s = _check_spectrum(singular_values, n_rows, n_cols)
    k = s.size
    rank = check_int("rank", rank, 0, k - 1)
    out = np.zeros_like(s)
    if rank == 0:
        return out
    order = np.argsort(-s, kind="stable")
    top, rest = s[order[:rank]], s[order[rank:]]
    if not top.min() > rest.max():
        raise InvalidArgument(f"optshrink needs the {rank} kept singular values above the noise "
                              f"spectrum, got min kept {top.min():.6g} <= max noise {rest.max():.6g}")
    dt = spiked.DTransform.from_singular_values(rest, n_rows - rank, n_cols - rank)
    d = np.asarray(dt(top), dtype=float)
    dd = np.asarray(dt.derivative(top), dtype=float)
    out[order[:rank]] = -2 * d / dd
    return out


# ----------------------------------------------------------------------------- the contract
def _check_spectrum(singular_values, n_rows, n_cols) -> np.ndarray:
    n_rows = check_int("n_rows", n_rows, 1)
    n_cols = check_int("n_cols", n_cols, 1)
    s = check_real_array("s", singular_values, ndim=1)
    k = min(n_rows, n_cols)
    if s.size != k:
        raise InvalidArgument(f"s must hold all min(n_rows, n_cols) = {k} singular values of an "
                              f"{n_rows} x {n_cols} matrix, got {s.size}")
    if np.any(s < 0):
        raise InvalidArgument("s must be >= 0 (singular values)")
    return s


def _shrink(s, n_rows, n_cols, rule, noise_sigma, rank):
    rule = check_choice("rule", rule, RULES)
    s = _check_spectrum(s, n_rows, n_cols)
    beta = aspect_ratio(n_rows, n_cols)
    if noise_sigma is None:
        sigma = estimate_noise_sigma(s, n_rows, n_cols)
        if not sigma > 0:
            raise InvalidArgument("noise level cannot be estimated: the median singular value is 0 "
                                  "(pass noise_sigma)")
    else:
        sigma = check_positive("noise_sigma", noise_sigma)
    unit = sigma * math.sqrt(max(n_rows, n_cols))
    y = s / unit
    edge = 1 + math.sqrt(beta)
    if rule == "truncate":
        return np.where(y > edge, s, 0.0)
    if rule == "gd_threshold":
        return np.where(y > gd_threshold_coefficient(beta), s, 0.0)
    if rule == "debias":
        return unit * np.asarray(debias_shrinker(y, beta))
    if rule == "optshrink":
        if rank is None:
            rank = int(np.count_nonzero(y > edge))
        return optshrink(s, n_rows, n_cols, min(int(rank), s.size - 1))
    return unit * np.asarray(optimal_shrinker(y, beta, rule))


def shrink_singular_values(s, n_rows, n_cols, rule, *, noise_sigma=None):
    """New singular values of an ``n_rows x n_cols`` matrix under ``rule`` (THE contract used by the
    pruning API, ``nets``).

    Parameters
    ----------
    s: all min(n_rows, n_cols) singular values of the matrix (any order; the output keeps it).
    n_rows, n_cols: the matrix shape (orientation does not matter: beta = min/max).
    rule: one of ``RULES``:
        ``"truncate"``     keep s > noise_sigma sqrt(max(N, M)) (1 + sqrt(beta)) unchanged (the MP
                           edge sqrt(lambda+) of papers 000/001, Algorithm 3), drop the rest;
        ``"gd_threshold"`` keep s > lambda*(beta) noise_sigma sqrt(max(N, M)) unchanged (GD14; with
                           noise_sigma=None this is s > omega(beta) median(s));
        ``"frobenius"``, ``"operator"``, ``"nuclear"``  the optimal shrinkers (``optimal_shrinker``);
        ``"debias"``       s -> x(s) (GD17's printed operator shrinker);
        ``"optshrink"``    OptShrink (N14) with rank = #{s above the MP edge}; no noise level used
                           except to pick that rank.
    noise_sigma: standard deviation of one noise ENTRY (not of the matrix): 1/sqrt(N) for the
        package's R ~ N(0, 1/N); for a weight layer with a BEMA fit (``theory.bema``, X = W^T W / N
        of the tall orientation) it is sqrt(fit.sigma2).  None: estimated from the median singular
        value (``estimate_noise_sigma``, GD14).

    Returns the new singular values (float64 array, shape of ``s``); the rank kept is the number
    of non-zero entries.  Raises ``core.validate.InvalidArgument`` on bad input.
    """
    return _shrink(s, n_rows, n_cols, rule, noise_sigma, None)


def shrink_matrix(W, rule, *, noise_sigma=None, rank=None):
    """(W_hat, rank_kept): ``rule`` applied to the singular values of the 2-D array ``W`` (numpy SVD),
    W_hat = U diag(eta(s)) V^T.  ``rank``: OptShrink's signal rank (default: the number of singular
    values above the MP edge); refused for the other rules, whose rank follows from the rule."""
    W = check_real_array("W", W, ndim=2, min_size=1)
    rule = check_choice("rule", rule, RULES)
    if rank is not None and rule != "optshrink":
        raise InvalidArgument(f"rank is OptShrink's signal rank; rule {rule!r} sets its own rank, "
                              f"got rank={rank!r}")
    n_rows, n_cols = W.shape
    if rank is not None:
        rank = check_int("rank", rank, 0, min(n_rows, n_cols) - 1)
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    new = _shrink(s, n_rows, n_cols, rule, noise_sigma, rank)
    keep = new != 0
    return (U[:, keep] * new[keep]) @ Vt[keep], int(np.count_nonzero(keep))


# ----------------------------------------------------------------------------- self check
def self_check() -> list[dict]:
    rows = [check_row("lambda*(1) vs 4/sqrt(3) (GD14 abstract)", gd_threshold_coefficient(1.0),
                      4 / math.sqrt(3)),
            check_row("omega(1) vs 2.858 (GD14 abstract, 3 decimals)",
                      gd_unknown_noise_coefficient(1.0), 2.858, tol=5e-4 / 2.858)]
    # closed forms: square Frobenius shrinker sqrt(y^2 - 4) (GD17 abstract), x(y(x)) = x
    rows.append(check_row("frobenius shrinker, beta=1, y=3 vs sqrt(5)",
                          optimal_shrinker(3.0, 1.0, "frobenius"), math.sqrt(5.0)))
    rows.append(check_row("x(y(1.7)) at beta=0.3", signal_from_outlier(outlier_from_signal(1.7, 0.3), 0.3),
                          1.7))
    # package mapping: y(x) is theory.spiked's outlier limit for c = beta <= 1
    rows.append(check_row("y(x) vs spiked.singular_value_limit, c=0.3, theta=1.7",
                          outlier_from_signal(1.7, 0.3), spiked.singular_value_limit(1.7, 0.3)))
    c, ct = cosines(1.7, 0.3)
    u2, v2 = spiked.overlap_limits(1.7, 0.3)
    rows.append(check_row("c~^2 (large side) vs spiked u-overlap, c=0.3", ct**2, u2))
    rows.append(check_row("c^2 (small side) vs spiked v-overlap, c=0.3", c**2, v2))
    return rows
