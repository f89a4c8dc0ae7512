"""The verdict protocol: the one place where a verdict word (holds / vacuous / fails / inconclusive)
is made.  Every experiment of sims/ (and ``python -m theory``) declares each claim family before its
runs, measures, asks a named *rule* of this module for a ``Decision``, and turns it into a
``core.result.Verdict`` with ``verdict(...)``.  No experiment writes a verdict word itself
(tests/test_protocol.py scans the source for it).

Declaration (``declare``), made in code before the runs and printed by FINDINGS.md beside the rows:

* ``endpoint``: the primary quantity, in words ("paired difference of final test accuracy");
* ``rule``: one of ``RULES`` (below), the only way that endpoint is turned into a word;
* ``alpha``: the family-wise error of the family's tests (Holm within the family);
* ``scale``: ``"paper"`` when measured as the paper states the claim (its N, widths, data), otherwise
  the reduction in words ("widths/10, 10,000 images, 15 seeds").  A word measured at a reduced scale is
  printed scoped ("fails at reduced scale"), and a paper-scale claim stays undecided at paper scale
  until a paper-scale Result decides it (``scoped_word``);
* ``margin``: the equivalence margin, claimed size, level or tolerance the rule compares against.

Rules.  Statistical (seeds, trials; each gives a p-value so Holm can adjust it):

* ``paired_sign``: paired differences, H0 "mean 0", exact sign-flip permutation test (all 2^n sign
  patterns up to n = 20, else 200,000 seeded random patterns); holds / fails when the adjusted p is
  at most alpha and the mean lies on the claimed / other side, else inconclusive.  Interval:
  percentile bootstrap of the mean (10,000 seeded resamples).  Few seeds and bimodal gaps (0 or +9
  points per lost class) are why neither test assumes normality.  The sign-flip test assumes the
  differences symmetric under the null; every sign-flip rule also records the exact sign test on the
  same side (``sign_test_p``, Holm-adjusted in the same family as ``sign_test_p_adjusted``), which
  assumes nothing but asks another question (are positive differences more frequent?): it never
  changes the word, and the report says which words the signs alone do not reach (those depend on
  the sizes of the differences).
* ``paired_size``: a claimed gain of about ``margin`` > 0: fails when "mean >= margin" is rejected
  (sign-flip test of the differences minus ``margin``, one-sided), holds when "mean <= 0" is
  rejected and "mean >= margin" is not, else inconclusive.
* ``paired_equivalence``: "comparable" within +-``margin``: two one-sided sign-flip tests (TOST);
  holds when both reject; fails when "mean inside +-margin" is rejected by either one-sided test
  ("mean <= margin" or "mean >= -margin") at alpha/2 (Bonferroni over the two sides: either side may
  reject, so each gets half; undoubled, a mean on the margin with a wide spread was called outside
  about 6.5% of the time at alpha 5%, tests/test_protocol.py), else inconclusive.
* ``level_at_reduced_scale`` / ``ceiling_at_reduced_scale``: a claimed level ("reaches 89%") or
  ceiling ("never exceeds 84%") measured at a reduced scale: only the observation that the reduction
  cannot explain decides (reached anyway -> holds; exceeded anyway -> fails); else inconclusive.
* ``proportion``: a probability claimed at most / at least ``margin``: exact binomial test.

Deterministic or interval-based (no p-value; Holm leaves them alone):

* ``contains``: a Monte Carlo interval at level 1 - alpha against an exact prediction: holds when it
  contains it, fails when it excludes it.
* ``bound``: a measured value against the paper's bound (``side`` "<=" or ">="), exact arithmetic or
  an interval's far end: holds / fails.
* ``approximately``: |measured - target| <= ``margin`` (a declared tolerance): holds, else fails.
* ``asymptotic``: a limit claim checked at finite N: the deviation must shrink with N (the fitted
  log-log slope is reported as the rate); holds when it shrinks, inconclusive otherwise; never
  fails, since a finite-N deviation does not refute a limit (unless the paper claims that N: then
  use ``bound``).
* ``condition``: a claim whose premise is never met in the measured settings: vacuous.
* ``withheld``: the deciding data are not in the paper (or not reachable here): inconclusive.
* ``all_parts``: a claim of several parts: holds when every part holds, fails when any fails.
* ``discriminates``: an interval against the claimed value and a rival (derived, corrected) value:
  holds when only the claimed one is inside, fails when only the rival is, else inconclusive.
* ``universal_constant``: one constant claimed to serve every size (a universal C, a c0 free of n),
  checked at finitely many sizes: holds when the constant each size requires rises by at most
  ``margin`` from the smallest to the largest size, inconclusive otherwise; never fails.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from core.claims import CLAIM_ID

WORDS = ("holds", "vacuous", "fails", "inconclusive")
RULES = ("paired_sign", "paired_size", "paired_equivalence", "level_at_reduced_scale",
         "ceiling_at_reduced_scale", "proportion", "contains", "bound", "approximately", "asymptotic",
         "condition", "withheld", "all_parts", "discriminates", "asymptotic_mc",
         "universal_constant")
TESTED = ("paired_sign", "paired_size", "paired_equivalence", "proportion")  # rules with a p-value
PAPER = "paper"
EXACT_MAX_N = 20
RANDOM_PATTERNS = 200_000
BOOTSTRAP_RESAMPLES = 10_000
POWER = 0.8


@dataclass(frozen=True)
class Declaration:
    """One claim family's endpoint, rule, alpha and scale, fixed before the runs."""
    claim: str
    endpoint: str
    rule: str
    alpha: float = 0.05
    scale: str = PAPER
    margin: float | None = None
    family: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def declare(claim: str, endpoint: str, rule: str, *, alpha: float = 0.05, scale: str = PAPER,
            margin: float | None = None, family: str = "") -> Declaration:
    """A validated ``Declaration`` (``family`` defaults to the claim id: Holm adjusts within it)."""
    if not isinstance(claim, str) or not CLAIM_ID.match(claim):
        raise ValueError(f"claim must be a registry id '<paper>:<kind>:<number>', got {claim!r}")
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if not isinstance(endpoint, str) or not endpoint.strip() or not isinstance(scale, str) or not scale.strip():
        raise ValueError("endpoint and scale must be non-empty strings")
    if rule in ("paired_size", "paired_equivalence", "level_at_reduced_scale", "ceiling_at_reduced_scale",
                "approximately", "proportion") and (margin is None or not math.isfinite(margin)):
        raise ValueError(f"rule {rule!r} needs a finite margin (claimed size, margin, level or tolerance)")
    if rule in ("paired_size", "paired_equivalence") and margin <= 0:
        raise ValueError(f"margin of rule {rule!r} must be > 0, got {margin}")
    return Declaration(claim, endpoint, rule, float(alpha), scale, None if margin is None else float(margin),
                       family or claim)


