"""sims.decided: the exact floor of seeds (from the sign-flip test's smallest p) and the seeds an
inconclusive test would need."""
from core import protocol
from sims.decided import exact_floor, seeds_to_decide
from sims.seed_statistics import pct


def test_exact_floor_from_the_smallest_two_sided_p():
    # one test: 2^(1-n) <= 0.05 first at n = 6 (1/32); Holm over two: 2 * 2^(1-n) <= 0.05 at n = 7
    assert exact_floor(1, 0.05) == 6 and exact_floor(2, 0.05) == 7 and exact_floor(4, 0.05) == 8
    for tests in (1, 2, 3, 5):
        n = exact_floor(tests, 0.05)
        assert tests * 2.0 ** (1 - n) <= 0.05 < tests * 2.0 ** (2 - n)


def test_seeds_to_decide_only_for_inconclusive_tests():
    decl = protocol.declare("000:remark:3.1", "d", "paired_sign")
    few = [0.01, 0.02, 0.015]
    d = protocol.paired_sign(decl, few)
    assert d.word == "inconclusive" and seeds_to_decide(d, few, tests=2, alpha=0.05) >= 7
    many = [0.01 * (k + 1) for k in range(8)]
    assert seeds_to_decide(protocol.paired_sign(decl, many), many, tests=1, alpha=0.05) is None
    assert pct(0.12345) == "12.35" and pct(float("nan")) == "nan"
