"""Training loop of paper 000 Section 3: SGD with momentum, the loss (E.7), lr decay (3.7),
MP-based pruning (Algorithm 1) and sparsification as per-epoch callbacks, pruned and unpruned
runs side by side.

``python -m nets.train CONFIG [--scale paper|cpu] [--no-prune] [--side-by-side] [--epochs N]
[--rule RULE] [--seed S] [--device auto|cpu|cuda] [--out DIR] [--resume] [--data-dir DIR] [--json PATH]``;
``--list-configs``; ``--dry-run`` (build the model, print its summary ending in
``parameters: <count>``, load no data).  The CLI is ``core.cli``'s: bad input (unknown config,
``--stop-after 0``, a dataset that is not there) exits 2 with one line before any training, and
``--json`` writes the run as a ``core.result.Result`` (config with scale and ``cpu_changes``,
per-epoch metrics, pruning events, provenance).

Per-epoch metrics include the dead-unit measurements of ``nets.mechanism`` on the test set (dead
output and hidden units, accuracy on the live classes, the test loss summed over batches).

Loss (E.7): ``mean cross-entropy of the network's log-softmax`` (``-1/|T| sum log phi_i(s)``) +
``mu_1 sum_l ||W_l||_1 + mu_2 sum_l ||W_l||_F^2``, evaluated per minibatch, where W_l runs over the
weight tensors of every ``nn.Linear`` and ``nn.Conv2d`` module (biases and BatchNorm excluded).  A
factorised layer is two such modules, so its two factors are penalised (as in the authors' code,
which penalises every parameter of the model); the regression of E.3 uses MSE instead of the
cross-entropy.  "L2 regularisation on loss" of E.5-E.9 is this mu_2 term (not SGD's weight_decay,
which would be mu_2 twice over: d/dW mu ||W||^2 = 2 mu W).

Learning rate: lr at 0-based epoch n is ``lr * lr_decay**n`` ((3.7): lr_n = lr_{n-1} * 0.96),
set at the start of every epoch, so it survives optimizer rebuilds and resumes.

Callbacks: after each epoch, ``callback.on_epoch_end(model, epoch) -> list[dict]`` with ``epoch``
= number of epochs completed (1-based, Algorithm 1's "epoch := l" after the first l epochs).  A
callback may replace modules; when any callback reports events the optimizer is rebuilt over the
new parameters, keeping the momentum buffer of every Parameter object that survived with its
shape (unchanged layers, in-place dense replacements) and starting new parameters (the factors of a
split layer) with zero momentum.  When events were reported the test set is evaluated again
(``test_*_after_callbacks``: Fig 3.5(b)'s "after pruning").

Reproducibility: the batch order of epoch n comes from ``nets.data.epoch_generator(seed, n)`` and
the global RNG (dropout) is reseeded from (seed, n) at the start of each epoch, so pruned and
unpruned runs with the same seed start from identical weights and see identical batches, and a run
stopped after any epoch and resumed from its checkpoint reproduces the uninterrupted run's metrics
exactly (same device and thread count).  Checkpoints (``checkpoint.pt``, written atomically after
every epoch) hold the module tree as plain data, the state dicts, the metrics and RNG states, and
load with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from core.cli import nonnegative_int, positive_int
from core.validate import InvalidArgument
from core.result import git_state
from nets.checkpoint import check_output_dir, durable_save, durable_write_bytes, read_checkpoint
from nets.configs import SCALES, TrainConfig, config_names, get_config, schedule_callable
from nets.data import DataSplits, epoch_generator, load_dataset, make_loader
from nets.mechanism import evaluate_with_units, output_layer_matrix, output_rows_removed
from nets.models import build_model, count_parameters, model_structure, model_summary, rebuild_model
from nets.device import DEVICE_CHOICES, resolve_device

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.json"
_CHECKPOINT_KEYS = {"format", "config", "seed", "epoch", "metrics", "wall_time_s", "initial_parameters",
                    "structure", "model_state", "optimizer_state", "torch_rng", "cuda_rng", "callbacks"}
EVAL_BATCH = 1000


# ---------------------------------------------------------------------------------------------
# loss

def regularised_weights(model: nn.Module) -> list[torch.Tensor]:
    """The W_l of (E.7): weights of all Linear / Conv2d modules (factors of split layers included;
    ``nets.layers.weight_layers``, the one definition)."""
    from nets.layers import weight_layers
    return [m.weight for _, m in weight_layers(model)]

_CODE_STATE = git_state()  # (commit, dirty) of this process's code, read once


def regularisation(model: nn.Module, l1: float, l2: float) -> torch.Tensor:
    """mu_1 sum ||W_l||_1 + mu_2 sum ||W_l||_F^2 of (E.7)."""
    weights = regularised_weights(model)
    total = weights[0].new_zeros(())
    if l1:
        total = total + l1 * sum(w.abs().sum() for w in weights)
    if l2:
        total = total + l2 * sum(w.pow(2).sum() for w in weights)
    return total


def data_loss(output: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean over the batch.  cross_entropy = nll(log_softmax(output)); on a CNN's log-softmax output
    it equals nll(output) since log_softmax is idempotent."""
    if kind == "cross_entropy":
        return F.cross_entropy(output, target)
    if kind == "mse":
        return F.mse_loss(output, target)
    raise ValueError(f"unknown loss {kind!r}")


