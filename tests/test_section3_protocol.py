"""The declared Section 3 families (sims.example_3_2_verdicts) and the mechanism table
(sims.dead_output_analysis.mechanism_decisions) on planted per-seed data whose right answer is known.

No random draws: the sign-flip tests are enumerated and the bootstrap is seeded, so every p below is
exact arithmetic worked out by hand: n differences of one sign give the two-sided p = 2 / 2^n and the
one-sided p = 1 / 2^n (15 seeds: 6.1e-5 and 3.1e-5; 10 seeds: 0.00195 and 0.00098)."""
from __future__ import annotations

import pytest

from sims import dead_output_analysis as mech
from sims import example_3_2_verdicts as rules

SEEDS = 15
SCALE = rules.CPU_SCALE


def _rows(name, gaps, *, base=0.70, reduction=0.65, stratum=None, loss_gap=-0.1):
    """Final rows of one config: pruned = unpruned + gap per seed (small seed-dependent jitter)."""
    rows = []
    for s, g in enumerate(gaps):
        u = base + 0.001 * s
        common = {"config": name, "seed": s, mech.STRATUM: None if stratum is None else stratum[s]}
        rows.append({**common, "run": "unpruned", "final_test_accuracy": u, "final_train_accuracy": u + 0.05,
                     "final_train_loss": 0.5, "final_test_loss": 0.6, "final_test_loss_sum_batches": 50.0,
                     "parameter_reduction": 0.0})
        rows.append({**common, "run": "pruned", "final_test_accuracy": u + g, "final_train_accuracy": u + 0.05 + g,
                     "final_train_loss": 0.5 + loss_gap, "final_test_loss": 0.6 + loss_gap,
                     "final_test_loss_sum_batches": 50.0 + 10 * loss_gap, "parameter_reduction": reduction})
    return rows


def _records(name, gaps, epochs=14):
    out = []
    for s, g in enumerate(gaps):
        for e in range(1, epochs + 1):
            for run, acc in (("unpruned", 0.7), ("pruned", 0.7 + (g if e > 7 else 0))):
                out.append({"config": name, "seed": s, "run": run, "epoch": e, "test_accuracy": acc,
                            "train_accuracy": acc + 0.05})
    return out


def _events(name, change, seeds=SEEDS, rounds=(7, 14)):
    """Several rounds per seed, the same change each: clustered, they count once per seed."""
    return [{"config": name, "seed": s, "epoch": e, "change": change + 0.001 * (s % 3 - 1)}
            for s in range(seeds) for e in rounds]


def _equal_time(name, gain, seeds=SEEDS):
    return [{"config": name, "seed": s, "pruned_accuracy": 0.8 + gain, "unpruned_accuracy_at_pruned_time": 0.8,
             "pruned_time_s": 10.0, "unpruned_time_s": 9.0, "unpruned_finished_first": False}
            for s in range(seeds)]


def _verdicts(gaps, *, change=-0.005, reduction=0.65, controls=(), extra_rows=()):
    rows = _rows("ex3.2a", gaps, reduction=reduction) + list(extra_rows)
    return rules.verdicts("a", "ex3.2a", 7, 14, controls, rows, _records("ex3.2a", gaps), _events("ex3.2a", change),
                          _equal_time("ex3.2a", 0.10), SCALE, {c: rules.CONTROL_SCALE for c, _ in controls})


def _get(V, claim, part=""):
    return [v for v in V if v.claim == claim and part in v.setting]


def test_a_gain_of_the_papers_size_holds_and_a_small_one_fails_table_3_4():
    big = _get(_verdicts([0.20 + 0.001 * s for s in range(SEEDS)]), "000:table:3.4")
    assert [v.verdict for v in big] == ["holds"]
    assert big[0].protocol["p"] == pytest.approx(1 / 2 ** SEEDS, abs=1e-15)  # one-sided, gain > 0
    small = _get(_verdicts([0.02] * SEEDS), "000:table:3.4")
    assert [v.verdict for v in small] == ["fails"] and small[0].protocol["rule"] == "paired_size"
    assert small[0].protocol["scale"] == SCALE and small[0].protocol["margin"] == pytest.approx(0.19)


def test_removing_more_than_30_percent_is_not_a_counterexample_and_43_6_is_left_to_paper_scale():
    V = _verdicts([0.02] * SEEDS, reduction=0.65)
    (params,) = _get(V, "000:text:3.2.1", "at least 30%")
    assert params.verdict == "holds" and params.protocol["p"] == pytest.approx(2 / 2 ** SEEDS, abs=1e-15)
    (t35,) = _get(V, "000:table:3.5")
    assert t35.verdict == "inconclusive" and t35.protocol["rule"] == "withheld" and t35.bound == 0.4365
    (few,) = _get(_verdicts([0.02] * SEEDS, reduction=0.20), "000:text:3.2.1", "at least 30%")
    assert few.verdict == "fails"


