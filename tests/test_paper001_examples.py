"""sims.paper001_examples' declared families (core.protocol) on planted tables with known answers:
the unbiased split contrasts (peak vs peak, final vs final, paired by seed), the vacuous example that
never split, the final layer's share of split rounds (001:text:4.5.1), one statistic per run for the
accuracy change at a split (001:text:4.5.2), the printed chains as a text inconsistency, and the
re-decision of a stored Result from its own tables."""
import json

import pytest

from sims import paper001_examples as m

SEEDS = range(8)   # Holm over 2 x 2 contrasts: 4 * 2^(1-n) <= 0.05 first at n = 8


def _tables(split_gain, n_splits=2, final_layer=1, change=-0.001, seeds=SEEDS, examples=("4.3", "4.6")):
    runs, curves, rounds, summary, scale = [], [], [], [], {}
    for ex in examples:
        scale[ex] = {"topology": [784, 30, 10], "epochs": 9, "cpu_changes": {"n_train": 200}, "goodness_of_fit": 0.1}
        for s in seeds:
            base = 0.80 + 0.002 * s
            for run, gain in (("pruned", split_gain), ("unpruned", 0.0)):
                runs.append({"example": ex, "seed": s, "run": run, "epochs": 9, "best_test_accuracy": base + gain,
                             "final_test_accuracy": base + gain, "mean_test_accuracy_last_5": base + gain,
                             "diverged": None, "splits": n_splits if run == "pruned" else 0,
                             "final_parameters": 100})
            params = 1000
            for epoch in range(1, 10):
                split = n_splits and epoch in (3, 6)
                params -= 100 if split else 0
                curves.append({"config": f"p001-ex{ex}", "seed": s, "run": "split", "epoch": epoch,
                               "test_accuracy": 0.8, "test_accuracy_after_callbacks": 0.8 + (change if split else 0.0)
                               if epoch > 1 else None, "parameters": params})
        rounds.append({"example": ex, "final_layer_splits": final_layer, "rounds_with_a_split": 2 * len(seeds)})
        summary.append({"example": ex, "splits": n_splits * len(seeds), "layer_decisions": 10, "min_fit_statistic": 0.01,
                        "goodness_of_fit": 0.1, "split_peak_minus_nonsplit_plateau_mean": split_gain,
                        "paper_split_peak": 0.97, "paper_nonsplit_plateau": 0.88, "parameter_reduction_mean": 0.2,
                        "paper_parameter_reduction": 0.4, "nonsplit_train_minus_test": 0.1,
                        "split_train_minus_test": 0.1})
    return runs, curves, rounds, summary, scale


def _by_claim(V):
    out = {}
    for v in V:
        out.setdefault(v.claim, []).append(v)
    return out


def test_split_contrasts_hold_fail_and_vacuous():
    V = _by_claim(m.decide(*_tables(0.01)))
    contrasts = V["001:algorithm:4.4"]
    assert len(contrasts) == 4 and all(v.verdict == "holds" for v in contrasts)
    assert contrasts[0].protocol["p"] == 2 / 256 and contrasts[0].protocol["p_adjusted"] == 4 * 2 / 256
    assert contrasts[0].protocol["family"] == m.FAMILY_TRAINING
    assert all(v.verdict == "fails" for v in _by_claim(m.decide(*_tables(-0.01)))["001:algorithm:4.4"])
    # no split at all: the arms are identical, nothing was tested (not a measured gain)
    none = _by_claim(m.decide(*_tables(0.0, n_splits=0, final_layer=0)))
    assert all(v.verdict == "vacuous" for v in none["001:algorithm:4.4"])
    assert "001:text:4.5.1" not in none and "001:text:4.5.2" not in none
    # three seeds (the committed run) cannot decide any contrast
    few = _by_claim(m.decide(*_tables(0.01, seeds=range(3))))
    assert all(v.verdict == "inconclusive" for v in few["001:algorithm:4.4"])


def test_final_layer_share_of_split_rounds():
    # 2 examples x 8 runs x 3 rounds = 48 rounds; 4 final-layer splits = 8.3% <= 10%: holds
    (v,) = _by_claim(m.decide(*_tables(0.01, final_layer=2)))["001:text:4.5.1"]
    assert v.verdict == "holds" and v.measured == pytest.approx(4 / 48) and v.N == 48
    (v,) = _by_claim(m.decide(*_tables(0.01, final_layer=3)))["001:text:4.5.1"]
    assert v.verdict == "fails" and v.measured == pytest.approx(6 / 48)