def count_nonzero_parameters(model: nn.Module) -> int:
    return int(sum(int(torch.count_nonzero(p).item()) for p in model.parameters() if p.requires_grad))


def _jsonable(x):
    """Plain-data copy (JSON and torch.load(weights_only=True) safe); typed events (e.g.
    nets.prune.PruneEvent) through their ``to_dict``."""
    if hasattr(x, "to_dict") and not isinstance(x, type):
        return _jsonable(x.to_dict())
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, torch.Tensor):
        return _jsonable(x.detach().cpu().tolist())
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    return repr(x)


def evaluate_model(model: nn.Module, dataset, loss: str = "cross_entropy", device="cpu") -> tuple[float, float | None]:
    """Mean loss and accuracy (None for regression) of ``model`` in eval mode."""
    model.eval()
    total_loss, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in make_loader(dataset, EVAL_BATCH, shuffle=False):
            x, y = x.to(device), y.to(device)
            out = model(x)
            total_loss += data_loss(out, y, loss).item() * len(y)
            if loss == "cross_entropy":
                correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total_loss / n, (correct / n if loss == "cross_entropy" else None)


def epoch_batches(dataset, batch_size: int, generator: torch.Generator):
    """The batches of one epoch: the permutation ``torch.randperm(n, generator)`` in chunks of
    ``batch_size`` -- the same order as ``nets.data.make_loader(dataset, batch_size,
    generator=generator)`` -- indexed straight from the dataset's tensors, so data already on a
    GPU stays there (the permutation is drawn on the CPU, so the order does not depend on the
    device)."""
    x, y = dataset.tensors
    perm = torch.randperm(len(x), generator=generator).to(x.device)
    for idx in perm.split(batch_size):
        yield x[idx], y[idx]


def _epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 2_147_483_647 + epoch * 104_729 + 3) % (2 ** 63)


# ---------------------------------------------------------------------------------------------
# callbacks

def make_callbacks(cfg: TrainConfig, prune: bool = True) -> list:
    """The per-epoch callbacks a config asks for (none when ``prune`` is False)."""
    if not prune:
        return []
    callbacks = []
    if cfg.pruning:
        from nets.algorithms import MPPruningCallback
        kwargs = {k: v for k, v in cfg.pruning.items() if k not in ("schedule", "schedule_horizon")}
        callbacks.append(MPPruningCallback(schedule=schedule_callable(cfg.pruning), **kwargs))
    if cfg.sparsification and cfg.sparsification.get("kind") == "during":
        try:
            from nets.sparsify import make_sparsification_callback
        except ImportError as err:
            raise RuntimeError("config asks for sparsification during training but "
                               f"nets.sparsify.make_sparsification_callback is not available ({err})") from err
        callbacks.append(make_sparsification_callback(cfg.sparsification, epochs=cfg.epochs))
    return callbacks


# ---------------------------------------------------------------------------------------------
# one run