def test_fig_3_5_clusters_rounds_by_seed_and_decides_by_equivalence():
    (ok,) = _get(_verdicts([0.02] * SEEDS, change=-0.005), "000:figure:3.5")
    assert ok.verdict == "holds" and ok.N == SEEDS and ok.protocol["n"] == SEEDS  # 30 rounds, 15 seeds
    assert ok.protocol["rule"] == "paired_equivalence" and ok.protocol["margin"] == rules.FIG_3_5_MARGIN
    (bad,) = _get(_verdicts([0.02] * SEEDS, change=-0.10), "000:figure:3.5")
    assert bad.verdict == "fails"
    # an interval that straddles the margin is not a counterexample: -3 +- 1.5 points
    rows = _rows("ex3.2a", [0.02] * SEEDS)
    ev = [{"config": "ex3.2a", "seed": s, "epoch": 7, "change": -0.03 + 0.015 * (1 if s % 2 else -1)}
          for s in range(SEEDS)]
    (mid,) = _get(rules.verdicts("a", "ex3.2a", 7, 14, [], rows, _records("ex3.2a", [0.02] * SEEDS), ev,
                                 _equal_time("ex3.2a", 0.1), SCALE, {}), "000:figure:3.5")
    # its mean sits on the margin: no number of seeds can show equivalence (core.protocol's TOST count)
    assert mid.verdict == "inconclusive" and mid.protocol["pairs_needed"] is None


def test_table_3_6_is_one_family_of_two_tests_with_holm():
    V = _get(_verdicts([0.02] * SEEDS), "000:table:3.6")
    assert len(V) == 2 and all(v.verdict == "holds" for v in V)
    assert all(v.protocol["p_adjusted"] == pytest.approx(2 * 2 / 2 ** SEEDS, abs=1e-15) for v in V)


def test_controls_are_their_own_families_not_rows_of_table_3_4():
    ctrl = [("ex3.2a-linear-output", "control linear-output"), ("ex3.2a-he", "control he"),
            ("ex3.2a-xavier", "control xavier")]
    extra = (_rows("ex3.2a-linear-output", [-0.01 - 0.001 * s for s in range(10)])
             + _rows("ex3.2a-he", [0.01] * 10) + _rows("ex3.2a-xavier", [0.01, -0.01] * 5))
    V = _verdicts([0.02] * SEEDS, controls=ctrl, extra_rows=extra)
    assert len(_get(V, "000:table:3.4")) == 1  # the paper's configuration only
    (lin,) = _get(V, "000:text:3.2.5")
    assert lin.verdict == "fails" and lin.protocol["scale"] == rules.CONTROL_SCALE
    he, xavier = _get(V, "000:text:3.2.2")
    # Holm over the two initialisations: he's 2/2^10 doubled is still below 0.05; xavier is mixed
    assert he.verdict == "holds" and he.protocol["p_adjusted"] == pytest.approx(2 * 2 / 2 ** 10, abs=1e-15)
    assert xavier.verdict == "inconclusive"


def test_mechanism_splits_by_the_pre_treatment_stratum_and_compares_controls_on_the_same_seeds():
    """Planted: MP pruning gains 9 points exactly on the seeds with a class never predicted before
    round 1 (8 of 15) and nothing elsewhere; the revive control does the same on the same seeds; the
    hidden-only control gains nothing."""
    dead = [1 if s < 8 else 0 for s in range(SEEDS)]
    gaps = [0.09 + 0.001 * s if dead[s] else 0.0005 * (-1) ** s for s in range(SEEDS)]
    rows = _rows("ex3.2a", gaps, stratum=dead)
    rows += _rows("ex3.2a-revive-dead-outputs", gaps[:10], stratum=dead[:10])
    rows += _rows("ex3.2a-hidden-only", [0.0005 * (-1) ** s for s in range(10)], stratum=dead[:10])
    table = mech.mechanism_decisions(rows, "ex3.2a", {"ex3.2a-revive-dead-outputs": "revive-dead-outputs",
                                                      "ex3.2a-hidden-only": "hidden-only"})
    by = {(r["family"], r["config"], r["stratum"]): r for r in table}
    head = mech.MECHANISM_FAMILIES["headline"].family
    hit = by[(head, "ex3.2a", "class never predicted before round 1")]
    assert hit["n"] == 8 and hit["word"] == "holds" and hit["p"] == pytest.approx(2 / 2 ** 8, abs=1e-15)
    assert hit["p_adjusted"] == pytest.approx(2 * 2 / 2 ** 8, abs=1e-15)  # Holm over the two strata
    miss = by[(head, "ex3.2a", "every class predicted before round 1")]
    assert miss["n"] == 7 and miss["word"] == "inconclusive"
    against = mech.MECHANISM_FAMILIES["against_mp"].family
    revive = by[(against, "ex3.2a-revive-dead-outputs", "all")]
    assert revive["mean"] == pytest.approx(0.0, abs=1e-12) and revive["reading"] == "no detectable difference"
    hidden = by[(against, "ex3.2a-hidden-only", "all")]
    assert hidden["reading"] == "smaller than MP pruning's" and hidden["n"] == 10


@pytest.mark.parametrize("topology", ["a", "b", "c"])
def test_the_committed_ex3_2_results_are_their_own_tables_redecided(topology):
    """The committed words, p-values and companion sign tests are what the declared rules make from
    the Result's own tables (no run cache needed)."""
    from pathlib import Path

    from core.result import read_result
    from sims.example_3_2 import recompute_verdicts
    path = Path(__file__).resolve().parent.parent / "results" / "section3" / f"ex3.2{topology}.json"
    stored = read_result(path)
    again = recompute_verdicts(stored)
    keys = ("p", "p_adjusted", "sign_test_p", "sign_test_p_adjusted")
    assert [(v.claim, v.setting, v.verdict, v.measured) for v in again] == [
        (v.claim, v.setting, v.verdict, v.measured) for v in stored.verdicts]
    assert [tuple((v.protocol or {}).get(k) for k in keys) for v in again] == [
        tuple((v.protocol or {}).get(k) for k in keys) for v in stored.verdicts]
