"""`python -m sims.shrinkage_training`: Algorithm 1 (pruning during training) with each shrinkage rule.

Does the MP-edge rule of paper 000's Algorithm 1 leave accuracy or parameters on the table during
training?  Every run is ``nets.train``'s Example 3.2a (Section 3.2.1, Tables 3.4-3.6, E.6) at a
scale of ``nets.configs`` (default ``cpu``: FC [784, 200, 400, 200, 50, 10], ReLU after every
layer, 10000 training / 10000 test Fashion-MNIST images, 70 epochs, SGD lr 0.02 momentum 0.9 batch
128, L2 5e-4, split every 7 epochs, GoF tau 0.7, schedule (3.6)), with Algorithm 1's decision of
steps 9 and 22 made by ``rule`` (``nets.pruning.MPPruningCallback(rule=...)``; "mp" is the papers'
rule, the others are ``theory.shrinkage``'s with the layer's BEMA noise level, the singular values
the rule zeroes playing the part of the small ones, see ``nets.pruning``).  For each seed every
rule starts from the same weights and sees the same training subset and batch order (``nets.train``
seeds both from the seed alone); only the rule differs, so differences are paired by seed.

Measured per run: the final test accuracy as ``nets.train`` reports it (after the round of the last
epoch), the accuracy before that round, the mean test accuracy of the last 5 epochs (less noisy
than one epoch's), the parameters and each layer's rank at the end; per pruning round, on the first
``probe`` test images: the mean |change of dX| (4.1) over the round and the Lemma 4.1 bound for it,
summed over the layers the round changed (``theory.pruning_bounds``; the telescoping of
``lemma_4_1_bound_all_layers`` with the prefix of the network before the round and the suffix after
it, so that it needs no assumption on the rule), with the fraction of inputs where it holds.

Verdicts (``000:algorithm:1``, one per rule against "mp", paired over seeds, through
``core.protocol``: exact sign-flip tests of the accuracy and the parameter differences, Holm over the
family, bootstrap intervals; see ``DECLARATIONS``): the MP rule leaves something on the table when a
rule is significantly more accurate without more parameters, or significantly smaller with accuracy
not lower by more than ``accuracy_margin``; it does not when the rule is significantly worse in one of
the two and not better in the other, or equivalent in both (TOST); else undecided.  With 5 seeds no
sign-flip test reaches p < 0.0625, so 5 seeds decide nothing at alpha = 0.05 (seeds needed: the note).
``000:lemma:4.1``: the bound holds at every round of every run.

Runs are checkpointed under ``--cache DIR`` after every epoch (``nets.train.Run``) and resumed from
there: kill and rerun the same command to continue.  Each run's folder names the git commit that
started it (``git_commit.txt``; column ``made_by`` of the runs table).

With a shrinker the schedule f(epoch) > 0 keeps some singular values the rule zeroes unchanged
while the ones it keeps are shrunk (``nets.pruning``): the output is then not monotone in s (a kept
outlier just above the edge can end below a retained bulk value).  That is the literal combination
of step 9 with the rule; at f = 0 (the last rounds, epochs >= 60 with (3.6)) the rule acts alone.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from core import protocol as P
from core.cli import make_parser, output_dir, positive_int, run as cli_run
from core.result import Provenance, Result, Verdict
from core.validate import InvalidArgument, check_choice, check_float, check_int

EXPERIMENT = "sims.shrinkage_training"
DEFAULT_RULES = ("mp", "gd_threshold", "frobenius", "operator")


@dataclass
class TrainingConfig:
    config: str = "ex3.2a"
    scale: str = "cpu"
    rules: tuple = DEFAULT_RULES
    seeds: int = 5
    seed: int = 0
    epochs: int | None = None          # None: the config's
    every: int | None = None           # None: the config's split frequency
    n_train: int | None = None         # None: the scale's
    n_test: int | None = None
    probe: int = 2000                  # test images for dX and the Lemma 4.1 bound at each round
    accuracy_margin: float = 0.005     # non-inferiority margin on test accuracy (0.5 points)
    params_margin: float = 0.01        # relative margin on the parameter count (1% of mp's)


def _validate(cfg: TrainingConfig) -> TrainingConfig:
    from nets.configs import SCALES, config_names
    from nets.prune import available_rules
    check_choice("config", cfg.config, config_names())
    check_choice("scale", cfg.scale, SCALES)
    rules = tuple(cfg.rules)
    for r in rules:
        check_choice("rule", r, available_rules())
    if "mp" not in rules or len(set(rules)) != len(rules):
        raise InvalidArgument(f"rules must be distinct and include 'mp' (the baseline), got {list(rules)}")
    check_int("seeds", cfg.seeds, 2, 1000)
    check_int("seed", cfg.seed, 0)
    if cfg.epochs is not None:
        check_int("epochs", cfg.epochs, 1, 100000)
    if cfg.every is not None:
        check_int("every", cfg.every, 1, 100000)
    for name in ("n_train", "n_test"):
        if getattr(cfg, name) is not None:
            check_int(name, getattr(cfg, name), 10)
    check_int("probe", cfg.probe, 10)
    check_float("accuracy_margin", cfg.accuracy_margin, 0.0, 1.0)
    check_float("params_margin", cfg.params_margin, 0.0, 1.0)
    return TrainingConfig(**{**asdict(cfg), "rules": rules})


def train_config(cfg: TrainingConfig, rule: str):
    """The ``nets.configs.TrainConfig`` of one run."""
    from nets.configs import get_config, with_rule
    tc = get_config(cfg.config, cfg.scale)
    if not tc.pruning:
        raise InvalidArgument(f"config {cfg.config!r} has no MP pruning (Algorithm 1) to compare rules in")
    if cfg.epochs is not None:
        tc.epochs = cfg.epochs
    if cfg.every is not None:
        tc.pruning["every"] = cfg.every
    if cfg.n_train is not None:
        tc.n_train = cfg.n_train
    if cfg.n_test is not None:
        tc.n_test = cfg.n_test
    return with_rule(tc, rule)


# ------------------------------------------------------------------------------------ one round
def network_of(model):
    """The model as a ``theory.pruning_bounds.Network`` (float64; factorised layers as products)."""
    import torch
    from nets.layers import weight_layers, weight_matrix
    from theory.pruning_bounds import Network
    acts = list(getattr(model, "activations", []))
    if not acts or any(a != "relu" for a in acts[:-1]) or acts[-1] not in ("relu", "none"):
        raise InvalidArgument("the dX / Lemma 4.1 probe needs a fully connected ReLU net (nets.models.FullyConnectedNet)")
    weights, biases = [], []
    with torch.no_grad():
        for _, layer in weight_layers(model, factorised_as_unit=True):
            weights.append(weight_matrix(layer).detach().to(torch.float64).cpu().numpy())
            b = layer.bias
            biases.append(None if b is None else b.detach().to(torch.float64).cpu().numpy())
    return Network(tuple(weights), tuple(biases), activation="relu", final_activation=acts[-1] == "relu")


def round_change(before, after, inputs: np.ndarray, labels: np.ndarray) -> dict:
    """|change of dX| over one pruning round and the Lemma 4.1 bound for it.

    Telescoping from the last changed layer down (the argument of
    ``theory.pruning_bounds.lemma_4_1_bound_all_layers``): pruning layer b in a network whose layers
    above b are already pruned and below b are not changes dX by at most
    sqrt 2 ||W_b - W'_b||_2 ||prefix_before(s)|| prod_{l > b} sigma_max(W'_l) (Lemma 4.1, (4.4)).
    The prefix is the network before the round, the suffix after it: valid for any W'."""
    from theory.pruning_bounds import Network, classification_confidence, lemma_4_1_bound, spectral_norm
    dx0 = classification_confidence(before.forward(inputs), labels)
    dx1 = classification_confidence(after.forward(inputs), labels)
    change = np.abs(dx1 - dx0)
    bound = np.zeros_like(change)
    changed = []
    for b in range(1, before.depth + 1):
        delta = after.weights[b - 1] - before.weights[b - 1]
        if not np.any(delta):
            continue
        changed.append(b)
        hybrid = Network(tuple(before.weights[:b]) + tuple(after.weights[b:]), before.biases,
                         before.activation, before.final_activation)
        bound = bound + lemma_4_1_bound(hybrid, inputs, b, spectral_norm(delta))
    holds = change <= bound * (1 + 1e-9) + 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bound > 0, change / bound, 0.0)
    return {"layers_changed": changed, "dX_change_mean": float(change.mean()),
            "dX_change_max": float(change.max()), "lemma41_bound_mean": float(bound.mean()),
            "lemma41_holds_fraction": float(holds.mean()), "lemma41_tightness_mean": float(ratio.mean()),
            "accuracy_before_round": float(np.mean(dx0 > 0)), "accuracy_after_round": float(np.mean(dx1 > 0))}