class Run:
    """One training run (model, optimizer, metrics, checkpoints) of a config with a seed."""

    def __init__(self, cfg: TrainConfig, data: DataSplits, *, seed: int = 0, device="cpu",
                 out_dir: str | Path | None = None, callbacks: list | None = None, label: str = "run",
                 progress: bool = True):
        self.cfg, self.data, self.seed, self.label = cfg, data, int(seed), label
        self.device = torch.device(device)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        if self.out_dir is not None:
            check_output_dir(self.out_dir, CHECKPOINT, METRICS)
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:  # a callback that needs the run's seed or training set (nets.controls)
            if hasattr(cb, "bind_run"):
                cb.bind_run(self)
        self.progress = progress
        self.model = build_model(cfg.model, seed=self.seed, device=self.device)
        self.optimizer = self._new_optimizer()
        self.epoch = 0                # epochs completed
        self.metrics: list[dict] = []
        self.wall_time_s = 0.0
        self.initial_parameters = count_parameters(self.model)

    # -- optimizer ------------------------------------------------------------------------
    def _lr(self, epoch_index: int) -> float:
        return self.cfg.lr * self.cfg.lr_decay ** epoch_index

    def _new_optimizer(self) -> torch.optim.SGD:
        return torch.optim.SGD(self.model.parameters(), lr=self.cfg.lr, momentum=self.cfg.momentum)

    def rebuild_optimizer(self) -> int:
        """New SGD over the current parameters; returns how many momentum buffers were kept."""
        old = self.optimizer
        lr = old.param_groups[0]["lr"]
        by_id = {id(p): old.state[p] for g in old.param_groups for p in g["params"] if p in old.state}
        new = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=self.cfg.momentum)
        kept = 0
        for p in self.model.parameters():
            st = by_id.get(id(p))
            buf = None if st is None else st.get("momentum_buffer")
            if buf is not None and buf.shape == p.shape:
                new.state[p] = {"momentum_buffer": buf}
                kept += 1
        self.optimizer = new
        return kept

    # -- epochs -----------------------------------------------------------------------------
    def evaluate(self, dataset) -> tuple[float, float | None]:
        """Mean loss and accuracy (None for regression) in eval mode."""
        return evaluate_model(self.model, dataset, self.cfg.loss, self.device)

    def evaluate_test(self, suffix: str = "") -> dict:
        """Test loss and accuracy with the dead-unit measurements of ``nets.mechanism`` (one pass),
        as metric columns ``test_loss``, ``test_accuracy``, ``test_loss_sum_batch128``,
        ``dead_outputs``, ``dead_units`` ... (each with ``suffix`` appended)."""
        m = evaluate_with_units(self.model, self.data.test, self.cfg.loss, self.device,
                                batch_size=EVAL_BATCH, loss_batch=self.cfg.batch_size)
        out = {"test_loss": m["loss"], "test_accuracy": m["accuracy"],
               "test_loss_sum_batches": m["loss_sum_batches"], "dead_units": m["dead_units"],
               "units": m["units"]}
        for key in ("dead_outputs", "dead_output_classes", "classes_never_predicted",
                    "output_max_preactivation"):
            if key in m:
                out[key] = m[key]
        if "accuracy_live_classes" in m:
            out["test_accuracy_live_classes"] = m["accuracy_live_classes"]
        return {k + suffix: v for k, v in out.items()}

    def train_epoch(self) -> dict:
        """Train epoch ``self.epoch + 1``, run callbacks, record metrics, checkpoint."""
        index = self.epoch  # 0-based index of the epoch being trained
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr(index)
        torch.manual_seed(_epoch_seed(self.seed, index))
        self.model.train()
        t0, cpu0 = time.perf_counter(), time.process_time()
        # Sums stay on the device (float64) and are read once per epoch: a .item() per step would
        # synchronise a GPU 469 times an epoch.
        sums = torch.zeros(3, dtype=torch.float64, device=self.device)  # loss, regularisation, correct
        n = 0
        batches = tqdm(epoch_batches(self.data.train, self.cfg.batch_size, epoch_generator(self.seed, index)),
                       desc=f"{self.label} epoch {index + 1}/{self.cfg.epochs}", leave=False,
                       disable=not self.progress, file=sys.stderr)
        for x, y in batches:
            x, y = x.to(self.device), y.to(self.device)
            out = self.model(x)
            loss = data_loss(out, y, self.cfg.loss)
            reg = regularisation(self.model, self.cfg.l1, self.cfg.l2)
            self.optimizer.zero_grad(set_to_none=True)
            (loss + reg).backward()
            self.optimizer.step()
            b = len(y)
            with torch.no_grad():
                sums[0] += loss.detach().double() * b
                sums[1] += reg.detach().double() * b
                if self.cfg.loss == "cross_entropy":
                    sums[2] += (out.argmax(1) == y).sum()
            n += b
        sum_loss, sum_reg, correct = (float(v) for v in sums.cpu())
        if not math.isfinite(sum_loss):
            raise FloatingPointError(f"{self.label}: training loss became {sum_loss} in epoch {index + 1}")
        train_time = time.perf_counter() - t0
        row = {"epoch": index + 1, "lr": self._lr(index), "train_loss": sum_loss / n,
               "train_regularisation": sum_reg / n,
               "train_accuracy": correct / n if self.cfg.loss == "cross_entropy" else None}
        row.update(self.evaluate_test())
        row["parameters_before_callbacks"] = count_parameters(self.model)
        t1 = time.perf_counter()
        events = []
        output_before = output_layer_matrix(self.model) if self.callbacks else None
        for cb in self.callbacks:
            events.extend(cb.on_epoch_end(self.model, index + 1) or [])
        callback_time = time.perf_counter() - t1
        if events:
            row["momentum_buffers_kept"] = self.rebuild_optimizer()
            row.update(self.evaluate_test("_after_callbacks"))
            row["output_rows_removed"] = output_rows_removed(output_before, output_layer_matrix(self.model))
        # CPU seconds of this process for the whole epoch (training, evaluations, callbacks): unlike
        # wall time, not inflated when other jobs share the cores, so equal-time comparisons stay fair.
        cpu_time = time.process_time() - cpu0
        row.update({"parameters": count_parameters(self.model),
                    "nonzero_parameters": count_nonzero_parameters(self.model),
                    "train_time_s": train_time, "callback_time_s": callback_time, "cpu_time_s": cpu_time,
                    # the code that trained this epoch: a run resumed across commits says so per epoch
                    "git_commit": _CODE_STATE[0], "git_dirty": _CODE_STATE[1],
                    "events": _jsonable(events)})
        self.wall_time_s += time.perf_counter() - t0
        self.metrics.append(_jsonable(row))
        self.epoch = index + 1
        if self.out_dir is not None:
            self.save()
        return row

    # -- persistence --------------------------------------------------------------------------
    def summary(self) -> dict:
        last = self.metrics[-1] if self.metrics else {}
        return {"label": self.label, "config": self.cfg.name, "scale": self.cfg.scale, "seed": self.seed,
                "epochs_completed": self.epoch, "initial_parameters": self.initial_parameters,
                "final_parameters": count_parameters(self.model),
                "final_test_accuracy": last.get("test_accuracy_after_callbacks", last.get("test_accuracy")),
                "final_test_loss": last.get("test_loss_after_callbacks", last.get("test_loss")),
                "final_train_accuracy": last.get("train_accuracy"),
                "mean_test_accuracy_last_5": (None if not self.metrics or self.metrics[-1].get("test_accuracy") is None
                                              else sum(m["test_accuracy"] for m in self.metrics[-5:])
                                              / len(self.metrics[-5:])),
                "best_test_accuracy": max((m["test_accuracy"] for m in self.metrics
                                           if m.get("test_accuracy") is not None), default=None),
                "wall_time_s": self.wall_time_s, "device": str(self.device), "torch_threads": torch.get_num_threads(),
                "train_time_s": sum(m["train_time_s"] for m in self.metrics),
                "callback_time_s": sum(m["callback_time_s"] for m in self.metrics)}

    def save(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "format": 1, "config": _jsonable(self.cfg.to_dict()), "seed": self.seed, "label": self.label,
            "epoch": self.epoch, "metrics": self.metrics, "wall_time_s": self.wall_time_s,
            "initial_parameters": self.initial_parameters,
            "structure": model_structure(self.model),
            "model_state": self.model.state_dict(), "optimizer_state": self.optimizer.state_dict(),
            # the optimizer addresses its state by position: the names in its own order let a resume
            # rebuild that order (pruning can re-register a weight after its bias, so the model's
            # order after a rebuild from ``structure`` need not be the optimizer's)
            "optimizer_param_names": self._optimizer_param_names(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "callbacks": [_jsonable(cb.state_dict()) if hasattr(cb, "state_dict") else None
                          for cb in self.callbacks],
        }
        # Each file goes to a temporary name, is fsynced, renamed over the old one and the directory
        # fsynced (nets.checkpoint): a kill or a power cut leaves the old or the new file, never half.
        # Checkpoint first: metrics.json never reports an epoch the checkpoint cannot resume from,
        # and a resume rewrites metrics.json from the checkpoint (which holds the metrics too), so
        # a kill between the two writes loses nothing.
        durable_save(state, self.out_dir / CHECKPOINT)
        self.write_metrics()

    def write_metrics(self) -> None:
        text = json.dumps({"summary": self.summary(), "epochs": self.metrics}, indent=1)
        durable_write_bytes(text.encode(), self.out_dir / METRICS)

    def _optimizer_param_names(self) -> list[str]:
        name_of = {id(p): n for n, p in self.model.named_parameters()}
        return [name_of[id(p)] for g in self.optimizer.param_groups for p in g["params"]]

    def _optimizer_in_saved_order(self, state: dict) -> torch.optim.SGD:
        """SGD over the rebuilt model's parameters in the order the saved optimizer held them, with
        its state loaded.  A checkpoint without ``optimizer_param_names`` (written before they were
        saved) gives its model_state's key order, which is the live model's parameter order."""
        params = dict(self.model.named_parameters())
        names = state.get("optimizer_param_names") or [k for k in state["model_state"] if k in params]
        if sorted(names) != sorted(params):
            raise InvalidArgument(f"checkpoint optimizer holds parameters {sorted(set(names) ^ set(params))} "
                                  "that the rebuilt model does not (or the reverse)")
        optimizer = torch.optim.SGD([params[n] for n in names], lr=self.cfg.lr, momentum=self.cfg.momentum)
        optimizer.load_state_dict(state["optimizer_state"])
        for index, name in enumerate(names):
            buf = optimizer.state.get(params[name], {}).get("momentum_buffer")
            if buf is not None and buf.shape != params[name].shape:
                raise InvalidArgument(f"checkpoint momentum buffer {index} has shape {tuple(buf.shape)}, "
                                      f"parameter {name} {tuple(params[name].shape)}")
        return optimizer

    def load(self, path: str | Path) -> None:
        """Restore from a checkpoint of the same config (``epochs`` may differ) and seed."""
        state = read_checkpoint(path)
        missing = sorted(_CHECKPOINT_KEYS - set(state)) if isinstance(state, dict) else None
        if missing is None or missing or state.get("format") != 1:
            raise InvalidArgument(f"checkpoint {path} is not a nets.train checkpoint (format 1): "
                                  + (f"missing {missing}" if missing else f"got {type(state).__name__}"
                                     if missing is None else f"format {state.get('format')!r}"))
        saved = dict(state["config"])
        mine = _jsonable(self.cfg.to_dict())
        saved.pop("epochs", None)
        mine.pop("epochs", None)
        if saved != mine or state["seed"] != self.seed:
            raise ValueError(f"{path}: checkpoint is for config {state['config']['name']!r} "
                             f"(scale {state['config']['scale']}) seed {state['seed']}, not for this run")
        model = rebuild_model(self.cfg.model, state["structure"])
        model.load_state_dict(state["model_state"])
        self.model = model.to(self.device)
        self.optimizer = self._optimizer_in_saved_order(state)
        self.epoch, self.metrics = int(state["epoch"]), list(state["metrics"])
        self.wall_time_s, self.initial_parameters = state["wall_time_s"], state["initial_parameters"]
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        for cb, cb_state in zip(self.callbacks, state["callbacks"]):
            if cb_state is not None and hasattr(cb, "load_state_dict"):
                cb.load_state_dict(cb_state)
        if self.out_dir is not None:  # a kill between checkpoint and metrics left them one epoch apart
            self.write_metrics()


# ---------------------------------------------------------------------------------------------
# driver

def load_data_for(cfg: TrainConfig, *, seed: int = 0, data_dir=None) -> DataSplits:
    return load_dataset(cfg.dataset, data_dir=data_dir, seed=seed, n_train=cfg.n_train, n_test=cfg.n_test,
                        **cfg.dataset_kwargs)


def _move(data: DataSplits, device: torch.device) -> DataSplits:
    if device.type == "cpu":
        return data
    from torch.utils.data import TensorDataset
    return DataSplits(TensorDataset(*(t.to(device) for t in data.train.tensors)),
                      TensorDataset(*(t.to(device) for t in data.test.tensors)),
                      data.input_shape, data.n_outputs, data.task, data.info)


def _check_paths(out_dir, side_by_side: bool, resume: bool) -> None:
    """Every output path problem, before data are loaded or an epoch trained."""
    if out_dir is None:
        if resume:
            raise InvalidArgument("resume needs an output directory (out_dir / --out)")
        return
    out = check_output_dir(out_dir, "summary.json", "sparsification_sweep.json")
    for sub in (("pruned", "unpruned") if side_by_side else ()):
        check_output_dir(out / sub, CHECKPOINT, METRICS, "sparsification_sweep.json")
    if not side_by_side:
        check_output_dir(out, CHECKPOINT, METRICS)



def train_runs(cfg: TrainConfig, *, seed: int = 0, device="cpu", out_dir=None, prune: bool = True,
               side_by_side: bool = False, resume: bool = False, data: DataSplits | None = None,
               data_dir=None, stop_after: int | None = None, progress: bool = True) -> list[Run]:
    """Train one run (or the pruned and unpruned runs side by side, interleaved epoch by epoch) and
    return the ``Run`` objects (per-epoch metrics in ``run.metrics``; a post-training
    sparsification sweep, when the config asks for one, in ``run.sparsification_sweep``).

    ``stop_after``: stop once this many epochs are completed (simulates a killed run; resume it
    with ``resume=True``)."""
    device = torch.device(device)
    _check_paths(out_dir, side_by_side, resume)
    if data is None:
        data = load_data_for(cfg, seed=seed, data_dir=data_dir)
    data = _move(data, device)
    out = Path(out_dir) if out_dir is not None else None
    if side_by_side:
        specs = [("pruned", True), ("unpruned", False)]
    else:
        specs = [("pruned" if prune and (cfg.pruning or cfg.sparsification) else "unpruned", prune)]
    runs = []
    for label, with_callbacks in specs:
        run_dir = (out / label) if (out is not None and side_by_side) else out
        run = Run(cfg, data, seed=seed, device=device, out_dir=run_dir,
                  callbacks=make_callbacks(cfg, with_callbacks), label=label, progress=progress)
        if resume:
            if run_dir is None:
                raise ValueError("resume needs an output directory")
            ckpt = run_dir / CHECKPOINT
            if ckpt.is_file():
                run.load(ckpt)
                print(f"[{label}] resumed from {ckpt} after epoch {run.epoch}", file=sys.stderr)
            else:
                print(f"[{label}] no checkpoint at {ckpt}; starting from epoch 0", file=sys.stderr)
        runs.append(run)
    last = cfg.epochs if stop_after is None else min(cfg.epochs, stop_after)
    for epoch in tqdm(range(min(r.epoch for r in runs), last), desc=cfg.name, disable=not progress, file=sys.stderr):
        for run in runs:
            if run.epoch == epoch:
                row = run.train_epoch()
                if progress:
                    acc = row.get("test_accuracy_after_callbacks", row["test_accuracy"])
                    tqdm.write(f"[{run.label}] epoch {row['epoch']}: train loss {row['train_loss']:.4f} "
                               f"test loss {row['test_loss']:.4f} test acc {acc} params {row['parameters']}",
                               file=sys.stderr)
    sweep_spec = cfg.sparsification if cfg.sparsification and cfg.sparsification.get("kind") == "after" else None
    if sweep_spec and all(run.epoch >= cfg.epochs for run in runs):
        # Figs 3.6 / 3.9 / 3.11: post-training threshold sweep, for the pruned and the unpruned model.
        from nets.sparsify import sparsification_sweep
        for run in runs:
            run.sparsification_sweep = _jsonable(sparsification_sweep(
                run.model, sweep_spec["xi"],
                lambda m, run=run: evaluate_model(m, run.data.test, cfg.loss, run.device)[1]))
            if run.out_dir is not None:
                (run.out_dir / "sparsification_sweep.json").write_text(
                    json.dumps(run.sparsification_sweep, indent=1))
    return runs


def train(cfg: TrainConfig, *, seed: int = 0, device="cpu", out_dir=None, prune: bool = True,
          side_by_side: bool = False, resume: bool = False, data: DataSplits | None = None,
          data_dir=None, stop_after: int | None = None, progress: bool = True) -> dict:
    """``train_runs`` and the summaries: {label: summary} (plus "comparison" for side by side)."""
    runs = train_runs(cfg, seed=seed, device=device, out_dir=out_dir, prune=prune,
                      side_by_side=side_by_side, resume=resume, data=data, data_dir=data_dir,
                      stop_after=stop_after, progress=progress)
    result = {run.label: run.summary() for run in runs}
    for run in runs:
        if getattr(run, "sparsification_sweep", None) is not None:
            result[run.label]["sparsification_sweep"] = run.sparsification_sweep
    if side_by_side:
        p, u = result["pruned"], result["unpruned"]
        result["comparison"] = {
            "same_seed_same_data_order": True, "seed": seed,
            "test_accuracy_pruned_minus_unpruned": (None if p["final_test_accuracy"] is None else
                                                    p["final_test_accuracy"] - u["final_test_accuracy"]),
            "parameter_reduction": 1 - p["final_parameters"] / p["initial_parameters"],
        }
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(_jsonable(result), indent=1))
    return result


