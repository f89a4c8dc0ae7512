"""Epoch time of nets.train with the MP pruning callback (Algorithm 1) against a plain torch
training loop with no callback, measured in the same process, epochs interleaved so that load from
other processes hits all variants alike.  Target: overhead <= 5% averaged over the run.

All three variants train the same cpu-scale Example 3.2 net ([784, 200, 400, 200, 50, 10] on a
Fashion-MNIST subset) with the same seed, batches, loss (cross-entropy + L2 of (E.7)) and test-set
evaluation after every epoch; they differ only in the training driver and the callback.
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from nets.configs import get_config
from nets.data import DatasetNotFoundError, DataSplits, epoch_generator, load_dataset, make_loader
from nets.models import build_model
from nets.train import EVAL_BATCH, Run, make_callbacks, regularisation


def _data(cfg, n_train: int, n_test: int) -> tuple[DataSplits, str]:
    try:
        return load_dataset(cfg.dataset, seed=0, n_train=n_train, n_test=n_test), cfg.dataset
    except DatasetNotFoundError:
        # Timing only needs tensors of the right shape; say so in the rows.
        from torch.utils.data import TensorDataset
        g = torch.Generator().manual_seed(0)
        mk = lambda n: TensorDataset(torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g))
        return DataSplits(mk(n_train), mk(n_test), (1, 28, 28), 10, "classification", {}), "random tensors"


class PlainLoop:
    """The reference: a bare torch loop (SGD with momentum, same loss, same batches, test eval)."""

    def __init__(self, cfg, data, seed=0):
        self.cfg, self.data, self.seed, self.epoch = cfg, data, seed, 0
        self.model = build_model(cfg.model, seed=seed)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=cfg.lr, momentum=cfg.momentum)

    def train_epoch(self):
        torch.manual_seed(self.epoch)
        self.model.train()
        for x, y in make_loader(self.data.train, self.cfg.batch_size, generator=epoch_generator(self.seed, self.epoch)):
            loss = F.cross_entropy(self.model(x), y) + regularisation(self.model, self.cfg.l1, self.cfg.l2)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        self.model.eval()
        with torch.no_grad():
            for x, y in make_loader(self.data.test, EVAL_BATCH, shuffle=False):
                F.cross_entropy(self.model(x), y)
        self.epoch += 1


def main(quick: bool = False) -> list[dict]:
    # One thread, as `python -m nets.train` defaults to: on the shared 2-core machine two threads ran
    # 20x slower under oversubscription, which would swamp the comparison.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _measure(quick)
    finally:
        torch.set_num_threads(threads)


def _measure(quick: bool) -> list[dict]:
    cfg = get_config("ex3.2a", "cpu")
    epochs, n_train, n_test = (7, 2000, 1000) if quick else (70, 10000, 10000)
    cfg.epochs = epochs
    data, source = _data(cfg, n_train, n_test)
    plain = PlainLoop(cfg, data)
    bare = Run(cfg, data, seed=0, progress=False, label="no-callback")
    pruned = Run(cfg, data, seed=0, progress=False, callbacks=make_callbacks(cfg, True), label="pruned")
    times = {"plain": 0.0, "bare": 0.0, "pruned": 0.0}
    callback_time = 0.0
    for _ in range(epochs):
        for key, runner in (("plain", plain), ("bare", bare), ("pruned", pruned)):
            t0 = time.perf_counter()
            row = runner.train_epoch()
            times[key] += time.perf_counter() - t0
            if key == "pruned":
                callback_time += row["callback_time_s"]
    per = {k: v / epochs for k, v in times.items()}
    note = f"{epochs} epochs, n_train={n_train}, {source}, pruning every {cfg.pruning['every']}"
    final_params = pruned.summary()["final_parameters"]
    return [
        {"name": f"plain torch loop, s/epoch ({note})", "value": per["plain"], "unit": "s"},
        {"name": "nets.train Run without callbacks, s/epoch", "value": per["bare"], "unit": "s",
         "baseline": per["plain"], "ratio": per["bare"] / per["plain"], "target": "<= 1.05"},
        {"name": "nets.train Run with MP pruning callback, s/epoch", "value": per["pruned"], "unit": "s",
         "baseline": per["plain"], "ratio": per["pruned"] / per["plain"], "target": "<= 1.05"},
        {"name": "pruning callback time, s/epoch (averaged over the run)", "value": callback_time / epochs,
         "unit": "s", "baseline": per["plain"], "ratio": callback_time / epochs / per["plain"]},
        {"name": "parameters after the run (pruned)", "value": final_params, "unit": "parameters",
         "baseline": pruned.initial_parameters, "ratio": final_params / pruned.initial_parameters},
    ]
