"""Paper 000 Appendix E.2 at CPU scale: the [784, 3000, 3000, 3000, 3000, 500, 10] net (hidden widths
/ ``width_divisor``) with N(0, 1/N), He and Xavier initialisation, dense or 90% sparse at
initialisation, L1 + L2 (E.7) or L2 only, each trained pruned and unpruned side by side
(``sims.paired_runs``: same seed, same initial weights, same batches), and the verdicts of Fig E.1,
000:text:E.2.2 and 000:text:E.2.3 with the reduced-scale rules of ``sims.statistics``.

``python -m sims.appendix_e2 --seeds 5 --width-divisor 40 --json results/section3/e2.json``; the
committed Results were made with the old name ``python -m nets.section3 appendix-e2`` (an alias that
runs this module).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from core.result import Verdict
from core.validate import InvalidArgument
from nets.configs import get_config
from sims import paired_runs as runs
from sims import statistics as stats
from sims.experiment import RUNS_DIR, ExperimentRun, option
from sims.statistics import pct

MODULE = "sims.appendix_e2"
RESULT_NAME = "nets.section3.appendix_e2"

# E.2's configs (nets.configs), in the order they are trained for each seed: Fig E.1 first.
E2_CONFIGS = ("e2-normal", "e2-he", "e2-xavier", "e2-normal-sparse90", "e2-he-l2only",
              "e2-xavier-l2only", "e2-normal-sparse90-l2only")
NORMAL_PRUNED_PAPER = 0.9074   # E.2: the normal initialisation with MP pruning
ABOVE = 0.90                   # Fig E.1: He and Xavier with MP pruning "above 90%"
ABOUT_90 = 0.89                # E.2.3 "~90%": reached when the interval is at or above 89%
SPARSE_ABOUT = 0.81            # E.2.2 "plateaus at ~80%": refuted only above 81% (one point of slack for "~")
SPARSE_CEILING = 0.80          # E.2.3: the sparse initialisation "never higher than 80%"
COMPARABLE_MARGIN = 0.01       # "comparable": within one point of the normal initialisation


@dataclass(frozen=True)
class Config:
    seeds: int = option(3, "seeds", lo=1, hi=100)
    configs: tuple[str, ...] | None = option(None, "the E.2 configs to train (default: all seven)",
                                              choices=E2_CONFIGS, optional=True)
    width_divisor: int = option(40, "hidden widths / this", lo=1, hi=1000)
    n_train: int = option(10000, "training images (a seeded subset per seed)", lo=100, hi=60000)
    runs_dir: str | None = option(str(RUNS_DIR), "run cache (resumable)", optional=True)


def toy_config(tmp_path) -> Config:
    """One seed, two configs; the sizes come from ``paired_runs.cpu_config`` (the registry test
    shrinks it)."""
    return Config(seeds=1, configs=("e2-normal", "e2-he"), runs_dir=str(tmp_path))


def run(config: Config = Config(), *, context: ExperimentRun | None = None):
    """E.2's runs and verdicts, one Result named ``RESULT_NAME``."""
    context = context or ExperimentRun(MODULE, config, experiment=RESULT_NAME)
    if config.configs is not None and not config.configs:
        raise InvalidArgument("configs: give at least one of " + ", ".join(E2_CONFIGS))
    with context:
        return _run(config, context)


def _run(config: Config, context: ExperimentRun):
    seeds, width_divisor, n_train, device = config.seeds, config.width_divisor, config.n_train, context.device
    configs = list(E2_CONFIGS if config.configs is None else config.configs)
    runs_dir = RUNS_DIR if config.runs_dir is None else config.runs_dir
    cfgs = {c: runs.cpu_config(c, width_divisor=width_divisor, n_train=n_train) for c in configs}
    rows, records = [], []
    for seed in range(seeds):  # seed-major: each seed's data subset is decoded once
        for c in configs:
            p, u = runs.collect_pairs(cfgs[c], [seed], runs_dir=runs_dir, device=device)[seed]
            for run in (p, u):
                row = runs.run_row(cfgs[c], seed, run)
                row["max_test_accuracy"] = max(runs.final_metric(m, "test_accuracy") for m in run.metrics)
                rows.append(row)
                records += runs.epoch_records(cfgs[c], seed, run)
    paired = runs.paired_table(rows, ("final_test_accuracy", "final_train_accuracy", "max_test_accuracy",
                                    "parameter_reduction", "final_classes_never_predicted", "time_s"))
    first = next(iter(cfgs.values()))
    scale = (f"{runs.scale_tag(first)} (E.2 net {first.model['topology']}, {seeds} seeds), pruned and unpruned "
             "from the same initial weights and batches")
    verdicts = e2_verdicts(rows, paired, scale)
    paper_topology = get_config("e2-normal").model["topology"]
    return context.result(
                  config={"seeds": seeds, "configs": configs, "width_divisor": width_divisor, "n_train": n_train,
                          "scales": {c: runs.scale_description(cfg) for c, cfg in cfgs.items()},
                          "reductions": [f"hidden widths / {width_divisor} (paper {paper_topology})",
                                         f"{n_train} of the 60,000 training images (seeded subset per seed)",
                                         f"{seeds} seeds (the paper shows one run per initialisation)"],
                          "rules": {"above": ABOVE, "about_90": ABOUT_90, "sparse_about": SPARSE_ABOUT,
                                    "sparse_ceiling": SPARSE_CEILING,
                                    "comparable_margin": COMPARABLE_MARGIN},
                          "runs_dir": str(runs_dir)},
                  records=runs.curve_table(records, ("test_accuracy", "train_accuracy", "parameters")),
                  verdicts=verdicts, tables={"runs": rows, "paired": paired})