def _parser(argv=None) -> argparse.ArgumentParser:
    from core.cli import make_parser, positive_int
    p = make_parser("nets.train", __doc__, options=("seed", "device", "json", "out", "threads", "verbose"))
    p.add_argument("config", nargs="?", help="config name (see --list-configs)")
    p.add_argument("--list-configs", action="store_true", help="list the named configs and exit")
    p.add_argument("--scale", choices=SCALES, default="paper")
    p.add_argument("--dry-run", action="store_true", help="build the model, print its summary, exit")
    p.add_argument("--no-prune", action="store_true", help="train without pruning/sparsification callbacks")
    p.add_argument("--side-by-side", action="store_true", help="pruned and unpruned runs, same seed and batches")
    p.add_argument("--epochs", type=positive_int, help="override the config's epoch count (recorded in the Result)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--data-dir", type=Path, help="dataset directory (default: see nets.data)")
    p.add_argument("--stop-after", type=positive_int, help="stop after this many epochs (resume later)")
    p.add_argument("--rule", default="mp", help="Algorithm 1's rule: mp (the papers', default) or a "
                   "rule of theory.shrinkage (nets.prune.available_rules())")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(_argv=None if argv is None else [str(a) for a in argv])
    return p


def main(argv=None) -> int:
    """``python -m nets.train``: bad input (unknown config, --stop-after 0, a missing dataset, a
    CUDA device that is not there) exits 2 with one line before any training."""
    from core.cli import run
    return run(_parser(argv), argv, _main)