@dataclass
class Decision:
    """What a rule concluded: the word, why (one line), and the statistics behind it."""
    word: str
    reason: str
    estimate: float | None = None
    interval: list[float] | None = None
    p: float | None = None
    p_adjusted: float | None = None
    n: int | None = None
    pairs_needed: int | None = None
    side: int = 0            # +1 / -1: the side a tested rule's rejection points to (Holm re-decides)
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.word not in WORDS:
            raise ValueError(f"word must be one of {WORDS}, got {self.word!r}")


# -- statistics --------------------------------------------------------------------------------------

def _finite(values) -> np.ndarray:
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    return x


def _sign_patterns(n: int) -> np.ndarray:
    if n <= EXACT_MAX_N:
        codes = np.arange(2 ** n, dtype=np.int64)[:, None]
        return 1 - 2 * ((codes >> np.arange(n)) & 1)
    return np.random.default_rng(0).choice((-1, 1), size=(RANDOM_PATTERNS, n))


def sign_flip_p(diffs, alternative: str = "two-sided") -> float:
    """p-value of H0 "the paired differences are symmetric about 0" for their mean, from all sign
    patterns (exact, n <= 20) or 200,000 seeded ones ((1 + hits) / (1 + patterns)).  ``alternative``:
    "greater" (mean > 0), "less", or "two-sided"."""
    x = _finite(diffs)
    if x.size == 0:
        return math.nan
    observed = x.sum()
    sums = _sign_patterns(x.size) @ x
    tol = 1e-12 * max(1.0, float(np.abs(x).sum()))  # ties of the observed sum count as extreme
    if alternative == "greater":
        hits = np.count_nonzero(sums >= observed - tol)
    elif alternative == "less":
        hits = np.count_nonzero(sums <= observed + tol)
    elif alternative == "two-sided":
        hits = np.count_nonzero(np.abs(sums) >= abs(observed) - tol)
    else:
        raise ValueError(f"alternative must be 'greater', 'less' or 'two-sided', got {alternative!r}")
    if x.size <= EXACT_MAX_N:
        return float(hits / sums.size)
    return float((1 + hits) / (1 + sums.size))


