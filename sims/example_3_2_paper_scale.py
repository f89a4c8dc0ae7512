"""Example 3.2 of paper 000 at paper scale on one GPU: the three topologies of Table 3.4, pruned
and unpruned side by side (same seed, same initial weights, same batches), all 60,000 training
images, the paper's 70 epochs (E.6), batch 128: about 33,000 optimizer steps per run.

``python -m sims.example_3_2_paper_scale --device cuda [--seeds 3] [--budget-min 8] [--data-dir DIR]
[--json results/section3/paper_scale.json]`` (formerly ``nets.paper_scale``) prints its estimated
GPU time before it starts and cuts seeds (never below 2) until the estimate fits the budget;
``--estimate-only`` stops there.  ``--tiny`` runs the same code path at a toy size on the CPU (the
test of this command).  Its verdicts are those of ``sims.example_3_2``, one Result over the
topologies named ``RESULT_NAME``.

How the time is kept down (Section 3.2's recipe unchanged):

* the data sit on the device for the whole run and batches are cut from a permutation drawn on the
  CPU (``nets.train.epoch_batches``, the DataLoader's exact order): no DataLoader, no workers;
* the loss, accuracy and regularisation sums stay on the device, read once per epoch;
* SVDs run on the device (``torch.linalg.svd`` on the weights where they live, float64); BEMA
  (Algorithm 2) fits only the min(n, m) squared singular values, on the CPU in numpy;
* matmuls in TF32 on the GPU (``torch.backends.cuda.matmul.allow_tf32``), recorded in the config;
* no checkpoints (an 18M-parameter checkpoint every epoch would cost more than the epoch).

Seeds are not stacked with ``torch.func``: the pruned runs change shape at every pruning round,
differently per seed, so only the unpruned half could be stacked.  The estimate is
FLOPs / ``--tflops`` + steps x ``--step-ms`` + SVD FLOPs / ``--svd-tflops``, with the assumed rates
printed beside it (defaults: a conservative 100 TFLOP/s TF32 at batch 128, 0.6 ms of Python and
kernel launches per eager optimizer step, 0.5 TFLOP/s for float64 SVD); the Result keeps the
estimate and the measured wall time side by side.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from core.validate import InvalidArgument
from nets.configs import get_config
from sims import example_3_2
from sims.experiment import ExperimentRun, option

MODULE = "sims.example_3_2_paper_scale"
RESULT_NAME = "nets.section3.example_3_2_paper_scale"  # joins the Section 3 claims (sims.registry)
BATCH = 128


def weight_count(topology) -> int:
    return sum(a * b for a, b in zip(topology, topology[1:]))


def svd_flops(topology) -> float:
    """Golub-Kahan-Reinsch SVD with vectors of an m x n matrix (m >= n): about 4 m^2 n + 22 n^3."""
    total = 0.0
    for a, b in zip(topology, topology[1:]):
        m, n = max(a, b), min(a, b)
        total += 4 * m * m * n + 22 * n ** 3
    return total


def estimate(topologies, seeds: int, *, epochs: int = 70, n_train: int = 60000, n_test: int = 10000,
             width_divisor: int = 1, tflops: float = 100.0, step_ms: float = 0.6,
             svd_tflops: float = 0.5) -> dict:
    """Estimated seconds of the whole sweep (pruned + unpruned, every topology, ``seeds`` seeds),
    taking the unpruned parameter count throughout (an upper bound for the pruned runs)."""
    flops = steps = svd = 0.0
    for t in topologies:
        topo = get_config(f"ex3.2{t}").model["topology"]
        topo = [topo[0]] + [max(16, n // width_divisor) for n in topo[1:-1]] + [topo[-1]]
        w = weight_count(topo)
        every = get_config(f"ex3.2{t}").pruning["every"]
        rounds = epochs // every
        per_run = 6 * w * n_train * epochs + 2 * w * n_test * (epochs + rounds)
        flops += 2 * seeds * per_run
        steps += 2 * seeds * math.ceil(n_train / BATCH) * epochs
        svd += seeds * rounds * svd_flops(topo)
    seconds = flops / (tflops * 1e12) + steps * step_ms / 1e3 + svd / (svd_tflops * 1e12)
    return {"seeds": seeds, "topologies": list(topologies), "train_eval_flops": flops,
            "optimizer_steps": steps, "svd_flops": svd, "estimated_s": seconds,
            "assumed_tflops": tflops, "assumed_step_ms": step_ms, "assumed_svd_tflops": svd_tflops}


def plan(topologies, seeds: int, budget_s: float, **kw) -> dict:
    """The estimate for ``seeds`` seeds, cutting seeds (down to 2) until it fits ``budget_s``."""
    est = estimate(topologies, seeds, **kw)
    while est["estimated_s"] > budget_s and est["seeds"] > 2:
        est = estimate(topologies, est["seeds"] - 1, **kw)
    est["fits"] = est["estimated_s"] <= budget_s
    est["budget_s"] = budget_s
    est["seeds_asked"] = seeds
    return est


@dataclass(frozen=True)
class Config:
    topologies: tuple[str, ...] = option(example_3_2.TOPOLOGIES, "Example 3.2 topologies",
                                         choices=example_3_2.TOPOLOGIES)
    seeds: int = option(3, "seeds per topology", lo=2, hi=1000)
    budget_min: float = option(8.0, "GPU minutes to fit", lo=1e-9, hi=1e9)
    tflops: float = option(100.0, "assumed TF32 TFLOP/s", lo=1e-9, hi=1e9)
    step_ms: float = option(0.6, "assumed ms per optimizer step", lo=1e-9, hi=1e9)
    svd_tflops: float = option(0.5, "assumed float64 SVD TFLOP/s", lo=1e-9, hi=1e9)
    data_dir: str | None = option(None, "Fashion-MNIST IDX folder (default: nets.data's)", optional=True)
    estimate_only: bool = option(False, "print the estimate and stop")
    tiny: bool = option(False, "toy size for a CPU test: widths / 100, 512 training and 256 test images, "
                               "2 epochs")


def toy_config(tmp_path=None) -> Config:
    return Config(topologies=("a",), seeds=2, tiny=True)


def run(config: Config = Config(), *, context: ExperimentRun | None = None):
    """Estimate, then (unless ``estimate_only``) train every topology; one Result named
    ``RESULT_NAME`` (None after the estimate alone)."""
    context = context or ExperimentRun(MODULE, config, experiment=RESULT_NAME)
    size = ({"width_divisor": 100, "n_train": 512, "epochs": 2} if config.tiny else
            {"width_divisor": 1, "n_train": 60000, "epochs": 70})
    est = plan(config.topologies, config.seeds, 60 * config.budget_min, tflops=config.tflops,
               step_ms=config.step_ms, svd_tflops=config.svd_tflops, **size)
    print(f"estimated time {est['estimated_s'] / 60:.1f} min for {len(config.topologies)} topologies x "
          f"{est['seeds']} seeds x pruned+unpruned ({est['train_eval_flops']:.3g} FLOPs at {config.tflops} "
          f"TFLOP/s, {est['optimizer_steps']:.0f} steps at {config.step_ms} ms, SVD {est['svd_flops']:.3g} FLOPs "
          f"at {config.svd_tflops} TFLOP/s); budget {config.budget_min} min"
          + ("" if est["seeds"] == config.seeds else f"; seeds cut from {config.seeds} to {est['seeds']}"),
          flush=True)
    if config.estimate_only:
        return None
    if not est["fits"]:
        raise InvalidArgument(f"even 2 seeds are estimated at {est['estimated_s'] / 60:.1f} min, over the "
                              f"--budget-min {config.budget_min}")
    device = context.device
    if device.type != "cuda" and not config.tiny:
        raise InvalidArgument("paper scale needs --device cuda (use --tiny for the CPU test)")
    import torch
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    with context:
        results = []
        for t in config.topologies:
            one = (example_3_2.Config(topology=t, seeds=est["seeds"], controls=(), scale="cpu", width_divisor=100,
                                      n_train=512, n_test=256, epochs=2, runs_dir=None, data_dir=config.data_dir)
                   if config.tiny else
                   example_3_2.Config(topology=t, seeds=est["seeds"], controls=(), scale="paper", runs_dir=None,
                                      data_dir=config.data_dir))
            results.append(example_3_2.run(one, context=ExperimentRun(
                example_3_2.MODULE, one, device=device, experiment=example_3_2.RESULT_NAME)))
        tables: dict = {}
        for r in results:
            for name, rows in r.tables.items():
                tables.setdefault(name, []).extend(rows)
        out = {"estimate": est, "tiny": bool(config.tiny), "tf32": device.type == "cuda", "checkpoints": False,
               "seeds_trained_together": False, "per_topology": [r.config for r in results]}
        return context.result(config=out, records=[x for r in results for x in r.records],
                              verdicts=[v for r in results for v in r.verdicts], tables=tables)


if __name__ == "__main__":
    import sys

    from sims.experiment import cli_main
    sys.exit(cli_main(MODULE))
