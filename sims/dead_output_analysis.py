"""How much of Example 3.2's pruned-minus-unpruned accuracy gap the dead outputs account for.

Section 3.2's fully connected nets apply a ReLU after the final layer, so an output unit can die
(emit 0 on every input) and its class is then never predicted (``nets.mechanism`` measures this per
epoch).  ``mechanism_table`` summarises, per config and over the seeds of the paired runs
(``sims.paired_runs``), how often outputs die pruned vs unpruned, what the pruning rounds do to them,
and the gap left once dead outputs (or never-predicted classes) are accounted for: least squares
over seeds gap = a + b * (count unpruned - count pruned), a = the gap at equal counts, b = the
accuracy one dead output (never-predicted class) costs.
"""
from __future__ import annotations

from sims.paired_runs import common_class_gap
from sims.statistics import linear_fit_ci, mean_ci


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
