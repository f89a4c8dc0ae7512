"""How much of Example 3.2's pruned-minus-unpruned accuracy gap the dead outputs account for.

Two tables.  ``mechanism_decisions`` (the Result's table ``mechanism``, issue 23 item 3) decides the
mechanism from what was fixed before treatment: the pairs are split by a *pre-treatment stratum*,
"a class never predicted (by the argmax, on the test set) at the epoch before the first pruning
round", when the two nets of a pair are still identical, and the same seeds of the mechanism
controls are compared with MP pruning seed by seed (``core.protocol`` rules, Holm within each
``MECHANISM_FAMILIES`` family; no verdict of a paper claim is made here).  ``mechanism_table``
(the table ``dead_outputs``) is descriptive: counts of dead outputs and never-predicted classes at
the end, and the older post-treatment regressions, kept for reference.

Section 3.2's fully connected nets apply a ReLU after the final layer, so an output unit can die
(emit 0 on every input) and its class is then never predicted (``nets.mechanism`` measures this per
epoch).  ``mechanism_table`` summarises, per config and over the seeds of the paired runs
(``sims.paired_runs``), how often outputs die pruned vs unpruned, what the pruning rounds do to them,
and the gap left once dead outputs (or never-predicted classes) are accounted for: least squares
over seeds gap = a + b * (count unpruned - count pruned), a = the gap at equal counts, b = the
accuracy one dead output (never-predicted class) costs.
"""
from __future__ import annotations

from core import protocol as P
from sims.paired_runs import common_class_gap
from sims.seed_statistics import linear_fit_ci, mean_ci

STRATUM = "never_predicted_before_first_round"
MECHANISM_ALPHA = 0.05
MECHANISM_SCALE = "widths/10, 10,000 of 60,000 training images; 15 seeds, controls 10 (the same seeds)"
# the controls that separate dead outputs from pruning (issue 23 item 3); (d) is the linear output
MECHANISM_CONTROLS = {"hidden-only": "(a) Algorithm 1 on the hidden layers only, output layer untouched",
                      "random-output-projection": "(b) hidden layers by Algorithm 1, output layer replaced by a "
                                                  "random projection to the rank MP chose for it",
                      "random-output-projection-rowspace": "(b') as (b), the projection onto a random subspace "
                                                           "of the output layer's own row space",
                      "revive-dead-outputs": "(c) no MP pruning; dead output rows re-initialised when detected",
                      "revive-never-predicted": "(c') no MP pruning; the output rows of classes the argmax never "
                                                "returns on the training set re-initialised (nearly dead outputs)",
                      "linear-output": "(d) no activation after the final layer"}
MECHANISM_FAMILIES = {
    "headline": P.declare("000:table:3.4", "final test accuracy, pruned minus unpruned, within the pre-treatment "
                          "stratum (a class never predicted at the epoch before the first pruning round, or not)",
                          "paired_sign", alpha=MECHANISM_ALPHA, scale=MECHANISM_SCALE,
                          family="mechanism: headline by pre-treatment stratum"),
    "against_mp": P.declare("000:table:3.4", "per seed: the control's gap (treatment minus its unpruned arm) minus "
                            "MP pruning's gap (ex3.2<t>) on the same seed", "paired_sign", alpha=MECHANISM_ALPHA,
                            scale=MECHANISM_SCALE, family="mechanism: each control against MP pruning"),
    "control_gaps": P.declare("000:table:3.4", "final test accuracy, control treatment minus its unpruned arm, "
                              "all seeds and by pre-treatment stratum", "paired_sign", alpha=MECHANISM_ALPHA,
                              scale=MECHANISM_SCALE, family="mechanism: control gaps by stratum"),
}


def stratum_at(run, first_epoch: int):
    """Classes never predicted by ``run`` at the end of epoch ``first_epoch`` before its callbacks
    (the epoch of the first pruning round: pre-treatment, both nets of a pair are still identical)."""
    m = next((m for m in run.metrics if m["epoch"] == first_epoch), None)
    return None if m is None else m.get("classes_never_predicted")