def sign_test_p(diffs, alternative: str = "two-sided") -> float:
    """Exact sign test of H0 "a positive and a negative difference are equally likely"
    (P(D > 0) = P(D < 0); the median 0 when no difference is exactly 0), with no symmetry assumed:
    k positive among the n nonzero differences against Binomial(n, 1/2) (zeros dropped; p = 1 when
    none is nonzero).  ``alternative`` as in :func:`sign_flip_p`.

    The companion of the sign-flip rules.  No test of a *mean* has power above its level over all
    distributions with a finite mean at a fixed n (Bahadur & Savage 1956, Ann. Math. Statist.
    27:1115), so a mean
    endpoint needs an assumption: the sign-flip test's is symmetry under the null.  This test asks
    a different question that needs none (are positive differences more frequent than negative
    ones?).  It does not test the mean and cannot show that the symmetry assumption held: a skewed
    null with rare large opposite differences makes both tests reject falsely.  Where the signs
    alone do not reach alpha, the word depends on the sizes of the differences (a few large ones,
    or too few seeds for the sign test's coarser steps), which the report says."""
    x = _finite(diffs)
    tol = 1e-12 * max(1.0, float(np.abs(x).max())) if x.size else 0.0
    nonzero = x[np.abs(x) > tol]
    n, k = int(nonzero.size), int(np.count_nonzero(nonzero > 0))
    if n == 0:
        return 1.0 if x.size else math.nan
    pmf = [math.comb(n, i) / 2 ** n for i in range(n + 1)]
    upper, lower = min(1.0, sum(pmf[k:])), min(1.0, sum(pmf[:k + 1]))  # P(K >= k), P(K <= k)
    if alternative == "greater":
        return float(upper)
    if alternative == "less":
        return float(lower)
    if alternative == "two-sided":
        return float(min(1.0, 2 * min(upper, lower)))
    raise ValueError(f"alternative must be 'greater', 'less' or 'two-sided', got {alternative!r}")


def bootstrap_mean_interval(values, level: float = 0.95) -> list[float]:
    """Percentile bootstrap interval of the mean (10,000 resamples, generator seed 0: deterministic)."""
    x = _finite(values)
    if x.size < 2:
        return [math.nan, math.nan]
    idx = np.random.default_rng(0).integers(0, x.size, size=(BOOTSTRAP_RESAMPLES, x.size))
    means = x[idx].mean(axis=1)
    return [float(np.quantile(means, (1 - level) / 2)), float(np.quantile(means, (1 + level) / 2))]


