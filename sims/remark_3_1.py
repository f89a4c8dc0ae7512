"""Remark 3.1 of paper 000 (Section 3.1.3): "it is possible to continue splitting the matrices W_l,
W'_l, and so on. This also improves accuracy for fully connected layers. However, we found that
recombining and splitting the original matrix works better."

Three arms of Example 3.2a (Fashion-MNIST, topology [784, 2000, 4000, 2000, 500, 10], E.6's
hyperparameters, Algorithm 1 every l = 7 epochs with f(epoch) of (3.6) and tau = 0.7), trained per
seed from the same initial weights on the same batches (``sims.paired_runs``):

* ``unpruned``: no pruning;
* ``algorithm1``: Algorithm 1 as the paper states it (steps 21-27 recombine W_l = W'_1 W'_2 and split
  that again; ``nets.algorithms.algorithm1_round``), the ``pruned`` arm of ``sims.example_3_2``;
* ``continued_splitting``: Remark 3.1's variant, steps 4-18 run on the factors W'_1, W'_2 themselves
  (``nets.algorithms.continued_splitting_round``, ``nets.configs.with_variant``), same f(epoch), tau, l.

Declared before the runs (``DECLARATIONS``, one claim family ``000:remark:3.1`` through
``core.protocol``; also stored in the Result's config, ``declared``):

* endpoint: the final test accuracy (after the last epoch's callbacks), one value per seed and arm;
  one statistic per comparison: the mean paired difference d over seeds;
* comparison 1, "also improves accuracy": d = continued_splitting - unpruned, claimed d > 0;
* comparison 2, "recombining works better": d = algorithm1 - continued_splitting, claimed d > 0;
* rule ``paired_sign``: the exact two-sided sign-flip (paired permutation) test of the mean of d
  over all 2^n sign patterns (valid for any n and for bimodal outcomes), percentile-bootstrap
  interval of the mean; holds / fails when the Holm-adjusted p (over the two comparisons) is at
  most alpha = 0.05 and the mean lies on the claimed / the other side; inconclusive otherwise, with
  the seeds that would decide (``core.protocol.pairs_needed``).  (Until issue 23 the two sides were
  two one-sided tests; the protocol's two-sided p is twice the smaller one-sided p.)  The exact sign
  test (binomial on the signs) is reported beside it, not used for the verdict.

Scale: CPU scale (``nets.configs`` cpu variant of ex3.2a: widths / 10, 10,000 training and 10,000
test images, 70 epochs); a verdict here is a verdict at that scale, not at the paper's.

The unpruned and Algorithm 1 arms are trained through the same cache and code path as
``sims.example_3_2`` (``paired_runs.collect_pairs``); where a seed also appears in the committed
``results/section3/ex3.2a.runs.csv`` the Result records whether the retrained finals equal the
committed ones exactly (``reproduces_committed``). The continued arm must agree exactly with the
Algorithm 1 arm up to and including the first round (epoch l: no factors exist yet) and both with the
unpruned arm before it (``identical_start``, which also gives each arm's number of leaf matrices
and the rank each layer's chain can carry at the end, ``bottleneck_ranks_*``).

False alarms: every holds or fails is an exact two-sided test Holm-adjusted over the two
comparisons, so the family-wise error is <= 0.05 under any dependence between the comparisons (the
sign-flip null: d symmetric about 0 given |d|).
"""
from __future__ import annotations

import csv
import dataclasses
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from core import protocol
from nets.configs import with_variant
from sims import paired_runs as runs
from core.result import load_stored, redecided_from
from sims.experiment import RUNS_DIR, ExperimentRun, option

