"""sims.statistics (the verdict words of Section 3 / Appendix E.2 claims measured at reduced
scale), sims.sparsification_sweeps.over_95_verdict (000:text:3.2.6) and sims.appendix_e2 (Appendix E.2) on
synthetic inputs whose right verdict is known, plus the E.2 experiment end to end at toy size."""
from __future__ import annotations

import math

import pytest

from sims import statistics as rules
from tests.test_section3 import tiny_configs  # noqa: F401  (fixture)


def test_sign_rule():
    assert rules.sign(0.01, 0.05) == "holds"
    assert rules.sign(-0.05, -0.01) == "fails"
    assert rules.sign(-0.01, 0.05) == "inconclusive"
    assert rules.sign(-0.05, -0.01, want_positive=False) == "holds"
    assert rules.sign(math.nan, 0.1) == "inconclusive"


def test_level_reached_is_decided_only_when_reached():
    assert rules.level_reached_at_reduced_scale(0.905, 0.92, 0.90) == "holds"
    # below the level at reduced scale: the scale explains it, never "fails"
    assert rules.level_reached_at_reduced_scale(0.80, 0.82, 0.90) == "inconclusive"
    assert rules.level_reached_at_reduced_scale(0.89, 0.91, 0.90) == "inconclusive"
    assert rules.level_reached_at_reduced_scale(math.nan, math.nan, 0.90) == "inconclusive"


def test_ceiling_is_refuted_only_when_exceeded():
    assert rules.ceiling_at_reduced_scale(0.83, 0.85, 0.80) == "fails"
    assert rules.ceiling_at_reduced_scale(0.70, 0.75, 0.80) == "inconclusive"
    assert rules.ceiling_at_reduced_scale(0.79, 0.83, 0.80) == "inconclusive"


def test_equivalence_rule():
    assert rules.equivalent(-0.005, 0.008, 0.01) == "holds"
    assert rules.equivalent(0.02, 0.04, 0.01) == "fails"
    assert rules.equivalent(-0.04, -0.02, 0.01) == "fails"
    assert rules.equivalent(-0.005, 0.03, 0.01) == "inconclusive"


def test_all_parts_and_every_seed():
    assert rules.all_parts(["holds", "holds"]) == "holds"
    assert rules.all_parts(["holds", "fails"]) == "fails"
    assert rules.all_parts(["holds", "inconclusive"]) == "inconclusive"
    assert rules.all_parts([]) == "inconclusive"
    with pytest.raises(ValueError):
        rules.all_parts(["yes"])
    assert rules.every_seed([1, 2], lambda v: v > 0) and not rules.every_seed([], lambda v: True)
    assert not rules.every_seed([1, -1], lambda v: v > 0)


def _sweep(seed, run, removed_within, base=0.85, n=1000):
    """A sparsification sweep whose accuracy is flat (no drop) up to ``removed_within`` of n
    parameters removed, then falls by 10 points."""
    rows = [{"seed": seed, "run": run, "xi": 0.0, "accuracy": base, "parameters_kept": n, "fraction_kept": 1.0}]
    for k, frac in enumerate((0.5, 0.8, 0.9, 0.96, 0.99)):
        rows.append({"seed": seed, "run": run, "xi": 0.01 * (k + 1), "parameters_kept": round(n * (1 - frac)),
                     "fraction_kept": 1 - frac, "accuracy": base if frac <= removed_within else base - 0.10})
    return rows


@pytest.mark.parametrize("seeds", [1, 8])
@pytest.mark.parametrize("mp, alone, word", [(0.96, 0.8, "holds"), (0.9, 0.5, "fails"), (0.96, 0.99, "fails"),
                                             (0.8, 0.9, "fails")])
def test_over_95_verdict_words(mp, alone, word, seeds):
    """One seed: decided on that run (bound).  Eight seeds of one sign: the exact sign-flip p is
    2/2^8 = 0.0078 per part, 0.0156 after Holm over the two parts, below 0.05."""
    from sims.sparsification_sweeps import over_95_verdict
    sweeps = [x for s in range(seeds) for x in (*_sweep(s, "pruned", mp), *_sweep(s, "unpruned", alone))]
    v = over_95_verdict(sweeps, {s: 1000 for s in range(seeds)}, "synthetic")
    assert v.claim == "000:text:3.2.6" and v.verdict == word


def test_over_95_verdict_two_or_mixed_seeds_is_inconclusive():
    """Two seeds cannot reach p <= 0.05 (smallest two-sided sign-flip p is 2/4); mixed seeds neither."""
    from sims.sparsification_sweeps import over_95_verdict
    two = [*_sweep(0, "pruned", 0.96), *_sweep(0, "unpruned", 0.5), *_sweep(1, "pruned", 0.96),
           *_sweep(1, "unpruned", 0.5)]
    assert over_95_verdict(two, {0: 1000, 1: 1000}, "synthetic").verdict == "inconclusive"
    mixed = [x for s in range(8) for x in (*_sweep(s, "pruned", 0.96 if s % 2 else 0.9),
                                           *_sweep(s, "unpruned", 0.5))]
    assert over_95_verdict(mixed, {s: 1000 for s in range(8)}, "synthetic").verdict == "inconclusive"


def test_appendix_e2_runs_at_toy_size_and_rejects_bad_input(tmp_path, tiny_configs):
    from core.validate import InvalidArgument
    from sims.appendix_e2 import Config, run

    def appendix_e2(*, seeds, configs, runs_dir):
        return run(Config(seeds=seeds, configs=tuple(configs), runs_dir=str(runs_dir)))
    res = appendix_e2(seeds=2, configs=["e2-normal", "e2-he", "e2-normal-sparse90"], runs_dir=tmp_path)
    claims = {v.claim for v in res.verdicts}
    assert {"000:figure:E.1", "000:text:E.2.2"} <= claims
    assert {r["config"] for r in res.tables["runs"]} == {"e2-normal", "e2-he", "e2-normal-sparse90"}
    with pytest.raises(InvalidArgument):
        appendix_e2(seeds=1, configs=["ex3.2a"], runs_dir=tmp_path)


def test_fig_e_1_reads_the_appendix_e2_result(tmp_path, tiny_configs):
    from types import SimpleNamespace
    import matplotlib
    matplotlib.use("Agg")
    from core.result import write_result
    from figures.fig_section3 import FIGURES
    from sims.appendix_e2 import Config, run
    res = run(Config(seeds=2, configs=("e2-normal", "e2-he"), runs_dir=str(tmp_path / "runs")))
    write_result(res, tmp_path / "section3" / "e2.json")
    png, csv_path = FIGURES["E.1"](tmp_path, SimpleNamespace(results_dir=tmp_path))
    assert png.stat().st_size > 0
    assert {"e2-normal", "e2-he"} == set(line.split(",")[0] for line in csv_path.read_text().splitlines()[1:])