class RoundProbe:
    """Wraps an ``MPPruningCallback``: measures dX and the Lemma 4.1 bound around each round it runs.
    Its state (the inner callback's and the rounds measured) goes into ``nets.train``'s checkpoints."""

    def __init__(self, inner, inputs: np.ndarray, labels: np.ndarray):
        self.inner, self.inputs, self.labels = inner, inputs, labels
        self.rounds: list[dict] = []

    def on_epoch_end(self, model, epoch: int):
        if not self.inner.due(epoch):
            return self.inner.on_epoch_end(model, epoch)
        before = network_of(model)
        events = self.inner.on_epoch_end(model, epoch)
        row = round_change(before, network_of(model), self.inputs, self.labels)
        row.update(epoch=int(epoch), n_events=len(events),
                   splits=sum(ev.action == "split" for ev in events),
                   recombined=sum(ev.action == "recombined" for ev in events),
                   params_before=events[0].model_params_before if events else None,
                   params_after=events[0].model_params_after if events else None)
        self.rounds.append(row)
        return events

    def state_dict(self) -> dict:
        return {"inner": self.inner.state_dict(), "rounds": list(self.rounds)}

    def load_state_dict(self, state: dict) -> None:
        self.inner.load_state_dict(state.get("inner", {}))
        self.rounds = list(state.get("rounds", []))