def _gaps(rows, name) -> dict[int, tuple[float, int | None]]:
    by = {(r["seed"], r["run"]): r for r in rows if r["config"] == name}
    return {s: (by[(s, "pruned")]["final_test_accuracy"] - by[(s, "unpruned")]["final_test_accuracy"],
                by[(s, "unpruned")].get(STRATUM))
            for s in sorted({s for s, _ in by}) if (s, "pruned") in by and (s, "unpruned") in by}


def _row(family: str, question: str, config: str, stratum: str, seeds, d: P.Decision, reading=None) -> dict:
    return {"family": family, "question": question, "config": config, "stratum": stratum, "n": d.n,
            "seeds": " ".join(map(str, seeds)), "mean": d.estimate,
            "lo": (d.interval or [None, None])[0], "hi": (d.interval or [None, None])[1],
            "p": d.p, "p_adjusted": d.p_adjusted, "word": d.word, "reading": reading, "reason": d.reason}


def _direction(d: P.Decision) -> str:
    if d.word == "inconclusive":
        return "no detectable difference"
    return "larger than MP pruning's" if d.side > 0 else "smaller than MP pruning's"


def mechanism_decisions(rows: list[dict], main: str, controls: dict[str, str]) -> list[dict]:
    """The mechanism table: MP pruning's gap within each pre-treatment stratum; each control's gap
    against MP pruning's on the same seeds; each control's own gap, all seeds and by stratum.
    ``controls``: {config name: control key of ``MECHANISM_CONTROLS``}."""
    strata = {"class never predicted before round 1": lambda k: k is not None and k > 0,
              "every class predicted before round 1": lambda k: k == 0}
    g_main = _gaps(rows, main)
    out = []
    dh = MECHANISM_FAMILIES["headline"]
    head = []
    for label, keep in strata.items():
        seeds = [s for s, (_, k) in g_main.items() if keep(k)]
        head.append((label, seeds, P.paired_sign(dh, [g_main[s][0] for s in seeds])))
    head_all = P.paired_sign(dh, [g for g, _ in g_main.values()])
    P.adjust([d for *_, d in head], dh.alpha)
    out.append(_row(dh.family, "MP pruning's gap, all seeds (not adjusted: the sum of the two strata)", main,
                    "all", list(g_main), head_all))
    out += [_row(dh.family, "MP pruning's gap within the stratum", main, label, seeds, d) for label, seeds, d in head]
    da, dc = MECHANISM_FAMILIES["against_mp"], MECHANISM_FAMILIES["control_gaps"]
    against, own = [], []
    for name, key in controls.items():
        g = _gaps(rows, name)
        common = [s for s in g if s in g_main]
        against.append((name, key, common, P.paired_sign(da, [g[s][0] - g_main[s][0] for s in common])))
        for label, keep in {"all": lambda k: True, **strata}.items():
            seeds = [s for s in g if keep(g[s][1])]
            own.append((name, key, label, seeds, P.paired_sign(dc, [g[s][0] for s in seeds])))
    P.adjust([d for *_, d in against], da.alpha)
    P.adjust([d for *_, d in own], dc.alpha)
    out += [_row(da.family, f"control {MECHANISM_CONTROLS.get(key, key)}: its gap minus MP pruning's", name, "all",
                 common, d, _direction(d)) for name, key, common, d in against]
    out += [_row(dc.family, f"control {MECHANISM_CONTROLS.get(key, key)}: its own gap", name, label, seeds, d)
            for name, key, label, seeds, d in own]
    return out


def stratum_agreement(rows: list[dict], main: str, names) -> dict:
    """Per control: on how many shared seeds its pre-treatment stratum equals MP pruning's (the
    controls with a final ReLU start from the same weights and batches, so all of them should)."""
    base = {s: k for s, (_, k) in _gaps(rows, main).items()}
    out = {}
    for name in names:
        g = _gaps(rows, name)
        shared = [s for s in g if s in base]
        out[name] = {"shared_seeds": len(shared), "same_stratum": sum(((g[s][1] or 0) > 0) == ((base[s] or 0) > 0)
                                                                      for s in shared)}
    return out


