"""Paper 000's Example 3.2 at paper scale, decided from paired runs (issue 22).

Each pair is one seed of ``python -m nets.train ex3.2<t> --scale paper`` trained twice from the same
initial weights and batch order: with Algorithm 1 (MP-based pruning every 7 epochs, schedule (3.6),
GoF 0.7; Section 3.2.1) and with ``--no-prune``.  ``scripts/paper_scale_cpu.sh`` trains them on the
CPU (fp32, one thread per arm, checkpointed every epoch, resumable) and stores each arm as a
``nets.train`` Result ``seed<S>_pruned.json`` / ``seed<S>_unpruned.json`` in one folder; this
experiment reads the finished pairs back and writes one Result: a row per pair, the per-epoch curves
of both arms (Figs 3.3/3.4), test accuracy before and after every pruning round (Fig 3.5), the
equal-CPU-time comparison of Section 3.2.1, and verdicts scoped "paper scale, n pairs".

Declared before the runs (``DECLARATIONS``, ``core.protocol``; alpha 0.05; scale "paper"), the same
endpoints as the CPU-scale ``sims.example_3_2_verdicts`` where the data allow:

* Table 3.4 (pruned ~89% vs unpruned ~65-70%): the paired final test-accuracy difference d_s =
  pruned - unpruned, ``paired_size`` against the paper's gain (exact sign-flip tests: the per-pair
  gaps are bimodal, about 0 or about +9 points per class the unpruned net stops predicting), against
  the paper's gain exactly (its "~" is given no tolerance).  With n pairs the smallest two-sided p
  is 2 / 2^n and the smallest one-sided p 1 / 2^n: a two-sided test of one claim needs 6 pairs, a
  one-sided size or equivalence test 5, more under Holm (each row says how many pairs could decide
  it).  Example 3.2's "higher test accuracy": ``paired_sign`` of d_s.
* 000:text:3.2.1 as the paper means it: "+20-30%" (pruned / unpruned - 1, ``paired_size`` against
  0.20) and "reduces parameters by at least 30%" (removed fraction - 0.30, ``paired_sign``; removing
  more is not a counterexample; the stated upper end, 50%, is not tested): one family, Holm.  Table 3.5's printed 43.65% / 44.34% / 44.02%: the
  removed fraction minus the printed one, ``paired_equivalence`` within +-``TABLE_3_5_MARGIN``.
* Table 3.6 (pruned lower training and summed test loss): two ``paired_sign`` tests, Holm.
* Fig 3.5(a) (test accuracy does not change significantly at a pruning round), over the rounds
  that removed singular values (a round that removes nothing is no evidence): per pair the mean
  test-accuracy change across those rounds (rounds clustered by seed), ``paired_equivalence``
  within +-3 points, and 3 points minus the largest drop, ``paired_sign``: one family, Holm.
  Fig 3.5(b) (training accuracy) is not tested: nets.train does not measure the training accuracy
  after a round.
* Section 3.2.1's equal-CPU-time comparison (text 3.2.1.2: pruned 89.7% after 12,215 s vs an
  unpruned plateau of 84% within the same time): the pruned final accuracy minus the unpruned
  plateau, the mean test accuracy of the unpruned run's last ``PLATEAU_EPOCHS`` epochs within the
  pruned run's total process CPU time (nets.train's ``cpu_time_s``: the whole epoch, evaluations
  included, one thread per arm), ``paired_size`` against 5.7 points.  A pair without CPU times is
  not measured (wall time counts the other jobs of a shared machine); a pair whose unpruned run
  ended within the pruned run's time is flagged in the note.

Revised on 2026-12-06, after the first pair and a statistician's review and before the later pairs
finished: Fig 3.5 over the rounds that removed singular values with the largest-drop test added (it had
averaged over every round), the equal-time comparison on CPU time only and against a 5-epoch plateau
(it had taken one epoch, on wall time where CPU time was missing), the two 000:text:3.2.1 tests in
one Holm family (they had been two), and no interval below 6 pairs (the percentile bootstrap of
2-5 values is their range, not a 95% interval).  The exact sign-flip tests assume the paired
differences symmetric about the tested value under the null; with skewed (e.g. bimodal) gaps their
false-alarm rate can exceed alpha, which every tested row says.

Dead classes (never predicted on the test set) and dead hidden units are reported per pair and per
epoch in both arms: the evidence the mechanism analysis of issue 23 needs at paper scale.
"""
from __future__ import annotations