# ------------------------------------------------------------------------------------ one run
def train_one(cfg: TrainingConfig, rule: str, seed: int, data, cache: Path | None, device, log,
              made_by: str = "") -> dict:
    """Train (or resume, or read back) one (rule, seed) run; returns its row and its rounds.
    ``made_by`` (the code version, git commit) is written beside a new run's checkpoint; a resumed
    run reports the version that started it."""
    import torch
    from nets.layers import FACTORISED_TYPES, weight_layers, weight_matrix
    from nets.spectrum import numerical_rank
    from nets.train import CHECKPOINT, Run, make_callbacks
    tc = train_config(cfg, rule)
    xs, ys = data.test.tensors
    n = min(cfg.probe, len(ys))
    inputs = xs[:n].flatten(1).to(torch.float64).numpy()
    labels = ys[:n].numpy().astype(np.int64)
    callbacks = make_callbacks(tc)
    if len(callbacks) != 1:
        raise InvalidArgument(f"config {cfg.config!r}: expected Algorithm 1 alone, got {len(callbacks)} callbacks")
    probe = RoundProbe(callbacks[0], inputs, labels)
    out_dir = None if cache is None else cache / f"{tc.name}-{tc.scale}-{rule}-seed{seed}"
    run = Run(tc, data, seed=seed, device=device, out_dir=out_dir, callbacks=[probe], label=rule,
              progress=False)
    commit_file = None if out_dir is None else out_dir / "git_commit.txt"
    if out_dir is not None and (out_dir / CHECKPOINT).is_file():
        run.load(out_dir / CHECKPOINT)
    if commit_file is not None and commit_file.is_file():
        made_by = commit_file.read_text().strip()
    elif commit_file is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        commit_file.write_text(made_by + "\n")
    t0 = time.process_time()
    while run.epoch < tc.epochs:
        row = run.train_epoch()
        log(f"{rule} seed {seed} epoch {row['epoch']}: test acc "
            f"{row.get('test_accuracy_after_callbacks', row['test_accuracy']):.4f} params {row['parameters']}")
    s = run.summary()
    last = run.metrics[-1]
    ranks = {}
    with torch.no_grad():   # a split layer's rank; a dense layer's numerical rank (W' of step 14 included)
        for name, layer in weight_layers(run.model, factorised_as_unit=True):
            if isinstance(layer, FACTORISED_TYPES):
                ranks[name] = int(layer.rank)
                continue
            m = weight_matrix(layer)
            ranks[name] = numerical_rank(torch.linalg.svdvals(m.to(torch.float64)), *m.shape, m.dtype)
    row = dict(rule=rule, seed=seed, final_test_accuracy=s["final_test_accuracy"],
               test_accuracy_before_last_round=last["test_accuracy"],
               mean_test_accuracy_last_5=s["mean_test_accuracy_last_5"],
               final_train_accuracy=s["final_train_accuracy"],
               initial_parameters=s["initial_parameters"], final_parameters=s["final_parameters"],
               epochs=run.epoch, ranks=ranks, made_by=made_by,
               cpu_s_this_call=round(time.process_time() - t0, 2), train_time_s=s["train_time_s"],
               callback_time_s=s["callback_time_s"],
               dX_change_mean_over_rounds=float(np.mean([r["dX_change_mean"] for r in probe.rounds]))
               if probe.rounds else None,
               lemma41_holds_fraction_min=min((r["lemma41_holds_fraction"] for r in probe.rounds), default=None))
    rounds = [dict(rule=rule, seed=seed, **r) for r in probe.rounds]
    return {"row": row, "rounds": rounds}


