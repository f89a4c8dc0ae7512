"""core.protocol.universal_constant (added for paper 004's Lemma 4 / Latala's C): a rise of the
required constant with size never makes a "fails", only an inconclusive; planted sequences."""
import pytest

from core import protocol as P


def _decl(margin=0.05):
    return P.declare("004:lemma:4", "smallest C per size", "universal_constant", margin=margin)


def test_flat_or_falling_required_constant_holds():
    d = P.universal_constant(_decl(), [64, 128, 256, 512], [0.61, 0.60, 0.62, 0.60])
    assert d.word == "holds" and d.extra["rise"] == pytest.approx(-0.01, abs=1e-12)
    assert d.estimate == pytest.approx(0.62)
    assert P.universal_constant(_decl(), [512, 64], [0.5, 0.9]).word == "holds"  # order of sizes free


def test_a_rise_beyond_the_margin_is_inconclusive_never_fails():
    d = P.universal_constant(_decl(), [64, 128, 256], [0.60, 0.70, 0.80])
    assert d.word == "inconclusive" and d.extra["rise"] == pytest.approx(0.2)
    assert P.universal_constant(_decl(0.25), [64, 128, 256], [0.60, 0.70, 0.80]).word == "holds"
    assert P.universal_constant(_decl(), [64, 128], [0.6, float("nan")]).word == "inconclusive"


def test_the_rule_is_declared_and_needs_its_margin():
    assert "universal_constant" in P.RULES
    bare = P.declare("004:lemma:4", "smallest C per size", "universal_constant")
    with pytest.raises(ValueError, match="margin"):
        P.universal_constant(bare, [64, 128], [0.6, 0.6])