def pairs_needed(diffs, alpha: float = 0.05, power: float = POWER) -> int | None:
    """Seeds that a two-sided test at ``alpha`` needs to detect the observed mean with ``power``, by
    the normal approximation n = ((z_{1-alpha/2} + z_power) sd / mean)^2 (None when mean or sd is 0)."""
    x = _finite(diffs)
    if x.size < 2 or x.mean() == 0 or x.std(ddof=1) == 0:
        return None
    from statistics import NormalDist
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return int(math.ceil((z * x.std(ddof=1) / abs(x.mean())) ** 2))


def holm(pvalues) -> list[float]:
    """Holm's step-down adjustment (family-wise error <= alpha under any dependence); order kept."""
    p = [float(v) for v in pvalues]
    order = sorted(range(len(p)), key=p.__getitem__)
    adjusted, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted


# -- rules -------------------------------------------------------------------------------------------

def _tested(x, p: float, side: int, decl: Declaration, reason: str, **extra) -> Decision:
    word = ("holds" if side > 0 else "fails") if (side and p <= decl.alpha) else "inconclusive"
    return Decision(word, reason, float(x.mean()) if x.size else None, bootstrap_mean_interval(x), p, p,
                    int(x.size), None if word != "inconclusive" else pairs_needed(x, decl.alpha), side, extra)


def paired_sign(decl: Declaration, diffs, *, want_positive: bool = True) -> Decision:
    x = _finite(diffs)
    if x.size < 2:
        return Decision("inconclusive", f"{x.size} finite paired difference(s): no test", n=int(x.size))
    p = sign_flip_p(x)
    right_side = (x.mean() > 0) == want_positive
    side = 0 if x.mean() == 0 else (1 if right_side else -1)
    return _tested(x, p, side, decl, f"exact sign-flip test of the mean, two-sided p = {p:.3g} "
                                     f"({'claimed' if right_side else 'opposite'} side)",
                   sign_test_p=_same_direction_sign_test(x))


def _same_direction_sign_test(x: np.ndarray) -> float:
    """Two-sided sign test p, counted in the direction of the mean: small only when most differences
    share the mean's sign (a skewed sample whose mean and majority disagree confirms nothing)."""
    if x.mean() == 0:
        return sign_test_p(x)
    return min(1.0, 2 * sign_test_p(x, "greater" if x.mean() > 0 else "less"))


def paired_size(decl: Declaration, diffs) -> Decision:
    x = _finite(diffs)
    if x.size < 2:
        return Decision("inconclusive", f"{x.size} finite paired difference(s): no test", n=int(x.size))
    p_below = sign_flip_p(x - decl.margin, "less")
    p_gain = sign_flip_p(x, "greater")
    if p_below <= decl.alpha:
        d = _tested(x, p_below, -1, decl, f"mean below the claimed {decl.margin:g}: one-sided p = {p_below:.3g}",
                    sign_test_p=sign_test_p(x - decl.margin, "less"))
    else:
        d = _tested(x, p_gain, 1, decl, f"gain > 0: one-sided p = {p_gain:.3g}; below the claimed "
                                        f"{decl.margin:g}: p = {p_below:.3g}",
                    sign_test_p=sign_test_p(x, "greater"))
    return d


def paired_equivalence(decl: Declaration, diffs) -> Decision:
    x, m = _finite(diffs), decl.margin
    if x.size < 2:
        return Decision("inconclusive", f"{x.size} finite paired difference(s): no test", n=int(x.size))
    p_tost, p_out = _within_and_outside(sign_flip_p, x, m)
    companion_tost, companion_out = _within_and_outside(sign_test_p, x, m)
    if p_out <= decl.alpha and p_out < p_tost:
        d = _tested(x, p_out, -1, decl, f"outside +-{m:g}: p = {p_out:.3g} (twice the smaller one-sided p)",
                    sign_test_p=companion_out)
    else:
        d = _tested(x, p_tost, 1, decl, f"TOST within +-{m:g}: p = {p_tost:.3g}", sign_test_p=companion_tost)
    if d.word == "inconclusive":  # seeds to show the mean inside the margin, not away from 0
        d.pairs_needed = equivalence_pairs_needed(x, m, decl.alpha)
    return d


