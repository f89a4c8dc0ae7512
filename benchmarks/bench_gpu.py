"""`python -m benchmarks gpu`: the GPU check of issue 14, a <= 5 minute script for one GPU.

1. The dense engine (sims.linalg.top_singular_triplets, certified to sims.spiked_model.ENGINE_TOL)
   on the Fig 4.3 workload (W = R + diag(30, 40, 50, 60, 70), R iid N(0, 1/N), Example 4.2, float64)
   at N = 3000, 10000, 20000 on the device, against the same engine on the CPU in the same run.
   The CPU is timed on ``cpu_trials`` matrices and scaled to the device's count (each trial costs
   the same), because ten 20000 x 20000 float64 matrices (32 GB) are not worth drawing twice.
   Matrices are drawn on the CPU by the seeded per-trial generators (sims.noise) and moved, so both
   devices see the same matrices and their top singular values are compared.
2. One paper-scale training epoch of Example 3.2a (FC [784, 2000, 4000, 2000, 500, 10], the full
   60,000 Fashion-MNIST images, batch 128; paper 000 Section 3.2) with the data resident on the
   device, against ``cpu_batches`` CPU batches scaled to the epoch.

Run on a machine without a GPU it runs everything on the CPU ("device = cpu") and says so; with
``--quick`` the sizes are tiny (the CPU test of this script).  The rows go to the benchmarks table;
``python -m benchmarks gpu --json PATH`` writes them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from sims.linalg import top_singular_triplets
from sims.noise import spiked_matrix
from sims.spiked_model import ENGINE_TOL, PAPER_SPIKES


@dataclass
class GpuCheckConfig:
    sizes: tuple[int, ...] = (3000, 10000, 20000)
    trials: tuple[int, ...] = (10, 10, 4)       # matrices on the device, per size
    cpu_trials: int = 1                         # matrices timed on the CPU, per size
    train_config: str = "ex3.2a"
    train_scale: str = "paper"
    train_n: int | None = None                  # None: the full 60,000 images
    cpu_batches: int = 10
    widths: tuple[int, ...] | None = None       # override the hidden widths (tiny CPU test)


QUICK = GpuCheckConfig(sizes=(80, 120), trials=(3, 2), cpu_trials=1, train_n=512,
                       cpu_batches=2, widths=(32, 16))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device):
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return out, time.perf_counter() - t0


def engine_rows(cfg: GpuCheckConfig, device: torch.device) -> list[dict]:
    r = len(PAPER_SPIKES)
    rows = []
    cpu = torch.device("cpu")
    top_singular_triplets(torch.randn(1, 64, 64, dtype=torch.float64, device=device), r,
                          tol=ENGINE_TOL)  # warm-up: kernels, allocator
    for n, trials in zip(cfg.sizes, cfg.trials):
        W = spiked_matrix(PAPER_SPIKES, n, n, seed=0, trials=range(trials)).W
        (_, s_dev, _), t_dev = _timed(
            lambda: top_singular_triplets(W.to(device), r, tol=ENGINE_TOL), device)
        k = min(cfg.cpu_trials, trials)
        (_, s_cpu, _), t_cpu = _timed(lambda: top_singular_triplets(W[:k], r, tol=ENGINE_TOL), cpu)
        t_cpu_all = t_cpu / k * trials
        del W
        rows += [
            {"name": f"engine top-{r}, N={n}, {trials} matrices on {device.type}", "value": t_dev,
             "unit": "s"},
            {"name": f"  CPU time for the same (timed on {k}, scaled) / {device.type} time",
             "value": t_cpu_all / t_dev, "unit": "x", "baseline": t_cpu_all,
             "ratio": t_cpu_all / t_dev},
            {"name": f"  max |s_{device.type} - s_cpu| (same matrices)",
             "value": float((s_dev[:k].cpu() - s_cpu).abs().max()), "unit": "abs"},
        ]
    return rows


def _train_steps(run, x, y, batch: int, n_batches: int) -> None:
    """SGD steps of the training loop (loss + the run's regularisation), no evaluation."""
    from nets.train import data_loss, regularisation
    for b in range(n_batches):
        xb, yb = x[b * batch:(b + 1) * batch], y[b * batch:(b + 1) * batch]
        loss = data_loss(run.model(xb), yb, run.cfg.loss)
        loss = loss + regularisation(run.model, run.cfg.l1, run.cfg.l2)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        run.optimizer.step()


def training_rows(cfg: GpuCheckConfig, device: torch.device) -> list[dict]:
    from nets.configs import get_config
    from nets.data import load_dataset
    from nets.train import Run
    tc = get_config(cfg.train_config, cfg.train_scale)
    what = f"{tc.name} ({tc.scale} widths)"
    if cfg.widths is not None:
        topo = tc.model["topology"]
        tc.model["topology"] = [topo[0], *cfg.widths, topo[-1]]
        what = f"{tc.name} (widths overridden to {tc.model['topology']})"
    data = load_dataset(tc.dataset, seed=0, n_train=cfg.train_n, n_test=cfg.train_n)
    x, y = data.train.tensors
    n_batches = -(-len(y) // tc.batch_size)
    k = min(cfg.cpu_batches, n_batches)
    dev_run = Run(tc, data, seed=0, device=device, progress=False, label="device")
    xd, yd = x.to(device), y.to(device)          # data resident on the device
    _train_steps(dev_run, xd, yd, tc.batch_size, 1)   # warm-up
    _, t_epoch = _timed(lambda: _train_steps(dev_run, xd, yd, tc.batch_size, n_batches), device)
    cpu_run = Run(tc, data, seed=0, device="cpu", progress=False, label="cpu")
    _, t_cpu = _timed(lambda: _train_steps(cpu_run, x, y, tc.batch_size, k), torch.device("cpu"))
    t_cpu_epoch = t_cpu / k * n_batches
    return [
        {"name": f"{what}: one epoch of SGD steps, {len(y)} images, batch {tc.batch_size}, "
                 f"on {device.type}", "value": t_epoch, "unit": "s"},
        {"name": f"  CPU epoch (timed on {k} of {n_batches} batches, scaled) / {device.type} epoch",
         "value": t_cpu_epoch / t_epoch, "unit": "x", "baseline": t_cpu_epoch,
         "ratio": t_cpu_epoch / t_epoch},
    ]


def gpu_check(cfg: GpuCheckConfig, device: str = "auto") -> list[dict]:
    from nets.device import resolve_device
    dev = resolve_device(device)
    rows = [{"name": f"device: {torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu'}"
                     + ("" if dev.type == "cuda" else " (no GPU visible: CPU against itself)"),
             "value": torch.get_num_threads(), "unit": "CPU threads"}]
    return rows + engine_rows(cfg, dev) + training_rows(cfg, dev)


def main(quick: bool = False) -> list[dict]:
    return gpu_check(QUICK if quick else GpuCheckConfig())
