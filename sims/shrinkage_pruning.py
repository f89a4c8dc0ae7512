"""`python -m sims.shrinkage_pruning`: post-training pruning with each shrinkage rule, at matched budgets.

Does the MP-edge rule of papers 000/001 (Algorithm 3: keep the singular values above sqrt(lambda+),
unchanged) leave approximation quality or accuracy on the table?  Each rule of
``theory.shrinkage.shrink_singular_values`` is applied to a layer's singular values with the noise
level of the layer's BEMA fit (``nets.algorithms.bema_fit_singular_values``: noise_sigma =
sqrt(sigma^2), the entry standard deviation of the MP bulk; the same for every rule; ``truncate`` is
then the MP edge without Algorithm 3's Tracy-Widom margin).  A rule that keeps rank k stores
k (n_out + n_in) weights as factors; to compare at MATCHED budgets every rule is set beside plain
truncation at the same rank k ("truncate@k", Eckart-Young), so the difference is what shrinking the
kept singular values buys at equal parameter count.

Two settings:

* ``spiked``: paper 004's depth-4 ReLU target networks with spiked hidden layers
  (``sims.paper004_side_by_side.spiked_target``: W = R + sum_i theta_i u_i v_i^T, signal chained through the
  layers); both hidden layers pruned.  Measured: sup over the unit ball of ||f(x) - F(x)|| (lower
  estimate by projected gradient ascent, ``sims.paper004_theorems.sup_ball_error``), the chain upper
  bound, mean |change of dX| and label flips on inputs uniform on the sphere.
* ``fashion``: the Example D.3 net [784, width, 10] trained on Fashion-MNIST (``nets.posttraining``,
  CPU scale, ordinary logits: ``final_activation="none"``); its first layer pruned.  Measured: test accuracy, mean |change of dX| (4.1), and the
  Lemma 4.1 bound sqrt(2) ||W_1 - W_1'||_2 ||s|| prod_{l>1} sigma_max(W_l) per test input
  (``theory.pruning_bounds``; the proof uses only ||W_b - W_b'||_2, so shrinkers get their own
  measured operator-norm change), with the fraction of inputs where it holds; plus a truncation
  rank sweep (accuracy against parameters kept).

Per rule: means over seeds with 95% t intervals, and paired differences against truncate@k.

Why a denoiser need not be a better pruner (derivation, square case of ``theory.shrinkage``): a
network whose layers pass the signal along the spike directions sees, per layer, the gain
u_i^T W' v_i = eta a b (a, b the cosines of A.4).  Truncation keeps eta = sigma' = theta + 1/theta, so
its gain is (theta + 1/theta)(1 - 1/theta^2) = theta - 1/theta^3; the Frobenius shrinker's is
theta a^2 b^2 = theta - 2/theta + 1/theta^3.  Chained over layers, the O(1/theta) gain bias of the
shrinkers compounds, while truncation is gain-unbiased to O(theta^{-3}) -- even against the signal
net F_S.  The matrix losses of GD14/GD17 weigh all directions equally; the sup-ball error of a
network weighs the directions the data travel.

Layout: ``sims.shrinkage_pruning_verdicts`` (means over seeds, paired differences, the declared
verdicts); this module holds the two settings' measurements and the experiment (the sizes
``PruningConfig``, the command line ``Config``, ``run``).
"""
from __future__ import annotations

import copy
import math
import sys
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from core.cli import progress
from core.result import Result
from core.validate import check_choice, check_int
from nets.algorithms import bema_fit_singular_values
from sims.experiment import ExperimentRun, option
from theory import shrinkage as sh
# the summary and verdicts, one concern of their own; their names stay importable from here
from sims.shrinkage_pruning_verdicts import (DECLARATIONS, HARD_THRESHOLDS, RULES,  # noqa: F401
                                             paired, paired_decision, summarise, verdicts)

MODULE = "sims.shrinkage_pruning"
PARTS = ("spiked", "fashion")