def _within_and_outside(one_sided, x: np.ndarray, m: float) -> tuple[float, float]:
    """(p of "inside +-m": TOST, the larger of the two one-sided p; p of "outside +-m": twice the
    smaller one-sided p, Bonferroni over the two sides) for a one-sided test ``one_sided(x, side)``."""
    p_tost = max(one_sided(x + m, "greater"), one_sided(x - m, "less"))
    p_out = min(1.0, 2 * min(one_sided(x - m, "greater"), one_sided(x + m, "less")))
    return p_tost, p_out


def equivalence_pairs_needed(diffs, margin: float, alpha: float = 0.05, power: float = POWER) -> int | None:
    """Seeds that TOST at ``alpha`` needs to show |mean| < ``margin`` with ``power`` at the observed
    mean and sd (normal approximation n = ((z_{1-alpha} + z_power) sd / (margin - |mean|))^2); None
    when the observed mean is not inside the margin (no number of seeds shows equivalence then)."""
    x = _finite(diffs)
    if x.size < 2 or abs(x.mean()) >= margin or x.std(ddof=1) == 0:
        return None
    from statistics import NormalDist
    z = NormalDist().inv_cdf(1 - alpha) + NormalDist().inv_cdf(power)
    return int(math.ceil((z * x.std(ddof=1) / (margin - abs(x.mean()))) ** 2))


def proportion(decl: Declaration, successes: int, trials: int, *, at_most: bool = True) -> Decision:
    """Exact binomial test of a claimed probability bound ``margin`` (at most, or at least)."""
    from math import comb
    k, n, p0 = int(successes), int(trials), decl.margin
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"successes must lie in [0, trials] with trials > 0, got {successes}/{trials}")
    pmf = [comb(n, i) * p0 ** i * (1 - p0) ** (n - i) for i in range(n + 1)]
    p_up, p_down = min(1.0, sum(pmf[k:])), min(1.0, sum(pmf[:k + 1]))  # P(X >= k), P(X <= k)
    p_against, p_for = (p_up, p_down) if at_most else (p_down, p_up)
    if p_against <= decl.alpha:
        word, p, side = "fails", p_against, -1
    elif p_for <= decl.alpha:
        word, p, side = "holds", p_for, 1
    else:
        word, p, side = "inconclusive", min(p_for, p_against), 0
    return Decision(word, f"exact binomial: {k}/{n} against {'at most' if at_most else 'at least'} {p0:g}, "
                          f"p = {p:.3g}", k / n, None, p, p, n, side=side)


def level_at_reduced_scale(decl: Declaration, lo: float, hi: float) -> Decision:
    if not _ok(lo, hi):
        return Decision("inconclusive", "no interval")
    if lo >= decl.margin:
        return Decision("holds", f"reached {decl.margin:g} even at reduced scale", interval=[lo, hi])
    return Decision("inconclusive", f"below {decl.margin:g} at reduced scale: the paper-scale run decides",
                    interval=[lo, hi])


def ceiling_at_reduced_scale(decl: Declaration, lo: float, hi: float) -> Decision:
    if _ok(lo, hi) and lo > decl.margin:
        return Decision("fails", f"above the ceiling {decl.margin:g} even at reduced scale", interval=[lo, hi])
    return Decision("inconclusive", "not above the ceiling at reduced scale: the paper-scale run decides",
                    interval=None if not _ok(lo, hi) else [lo, hi])


def contains(decl: Declaration, lo: float, hi: float, target: float) -> Decision:
    if not _ok(lo, hi, target):
        return Decision("inconclusive", "no interval or no prediction")
    inside = lo <= target <= hi
    return Decision("holds" if inside else "fails",
                    f"{100 * (1 - decl.alpha):g}% interval [{lo:.4g}, {hi:.4g}] "
                    f"{'contains' if inside else 'excludes'} {target:.4g}", interval=[lo, hi])


