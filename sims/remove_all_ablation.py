"""Ablation of "removing all the small singular values may underfit; keeping some helps" (paper 000
Section 3.1.3, 000:text:3.1.3.1; paper 001 Section 4.4, 001:text:4.4.1), at CPU scale.

Two settings, each paired by seed: both arms start from the same initial weights and see the same
batches (``nets.train``), so they agree exactly until the first pruning round (checked, column
``identical_until_first_round``) and differ only in what that and later rounds keep.

1. Paper 000's Algorithm 1 on Example 3.2a (``ex3.2a`` at cpu scale, widths / 10, 10,000 training
   images): f of (3.6), the paper's schedule, against f = 0 at every round (``nets.schedules``
   "remove-all": every singular value below the MP threshold removed), with the unpruned run of the
   same seed as the reference.
2. Paper 001's split algorithm (Section 4.4) on an Example 4.x counterpart (default 4.6,
   ``sims.paper001_examples.example_config``): 45% of the small singular values removed per cycle against
   all of them (``remove_fraction`` 1), with the non-split run as the reference.

Per seed: final and best test accuracy, final training loss and accuracy, parameters.  Declared
before the runs (``DECLARATIONS``, through ``core.protocol``): per claim one family of two endpoints,
each the mean over seeds of one paired difference, rule ``paired_sign`` (exact two-sided sign-flip
test, bootstrap interval), Holm over the family's two tests, alpha 0.05:

* performance: final test accuracy, kept-some minus remove-all (claimed > 0);
* underfitting: final training loss, remove-all minus kept-some (claimed > 0: removing all fits the
  training set worse);
* vacuous, for both, when the two arms never differ (no layer ever passed the MP fit test, so f
  changed nothing: ``core.protocol.condition``).

With n seeds the smallest two-sided p is 2^(1-n), and Holm over two doubles it: at least 7 seeds
are needed before any verdict other than inconclusive is possible.

Reproducibility (issue 23 item 6): the kept-some arm IS the pruned run of the config's side-by-side
pair, trained by the same ``sims.paired_runs.train_pair`` as ``sims.example_3_2``'s pruned arm, so on
the same code the two are equal bit for bit (tests/test_remove_all.py trains both in separate
caches at toy size and compares them).  The committed Results of 2026-12-02 differed (seed 0: pruned
0.8431 / 115,870 parameters in ex3.2a, kept 0.8423 / 115,236 here) because neither was trained by the
code its provenance names: each read a run cache keyed by config and scale only, and the two caches
(main's and the remove-all branch's working tree) held pruned runs trained by different, older code.
Retrained on 2026-12-05 at each Result's own commit, seed 0 gives pruned 0.8422 / 116,820 (9f11915,
the ex3.2a Result's) and 0.8399 / 116,220 (8a82557, this Result's; the same as today's code), and
unpruned 0.7548 at both, not the committed 0.7511: the unpruned arms matched each other only because
both caches carried the same older unpruned run.  Not a bug of the ablation; the defect was the
cache's missing code version.  Every epoch of a cached run now records the commit that trained it
(``nets.train``, 0b0e40a), and each row here lists the commits of its three runs
(``*_commits``), so a Result built from runs of different code says so.

``python -m sims.remove_all_ablation [--seeds 3] [--p001-example 4.6] [--p001-seeds 5] [--json PATH]``;
the committed Result was made with the old name ``python -m nets.remove_all`` (an alias that runs
this module).  Runs are cached and resumable (``sims.paired_runs``): the kept-some arm is the pruned
run of the config's side-by-side pair (shared with ``sims.example_3_2`` / ``sims.paper001_examples``),
the remove-all arm a single run of ``<config>-remove-all``.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from core import protocol
from core.validate import check_int
from nets.configs import TrainConfig
from sims import paired_runs as runs
from core.result import load_stored, redecided_from
from sims.decided import seeds_to_decide
from sims.seed_statistics import pct
from sims.experiment import RUNS_DIR, ExperimentRun, option
from sims.paper001_examples import example_config

MODULE = "sims.remove_all_ablation"
RESULT_NAME = "nets.remove_all"
P001_EXAMPLES = ("4.3", "4.4", "4.5", "4.6", "4.7")
ALPHA = 0.05
ENDPOINTS = {  # endpoint key: (the paired difference, the row column holding it)
    "performance": ("final test accuracy, kept-some minus remove-all, paired by seed (mean over seeds)",
                    "test_accuracy_kept_minus_removed"),
    "underfitting": ("final training loss, remove-all minus kept-some, paired by seed (mean over seeds)",
                     "train_loss_removed_minus_kept"),
}
# declared before the runs (default config; ``_declaration`` restates only the scale of another run)
DECLARATIONS = {
    (claim, key): protocol.declare(claim, endpoint, "paired_sign", alpha=ALPHA, scale=scale, family=claim)
    for claim, scale in (
        ("000:text:3.1.3.1", "Example 3.2a at CPU scale: widths/10, 10,000 training images, 70 epochs, 3 paired seeds"),
        ("001:text:4.4.1", "paper 001 Example 4.6 counterpart on Fashion-MNIST (the paper: MNIST), widths/10, "
                           "10,000 training images, 30 epochs, 5 paired seeds"))
    for key, (endpoint, _) in ENDPOINTS.items()
}


def _declaration(claim: str, key: str, scale: str) -> protocol.Declaration:
    decl = DECLARATIONS[(claim, key)]
    return decl if scale == decl.scale else dataclasses.replace(decl, scale=scale)




@dataclass(frozen=True)
class Config:
    seeds: int = option(3, "ex3.2a seeds (0 skips)", lo=0, hi=1000)
    p001_example: str = option("4.6", "paper 001 example counterpart", choices=P001_EXAMPLES)
    p001_seeds: int = option(5, "its seeds (0 skips)", lo=0, hi=1000)
    p001_epochs_cap: int = option(90, "at most this many epochs", lo=3, hi=10000)
    width_divisor: int = option(10, "hidden widths / this", lo=1, hi=1000)
    n_train: int = option(10000, "training images", lo=100, hi=60000)
    epochs: int | None = option(None, "ex3.2a epochs (default the paper's 70)", lo=1, hi=10000, optional=True)
    runs_dir: str | None = option(str(RUNS_DIR), "run cache (resumable)", optional=True)
    redecide_from: str | None = option(None, "re-decide the verdicts from this stored Result's records (no "
                                             "training; its settings are kept)", optional=True)


def toy_config(tmp_path) -> Config:
    """One seed of each setting; the sizes come from ``paired_runs.cpu_config`` (the registry test
    shrinks it) and ``p001_epochs_cap`` 3."""
    return Config(seeds=1, p001_seeds=1, p001_epochs_cap=3, runs_dir=str(tmp_path))


def run(config: Config = Config(), *, context: ExperimentRun | None = None):
    """Both settings of the module docstring, one Result named ``RESULT_NAME``."""
    if config.seeds + config.p001_seeds == 0:
        check_int("seeds", config.seeds, 1, 1000)  # nothing to run: refused with the range
    context = context or ExperimentRun(MODULE, config, experiment=RESULT_NAME)
    with context:
        if config.redecide_from is not None:
            return _redecide(config.redecide_from, context)
        return _run(config, context)


def _redecide(path: str, context: ExperimentRun):
    """The stored Result at ``path`` with its verdicts recomputed by the declared rules from its own
    per-seed records (no training); records and settings kept, its provenance under
    ``config["redecided_from"]``."""
    stored = load_stored(path, RESULT_NAME)
    cfg = dict(stored["config"])
    rows, scale, verdicts = stored["records"], cfg["scale"], []
    for name, sc in scale.items():
        mine = [r for r in rows if r["config"] == name]
        n = len({r["seed"] for r in mine})
        wd, n_train = sc["cpu_changes"].get("width_divisor"), sc["n_train"]
        if name == "ex3.2a":
            verdicts += ablation_verdicts(
                "000:text:3.1.3.1", f"Algorithm 1 on ex3.2a {sc['tag']} ({n} seeds): schedule (3.6) against f = 0",
                mine, "schedule (3.6)", scale=(f"Example 3.2a at CPU scale: widths/{wd}, {n_train:,} training images, "
                                               f"{sc['epochs']} epochs, {n} paired seeds"))
        else:
            ex = cfg["p001_example"]
            verdicts += ablation_verdicts(
                "001:text:4.4.1", f"paper 001 split algorithm on the Example {ex} counterpart {sc['tag']} ({n} seeds): "
                                  "45% of the small singular values removed per cycle against all", mine, "45% removed",
                scale=(f"paper 001 Example {ex} counterpart on Fashion-MNIST (the paper: MNIST), widths/{wd}, "
                       f"{n_train:,} training images, {sc['epochs']} epochs, {n} paired seeds"))
    cfg["declared"] = [d.to_dict() for d in DECLARATIONS.values()]
    cfg["redecided_from"] = redecided_from(path, stored)
    return context.result(config=cfg, records=rows, verdicts=verdicts)


def _run(config: Config, context: ExperimentRun):
    seeds, p001_example, p001_seeds = config.seeds, config.p001_example, config.p001_seeds
    width_divisor, n_train, epochs, runs_dir = config.width_divisor, config.n_train, config.epochs, config.runs_dir
    p001_epochs_cap = config.p001_epochs_cap
    rows, verdicts, scale = [], [], {}
    if seeds:
        cfg = runs.cpu_config("ex3.2a", width_divisor=width_divisor, n_train=n_train)
        if epochs is not None:
            cfg.cpu_changes["epochs"] = [cfg.epochs, epochs]
            cfg.epochs = epochs
        r = ablation_rows(cfg, list(range(seeds)), runs_dir=runs_dir, device=context.device)
        rows += r
        scale["ex3.2a"] = {**runs.scale_description(cfg), "schedule": cfg.pruning["schedule"],
                           "every": cfg.pruning["every"], "tau": cfg.pruning["tau"]}
        verdicts += ablation_verdicts(
            "000:text:3.1.3.1", f"Algorithm 1 on ex3.2a {scale['ex3.2a']['tag']} ({seeds} seeds): schedule (3.6) "
                                f"against f = 0", r, "schedule (3.6)",
            scale=(f"Example 3.2a at CPU scale: widths/{width_divisor}, {n_train:,} training images, {cfg.epochs} "
                   f"epochs, {seeds} paired seeds"))
    if p001_seeds:
        cfg = example_config(p001_example, epochs_cap=p001_epochs_cap, width_divisor=width_divisor,
                             n_train=n_train)
        r = ablation_rows(cfg, list(range(p001_seeds)), runs_dir=runs_dir, device=context.device)
        rows += r
        scale[cfg.name] = {**runs.scale_description(cfg), "every": cfg.pruning["every"], "tau": cfg.pruning["tau"],
                           "remove_fraction": cfg.pruning["remove_fraction"]}
        verdicts += ablation_verdicts(
            "001:text:4.4.1", f"paper 001 split algorithm on the Example {p001_example} counterpart "
                              f"{scale[cfg.name]['tag']} ({p001_seeds} seeds): 45% of the small singular values "
                              f"removed per cycle against all", r, "45% removed",
            scale=(f"paper 001 Example {p001_example} counterpart on Fashion-MNIST (the paper: MNIST), "
                   f"widths/{width_divisor}, {n_train:,} training images, {cfg.epochs} epochs, {p001_seeds} "
                   "paired seeds"))
    config = {"seeds": seeds, "p001_example": p001_example, "p001_seeds": p001_seeds, "scale": scale,
              "declared": [d.to_dict() for d in DECLARATIONS.values()],
              "dataset": "fashion_mnist (paper 001 used MNIST)", "runs_dir": str(runs_dir),
              "reductions": [f"widths / {width_divisor}, {n_train} training images, 10,000 test images",
                             "the claim is stated without a setting: these two are the papers' own algorithms "
                             "on their own Fashion-MNIST (000) / MNIST-counterpart (001) examples"]}
    return context.result(config=config, records=rows, verdicts=verdicts)


def remove_all_variant(cfg):
    """A copy of ``cfg`` whose pruning keeps none of the small singular values: Algorithm 1 with
    f = 0 at every round, or paper 001's split algorithm removing all of them."""
    out = TrainConfig.from_dict(cfg.to_dict())
    if not out.pruning:
        raise ValueError(f"config {cfg.name!r} has no MP pruning to ablate")
    if out.pruning.get("variant") == "paper001":
        out.pruning["remove_fraction"] = 1.0
        what = "remove_fraction 1 (all small singular values) instead of 0.45"
    else:
        out.pruning["schedule"] = "remove-all"
        out.pruning.pop("schedule_horizon", None)
        what = "f = 0 at every round instead of the schedule"
    out.name = f"{cfg.name}-remove-all"
    out.notes = list(out.notes) + [f"ablation (nets.remove_all): {what}"]
    return out


