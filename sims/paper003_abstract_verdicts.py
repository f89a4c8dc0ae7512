"""The verdicts of ``sims.paper003_abstract`` (paper 003's abstract at CPU scale) under the one verdict
protocol (``core.protocol``): the claim families declared before the runs (``DECLARATIONS``; alpha
0.05, Holm within each claim, percentile-bootstrap intervals over seeds, a seed the independent unit)
and the rules that turn the experiment's rows into Verdicts.  The rules themselves are stated in the
docstring of ``sims.paper003_abstract``; every function here reads only rows, so a stored Result can
be re-decided (``sims.paper003_abstract.redecide``).
"""
from __future__ import annotations

import math

import numpy as np

from core import protocol
from sims.decided import family_note

ALPHA = 0.05
VIT_SCALE = ("a ~105k-parameter ViT trained from scratch on Fashion-MNIST, plain MP rank truncation without "
             "fine-tuning, 3 seeds (the paper: pre-trained ViT-B/16 on ImageNet, 003's sparsification method)")
TRAINING_SCALE = ("fully connected 784-256-256-10 nets (6 epochs, 30,000 Fashion-MNIST images) and the small ViT, "
                  "3 seeds each")
MEASURES = ("bulk_fraction", "bulk_energy_fraction", "fit_statistic", "spike_norm")  # sigma2: descriptive only
DECLARATIONS = {  # declared before the runs
    "analogue": protocol.declare("003:abstract:1", "largest parameter reduction of plain MP rank truncation whose "
                                 "accuracy drop is below 1 point on every seed (the low-rank analogue)",
                                 "level_at_reduced_scale", alpha=ALPHA, scale=VIT_SCALE, margin=0.30),
    "imagenet": protocol.declare("003:abstract:1", "ViT-B/16 on ImageNet", "withheld", alpha=ALPHA),
    "randomness": protocol.declare("003:abstract:3", "change of a randomness measure (mean over matrices) from "
                                   "initialisation to the last epoch, signed less-random positive, per seed",
                                   "paired_sign", alpha=ALPHA, scale=TRAINING_SCALE),
    "loss": protocol.declare("003:abstract:4", "loss after removing all minus none of the bulk singular values, "
                             "per seed (claimed negative)", "paired_sign", alpha=ALPHA, scale=TRAINING_SCALE),
    "regularisation": protocol.declare("003:abstract:5", "no checkable statement ('insights into the role of "
                                       "regularization')", "withheld", alpha=ALPHA, scale=TRAINING_SCALE),
}


def t_interval(values) -> tuple[float, float, float]:
    """(mean, lo, hi): mean over the finite values and its percentile-bootstrap interval
    (``core.protocol``); (v, nan, nan) for one value."""
    x = [v for v in values if v is not None and math.isfinite(v)]
    lo, hi = protocol.bootstrap_mean_interval(x)
    return (sum(x) / len(x) if x else math.nan), lo, hi


def _holm_words(found: list, claim: str) -> list:
    """Holm over the tested Decisions of one claim, the seeds each inconclusive one needs, then the
    Verdicts; ``found``: (key, Decision, per-seed values or None, kwargs of ``protocol.verdict``)."""
    tests = sum(d.p is not None for _, d, _, _ in found)
    protocol.adjust([d for _, d, _, _ in found], ALPHA)
    out = []
    for key, d, x, kw in found:
        if x is not None:
            kw["note"] = (family_note(d, x, tests=tests, alpha=ALPHA, family=f"tests of {claim}")
                          + f"; per seed {[round(v, 4) for v in x]}; " + kw["note"])
        out.append(protocol.verdict(DECLARATIONS[key], d, **kw))
    return out


# ------------------------------------------------------------------------------------------------
# 003:abstract:1, the ViT comparison
# ------------------------------------------------------------------------------------------------
def _level_summary(rows, method):
    out = []
    for q in sorted({r["level"] for r in rows if r["method"] == method and r.get("matched_to") in (None, "grid")}):
        sel = [r for r in rows if r["method"] == method and r["level"] == q and r.get("matched_to") in (None, "grid")]
        out.append((q, t_interval([r["reduction"] for r in sel]), t_interval([r["accuracy_drop"] for r in sel])))
    return out