def bound(decl: Declaration, measured: float, limit: float, *, side: str = "<=") -> Decision:
    if side not in ("<=", ">="):
        raise ValueError(f"side must be '<=' or '>=', got {side!r}")
    if not _ok(measured, limit):
        return Decision("inconclusive", "measured value or bound not finite")
    ok = measured <= limit if side == "<=" else measured >= limit
    return Decision("holds" if ok else "fails", f"{measured:.4g} {side if ok else _neg(side)} {limit:.4g}",
                    estimate=measured)


def approximately(decl: Declaration, measured: float, target: float) -> Decision:
    if not _ok(measured, target):
        return Decision("inconclusive", "measured value or target not finite")
    ok = abs(measured - target) <= decl.margin
    return Decision("holds" if ok else "fails", f"|{measured:.4g} - {target:.4g}| "
                                               f"{'<=' if ok else '>'} declared tolerance {decl.margin:g}",
                    estimate=measured)


def asymptotic(decl: Declaration, ns, deviations, *, noisy: bool = False) -> Decision:
    """``noisy``: the deviations are Monte Carlo estimates (e.g. RMS errors over trials), so a point
    slope below 0 is not enough: the (1 - alpha) t-interval of the log-log slope (needs 3 or more N)
    must lie below 0.  Exact deviations (``noisy`` False) are decided on the point slope."""
    n, d = np.asarray(ns, float), np.abs(np.asarray(deviations, float))
    good = np.isfinite(n) & np.isfinite(d) & (n > 0) & (d > 0)
    if good.sum() < 2:
        return Decision("inconclusive", "fewer than two finite nonzero deviations")
    x, y = np.log(n[good]), np.log(d[good])
    slope = float(np.polyfit(x, y, 1)[0])
    shrinks = slope < 0 and d[good][np.argmax(n[good])] < d[good][np.argmin(n[good])]
    extra = {"rate_exponent": slope}
    reason = f"rate N^{slope:.2f}"
    if noisy:
        if x.size < 3:
            return Decision("inconclusive", f"two noisy deviations cannot show a decrease ({reason})", extra=extra)
        from scipy import stats
        fit = stats.linregress(x, y)
        half = float(stats.t.ppf(1 - decl.alpha / 2, x.size - 2)) * float(fit.stderr)
        extra["rate_exponent_interval"] = [slope - half, slope + half]
        shrinks = shrinks and slope + half < 0
        reason += f", {100 * (1 - decl.alpha):g}% interval [{slope - half:.2f}, {slope + half:.2f}]"
    return Decision("holds" if shrinks else "inconclusive",
                    f"deviation {'shrinks' if shrinks else 'not shown to shrink'} with N: {reason}", extra=extra)


def discriminates(decl: Declaration, lo: float, hi: float, claimed: float,
                  alternative: float | None = None) -> Decision:
    """A Monte Carlo interval at level 1 - alpha between the paper's value and a rival one (the
    derived or corrected value, or none): holds when it contains the claimed value and excludes the
    rival; fails only when it contains the rival and excludes the claimed value; inconclusive when
    both or neither lie inside, or (no rival) when the claimed value lies outside, since a finite-N
    offset of a limit cannot be told from a wrong limit without a rival that the interval holds.
    (Added by the theory-A helper for two-candidate limits: (B.14), (4.25), (A.5), B.2.1.)"""
    if not _ok(lo, hi, claimed) or (alternative is not None and not _ok(alternative)):
        return Decision("inconclusive", "no interval, claimed or rival value")
    c_in = lo <= claimed <= hi
    a_in = alternative is not None and lo <= alternative <= hi
    iv = f"{100 * (1 - decl.alpha):g}% interval [{lo:.6g}, {hi:.6g}]"
    rival = "" if alternative is None else f", rival {alternative:.6g} {'inside' if a_in else 'outside'}"
    if c_in and not a_in:
        word = "holds"
    elif a_in and not c_in:
        word = "fails"
    else:
        word = "inconclusive"
    return Decision(word, f"{iv}: claimed {claimed:.6g} {'inside' if c_in else 'outside'}{rival}",
                    interval=[lo, hi])