def arms_identical(a_metrics: list[dict], b_metrics: list[dict]) -> bool:
    """True when two runs never differed: same epochs, training losses and parameter counts."""
    if len(a_metrics) != len(b_metrics):
        return False
    return all(ma["train_loss"] == mb["train_loss"] and ma["parameters"] == mb["parameters"]
               for ma, mb in zip(a_metrics, b_metrics))


def first_round_ranks(metrics: list[dict]) -> list[int]:
    """Rank of every layer the first pruning round changed (split or dense), in event order; a rank 0
    is a layer whose singular values all lay below the MP threshold: its output is then constant
    (its bias), whatever the input."""
    for m in metrics:
        changed = [ev["rank_after"] for ev in m.get("events", []) if ev.get("action") in ("split", "dense")]
        if m.get("events"):
            return changed
    return []


def ablation_row(cfg, seed, kept, removed, reference) -> dict:
    """One seed: the kept-some arm, the remove-all arm and the unpruned reference side by side."""
    rk, rr, ru = runs.run_row(cfg, seed, kept), runs.run_row(cfg, seed, removed), runs.run_row(cfg, seed, reference)
    out = {"config": cfg.name, "seed": seed,
           "identical_until_first_round": runs.identical_until_first_event(kept, removed),
           "arms_identical": arms_identical(kept.metrics, removed.metrics)}
    for arm, r in (("kept", rk), ("removed", rr), ("reference", ru)):
        for key in ("final_test_accuracy", "best_test_accuracy", "final_train_accuracy", "final_train_loss",
                    "final_test_loss", "final_parameters", "epochs", "diverged", "time_s"):
            out[f"{arm}_{key}"] = r[key]
    for arm, run in (("kept", kept), ("removed", removed)):
        out[f"{arm}_first_round_ranks"] = first_round_ranks(run.metrics)
    for arm, run in (("kept", kept), ("removed", removed), ("reference", reference)):
        out[f"{arm}_commits"] = run_commits(run.metrics)
    out["removed_rank_zero_layers"] = sum(r == 0 for r in out["removed_first_round_ranks"])
    out["test_accuracy_kept_minus_removed"] = rk["final_test_accuracy"] - rr["final_test_accuracy"]
    out["train_loss_removed_minus_kept"] = rr["final_train_loss"] - rk["final_train_loss"]
    out["test_accuracy_removed_minus_reference"] = rr["final_test_accuracy"] - ru["final_test_accuracy"]
    return out


