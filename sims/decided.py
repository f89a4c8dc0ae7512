"""Small helpers shared by the experiments on trained networks when they word what ``core.protocol``
decided (no verdict is made here): how many paired seeds could decide an inconclusive test."""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from core import protocol


def exact_floor(tests: int, alpha: float) -> int:
    """The fewest paired seeds at which an exact two-sided sign-flip test, Holm-adjusted over
    ``tests`` tests, can reject at all: its smallest p is 2^(1-n), and Holm's first step needs
    2^(1-n) * tests <= alpha."""
    return 1 + math.ceil(math.log2(tests / alpha) - 1e-12)


def seeds_to_decide(decision: protocol.Decision, diffs, *, tests: int, alpha: float) -> int | None:
    """For an inconclusive tested decision: the larger of ``exact_floor`` and the protocol's
    normal-approximation seed count at the observed effect (``core.protocol.pairs_needed``); None
    when the decision is not an inconclusive test or the observed effect is 0."""
    if decision.word != "inconclusive" or decision.p is None:
        return None
    n = protocol.pairs_needed(diffs, alpha / max(1, tests))
    return None if n is None else max(n, exact_floor(tests, alpha))


def family_note(decision: protocol.Decision, values, *, tests: int, alpha: float, family: str) -> str:
    """The note prefix of one Holm-adjusted test on per-seed ``values``: the decision's reason, the
    Holm step (``family`` words what was adjusted together, e.g. "contrasts of the family"; none
    where one seed made no test) and, for an inconclusive test, the seeds that could decide it
    (also set as ``decision.pairs_needed``)."""
    decision.pairs_needed = seeds_to_decide(decision, values, tests=tests, alpha=alpha)
    holm = (f"; Holm over the {tests} {family}: p = {decision.p_adjusted:.3g}"
            if decision.p_adjusted is not None else "")
    return (f"{decision.reason}{holm}"
            + (f"; about {decision.pairs_needed} seeds would decide it" if decision.pairs_needed else ""))


def one_sided_floor(tests: int, alpha: float) -> int:
    """The fewest paired seeds at which an exact one-sided sign-flip test (``core.protocol``'s size
    and equivalence rules), Holm-adjusted over ``tests`` tests, can reject at all: 2^(-n) * tests <=
    alpha."""
    return math.ceil(math.log2(tests / alpha) - 1e-12)


def size_seeds_to_decide(diffs, margin: float, alpha: float, power: float = protocol.POWER) -> int | None:
    """Seeds that the one-sided test "mean below ``margin``" at ``alpha`` needs, by the normal
    approximation n = ((z_{1-alpha} + z_power) sd / (margin - mean))^2 at the observed mean and sd;
    None when the observed mean is not below the margin or the sd is 0 (the size test
    ``core.protocol.paired_size`` runs; ``protocol.pairs_needed`` counts seeds for "mean != 0")."""
    x = np.asarray([v for v in diffs if v is not None and math.isfinite(v)], dtype=float)
    if x.size < 2 or x.mean() >= margin or x.std(ddof=1) == 0:
        return None
    z = NormalDist().inv_cdf(1 - alpha) + NormalDist().inv_cdf(power)
    return int(math.ceil((z * x.std(ddof=1) / (margin - x.mean())) ** 2))