def asymptotic_mc(decl: Declaration, ns, deviations, standard_errors) -> Decision:
    """``asymptotic`` for Monte Carlo deviations (a rate estimated from trials): the deviation at the
    largest N must lie below the one at the smallest N by more than their sampling error (one-sided
    z = (d_first - d_last) / sqrt(se_first^2 + se_last^2), p = 1 - Phi(z) <= alpha; the standard
    errors come from the caller, e.g. binomial), and the fitted log-log slope must not be >= 0 (it
    is reported as the rate).  Holds when both; inconclusive otherwise; never fails (a finite-N
    deviation does not refute a limit).  Added for issue 23 by the theory-B helper: plain
    ``asymptotic`` calls a change of one trial in 300 a shrinking deviation."""
    from statistics import NormalDist
    n, d = np.asarray(ns, float), np.abs(np.asarray(deviations, float))
    se = np.asarray(standard_errors, float)
    good = np.isfinite(n) & np.isfinite(d) & np.isfinite(se) & (n > 0) & (se >= 0)
    if good.sum() < 2:
        return Decision("inconclusive", "fewer than two finite deviations")
    n, d, se = n[good], d[good], se[good]
    first, last = int(np.argmin(n)), int(np.argmax(n))
    spread, drop = math.hypot(se[first], se[last]), d[first] - d[last]
    if spread == 0:
        p = 0.0 if drop > 0 else 1.0
    else:
        p = 1 - NormalDist().cdf(drop / spread)
    positive = d > 0
    slope = (float(np.polyfit(np.log(n[positive]), np.log(d[positive]), 1)[0]) if positive.sum() >= 2
             else math.nan)
    shrinks = p <= decl.alpha and drop > 0 and not slope >= 0
    rate = "" if math.isnan(slope) else f": rate N^{slope:.2f}"
    return Decision("holds" if shrinks else "inconclusive",
                    f"deviation {'shrinks' if shrinks else 'does not shrink beyond its sampling error'} with N"
                    f"{rate} ({d[first]:.3g} at N={n[first]:g}, {d[last]:.3g} at N={n[last]:g}, one-sided "
                    f"p = {p:.3g})", p=float(p), p_adjusted=float(p), side=1 if drop > 0 else -1,
                    extra={"rate_exponent": slope})


def condition(decl: Declaration, met: bool, what: str) -> Decision:
    """The premise of a claim, where the premise decides: never met -> vacuous; met -> inconclusive
    until a rule decides the conclusion (use that rule's Decision instead)."""
    return Decision("inconclusive" if met else "vacuous", f"premise {'met' if met else 'never met'}: {what}")


def withheld(decl: Declaration, what: str) -> Decision:
    return Decision("inconclusive", f"deciding data not available: {what}")


def universal_constant(decl: Declaration, sizes, required) -> Decision:
    """``required[i]``: the smallest constant that size ``sizes[i]`` needs (e.g. E||A|| / bracket of
    Latala's (13)).  Finitely many sizes cannot refute a universal constant, only show how large it
    must be, so a rise beyond ``margin`` (smallest to largest size) leaves the claim inconclusive."""
    if decl.margin is None or not math.isfinite(decl.margin):
        raise ValueError("rule 'universal_constant' needs a finite margin (the tolerated rise)")
    n, c = np.asarray(sizes, float), np.asarray(required, float)
    good = np.isfinite(n) & np.isfinite(c)
    if good.sum() < 2:
        return Decision("inconclusive", "fewer than two sizes with a finite required constant")
    n, c = n[good], c[good]
    rise = float(c[np.argmax(n)] - c[np.argmin(n)])
    ok = rise <= decl.margin
    return Decision("holds" if ok else "inconclusive",
                    f"required constant {'rises' if rise > 0 else 'changes'} by {rise:+.3g} from size "
                    f"{n.min():g} to {n.max():g} ({'<=' if ok else '>'} tolerated {decl.margin:g}); "
                    f"largest required {c.max():.4g}", estimate=float(c.max()), extra={"rise": rise})