import json
from pathlib import Path

from dataclasses import dataclass

from core import protocol as P
from core.result import Result
from core.validate import InvalidArgument
from sims.decided import exact_floor, one_sided_floor, size_seeds_to_decide
from sims.experiment import ExperimentRun, cli_main, option
# one concern per module; the reading and the tables stay importable from here
from sims.paper_scale_pairs_tables import (PLATEAU_EPOCHS, curve_rows, epoch_rows, load_pairs,  # noqa: F401
                                           mean_of, pair_row, removing_rounds, time_basis)

ALPHA = 0.05
FIG_3_5_MARGIN = 0.03          # "does not change significantly": within 3 points across a round
RELATIVE_GAIN = 0.20           # "+20-30%": the lower end is the claimed size
MIN_REMOVED = 0.30             # text 3.2.1: "30-50% fewer parameters", read as "at least 30%"
TABLE_3_5_MARGIN = 0.05        # the printed fraction removed, within 5 points
EQUAL_TIME_GAIN = 0.897 - 0.84
MIN_PAIRS_FOR_INTERVAL = 6    # below: the percentile bootstrap of the mean is the range of the pairs
SYMMETRY = "sign-flip tests assume differences symmetric about the tested value under the null"
PAPER = {"a": {"pruned": 0.89, "unpruned": 0.70, "final_parameters": 10_471_510, "removed": 0.4365,
               "train_loss": (0.144334, 0.460549), "test_loss": (47.063285, 95.516107)},
         "b": {"pruned": 0.89, "unpruned": 0.65, "final_parameters": 8_950_860, "removed": 0.4434,
               "train_loss": (0.270197, 0.790270), "test_loss": (42.925396, 127.023410)},
         "c": {"pruned": 0.89, "unpruned": 0.70, "final_parameters": 15_599_740, "removed": 0.4402,
               "train_loss": (0.191681, 0.880157), "test_loss": (49.781472, 130.785274)}}
PAIRED = "(pruned minus unpruned of the same seed: same initial weights and batches)"


def _declarations() -> dict:
    d = {f"table_3_4_{t}": P.declare("000:table:3.4", f"final test accuracy {PAIRED}", "paired_size", alpha=ALPHA,
                                     margin=round(v["pruned"] - v["unpruned"], 4), family=f"000:table:3.4 ex3.2{t}")
         for t, v in PAPER.items()}
    d.update(
        example=P.declare("000:example:3.2", f"final test accuracy {PAIRED} (higher when pruned)", "paired_sign",
                          alpha=ALPHA),
        relative_gain=P.declare("000:text:3.2.1", "final test accuracy pruned / unpruned - 1 per pair", "paired_size",
                                alpha=ALPHA, margin=RELATIVE_GAIN, family="000:text:3.2.1"),
        parameters=P.declare("000:text:3.2.1", "fraction of parameters removed minus 0.30 per pair (at least 30% "
                             "fewer)", "paired_sign", alpha=ALPHA, family="000:text:3.2.1"),
        table_3_5=P.declare("000:table:3.5", "fraction of parameters removed minus the printed fraction, per pair",
                            "paired_equivalence", alpha=ALPHA, margin=TABLE_3_5_MARGIN),
        table_3_6=P.declare("000:table:3.6", f"final training loss and summed test loss {PAIRED} (lower when "
                            "pruned; two tests)", "paired_sign", alpha=ALPHA),
        figure_3_5=P.declare("000:figure:3.5", "test accuracy after minus before a pruning round that removed "
                             "singular values, mean over those rounds of a pair (rounds clustered by seed)",
                             "paired_equivalence", alpha=ALPHA, margin=FIG_3_5_MARGIN, family="000:figure:3.5"),
        figure_3_5_largest=P.declare("000:figure:3.5", "3 points minus the largest test-accuracy drop at a round "
                                     "that removed singular values, per pair (every round within 3 points)",
                                     "paired_sign", alpha=ALPHA, family="000:figure:3.5"),
        equal_time=P.declare("000:text:3.2.1.2", f"pruned final test accuracy minus the unpruned plateau (mean test "
                             f"accuracy of the unpruned run's last {PLATEAU_EPOCHS} epochs within the pruned run's "
                             "process CPU time), per pair; pairs without CPU times are not measured", "paired_size",
                             alpha=ALPHA, margin=EQUAL_TIME_GAIN),
    )
    return d


