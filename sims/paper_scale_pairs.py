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
  gaps are bimodal, about 0 or about +9 points per class the unpruned net stops predicting).  With n
  pairs the smallest two-sided p is 2 / 2^n: fewer than 6 pairs cannot decide a claim tested once
  (the row says how many pairs would).  Example 3.2's "higher test accuracy": ``paired_sign`` of d_s.
* 000:text:3.2.1 as the paper means it: "+20-30%" (pruned / unpruned - 1, ``paired_size`` against
  0.20) and "reduces parameters by at least 30%" (removed fraction - 0.30, ``paired_sign``; removing
  more is not a counterexample): two families.  Table 3.5's printed 43.65% / 44.34% / 44.02%: the
  removed fraction minus the printed one, ``paired_equivalence`` within +-``TABLE_3_5_MARGIN``.
* Table 3.6 (pruned lower training and summed test loss): two ``paired_sign`` tests, Holm.
* Fig 3.5 (accuracy does not change significantly at a pruning round): per pair the mean test-accuracy
  change across its rounds (rounds clustered by seed), ``paired_equivalence`` within +-3 points.
* Section 3.2.1's equal-CPU-time comparison (text 3.2.1.2: pruned 89.7% after 12,215 s vs an
  unpruned plateau of 84% within the same time): the pruned final accuracy minus the unpruned
  accuracy at the last epoch within the pruned run's total time, ``paired_size`` against 5.7
  points.  Time is the process CPU time of each epoch where nets.train recorded it (one thread per
  arm: other jobs on the machine do not inflate it), else wall time (``time_basis`` per row).

Dead classes (never predicted on the test set) and dead hidden units are reported per pair and per
epoch in both arms: the evidence the mechanism analysis of issue 23 needs at paper scale.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from dataclasses import dataclass

from core import protocol as P
from core.result import Result, read_result
from core.validate import InvalidArgument
from sims.experiment import ExperimentRun, cli_main, option

ALPHA = 0.05
FIG_3_5_MARGIN = 0.03          # "does not change significantly": within 3 points across a round
RELATIVE_GAIN = 0.20           # "+20-30%": the lower end is the claimed size
MIN_REMOVED = 0.30             # text 3.2.1: "30-50% fewer parameters", read as "at least 30%"
TABLE_3_5_MARGIN = 0.05        # the printed fraction removed, within 5 points
EQUAL_TIME_GAIN = 0.897 - 0.84
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
                                alpha=ALPHA, margin=RELATIVE_GAIN, family="000:text:3.2.1 accuracy"),
        parameters=P.declare("000:text:3.2.1", "fraction of parameters removed minus 0.30 per pair (at least 30% "
                             "fewer)", "paired_sign", alpha=ALPHA, family="000:text:3.2.1 parameters"),
        table_3_5=P.declare("000:table:3.5", "fraction of parameters removed minus the printed fraction, per pair",
                            "paired_equivalence", alpha=ALPHA, margin=TABLE_3_5_MARGIN),
        table_3_6=P.declare("000:table:3.6", f"final training loss and summed test loss {PAIRED} (lower when "
                            "pruned; two tests)", "paired_sign", alpha=ALPHA),
        figure_3_5=P.declare("000:figure:3.5", "test accuracy after minus before a pruning round, mean over the "
                             "rounds of a pair (rounds clustered by seed)", "paired_equivalence", alpha=ALPHA,
                             margin=FIG_3_5_MARGIN),
        equal_time=P.declare("000:text:3.2.1.2", "pruned final test accuracy minus the unpruned test accuracy within "
                             "the pruned run's training time, per pair", "paired_size", alpha=ALPHA,
                             margin=EQUAL_TIME_GAIN),
    )
    return d


DECLARATIONS = _declarations()
ENDPOINTS = {d.claim: d.endpoint for d in DECLARATIONS.values()}
CLAIMS = tuple(ENDPOINTS)
RUNS_DIR = Path("results/section3/paper_scale_cpu")
RUN_FILE = re.compile(r"seed(\d+)_(pruned|unpruned)\.json$")


# ---------------------------------------------------------------------------------------------
# reading the runs back