def all_parts(decl: Declaration, decisions) -> Decision:
    """holds when every part holds, fails when any fails.  Where every part carries the companion
    sign test (``sign_test_p_adjusted``), the whole carries the one that decides it: the largest
    over the parts of a holds, the smallest over the failing parts of a fails (the adjusted
    companion exists only after ``adjust`` has run over the parts together, which that needs)."""
    words = [d.word for d in decisions]
    if words and all(w == "holds" for w in words):
        word = "holds"
    elif "fails" in words:
        word = "fails"
    elif words and all(w == "vacuous" for w in words):
        word = "vacuous"
    else:
        word = "inconclusive"
    extra = {}
    companions = [d.extra.get("sign_test_p_adjusted") for d in decisions]
    if word in ("holds", "fails") and companions and None not in companions:
        deciding = [q for d, q in zip(decisions, companions) if d.word == word]
        extra["sign_test_p_adjusted"] = max(deciding) if word == "holds" else min(deciding)
    return Decision(word, "parts: " + ", ".join(words), extra=extra)


def _ok(*xs) -> bool:
    return all(x is not None and math.isfinite(x) for x in xs)


def _neg(side: str) -> str:
    return ">" if side == "<=" else "<"


# -- multiplicity, scope, the Verdict ----------------------------------------------------------------

def adjust(decisions: list[Decision], alpha: float) -> list[Decision]:
    """Holm within one family: every tested Decision gets its adjusted p, and a holds/fails whose
    adjusted p exceeds ``alpha`` becomes inconclusive.  Untested Decisions pass unchanged."""
    tested = [d for d in decisions if d.p is not None and math.isfinite(d.p)]
    for d, q in zip(tested, holm([d.p for d in tested])):
        d.p_adjusted = q
        if d.word in ("holds", "fails") and q > alpha:
            d.word, d.reason = "inconclusive", d.reason + f"; Holm-adjusted p = {q:.3g} > {alpha:g}"
    # the companion sign tests, adjusted over the same family (a tested Decision without one counts
    # as p = 1, so the family's size is the same for both)
    if any("sign_test_p" in d.extra for d in tested):
        companion = holm([d.extra.get("sign_test_p", 1.0) for d in tested])
        for d, q in zip(tested, companion):
            if "sign_test_p" in d.extra:
                d.extra["sign_test_p_adjusted"] = q
    return decisions


def scoped_word(word: str, scale: str | None) -> str:
    """The word the report prints: holds/fails measured below paper scale say so."""
    if scale in (None, PAPER) or word in ("inconclusive", "vacuous"):
        return word
    return f"{word} at reduced scale"


def verdict(decl: Declaration, decision: Decision, *, setting: str, measured=None, interval=None,
            bound=None, N: int | None = None, note: str = "", corrected: str = "", extra: dict | None = None):
    """The ``Verdict`` of one claim in one setting: the decision's word, and the declaration with the
    decision's statistics under ``Verdict.protocol``."""
    from core.result import Verdict
    record = {**decl.to_dict(), "reason": decision.reason, "p": decision.p, "p_adjusted": decision.p_adjusted,
              "n": decision.n, "pairs_needed": decision.pairs_needed, **decision.extra}
    if interval is None and decision.interval is not None:
        interval = decision.interval
    if measured is None:
        measured = decision.estimate
    return Verdict(claim=decl.claim, setting=setting, verdict=decision.word, measured=measured,
                   interval=interval, bound=bound, corrected=corrected,
                   note=note, N=N, extra=dict(extra or {}), protocol=record)