DECLARATIONS = _declarations()
ENDPOINTS = {d.claim: d.endpoint for d in DECLARATIONS.values()}
CLAIMS = tuple(ENDPOINTS)
RUNS_DIR = Path("results/section3/paper_scale_cpu")


# ---------------------------------------------------------------------------------------------
# verdicts

def _row(key: str, values, *, bound=None, statement="", note="", offset: float = 0.0, **rule_kw) -> dict:
    """One declared test (``DECLARATIONS[key]``) on its per-pair values; ``offset`` turns the tested
    difference back into the quantity the row shows (e.g. the fraction removed = difference + 0.30),
    measurement and interval alike."""
    finite = [v for v in values if v is not None]
    return {"key": key, "values": finite, "bound": bound, "statement": statement, "note": note, "rule_kw": rule_kw,
            "offset": offset}


def pairs_to_decide(decl, decision, values, tests: int) -> str:
    """What more pairs could do for an inconclusive row: the exact floor below which no test of the
    row's kind can reject after Holm over ``tests``, and, at or above it, the normal-approximation
    count at the observed mean and spread for the test the rule runs."""
    if decision.word != "inconclusive":
        return ""
    one_sided = decl.rule in ("paired_size", "paired_equivalence")
    floor = one_sided_floor(tests, decl.alpha) if one_sided else exact_floor(tests, decl.alpha)
    if decision.p is None or len(values) < floor:
        return f"an exact test can reject from {floor} pairs on"
    if decl.rule == "paired_size":
        n = size_seeds_to_decide(values, decl.margin, decl.alpha / tests)
    elif decl.rule == "paired_equivalence":
        n = decision.pairs_needed
    else:
        n = P.pairs_needed(values, decl.alpha / tests)
    return f"about {max(n, floor)} pairs at this mean and spread would decide it" if n else \
        "no number of pairs decides it at this mean"


def decide(rows: list[dict], setting: str) -> list:
    """Each row's declared rule, Holm within each declared family, then ``core.protocol.verdict``;
    interval = percentile bootstrap of the mean over pairs from ``MIN_PAIRS_FOR_INTERVAL`` pairs on
    (fewer: none, the row lists the pairs)."""
    decisions = []
    for r in rows:
        decl = DECLARATIONS[r["key"]]
        rule = {"paired_sign": P.paired_sign, "paired_size": P.paired_size,
                "paired_equivalence": P.paired_equivalence}[decl.rule]
        decisions.append(rule(decl, r["values"], **r["rule_kw"]))
    family_size = {}
    for family in {DECLARATIONS[r["key"]].family for r in rows}:
        members = [d for r, d in zip(rows, decisions) if DECLARATIONS[r["key"]].family == family]
        P.adjust(members, ALPHA)
        family_size[family] = len(members)
    out = []
    for r, d in zip(rows, decisions):
        decl, shift = DECLARATIONS[r["key"]], r["offset"]
        shown = ", ".join(f"{v + shift:+.4f}" for v in r["values"]) or "none"
        # the mean over pairs is what was measured even where too few pairs make no test
        mean = d.estimate if d.estimate is not None else (mean_of(r["values"]) if r["values"] else None)
        if d.interval is not None:
            d.interval = [x + shift for x in d.interval] if len(r["values"]) >= MIN_PAIRS_FOR_INTERVAL else None
        parts = [f"{r['statement']}; per pair {shown}", r["note"],
                 pairs_to_decide(decl, d, r["values"], family_size[decl.family]),
                 SYMMETRY if d.p is not None else ""]
        out.append(P.verdict(decl, d, setting=setting, measured=None if mean is None else mean + shift,
                             bound=r["bound"], N=len(r["values"]), note="; ".join(x for x in parts if x)))
    return out