def load_pairs(directory: str | Path) -> dict[int, dict[str, Result]]:
    """The finished pairs in ``directory``: {seed: {"pruned": Result, "unpruned": Result}}; a seed
    with only one arm finished is left out (it is still in flight)."""
    arms: dict[int, dict[str, Result]] = {}
    for path in sorted(Path(directory).glob("seed*_*.json")):
        match = RUN_FILE.search(path.name)
        if match:
            arms.setdefault(int(match[1]), {})[match[2]] = read_result(path)
    return {seed: runs for seed, runs in sorted(arms.items()) if set(runs) == {"pruned", "unpruned"}}


def _epochs(result: Result) -> list[dict]:
    return sorted(result.records, key=lambda r: r["epoch"])


def _final(rows: list[dict], key: str):
    last = rows[-1]
    return last.get(f"{key}_after_callbacks", last.get(key))


def _mean(values):
    return sum(values) / len(values) if values else None


def _dead_hidden(row: dict) -> int:
    """Dead hidden units (no activation on any test image), over every hidden ReLU layer."""
    layers = sorted(k for k in row if k.startswith("dead_units.act"))
    return int(sum(row[k] or 0 for k in layers[:-1]))  # the last ReLU is the output layer's


def time_basis(rows: list[dict]) -> str:
    """"cpu" when every epoch recorded its process CPU seconds (nets.train's ``cpu_time_s``: one
    thread per run, so not inflated by other jobs on the machine), else "wall" (training plus
    callbacks, which a shared machine inflates)."""
    return "cpu" if rows and all("cpu_time_s" in r for r in rows) else "wall"


def _cumulative_time(rows: list[dict]) -> list[float]:
    cpu = time_basis(rows) == "cpu"
    total, out = 0.0, []
    for r in rows:
        total += r["cpu_time_s"] if cpu else r["train_time_s"] + r["callback_time_s"]
        out.append(total)
    return out


# ---------------------------------------------------------------------------------------------
# tables

def pair_row(seed: int, pruned: Result, unpruned: Result) -> dict:
    """Tables 3.4-3.6 counterparts of one pair, with the dead-class evidence and the wall times."""
    p, u = _epochs(pruned), _epochs(unpruned)
    ps, us = pruned.tables["summary"][0], unpruned.tables["summary"][0]
    if p[0]["test_accuracy"] != u[0]["test_accuracy"]:
        raise ValueError(f"seed {seed}: the arms differ after epoch 1 before any pruning "
                         f"({p[0]['test_accuracy']} vs {u[0]['test_accuracy']}): not a pair")
    if time_basis(p) != time_basis(u):  # compare like with like
        p, u = [{k: v for k, v in r.items() if k != "cpu_time_s"} for r in p], \
               [{k: v for k, v in r.items() if k != "cpu_time_s"} for r in u]
    t_pruned = _cumulative_time(p)[-1]
    u_times = _cumulative_time(u)
    within = [i for i, t in enumerate(u_times) if t <= t_pruned]
    unpruned_same_time = u[within[-1]]["test_accuracy"] if within else None
    return {
        "seed": seed, "epochs_pruned": len(p), "epochs_unpruned": len(u),
        "test_accuracy_pruned": _final(p, "test_accuracy"), "test_accuracy_unpruned": _final(u, "test_accuracy"),
        "gap": _final(p, "test_accuracy") - _final(u, "test_accuracy"),
        "best_test_accuracy_pruned": ps["best_test_accuracy"], "best_test_accuracy_unpruned": us["best_test_accuracy"],
        "train_accuracy_pruned": p[-1]["train_accuracy"], "train_accuracy_unpruned": u[-1]["train_accuracy"],
        "train_loss_pruned": p[-1]["train_loss"], "train_loss_unpruned": u[-1]["train_loss"],
        "test_loss_sum_pruned": _final(p, "test_loss_sum_batches"),
        "test_loss_sum_unpruned": _final(u, "test_loss_sum_batches"),
        "parameters_initial": ps["initial_parameters"], "parameters_final": ps["final_parameters"],
        "removed_fraction": 1 - ps["final_parameters"] / ps["initial_parameters"],
        "never_predicted_pruned": _final(p, "classes_never_predicted"),
        "never_predicted_unpruned": _final(u, "classes_never_predicted"),
        "dead_hidden_pruned": _dead_hidden(p[-1]), "dead_hidden_unpruned": _dead_hidden(u[-1]),
        "largest_round_drop": max((r["test_accuracy"] - r["test_accuracy_after_callbacks"]
                                   for r in p if "test_accuracy_after_callbacks" in r), default=None),
        "mean_round_change": _mean([r["test_accuracy_after_callbacks"] - r["test_accuracy"]
                                    for r in p if "test_accuracy_after_callbacks" in r]),
        "time_pruned_s": t_pruned, "time_unpruned_s": u_times[-1],
        "time_basis": "cpu" if time_basis(p) == time_basis(u) == "cpu" else "wall",
        "unpruned_accuracy_same_time": unpruned_same_time,
        "equal_time_gap": None if unpruned_same_time is None else _final(p, "test_accuracy") - unpruned_same_time,
        "wall_time_pruned_s": ps["wall_time_s"], "wall_time_unpruned_s": us["wall_time_s"],
        "device": ps["device"], "torch_threads": ps["torch_threads"],
    }