MODULE = "sims.remark_3_1"
CLAIM = "000:remark:3.1"
ALPHA = 0.05
ARMS = ("unpruned", "algorithm1", "continued_splitting")
COMPARISONS = (  # (name, minuend, subtrahend, the sentence of Remark 3.1 it tests)
    ("continued_splitting - unpruned", "continued_splitting", "unpruned", "also improves accuracy"),
    ("algorithm1 - continued_splitting", "algorithm1", "continued_splitting",
     "recombining and splitting the original matrix works better"),
)
COMMITTED_RUNS = Path("results/section3/ex3.2a.runs.csv")
SCALE = "CPU scale of Example 3.2a: widths/10, 10,000 training images, 70 epochs, 10 paired seeds"
# declared before the runs: one family (Holm over both comparisons); ``_run`` only restates the scale
# when a config other than the default is run
DECLARATIONS = {
    name: protocol.declare(CLAIM, f"final test accuracy, {name}, paired by seed (mean over seeds)", "paired_sign",
                           alpha=ALPHA, scale=SCALE, family=CLAIM)
    for name, _, _, _ in COMPARISONS
}


@dataclass(frozen=True)
class Config:
    seeds: int = option(10, "paired seeds 0..seeds-1 (6 are needed for Holm over two exact tests to decide)",
                        lo=2, hi=1000)
    width_divisor: int = option(10, "hidden widths / this", lo=1, hi=1000)
    n_train: int = option(10000, "training images (a seeded subset per seed)", lo=100, hi=60000)
    n_test: int | None = option(None, "test images (default all 10,000)", lo=1, hi=10000, optional=True)
    epochs: int | None = option(None, "override the paper's 70 epochs (stated in the Result)", lo=1, hi=10000,
                                optional=True)
    runs_dir: str | None = option(str(RUNS_DIR), "run cache (resumable); none: no checkpoints", optional=True)
    data_dir: str | None = option(None, "Fashion-MNIST IDX folder (default: nets.data's)", optional=True)
    redecide_from: str | None = option(None, "re-decide the verdicts from this stored Result's tables (no training; "
                                             "its settings are kept)", optional=True)


def toy_config(tmp_path) -> Config:
    """Two seeds, 15 epochs (rounds at 7 and 14), widths / 50, 300 images."""
    return Config(seeds=2, width_divisor=50, n_train=300, n_test=300, epochs=15, runs_dir=str(tmp_path))


def sign_test_p(diffs, greater: bool = True) -> float:
    """Exact one-sided sign test (ties dropped): P(Binomial(n, 1/2) >= #positive)."""
    pos = sum(1 for x in diffs if x > 0)
    neg = sum(1 for x in diffs if x < 0)
    n, k = pos + neg, (pos if greater else neg)
    if n == 0:
        return 1.0
    return sum(math.comb(n, j) for j in range(k, n + 1)) / 2 ** n


def run(config: Config = Config(), *, context: ExperimentRun | None = None):
    """The three arms over ``config.seeds`` paired seeds and the two declared comparisons."""
    context = context or ExperimentRun(MODULE, config)
    with context:
        if config.redecide_from is not None:
            return _redecide(config.redecide_from, context)
        return _run(config, context)


def _configs(config: Config):
    base = runs.cpu_config("ex3.2a", width_divisor=config.width_divisor, n_train=config.n_train,
                           n_test=config.n_test)
    if config.epochs is not None:
        base.cpu_changes["epochs"] = [base.epochs, config.epochs]
        base.epochs = config.epochs
    cont = with_variant(base, "continued_splitting")
    cont.name = "ex3.2a-continued_splitting"  # its own run-cache folder; training does not read the name
    return base, cont


def _same_metrics(a, b, upto: int) -> bool:
    keys = ("train_loss", "test_accuracy", "test_accuracy_after_callbacks", "parameters")
    return all(ma.get(k) == mb.get(k) for ma, mb in zip(a.metrics[:upto], b.metrics[:upto]) for k in keys)


