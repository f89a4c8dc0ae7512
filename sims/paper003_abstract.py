"""Paper 003 (Shmalo et al., arXiv:2503.01922; abstract only) at CPU scale.

Claims checked (registry ids of ``core/claims.json``; ``003:abstract:2``, "state of the art", needs
ImageNet and the competing methods and is not checked):

* ``003:abstract:1``: "RMT-based pruning can be used to reduce the number of parameters of ViT
  models (trained on ImageNet) by 30-50% with less than 1% loss in accuracy". Checked on a small
  ViT (``nets.vit``) trained on Fashion-MNIST, several seeds: post-training MP pruning (``nets.prune``,
  Algorithm 3 with a portion q of the bulk removed, factorised where that saves parameters) of the
  transformer blocks' matrices (Q, K, V fitted separately, out_proj, MLP), against magnitude pruning
  (``torch.nn.utils.prune.global_unstructured`` with L1) and random pruning at the same parameter
  budget. ImageNet / ViT-B/16 itself is not available here: that setting gets "inconclusive".
* ``003:abstract:3``: "the randomness in the weight matrices of a DNN decreases as the weights
  approach a local or global minimum (during training)", "verified ... on fully connected DNNs".
  Randomness measures of ``nets.randomness`` per matrix per epoch, for the ViT and for fully
  connected nets (with and without L2 regularisation), over seeds.
* ``003:abstract:4``: "DNN loss decreases as we remove randomness in the weight layers, ... a
  monotone dependence of the decrease in loss with the amount of randomness that we remove".
  Remove q = 0, 25, 50, 75, 100% of the singular values below the MP edge (smallest first) in
  every matrix at once and measure the training and test loss.
* ``003:abstract:5``: "insights into the role of regularization": reported as the difference the
  L2 penalty makes to the 003:abstract:3 measures (a description, verdict "inconclusive" unless the
  direction is clear over seeds).

Accuracy loss "< 1%" is read as < 1 percentage point of top-1 accuracy (the relative reading is
reported beside it).

Verdicts through ``core.protocol`` (``DECLARATIONS``, declared before the runs; alpha 0.05, Holm within
each claim; intervals: percentile bootstrap over seeds; a seed is the independent unit):

* 003:abstract:1: the from-scratch ~105k-parameter ViT with plain MP rank truncation is NOT 003's
  method (which sparsifies the weights and singular vectors of a pre-trained ViT-B/16 and fine-tunes:
  ``sims.paper003_frontier``).  It is reported as the low-rank analogue: the largest reduction whose
  accuracy drop stays below 1 point on every seed, against 30% (``level_at_reduced_scale``: reaching
  it supports the claim's numbers, missing it says nothing about 003's method); MP against magnitude
  and random pruning at the same budget goes into that row's note (the abstract claims nothing about
  it); ViT-B/16 on ImageNet is ``withheld`` (not available here);
* 003:abstract:3: per (net, L2) and measure, the change of the seed's mean over matrices from
  initialisation to the last epoch, signed so that "less random" is positive, ``paired_sign``;
  measures bulk fraction, bulk energy fraction, fit statistic, spike norm.  BEMA's sigma^2 is
  reported, not decided: it follows the weights' scale, not their randomness;
* 003:abstract:4: per (net, L2) and loss, the change from removing none to removing all of the bulk
  (q = 0 -> 1), claimed negative, ``paired_sign``; the per-step changes are in the note;
* 003:abstract:5: no checkable statement: ``withheld``, the measured L2 differences in the note.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core import protocol
from core.result import Result
from core.validate import InvalidArgument
from nets.vit import evaluate as loss_and_accuracy
from sims.budget_pruning import count_trainable, mp_prune_level, prunable_tensors, unstructured_prune
from sims.decided import load_stored, redecided_from, seeds_to_decide
from sims.experiment import ExperimentRun, option

MODULE = "sims.paper003_abstract"
CPU_ONLY = True         # its command line computes on the CPU whatever the machine has
PROVENANCE_SEED = None  # seeds are per net, in the config
RESULT_NAME = "nets.paper003"  # the name its committed Result carries (see sims.registry)
LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
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
            d.pairs_needed = seeds_to_decide(d, x, tests=tests, alpha=ALPHA)
            kw["note"] = (f"{d.reason}; Holm over the {tests} tests of {claim}: p = {d.p_adjusted:.3g}"
                          + (f"; about {d.pairs_needed} seeds would decide it" if d.pairs_needed else "")
                          + f"; per seed {[round(v, 4) for v in x]}; " + kw["note"])
        out.append(protocol.verdict(DECLARATIONS[key], d, **kw))
    return out


@dataclass(frozen=True)
class Config:
    vit_dirs: tuple[str, ...] = option((), "nets.vit run directories (one per seed)", optional=True)
    levels: tuple[float, ...] = option(LEVELS, "portions of the bulk removed (003:abstract:4)", lo=0.0, hi=1.0)
    n_eval_train: int = option(5000, "training-loss subset (003:abstract:4)", lo=1, hi=60000)
    mlp_seeds: tuple[int, ...] = option((0, 1, 2), "seeds of the fully connected nets", lo=0, hi=None)
    mlp_topology: tuple[int, ...] = option((784, 256, 256, 10), "widths of the fully connected nets",
                                           lo=1, hi=100000)
    mlp_epochs: int = option(6, "epochs of the fully connected nets", lo=1, hi=1000)
    mlp_n_train: int = option(30000, "training images of the fully connected nets", lo=10, hi=60000)
    mlp_l2: tuple[float, ...] = option((0.0, 5e-4), "weight decay off / on (003:abstract:5)", lo=0.0, hi=1.0)
    parts: tuple[str, ...] = option(("vit", "theorems"), "what to run", choices=("vit", "theorems"))
    redecide_from: str | None = option(None, "re-decide the verdicts from this stored Result's records and tables "
                                             "(no checkpoints, no training)", optional=True)


def toy_config(tmp_path=None) -> Config:
    """The fully connected part at toy size: two seeds with and without L2, one epoch, 200 images."""
    return Config(parts=("theorems",), mlp_seeds=(0, 1), mlp_topology=(784, 32, 32, 10), mlp_epochs=1,
                  mlp_n_train=200, n_eval_train=100)


# ------------------------------------------------------------------------------------------------
# 003:abstract:1, the ViT comparison
# ------------------------------------------------------------------------------------------------
def vit_comparison(cfg: Config, data) -> tuple[list[dict], list[dict]]:
    """Rows per (seed, method, level): parameters kept, test accuracy and loss, train loss."""
    from nets.vit import block_weight_layers, load_trained
    (train_x, train_y), (test_x, test_y) = data
    gen = torch.Generator().manual_seed(0)
    sub = torch.randperm(len(train_y), generator=gen)[:cfg.n_eval_train]
    tx, ty = train_x[sub], train_y[sub]
    rows, layer_rows = [], []
    for run_dir in cfg.vit_dirs:
        model, state = load_trained(run_dir)
        seed = int(state["meta"]["seed"])
        layers = block_weight_layers(model)
        total = count_trainable(model)
        prunable = sum(getattr(m, t).numel() for m, t in prunable_tensors(model, layers))
        base_loss, base_acc = loss_and_accuracy(model, test_x, test_y)
        base_train = loss_and_accuracy(model, tx, ty)[0]

        def row(method, level, kept, m, **extra):
            test_loss, acc = loss_and_accuracy(m, test_x, test_y)
            return dict(seed=seed, method=method, level=level, parameters=total, parameters_kept=kept,
                        reduction=1 - kept / total, prunable_removed=(total - kept) / prunable,
                        test_accuracy=acc, accuracy_drop=base_acc - acc, test_loss=test_loss,
                        train_loss=loss_and_accuracy(m, tx, ty)[0], base_accuracy=base_acc,
                        base_test_loss=base_loss, base_train_loss=base_train, **extra)
        for allow_zero in (False, True):
            # rank 0 can only arise when every small value goes (q = 1): the opt-in variant there only
            for q in (cfg.levels if not allow_zero else [q for q in cfg.levels if q == 1.0]):
                pruned, saved, events = mp_prune_level(model, layers, q, allow_rank_zero=allow_zero)
                method = "mp" if not allow_zero else "mp_rank0_allowed"
                rows.append(row(method, q, total - saved, pruned,
                                matrices_all_noise=sum(e.action == "kept" for e in events)))
                if allow_zero and q == 1.0:
                    layer_rows += [dict(seed=seed, matrix=f"{e.layer}.{e.block}" if e.block else e.layer,
                                        shape=list(e.shape), n_singular=e.n_singular,
                                        n_above=e.n_above_threshold, rank_after=e.rank_after,
                                        fit_statistic=e.fit_statistic, sv_threshold=e.sv_threshold,
                                        params_before=e.params_before, params_after=e.params_after)
                                   for e in events]
                if method == "mp" and saved > 0:
                    for other in ("magnitude", "random"):
                        rows.append(row(other, q, total - saved,
                                        unstructured_prune(model, layers, saved, other, seed=seed),
                                        matched_to="mp"))
        for frac in (0.1, 0.3, 0.5):
            n = int(round(frac * total))
            if n > prunable:
                continue
            for other in ("magnitude", "random"):
                rows.append(row(other, frac, total - n, unstructured_prune(model, layers, n, other, seed=seed),
                                matched_to="grid"))
    return rows, layer_rows


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
def sgd_epoch(model, opt, train_x, train_y, *, seed: int, epoch: int) -> None:
    """One epoch of paper 000's optimiser ((3.7): lr 0.01 x 0.96^epoch, batch 64, cross-entropy),
    batches in the order of ``nets.data.epoch_generator(seed, epoch)``."""
    from nets.data import epoch_generator
    for g in opt.param_groups:
        g["lr"] = 0.01 * 0.96 ** epoch
    model.train()
    order = torch.randperm(len(train_y), generator=epoch_generator(seed, epoch))
    for i in range(0, len(order), 64):
        idx = order[i:i + 64]
        loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def train_mlp(topology, data, *, seed: int, epochs: int, weight_decay: float, n_train: int):
    """SGD with momentum (paper 000's optimiser), lr 0.01 decayed 0.96 per epoch ((3.7)), batch 64;
    randomness measures of every layer at initialisation and after every epoch."""
    from nets.models import FullyConnectedNet, initialise_
    from nets.randomness import model_randomness
    (train_x, train_y), (test_x, test_y) = data
    train_x, train_y = train_x[:n_train].flatten(1), train_y[:n_train]
    model = FullyConnectedNet(list(topology), final_activation="none")
    initialise_(model, "normal", generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=weight_decay)
    rows = [{"epoch": 0, "measures": model_randomness(model)}]
    for epoch in range(epochs):
        sgd_epoch(model, opt, train_x, train_y, seed=seed, epoch=epoch)
        tl, ta = loss_and_accuracy(model, test_x.flatten(1), test_y)
        trl = loss_and_accuracy(model, train_x, train_y)[0]
        rows.append({"epoch": epoch + 1, "train_loss": trl, "test_loss": tl, "test_accuracy": ta,
                     "measures": model_randomness(model)})
    return model, rows


def _trajectory_records(net: str, seed: int, l2, rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        for m in r["measures"]:
            out.append(dict(net=net, seed=seed, l2=l2, epoch=r["epoch"], train_loss=r.get("train_loss"),
                            **{k: v for k, v in m.items() if k != "shape"}))
    return out


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
def removal_rows(model, layers, levels, eval_sets, *, net: str, seed: int, l2) -> list[dict]:
    rows = []
    for q in levels:
        pruned, saved, events = mp_prune_level(model, layers, q, allow_rank_zero=True)
        removed_energy = sum(e.removed_sv_sum_sq for e in events if e.action == "parametrized")
        r = dict(net=net, seed=seed, l2=l2, level=q, removed_energy=removed_energy)
        for name, (x, y) in eval_sets.items():
            r[f"{name}_loss"], r[f"{name}_accuracy"] = loss_and_accuracy(pruned, x, y)
        rows.append(r)
    return rows


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


def redecide(path: str, context: ExperimentRun) -> Result:
    """The stored Result at ``path`` with its verdicts recomputed by the declared rules from its own
    records and tables (no ViT checkpoints, no training); records, tables and settings kept, the
    original provenance under ``config["redecided_from"]``."""
    stored = load_stored(path, RESULT_NAME)
    cfg = {k: v for k, v in stored["config"].items() if k != "verdicts_rederived"}
    rows = [r for r in stored["records"] if r.get("part") == "vit_comparison"]
    t = stored["tables"]
    verdicts = vit_verdicts(rows) if rows else []
    if "randomness_trajectories" in t:
        traj = t["randomness_trajectories"]
        verdicts += randomness_verdicts(traj) + removal_verdicts(t["bulk_removal"]) + regularisation_verdict(traj)
    cfg["redecided_from"] = redecided_from(path, stored)
    return context.result(config=cfg, records=stored["records"], verdicts=verdicts, tables=t)


# ------------------------------------------------------------------------------------------------
# the experiment
# ------------------------------------------------------------------------------------------------
def run(cfg: Config = Config(), *, context: ExperimentRun | None = None) -> Result:
    """The parts of ``cfg``, one Result named ``RESULT_NAME`` (computed on the CPU)."""
    for d in cfg.vit_dirs:
        if not (Path(d) / "checkpoint.pt").is_file():
            raise InvalidArgument(f"vit_dirs: {d} has no checkpoint.pt; train it with python -m nets.vit")
    context = context or ExperimentRun(MODULE, cfg, device="cpu", seed=None, experiment=RESULT_NAME)
    with context:
        if cfg.redecide_from is not None:
            return redecide(cfg.redecide_from, context)
        return _run(cfg, context)


def _run(cfg: Config, context: ExperimentRun) -> Result:
    from nets.vit import block_weight_layers, load_fashion_mnist, load_trained
    data = load_fashion_mnist()
    (train_x, train_y), (test_x, test_y) = data
    sub = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(0))[:cfg.n_eval_train]
    records, verdicts, tables = [], [], {}
    if "vit" in cfg.parts and cfg.vit_dirs:
        rows, layer_rows = vit_comparison(cfg, data)
        records += [dict(part="vit_comparison", **r) for r in rows]
        tables["vit_layers"] = layer_rows
        verdicts += vit_verdicts(rows)
    if "theorems" in cfg.parts:
        traj, removal = [], []
        eval_sets = {"train": (train_x[sub], train_y[sub]), "test": (test_x, test_y)}
        for d in cfg.vit_dirs:
            model, state = load_trained(d)
            seed = int(state["meta"]["seed"])
            wd = state["meta"]["settings"]["weight_decay"]
            traj += _trajectory_records("vit", seed, wd, state["rows"])
            removal += removal_rows(model, block_weight_layers(model), cfg.levels, eval_sets,
                                    net="vit", seed=seed, l2=wd)
        flat_sets = {k: (x.flatten(1), y) for k, (x, y) in eval_sets.items()}
        topo = "mlp " + "-".join(map(str, cfg.mlp_topology))
        for l2 in cfg.mlp_l2:
            for seed in cfg.mlp_seeds:
                model, rows = train_mlp(cfg.mlp_topology, data, seed=seed, epochs=cfg.mlp_epochs,
                                        weight_decay=l2, n_train=cfg.mlp_n_train)
                traj += _trajectory_records(topo, seed, l2, rows)
                layers = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][:-1]
                removal += removal_rows(model, layers, cfg.levels, flat_sets, net=topo, seed=seed, l2=l2)
        tables["randomness_trajectories"] = traj
        tables["bulk_removal"] = removal
        verdicts += randomness_verdicts(traj) + removal_verdicts(removal) + regularisation_verdict(traj)
    config = asdict(cfg)
    return context.result(config=config, records=records, verdicts=verdicts, tables=tables)


if __name__ == "__main__":
    import sys

    from sims.experiment import cli_main
    sys.exit(cli_main(MODULE))