def curve_rows(seed: int, pruned: Result, unpruned: Result) -> list[dict]:
    """Per epoch and arm: accuracies, losses, parameters, dead classes and units, cumulative time."""
    rows = []
    for arm, result in (("pruned", pruned), ("unpruned", unpruned)):
        epochs = _epochs(result)
        for r, t in zip(epochs, _cumulative_time(epochs)):
            rows.append({"seed": seed, "arm": arm, "epoch": r["epoch"], "test_accuracy": r["test_accuracy"],
                         "test_accuracy_after_round": r.get("test_accuracy_after_callbacks"),
                         "train_accuracy": r["train_accuracy"], "train_loss": r["train_loss"],
                         "test_loss_sum_batches": r["test_loss_sum_batches"], "parameters": r["parameters"],
                         "classes_never_predicted": r["classes_never_predicted"],
                         "dead_hidden_units": _dead_hidden(r), "cumulative_time_s": t,
                         "time_basis": time_basis(epochs)})
    return rows


# ---------------------------------------------------------------------------------------------
# verdicts

def _row(key: str, values, *, bound=None, statement="", note="", measured=None, **rule_kw) -> dict:
    """One declared test (``DECLARATIONS[key]``) on its per-pair values."""
    finite = [v for v in values if v is not None]
    return {"key": key, "values": finite, "bound": bound, "statement": statement, "note": note, "rule_kw": rule_kw,
            "measured": measured}