def _run(config: Config, context: ExperimentRun):
    base, cont = _configs(config)
    every = base.pruning["every"]
    seeds = list(range(config.seeds))
    rows, records, identical = [], [], []
    for seed in seeds:
        alg1, unpruned = runs.collect_pairs(base, [seed], runs_dir=config.runs_dir, device=context.device,
                                            data_dir=config.data_dir)[seed]
        continued = (runs.single_run(cont, seed, runs_dir=config.runs_dir, device=context.device)
                     if config.data_dir is None else _single_run_with_data(cont, seed, config, context))
        for arm, cfg, r in (("unpruned", base, unpruned), ("algorithm1", base, alg1),
                            ("continued_splitting", cont, continued)):
            row = runs.run_row(cfg, seed, r)
            rows.append({"arm": arm, **row})
            records += [{"arm": arm, **rec} for rec in runs.epoch_records(cfg, seed, r)]
        identical.append({
            "seed": seed,
            "unpruned_equals_algorithm1_before_first_round": runs.identical_until_first_event(alg1, unpruned),
            "continued_equals_algorithm1_through_first_round": _same_metrics(continued, alg1, every),
            "leaf_matrices_algorithm1": _leaf_count(alg1.model),
            "leaf_matrices_continued": _leaf_count(continued.model),
            "bottleneck_ranks_algorithm1": _bottlenecks(alg1.model),
            "bottleneck_ranks_continued": _bottlenecks(continued.model),
        })
    finals = {(r["seed"], r["arm"]): r["final_test_accuracy"] for r in rows}
    reproduced = _reproduces_committed(rows, base, config)
    scale = (f"CPU scale of Example 3.2a: widths/{config.width_divisor}, {config.n_train:,} training images, "
             f"{base.epochs} epochs, {len(seeds)} paired seeds")
    comparisons, verdicts = remark_verdicts(rows, identical, scale)
    declared = {
        "declarations": {name: _declaration(name, scale).to_dict() for name, _, _, _ in COMPARISONS},
        "comparisons": [{"difference": name, "claimed": "> 0", "sentence": sentence}
                        for name, _, _, sentence in COMPARISONS],
        "secondary": "exact one-sided sign test (reported, not used for the verdict)",
        "variant": READING,
    }
    cfg_out = {"seeds": len(seeds), "alpha": ALPHA, "declared": declared, "scale": runs.scale_description(base),
               "scale_words": scale, "arms": list(ARMS), "tau": base.pruning["tau"], "every": every,
               "schedule": base.pruning["schedule"], "runs_dir": str(config.runs_dir)}
    return context.result(config=cfg_out, records=records, verdicts=verdicts,
                          tables={"finals": _finals_table(finals, seeds), "runs": rows,
                                  "comparisons": comparisons, "identical_start": identical,
                                  "reproduces_committed": reproduced})


def _single_run_with_data(cfg, seed, config, context):
    from nets.train import train_runs
    out = None if config.runs_dir is None else runs.run_dir(cfg, seed, config.runs_dir) / "single"
    return train_runs(cfg, seed=seed, device=context.device, out_dir=out, prune=True, resume=out is not None,
                      progress=False, data=runs.load_data(cfg, seed, config.data_dir))[0]


def _leaf_count(model) -> int:
    from nets.algorithms import prunable_layers
    return len(prunable_layers(model, descend_into_factors=True))


def _bottlenecks(model) -> str:
    """Per weight layer, the rank its chain of factors can carry: the smallest dimension of any of
    its leaf matrices ("fc1:14 fc2:...")."""
    from nets.algorithms import prunable_layers
    out = {}
    for unit in prunable_layers(model):
        leaves = [n for n in prunable_layers(model, descend_into_factors=True) if n == unit or n.startswith(unit + ".")]
        out[unit.rsplit(".", 1)[-1]] = min(min(model.get_submodule(n).weight.shape[:2]) for n in leaves)
    return " ".join(f"{k}:{v}" for k, v in out.items())


def _finals_table(finals: dict, seeds) -> list[dict]:
    out = []
    for s in seeds:
        row = {"seed": s, **{arm: finals[(s, arm)] for arm in ARMS}}
        for name, a, b, _ in COMPARISONS:
            row[name] = finals[(s, a)] - finals[(s, b)]
        out.append(row)
    return out