def vit_verdicts(rows: list[dict]) -> list:
    """003:abstract:1 at this scale, the low-rank analogue (module docstring): the largest reduction
    whose drop is below 1 point on every seed, against 30%; MP vs magnitude / random in its note;
    ViT-B/16 on ImageNet withheld."""
    seeds = sorted({r["seed"] for r in rows})
    mp_levels = _level_summary(rows, "mp") + [(("rank 0", q), red, drop) for q, red, drop in
                                              _level_summary(rows, "mp_rank0_allowed")]
    per_seed = {}
    for method in ("mp", "mp_rank0_allowed"):
        for r in rows:
            if r["method"] == method and r.get("matched_to") in (None, "grid"):
                per_seed.setdefault((method, r["level"]), []).append(r)
    within = [(k, v) for k, v in per_seed.items() if all(r["accuracy_drop"] < 0.01 for r in v)]
    best = max(within, key=lambda kv: np.mean([r["reduction"] for r in kv[1]])) if within else None
    reductions = [r["reduction"] for r in best[1]] if best else [0.0]
    red_mean, red_lo, red_hi = t_interval(reductions)
    fmt = "; ".join(f"q={q}: reduction {red[0]:.3f}, drop {drop[0] * 100:.2f} pp [{drop[1] * 100:.2f}, {drop[2] * 100:.2f}]"
                    for q, red, drop in mp_levels)
    mag = "; ".join(f"{q:.0%}: drop {drop[0] * 100:.2f} pp [{drop[1] * 100:.2f}, {drop[2] * 100:.2f}]"
                    for q, red, drop in _level_summary(rows, "magnitude"))
    diffs = {}
    for r in rows:
        if r.get("matched_to") == "mp":
            mp = [x for x in rows if x["method"] == "mp" and x["seed"] == r["seed"] and x["level"] == r["level"]][0]
            diffs.setdefault(r["method"], []).append(mp["test_accuracy"] - r["test_accuracy"])
    context = "; ".join(f"MP minus {o} accuracy at MP's parameter count {np.mean(d) * 100:+.2f} points over "
                        f"{len(d)} (seed, level) pairs" for o, d in diffs.items())
    decl = DECLARATIONS["analogue"]
    dec = protocol.level_at_reduced_scale(decl, red_lo if len(reductions) > 1 else red_mean,
                                          red_hi if len(reductions) > 1 else red_mean)
    note = ("NOT a test of 003's method (sparsified singular vectors + magnitude pruning + lasso fine-tuning of a "
            "pre-trained ViT-B/16; its CPU-scale verdicts: sims.paper003_frontier): the low-rank analogue, reported. "
            f"Largest reduction with the drop below 1 point on every seed: {red_mean:.3f}"
            + (f" (q = {best[0][1]}, {best[0][0]})" if best else " (none)")
            + f". MP pruning (portion q of each matrix's bulk removed, stored factorised where r (n + m) < n m) per "
            f"level, mean over seeds {seeds} with bootstrap intervals: {fmt}. Magnitude pruning (global L1) of the "
            f"same matrices at fixed reductions: {mag}. {context} (the abstract claims nothing about this "
            "comparison). A bulk portion q keeps n_above + (1 - q) n_small singular values; a rank-r 64 x 64 block "
            "saves parameters only for r < 32, so small q saves nothing")
    out = [protocol.verdict(decl, dec, setting=f"low-rank analogue: plain MP rank truncation of a from-scratch small "
                                               f"ViT (6 epochs), Fashion-MNIST, no fine-tuning, {len(seeds)} seeds",
                            measured=red_mean, interval=[red_lo, red_hi], bound=0.30, N=len(seeds), note=note)]
    imagenet = DECLARATIONS["imagenet"]
    out.append(protocol.verdict(imagenet, protocol.withheld(imagenet, "ImageNet and ViT-B/16 weights are not "
                                                                      "available on these machines"),
                                setting="ViT-B/16 on ImageNet",
                                note="the small-ViT rows (here and sims.paper003_frontier) are CPU-scale analogues"))
    return out


# ------------------------------------------------------------------------------------------------
# 003:abstract:3 / :5, randomness during training
# ------------------------------------------------------------------------------------------------
# direction in which each measure moves when the matrix becomes *less* random (nets.randomness)
LESS_RANDOM = {"bulk_fraction": -1, "bulk_energy_fraction": -1, "sigma2": -1, "fit_statistic": +1,
               "spike_norm": +1}


def _changes(traj: list[dict], net, l2, measure: str):
    """Per seed, the mean over matrices of measure(last epoch) - measure(first epoch), and the
    epoch-to-epoch steps (count moving down, total)."""
    sel = [r for r in traj if r["net"] == net and r["l2"] == l2]
    keys = sorted({(r["seed"], r["matrix"]) for r in sel}, key=str)
    per_seed, down, steps = {}, 0, 0
    for seed, matrix in keys:
        series = [r[measure] for r in sorted((r for r in sel if r["seed"] == seed and r["matrix"] == matrix),
                                             key=lambda r: r["epoch"])
                  if r.get(measure) is not None and math.isfinite(r[measure])]
        if len(series) < 2:
            continue
        per_seed.setdefault(seed, []).append(series[-1] - series[0])
        down += sum(b < a for a, b in zip(series, series[1:]))
        steps += len(series) - 1
    return {s: float(np.mean(v)) for s, v in sorted(per_seed.items())}, down, steps, len(keys)


