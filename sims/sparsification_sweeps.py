"""Post-training sparsification sweeps (Figs 3.6/3.9 and 000:text:3.2.6): how much of a net can be
zeroed after training, with and without MP pruning before it.

A sweep (``nets.sparsify``, run by ``nets.train`` when a config asks for it) lists, per threshold
xi, the accuracy and the parameters kept.  ``sweep_summary`` reads one sweep; ``over_95_verdict``
decides 000:text:3.2.6 from the sweeps of MP-pruned and unpruned nets of the same seeds.  Used by
``sims.section_3_2_1`` (fully connected) and ``sims.example_3_4`` (CNN).
"""
from __future__ import annotations

import math

import dataclasses

from core import protocol as P
from sims import seed_statistics as seed_stats

# 000:text:3.2.6, declared before the runs: two parts, both must hold: (i) MP pruning + post-training
# sparsification removes at least 95% of the unpruned net's parameters within the accuracy drop;
# (ii) more than sparsification alone (the unpruned net's own sweep) within the same drop.  With
# several seeds each part is a sign-flip test over seeds (removed - 0.95; MP minus alone; Holm over
# the two); one seed (the paper reports one run) is decided by ``bound`` on that run, said in the
# note.  The caller states the scale (``over_95_verdict(scale=)``).
OVER_95 = P.declare("000:text:3.2.6", "largest fraction of the unpruned net's parameters removed within the "
                    "accuracy drop: MP-pruned minus 0.95, and MP-pruned minus sparsification alone, per seed",
                    "all_parts", scale="reduced (stated by the caller)", margin=0.95)
OVER_95_PARTS = P.declare("000:text:3.2.6", OVER_95.endpoint, "paired_sign", scale=OVER_95.scale)


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


def over_95_verdict(sweeps: list[dict], unpruned_parameters: dict, setting: str, drop: float = 0.005, *,
                    scale: str = OVER_95.scale):
    """000:text:3.2.6 from post-training sparsification sweeps of MP-pruned and unpruned nets of the
    same seeds (``OVER_95``).  ``unpruned_parameters``: {seed: initial count}."""
    decl, part = (dataclasses.replace(d, scale=scale) for d in (OVER_95, OVER_95_PARTS))
    seeds = sorted({x["seed"] for x in sweeps})
    mp, alone = [], []
    for s in seeds:
        for run, out in (("pruned", mp), ("unpruned", alone)):
            rr = [x for x in sweeps if x["seed"] == s and x["run"] == run]
            out.append(sweep_summary(rr, drop, 0.95, unpruned_parameters[s])["max_removed_within_drop"]
                       if rr else math.nan)
    diff = [a - b for a, b in zip(mp, alone)]
    m, dm = seed_stats.mean_ci(mp), seed_stats.mean_ci(diff)
    if len(seeds) == 1:
        parts = [P.bound(decl, mp[0], decl.margin, side=">="), P.bound(decl, diff[0], 0.0, side=">=")]
    else:
        parts = P.adjust([P.paired_sign(part, [x - decl.margin for x in mp]), P.paired_sign(part, diff)],
                         part.alpha)
    return P.verdict(
        decl, P.all_parts(decl, parts), setting=setting, N=len(seeds),
        measured=m["mean"], interval=[m["lo"], m["hi"]], bound=0.95,
        note=(f"largest fraction of the unpruned net's parameters removed with <= {100 * drop:.1f} points lost to "
              f"post-training sparsification: MP-pruned {[round(x, 4) for x in mp]} (>= 95%: {parts[0].word}), "
              f"sparsification alone {[round(x, 4) for x in alone]} (paper 80-90%; MP at least as much: "
              f"{parts[1].word}) per seed" + ("; one seed: decided on that run (bound), no interval" if len(seeds) == 1 else
                 f"; sign-flip tests over seeds, Holm p {[round(d.p_adjusted, 4) for d in parts]}")
              + "; Fashion-MNIST only (MNIST and CIFAR-10 are not available here)"))