def _ci(s: dict) -> str:
    return (f"{pct(s['mean'])}% [{pct(s['lo'])}, {pct(s['hi'])}]" if math.isfinite(s["lo"])
            else f"{pct(s['mean'])}% (no interval)")


def e2_verdicts(rows: list[dict], paired: list[dict], scale: str) -> list:
    """The verdicts of Fig E.1, E.2.2 and E.2.3 from the per-run rows and the paired table
    (``sims.paired_runs.paired_table``); a part whose configs were not run is left out."""
    P = {(p["config"], p["metric"]): p for p in paired}
    by = {(r["config"], r["seed"], r["run"]): r for r in rows}
    have = {r["config"] for r in rows}
    V = []

    def level(name, key="final_test_accuracy", run="pruned"):
        return stats.mean_ci([r[key] for r in rows if r["config"] == name and r["run"] == run])

    def across(a, b, key="final_test_accuracy", run="pruned"):
        """per seed: config a minus config b (same seed, same data subset and batch order)."""
        seeds = sorted({s for (c, s, _) in by if c == a} & {s for (c, s, _) in by if c == b})
        return stats.mean_ci([by[(a, s, run)][key] - by[(b, s, run)][key] for s in seeds])

    def sparse_facts(name):
        """How many pruned runs of a sparse start never beat chance (best epoch <= 11% on 10 balanced
        classes) and end with all 10 outputs dead behind the final ReLU."""
        rr = [r for r in rows if r["config"] == name and r["run"] == "pruned"]
        chance = sum(r["max_test_accuracy"] <= 0.11 for r in rr)
        dead = sum((r.get("final_dead_outputs") or 0) >= 10 for r in rr)
        return (f"; {chance} of {len(rr)} pruned runs never above chance (best epoch <= 11%), {dead} of {len(rr)} "
                "end with all 10 outputs dead (zero on the whole test set)")

    def gain_verdict(claim, name, paper_gap, what):
        g = P[(name, "final_test_accuracy")]
        return Verdict(claim=claim, setting=f"{name} {scale}; {what}", N=g["seeds"],
                       verdict=stats.sign(g["diff_lo"], g["diff_hi"]), measured=g["diff_mean"],
                       interval=[g["diff_lo"], g["diff_hi"]], bound=paper_gap,
                       note=(f"paired pruned - unpruned final test accuracy; pruned {_ci(level(name))}, unpruned "
                             f"{_ci(level(name, run='unpruned'))}; the paper's gap is about "
                             f"{100 * paper_gap:.0f} points at its scale, the verdict is on the sign"))

    # Fig E.1 (L1 + L2): He / Xavier pruned above 90%, comparable to normal (90.74%); unpruned ~89%
    for init in ("he", "xavier"):
        name = f"e2-{init}"
        if name not in have:
            continue
        s = level(name)
        V.append(Verdict(
            claim="000:figure:E.1", setting=f"{name} {scale}; pruned test accuracy above 90%", N=s["n"],
            verdict=stats.level_reached_at_reduced_scale(s["lo"], s["hi"], ABOVE), measured=s["mean"],
            interval=[s["lo"], s["hi"]], bound=ABOVE,
            note=(f"final test accuracy with MP pruning {_ci(s)}; holds only if the whole interval is >= 90% "
                  "(reached even at reduced scale); below it the reduced scale explains a shortfall, so "
                  "inconclusive: `python -m nets.train " + name + " --scale paper --side-by-side` decides it")))
        if "e2-normal" in have:
            d = across(name, "e2-normal")
            V.append(Verdict(
                claim="000:figure:E.1", setting=f"{name} vs e2-normal {scale}; pruned, comparable accuracy",
                N=d["n"], verdict=stats.equivalent(d["lo"], d["hi"], COMPARABLE_MARGIN), measured=d["mean"],
                interval=[d["lo"], d["hi"]], bound=COMPARABLE_MARGIN,
                note=(f"per seed {init} minus normal final test accuracy, both MP-pruned (paper: above 90% vs "
                      f"90.74%); 'comparable' = the interval inside +-{100 * COMPARABLE_MARGIN:.0f} point; normal "
                      f"pruned {_ci(level('e2-normal'))}")))
        V.append(gain_verdict("000:figure:E.1", name, ABOVE - 0.89, "pruned above unpruned (~89%)"))
    if "e2-normal" in have:
        V.append(gain_verdict("000:figure:E.1", "e2-normal", NORMAL_PRUNED_PAPER - 0.89,
                              "normal init, pruned above unpruned (~89%)"))
    # E.2.2: 90% of the initial weights zeroed: plateaus at ~80% even with MP pruning
    if {"e2-normal", "e2-normal-sparse90"} <= have:
        d = across("e2-normal", "e2-normal-sparse90")
        sp = level("e2-normal-sparse90")
        spmax = level("e2-normal-sparse90", "max_test_accuracy")
        V.append(Verdict(
            claim="000:text:E.2.2", setting=f"e2-normal vs e2-normal-sparse90 {scale}; both MP-pruned", N=d["n"],
            verdict=stats.sign(d["lo"], d["hi"]), measured=d["mean"], interval=[d["lo"], d["hi"]],
            bound=NORMAL_PRUNED_PAPER - SPARSE_CEILING,
            note=(f"per seed dense minus 90%-sparse-initialised final test accuracy, both with MP pruning (paper "
                  f"90.74% vs ~80%, a gap of ~11 points; the verdict is on the sign: the sparse start stays "
                  f"lower); sparse pruned final {_ci(sp)}, best epoch {_ci(spmax)}; sparse unpruned "
                  f"{_ci(level('e2-normal-sparse90', run='unpruned'))}; the ~80% level itself is scale-bound")))
        V.append(Verdict(
            claim="000:text:E.2.2", setting=f"e2-normal-sparse90 {scale}; best test accuracy over epochs, pruned",
            N=spmax["n"], verdict=stats.ceiling_at_reduced_scale(spmax["lo"], spmax["hi"], SPARSE_ABOUT),
            measured=spmax["mean"], interval=[spmax["lo"], spmax["hi"]], bound=SPARSE_ABOUT,
            note=("'plateaus at ~80%': fails only if the best epoch's test accuracy is above 81% over the whole "
                  "interval even at reduced scale; otherwise the paper-scale run decides it"
                  + sparse_facts("e2-normal-sparse90"))))
    # E.2.3: L2 only: He / Xavier pruned ~90%, unpruned ~88%, the sparse start never above 80%
    for init in ("he", "xavier"):
        name = f"e2-{init}-l2only"
        if name not in have:
            continue
        s = level(name)
        V.append(Verdict(
            claim="000:text:E.2.3", setting=f"{name} {scale}; pruned test accuracy ~90%", N=s["n"],
            verdict=stats.level_reached_at_reduced_scale(s["lo"], s["hi"], ABOUT_90), measured=s["mean"],
            interval=[s["lo"], s["hi"]], bound=0.90,
            note=(f"final test accuracy with MP pruning {_ci(s)}; '~90%' = the whole interval >= 89%; below it "
                  "inconclusive (scale-bound)")))
        V.append(gain_verdict("000:text:E.2.3", name, 0.90 - 0.88, "pruned (~90%) above unpruned (~88%)"))
    if "e2-normal-sparse90-l2only" in have:
        spmax = level("e2-normal-sparse90-l2only", "max_test_accuracy")
        V.append(Verdict(
            claim="000:text:E.2.3", setting=f"e2-normal-sparse90-l2only {scale}; best test accuracy over epochs, pruned",
            N=spmax["n"], verdict=stats.ceiling_at_reduced_scale(spmax["lo"], spmax["hi"], SPARSE_CEILING),
            measured=spmax["mean"], interval=[spmax["lo"], spmax["hi"]], bound=SPARSE_CEILING,
            note=("'never higher than 80%': fails only if the best epoch is above 80% over the whole interval even at "
                  "reduced scale; otherwise inconclusive" + sparse_facts("e2-normal-sparse90-l2only"))))
        dense = [c for c in ("e2-he-l2only", "e2-xavier-l2only") if c in have]
        for c in dense:
            d = across(c, "e2-normal-sparse90-l2only")
            V.append(Verdict(
                claim="000:text:E.2.3", setting=f"{c} vs e2-normal-sparse90-l2only {scale}; both MP-pruned",
                N=d["n"], verdict=stats.sign(d["lo"], d["hi"]), measured=d["mean"], interval=[d["lo"], d["hi"]],
                bound=0.90 - SPARSE_CEILING,
                note="per seed dense minus sparse-initialised final test accuracy (paper ~90% vs <= 80%); verdict on the sign"))
    return V


if __name__ == "__main__":
    import sys

    from sims.experiment import cli_main
    sys.exit(cli_main(MODULE))