# ------------------------------------------------------------------------------------ summary
def _ci(values):
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
            row[m], row[f"{m}_ci"] = _ci([r[m] for r in sel])
        for m in metrics:
            row[f"{m}_minus_mp"], row[f"{m}_minus_mp_ci"] = _ci([r[m] - base[r["seed"]][m] for r in sel])
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


def _rule_decision(acc: "P.Decision", par: "P.Decision", eq: "P.Decision", cfg: TrainingConfig,
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


def verdicts(runs: list[dict], rounds: list[dict], cfg: TrainingConfig, setting: str,
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
        decision = _rule_decision(acc, par, eq, cfg, p_margin)
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
                  f"{cfg.params_margin:.0%} parameters" + (f"; seeds needed at the observed accuracy effect: "
                                                            f"{acc.pairs_needed}" if acc.pairs_needed else "")),
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


def run_training(cfg: TrainingConfig, *, device="cpu", cache: Path | None = None, log=None) -> Result:
    """Every (seed, rule) run (seed-major, so that an interrupted sweep has whole seeds), then the
    summary and verdicts."""
    from nets.device import resolve_device
    from nets.train import load_data_for
    cfg = _validate(cfg)
    if log is None:
        def log(msg):
            print(msg, file=sys.stderr, flush=True)
    prov = Provenance.start(module=EXPERIMENT, seed=cfg.seed, device=str(device))
    dev = resolve_device(device)
    cache = None if cache is None else Path(cache)
    made_by = f"{prov.git_commit}{'-dirty' if prov.git_dirty else ''}"
    runs, rounds = [], []
    for k in range(cfg.seeds):
        seed = cfg.seed + k
        data = load_data_for(train_config(cfg, "mp"), seed=seed)
        for rule in cfg.rules:
            got = train_one(cfg, rule, seed, data, cache, dev, log, made_by)
            runs.append(got["row"])
            rounds.extend(got["rounds"])
            r = got["row"]
            log(f"done {rule} seed {seed}: final acc {r['final_test_accuracy']:.4f} params "
                f"{r['final_parameters']} (cpu {r['cpu_s_this_call']} s)")
    summary = summarise(runs, cfg.rules)
    tc = train_config(cfg, "mp")
    topo = tc.model.get("topology")
    setting = (f"{cfg.config} at scale {cfg.scale} (FC {topo}, {tc.n_train or 'all'} training images, "
               f"{tc.epochs} epochs, split every {tc.pruning['every']})")
    return Result(experiment=EXPERIMENT, config={**asdict(cfg), "train_config": tc.to_dict()},
                  provenance=prov.stop(), records=summary,
                  verdicts=verdicts(runs, rounds, cfg, setting),
                  tables={"runs": runs, "rounds": rounds})


QUICK = TrainingConfig(seeds=2, epochs=2, every=1, n_train=600, n_test=300, probe=200)


def main(argv=None) -> int:
    p = make_parser(EXPERIMENT, __doc__, options=("seed", "device", "json", "quick", "threads"))
    p.add_argument("--config", default="ex3.2a", help="nets.configs config name (default ex3.2a)")
    p.add_argument("--scale", default="cpu", help="nets.configs scale (default cpu)")
    p.add_argument("--rules", nargs="+", default=None,
                   help=f"rules to compare, 'mp' included (default {' '.join(DEFAULT_RULES)})")
    p.add_argument("--seeds", type=positive_int, default=None, help="training seeds (default 5)")
    p.add_argument("--epochs", type=positive_int, default=None, help="override the config's epochs")
    p.add_argument("--cache", type=output_dir, default=None, metavar="DIR",
                   help="checkpoint folder: runs are resumed from it (default: none, no resume)")
    return cli_run(p, argv, _main)


def _main(args) -> Result:
    base = QUICK if args.quick else TrainingConfig()
    changes = {"config": args.config, "scale": args.scale, "seed": args.seed}
    if args.rules:
        changes["rules"] = tuple(args.rules)
    if args.seeds:
        changes["seeds"] = args.seeds
    if args.epochs:
        changes["epochs"] = args.epochs
    cfg = TrainingConfig(**{**asdict(base), **changes})
    return run_training(cfg, device=args.device, cache=args.cache)


if __name__ == "__main__":
    raise SystemExit(main())
