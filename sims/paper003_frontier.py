"""Paper 003's own pruning method against the package's MP rank truncation, magnitude and random
pruning: accuracy against parameters kept, on the package's small ViT and on a Section 3 fully
connected net, Fashion-MNIST, several seeds (claim ``003:abstract:1``).

Methods (every one prunes the same matrices: the transformer blocks' attention and MLP weights of the
ViT, every hidden layer of the FC net; patch embedding, head and output layer stay dense):

* ``003``: ``nets.singular_vector_sparsification`` with the authors' driver settings (BEMA alpha
  0.25, beta 0.8, GoF cutoff 1, ratio 1: every singular value kept, so layers are recomposed, never
  split), ``cycles`` prune cycles (vectors sparsified on even cycles, per-layer magnitude targets,
  then ``finetune_samples`` samples of fine-tuning with the task loss plus the lasso-weighted L1);
  one point per cycle, after its fine-tuning (as the driver records them, D:157-162);
* ``magnitude``: global magnitude pruning (smallest |w| over the pruned matrices) to the non-zero
  count 003's method reached in each cycle, then the same fine-tuning budget (task loss only);
* ``random``: the same with uniformly random entries;
* ``finetune_only``: the control, no pruning, the same fine-tuning samples per cycle;
* ``mp_truncation``: the package's plain MP rank truncation (``nets.prune_model``: a portion q of each
  matrix's singular values below sqrt(lambda_+ N) removed, Q/K/V fitted separately, factorised where
  that saves parameters), no fine-tuning: what the package checked before, *not* 003's method.

Counts: ``nonzero`` = non-zero entries of all parameters as the model uses them (003's count,
P:21-34); ``stored`` = entries stored after factorisation, zeros included (unstructured zeros save
no memory without a sparse format). ``removed = 1 - count / unpruned parameter count``.

Verdict rule (declared before the runs: ``DECLARATIONS``, through ``core.protocol``). For each net,
003's method, two endpoints: the first cycle whose mean (over seeds) ``removed`` (non-zero count)
reaches 0.30, and the first reaching 0.50 (the abstract's "30-50%"). Per seed the accuracy drop
(unpruned pre-trained minus pruned test accuracy, in points: the abstract's comparison); the row's
one statistic is the mean over seeds of 1 point minus the drop, rule ``paired_sign`` (exact two-sided
sign-flip test, bootstrap interval): holds when significantly above 0 ("less than 1% loss"), fails
when significantly below, else inconclusive with the seeds needed; Holm over the family's tests
(both nets, both endpoints), alpha 0.05.  Control, its own rows and family (added after the first FC
runs showed fine-tuning alone moving accuracy by about a point on these under-trained nets): the same
rule on the drop against the ``finetune_only`` control (the unpruned net fine-tuned with the same
samples, cycle by cycle).  Until issue 23 the rule was a 97.5% Student t interval per endpoint with
the control folded into the same word.  Each verdict's setting and declared scale name the net, data
and seeds: neither is ViT-B/16 on ImageNet, so every word is scoped to this scale
(``003:abstract:1`` keeps its not-checked entry for the paper's setting).

Budget (CPU scale): the FC nets are pre-trained here (``fc_epochs`` on ``n_train`` images) and
fine-tuned ``finetune_samples`` samples per cycle, evaluated on ``n_test`` test images; the ViTs come
from ``python -m nets.vit`` run directories (``vit_dirs``, one per seed; the committed run: 10 epochs
on the first 30,000 images) and are fine-tuned ``vit_finetune_samples`` samples per cycle, evaluated
on the first ``vit_n_test`` test images. Every method of a net gets the same fine-tuning samples.

Resumable: each (net, seed, method) stage is cached under ``cache`` (JSON keyed by the settings it
depends on), the FC nets' pre-trained weights too; ``methods`` restricts a process to some stages
(003 first: magnitude and random are matched to its per-cycle counts), so stages can run in
parallel processes and a final run assembles them.

The arms (data, pre-training, each method) are in ``sims.paper003_arms``, the declarations, frontier
table and verdicts in ``sims.paper003_frontier_verdicts``; this module holds the config, the
resumable per-unit cache and the run.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.result import Result
from core.validate import InvalidArgument
from sims.experiment import ExperimentRun, option
from sims.paper003_arms import (METHODS, NETS, evaluate, load_data, pruned_tensors, run_003,  # noqa: F401
                                run_finetune_only, run_mp_truncation, run_unstructured, train_fc)
from sims.paper003_frontier_verdicts import (CLAIM, DECLARATIONS, ENDPOINTS, FAMILY_ALPHA, SCALE,  # noqa: F401
                                             describe, frontier, verdicts)

MODULE = "sims.paper003_frontier"
CLAIMS = ("003:abstract:1",)
# the settings a cached unit depends on (FC; the ViT adds its own)
FC_KEY_FIELDS = ("fc_topology", "fc_epochs", "n_train", "n_test", "cycles", "finetune_samples", "finetune_lr_fc",
                 "finetune_lr_vit", "mp_levels", "data")
VIT_KEY_FIELDS = ("vit_finetune_samples", "vit_n_test")


@dataclass(frozen=True)
class Config:
    nets: tuple[str, ...] = option(NETS, "networks: fc (Section 3 FC net) and/or vit (nets.vit runs)",
                                   choices=NETS)
    seeds: tuple[int, ...] = option((0, 1, 2), "seeds of the FC nets (ViT: the vit_dirs' own seeds)", lo=0)
    vit_dirs: tuple[str, ...] = option((), "nets.vit run directories, one per seed")
    fc_topology: tuple[int, ...] = option((784, 200, 400, 200, 50, 10),
                                          "FC topology (Example 3.2a's [784, 2000, 4000, 2000, 500, 10] / 10)",
                                          lo=1)
    fc_epochs: int = option(8, "FC pre-training epochs (SGD, momentum 0.9, lr 0.01 x 0.96^epoch, batch 64)",
                            lo=1, hi=1000)
    n_train: int = option(30000, "training images (FC pre-training, every fine-tuning; the ViTs' own "
                                 "pre-training set when they were trained with --n-train 30000)", lo=10)
    n_test: int = option(10000, "test images", lo=10)
    cycles: int = option(13, "prune cycles of 003's method (each gives one point)", lo=1, hi=34)
    finetune_samples: int = option(4096, "training samples of fine-tuning per cycle (every method)", lo=0)
    finetune_lr_fc: float = option(1e-4, "AdamW learning rate of the FC fine-tuning", lo=0.0)
    finetune_lr_vit: float = option(2e-4, "AdamW learning rate of the ViT fine-tuning", lo=0.0)
    vit_finetune_samples: int = option(2048, "training samples of fine-tuning per cycle on the ViT", lo=0)
    vit_n_test: int = option(5000, "test images of the ViT comparison (the first ones)", lo=10)
    methods: tuple[str, ...] = option(METHODS, "methods this process computes (magnitude and random "
                                      "need 003's cached per-cycle counts)", choices=METHODS)
    mp_levels: tuple[float, ...] = option((0.25, 0.5, 0.75, 1.0),
                                          "portions of the bulk removed by mp_truncation", lo=0.0, hi=1.0)
    data: str = option("fashion_mnist", "fashion_mnist, or synthetic (toy runs only)",
                       choices=("fashion_mnist", "synthetic"))
    cache: str = option("runs/paper003_frontier", "directory of the resumable per-unit cache")


def toy_config(tmp_path=None) -> Config:
    return Config(nets=("fc",), seeds=(0,), fc_topology=(784, 40, 40, 10), fc_epochs=1, n_train=600,
                  n_test=300, cycles=2, finetune_samples=128, mp_levels=(1.0,), data="synthetic",
                  cache=str(Path(tmp_path or "runs/toy") / "paper003_frontier"))


# ------------------------------------------------------------------------------------------------
# one unit (net, seed)
# ------------------------------------------------------------------------------------------------
def run_stage(net: str, seed: int, method: str, model0, data, cfg: Config, targets=None) -> dict:
    """One method on one pre-trained net: {"rows", "layers", "targets"} (003 also gives the
    unpruned row and the per-cycle non-zero counts the other methods are matched to)."""
    import nets.singular_vector_sparsification as svs
    test = data[1]
    base_loss, base_acc = evaluate(model0, *test)
    total = svs.stored_parameters(model0)
    tensors = pruned_tensors(net, model0)
    lr = cfg.finetune_lr_vit if net == "vit" else cfg.finetune_lr_fc
    run_cfg = cfg if net == "fc" else Config(**{**asdict(cfg), "finetune_samples": cfg.vit_finetune_samples})

    def point(method, level, model, correction: int = 0, **extra):
        loss, acc = evaluate(model, *test)
        nonzero = svs.count_nonzero_parameters(model) - correction
        stored = svs.stored_parameters(model) - correction
        return dict(net=net, seed=seed, method=method, level=level, parameters=total, nonzero=nonzero,
                    stored=stored, removed_nonzero=1 - nonzero / total, removed_stored=1 - stored / total,
                    test_accuracy=acc, test_loss=loss, base_accuracy=base_acc, base_loss=base_loss,
                    accuracy_drop_points=100 * (base_acc - acc), **extra)

    if method == "003":
        rows, targets, layer_rows = run_003(model0, tensors, data, run_cfg, lr, seed, point)
        return {"rows": [point("unpruned", 0, model0)] + rows, "layers": layer_rows, "targets": targets}
    if method == "mp_truncation":
        return {"rows": run_mp_truncation(model0, tensors, data, run_cfg, point), "layers": []}
    if method == "finetune_only":
        return {"rows": run_finetune_only(model0, data, run_cfg, lr, seed, point), "layers": []}
    return {"rows": run_unstructured(method, model0, tensors, data, run_cfg, lr, seed, targets, point),
            "layers": []}



# ------------------------------------------------------------------------------------------------
# the experiment
# ------------------------------------------------------------------------------------------------
def _vit_units(cfg: Config):
    from nets.vit import load_trained
    for d in cfg.vit_dirs:
        if not (Path(d) / "checkpoint.pt").is_file():
            raise InvalidArgument(f"vit_dirs: {d} has no checkpoint.pt; train it with python -m nets.vit")
    for d in cfg.vit_dirs:
        model, state = load_trained(d)
        meta = state["meta"]
        if state["epoch"] < meta["settings"]["epochs"]:
            raise InvalidArgument(f"vit_dirs: {d} stopped after epoch {state['epoch']} of "
                                  f"{meta['settings']['epochs']}; resume it with python -m nets.vit")
        curve = [{"epoch": r["epoch"], "test_accuracy": r["test_accuracy"], "train_loss": r["train_loss"]}
                 for r in state["rows"] if "test_accuracy" in r]
        yield int(meta["seed"]), model, {"config": meta["config"], "settings": meta["settings"],
                                         "epochs": state["epoch"], "curve": curve, "dir": str(d)}


def run(config: Config, *, context: ExperimentRun | None = None, log=None) -> Result:
    import torch
    ctx = context or ExperimentRun(MODULE, config)
    log = log or (lambda m: print(m, file=sys.stderr, flush=True))
    with ctx:
        if "vit" in config.nets and not config.vit_dirs:
            raise InvalidArgument("nets includes vit: give vit_dirs (python -m nets.vit run directories)")
        cache = Path(config.cache)
        data = load_data(config)
        flat = ((data[0][0].flatten(1), data[0][1]), (data[1][0].flatten(1), data[1][1]))
        units = {}

        def key_of(net):
            # the settings a unit depends on (the FC key is what the first FC runs stored)
            fields = FC_KEY_FIELDS + (VIT_KEY_FIELDS if net == "vit" else ())
            return json.dumps({k: v for k, v in asdict(config).items() if k in fields}, sort_keys=True)

        def unit(net, seed, build):
            key = key_of(net)
            whole = cache / f"{net}_seed{seed}.json"
            built, stages = None, {}
            if whole.is_file():
                stored = json.loads(whole.read_text())
                if stored.get("key") == key:
                    # an earlier run's whole unit (before the finetune_only control): split into stages
                    u = stored["unit"]
                    for m in ("003", "magnitude", "random", "mp_truncation"):
                        stages[m] = {"rows": [r for r in u["rows"] if r["method"] == m
                                              or (m == "003" and r["method"] == "unpruned")],
                                     "layers": u["layers"] if m == "003" else [], "pretrain": u["pretrain"],
                                     "compute": (u.get("compute") if m == "003" else None)
                                     or {"wall_s": 0.0, "cpu_s": 0.0}}
                    log(f"{net} seed {seed}: cached ({whole})")
            for method in METHODS:
                if method in stages:
                    continue
                path = cache / f"{net}_seed{seed}_{method}.json"
                if path.is_file() and json.loads(path.read_text()).get("key") == key:
                    stages[method] = json.loads(path.read_text())["stage"]
                    continue
                if method not in config.methods:
                    continue
                if method in ("magnitude", "random") and "003" not in stages:
                    raise InvalidArgument(f"methods: {method} on {net} seed {seed} needs 003's cached "
                                          f"counts ({cache / f'{net}_seed{seed}_003.json'}); run 003 first")
                if built is None:
                    built = build()
                model, pretrain, d = built
                torch.manual_seed(seed)
                t0, c0 = time.perf_counter(), time.process_time()
                stage = run_stage(net, seed, method, model, d, config, stages.get("003", {}).get("targets"))
                stage["compute"] = {"wall_s": round(time.perf_counter() - t0, 1),
                                    "cpu_s": round(time.process_time() - c0, 1)}
                stage["pretrain"] = pretrain
                cache.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({"key": key, "stage": stage}))
                stages[method] = stage
                log(f"{net} seed {seed}: {method} done")
            if set(stages) != set(METHODS):
                log(f"{net} seed {seed}: stages {sorted(stages)} of {list(METHODS)} done; not in this Result")
                return None
            return {"rows": [r for m in METHODS for r in stages[m]["rows"]],
                    "layers": stages["003"]["layers"], "pretrain": stages["003"].get("pretrain")
                    or stages["finetune_only"]["pretrain"],
                    "compute": {k: round(sum(stages[m]["compute"][k] for m in METHODS), 1)
                                for k in ("wall_s", "cpu_s")}}

        if "fc" in config.nets:
            for seed in config.seeds:
                def build(seed=seed):
                    model, curve = train_fc(config, flat, seed, cache)
                    return model, {"epochs": config.fc_epochs, "curve": curve}, flat
                units[("fc", seed)] = unit("fc", seed, build)
        if "vit" in config.nets:
            vit_data = (data[0], (data[1][0][:config.vit_n_test], data[1][1][:config.vit_n_test]))
            for seed, model, pre in _vit_units(config):
                units[("vit", seed)] = unit("vit", seed, lambda m=model, p=pre: (m, p, vit_data))
        units = {k: u for k, u in units.items() if u is not None}
        rows = [r for u in units.values() for r in u["rows"]]
        layers = [dict(net=n, **r) for (n, _), u in units.items() for r in u["layers"]]
        pretrain = [dict(net=n, seed=s, epoch=c["epoch"], test_accuracy=c["test_accuracy"])
                    for (n, s), u in units.items() for c in u["pretrain"]["curve"]]
        compute = [dict(net=n, seed=s, **u.get("compute", {"wall_s": None, "cpu_s": None}))
                   for (n, s), u in units.items()]
        return ctx.result(config=asdict(config), records=rows, verdicts=verdicts(rows, units, config),
                          tables={"frontier": frontier(rows), "layers": layers, "pretraining": pretrain,
                                  "unit_compute": compute})


if __name__ == "__main__":
    from sims.experiment import cli_main
    sys.exit(cli_main(MODULE))