def remark_verdicts(rows: list[dict], identical: list[dict], scale: str):
    """The declared family from the per-run rows (``runs`` table) and the ``identical_start`` table:
    (comparison rows, Verdicts)."""
    seeds = sorted({r["seed"] for r in rows})
    finals = {(r["seed"], r["arm"]): r["final_test_accuracy"] for r in rows}
    comparisons, decisions = _comparisons(finals, seeds, scale)
    arms = {arm: {k: sum(r[k] for r in rows if r["arm"] == arm) / len(seeds)
                  for k in ("final_test_accuracy", "best_test_accuracy", "final_parameters")} for arm in ARMS}
    diverged = {arm: [r["seed"] for r in rows if r["arm"] == arm and r.get("diverged")] for arm in ARMS}
    chance = [r["seed"] for r in rows if r["arm"] == "continued_splitting" and r["final_test_accuracy"] <= 0.1 + 1e-9]
    narrowest = sorted(min(int(x.split(":")[1]) for x in row["bottleneck_ranks_continued"].split()) for row in identical)
    mechanism = (f"the continued arm ends at chance (10%, one class) on {len(chance)} of {len(seeds)} seeds; its "
                 f"narrowest chain carries rank {narrowest[len(narrowest) // 2]} (median over seeds; Algorithm 1's "
                 "layers keep their rank because the recombined W is re-split as one matrix), as every round "
                 "truncates each factor anew")
    return comparisons, [_verdict(c, d, scale, arms, diverged, mechanism) for c, d in zip(comparisons, decisions)]


def _redecide(path: str, context: ExperimentRun):
    """The stored Result at ``path`` with its verdicts (and comparisons table) recomputed by the
    declared rules from its own ``runs`` and ``identical_start`` tables (no training); its provenance
    under ``config["redecided_from"]``."""
    stored = load_stored(path, MODULE)
    cfg, t = dict(stored["config"]), dict(stored["tables"])
    scale = cfg["scale_words"]
    if scale.startswith("CPU scale (widths/"):   # the wording before issue 23
        sc = cfg["scale"]
        scale = (f"CPU scale of Example 3.2a: widths/{sc['cpu_changes']['width_divisor']}, {sc['n_train']:,} "
                 f"training images, {sc['epochs']} epochs, {cfg['seeds']} paired seeds")
    t["comparisons"], verdicts = remark_verdicts(t["runs"], t["identical_start"], scale)
    cfg.update(scale_words=scale, declared={
        "declarations": {name: _declaration(name, scale).to_dict() for name, _, _, _ in COMPARISONS},
        "comparisons": [{"difference": name, "claimed": "> 0", "sentence": sentence}
                        for name, _, _, sentence in COMPARISONS],
        "secondary": "exact one-sided sign test (reported, not used for the verdict)", "variant": READING},
        redecided_from=redecided_from(path, stored))
    return context.result(config=cfg, records=stored["records"], verdicts=verdicts, tables=t)


def _declaration(name: str, scale: str) -> protocol.Declaration:
    """The module-level declaration of comparison ``name``, its scale restated for a non-default run."""
    decl = DECLARATIONS[name]
    return decl if scale == decl.scale else dataclasses.replace(decl, scale=scale)


def _comparisons(finals: dict, seeds, scale: str = SCALE) -> tuple[list[dict], list]:
    """Both declared comparisons: one row each (the mean paired difference and its tests) and the
    protocol's Decisions, Holm-adjusted over the two."""
    out, decisions = [], []
    for name, a, b, sentence in COMPARISONS:
        d = [finals[(s, a)] - finals[(s, b)] for s in seeds]
        decisions.append(protocol.paired_sign(_declaration(name, scale), d))
        n = len(d)
        mean = sum(d) / n
        sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1)) if n > 1 else math.nan
        out.append({"comparison": name, "sentence": sentence, "n": n, "mean": mean, "sd": sd,
                    "min": min(d), "max": max(d), "positive": sum(x > 0 for x in d),
                    "negative": sum(x < 0 for x in d),
                    "sign_test_p_greater": sign_test_p(d, True), "sign_test_p_less": sign_test_p(d, False)})
    protocol.adjust(decisions, ALPHA)
    for c, dec in zip(out, decisions):
        c.update({"p": dec.p, "p_adjusted": dec.p_adjusted, "interval_lo": (dec.interval or [math.nan])[0],
                  "interval_hi": (dec.interval or [math.nan, math.nan])[1], "pairs_needed": dec.pairs_needed,
                  "word": dec.word})
    return out, decisions