def test_accuracy_at_a_split_is_one_statistic_per_run():
    """16 runs each with the same mean change: -0.1 points clears the 0.5-point margin (holds),
    -2 points fails it; the rounds of a run count once (N is the number of runs)."""
    (v,) = _by_claim(m.decide(*_tables(0.01, change=-0.001)))["001:text:4.5.2"]
    assert v.verdict == "holds" and v.N == 16 and v.measured == pytest.approx(-0.001)
    (v,) = _by_claim(m.decide(*_tables(0.01, change=-0.02)))["001:text:4.5.2"]
    assert v.verdict == "fails" and v.interval[1] < -m.NO_DECREASE_MARGIN


def test_split_rounds_are_read_from_the_parameter_count():
    curve = [{"epoch": 1, "parameters": 10, "test_accuracy": 0.5, "test_accuracy_after_callbacks": None},
             {"epoch": 2, "parameters": 10, "test_accuracy": 0.6, "test_accuracy_after_callbacks": 0.6},
             {"epoch": 3, "parameters": 8, "test_accuracy": 0.7, "test_accuracy_after_callbacks": 0.65}]
    assert m.split_round_changes(list(reversed(curve))) == [pytest.approx(-0.05)]


def test_printed_chains_are_one_row_with_the_text_inconsistency():
    V, rows = m.arithmetic_verdicts()
    assert len(V) == 1 and V[0].verdict == "holds" and V[0].protocol["scale"] == "paper"
    assert "paper issue" in V[0].note and "removes 45%" in V[0].note
    assert all(r["splits_below_floor_045"] == 0 for r in rows) and any(r["splits_below_floor_055"] for r in rows)


def test_redecide_from_a_stored_result(tmp_path):
    """A stored Result's verdicts recomputed from its tables alone: same tables, old verdicts and
    provenance kept under config['redecided_from']."""
    runs, curves, rounds, summary, scale = _tables(0.01)
    stored = {"experiment": m.RESULT_NAME, "config": {"scale": scale, "seeds": 8},
              "provenance": {"argv": ["python", "-m", "nets.paper001", "--seeds", "8"]}, "records": [],
              "verdicts": [{"claim": "001:algorithm:4.4", "setting": "x", "verdict": "inconclusive"}],
              "tables": {"runs": runs, "curves": curves, "split_rounds": rounds, "examples": summary}}
    path = tmp_path / "paper001.json"
    path.write_text(json.dumps(stored))
    res = m.run(m.Config(redecide_from=str(path)))
    assert res.config["redecided_from"]["provenance"]["argv"][:3] == ["python", "-m", "nets.paper001"]
    assert [v.verdict for v in res.verdicts if v.claim == "001:algorithm:4.4"][1:] == ["holds"] * 4
    assert res.tables["runs"] == json.loads(path.read_text())["tables"]["runs"]


def test_the_committed_result_is_its_own_tables_redecided():
    """results/paper001.json (trained at 866 s, re-decided without retraining) carries exactly the
    verdicts the declared rules give from its stored tables."""
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "results" / "paper001.json"
    stored = json.loads(path.read_text())
    res = m.run(m.Config(redecide_from=str(path)))
    assert [(v.claim, v.setting, v.verdict) for v in res.verdicts] == [
        (v["claim"], v["setting"], v["verdict"]) for v in stored["verdicts"]]
    assert res.config["redecided_from"]["provenance"]["argv"][2] == "nets.paper001"


def test_one_seed_with_splits_is_untested_not_a_crash():
    """One paired seed is no test (``paired_sign`` needs two): the contrast is inconclusive, its note
    names no Holm step (there was none), and the run still gets its Result (a --seeds 1 run whose nets
    split used to raise on formatting the missing adjusted p)."""
    V = _by_claim(m.decide(*_tables(0.01, seeds=range(1))))
    contrasts = V["001:algorithm:4.4"]
    assert len(contrasts) == 4 and all(v.verdict == "inconclusive" for v in contrasts)
    assert all(v.protocol["p"] is None and "Holm" not in v.note for v in contrasts)
