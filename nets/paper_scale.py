"""Example 3.2 of paper 000 at paper scale on one GPU: the three topologies of Table 3.4, pruned
and unpruned side by side (same seed, same initial weights, same batches), all 60,000 training
images, the paper's 70 epochs (E.6), batch 128: about 33,000 optimizer steps per run.

``python -m nets.paper_scale --device cuda [--seeds 3] [--budget-min 8] [--data-dir DIR]
[--json results/section3/paper_scale.json]`` prints its estimated GPU time before it starts and
cuts seeds (never below 2) until the estimate fits the budget; ``--estimate-only`` stops there.
``--tiny`` runs the same code path at a toy size on the CPU (the test of this command).

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
import sys
from pathlib import Path

from nets.configs import get_config
from nets.section3 import TOPOLOGIES

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


def merge(results, experiment: str, config: dict, prov):
    """One Result from the per-topology Results of ``nets.section3.example_3_2``."""
    from core.result import Result
    tables: dict = {}
    for r in results:
        for name, rows in r.tables.items():
            tables.setdefault(name, []).extend(rows)
    return Result(experiment=experiment, config={**config, "per_topology": [r.config for r in results]},
                  provenance=prov, records=[x for r in results for x in r.records],
                  verdicts=[v for r in results for v in r.verdicts], tables=tables)


def main(argv=None) -> int:
    from core.cli import make_parser, positive_float, positive_int, run
    p = make_parser("nets.paper_scale", __doc__, options=("device", "json", "threads", "verbose"))
    p.add_argument("--topologies", nargs="+", choices=TOPOLOGIES, default=list(TOPOLOGIES))
    p.add_argument("--seeds", type=positive_int, default=3, help="seeds per topology (default 3; >= 2)")
    p.add_argument("--budget-min", type=positive_float, default=8.0, help="GPU minutes to fit (default 8)")
    p.add_argument("--tflops", type=positive_float, default=100.0, help="assumed TF32 TFLOP/s (default 100)")
    p.add_argument("--step-ms", type=positive_float, default=0.6, help="assumed ms per optimizer step (default 0.6)")
    p.add_argument("--svd-tflops", type=positive_float, default=0.5, help="assumed float64 SVD TFLOP/s (default 0.5)")
    p.add_argument("--data-dir", type=Path, default=None, help="Fashion-MNIST IDX folder (default: nets.data's)")
    p.add_argument("--estimate-only", action="store_true", help="print the estimate and stop")
    p.add_argument("--tiny", action="store_true",
                   help="toy size for a CPU test: widths / 100, 512 training and 256 test images, 2 epochs")
    p.set_defaults(_argv=None if argv is None else [str(a) for a in argv])
    return run(p, argv, _main)


def _main(args):
    from core.result import Provenance
    from core.validate import InvalidArgument, check_int
    from nets.section3 import cli_device, example_3_2
    check_int("seeds", args.seeds, 2, 1000)
    device = cli_device(args)
    size = ({"width_divisor": 100, "n_train": 512, "epochs": 2} if args.tiny else
            {"width_divisor": 1, "n_train": 60000, "epochs": 70})
    est = plan(args.topologies, args.seeds, 60 * args.budget_min, tflops=args.tflops, step_ms=args.step_ms,
               svd_tflops=args.svd_tflops, **size)
    print(f"estimated time {est['estimated_s'] / 60:.1f} min for {len(args.topologies)} topologies x "
          f"{est['seeds']} seeds x pruned+unpruned ({est['train_eval_flops']:.3g} FLOPs at {args.tflops} TFLOP/s, "
          f"{est['optimizer_steps']:.0f} steps at {args.step_ms} ms, SVD {est['svd_flops']:.3g} FLOPs at "
          f"{args.svd_tflops} TFLOP/s); budget {args.budget_min} min"
          + ("" if est["seeds"] == args.seeds else f"; seeds cut from {args.seeds} to {est['seeds']}"),
          flush=True)
    if args.estimate_only:
        return None
    if not est["fits"]:
        raise InvalidArgument(f"even 2 seeds are estimated at {est['estimated_s'] / 60:.1f} min, over the "
                              f"--budget-min {args.budget_min}")
    if device.type != "cuda" and not args.tiny:
        raise InvalidArgument("paper scale needs --device cuda (use --tiny for the CPU test)")
    import torch
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    prov = Provenance.start(argv=args._argv, seed=0, device=str(device), module="nets.paper_scale")
    argv = prov.argv
    results = []
    for t in args.topologies:
        kw = ({"scale": "cpu", "width_divisor": 100, "n_train": 512, "n_test": 256, "epochs": 2} if args.tiny
              else {"scale": "paper"})
        results.append(example_3_2(t, seeds=est["seeds"], controls=[], runs_dir=None, device=device,
                                   argv=argv[3:], data_dir=args.data_dir, module="nets.paper_scale", **kw))
    config = {"estimate": est, "tiny": bool(args.tiny), "tf32": device.type == "cuda",
              "checkpoints": False, "seeds_trained_together": False}
    return merge(results, "nets.paper_scale", config, prov.stop())


if __name__ == "__main__":
    sys.exit(main())
