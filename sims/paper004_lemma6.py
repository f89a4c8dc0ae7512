"""Lemma 6 of paper 004 (balls into bins, Appendix A) with exact binomial tails at any n, in log space.

Lemma 6: N >= n log n balls thrown uniformly into n bins give max_j X_j <= 3N/n with probability
at least 1 - n^(-1/3).  Its proof applies Lemma 5 ((14), Chernoff) with delta = 2:
P(X_j >= 3N/n) <= exp(-(4/3) mu) <= n^(-4/3) with mu = N/n >= log n, then the union bound.

The exponent 4/3 is the printed (14)'s delta^2/(1 + delta) at delta = 2; the true large-deviation
rate of a binomial (Poisson) tail at (1 + delta) mu is (1 + delta) log(1 + delta) - delta
(Cramer-Chernoff), 3 log 3 - 2 = 1.2958 < 4/3 at delta = 2.  So for N = ceil(n log n) the per-bin
tail decays like n^(-1.2958) up to a factor polynomial in log n, the failure probability like
n^(-0.2958), and for large enough n it exceeds n^(-1/3): Lemma 6 as stated fails there.

Both directions are rigorous:

* upper: P(max > t) <= n q (union bound), q = P(X_1 > t) the exact Bin(N, 1/n) tail;
* lower: the bin counts of balls into bins are negatively associated (Dubhashi & Ranjan 1998,
  "Balls and bins: a study in negative dependence"), so P(max <= t) <= prod_j P(X_j <= t) =
  (1 - q)^n and P(max > t) >= 1 - (1 - q)^n, which is about n q when n q is small.

N = ceil(n log n) is computed exactly (``decimal`` with 120 digits) and 3N/n with integers;
the tail sum_{j >= k} C(N, j) p^j (1 - p)^(N - j) in float64 logarithms, where log C(N, j) =
j log N + sum_{i < j} log1p(-i/N) - lgamma(j + 1) keeps its relative accuracy for N ~ 1e62
(``lgamma(N + 1)`` would not).

Corrected statements (from the Cramer-Chernoff bound exp(-mu ((1+delta) log(1+delta) - delta)),
which holds for every sum of independent 0/1 variables): with N >= n log n,
P(max_j X_j <= 3N/n) >= 1 - n^(-(3 log 3 - 3)) = 1 - n^(-0.2958); and 1 - n^(-1/3) holds once
N >= (4/3) / (3 log 3 - 2) n log n = 1.0289 n log n.
"""
from __future__ import annotations

import math
from decimal import ROUND_CEILING, Decimal, localcontext

RATE_DELTA_2 = 3 * math.log(3) - 2          # (1 + delta) log(1 + delta) - delta at delta = 2
PRINTED_RATE_DELTA_2 = 4 / 3                # delta^2 / (1 + delta) of the printed (14) at delta = 2
CORRECTED_EXPONENT = RATE_DELTA_2 - 1       # failure probability <= n^-(3 log 3 - 3)
CORRECTED_BALLS_FACTOR = (1 + 1 / 3) / RATE_DELTA_2   # N >= this x n log n restores n^(-1/3)
GRID_STEP = 0.01                            # decades between the bin counts of the scan
GRID_DECADES = (1.0, 60.0)                  # n = 10^1 .. 10^60


def min_balls(n: int) -> int:
    """The smallest N that Lemma 6 allows: ceil(n log n), exact for any integer n >= 2."""
    if int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    with localcontext() as ctx:
        ctx.prec = 120
        return int((Decimal(int(n)) * Decimal(int(n)).ln()).to_integral_value(rounding=ROUND_CEILING))


def log_binomial_tail(N: int, n: int, k: int) -> float:
    """log P(X >= k) for X ~ Bin(N, 1/n), in float64 logarithms (terms summed until they fall
    e^-60 below the first: the terms decrease from j = k on when k > N/n)."""
    if not 0 <= k <= N:
        raise ValueError(f"k must lie in [0, N], got k={k}, N={N}")
    if k * n <= N:
        raise ValueError(f"k must exceed the mean N/n = {N / n:.4g} (a right tail), got {k}")
    log_p, log_q = -math.log(n), math.log1p(-1.0 / n)
    log_n_balls = math.log(N)
    term = (k * log_n_balls + math.fsum(math.log1p(-i / N) for i in range(k)) - math.lgamma(k + 1)
            + k * log_p + (N - k) * log_q)
    terms, j = [term], k
    while j < N and term > terms[0] - 60.0:
        term += math.log((N - j) / (j + 1)) + log_p - log_q
        j += 1
        terms.append(term)
    top = max(terms)
    return top + math.log(math.fsum(math.exp(t - top) for t in terms))


def max_load_failure(n: int, N: int | None = None) -> dict:
    """P(max_j X_j > 3N/n) for N balls (default ceil(n log n)) in n bins: the exact per-bin tail q
    and the two rigorous bounds n q (union, above) and 1 - (1 - q)^n (negative association, below),
    each also divided by the claimed n^(-1/3)."""
    N = min_balls(n) if N is None else int(N)
    k = 3 * N // n + 1                                   # "max > 3N/n" <=> some X_j >= k
    log_q = log_binomial_tail(N, n, k)
    log_claim = -math.log(n) / 3
    lower = -math.expm1(n * math.log1p(-math.exp(log_q)))  # 1 - (1 - q)^n
    return {"table": "lemma_6_exact", "log10_n": math.log10(n), "n": str(n), "N": str(N),
            "mu": N / n, "k": k, "log10_per_bin_tail": log_q / math.log(10),
            "union_over_claim": math.exp(math.log(n) + log_q - log_claim),
            "lower_over_claim": lower / math.exp(log_claim), "first_counterexample": False}


def grid(step: float = GRID_STEP, decades: tuple[float, float] = GRID_DECADES) -> list[int]:
    """Bin counts n = round(10^x), x = decades[0], decades[0] + step, ..., decades[1]."""
    lo, hi = decades
    count = int(round((hi - lo) / step))
    with localcontext() as ctx:
        ctx.prec = 120
        return sorted({int((Decimal(10) ** Decimal(repr(round(lo + i * step, 10)))).to_integral_value())
                       for i in range(count + 1)})


def scan(step: float = GRID_STEP, decades: tuple[float, float] = GRID_DECADES) -> tuple[list[dict], dict | None]:
    """The rows at whole decades and the first n of the grid where the lower bound of the failure
    probability exceeds n^(-1/3) (also a row, ``first_counterexample``; None if there is none)."""
    rows, first = [], None
    for n in grid(step, decades):
        row = max_load_failure(n)
        if first is None and row["lower_over_claim"] > 1:
            first = dict(row, first_counterexample=True)
            rows.append(first)
        elif abs(row["log10_n"] - round(row["log10_n"])) < 1e-9:
            rows.append(row)
    return rows, first
