"""Post-training sparsification sweeps (Figs 3.6/3.9 and 000:text:3.2.6): how much of a net can be
zeroed after training, with and without MP pruning before it.

A sweep (``nets.sparsify``, run by ``nets.train`` when a config asks for it) lists, per threshold
xi, the accuracy and the parameters kept.  ``sweep_summary`` reads one sweep; ``over_95_verdict``
decides 000:text:3.2.6 from the sweeps of MP-pruned and unpruned nets of the same seeds.  Used by
``sims.section_3_2_1`` (fully connected) and ``sims.example_3_4`` (CNN).
"""
from __future__ import annotations

import math

from core.result import Verdict
from sims import statistics as stats


def sweep_summary(sweep: list[dict], drop: float, removed: float, reference: int | None = None) -> dict:
    """From a post-training sparsification sweep (Figs 3.6/3.9): the largest fraction of parameters
    removed with an accuracy drop <= ``drop`` (xi = 0 is the reference), and the accuracy drop at
    the smallest xi that removes >= ``removed`` of them (None when no xi of the grid does).
    Fractions are of ``reference`` parameters (e.g. the unpruned net's, as "fewer parameters" in
    the paper reads), else of the swept net's own."""
    def gone(r):
        return 1 - (r["parameters_kept"] / reference if reference else r["fraction_kept"])
    base = next(r["accuracy"] for r in sweep if r["xi"] == 0)
    within = [gone(r) for r in sweep if base - r["accuracy"] <= drop]
    reach = sorted((r for r in sweep if gone(r) >= removed), key=lambda r: r["xi"])
    return {"accuracy_unsparsified": base, "max_removed_within_drop": max(within) if within else 0.0,
            "drop_at_removed": (base - reach[0]["accuracy"]) if reach else None,
            "xi_at_removed": reach[0]["xi"] if reach else None,
            "max_removed_on_grid": max(gone(r) for r in sweep), "reference_parameters": reference}


def over_95_verdict(sweeps: list[dict], unpruned_parameters: dict, setting: str, drop: float = 0.005):
    """000:text:3.2.6 from post-training sparsification sweeps of MP-pruned and unpruned nets of the
    same seeds: (i) MP pruning + sparsification removes over 95% of the unpruned net's parameters
    within ``drop`` of its unsparsified accuracy, (ii) more than sparsification alone (the unpruned
    net's own sweep) removes within the same drop.  ``unpruned_parameters``: {seed: initial count}.
    Each part holds (fails) when it holds (fails) on every seed; one seed is said in the note."""
    seeds = sorted({x["seed"] for x in sweeps})
    mp, alone = [], []
    for s in seeds:
        for run, out in (("pruned", mp), ("unpruned", alone)):
            rr = [x for x in sweeps if x["seed"] == s and x["run"] == run]
            out.append(sweep_summary(rr, drop, 0.95, unpruned_parameters[s])["max_removed_within_drop"]
                       if rr else math.nan)
    diff = [a - b for a, b in zip(mp, alone)]
    part1 = ("holds" if stats.every_seed(mp, lambda v: v >= 0.95) else
             "fails" if stats.every_seed(mp, lambda v: v < 0.95) else "inconclusive")
    part2 = ("holds" if stats.every_seed(diff, lambda v: v > 0) else
             "fails" if stats.every_seed(diff, lambda v: v <= 0) else "inconclusive")
    m = stats.mean_ci(mp)
    return Verdict(
        claim="000:text:3.2.6", setting=setting, N=len(seeds), verdict=stats.all_parts([part1, part2]),
        measured=m["mean"], interval=[m["lo"], m["hi"]], bound=0.95,
        note=(f"largest fraction of the unpruned net's parameters removed with <= {100 * drop:.1f} points lost to "
              f"post-training sparsification: MP-pruned {[round(x, 4) for x in mp]} (>= 95%: {part1}), "
              f"sparsification alone {[round(x, 4) for x in alone]} (paper 80-90%; MP above it: {part2}) per seed"
              + ("; one seed: a rule on every seed, no interval" if len(seeds) == 1 else "")
              + "; Fashion-MNIST only (MNIST and CIFAR-10 are not available here)"))