def run_commits(metrics: list[dict]) -> str:
    """The commits that trained a run's epochs ("abc1234 x70", "+dirty" when the tree was dirty;
    "unrecorded" for epochs cached before nets.train recorded it)."""
    counts: dict = {}
    for m in metrics:
        c = m.get("git_commit")
        key = "unrecorded" if c is None else str(c)[:7] + ("+dirty" if m.get("git_dirty") else "")
        counts[key] = counts.get(key, 0) + 1
    return " ".join(f"{k} x{v}" for k, v in counts.items())


def ablation_rows(cfg, seeds, *, runs_dir=RUNS_DIR, device="cpu") -> list[dict]:
    """One row per seed: the kept-some arm (the pair's pruned run), the remove-all arm (a single run
    of the same seed) and the reference (the pair's unpruned run)."""
    removed_cfg = remove_all_variant(cfg)
    rows = []
    for seed in seeds:
        kept, reference = runs.collect_pairs(cfg, [seed], runs_dir=runs_dir, device=device)[seed]
        removed = runs.single_run(removed_cfg, seed, runs_dir=runs_dir, device=device)
        rows.append(ablation_row(cfg, seed, kept, removed, reference))
    return rows


def ablation_verdicts(claim: str, setting: str, rows: list[dict], kept_label: str, *, scale: str | None = None) -> list:
    """The claim's family: performance and underfitting, each ``paired_sign`` on its paired column,
    Holm over the two; vacuous when the arms never differed."""
    identical = bool(rows) and all(r["arms_identical"] for r in rows)
    n = len(rows)
    decls = {key: _declaration(claim, key, scale or DECLARATIONS[(claim, key)].scale) for key in ENDPOINTS}
    if identical:
        decisions = {key: protocol.condition(decls[key], False, "the two arms never differed (no layer passed the "
                                                               "MP fit, so f changed nothing)") for key in ENDPOINTS}
    else:
        decisions = {key: protocol.paired_sign(decls[key], [r[col] for r in rows])
                     for key, (_, col) in ENDPOINTS.items()}
        protocol.adjust(list(decisions.values()), ALPHA)
        for key, (_, col) in ENDPOINTS.items():
            decisions[key].pairs_needed = seeds_to_decide(decisions[key], [r[col] for r in rows],
                                                          tests=len(ENDPOINTS), alpha=ALPHA)
    vs_ref = _mean([r["test_accuracy_removed_minus_reference"] for r in rows])
    mean = {k: _mean([r[k] for r in rows]) for k in
            ("kept_final_test_accuracy", "removed_final_test_accuracy", "reference_final_test_accuracy",
             "kept_final_train_loss", "removed_final_train_loss", "kept_final_parameters",
             "removed_final_parameters", "reference_final_parameters", "kept_final_train_accuracy",
             "removed_final_train_accuracy")}
    diverged = [r["seed"] for r in rows if r["kept_diverged"] or r["removed_diverged"]]
    common = (f"{kept_label} {pct(mean['kept_final_test_accuracy'])}% vs remove-all "
              f"{pct(mean['removed_final_test_accuracy'])}% test (unpruned "
              f"{pct(mean['reference_final_test_accuracy'])}%; remove-all minus unpruned {pct(vs_ref)} points); "
              f"parameters {mean['kept_final_parameters']:.0f} vs {mean['removed_final_parameters']:.0f} "
              f"(unpruned {mean['reference_final_parameters']:.0f}); identical until the first round in "
              f"{sum(r['identical_until_first_round'] for r in rows)} of {n} seeds"
              + (f"; training stopped by a NaN loss in seeds {diverged}" if diverged else "")
              + ("; the arms never differed (no layer passed the MP fit)" if identical else "")
              + f"; ranks of the changed layers after the first round, remove-all: "
                f"{[r['removed_first_round_ranks'] for r in rows]}, kept-some: {[r['kept_first_round_ranks'] for r in rows]}"
              + (f"; a layer cut to rank 0 (every singular value below the MP threshold, constant output) in "
                 f"{sum(r['removed_rank_zero_layers'] > 0 for r in rows)} of {n} remove-all runs" if any(
                  r["removed_rank_zero_layers"] for r in rows) else ""))
    per_seed = {key: [r[col] for r in rows] for key, (_, col) in ENDPOINTS.items()}
    why = {key: (f"{decisions[key].reason}" + (f"; Holm over the two endpoints p = {decisions[key].p_adjusted:.3g}"
                                              if decisions[key].p_adjusted is not None else "")
                 + (f"; about {decisions[key].pairs_needed} seeds would decide it at 80% power"
                    if decisions[key].pairs_needed else "")
                 + f"; per seed {[round(x, 4) for x in per_seed[key]]}") for key in ENDPOINTS}
    return [
        protocol.verdict(decls["performance"], decisions["performance"],
                         setting=setting + "; performance: final test accuracy, kept-some minus remove-all",
                         bound=0.0, N=n, note=f"paired over seeds (same initial weights and batches); {why['performance']}; "
                                              + common),
        protocol.verdict(decls["underfitting"], decisions["underfitting"],
                         setting=setting + "; underfitting: final training loss, remove-all minus kept-some",
                         bound=0.0, N=n,
                         note=(f"{why['underfitting']}; training loss {mean['removed_final_train_loss']:.4f} (remove-all) vs "
                               f"{mean['kept_final_train_loss']:.4f} ({kept_label}); training accuracy "
                               f"{pct(mean['removed_final_train_accuracy'])}% vs {pct(mean['kept_final_train_accuracy'])}%")),
    ]


def _mean(values) -> float:
    v = [x for x in values if x is not None and math.isfinite(x)]
    return sum(v) / len(v) if v else math.nan


if __name__ == "__main__":
    import sys

    from sims.experiment import cli_main
    sys.exit(cli_main(MODULE))
