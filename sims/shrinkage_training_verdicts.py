"""The summary and verdicts of ``sims.shrinkage_training``: per rule, means over seeds and the
differences against the papers' MP rule paired by seed; the declared verdicts on Algorithm 1
(paper 000 Sec. 3.1, steps 9 and 22) and Lemma 4.1 through ``core.protocol``.  ``cfg`` is the
experiment's ``TrainingConfig`` (its ``accuracy_margin``, ``params_margin`` and ``probe``).
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from core import protocol as P
from core.result import Verdict
from sims.decided import seeds_to_decide


def mean_interval(values):
    """(mean, its 95% t interval as a list) of ``values``."""
    from sims.stats import mean_ci
    e = mean_ci(values)
    return e.mean, e.as_list()


def summarise(runs: list[dict], rules: tuple) -> list[dict]:
    """Per rule: means with 95% t intervals over seeds, and differences against "mp" paired by seed."""
    base = {r["seed"]: r for r in runs if r["rule"] == "mp"}
    out = []
    for rule in rules:
        sel = sorted((r for r in runs if r["rule"] == rule), key=lambda r: r["seed"])
        row = {"rule": rule, "n_seeds": len(sel)}
        metrics = ("final_test_accuracy", "test_accuracy_before_last_round", "mean_test_accuracy_last_5",
                   "final_parameters")
        for m in metrics:
            row[m], row[f"{m}_ci"] = mean_interval([r[m] for r in sel])
        for m in metrics:
            row[f"{m}_minus_mp"], row[f"{m}_minus_mp_ci"] = mean_interval([r[m] - base[r["seed"]][m] for r in sel])
        row["mean_ranks"] = {k: float(np.mean([r["ranks"][k] for r in sel])) for k in sel[0]["ranks"]}
        row["parameter_reduction"] = 1 - row["final_parameters"] / float(sel[0]["initial_parameters"])
        row["dX_change_mean_over_rounds"] = float(np.mean([r["dX_change_mean_over_rounds"] for r in sel]))
        row["lemma41_holds_fraction_min"] = min(r["lemma41_holds_fraction_min"] for r in sel)
        out.append(row)
    return out


DECLARATIONS = {
    # Algorithm 1 (paper 000 Sec. 3.1, steps 9 and 22) with the MP rule leaves nothing on the table
    # against another shrinkage rule: per rule, paired by seed, the accuracy difference (rule - mp)
    # and the parameter difference, each by an exact sign-flip test, Holm over every test of the
    # family (2 per rule).  fails: a rule significantly more accurate at no more than params_margin
    # more parameters, or significantly smaller at accuracy within accuracy_margin (bootstrap
    # interval); holds: a rule significantly worse in one and not better in the other, or
    # equivalent in both (TOST within the margins); else inconclusive.
    "algorithm_1": P.declare("000:algorithm:1", "paired final test accuracy difference (rule - mp) and "
                             "paired final parameter difference, per rule, sign-flip tests, Holm over "
                             "the family", "paired_sign",
                             scale="nets.configs ex3.2a at scale cpu (widths/10, 10,000 images), seeds in the setting",
                             family="000:algorithm:1 MP rule vs shrinkage rules"),
    # Lemma 4.1 ((4.4), summed over the layers a round changed) at every pruning round: deterministic.
    "lemma_4_1": P.declare("000:lemma:4.1", "worst fraction of probe inputs with |change of dX| <= the "
                           "summed Lemma 4.1 bound, over rounds, rules and seeds, against 1", "bound",
                           scale="the trained ex3.2a networks at scale cpu (a deterministic inequality: "
                                 "any instance can refute it)", family="000:lemma:4.1 Algorithm 1 rounds"),
}


def rule_decision(acc: "P.Decision", par: "P.Decision", eq: "P.Decision", cfg,
                   p_margin: float) -> "P.Decision":
    """The composite of ``DECLARATIONS['algorithm_1']`` from the two Holm-adjusted tests (``acc``:
    accuracy, claimed side 'rule worse'; ``par``: parameters, claimed side 'rule larger') and the
    equivalence decision ``eq``; each branch returns the decision that carries it."""
    la, ha = acc.interval or [math.nan, math.nan]
    lp, hp = par.interval or [math.nan, math.nan]
    acc_better, acc_worse = acc.word == "fails", acc.word == "holds"
    par_better, par_worse = par.word == "fails", par.word == "holds"
    if acc_better and not hp > p_margin:
        return acc
    if par_better and la > -cfg.accuracy_margin:
        return par
    if acc_worse and (not par_better or ha < -cfg.accuracy_margin):
        return acc
    if par_worse and not acc_better:
        return par
    if eq.word == "holds":
        return eq
    # not equivalence's "fails" (outside a margin is no counterexample): undecided, with the reason
    return P.condition(DECLARATIONS["algorithm_1"], True, f"accuracy test: {acc.reason}; parameter test: {par.reason}; "
                                              f"equivalence: {eq.reason}")


def verdicts(runs: list[dict], rounds: list[dict], cfg, setting: str,
             summary: list[dict] | None = None) -> list[Verdict]:
    """``000:algorithm:1`` per rule against "mp" (paired by seed, ``DECLARATIONS``) and
    ``000:lemma:4.1`` over every round; ``runs`` are the per-(seed, rule) rows."""
    out = []
    decl = DECLARATIONS["algorithm_1"]
    base = {r["seed"]: r for r in runs if r["rule"] == "mp"}
    mp_params = float(np.mean([r["final_parameters"] for r in base.values()])) if base else math.nan
    mp_acc = float(np.mean([r["final_test_accuracy"] for r in base.values()])) if base else math.nan
    p_margin = cfg.params_margin * mp_params
    rules = [r for r in dict.fromkeys(x["rule"] for x in runs) if r != "mp"]
    tests, diffs = [], {}
    for rule in rules:
        sel = sorted((r for r in runs if r["rule"] == rule and r["seed"] in base), key=lambda r: r["seed"])
        da = [r["final_test_accuracy"] - base[r["seed"]]["final_test_accuracy"] for r in sel]
        dp = [r["final_parameters"] - base[r["seed"]]["final_parameters"] for r in sel]
        diffs[rule] = (sel, da, dp)
        tests += [P.paired_sign(decl, da, want_positive=False), P.paired_sign(decl, dp, want_positive=True)]
    P.adjust(tests, decl.alpha)
    for k, rule in enumerate(rules):
        sel, da, dp = diffs[rule]
        acc, par = tests[2 * k], tests[2 * k + 1]
        eq = P.all_parts(decl, [P.paired_equivalence(replace(decl, margin=cfg.accuracy_margin), da),
                                P.paired_equivalence(replace(decl, margin=p_margin), dp)])
        decision = rule_decision(acc, par, eq, cfg, p_margin)
        # the exact floor after Holm over every test of the family, not the normal approximation alone
        acc.pairs_needed = seeds_to_decide(acc, da, tests=len(tests), alpha=decl.alpha)
        decision.extra.update(p_accuracy=acc.p, p_accuracy_holm=acc.p_adjusted, p_parameters=par.p,
                              p_parameters_holm=par.p_adjusted, seeds_needed_accuracy=acc.pairs_needed)
        la, ha = acc.interval or [math.nan, math.nan]
        lp, hp = par.interval or [math.nan, math.nan]
        what = (f"{rule} keeps {np.mean([r['final_parameters'] for r in sel]):.0f} parameters (mp {mp_params:.0f}; "
                f"difference {np.mean(dp):+.0f} [{lp:+.0f}, {hp:+.0f}]) at test accuracy "
                f"{np.mean([r['final_test_accuracy'] for r in sel]):.4f} (mp {mp_acc:.4f}; difference "
                f"{np.mean(da):+.4f} [{la:+.4f}, {ha:+.4f}])")
        out.append(P.verdict(
            decl, decision, setting=f"{setting}: Algorithm 1 with rule={rule} against the papers' MP rule, "
            f"{len(sel)} seeds paired (same weights and batches)",
            measured=float(np.mean(da)), interval=[la, ha], bound=0.0,
            note=(f"final test accuracy(rule) - accuracy(mp), paired; bootstrap 95% intervals; sign-flip p "
                  f"accuracy {acc.p:.3g} (Holm {acc.p_adjusted:.3g}), parameters {par.p:.3g} (Holm "
                  f"{par.p_adjusted:.3g}); " + what + f". Margins: {cfg.accuracy_margin} accuracy, "
                  f"{cfg.params_margin:.0%} parameters" + (f"; seeds that could decide the accuracy test (Holm over "
                                                            f"{len(tests)} tests): {acc.pairs_needed}" if acc.pairs_needed else "")),
            corrected=(f"Algorithm 1 with the {rule} rule in step 9: {what}" if decision.word == "fails" else ""),
            extra={"parameters_minus_mp": float(np.mean(dp)), "parameters_minus_mp_ci": [lp, hp]}))
    if rounds:
        worst = min(r["lemma41_holds_fraction"] for r in rounds)
        d41 = DECLARATIONS["lemma_4_1"]
        out.append(P.verdict(
            d41, P.bound(d41, worst, 1.0, side=">="),
            setting=f"{setting}: every pruning round of Algorithm 1, every rule and seed, first "
            f"{cfg.probe} test images", measured=worst, bound=1.0,
            note=("fraction of inputs with |change of dX over the round| <= the Lemma 4.1 bound summed over "
                  f"the layers the round changed, worst of {len(rounds)} rounds; mean change / bound "
                  f"{np.mean([r['lemma41_tightness_mean'] for r in rounds]):.3g}")))
    return out
