"""sims.sparsification_sweeps.over_95_verdict (000:text:3.2.6) on synthetic sweeps whose right verdict
is known, plus the E.2 experiment end to end at toy size and its figure.  (The decision rules that
sims.seed_statistics used to hold are core.protocol's now: tests/test_protocol.py.)"""
from __future__ import annotations

import pytest

from tests.test_section3 import tiny_configs  # noqa: F401  (fixture)


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
