"""core.protocol.discriminates (added by the theory-A helper): an interval against the paper's
value and a rival value; every outcome on planted intervals with a known answer (deterministic)."""
from core import protocol as P


def _decl():
    return P.declare("000:eq:B.14", "mean of ||W'-S||_2", "discriminates", scale="N = 250-2000")


def test_only_the_claimed_value_inside_holds():
    d = P.discriminates(_decl(), 0.99, 1.01, claimed=1.0, alternative=1.02)
    assert d.word == "holds" and d.interval == [0.99, 1.01]


def test_only_the_rival_inside_fails():
    assert P.discriminates(_decl(), 1.01, 1.03, claimed=1.0, alternative=1.02).word == "fails"


def test_both_or_neither_inside_is_inconclusive():
    assert P.discriminates(_decl(), 0.9, 1.1, claimed=1.0, alternative=1.02).word == "inconclusive"
    assert P.discriminates(_decl(), 1.05, 1.1, claimed=1.0, alternative=1.02).word == "inconclusive"


def test_without_a_rival_an_excluded_value_is_inconclusive_never_fails():
    # a finite-N offset of a limit cannot be told from a wrong limit without a rival
    assert P.discriminates(_decl(), 1.01, 1.03, claimed=1.0).word == "inconclusive"
    assert P.discriminates(_decl(), 0.99, 1.01, claimed=1.0).word == "holds"
    assert P.discriminates(_decl(), float("nan"), 1.01, claimed=1.0).word == "inconclusive"


def test_the_rule_is_declared():
    assert "discriminates" in P.RULES