@dataclass
class PruningConfig:
    parts: tuple = PARTS
    seeds: int = 5
    # spiked targets (paper 004)
    sizes: tuple = (128, 256)
    io: int = 10
    thetas: tuple = (2.0, 3.0, 4.0, 5.0)
    n_data: int = 2000
    starts: int = 32
    steps: int = 80
    # Fashion-MNIST (Example D.3 net)
    width: int = 500
    epochs: int = 8
    n_train: int = 30000
    # ordinary logits: with the paper's ReLU after the output layer (nets.posttraining's default)
    # this net reached only 64-76% test accuracy after 4 epochs on 15000 images (seeds 0-2)
    final_activation: str = "none"
    n_test: int = 10000
    sweep_ranks: tuple = (1, 2, 3, 5, 8, 10, 15, 20, 30, 40, 60, 80, 100, 150, 200, 300, 500)
    seed: int = 0


def _validate(cfg: PruningConfig) -> PruningConfig:
    for p in cfg.parts:
        check_choice("part", p, PARTS)
    check_int("seeds", cfg.seeds, 2, 1000)
    for d in cfg.sizes:
        check_int("size", d, max(cfg.io, 16), 4096)
    check_int("width", cfg.width, 16, 10000)
    check_int("epochs", cfg.epochs, 1, 1000)
    check_choice("final_activation", cfg.final_activation, ("relu", "none", "abs"))
    return cfg


# ------------------------------------------------------------------------------------- one layer
def apply_rule(W: torch.Tensor, rule: str, rank: int | None = None):
    """(W', rank kept, ||W - W'||_2) for one out x in matrix: ``rule`` with the BEMA noise level, or
    with ``rank`` given, plain truncation at that rank (the matched-budget baseline)."""
    W64 = W.detach().to(torch.float64).cpu()
    U, s, Vh = torch.linalg.svd(W64, full_matrices=False)
    s_np = s.numpy()
    n_out, n_in = W64.shape
    if rank is not None:
        new = np.where(np.arange(s_np.size) < rank, s_np, 0.0)
    else:
        fit = bema_fit_singular_values(s_np, n_out, n_in, alpha=0.1, beta=0.1)
        new = sh.shrink_singular_values(s_np, n_out, n_in, rule, noise_sigma=math.sqrt(fit.sigma2))
    new_t = torch.as_tensor(new, dtype=torch.float64)
    Wp = (U * new_t) @ Vh
    change = float(np.max(np.abs(s_np - new)))      # ||W - W'||_2: same singular vectors
    return Wp.to(W.dtype).to(W.device), int(np.count_nonzero(new)), change


def _variants():
    """(label, rule, matched): each rule, then truncation at each rule's rank."""
    return [(r, r, False) for r in RULES] + [(f"truncate@{r}", r, True) for r in RULES if r != "truncate"]


# ------------------------------------------------------------------------------------- spiked targets
def spiked_rows(cfg: PruningConfig, device) -> list[dict]:
    from nets.confidence import confidence_from_outputs
    from sims import paper004_theorems as qt
    from sims.paper004_side_by_side import spiked_target
    rows = []
    jobs = [(d, s) for d in cfg.sizes for s in range(cfg.seeds)]
    for d, s in progress(jobs, desc="spiked targets", unit="net"):
        trial = 7000 + 100 * d + s
        F = spiked_target(d, cfg.io, cfg.thetas, cfg.seed, trial, device)
        # the same draw without the signal: S_k = W_k - R_k; the signal net F_S has S_k in the
        # pruned (hidden) layers -- paper 000's view (R carries no information, Theorem 4.1)
        R = qt.sample_target(d, cfg.io, "gaussian", cfg.seed, trial, device)
        F_S = [F[0]] + [w - r for w, r in zip(F[1:-1], R[1:-1])] + [F[-1]]
        g = torch.Generator().manual_seed(cfg.seed * 7919 + trial)
        x = torch.randn(cfg.n_data, cfg.io, generator=g, dtype=torch.float64).to(device)
        x = x / x.norm(dim=1, keepdim=True)
        with torch.no_grad():
            out_F, out_S = qt.forward(F, x), qt.forward(F_S, x)
        y, y_S = out_F.argmax(dim=1), out_S.argmax(dim=1)
        dx_F = confidence_from_outputs(out_F, y)
        dx_S = confidence_from_outputs(out_S, y_S)
        own = {}
        for label, rule, matched in _variants():
            f = [F[0]]
            ranks, changes = [], []
            for k, w in enumerate(F[1:-1]):
                wp, rk, ch = apply_rule(w, rule, own[rule][k] if matched else None)
                f.append(wp)
                ranks.append(rk)
                changes.append(ch)
            f.append(F[-1])
            if not matched:
                own[rule] = ranks
            with torch.no_grad():
                out_f = qt.forward(f, x)
            dx_f = confidence_from_outputs(out_f, y)
            dx_fS = confidence_from_outputs(out_f, y_S)
            rows.append(dict(
                part="spiked", d=d, seed=s, variant=label, rule=rule, matched=matched,
                ranks=ranks, weights_kept=int(sum(k * 2 * d for k in ranks)),
                weights_dense=2 * d * d, op_change=changes,
                sup_error=qt.sup_ball_error(f, F, cfg.starts, cfg.steps, seed=trial),
                chain_upper=qt.chain_bound(f, F),
                dX_change=float(np.mean(np.abs(dx_f - dx_F))),
                flip_rate=float(np.mean(out_f.argmax(dim=1).cpu().numpy() != y.cpu().numpy())),
                sup_error_signal=qt.sup_ball_error(f, F_S, cfg.starts, cfg.steps, seed=trial),
                dX_change_signal=float(np.mean(np.abs(dx_fS - dx_S))),
                flip_rate_signal=float(np.mean(out_f.argmax(dim=1).cpu().numpy()
                                               != y_S.cpu().numpy()))))
    return rows