def randomness_verdicts(traj: list[dict]) -> list:
    """003:abstract:3: one row per (net, L2, measure of ``MEASURES``), Holm over all of them; sigma^2
    (BEMA) reported in the bulk-fraction row's note, not decided."""
    found = []
    for net, l2 in sorted({(r["net"], r["l2"]) for r in traj}, key=str):
        seeds = sorted({r["seed"] for r in traj if r["net"] == net and r["l2"] == l2})
        s2, s2_down, s2_steps, _ = _changes(traj, net, l2, "sigma2")
        for measure in MEASURES:
            sign = LESS_RANDOM[measure]
            per_seed, down, steps, matrices = _changes(traj, net, l2, measure)
            if not per_seed:
                continue
            toward = [sign * v for v in per_seed.values()]
            good = down if sign < 0 else steps - down
            note = (f"change of {measure} from initialisation to the last epoch (mean over "
                    f"{matrices // max(1, len(seeds))} matrices per seed), {float(np.mean(list(per_seed.values()))):+.4g}; "
                    f"less random means {'lower' if sign < 0 else 'higher'}; epoch steps moving the less-random way "
                    f"{good}/{steps}")
            if measure == "bulk_fraction" and s2:
                note += (f"; BEMA sigma^2 (descriptive, not decided: it follows the weights' scale, not their "
                         f"randomness) changed {float(np.mean(list(s2.values()))):+.4g} per seed "
                         f"{[round(v, 5) for v in s2.values()]}")
            found.append(("randomness", protocol.paired_sign(DECLARATIONS["randomness"], toward), toward,
                          dict(setting=f"{net}, L2 {l2}, {measure}, {len(seeds)} seeds", N=len(seeds),
                               measured=float(np.mean(list(per_seed.values()))), bound=0.0, note=note,
                               extra={"measure": measure, "steps_less_random": good, "steps": steps})))
    return _holm_words(found, "003:abstract:3")


def regularisation_verdict(traj: list[dict]) -> list:
    nets_ = sorted({r["net"] for r in traj})
    out = []
    decl = DECLARATIONS["regularisation"]
    for net in nets_:
        l2s = sorted({r["l2"] for r in traj if r["net"] == net})
        if len(l2s) < 2:
            continue
        last = max(r["epoch"] for r in traj if r["net"] == net)
        diffs = {}
        for seed in sorted({r["seed"] for r in traj if r["net"] == net}):
            vals = {}
            for l2 in l2s:
                sel = [r for r in traj if r["net"] == net and r["seed"] == seed and r["l2"] == l2 and r["epoch"] == last]
                vals[l2] = (float(np.nanmean([r["bulk_fraction"] for r in sel])),
                            float(np.nanmean([r["sigma2"] for r in sel])))
            diffs.setdefault("bulk_fraction", []).append(vals[l2s[-1]][0] - vals[l2s[0]][0])
            diffs.setdefault("sigma2", []).append(vals[l2s[-1]][1] - vals[l2s[0]][1])
        m, lo, hi = t_interval(diffs["bulk_fraction"])
        ms = t_interval(diffs["sigma2"])
        out.append(protocol.verdict(
            decl, protocol.withheld(decl, "the abstract promises 'insights into the role of regularization' without "
                                          "a checkable statement"),
            setting=f"{net}, L2 {l2s[-1]} minus L2 {l2s[0]}", measured=m, interval=[lo, hi],
            note=(f"measured: final bulk fraction with minus without L2 {m:+.4f} (bootstrap {lo:+.4f}, {hi:+.4f}), "
                  f"sigma^2 {ms[0]:+.3g} ({ms[1]:+.3g}, {ms[2]:+.3g}), descriptive")))
    return out


# ------------------------------------------------------------------------------------------------
# 003:abstract:4, loss against randomness removed
# ------------------------------------------------------------------------------------------------
def removal_verdicts(rows: list[dict]) -> list:
    """003:abstract:4: per (net, L2, loss), the loss change from q = 0 to q = 1 per seed, claimed
    negative (``paired_sign``), Holm over all rows; the per-step changes in the note."""
    found = []
    for net, l2 in sorted({(r["net"], r["l2"]) for r in rows}, key=str):
        sel = [r for r in rows if r["net"] == net and r["l2"] == l2]
        seeds = sorted({r["seed"] for r in sel})
        levels = sorted({r["level"] for r in sel})
        for which in ("train", "test"):
            curves = {s: [next(r[f"{which}_loss"] for r in sel if r["seed"] == s and r["level"] == q) for q in levels]
                      for s in seeds}
            steps = [[c[i + 1] - c[i] for c in curves.values()] for i in range(len(levels) - 1)]
            intervals = [t_interval(st) for st in steps]
            monotone = sum(all(b <= a for a, b in zip(c, c[1:])) for c in curves.values())
            total = [c[-1] - c[0] for c in curves.values()]
            found.append(("loss", protocol.paired_sign(DECLARATIONS["loss"], total, want_positive=False), total,
                          dict(setting=f"{net}, L2 {l2}, {which} loss, {len(seeds)} seeds", N=len(seeds),
                               bound=0.0,
                               note=(f"loss change removing 0->100% of the bulk singular values; per step (q {levels}) "
                                     "mean changes "
                                     + ", ".join(f"{iv[0]:+.4f} [{iv[1]:+.4f}, {iv[2]:+.4f}]" for iv in intervals)
                                     + f"; seeds with a monotone non-increasing curve {monotone}/{len(seeds)}"))))
    return _holm_words(found, "003:abstract:4")
