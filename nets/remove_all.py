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
   ``nets.paper001.example_config``): 45% of the small singular values removed per cycle against
   all of them (``remove_fraction`` 1), with the non-split run as the reference.

Per seed: final and best test accuracy, final training loss and accuracy, parameters.  Verdicts,
both on the paired difference over seeds with its 95% t-interval (``paired_verdict``):

* performance: test accuracy, kept-some minus remove-all; holds when the interval lies above 0,
  fails when below, inconclusive when it holds 0;
* underfitting: final training loss, remove-all minus kept-some; holds when above 0 (removing all
  fits the training set worse), fails when below;
* vacuous, for both, when the two arms never differ (no layer ever passed the MP fit test, so f
  changed nothing).

``python -m nets.remove_all [--seeds 3] [--p001-example 4.6] [--p001-seeds 5] [--json PATH]``.
Runs are cached and resumable in ``runs/section3`` like ``nets.section3``'s: the kept-some arm is
the pruned run of the config's side-by-side pair (shared with ``nets.section3`` /
``nets.paper001``), the remove-all arm a single run of ``<config>-remove-all``.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

from nets.section3 import RUNS_DIR

P001_EXAMPLES = ("4.3", "4.4", "4.5", "4.6", "4.7")


def remove_all_variant(cfg):
    """A copy of ``cfg`` whose pruning keeps none of the small singular values: Algorithm 1 with
    f = 0 at every round, or paper 001's split algorithm removing all of them."""
    from nets.configs import TrainConfig
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


def paired_verdict(diffs, want_positive: bool = True, *, identical: bool = False) -> tuple[str, dict]:
    """The decision rule of both verdicts: the paired differences ``diffs`` (one per seed), their
    mean and 95% t-interval; holds when the interval excludes 0 on the claimed side, fails when it
    excludes 0 on the other, inconclusive when it holds 0 (or has fewer than 2 seeds); vacuous when
    the two arms were ``identical`` (the ablation changed nothing)."""
    from nets.section3 import _sign_verdict, mean_ci
    s = mean_ci(diffs)
    if identical:
        return "vacuous", s
    return _sign_verdict(s["lo"], s["hi"], want_positive), s


def _row(cfg, seed, kept, removed, reference) -> dict:
    from nets.section3 import _identical_until_first_event, run_row
    rk, rr, ru = run_row(cfg, seed, kept), run_row(cfg, seed, removed), run_row(cfg, seed, reference)
    out = {"config": cfg.name, "seed": seed,
           "identical_until_first_round": _identical_until_first_event(kept, removed),
           "arms_identical": arms_identical(kept.metrics, removed.metrics)}
    for arm, r in (("kept", rk), ("removed", rr), ("reference", ru)):
        for key in ("final_test_accuracy", "best_test_accuracy", "final_train_accuracy", "final_train_loss",
                    "final_test_loss", "final_parameters", "epochs", "diverged", "time_s"):
            out[f"{arm}_{key}"] = r[key]
    for arm, run in (("kept", kept), ("removed", removed)):
        out[f"{arm}_first_round_ranks"] = first_round_ranks(run.metrics)
    out["removed_rank_zero_layers"] = sum(r == 0 for r in out["removed_first_round_ranks"])
    out["test_accuracy_kept_minus_removed"] = rk["final_test_accuracy"] - rr["final_test_accuracy"]
    out["train_loss_removed_minus_kept"] = rr["final_train_loss"] - rk["final_train_loss"]
    out["test_accuracy_removed_minus_reference"] = rr["final_test_accuracy"] - ru["final_test_accuracy"]
    return out


def ablation_rows(cfg, seeds, *, runs_dir=RUNS_DIR, device="cpu") -> list[dict]:
    """One row per seed: the kept-some arm (the pair's pruned run), the remove-all arm (a single run
    of the same seed) and the reference (the pair's unpruned run)."""
    from nets.section3 import collect_pairs
    removed_cfg = remove_all_variant(cfg)
    rows = []
    for seed in seeds:
        kept, reference = collect_pairs(cfg, [seed], runs_dir=runs_dir, device=device)[seed]
        removed = single_run(removed_cfg, seed, runs_dir=runs_dir, device=device)
        rows.append(_row(cfg, seed, kept, removed, reference))
    return rows