def run_setting(result: Result) -> dict:
    """What a run was measured at, from its own config: scale, topology, images, epochs."""
    c = result.config
    return {"config": c["name"], "scale": c["scale"], "topology": list(c["model"]["topology"]),
            "n_train": c.get("n_train") or 60000, "epochs": c["epochs"], "dataset": c["dataset"]}


def describe(setting: dict, devices: str, n: int) -> str:
    topo = "-".join(str(w) for w in setting["topology"])
    return (f"{setting['config']} {setting['scale']} scale ([{topo}], {setting['n_train']:,} images, "
            f"{setting['epochs']} epochs, fp32, {devices}), {n} pair{'s' if n != 1 else ''}")


def verdicts(topology: str, rows: list[dict], setting: dict) -> list:
    """The declared endpoints (module docstring) decided on the finished pairs."""
    paper = PAPER[topology]
    n = len(rows)
    text = describe(setting, "/".join(sorted({str(r["device"]) for r in rows})), n)
    dead = "; ".join(f"seed {r['seed']}: never-predicted classes pruned {r['never_predicted_pruned']}, "
                     f"unpruned {r['never_predicted_unpruned']}" for r in rows)
    gaps = [r["gap"] for r in rows]
    removed = [r["removed_fraction"] for r in rows]
    out = [
        _row(f"table_3_4_{topology}", gaps, bound=paper["pruned"] - paper["unpruned"],
             statement=f"pruned - unpruned final test accuracy (paper ~{paper['pruned']:.0%} vs "
                       f"~{paper['unpruned']:.0%}, tested against that gain exactly)", note=dead),
        _row("example", gaps, statement="pruned - unpruned final test accuracy (the claim: higher when pruned)",
             note=dead),
        _row("relative_gain", [r["gap"] / r["test_accuracy_unpruned"] for r in rows], bound=RELATIVE_GAIN,
             statement="pruned / unpruned - 1 (\"+20-30%\")"),
        _row("parameters", [x - MIN_REMOVED for x in removed], bound=MIN_REMOVED, offset=MIN_REMOVED,
             statement=f"fraction of parameters removed, tested as at least {MIN_REMOVED:.2f} (\"30-50% fewer\"; "
                       "its upper end is not tested)",
             note=("above the stated 50% in " + f"{sum(x > 0.5 for x in removed)} of {n} pairs")),
        _row("table_3_5", [x - paper["removed"] for x in removed], bound=paper["removed"], offset=paper["removed"],
             statement=f"fraction of parameters removed, against the printed {paper['removed']:.2%}",
             note="final parameters per pair " + ", ".join(f"{r['parameters_final']:,}" for r in rows)
                  + f" against the paper's {paper['final_parameters']:,}"),
        _row("table_3_6", [r["train_loss_pruned"] - r["train_loss_unpruned"] for r in rows],
             bound=paper["train_loss"][0] - paper["train_loss"][1], statement="training loss, pruned - unpruned",
             want_positive=False),
        _row("table_3_6", [r["test_loss_sum_pruned"] - r["test_loss_sum_unpruned"] for r in rows],
             bound=paper["test_loss"][0] - paper["test_loss"][1],
             statement="test loss summed over batches of 128, pruned - unpruned", want_positive=False),
    ]
    rounds = "rounds that removed singular values per pair " + ", ".join(
        f"{r['rounds_removing']} of {r['rounds']}" for r in rows) + "; Fig 3.5(b), training accuracy, is not tested"
    changes = [r["mean_round_change"] for r in rows]
    if all(c is not None for c in changes):
        out.append(_row("figure_3_5", changes, bound=FIG_3_5_MARGIN,
                        statement="mean test-accuracy change across the rounds of a pair that removed singular "
                                  "values", note=rounds))
        out.append(_row("figure_3_5_largest", [FIG_3_5_MARGIN - r["largest_round_drop"] for r in rows], bound=0.0,
                        statement=f"{FIG_3_5_MARGIN:g} minus the largest test-accuracy drop at such a round "
                                  f"(negative: a round lost more than {FIG_3_5_MARGIN:g})",
                        note="largest drop per pair " + ", ".join(f"{r['largest_round_drop']:.4f}" for r in rows)
                             + "; " + rounds))
    same_time = [r["equal_time_gap"] for r in rows]
    if topology == "a":
        timing = "; ".join(
            f"seed {r['seed']}: " + (f"{r['time_pruned_s']:.0f} s pruned, {r['time_unpruned_s']:.0f} s unpruned "
                                     f"(CPU), {r['unpruned_epochs_within_time']} unpruned epochs within"
                                     + (" (the unpruned run ended within the pruned run's time)"
                                        if r["unpruned_ended_within_time"] else "")
                                     if r["time_basis"] == "cpu" else "not measured (no CPU times recorded)")
            for r in rows)
        out.append(_row("equal_time", same_time, bound=EQUAL_TIME_GAIN,
                        statement=f"pruned final accuracy - unpruned plateau (mean of its last {PLATEAU_EPOCHS} "
                                  "epochs) within the pruned run's CPU time (paper 89.7% vs 84%)", note=timing))
    return decide(out, text)


