"""The declared tests of sims.remark_3_1 (exact one-sided sign-flip and sign tests, Holm, the verdict
rule), checked against hand-computed values and against their own sampling distribution."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from sims import remark_3_1 as m


def test_sign_flip_p_by_hand():
    assert m.sign_flip_p([0.01] * 6) == 1 / 64          # only the observed assignment reaches its mean
    assert m.sign_flip_p([0.01] * 6, greater=False) == 1.0
    # d = (1, -1): sums over the 4 sign patterns are 0, 0, 2, -2; three are >= the observed 0
    assert m.sign_flip_p([1.0, -1.0]) == 3 / 4
    # d = (3, -1, 2): observed sum 4; the 8 sums are 6, 2, 4, 0, 0, -4, -2, -6, two of them >= 4
    sums = [a * 3 + b * 1 + c * 2 for a, b, c in itertools.product((1, -1), repeat=3)]
    assert m.sign_flip_p([3.0, -1.0, 2.0]) == sum(s >= 4 for s in sums) / 8 == 2 / 8


def test_sign_test_p_by_hand():
    assert m.sign_test_p([1, 1, 1, 1, 1, 1]) == 1 / 64
    assert m.sign_test_p([1, 1, 1, -1]) == 5 / 16          # P(Bin(4, 1/2) >= 3)
    assert m.sign_test_p([0, 0, 1]) == 1 / 2                # ties dropped
    assert m.sign_test_p([0, 0]) == 1.0


@pytest.mark.parametrize("n", [3, 6, 8])
def test_sign_flip_false_alarm_is_at_most_alpha(n):
    """Under the null (signs independent fair coins given |d|) P(p <= alpha) <= alpha, computed
    exactly over all 2^n sign patterns for random magnitudes."""
    rng = np.random.default_rng(n)
    for _ in range(5):
        mags = rng.exponential(size=n)
        ps = [m.sign_flip_p([s * x for s, x in zip(signs, mags)])
              for signs in itertools.product((1, -1), repeat=n)]
        for alpha in (0.01, 0.025, 0.05, 0.2):
            assert sum(p <= alpha for p in ps) / 2 ** n <= alpha + 1e-12


def test_seeds_to_decide_and_verdict_rule():
    # Holm over two: the smallest p must reach 0.025, and 2^-n <= 0.025 first at n = 6
    assert m.seeds_to_decide([0.01, 0.02, -0.01])["minimum"] == 6
    finals = {}
    for s in range(6):  # continued far below unpruned, Algorithm 1 above both on every seed
        finals[(s, "unpruned")], finals[(s, "algorithm1")], finals[(s, "continued_splitting")] = \
            0.80 + 0.001 * s, 0.84, 0.10 + 0.01 * s
    comps = m._comparisons(finals, range(6))
    verdicts = [m._verdict(c, "toy").verdict for c in comps]
    assert verdicts == ["fails", "holds"]
    assert comps[1]["p_greater"] == 1 / 64 and comps[1]["holm_p_greater"] == 2 / 64
    few = m._comparisons(finals, range(5))   # 5 seeds: 2 * 2^-5 > 0.05, no verdict possible
    assert [m._verdict(c, "toy").verdict for c in few] == ["inconclusive", "inconclusive"]