def mechanism_table(rows: list[dict], events: list[dict]) -> list[dict]:
    """Per config: how often outputs die behind the final activation (pruned vs unpruned), what the
    pruning rounds do to them, and how much of the accuracy gap the dead outputs account for
    (least squares over seeds: gap = a + b * (dead outputs unpruned - dead outputs pruned); a is
    the gap left at equal dead-output counts, b the accuracy one dead output costs)."""
    out = []
    for name in dict.fromkeys(r["config"] for r in rows):
        by = {(r["seed"], r["run"]): r for r in rows if r["config"] == name}
        seeds = sorted({s for s, _ in by})
        ev = [e for e in events if e["config"] == name]
        gap = [by[(s, "pruned")]["final_test_accuracy"] - by[(s, "unpruned")]["final_test_accuracy"] for s in seeds]
        ddead = [by[(s, "unpruned")]["final_dead_outputs"] - by[(s, "pruned")]["final_dead_outputs"] for s in seeds]
        both_live = [g for g, s in zip(gap, seeds) if by[(s, "pruned")]["max_dead_outputs"] == 0
                     and by[(s, "unpruned")]["max_dead_outputs"] == 0]
        fit = linear_fit_ci(ddead, gap)
        dnever = [by[(s, "unpruned")]["final_classes_never_predicted"] - by[(s, "pruned")]["final_classes_never_predicted"]
                  for s in seeds]
        fit_never = linear_fit_ci(dnever, gap)
        pc = [(by[(s, "pruned")]["final_test_accuracy_predicted_classes"],
               by[(s, "unpruned")]["final_test_accuracy_predicted_classes"]) for s in seeds]
        pc_gap = mean_ci([a - b for a, b in pc if a is not None and b is not None])
        cc = [common_class_gap(by[(s, "pruned")], by[(s, "unpruned")]) for s in seeds]
        cc_gap = mean_ci([g for g in cc if g is not None])
        live_gap = mean_ci([by[(s, "pruned")]["final_test_accuracy_live_classes"]
                            - by[(s, "unpruned")]["final_test_accuracy_live_classes"] for s in seeds])
        first_round = [e for e in ev if e["epoch"] == min((x["epoch"] for x in ev), default=None)]
        first_round_never = [e for e in first_round if (e.get("never_predicted_before") or 0) > 0]
        row = {"config": name, "seeds": len(seeds)}
        for run in ("pruned", "unpruned"):
            rr = [by[(s, run)] for s in seeds]
            row.update({
                f"{run}_runs_dead_output_final": sum(r["final_dead_outputs"] > 0 for r in rr),
                f"{run}_runs_dead_output_ever": sum(r["max_dead_outputs"] > 0 for r in rr),
                f"{run}_dead_outputs_final_total": sum(r["final_dead_outputs"] for r in rr),
                f"{run}_dead_hidden_units_final_mean": sum(r["final_dead_hidden_units"] for r in rr) / len(rr),
                f"{run}_runs_class_never_predicted_final": sum(r["final_classes_never_predicted"] > 0 for r in rr),
                f"{run}_runs_class_never_predicted_ever": sum(r["max_classes_never_predicted"] > 0 for r in rr),
            })
        row.update({
            "pairs_dead_before_first_pruning": sum((e["dead_outputs_before"] or 0) > 0 for e in first_round),
            "events": len(ev), "events_with_dead_outputs_before": sum((e["dead_outputs_before"] or 0) > 0 for e in ev),
            "outputs_revived_by_pruning": sum(e["revived"] for e in ev),
            "outputs_killed_by_pruning": sum(e["killed"] for e in ev),
            "gap_mean": mean_ci(gap)["mean"], "gap_lo": mean_ci(gap)["lo"], "gap_hi": mean_ci(gap)["hi"],
            "gap_pairs_never_dead": len(both_live),
            "gap_never_dead_mean": mean_ci(both_live)["mean"], "gap_never_dead_lo": mean_ci(both_live)["lo"],
            "gap_never_dead_hi": mean_ci(both_live)["hi"],
            "gap_at_equal_dead_outputs": fit["intercept"], "gap_at_equal_dead_outputs_lo": fit["intercept_lo"],
            "gap_at_equal_dead_outputs_hi": fit["intercept_hi"], "accuracy_per_dead_output": fit["slope"],
            "accuracy_per_dead_output_lo": fit["slope_lo"], "accuracy_per_dead_output_hi": fit["slope_hi"],
            "live_class_accuracy_gap_mean": live_gap["mean"], "live_class_accuracy_gap_lo": live_gap["lo"],
            "live_class_accuracy_gap_hi": live_gap["hi"],
            "pairs_class_never_predicted_before_first_pruning": len(first_round_never),
            "first_round_never_predicted_fixed": sum((e.get("never_predicted_after") or 0) < e["never_predicted_before"]
                                                     for e in first_round_never),
            "gap_at_equal_never_predicted": fit_never["intercept"],
            "gap_at_equal_never_predicted_lo": fit_never["intercept_lo"],
            "gap_at_equal_never_predicted_hi": fit_never["intercept_hi"],
            "accuracy_per_never_predicted_class": fit_never["slope"],
            "accuracy_per_never_predicted_class_lo": fit_never["slope_lo"],
            "accuracy_per_never_predicted_class_hi": fit_never["slope_hi"],
            "predicted_class_accuracy_gap_mean": pc_gap["mean"], "predicted_class_accuracy_gap_lo": pc_gap["lo"],
            "predicted_class_accuracy_gap_hi": pc_gap["hi"],
            "common_class_gap_mean": cc_gap["mean"], "common_class_gap_lo": cc_gap["lo"],
            "common_class_gap_hi": cc_gap["hi"],
            "weakest_row_removed_first_round_mean": mean_ci([e["weakest_row_removed"] for e in first_round
                                                             if e.get("weakest_row_removed") is not None])["mean"],
            "other_rows_removed_first_round_mean": mean_ci([e["other_rows_removed_mean"] for e in first_round
                                                            if e.get("other_rows_removed_mean") is not None])["mean"],
            "weakest_max_preactivation_before_first_round_mean": mean_ci(
                [e["weakest_max_preactivation_before"] for e in first_round_never])["mean"],
            "weakest_max_preactivation_after_first_round_mean": mean_ci(
                [e["weakest_max_preactivation_after"] for e in first_round_never
                 if e.get("weakest_max_preactivation_after") is not None])["mean"],
            "median_other_max_preactivation_first_round_mean": mean_ci(
                [e["median_other_max_preactivation_before"] for e in first_round_never])["mean"],
            "output_layer_rank_after_first_round": sorted({e.get("output_layer_rank_after") for e in first_round
                                                           if e.get("output_layer_rank_after") is not None}),
        })
        removed_live = [e["output_rows_removed_mean_live"] for e in ev if e["output_rows_removed_mean_live"] is not None]
        removed_dead = [x for e in ev for x in e["output_rows_removed_dead"] if x is not None]
        row["output_row_removed_live_mean"] = sum(removed_live) / len(removed_live) if removed_live else None
        row["output_row_removed_dead_mean"] = sum(removed_dead) / len(removed_dead) if removed_dead else None
        out.append(row)
    return out


def mechanism_summary(table: list[dict]) -> list[str]:
    """One line per row of the mechanism table, in words (the Result's config; numbers in points)."""
    def num(x):
        return "nan" if x is None else f"{100 * x:+.2f}"
    out = []
    for r in table:
        p = "no test" if r["p"] is None else f"p {r['p']:.3g}, Holm {r['p_adjusted']:.3g}"
        out.append(f"{r['question']} [{r['config']}, {r['stratum']}, n = {r['n']}]: {num(r['mean'])} "
                   f"[{num(r['lo'])}, {num(r['hi'])}] points ({p}): {r['reading'] or r['word']}")
    return out
