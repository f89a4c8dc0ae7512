"""core.protocol.asymptotic_mc (theory-B helper, issue 23): a Monte Carlo deviation decided by its
drop between the smallest and the largest N against the sampling error, on planted deviations with
known answers (no random draws)."""
import math

import pytest

from core import protocol as P


def _decl():
    return P.declare("000:remark:D.1", "|P(top > lambda+) - beta|", "asymptotic_mc", scale="N = 100-400")


def _se(p, n):
    return math.sqrt(p * (1 - p) / n)


def test_a_real_drop_holds_with_its_rate():
    # planted: deviation 0.06 * (N/100)^(-1/2) at 3000 trials per N -> drop 0.03, se ~0.0066, z ~ 3.3
    ns = [100, 200, 400]
    dev = [0.06 * (n / 100) ** -0.5 for n in ns]
    d = P.asymptotic_mc(_decl(), ns, dev, [_se(0.1 + x, 3000) for x in dev])
    assert d.word == "holds" and d.extra["rate_exponent"] == pytest.approx(-0.5, abs=1e-12)
    assert d.p < 0.01


def test_a_drop_within_the_sampling_error_is_inconclusive():
    # one trial in 300: 1.0 -> 0.9967, se 0.0033: z ~ 1, p ~ 0.16 > 0.05 (plain asymptotic says "holds")
    ns, dev = [100, 200, 400], [1.0, 1.0, 1 - 1 / 300]
    ses = [0.0, 0.0, _se(1 - 1 / 300, 300)]
    assert P.asymptotic(_decl(), ns, dev).word == "holds"
    d = P.asymptotic_mc(_decl(), ns, dev, ses)
    z = (1 / 300) / ses[2]
    assert d.word == "inconclusive" and d.p == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)), abs=1e-12)


def test_a_growing_deviation_is_inconclusive_never_fails():
    d = P.asymptotic_mc(_decl(), [100, 400], [0.18, 0.25], [0.01, 0.01])
    assert d.word == "inconclusive" and d.extra["rate_exponent"] > 0


def test_exact_values_and_degenerate_input():
    assert P.asymptotic_mc(_decl(), [100, 400], [0.2, 0.1], [0.0, 0.0]).word == "holds"
    assert P.asymptotic_mc(_decl(), [100, 400], [0.2, 0.2], [0.0, 0.0]).word == "inconclusive"
    assert P.asymptotic_mc(_decl(), [100], [0.2], [0.0]).word == "inconclusive"
    # a deviation that reaches exactly 0 at the largest N still shrinks (slope from the positive ones)
    assert P.asymptotic_mc(_decl(), [100, 200, 400], [0.2, 0.1, 0.0], [0.0, 0.0, 0.0]).word == "holds"
