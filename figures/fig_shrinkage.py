"""Figures of issue 12: shrinkage rules against truncation at the MP edge.

* ``shrinkage.denoising``: ||W_eta - S|| against spike strength per rule and aspect ratio (derived
  limits of ``theory.shrinkage_symbolic``, one spike), with the Monte Carlo means of
  ``results/shrinkage.json`` (three spikes) beside their limits.
* ``shrinkage.accuracy``: test accuracy of the Fashion-MNIST Example D.3 net against the weights
  kept in its first layer: truncation at every rank (the frontier) and each rule, from
  ``results/shrinkage_pruning.json``; plus the spiked-target sup errors per rule.
* ``shrinkage.training``: Algorithm 1 during training with each rule (CPU-scale Example 3.2a):
  final test accuracy against parameters at the end, per seed and mean with 95% CIs, and the
  accuracy differences against the MP rule paired by seed, from ``results/shrinkage_training.json``.

Figures only read committed Results (``figures._results.load_result``); a missing one is named
with the command that makes it.
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from figures._output import figure_stem
from figures._results import load_result, results_dir  # noqa: E402
from theory import shrinkage_symbolic as ss  # noqa: E402

LEMMA_CMD = "python -m sims.shrinkage --json results/shrinkage.json --cache runs/shrinkage_cache"
PRUNING_CMD = "python -m sims.shrinkage_pruning --json results/shrinkage_pruning.json"
TRAINING_CMD = ("python -m sims.shrinkage_training --json results/shrinkage_training.json "
                "--cache runs/shrinkage_training")
RULE_STYLE = {"truncate": ("k", "-"), "gd_threshold": ("tab:gray", "--"), "frobenius": ("tab:blue", "-"),
              "operator": ("tab:red", "-"), "nuclear": ("tab:green", "-."), "debias": ("tab:orange", ":"),
              "optshrink": ("tab:purple", "--"), "mp": ("k", "-")}


def _save(fig, outdir: Path, stem: str, data) -> list[Path]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    png = outdir / f"{stem}.png"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    plt.close(fig)
    js = outdir / f"{stem}.json"
    js.write_text(json.dumps(data, indent=1))
    return [png, js]


def fig_denoising(outdir: Path, args) -> list[Path]:
    """||W_eta - S||_2 and _F against spike strength per rule and ratio; Monte Carlo at the largest N."""
    res = load_result("shrinkage", LEMMA_CMD, results_dir(args))
    ratios = sorted({r["ratio"] for r in res.records})
    top = max(r["size"] for r in res.records)
    fig, axes = plt.subplots(2, len(ratios), figsize=(3.8 * len(ratios), 7), squeeze=False)
    data = {"curves": [], "monte_carlo": []}
    mult = np.linspace(1.01, 6, 300)
    for j, c in enumerate(ratios):
        th = c**0.25 * mult
        for i, norm in enumerate(ss.NORMS):
            ax = axes[i, j]
            for rule in ss.LIMIT_RULES:
                if rule == "optshrink":
                    continue      # same limit as the Frobenius shrinker
                top_, f2, _ = ss.per_spike_limits(th, c, rule)
                val = top_ if norm == "operator" else np.sqrt(f2)
                col, ls = RULE_STYLE[rule]
                ax.plot(mult, val, color=col, ls=ls, label=rule)
                data["curves"].append({"ratio": c, "norm": norm, "rule": rule,
                                       "multiple": mult.tolist(), "limit": val.tolist()})
            ax.set_title(f"c = M/N = {c:g}, {'operator' if norm == 'operator' else 'Frobenius'} norm")
            ax.set_xlabel("spike strength theta / c^(1/4)")
            ax.set_ylabel("lim ||W_eta - S|| (one spike)")
            ax.grid(alpha=0.3)
            # Monte Carlo (three spikes) as an inset-like scatter: measured vs limit
            mc = [r for r in res.records if r["ratio"] == c and r["norm"] == norm and r["size"] == top]
            for r in mc:
                col, _ = RULE_STYLE[r["rule"]]
                data["monte_carlo"].append({k: r[k] for k in ("ratio", "norm", "rule", "N", "M", "mean",
                                                              "ci", "limit", "spikes")})
            if mc:
                txt = "\n".join(f"{r['rule']}: {r['mean']:.3f} [{r['ci'][0]:.3f},{r['ci'][1]:.3f}] "
                                f"vs {r['limit']:.3f}" for r in mc)
                ax.text(0.98, 0.98, f"MC N={mc[0]['N']},M={mc[0]['M']}, spikes {np.round(mc[0]['spikes'], 2).tolist()}"
                        f"\n{txt}", transform=ax.transAxes, fontsize=8, va="top", ha="right",
                        bbox=dict(facecolor="white", alpha=0.8, lw=0))
    axes[0, 0].legend(fontsize=8, loc="lower left")
    fig.suptitle("Approximation Lemma per rule: derived a.s. limits (lines), Monte Carlo (boxes)")
    fig.tight_layout()
    return _save(fig, outdir, figure_stem("shrinkage.denoising"), data)


def fig_accuracy(outdir: Path, args) -> list[Path]:
    """Fashion-MNIST D.3 net: accuracy vs weights kept per rule (truncation frontier); spiked targets."""
    res = load_result("shrinkage_pruning", PRUNING_CMD, results_dir(args))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    data = {}
    sweep = res.tables.get("fashion_sweep", [])
    ax = axes[0]
    if sweep:
        w = np.array([r["weights_kept_mean"] for r in sweep])
        acc = np.array([r["accuracy"] for r in sweep])
        lo = np.array([r["accuracy_ci"][0] for r in sweep])
        hi = np.array([r["accuracy_ci"][1] for r in sweep])
        ax.plot(w, acc, "k.-", lw=0.8, label="truncation at rank k (Eckart-Young)")
        ax.fill_between(w, lo, hi, color="k", alpha=0.1)
        data["sweep"] = sweep
    pts = [r for r in res.records if r["part"] == "fashion" and not r["variant"].startswith("truncate@")]
    for r in pts:
        col, _ = RULE_STYLE[r["variant"]]
        ax.errorbar([max(r["weights_kept_mean"], 1)], [r["accuracy"]],
                    yerr=[[r["accuracy"] - r["accuracy_ci"][0]], [r["accuracy_ci"][1] - r["accuracy"]]],
                    fmt="o", color=col, label=r["variant"], capsize=3)
    data["fashion"] = pts
    if pts:
        # the rules sit within a factor 2 of the MP budget: zoom in there
        w_mp = next((r["weights_kept_mean"] for r in pts if r["variant"] == "truncate"), None)
        if w_mp:
            ins = ax.inset_axes([0.45, 0.12, 0.5, 0.45])
            if sweep:
                ins.plot(w, acc, "k.-", lw=0.8)
                ins.fill_between(w, lo, hi, color="k", alpha=0.1)
            for r in pts:
                col, _ = RULE_STYLE[r["variant"]]
                ins.errorbar([r["weights_kept_mean"]], [r["accuracy"]],
                             yerr=[[r["accuracy"] - r["accuracy_ci"][0]], [r["accuracy_ci"][1] - r["accuracy"]]],
                             fmt="o", color=col, capsize=2, ms=4)
            ins.set_xlim(0.5 * w_mp, 2.0 * w_mp)
            near = [r["accuracy_ci"][0] for r in pts] + [r["accuracy_ci"][1] for r in pts]
            ins.set_ylim(min(near) - 0.01, max(near) + 0.02)
            ins.tick_params(labelsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("weights kept in fc1 (rank x (out + in))")
    ax.set_ylabel("test accuracy (95% CI over seeds)")
    ax.set_title("Fashion-MNIST, Example D.3 net, fc1 pruned")
    if pts or sweep:
        ax.legend(fontsize=8, loc="upper left")
    else:
        ax.text(0.5, 0.5, "no Fashion-MNIST part in this Result", ha="center", transform=ax.transAxes)
    ax = axes[1]
    sp = [r for r in res.records if r["part"] == "spiked"]
    data["spiked"] = sp
    for k, d in enumerate(sorted({r["d"] for r in sp})):
        sel = [r for r in sp if r["d"] == d]
        names = [r["variant"] for r in sel]
        for m, (metric, mk) in enumerate((("sup_error", "o"), ("sup_error_signal", "s"))):
            y = [r[metric] for r in sel]
            err = [[r[metric] - r[f"{metric}_ci"][0] for r in sel], [r[f"{metric}_ci"][1] - r[metric] for r in sel]]
            ax.errorbar(np.arange(len(sel)) + 0.15 * (2 * k + m), y, yerr=err, fmt=mk, capsize=2,
                        label=f"d={d}, vs {'F' if m == 0 else 'signal net F_S'}")
        ax.set_xticks(np.arange(len(sel)), names, rotation=70, fontsize=8)
    ax.set_ylabel("sup_{||x||<=1} ||f(x) - target(x)|| (lower estimate)")
    ax.set_title("paper 004 spiked targets, both hidden layers pruned")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, outdir, figure_stem("shrinkage.accuracy"), data)


def fig_training(outdir: Path, args) -> list[Path]:
    """Algorithm 1 per rule (CPU-scale Example 3.2a): final accuracy against parameters; paired differences."""
    res = load_result("shrinkage_training", TRAINING_CMD, results_dir(args))
    runs, summary = res.tables.get("runs", []), res.records
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    for r in summary:
        col, _ = RULE_STYLE.get(r["rule"], ("tab:brown", "-"))
        mine = [x for x in runs if x["rule"] == r["rule"]]
        ax.plot([x["final_parameters"] for x in mine], [x["final_test_accuracy"] for x in mine], ".",
                color=col, alpha=0.35, ms=5)
        ax.errorbar([r["final_parameters"]], [r["final_test_accuracy"]],
                    xerr=[[r["final_parameters"] - r["final_parameters_ci"][0]],
                          [r["final_parameters_ci"][1] - r["final_parameters"]]],
                    yerr=[[r["final_test_accuracy"] - r["final_test_accuracy_ci"][0]],
                          [r["final_test_accuracy_ci"][1] - r["final_test_accuracy"]]],
                    fmt="o", color=col, capsize=3, label=f"{r['rule']} ({r['n_seeds']} seeds)")
    ax.set_xlabel("parameters at the end of training")
    ax.set_ylabel("final test accuracy (dots: seeds; bars: 95% CI)")
    tc = res.config.get("train_config", {})
    ax.set_title(f"Algorithm 1 per rule: {res.config.get('config')} at scale {res.config.get('scale')}, "
                 f"{tc.get('epochs')} epochs", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[1]
    others = [r for r in summary if r["rule"] != "mp"]
    for i, r in enumerate(others):
        col, _ = RULE_STYLE.get(r["rule"], ("tab:brown", "-"))
        for j, (m, mk, text) in enumerate((("final_test_accuracy", "o", "final (after the last round)"),
                                            ("mean_test_accuracy_last_5", "s", "mean of the last 5 epochs"))):
            if f"{m}_minus_mp" not in r:
                continue
            d, (lo, hi) = r[f"{m}_minus_mp"], r[f"{m}_minus_mp_ci"]
            ax.errorbar([i + 0.2 * j], [d], yerr=[[d - lo], [hi - d]], fmt=mk, color=col, capsize=3,
                        label=text if i == 0 else None)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(others)), [r["rule"] for r in others])
    ax.set_ylabel("test accuracy minus the MP rule's (paired by seed, 95% CI)")
    ax.set_title("difference against Algorithm 1 with the MP rule", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, outdir, figure_stem("shrinkage.training"), {"summary": summary, "runs": runs})


FIGURES = {"shrinkage.denoising": fig_denoising, "shrinkage.accuracy": fig_accuracy,
           "shrinkage.training": fig_training}