# ------------------------------------------------------------------------------------- Fashion-MNIST
def fashion_rows(cfg: PruningConfig, device) -> tuple[list[dict], list[dict]]:
    from nets.confidence import classification_confidence
    from nets.layers import set_dense_weight
    from sims.posttraining_truncation import train_example_d3
    from theory.pruning_bounds import Network, lemma_4_1_bound
    rows, sweep = [], []
    layer = "layers.fc1"
    for s in range(cfg.seeds):
        model, data, info = train_example_d3(epochs=cfg.epochs, seed=cfg.seed + s, n_train=cfg.n_train,
                                             n_test=cfg.n_test, width=cfg.width, device=device,
                                             final_activation=cfg.final_activation)
        model = model.to(torch.float64)
        xs, ys = data.test.tensors
        test = (xs.to(torch.float64), ys)
        dx0 = classification_confidence(model, test)
        lin = [model.get_submodule(f"layers.fc{i}") for i in (1, 2)]
        net = Network(tuple(m.weight.detach().cpu().numpy() for m in lin),
                      tuple(m.bias.detach().cpu().numpy() for m in lin), activation="relu",
                      final_activation=model.activations[-1] == "relu")
        inputs = xs.flatten(1).to(torch.float64).numpy()
        W = lin[0].weight.detach()
        own = {}
        for label, rule, matched in _variants():
            wp, rk, ch = apply_rule(W, rule, own[rule] if matched else None)
            if not matched:
                own[rule] = rk
            clone = copy.deepcopy(model)
            set_dense_weight(clone.get_submodule(layer), wp)
            dx = classification_confidence(clone, test)
            bound = lemma_4_1_bound(net, inputs, 1, ch)
            change = np.abs(dx - dx0)
            rows.append(dict(
                part="fashion", seed=s, variant=label, rule=rule, matched=matched, rank=rk,
                weights_kept=rk * (W.shape[0] + W.shape[1]), weights_dense=W.shape[0] * W.shape[1],
                op_change=ch, accuracy=float(np.mean(dx > 0)), accuracy_full=float(np.mean(dx0 > 0)),
                dX_change=float(change.mean()), lemma41_bound_mean=float(bound.mean()),
                lemma41_holds_fraction=float(np.mean(change <= bound * (1 + 1e-9) + 1e-12)),
                lemma41_tightness=float(np.mean(change / bound))))
        for k in cfg.sweep_ranks:
            if k > min(W.shape):
                continue
            wp, rk, _ = apply_rule(W, "truncate", k)
            clone = copy.deepcopy(model)
            set_dense_weight(clone.get_submodule(layer), wp)
            dx = classification_confidence(clone, test)
            sweep.append(dict(seed=s, rank=rk, weights_kept=rk * (W.shape[0] + W.shape[1]),
                              accuracy=float(np.mean(dx > 0))))
    return rows, sweep


