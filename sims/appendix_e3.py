"""Paper 000 Appendix E.3 (the regression of Fig E.2: [1, 1000, 1000, 1000, 1000, 1], no final
activation, MSE + L2 0.001, Table E.1's 1198 epochs, lr 0.025 decayed by 0.997 per epoch, momentum
0.95, batch 128) at CPU scale: pruned against unpruned on the same seeds (same initial weights, same
batches; ``sims.paired_runs``' run cache), the counterparts of Figs E.3 (training loss) and E.4 (test
loss) against epoch (``records``: mean and 95% band over seeds; table ``curves``: each seed, every
epoch up to 50 and every 5th after), and the parameters at the end.

E.3 states no pruning settings; ``nets.configs``' ``e3-regression`` takes Section 3.2.1's (split
every 7 epochs, goodness of fit 0.7, schedule (3.6)).  The training loss is the epoch's running mean
of the minibatch MSE (the L2 term excluded), the test loss the MSE on the 500 noise-free test points.

Declared before the runs (``DECLARATIONS``, through ``core.protocol``; each row one statistic, the
mean over seeds, with a percentile-bootstrap interval): 000:figure:E.3 is one family of two rows,
the final training MSE unpruned minus pruned ("significantly smaller": ``paired_sign``, exact
two-sided sign-flip test, claimed > 0) and "50% fewer parameters" (``approximately``: the mean
reduction within 10 points of 50%, the tolerance ``sims.example_3_4`` uses for Example 3.4's counts);
000:figure:E.4 the final test MSE unpruned minus pruned (``paired_sign``).  alpha 0.05, Holm within
each claim (E.3 has one tested row).  With n seeds the smallest two-sided p is 2^(1-n): 6 seeds are
needed before the sign rows can decide (the committed run has 3).

``python -m sims.appendix_e3 [--seeds 3] [--width-divisor 10] [--epochs N] [--json PATH]``; the committed
Result was made with the old name ``python -m nets.appendix_e3`` (an alias that runs this module).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from core import protocol
from sims import paired_runs as runs
from core.result import load_stored, redecided_from
from sims.decided import seeds_to_decide
from sims.experiment import RUNS_DIR, ExperimentRun, option

MODULE = "sims.appendix_e3"
RESULT_NAME = "nets.appendix_e3"
PAPER_REDUCTION = 0.5       # "with a 50% reduction in the number of parameters"
REDUCTION_TOLERANCE = 0.10  # as sims.example_3_4's parameter verdict
ALPHA = 0.05
SCALE = ("E.3 regression net with hidden widths/10 ([1, 100, 100, 100, 100, 1]; the paper: 1000), Table E.1's "
         "1198 epochs, 3 paired seeds (the paper: 5)")
DECLARATIONS = {  # declared before the runs; ``_declaration`` restates only the scale of another run
    "train": protocol.declare("000:figure:E.3", "final training MSE, unpruned minus pruned, paired by seed (mean "
                              "over seeds)", "paired_sign", alpha=ALPHA, scale=SCALE),
    "reduction": protocol.declare("000:figure:E.3", "parameter reduction of the pruned DNN (mean over seeds) "
                                  "against 50%", "approximately", alpha=ALPHA, scale=SCALE,
                                  margin=REDUCTION_TOLERANCE),
    "test": protocol.declare("000:figure:E.4", "final test MSE, unpruned minus pruned, paired by seed (mean over "
                             "seeds)", "paired_sign", alpha=ALPHA, scale=SCALE),
}


def _declaration(key: str, scale: str) -> protocol.Declaration:
    decl = DECLARATIONS[key]
    return decl if scale == decl.scale else dataclasses.replace(decl, scale=scale)


@dataclass(frozen=True)
class Config:
    seeds: int = option(3, "seeds (the paper: 5)", lo=2, hi=1000)
    width_divisor: int = option(10, "hidden widths / this", lo=1, hi=1000)
    epochs: int | None = option(None, "override Table E.1's 1198 (stated)", lo=1, hi=100000, optional=True)
    runs_dir: str | None = option(str(RUNS_DIR), "run cache (resumable)", optional=True)
    redecide_from: str | None = option(None, "re-decide the verdicts from this stored Result's tables (no "
                                             "training; its settings are kept)", optional=True)


def toy_config(tmp_path) -> Config:
    """Two seeds, 8 epochs (one pruning round); the widths come from ``paired_runs.cpu_config`` (the
    registry test shrinks it)."""
    return Config(seeds=2, epochs=8, runs_dir=str(tmp_path))


def run(config: Config = Config(), *, context: ExperimentRun | None = None):
    """E.3 pruned against unpruned, one Result named ``RESULT_NAME``."""
    context = context or ExperimentRun(MODULE, config, experiment=RESULT_NAME)
    with context:
        if config.redecide_from is not None:
            return _redecide(config.redecide_from, context)
        return _run(config, context)


def _run(config: Config, context: ExperimentRun):
    seeds, width_divisor, epochs, runs_dir = config.seeds, config.width_divisor, config.epochs, config.runs_dir
    cfg = runs.cpu_config("e3-regression", width_divisor=width_divisor)
    if epochs is not None and epochs != cfg.epochs:
        cfg.cpu_changes["epochs"] = [cfg.epochs, epochs]
        cfg.epochs = epochs
    pairs = runs.collect_pairs(cfg, list(range(seeds)), runs_dir=runs_dir, device=context.device)
    rows, curves = [], []
    for seed, (p, u) in pairs.items():
        rows += [regression_row(cfg, seed, p), regression_row(cfg, seed, u)]
        for run in (p, u):
            curves += [{"config": cfg.name, "seed": seed, "run": run.label, "epoch": m["epoch"],
                        "train_loss": m["train_loss"],
                        "test_loss": m.get("test_loss_after_callbacks", m["test_loss"]),
                        "parameters": m["parameters"]} for m in run.metrics]
    n = len(pairs)
    tag = f"e3-regression {runs.scale_tag(cfg)} {cfg.model['topology']} ({n} seeds)"
    scale = _scale(width_divisor, cfg.model["topology"], cfg.epochs, n)
    V = e3_verdicts(rows, tag, scale)
    config = {"seeds": seeds, "scale": runs.scale_description(cfg), "pruning": cfg.pruning, "epochs": cfg.epochs,
              "declared": {k: _declaration(k, scale).to_dict() for k in DECLARATIONS},
              "paper_topology": [1, 1000, 1000, 1000, 1000, 1],
              "reductions": [f"hidden widths / {width_divisor}"]
              + ([f"epochs {cfg.epochs} instead of 1198"] if cfg.epochs != 1198 else [])
              + [f"{seeds} seeds (paper: 5)"],
              "loss_definitions": {"train": "running mean over the epoch's minibatches of the MSE (no L2 term)",
                                   "test": "MSE on the 500 noise-free test points"},
              "runs_dir": str(runs_dir)}
    return context.result(config=config,
                          records=runs.curve_table(curves, ("train_loss", "test_loss", "parameters")), verdicts=V,
                          tables={"runs": rows, "curves": [c for c in curves if c["epoch"] <= 50 or c["epoch"] % 5 == 0
                                                   or c["epoch"] == cfg.epochs]})


def _scale(width_divisor: int, topology, epochs: int, n: int) -> str:
    return (f"E.3 regression net with hidden widths/{width_divisor} ({topology}; the paper: 1000), "
            + ("Table E.1's 1198 epochs" if epochs == 1198 else f"{epochs} epochs (Table E.1: 1198)")
            + f", {n} paired seeds (the paper: 5)")


def e3_verdicts(rows: list[dict], tag: str, scale: str = SCALE) -> list:
    """The three declared rows from the per-run rows (``regression_row``)."""
    by = {(r["seed"], r["run"]): r for r in rows}
    S = sorted({r["seed"] for r in rows})
    n = len(S)
    decisions, diffs, reductions = e3_decisions(rows, scale)
    mean = {(run, k): sum(by[(s, run)][k] for s in S) / n
            for run in ("pruned", "unpruned") for k in ("final_train_loss", "final_test_loss", "best_test_loss")}
    diverged = sorted({r["diverged"] for r in rows if r["diverged"]})
    note_losses = (f"pruned {mean[('pruned', 'final_train_loss')]:.4g} / {mean[('pruned', 'final_test_loss')]:.4g}, "
                   f"unpruned {mean[('unpruned', 'final_train_loss')]:.4g} / "
                   f"{mean[('unpruned', 'final_test_loss')]:.4g} (training / test MSE, means over seeds); best test "
                   f"MSE pruned {mean[('pruned', 'best_test_loss')]:.4g}, unpruned "
                   f"{mean[('unpruned', 'best_test_loss')]:.4g}"
                   + (f"; training diverged: {diverged}" if diverged else "")
                   + "; per seed (training MSE unpruned minus pruned, test MSE unpruned minus pruned, dead hidden "
                     "units pruned / unpruned of " + str(by[(S[0], "pruned")]["hidden_units"]) + "): "
                   + "; ".join(f"seed {s}: {by[(s, 'unpruned')]['final_train_loss'] - by[(s, 'pruned')]['final_train_loss']:.4g}, "
                               f"{by[(s, 'unpruned')]['final_test_loss'] - by[(s, 'pruned')]['final_test_loss']:.4g}, "
                               f"{by[(s, 'pruned')]['final_dead_hidden_units']} / {by[(s, 'unpruned')]['final_dead_hidden_units']}"
                               for s in S))
    def why(key):
        d = decisions[key]
        return (f"{d.reason}" + (f"; about {d.pairs_needed} paired seeds would decide it" if d.pairs_needed else ""))

    return [protocol.verdict(_declaration("train", scale), decisions["train"],
                          setting=tag + "; final training MSE, unpruned minus pruned", N=n, bound=0.0,
                          note=f"paired over seeds (same initial weights and batches); {why('train')}; " + note_losses),
         protocol.verdict(_declaration("reduction", scale), decisions["reduction"],
                          setting=tag + "; parameter reduction of the pruned DNN", N=n,
                          interval=protocol.bootstrap_mean_interval(reductions), bound=PAPER_REDUCTION,
                          note=(f"{by[(S[0], 'pruned')]['initial_parameters']} -> "
                                f"{by[(S[0], 'pruned')]['final_parameters']} parameters (seed {S[0]}); per seed "
                                f"{[round(r, 4) for r in reductions]}; {decisions['reduction'].reason}")),
         protocol.verdict(_declaration("test", scale), decisions["test"],
                          setting=tag + "; final test MSE, unpruned minus pruned", N=n, bound=0.0,
                          note=f"paired over seeds; {why('test')}; " + note_losses)]


def _redecide(path: str, context: ExperimentRun):
    """The stored Result at ``path`` with its verdicts recomputed by the declared rules from its own
    ``runs`` table (no training); records, tables and settings kept, its provenance under
    ``config["redecided_from"]``."""
    stored = load_stored(path, RESULT_NAME)
    cfg = dict(stored["config"])
    rows = stored["tables"]["runs"]
    n = len({r["seed"] for r in rows})
    sc = cfg["scale"]
    scale = _scale(sc["cpu_changes"]["width_divisor"], sc["topology"], sc["epochs"], n)
    tag = f"e3-regression {sc['tag']} {sc['topology']} ({n} seeds)"
    cfg["declared"] = {k: _declaration(k, scale).to_dict() for k in DECLARATIONS}
    cfg["redecided_from"] = redecided_from(path, stored)
    return context.result(config=cfg, records=stored["records"], verdicts=e3_verdicts(rows, tag, scale),
                          tables=stored["tables"])


def e3_decisions(rows: list[dict], scale: str = SCALE):
    """The declared rows of 000:figure:E.3 and E.4 from the per-run rows (``regression_row``):
    ({"train", "test", "reduction"}: Decision, the paired differences per seed, the reductions)."""
    by = {(r["seed"], r["run"]): r for r in rows}
    S = sorted({r["seed"] for r in rows})
    diffs = {key: [by[(s, "unpruned")][col] - by[(s, "pruned")][col] for s in S]
             for key, col in (("train", "final_train_loss"), ("test", "final_test_loss"))}
    decisions = {key: protocol.paired_sign(_declaration(key, scale), diffs[key]) for key in diffs}
    reductions = [by[(s, "pruned")]["parameter_reduction"] for s in S]
    red_mean = sum(reductions) / len(reductions)
    decisions["reduction"] = protocol.approximately(_declaration("reduction", scale), red_mean, PAPER_REDUCTION)
    for key in ("train", "test"):  # one tested row per claim: Holm over one leaves p as it is
        protocol.adjust([decisions[key]], ALPHA)
        decisions[key].pairs_needed = seeds_to_decide(decisions[key], diffs[key], tests=1, alpha=ALPHA)
    return decisions, diffs, reductions


def regression_row(cfg, seed: int, run) -> dict:
    """Final numbers of one regression run (the per-epoch curves stay in the run cache)."""
    ms = run.metrics
    last = ms[-1]
    final_test = last.get("test_loss_after_callbacks", last["test_loss"])
    return {"config": cfg.name, "seed": seed, "run": run.label, "epochs": run.epoch,
            "final_train_loss": last["train_loss"], "final_test_loss": final_test,
            "best_test_loss": min(min(m["test_loss"], m.get("test_loss_after_callbacks", m["test_loss"]))
                                  for m in ms),
            "mean_train_loss_last_5": sum(m["train_loss"] for m in ms[-5:]) / len(ms[-5:]),
            "initial_parameters": run.initial_parameters, "final_parameters": last["parameters"],
            "parameter_reduction": 1 - last["parameters"] / run.initial_parameters,
            "time_s": sum(m["train_time_s"] + m["callback_time_s"] for m in ms),
            # hidden ReLU units zero on every test point (nets.mechanism); the output has no activation
            "final_dead_hidden_units": sum(v for k, v in last.get("dead_units_after_callbacks",
                                                                   last.get("dead_units", {})).items()
                                           if k != f"act{len(cfg.model['topology']) - 1}"),
            "hidden_units": sum(cfg.model["topology"][1:-1]),
            "diverged": getattr(run, "diverged", None)}


if __name__ == "__main__":
    import sys

    from sims.experiment import cli_main
    sys.exit(cli_main(MODULE))
