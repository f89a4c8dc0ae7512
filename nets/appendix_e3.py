"""Paper 000 Appendix E.3 (the regression of Fig E.2: [1, 1000, 1000, 1000, 1000, 1], no final
activation, MSE + L2 0.001, Table E.1's 1198 epochs, lr 0.025 decayed by 0.997 per epoch, momentum
0.95, batch 128) at CPU scale: pruned against unpruned on the same seeds (same initial weights, same
batches; ``nets.section3``'s run cache), the counterparts of Figs E.3 (training loss) and E.4 (test
loss) against epoch (``records``: mean and 95% band over seeds; table ``curves``: each seed, every
epoch up to 50 and every 5th after), and the parameters at the end.

E.3 states no pruning settings; ``nets.configs``' ``e3-regression`` takes Section 3.2.1's (split
every 7 epochs, goodness of fit 0.7, schedule (3.6)).  The training loss is the epoch's running mean
of the minibatch MSE (the L2 term excluded), the test loss the MSE on the 500 noise-free test points.

Verdicts (paired over seeds, 95% t-interval, ``paired_verdict`` of ``nets.remove_all``):
000:figure:E.3, unpruned minus pruned final training loss (holds when the interval lies above 0,
"significantly smaller"; fails when below); the same claim's "50% fewer parameters", the mean
reduction within 10 points of 50% (the tolerance ``nets.section3`` uses for Example 3.4's counts);
000:figure:E.4, unpruned minus pruned final test loss.

``python -m nets.appendix_e3 [--seeds 3] [--width-divisor 10] [--epochs N] [--json PATH]``.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

from nets.section3 import RUNS_DIR

PAPER_REDUCTION = 0.5       # "with a 50% reduction in the number of parameters"
REDUCTION_TOLERANCE = 0.10  # as nets.section3's Example 3.4 parameter verdict


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


def reduction_verdict(mean_reduction: float) -> str:
    """'50% fewer parameters': holds within ``REDUCTION_TOLERANCE`` of 50%, fails otherwise."""
    if not math.isfinite(mean_reduction):
        return "inconclusive"
    return "holds" if abs(mean_reduction - PAPER_REDUCTION) <= REDUCTION_TOLERANCE else "fails"


def appendix_e3(*, seeds: int = 3, width_divisor: int = 10, epochs: int | None = None, runs_dir=RUNS_DIR,
                device="cpu", argv=None):
    from core.result import Provenance, Result, Verdict
    from core.validate import check_int
    from nets.remove_all import paired_verdict
    from nets.section3 import collect_pairs, cpu_config, curve_table, mean_ci, scale_description, scale_tag
    check_int("seeds", seeds, 2, 1000)
    check_int("width_divisor", width_divisor, 1, 1000)
    if epochs is not None:
        check_int("epochs", epochs, 1, 100000)
    prov = Provenance.start(argv=argv, seed=0, device=str(device), module="nets.appendix_e3")
    cfg = cpu_config("e3-regression", width_divisor=width_divisor)
    if epochs is not None and epochs != cfg.epochs:
        cfg.cpu_changes["epochs"] = [cfg.epochs, epochs]
        cfg.epochs = epochs
    pairs = collect_pairs(cfg, list(range(seeds)), runs_dir=runs_dir, device=device)
    rows, curves = [], []
    for seed, (p, u) in pairs.items():
        rows += [regression_row(cfg, seed, p), regression_row(cfg, seed, u)]
        for run in (p, u):
            curves += [{"config": cfg.name, "seed": seed, "run": run.label, "epoch": m["epoch"],
                        "train_loss": m["train_loss"],
                        "test_loss": m.get("test_loss_after_callbacks", m["test_loss"]),
                        "parameters": m["parameters"]} for m in run.metrics]
    by = {(r["seed"], r["run"]): r for r in rows}
    S = sorted(pairs)
    n = len(S)
    tag = f"e3-regression {scale_tag(cfg)} {cfg.model['topology']} ({n} seeds)"
    train_v, train = paired_verdict([by[(s, "unpruned")]["final_train_loss"] - by[(s, "pruned")]["final_train_loss"]
                                     for s in S])
    test_v, test = paired_verdict([by[(s, "unpruned")]["final_test_loss"] - by[(s, "pruned")]["final_test_loss"]
                                   for s in S])
    red = mean_ci([by[(s, "pruned")]["parameter_reduction"] for s in S])
    mean = {(run, k): mean_ci([by[(s, run)][k] for s in S])["mean"]
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
    V = [Verdict(claim="000:figure:E.3", setting=tag + "; final training MSE, unpruned minus pruned", N=n,
                 verdict=train_v, measured=train["mean"], interval=[train["lo"], train["hi"]], bound=0.0,
                 note="paired over seeds (same initial weights and batches); " + note_losses),
         Verdict(claim="000:figure:E.3", setting=tag + "; parameter reduction of the pruned DNN", N=n,
                 verdict=reduction_verdict(red["mean"]), measured=red["mean"], interval=[red["lo"], red["hi"]],
                 bound=PAPER_REDUCTION,
                 note=(f"{by[(S[0], 'pruned')]['initial_parameters']} -> {by[(S[0], 'pruned')]['final_parameters']} "
                       f"parameters (seed {S[0]}); 'holds' = within {100 * REDUCTION_TOLERANCE:.0f} points of the "
                       f"paper's 50%")),
         Verdict(claim="000:figure:E.4", setting=tag + "; final test MSE, unpruned minus pruned", N=n,
                 verdict=test_v, measured=test["mean"], interval=[test["lo"], test["hi"]], bound=0.0,
                 note="paired over seeds; " + note_losses)]
    config = {"seeds": seeds, "scale": scale_description(cfg), "pruning": cfg.pruning, "epochs": cfg.epochs,
              "paper_topology": [1, 1000, 1000, 1000, 1000, 1],
              "reductions": [f"hidden widths / {width_divisor}"]
              + ([f"epochs {cfg.epochs} instead of 1198"] if cfg.epochs != 1198 else [])
              + [f"{seeds} seeds (paper: 5)"],
              "loss_definitions": {"train": "running mean over the epoch's minibatches of the MSE (no L2 term)",
                                   "test": "MSE on the 500 noise-free test points"},
              "runs_dir": str(runs_dir)}
    return Result(experiment="nets.appendix_e3", config=config, provenance=prov.stop(),
                  records=curve_table(curves, ("train_loss", "test_loss", "parameters")), verdicts=V,
                  tables={"runs": rows, "curves": [c for c in curves if c["epoch"] <= 50 or c["epoch"] % 5 == 0
                                                   or c["epoch"] == cfg.epochs]})


def main(argv=None) -> int:
    from core.cli import make_parser, positive_int, run
    p = make_parser("nets.appendix_e3", __doc__, options=("device", "json", "threads", "verbose"))
    p.add_argument("--seeds", type=positive_int, default=3, help="seeds, >= 2 (default 3; the paper: 5)")
    p.add_argument("--width-divisor", type=positive_int, default=10, help="hidden widths / this (default 10)")
    p.add_argument("--epochs", type=positive_int, default=None, help="override Table E.1's 1198 (stated)")
    p.add_argument("--runs-dir", type=Path, default=RUNS_DIR, help=f"run cache (default {RUNS_DIR})")
    p.set_defaults(_argv=None if argv is None else [str(a) for a in argv])
    return run(p, argv, _main)


def _main(args):
    from nets.section3 import cli_context
    device, argv = cli_context(args)
    return appendix_e3(seeds=args.seeds, width_divisor=args.width_divisor, epochs=args.epochs,
                       runs_dir=args.runs_dir, device=device, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