def decide(rows: list[dict], setting: str) -> list:
    """Each row's declared rule, Holm within each declared family, then ``core.protocol.verdict``;
    interval = percentile bootstrap of the mean over pairs (NaN below 2 pairs)."""
    decisions = []
    for r in rows:
        decl = DECLARATIONS[r["key"]]
        rule = {"paired_sign": P.paired_sign, "paired_size": P.paired_size,
                "paired_equivalence": P.paired_equivalence}[decl.rule]
        decisions.append(rule(decl, r["values"], **r["rule_kw"]))
    for family in {DECLARATIONS[r["key"]].family for r in rows}:
        P.adjust([d for r, d in zip(rows, decisions) if DECLARATIONS[r["key"]].family == family], ALPHA)
    out = []
    for r, d in zip(rows, decisions):
        shown = ", ".join(f"{v:+.4f}" for v in r["values"])
        # the mean over pairs is what was measured even where too few pairs make no test
        measured = r["measured"] if r["measured"] is not None else (
            d.estimate if d.estimate is not None else (_mean(r["values"]) if r["values"] else None))
        out.append(P.verdict(DECLARATIONS[r["key"]], d, setting=setting, measured=measured, bound=r["bound"],
                             N=len(r["values"]), note=f"{r['statement']}; per pair {shown}"
                                                      + (f"; {r['note']}" if r["note"] else "")))
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
    out = [
        _row(f"table_3_4_{topology}", gaps, bound=paper["pruned"] - paper["unpruned"],
             statement=f"pruned - unpruned final test accuracy (paper ~{paper['pruned']:.0%} vs "
                       f"~{paper['unpruned']:.0%})", note=dead),
        _row("example", gaps, statement="pruned - unpruned final test accuracy (the claim: higher when pruned)",
             note=dead),
        _row("relative_gain", [r["gap"] / r["test_accuracy_unpruned"] for r in rows], bound=RELATIVE_GAIN,
             statement="pruned / unpruned - 1 (\"+20-30%\")"),
        _row("parameters", [r["removed_fraction"] - MIN_REMOVED for r in rows], bound=MIN_REMOVED,
             measured=sum(r["removed_fraction"] for r in rows) / n,
             statement=f"parameters removed minus {MIN_REMOVED:.2f} (\"30-50% fewer\" read as at least 30%)"),
        _row("table_3_5", [r["removed_fraction"] - paper["removed"] for r in rows], bound=paper["removed"],
             measured=sum(r["removed_fraction"] for r in rows) / n,
             statement=f"fraction removed minus the printed {paper['removed']:.2%}",
             note="final parameters per pair " + ", ".join(f"{r['parameters_final']:,}" for r in rows)
                  + f" against the paper's {paper['final_parameters']:,}"),
        _row("table_3_6", [r["train_loss_pruned"] - r["train_loss_unpruned"] for r in rows],
             bound=paper["train_loss"][0] - paper["train_loss"][1], statement="training loss, pruned - unpruned",
             want_positive=False),
        _row("table_3_6", [r["test_loss_sum_pruned"] - r["test_loss_sum_unpruned"] for r in rows],
             bound=paper["test_loss"][0] - paper["test_loss"][1],
             statement="test loss summed over batches of 128, pruned - unpruned", want_positive=False),
    ]
    changes = [r["mean_round_change"] for r in rows]
    if all(c is not None for c in changes):
        out.append(_row("figure_3_5", changes, bound=FIG_3_5_MARGIN,
                        statement="mean test-accuracy change across the rounds of a pair",
                        note="largest drop per pair " + ", ".join(f"{r['largest_round_drop']:.4f}" for r in rows)))
    same_time = [r["equal_time_gap"] for r in rows]
    if topology == "a" and all(v is not None for v in same_time):
        out.append(_row("equal_time", same_time, bound=EQUAL_TIME_GAIN,
                        statement="pruned final accuracy - unpruned accuracy within the pruned run's training "
                                  "time (paper 89.7% vs 84%)",
                        note="; ".join(f"seed {r['seed']}: {r['time_pruned_s']:.0f} s pruned, "
                                       f"{r['time_unpruned_s']:.0f} s unpruned ({r['time_basis']} time)"
                                       for r in rows)))
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
    rounds = [{"seed": c["seed"], "epoch": c["epoch"], "before": c["test_accuracy"],
               "after": c["test_accuracy_after_round"], "parameters_after": c["parameters"]}
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
               "train_time_s": seconds, "callback_time_s": 0.0}
        if arm == "pruned" and epoch == 2:
            row["test_accuracy_after_callbacks"] = acc - 0.01
            row["parameters"] = parameters[1]
        records.append(row)
    summary = {"label": arm, "best_test_accuracy": max(accuracies), "initial_parameters": parameters[0],
               "final_parameters": parameters[1] if arm == "pruned" else parameters[0],
               "wall_time_s": seconds * len(accuracies), "device": "cpu", "torch_threads": 1}
    config = {"name": "ex3.2a", "scale": "paper", "model": {"kind": "mlp", "topology": [784, 20, 10]},
              "n_train": None, "epochs": len(accuracies), "dataset": "fashion_mnist"}
    prov = Provenance.start(argv=["python", "-m", "nets.train", "ex3.2a"], seed=seed, module=None).stop()
    return Result(experiment="nets.train", config=config, provenance=prov, records=records,
                  tables={"summary": [summary], "events": []})


def main(argv=None) -> int:
    """``python -m sims.paper_scale_pairs --runs DIR --topology a [--json PATH]``."""
    return cli_main("sims.paper_scale_pairs", argv)


if __name__ == "__main__":
    import sys
    sys.exit(main())