def _main(args):
    from core.result import Provenance, Result
    from core.validate import InvalidArgument
    from nets.data import DatasetNotFoundError
    if args.list_configs:
        for name in config_names():
            cfg = get_config(name, args.scale)
            print(f"{name:<28} {cfg.dataset:<14} {cfg.epochs:>5} ep  {cfg.description}")
        return None
    if not args.config:
        raise InvalidArgument("a config name is required (or --list-configs)")
    try:
        cfg = get_config(args.config, args.scale)
    except ValueError as err:
        raise InvalidArgument(str(err)) from None
    if args.epochs is not None:
        cfg.cpu_changes = {**cfg.cpu_changes, "epochs_override": [cfg.epochs, args.epochs]}
        cfg.epochs = args.epochs
    if args.rule != "mp":
        from nets.configs import with_rule
        from nets.prune import available_rules
        if args.rule not in available_rules() or not cfg.pruning:
            raise InvalidArgument(f"--rule must be one of {available_rules()} on a config with MP "
                                  f"pruning, got {args.rule!r}")
        cfg = with_rule(cfg, args.rule)
    if args.dry_run:
        model = build_model(cfg.model, device="meta")
        # the description is the paper's setting; a reduced scale says what it builds instead
        print(f"config {cfg.name} (scale {cfg.scale}): {cfg.description}"
              + (" [as in the paper; this scale differs:]" if cfg.cpu_changes else ""))
        for key, change in cfg.cpu_changes.items():
            if isinstance(change, (list, tuple)) and len(change) == 2:
                print(f"  built at scale {cfg.scale}: {key} {change[1]} (paper: {change[0]})")
            else:
                print(f"  built at scale {cfg.scale}: {key} {change}")
        print(f"dataset {cfg.dataset}, epochs {cfg.epochs}, batch {cfg.batch_size}, lr {cfg.lr} "
              f"(decay {cfg.lr_decay}), momentum {cfg.momentum}, L1 {cfg.l1}, L2 {cfg.l2}")
        print(f"pruning {cfg.pruning}")
        if cfg.sparsification:
            print(f"sparsification {cfg.sparsification}")
        print(model_summary(model))
        return None
    if args.side_by_side and args.no_prune:
        raise InvalidArgument("--side-by-side already trains the unpruned run next to the pruned one; "
                              "drop --no-prune")
    torch.set_num_threads(args.threads)
    try:
        device = resolve_device(args.device)
    except ValueError as exc:
        raise InvalidArgument(f"--device {args.device}: {exc}") from None
    out = args.out or Path("runs") / (f"{cfg.name}-{cfg.scale}-seed{args.seed}"
                                      + ("" if args.rule == "mp" else f"-{args.rule}"))
    if args.resume and not out.exists():
        raise InvalidArgument(f"--resume: output directory {out} does not exist")
    try:
        data = load_data_for(cfg, seed=args.seed, data_dir=args.data_dir)
    except DatasetNotFoundError as exc:
        raise InvalidArgument(f"dataset {cfg.dataset}: {exc}") from None
    prov = Provenance.start(argv=args._argv, seed=args.seed, device=str(device), module="nets.train")
    runs = train_runs(cfg, seed=args.seed, device=device, out_dir=out, prune=not args.no_prune,
                      side_by_side=args.side_by_side, resume=args.resume, data=data,
                      stop_after=args.stop_after, progress=not args.quiet)
    for run in runs:
        sm = run.summary()
        print(f"[{run.label}] epochs {sm['epochs_completed']}/{cfg.epochs}: test accuracy "
              f"{sm['final_test_accuracy']}, parameters {sm['initial_parameters']} -> {sm['final_parameters']}")
    print(f"checkpoints and metrics in {out}")
    return training_result(cfg, runs, prov.stop(), seed=args.seed)


