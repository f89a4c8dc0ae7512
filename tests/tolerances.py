"""Test tolerances at a stated false-alarm level (issue 23 item 5).

Every statistical assertion of the suite should fail with probability <= ALPHA = 1e-4 when the code
is right, whatever the seed (the suite is rerun with ``--seed-shift K``).  A record's 95% interval
is NOT such a tolerance: used as one it false-alarms 5% of the time (2.5% per side).  The helpers
here turn a record's interval or a known sampling law into a tolerance at level ALPHA:

* ``mean_tol``: a mean of T iid, approximately Gaussian samples (a.s.-convergent quantities whose
  N^{-1/2} fluctuations are Gaussian: outlier eigen/singular values, overlaps, operator norms).
  The standard error is recovered from the record's Student-t interval and multiplied by the
  two-sided ALPHA quantile of t_{T-1}; the caller adds its finite-N bias allowance.
* ``chernoff_interval``: a mean of T iid copies of f(g), g ~ N(0, 1), for a known f (a skewed,
  non-Gaussian per-trial law, where a t quantile on few samples is wrong in the tails).  Each side
  is Chernoff's bound P(mean >= x) <= exp(-T I(x)) with the exact rate function of f(g) (computed
  by quadrature), set to ALPHA / 2: rigorous, no normal approximation.
"""
from __future__ import annotations

import numpy as np
from scipy import integrate, optimize, stats

ALPHA = 1e-4


def mean_tol(ci, trials: int, bias: float = 0.0, alpha: float = ALPHA, ci_level: float = 0.95) -> float:
    """Half-width with false-alarm probability <= alpha for |mean - truth| of ``trials`` iid Gaussian
    samples whose ``ci_level`` Student-t interval is ``ci``, plus ``bias`` (the finite-N allowance:
    the level holds if the true bias is within it).  For Gaussian samples the studentised mean is
    exactly t_{T-1}, so the level is exact; for a.s.-convergent statistics with Gaussian N^{-1/2}
    fluctuations it holds up to the CLT's error."""
    lo, hi = ci
    se = (hi - lo) / 2 / stats.t.ppf(0.5 + ci_level / 2, trials - 1)
    return float(stats.t.ppf(1 - alpha / 2, trials - 1) * se + bias)


def _log_mgf(f, lam: float, kinks=()) -> float:
    # log E exp(lam f(g)), g ~ N(0,1); shift by lam f(0) for stability, split at the kinks of f
    c = lam * f(0.0)
    pts = sorted(set([-40.0, *[float(k) for k in kinks if -40 < k < 40], 40.0]))
    total = sum(integrate.quad(lambda g: np.exp(lam * f(g) - c - g * g / 2), a, b,
                               epsabs=0, epsrel=1e-10, limit=200)[0] for a, b in zip(pts[:-1], pts[1:]))
    return c + float(np.log(total / np.sqrt(2 * np.pi)))


def chernoff_interval(f, trials: int, alpha: float = ALPHA, kinks=(), scale: float = 1.0):
    """(mean, lo, hi) with P(mean of ``trials`` iid f(g) outside [lo, hi]) <= alpha, g ~ N(0,1).

    f must be Lipschitz (so E exp(lam f(g)) is finite for every lam).  For each side, Chernoff:
    P(mean >= x) <= exp(-T sup_lam (lam x - log E e^{lam f})), and symmetrically below; x solves
    T I(x) = log(2 / alpha).  ``scale`` is a rough size of f (sets the search range of lam);
    ``kinks`` are points where f is not smooth (quadrature breakpoints)."""
    mean = integrate.quad(lambda g: f(g) * stats.norm.pdf(g), -40, 40, points=list(kinks) or None,
                          limit=200)[0]
    target = np.log(2 / alpha) / trials

    def rate(x):
        sign = 1.0 if x > mean else -1.0
        res = optimize.minimize_scalar(lambda lam: -(sign * lam * x - _log_mgf(f, sign * lam, kinks)),
                                       bounds=(0.0, 20.0 / scale), method="bounded",
                                       options={"xatol": 1e-9 / scale})
        return -res.fun

    spread = scale * (1 + 10 * np.sqrt(target))
    hi = optimize.brentq(lambda x: rate(x) - target, mean + 1e-12 * scale, mean + spread)
    lo_end = mean - spread
    lo = optimize.brentq(lambda x: rate(x) - target, lo_end, mean - 1e-12 * scale) \
        if rate(lo_end) > target else lo_end
    return float(mean), float(lo), float(hi)


def t_factor(trials: int, alpha: float = ALPHA) -> float:
    """Standard errors per two-sided ``alpha`` tolerance on the mean of ``trials`` iid Gaussian
    samples with the sample standard deviation: the 1 - alpha/2 quantile of t_{T-1}."""
    return float(stats.t.ppf(1 - alpha / 2, trials - 1))


def binom_band(n: int, p: float, alpha: float = ALPHA) -> tuple[int, int]:
    """Inclusive acceptance region (lo, hi) for a Bin(n, p) count: P(count < lo) <= alpha/2 and
    P(count > hi) <= alpha/2 (exact binomial tails, no normal approximation)."""
    law = stats.binom(n, p)
    lo = int(law.ppf(alpha / 2))           # smallest k with P(B <= k) >= alpha/2: P(B < k) < alpha/2
    while lo > 0 and law.cdf(lo - 1) > alpha / 2:
        lo -= 1
    hi = int(law.ppf(1 - alpha / 2))
    while law.sf(hi) > alpha / 2:
        hi += 1
    return lo, hi


def quantile_rank_band(n: int, q: float, alpha: float = ALPHA) -> tuple[int, int]:
    """0-based ranks (lo, hi) with P(x_(lo) <= Q_q <= x_(hi)) >= 1 - alpha for n iid samples of a
    continuous law with q-quantile Q_q (distribution-free, exact).  B = #{x_i < Q_q} ~ Bin(n, q), and
    x_(lo) <= Q_q  iff  B >= lo + 1,  Q_q <= x_(hi)  iff  B <= hi: the binomial band shifted by one."""
    b_lo, hi = binom_band(n, q, alpha)
    lo = b_lo - 1
    if lo < 0 or hi > n - 1:
        raise ValueError(f"{n} samples cannot bracket the {q} quantile at level {alpha}")
    return lo, hi