def run_pruning(cfg: PruningConfig, *, device="cpu", log=print, context: ExperimentRun | None = None) -> Result:
    """Both parts at any ``PruningConfig`` (the command line sets parts, seeds, seed and the quick
    sizes; ``run`` is the registered experiment's entry, through here)."""
    cfg = _validate(cfg)
    context = context or ExperimentRun(MODULE, device=device, seed=cfg.seed)
    with context:
        return _measure(cfg, context, log)


def _measure(cfg: PruningConfig, context: ExperimentRun, log) -> Result:
    dev = context.device
    torch.manual_seed(cfg.seed)
    tables, records = {}, []
    sp_pairs, fa_pairs, fa_sum, fa_raw = [], [], [], []
    if "spiked" in cfg.parts:
        rows = spiked_rows(cfg, dev)
        log(f"spiked: {len(rows)} rows")
        summ = summarise(rows, ("sup_error", "chain_upper", "dX_change", "flip_rate", "sup_error_signal",
                                "dX_change_signal", "flip_rate_signal"), ("d", "variant"))
        sp_pairs = [p for m in ("sup_error", "dX_change", "sup_error_signal", "flip_rate_signal")
                    for p in paired(rows, m, ("d",))]
        tables.update(spiked_runs=rows, spiked_pairs=sp_pairs)
        records += [{"part": "spiked", **r} for r in summ]
    if "fashion" in cfg.parts:
        fa_raw, sweep = fashion_rows(cfg, dev)
        log(f"fashion: {len(fa_raw)} rows")
        fa_sum = summarise(fa_raw, ("accuracy", "dX_change", "lemma41_bound_mean", "lemma41_tightness"),
                           ("variant",))
        fa_pairs = paired(fa_raw, "accuracy", ()) + paired(fa_raw, "dX_change", ())
        sweep_sum = summarise(sweep, ("accuracy",), ("rank",))
        tables.update(fashion_runs=fa_raw, fashion_pairs=fa_pairs, fashion_sweep=sweep_sum)
        records += [{"part": "fashion", **r} for r in fa_sum]
    return context.result(config=asdict(cfg), records=records,
                          verdicts=verdicts(sp_pairs, fa_pairs, fa_sum, fa_raw), tables=tables)


# ------------------------------------------------------------------------------------- the experiment
QUICK = PruningConfig(seeds=2, sizes=(64,), n_data=300, starts=8, steps=20, width=100, epochs=1,
                      n_train=2000, n_test=1000, sweep_ranks=(1, 5, 20, 100))


@dataclass(frozen=True)
class Config:
    """The command line of ``python -m sims.shrinkage_pruning`` (the sizes: ``PruningConfig``'s)."""
    seed: int = option(0, "base seed: target nets and training seeds derive from it", lo=0)
    quick: bool = option(False, "small sizes (d = 64, 2 seeds, width 100, 1 epoch), seconds to a minute")
    parts: tuple[str, ...] = option(PARTS, "settings to run", choices=PARTS)
    seeds: int | None = option(None, "target nets / training seeds (default 5; --quick 2)", lo=2, hi=1000,
                               optional=True)


def toy_config(tmp_path) -> Config:
    """The quick spiked targets alone (the Fashion-MNIST part needs the data set)."""
    return Config(quick=True, parts=("spiked",))


def pruning_config(config: Config) -> PruningConfig:
    """The ``PruningConfig`` a command line means."""
    cfg = QUICK if config.quick else PruningConfig()
    return replace(cfg, parts=tuple(config.parts), seed=config.seed,
                   **({"seeds": config.seeds} if config.seeds else {}))


def run(config: Config = Config(), *, context: ExperimentRun | None = None, log=print) -> Result:
    """Every rule against truncation at matched ranks in the chosen settings."""
    cfg = pruning_config(config)
    context = context or ExperimentRun(MODULE, config)
    context.seed = cfg.seed
    return run_pruning(cfg, log=log, context=context)


def main(argv=None) -> int:
    from sims.experiment import cli_main
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