def analyse(directory: str | Path, topology: str, provenance) -> Result:
    """One Result from the finished pairs in ``directory`` (nets.train Results of one topology)."""
    pairs = load_pairs(directory)
    if not pairs:
        raise InvalidArgument(f"--runs {directory}: no finished pair (seed<S>_pruned.json with "
                              f"seed<S>_unpruned.json) there yet")
    settings = {json.dumps(run_setting(r), sort_keys=True) for runs in pairs.values() for r in runs.values()}
    if len(settings) != 1:
        raise InvalidArgument(f"--runs {directory}: the runs were measured at different settings: {sorted(settings)}")
    setting = json.loads(settings.pop())
    if setting["config"] != f"ex3.2{topology}":
        raise InvalidArgument(f"--topology {topology}: the runs in {directory} are {setting['config']}")
    rows = [pair_row(seed, runs["pruned"], runs["unpruned"]) for seed, runs in pairs.items()]
    curves = [c for seed, runs in pairs.items() for c in curve_rows(seed, runs["pruned"], runs["unpruned"])]
    removing = {(seed, r["epoch"]) for seed, runs in pairs.items()
                for r in removing_rounds(epoch_rows(runs["pruned"]), runs["pruned"].tables.get("events", []))}
    rounds = [{"seed": c["seed"], "epoch": c["epoch"], "before": c["test_accuracy"],
               "after": c["test_accuracy_after_round"], "parameters_after": c["parameters"],
               "removed_singular_values": (c["seed"], c["epoch"]) in removing}
              for c in curves if c["arm"] == "pruned" and c["test_accuracy_after_round"] is not None]
    config = {"topology": topology, "setting": setting, "runs": str(directory), "seeds": sorted(pairs), "endpoints": ENDPOINTS,
              "alpha": ALPHA, "dtype": "float32", "paper": PAPER[topology],
              "run_provenance": {f"seed{s}_{arm}": {k: r.provenance.__dict__.get(k) for k in
                                                    ("argv", "git_commit", "device", "threads", "wall_s", "started")}
                                 for s, runs in pairs.items() for arm, r in runs.items()}}
    return Result(experiment="sims.paper_scale_pairs", config=config, provenance=provenance, records=rows,
                  verdicts=verdicts(topology, rows, setting), tables={"curves": curves, "rounds": rounds})