READING = ("reading of Remark 3.1 (it gives no detail): every round, steps 4-18 of Algorithm 1 on every leaf "
           "matrix, factors included, with f(epoch) of (3.6) and tau 0.7; no recombination")


def _verdict(c: dict, decision, scale: str, arms: dict | None = None, diverged: dict | None = None,
             mechanism: str = ""):
    note = (f"'{c['sentence']}': {c['comparison']} = {100 * c['mean']:+.2f} points mean over {c['n']} paired "
            f"seeds (sd {100 * c['sd']:.2f}, range {100 * c['min']:+.2f} to {100 * c['max']:+.2f}, "
            f"{c['positive']} positive / {c['negative']} negative); {decision.reason}; Holm-adjusted over the two "
            f"comparisons p = {c['p_adjusted']:.4g}; exact sign test (> 0) p = {c['sign_test_p_greater']:.4g}; "
            f"measured at {scale}, not at paper scale; {READING}")
    if arms:
        note += "; arm means (final / best test accuracy, final parameters): " + ", ".join(
            f"{arm} {100 * a['final_test_accuracy']:.2f}% / {100 * a['best_test_accuracy']:.2f}% / "
            f"{a['final_parameters']:,.0f}" for arm, a in arms.items())
    for arm, seeds in (diverged or {}).items():
        if seeds:
            note += (f"; {arm} diverged (non-finite loss) on seed(s) {seeds}: its final is the last finite epoch's "
                     "(sims.paired_runs keeps such runs so)")
    if decision.pairs_needed:
        note += f"; about {decision.pairs_needed} seeds would decide it at 80% power if the observed effect is the true one"
    corrected = ""
    if decision.side < 0 and decision.p_adjusted is not None and decision.p_adjusted <= ALPHA:
        corrected = (f"at {scale}, {c['comparison']} is negative ({100 * c['mean']:+.2f} points): the opposite of "
                     f"'{c['sentence']}'" + (f"; {mechanism}" if mechanism else ""))
    if mechanism:
        note += f"; {mechanism}"
    return protocol.verdict(_declaration(c["comparison"], scale), decision,
                            setting=f"Example 3.2a, {scale}: {c['comparison']} > 0 ({c['sentence']})",
                            measured=c["mean"], bound=0.0, N=c["n"], note=note, corrected=corrected,
                            extra={k: c[k] for k in ("p", "p_adjusted", "sign_test_p_greater", "pairs_needed")})


def _reproduces_committed(rows, base, config) -> list[dict]:
    """Where the committed ex3.2a Result has the same seed at the same scale: do the retrained
    unpruned / Algorithm 1 finals equal it exactly (same code path, bit for bit)?"""
    if not COMMITTED_RUNS.is_file():
        return []
    tag = runs.scale_tag(base)
    with COMMITTED_RUNS.open() as fh:
        committed = {(int(r["seed"]), r["run"]): float(r["final_test_accuracy"]) for r in csv.DictReader(fh)
                     if r["config"] == "ex3.2a" and r["scale"] == tag}
    out = []
    for r in rows:
        label = {"unpruned": "unpruned", "algorithm1": "pruned"}.get(r["arm"])
        key = (r["seed"], label)
        if label and key in committed:
            out.append({"seed": r["seed"], "arm": r["arm"], "final_test_accuracy": r["final_test_accuracy"],
                        "committed": committed[key], "equal": r["final_test_accuracy"] == committed[key]})
    return out


if __name__ == "__main__":
    from sims.experiment import cli_main
    sys.exit(cli_main(MODULE))