def single_run(cfg, seed: int, *, runs_dir=RUNS_DIR, device="cpu"):
    """One pruned run of ``cfg`` (cached in ``<runs_dir>/<config>-<scale>/seed<S>/single``, resumed);
    a run whose loss becomes NaN is kept as it was after its last finite epoch and says so in
    ``run.diverged`` (as ``nets.section3.train_pair`` does for pairs)."""
    import json
    from nets.section3 import _data, run_dir
    from nets.train import train_runs
    out = None if runs_dir is None else run_dir(cfg, seed, runs_dir) / "single"
    kw = dict(seed=seed, device=device, out_dir=out, prune=True, resume=out is not None, progress=False,
              data=_data(cfg, seed, None))
    try:
        return train_runs(cfg, **kw)[0]
    except FloatingPointError as exc:
        metrics = None if out is None else out / "metrics.json"
        done = len(json.loads(metrics.read_text())["epochs"]) if metrics is not None and metrics.exists() else 0
        if done == 0:
            raise
        run = train_runs(cfg, **{**kw, "stop_after": done})[0]
        run.diverged = f"stopped after epoch {done}: {exc}"
        return run


def ablation_verdicts(claim: str, setting: str, rows: list[dict], kept_label: str) -> list:
    from core.result import Verdict
    identical = bool(rows) and all(r["arms_identical"] for r in rows)
    n = len(rows)
    acc_v, acc = paired_verdict([r["test_accuracy_kept_minus_removed"] for r in rows], identical=identical)
    loss_v, loss = paired_verdict([r["train_loss_removed_minus_kept"] for r in rows], identical=identical)
    vs_ref = _mean([r["test_accuracy_removed_minus_reference"] for r in rows])
    mean = {k: _mean([r[k] for r in rows]) for k in
            ("kept_final_test_accuracy", "removed_final_test_accuracy", "reference_final_test_accuracy",
             "kept_final_train_loss", "removed_final_train_loss", "kept_final_parameters",
             "removed_final_parameters", "reference_final_parameters", "kept_final_train_accuracy",
             "removed_final_train_accuracy")}
    diverged = [r["seed"] for r in rows if r["kept_diverged"] or r["removed_diverged"]]
    common = (f"{kept_label} {_pct(mean['kept_final_test_accuracy'])}% vs remove-all "
              f"{_pct(mean['removed_final_test_accuracy'])}% test (unpruned "
              f"{_pct(mean['reference_final_test_accuracy'])}%; remove-all minus unpruned {_pct(vs_ref)} points); "
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
    return [
        Verdict(claim=claim, setting=setting + "; performance: final test accuracy, kept-some minus remove-all",
                verdict=acc_v, measured=acc["mean"], interval=[acc["lo"], acc["hi"]], bound=0.0, N=n,
                note="paired over seeds (same initial weights and batches); " + common),
        Verdict(claim=claim, setting=setting + "; underfitting: final training loss, remove-all minus kept-some",
                verdict=loss_v, measured=loss["mean"], interval=[loss["lo"], loss["hi"]], bound=0.0, N=n,
                note=(f"training loss {mean['removed_final_train_loss']:.4f} (remove-all) vs "
                      f"{mean['kept_final_train_loss']:.4f} ({kept_label}); training accuracy "
                      f"{_pct(mean['removed_final_train_accuracy'])}% vs {_pct(mean['kept_final_train_accuracy'])}%"
                      )),
    ]


def _mean(values) -> float:
    v = [x for x in values if x is not None and math.isfinite(x)]
    return sum(v) / len(v) if v else math.nan


def _pct(x) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{100 * x:.2f}"


def remove_all(*, seeds: int = 3, p001_example: str = "4.6", p001_seeds: int = 5, width_divisor: int = 10,
               n_train: int = 10000, epochs: int | None = None, p001_epochs_cap: int = 90,
               runs_dir=RUNS_DIR, device="cpu", argv=None):
    """Both settings of the module docstring; ``seeds`` / ``p001_seeds`` = 0 skips a setting."""
    from core.result import Provenance, Result
    from core.validate import check_choice, check_int
    from nets.paper001 import example_config
    from nets.section3 import cpu_config, scale_description
    check_int("seeds", seeds, 0, 1000)
    check_int("p001_seeds", p001_seeds, 0, 1000)
    if seeds + p001_seeds == 0:
        check_int("seeds", seeds, 1, 1000)  # nothing to run: refused with the range
    check_choice("p001_example", p001_example, P001_EXAMPLES)
    check_int("width_divisor", width_divisor, 1, 1000)
    check_int("n_train", n_train, 100, 60000)
    check_int("p001_epochs_cap", p001_epochs_cap, 3, 10000)
    if epochs is not None:
        check_int("epochs", epochs, 1, 10000)
    prov = Provenance.start(argv=argv, seed=0, device=str(device), module="nets.remove_all")
    rows, verdicts, scale = [], [], {}
    if seeds:
        cfg = cpu_config("ex3.2a", width_divisor=width_divisor, n_train=n_train)
        if epochs is not None:
            cfg.cpu_changes["epochs"] = [cfg.epochs, epochs]
            cfg.epochs = epochs
        r = ablation_rows(cfg, list(range(seeds)), runs_dir=runs_dir, device=device)
        rows += r
        scale["ex3.2a"] = {**scale_description(cfg), "schedule": cfg.pruning["schedule"],
                           "every": cfg.pruning["every"], "tau": cfg.pruning["tau"]}
        verdicts += ablation_verdicts(
            "000:text:3.1.3.1", f"Algorithm 1 on ex3.2a {scale['ex3.2a']['tag']} ({seeds} seeds): schedule (3.6) "
                                f"against f = 0", r, "schedule (3.6)")
    if p001_seeds:
        cfg = example_config(p001_example, epochs_cap=p001_epochs_cap, width_divisor=width_divisor,
                             n_train=n_train)
        r = ablation_rows(cfg, list(range(p001_seeds)), runs_dir=runs_dir, device=device)
        rows += r
        scale[cfg.name] = {**scale_description(cfg), "every": cfg.pruning["every"], "tau": cfg.pruning["tau"],
                           "remove_fraction": cfg.pruning["remove_fraction"]}
        verdicts += ablation_verdicts(
            "001:text:4.4.1", f"paper 001 split algorithm on the Example {p001_example} counterpart "
                              f"{scale[cfg.name]['tag']} ({p001_seeds} seeds): 45% of the small singular values "
                              f"removed per cycle against all", r, "45% removed")
    config = {"seeds": seeds, "p001_example": p001_example, "p001_seeds": p001_seeds, "scale": scale,
              "dataset": "fashion_mnist (paper 001 used MNIST)", "runs_dir": str(runs_dir),
              "reductions": [f"widths / {width_divisor}, {n_train} training images, 10,000 test images",
                             "the claim is stated without a setting: these two are the papers' own algorithms "
                             "on their own Fashion-MNIST (000) / MNIST-counterpart (001) examples"]}
    return Result(experiment="nets.remove_all", config=config, provenance=prov.stop(), records=rows,
                  verdicts=verdicts)


def main(argv=None) -> int:
    from core.cli import make_parser, nonnegative_int, positive_int, run
    p = make_parser("nets.remove_all", __doc__, options=("device", "json", "threads", "verbose"))
    p.add_argument("--seeds", type=nonnegative_int, default=3, help="ex3.2a seeds (default 3; 0 skips)")
    p.add_argument("--p001-example", choices=P001_EXAMPLES, default="4.6",
                   help="paper 001 example counterpart (default 4.6)")
    p.add_argument("--p001-seeds", type=nonnegative_int, default=5, help="its seeds (default 5; 0 skips)")
    p.add_argument("--p001-epochs-cap", type=positive_int, default=90, help="at most this many epochs (default 90)")
    p.add_argument("--width-divisor", type=positive_int, default=10, help="hidden widths / this (default 10)")
    p.add_argument("--n-train", type=positive_int, default=10000, help="training images (default 10000)")
    p.add_argument("--epochs", type=positive_int, default=None, help="ex3.2a epochs (default the paper's 70)")
    p.add_argument("--runs-dir", type=Path, default=RUNS_DIR, help=f"run cache (default {RUNS_DIR})")
    p.set_defaults(_argv=None if argv is None else [str(a) for a in argv])
    return run(p, argv, _main)


def _main(args):
    from nets.section3 import cli_context
    device, argv = cli_context(args)
    return remove_all(seeds=args.seeds, p001_example=args.p001_example, p001_seeds=args.p001_seeds,
                      p001_epochs_cap=args.p001_epochs_cap, width_divisor=args.width_divisor,
                      n_train=args.n_train, epochs=args.epochs, runs_dir=args.runs_dir, device=device, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