@dataclass(frozen=True)
class Config:
    """``python -m sims.paper_scale_pairs [--runs DIR] [--topology a|b|c]``."""
    runs: str | None = option(None, "folder of nets.train Results seed<S>_pruned.json / seed<S>_unpruned.json "
                              f"(default {RUNS_DIR}/ex3.2<topology>, where scripts/paper_scale_cpu.sh writes them)",
                              optional=True)
    topology: str = option("a", "Example 3.2's topology", choices=tuple(PAPER))


CPU_ONLY = True  # reads stored Results: nothing to put on a device


def run(config: Config, *, context: ExperimentRun | None = None) -> Result:
    """The Result of the finished pairs in ``config.runs`` (see :func:`analyse`)."""
    runs = Path(config.runs) if config.runs is not None else RUNS_DIR / f"ex3.2{config.topology}"
    if not runs.is_dir():
        raise InvalidArgument(f"--runs {runs}: not a folder")
    context = context or ExperimentRun("sims.paper_scale_pairs", config)
    with context as ctx:
        return analyse(runs, config.topology, ctx.provenance.stop())


def toy_config(tmp_path) -> Config:
    """Two synthetic three-epoch pairs (:func:`synthetic_run`) under ``tmp_path``: the registry's toy
    run exercises the reading, the tables and the verdicts, not a measurement."""
    from core.result import write_result
    folder = Path(tmp_path) / "pairs"
    for seed, gap in enumerate((0.05, 0.08)):
        for arm, last in (("unpruned", 0.80), ("pruned", 0.80 + gap)):
            write_result(synthetic_run(arm, seed, [0.80, 0.80, last]), folder / f"seed{seed}_{arm}.json")
    return Config(runs=str(folder), topology="a")


def synthetic_run(arm: str, seed: int, accuracies, *, seconds: float = 10.0, parameters=(1000, 600)) -> Result:
    """A ``nets.train``-shaped Result of ``arm`` (pruned: one round at epoch 2) with the given test
    accuracies per epoch: input for tests and the toy run, never for a verdict on the paper."""
    from core.result import Provenance
    records = []
    for epoch, acc in enumerate(accuracies, start=1):
        row = {"run": arm, "epoch": epoch, "test_accuracy": acc, "train_accuracy": acc + 0.01,
               "train_loss": 1 - acc, "test_loss_sum_batches": 100 * (1 - acc), "parameters": parameters[0],
               "classes_never_predicted": 0, "dead_units.act1": 1, "dead_units.act2": 0,
               "train_time_s": seconds, "callback_time_s": 0.0, "cpu_time_s": seconds}
        if arm == "pruned" and epoch == 2:
            row["test_accuracy_after_callbacks"] = acc - 0.01
            row["parameters"] = parameters[1]
        records.append(row)
    events = ([{"epoch": 2, "layer": "layers.fc1", "step": "prune", "accepted": True, "rank_before": 20,
                "rank_after": 12}] if arm == "pruned" else [])
    summary = {"label": arm, "best_test_accuracy": max(accuracies), "initial_parameters": parameters[0],
               "final_parameters": parameters[1] if arm == "pruned" else parameters[0],
               "wall_time_s": seconds * len(accuracies), "device": "cpu", "torch_threads": 1}
    config = {"name": "ex3.2a", "scale": "paper", "model": {"kind": "mlp", "topology": [784, 20, 10]},
              "n_train": None, "epochs": len(accuracies), "dataset": "fashion_mnist"}
    prov = Provenance.start(argv=["python", "-m", "nets.train", "ex3.2a"], seed=seed, module=None).stop()
    return Result(experiment="nets.train", config=config, provenance=prov, records=records,
                  tables={"summary": [summary], "events": events})


def main(argv=None) -> int:
    """``python -m sims.paper_scale_pairs --runs DIR --topology a [--json PATH]``."""
    return cli_main("sims.paper_scale_pairs", argv)


if __name__ == "__main__":
    import sys
    sys.exit(main())
