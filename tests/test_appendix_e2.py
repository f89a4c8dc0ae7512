"""sims.appendix_e2 (paper 000 Appendix E.2): the declared families of Fig E.1, E.2.2 and E.2.3 on
planted per-seed rows with known answers (exact sign-flip tests, TOST, Holm within each claim,
reduced-scale level and ceiling rules, E.2.2 against its ~80% plateau).  Eight seeds: Holm over
Fig E.1's five tests needs 5 * 2^(1-n) <= 0.05, first at n = 8 (sims.decided.exact_floor)."""
import pytest

from sims.decided import exact_floor

SEEDS = tuple(range(8))


def _rows(acc: dict, seeds=SEEDS, jitter=0.002):
    """Run rows {config: (pruned, unpruned)}: every metric the rules read, a seed-dependent spread
    shared by both arms' configs (so cross-config differences are constant)."""
    rows = []
    for c, (p, u) in acc.items():
        for s in seeds:
            e = jitter * (s - 3.5)
            for run, a in (("pruned", p + e), ("unpruned", u + e * 0.5)):
                rows.append({"config": c, "seed": s, "run": run, "final_test_accuracy": a,
                             "mean_test_accuracy_last_5": a, "max_test_accuracy": a + 0.003,
                             "final_dead_outputs": 10 if a <= 0.1 else 0})
    return rows


def _words(acc, seeds=SEEDS):
    from sims.appendix_e2 import e2_verdicts
    V = e2_verdicts(_rows(acc, seeds), [], "synthetic", scale="planted")
    assert all(v.protocol["scale"] == "planted" for v in V)
    return {(v.claim, v.setting.split(" synthetic")[0], v.setting.split("; ")[-1]): v for v in V}


PAPER_LIKE = {"e2-normal": (0.9074, 0.89), "e2-he": (0.905, 0.89), "e2-xavier": (0.906, 0.889),
              "e2-normal-sparse90": (0.79, 0.78), "e2-he-l2only": (0.90, 0.88),
              "e2-xavier-l2only": (0.901, 0.88), "e2-normal-sparse90-l2only": (0.78, 0.77)}


def test_exact_floor_of_fig_e1():
    assert exact_floor(5, 0.05) == len(SEEDS)


def test_paper_like_numbers_hold():
    w = {k: v.verdict for k, v in _words(PAPER_LIKE).items()}
    assert w[("000:figure:E.1", "e2-he", "pruned test accuracy above 90%")] == "holds"
    assert w[("000:figure:E.1", "e2-xavier vs e2-normal", "pruned, comparable accuracy")] == "holds"
    assert w[("000:figure:E.1", "e2-he", "pruned above unpruned (~89%)")] == "holds"
    assert w[("000:text:E.2.2", "e2-normal-sparse90", "plateau of the pruned run (mean of the last 5 epochs) ~80%")] \
        == "holds"
    assert w[("000:text:E.2.2", "e2-normal vs e2-normal-sparse90", "both MP-pruned, dense above sparse")] == "holds"
    # a ceiling is never confirmed at reduced scale, only refuted
    assert w[("000:text:E.2.3", "e2-normal-sparse90-l2only", "best test accuracy over epochs, pruned")] == "inconclusive"
    assert w[("000:text:E.2.3", "e2-he-l2only", "pruned test accuracy ~90%")] == "holds"
    assert w[("000:text:E.2.3", "e2-xavier-l2only", "pruned (~90%) above unpruned (~88%)")] == "holds"


def test_contrary_numbers_fail_or_stay_open():
    w = {k: v.verdict for k, v in _words({
        "e2-normal": (0.86, 0.87), "e2-he": (0.83, 0.85), "e2-xavier": (0.85, 0.85),
        "e2-normal-sparse90": (0.10, 0.10), "e2-he-l2only": (0.84, 0.86), "e2-xavier-l2only": (0.85, 0.86),
        "e2-normal-sparse90-l2only": (0.87, 0.86)}).items()}
    assert w[("000:figure:E.1", "e2-he", "pruned test accuracy above 90%")] == "inconclusive"  # scale-bound
    assert w[("000:figure:E.1", "e2-he vs e2-normal", "pruned, comparable accuracy")] == "fails"
    assert w[("000:figure:E.1", "e2-he", "pruned above unpruned (~89%)")] == "fails"
    # E.2.2 against its claim: a sparse start that collapses to chance does not plateau at ~80%
    assert w[("000:text:E.2.2", "e2-normal-sparse90", "plateau of the pruned run (mean of the last 5 epochs) ~80%")] \
        == "fails"
    assert w[("000:text:E.2.3", "e2-normal-sparse90-l2only", "best test accuracy over epochs, pruned")] == "fails"
    assert w[("000:text:E.2.3", "e2-he-l2only", "pruned (~90%) above unpruned (~88%)")] == "fails"


def test_holm_within_the_claim_and_few_seeds():
    """Fig E.1's five tests are adjusted together: the two TOST p-values are 1/256 (one-sided, every
    difference inside the margin) and rank first, the three gains 2/256 come next, so Holm gives each
    gain max(5 * 1/256, 4 * 1/256, 3 * 2/256) = 6/256; with
    five seeds (the committed run) no test can decide and every tested row is inconclusive with the
    seeds it would need."""
    V = _words(PAPER_LIKE)
    gain = V[("000:figure:E.1", "e2-he", "pruned above unpruned (~89%)")]
    assert gain.protocol["p"] == 2 / 256 and gain.protocol["p_adjusted"] == pytest.approx(6 / 256, rel=1e-12)
    assert gain.protocol["family"] == "000:figure:E.1" and gain.protocol["rule"] == "paired_sign"
    five = _words(PAPER_LIKE, seeds=range(5))
    tested = [v for v in five.values() if v.protocol["p"] is not None]
    assert tested and all(v.verdict == "inconclusive" for v in tested)
    assert all(v.protocol["pairs_needed"] >= 6 for v in tested if v.protocol["pairs_needed"] is not None)


@pytest.mark.parametrize("name", ["e2", "e2_w20"])
def test_the_committed_results_are_their_own_tables_redecided(name):
    import json
    from pathlib import Path

    from sims.appendix_e2 import Config, run
    path = Path(__file__).resolve().parent.parent / "results" / "section3" / f"{name}.json"
    stored = json.loads(path.read_text())
    res = run(Config(redecide_from=str(path)))
    assert [(v.claim, v.setting, v.verdict) for v in res.verdicts] == [
        (v["claim"], v["setting"], v["verdict"]) for v in stored["verdicts"]]
