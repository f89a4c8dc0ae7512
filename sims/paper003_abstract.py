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

The declarations and rules are in ``sims.paper003_abstract_verdicts``, the fully connected nets'
training in ``sims.paper003_training``; this module holds the config, the measurements and the run.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from core.result import Result
from core.validate import InvalidArgument
from nets.vit import evaluate as loss_and_accuracy
from sims.budget_pruning import count_trainable, mp_prune_level, prunable_tensors, unstructured_prune
from core.result import load_stored, redecided_from
from sims.experiment import ExperimentRun, option
from sims.paper003_abstract_verdicts import (ALPHA, DECLARATIONS, MEASURES, TRAINING_SCALE, VIT_SCALE,  # noqa: F401
                                             randomness_verdicts, regularisation_verdict, removal_verdicts,
                                             t_interval, vit_verdicts)
from sims.paper003_training import sgd_epoch, train_mlp, trajectory_records  # noqa: F401 (sgd_epoch: was public here)

MODULE = "sims.paper003_abstract"
CPU_ONLY = True         # its command line computes on the CPU whatever the machine has
PROVENANCE_SEED = None  # seeds are per net, in the config
RESULT_NAME = "nets.paper003"  # the name its committed Result carries (see sims.registry)
LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)


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
            traj += trajectory_records("vit", seed, wd, state["rows"])
            removal += removal_rows(model, block_weight_layers(model), cfg.levels, eval_sets,
                                    net="vit", seed=seed, l2=wd)
        flat_sets = {k: (x.flatten(1), y) for k, (x, y) in eval_sets.items()}
        topo = "mlp " + "-".join(map(str, cfg.mlp_topology))
        for l2 in cfg.mlp_l2:
            for seed in cfg.mlp_seeds:
                model, rows = train_mlp(cfg.mlp_topology, data, seed=seed, epochs=cfg.mlp_epochs,
                                        weight_decay=l2, n_train=cfg.mlp_n_train)
                traj += trajectory_records(topo, seed, l2, rows)
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