def training_result(cfg: TrainConfig, runs: list[Run], prov, seed: int):
    """A training run as a ``core.result.Result``: config (scale and ``cpu_changes`` included),
    per-epoch metrics as records (events in their own table), one summary row per run."""
    from core.result import Result
    records, events = [], []
    for run in runs:
        for m in run.metrics:
            row = {"run": run.label}
            for key, value in m.items():
                if key == "events":
                    events += [{"run": run.label, "epoch": m["epoch"], **{k: v for k, v in ev.items()
                                                                          if not isinstance(v, (list, dict))}}
                               for ev in value]
                elif isinstance(value, dict):
                    row.update({f"{key}.{k}": v for k, v in value.items()})
                else:
                    row[key] = value
            records.append(row)
    summaries, sweep = [], []
    for run in runs:
        summaries.append(run.summary())
        for r in getattr(run, "sparsification_sweep", None) or []:
            sweep.append({"run": run.label, **{k: v for k, v in r.items() if not isinstance(v, (list, dict))}})
    tables = {"summary": summaries, "events": events}
    if sweep:
        tables["sparsification_sweep"] = sweep
    return Result(experiment="nets.train", config={**cfg.to_dict(), "seed": seed}, provenance=prov,
                  records=records, tables=tables)


if __name__ == "__main__":
    sys.exit(main())
