"""The declared tests of sims.remark_3_1 (exact one-sided sign-flip and sign tests, Holm, the verdict
rule), checked against hand-computed values and against their own sampling distribution."""
from __future__ import annotations


import pytest

from sims import remark_3_1 as m


def test_sign_test_p_by_hand():
    assert m.sign_test_p([1, 1, 1, 1, 1, 1]) == 1 / 64
    assert m.sign_test_p([1, 1, 1, -1]) == 5 / 16          # P(Bin(4, 1/2) >= 3)
    assert m.sign_test_p([0, 0, 1]) == 1 / 2                # ties dropped
    assert m.sign_test_p([0, 0]) == 1.0


def test_declared_family_on_planted_data():
    """Planted finals with known answers: the continued arm far below unpruned and Algorithm 1 above
    it on every one of 7 seeds: each exact two-sided p is 2/128, Holm over two gives 4/128 <= 0.05,
    so comparison 1 fails (wrong side) and comparison 2 holds; with 6 seeds 2 * 2/64 = 0.0625 > 0.05
    and neither can be decided (the smallest p six seeds can give)."""
    finals = {}
    for s in range(7):
        finals[(s, "unpruned")], finals[(s, "algorithm1")], finals[(s, "continued_splitting")] = \
            0.80 + 0.001 * s, 0.84, 0.10 + 0.01 * s
    comps, decisions = m._comparisons(finals, range(7))
    verdicts = [m._verdict(c, d, m.SCALE) for c, d in zip(comps, decisions)]
    assert [v.verdict for v in verdicts] == ["fails", "holds"]
    assert comps[1]["p"] == 2 / 128 and comps[1]["p_adjusted"] == 4 / 128
    assert verdicts[0].corrected and not verdicts[1].corrected
    assert verdicts[1].protocol["rule"] == "paired_sign" and verdicts[1].protocol["scale"] == m.SCALE
    assert verdicts[1].protocol["family"] == m.CLAIM == "000:remark:3.1"
    few, few_decisions = m._comparisons(finals, range(6))
    assert [d.word for d in few_decisions] == ["inconclusive", "inconclusive"]
    assert few[0]["p_adjusted"] == pytest.approx(0.0625, rel=1e-12, abs=0)


def test_declarations_are_made_before_the_runs():
    assert set(m.DECLARATIONS) == {name for name, *_ in m.COMPARISONS}
    assert all(d.rule == "paired_sign" and d.alpha == m.ALPHA and d.family == m.CLAIM
               for d in m.DECLARATIONS.values())
    # a toy run restates only the scale
    other = m._declaration(m.COMPARISONS[0][0], "toy")
    assert other.scale == "toy" and other.endpoint == m.DECLARATIONS[m.COMPARISONS[0][0]].endpoint


def test_the_committed_result_is_its_own_tables_redecided():
    import json
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "results" / "section3" / "remark_3_1.json"
    stored = json.loads(path.read_text())
    res = m.run(m.Config(redecide_from=str(path)))
    assert [(v.claim, v.setting, v.verdict) for v in res.verdicts] == [
        (v["claim"], v["setting"], v["verdict"]) for v in stored["verdicts"]]
    # the exact tests need no random draws (the bootstrap intervals do, and move with --seed-shift)
    assert [(c["p"], c["p_adjusted"], c["mean"]) for c in res.tables["comparisons"]] == [
        (c["p"], c["p_adjusted"], c["mean"]) for c in stored["tables"]["comparisons"]]
