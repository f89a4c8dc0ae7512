"""`python -m sims.shrinkage_training`: Algorithm 1 (pruning during training) with each shrinkage rule.

Does the MP-edge rule of paper 000's Algorithm 1 leave accuracy or parameters on the table during
training?  Every run is ``nets.train``'s Example 3.2a (Section 3.2.1, Tables 3.4-3.6, E.6) at a
scale of ``nets.configs`` (default ``cpu``: FC [784, 200, 400, 200, 50, 10], ReLU after every
layer, 10000 training / 10000 test Fashion-MNIST images, 70 epochs, SGD lr 0.02 momentum 0.9 batch
128, L2 5e-4, split every 7 epochs, GoF tau 0.7, schedule (3.6)), with Algorithm 1's decision of
steps 9 and 22 made by ``rule`` (``nets.algorithms.MPPruningCallback(rule=...)``; "mp" is the papers'
rule, the others are ``theory.shrinkage``'s with the layer's BEMA noise level, the singular values
the rule zeroes playing the part of the small ones, see ``nets.algorithms``).  For each seed every
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
while the ones it keeps are shrunk (``nets.algorithms``): the output is then not monotone in s (a kept
outlier just above the edge can end below a retained bulk value).  That is the literal combination
of step 9 with the rule; at f = 0 (the last rounds, epochs >= 60 with (3.6)) the rule acts alone.

Layout: ``sims.shrinkage_training_probe`` (the per-round dX / Lemma 4.1 probe),
``sims.shrinkage_training_verdicts`` (summary and declared verdicts); this module holds one run and
the experiment (the sizes ``TrainingConfig``, the command line ``Config``, ``run``).
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from core.result import Result
from core.validate import InvalidArgument, check_choice, check_float, check_int
from nets.configs import SCALES, config_names
from nets.prune import available_rules
from sims.experiment import ExperimentRun, option
# one concern per module; their public names stay importable from here
from sims.shrinkage_training_probe import RoundProbe, network_of, round_change  # noqa: F401
from sims.shrinkage_training_verdicts import DECLARATIONS, rule_decision, summarise, verdicts  # noqa: F401

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


# ------------------------------------------------------------------------------------ one run
def train_one(cfg: TrainingConfig, rule: str, seed: int, data, cache: Path | None, device, log,
              made_by: str = "") -> dict:
    """Train (or resume, or read back) one (rule, seed) run; returns its row and its rounds.
    ``made_by`` (the code version, git commit) is written beside a new run's checkpoint; a resumed
    run reports the version that started it."""
    import torch
    from nets.layers import FACTORIZED_TYPES, weight_layers, weight_matrix
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
        for name, layer in weight_layers(run.model, factorized_as_unit=True):
            if isinstance(layer, FACTORIZED_TYPES):
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


def run_training(cfg: TrainingConfig, *, device="cpu", cache: Path | None = None, log=None,
                 context: ExperimentRun | None = None) -> Result:
    """Every (seed, rule) run (seed-major, so that an interrupted sweep has whole seeds), then the
    summary and verdicts, at any ``TrainingConfig`` (``run`` is the registered experiment's entry,
    through here)."""
    cfg = _validate(cfg)
    if log is None:
        def log(msg):
            print(msg, file=sys.stderr, flush=True)
    context = context or ExperimentRun(EXPERIMENT, device=device, seed=cfg.seed)
    with context:
        return _train_all(cfg, context, None if cache is None else Path(cache), log)


def _train_all(cfg: TrainingConfig, context: ExperimentRun, cache: Path | None, log) -> Result:
    from nets.train import load_data_for
    prov = context.provenance
    made_by = f"{prov.git_commit}{'-dirty' if prov.git_dirty else ''}"
    runs, rounds = [], []
    for k in range(cfg.seeds):
        seed = cfg.seed + k
        data = load_data_for(train_config(cfg, "mp"), seed=seed)
        for rule in cfg.rules:
            got = train_one(cfg, rule, seed, data, cache, context.device, log, made_by)
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
    return context.result(config={**asdict(cfg), "train_config": tc.to_dict()}, records=summary,
                          verdicts=verdicts(runs, rounds, cfg, setting), tables={"runs": runs, "rounds": rounds})


# ------------------------------------------------------------------------------------ the experiment
QUICK = TrainingConfig(seeds=2, epochs=2, every=1, n_train=600, n_test=300, probe=200)


@dataclass(frozen=True)
class Config:
    """The command line of ``python -m sims.shrinkage_training`` (margins, probe size: ``TrainingConfig``'s)."""
    seed: int = option(0, "first training seed (seeds seed .. seed + seeds - 1)", lo=0)
    quick: bool = option(False, "2 seeds, 2 epochs, a round every epoch, 600 images: seconds to a minute")
    config: str = option("ex3.2a", "nets.configs config name (one with Algorithm 1)", choices=tuple(config_names()))
    scale: str = option("cpu", "nets.configs scale", choices=tuple(SCALES))
    rules: tuple[str, ...] | None = option(None, f"rules to compare, 'mp' included (default {' '.join(DEFAULT_RULES)})",
                                           choices=tuple(available_rules()), optional=True)
    seeds: int | None = option(None, "training seeds (default 5; --quick 2)", lo=2, hi=1000, optional=True)
    epochs: int | None = option(None, "override the config's epochs", lo=1, hi=100000, optional=True)
    cache: str | None = option(None, "checkpoint folder: runs are resumed from it (default: none, no resume)",
                               optional=True)


def toy_config(tmp_path) -> Config:
    """The quick sizes, cut to 1 epoch (one round); checkpoints under ``tmp_path``."""
    return Config(quick=True, rules=("mp", "gd_threshold"), epochs=1, cache=str(tmp_path / "cache"))


def training_config(config: Config) -> TrainingConfig:
    """The ``TrainingConfig`` a command line means (the default or ``QUICK``, then the flags)."""
    changes = {"config": config.config, "scale": config.scale, "seed": config.seed}
    if config.rules is not None:  # an empty --rules is refused by the check, not taken as the default
        changes["rules"] = tuple(config.rules)
    if config.seeds:
        changes["seeds"] = config.seeds
    if config.epochs:
        changes["epochs"] = config.epochs
    return replace(QUICK if config.quick else TrainingConfig(), **changes)


def run(config: Config = Config(), *, context: ExperimentRun | None = None, log=None) -> Result:
    """Algorithm 1 with each rule on paired seeds, checkpointed under ``config.cache``."""
    cfg = training_config(config)
    context = context or ExperimentRun(EXPERIMENT, config)
    context.seed = cfg.seed
    return run_training(cfg, cache=config.cache, log=log, context=context)


def main(argv=None) -> int:
    from sims.experiment import cli_main
    return cli_main(EXPERIMENT, argv)


if __name__ == "__main__":
    sys.exit(main())
