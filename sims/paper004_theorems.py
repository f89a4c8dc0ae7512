"""`python -m sims.paper004_theorems`: Theorems 1 and 2 of paper 004 (Qian & Klabjan, ICML 2021) measured.

Target networks as in eq. (1): F(x) = W_l sigma(W_{l-1} ... sigma(W_1 x)), ReLU (L_k = 1, sigma(0) = 0),
no biases, depth l = 4, widths d_0 = d_l = ``io`` and d_1 = d_2 = d_3 = d (assumption (ii)).  Weights:
- Theorem 1 (iii): iid U[-K/sqrt(max(d_k, d_{k-1})), +K/...] (K = sqrt 3, variance 1/max);
- Theorem 2 (iii): iid N(0, K_1 / max(d_k, d_{k-1})) with K_1 = 1, K_2 = 3.
The first and last layers are never pruned; each hidden layer 1 < k < l loses floor(D_k^(1-alpha))
entries (D_k = d_k d_{k-1}) by magnitude (Theorem 1) or at random with replacement (Theorem 2 as
written, Section 4) or without replacement (Appendix E.2).

Measured, per (weights, method, alpha, d) over ``nets`` target networks:
- ||W_k - W_k^*||_2 for the pruned layers, its rate in d (``sims.stats.loglog_fit`` slope with a 95%
  interval) against the rate each proof uses: Theorem 1 (proof in B.2) E||W_k - W_k^*||_2 <= c_2 d^(-2 alpha)
  and the event ||W_k - W_k^*||_2 <= d^(-alpha); Theorem 2 ((19) in B.1) E[...|A] <= c_2 d^(-alpha/2) and
  the event <= d^(-alpha/4);
- sup_{||x|| <= 1} ||f(x) - F(x)||_2, estimated FROM BELOW by projected gradient ascent on the unit
  sphere from many starts (f - F is positively 1-homogeneous for ReLU nets without biases, so the sup
  over the ball is attained on the sphere), beside an upper bound: the proof's chain (21)-(22) evaluated
  with the measured norms (deterministic given the matrices), and beside the theorem's own bound
  epsilon = (2^(l-2) - 1) d^(-alpha) L^(l-1) c_0^(l-1) (Theorem 1, (29)) or (2^(l-2) - 1) d^(-alpha/4)
  L^(l-1) N_{1:l} (Theorem 2, (15)).
- the probability each theorem guarantees, p_0(d), with c_2 built from the smallest Latala constant
  measured in Table 3 (the most favourable value; the true universal C can only be larger).
- Theorem 2's conditions (3)-(4) as printed against the requirement floor(D^(1-alpha)) >= d log d that
  the proof says they guarantee, and Lemma 6's event A measured on the masks.

The committed result is ``results/paper004_theorems.json`` (one record per (weights, d, network, method,
alpha); the fitted rates as the table ``rates``).

Layout: ``sims.paper004_theorems_networks`` (targets, pruning, the sup over the unit ball),
``sims.paper004_theorems_bounds`` (the paper's constants and the verdicts); this module is the experiment
(the sizes ``TheoremsConfig``, the sweep ``sweep``, ``experiment``, the command line ``Config`` and ``run``).
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from core.cli import DEVICE_CHOICES, progress as progress_bar
from core.result import Result
from core.validate import InvalidArgument, check_choice, check_float, check_int
from sims.qian_klabjan import spectral_norm
from sims.experiment import ExperimentRun, option
# One concern per module; their public names stay importable from here.
from sims.paper004_theorems_bounds import (EQ_3, EQ_4, EQ_19, K_UNIFORM, LATALA_C_FAVOURABLE, LEMMA_6,  # noqa: F401
                                     PROOF_B2, THEOREM_1, THEOREM_2, condition3_verdict, lemma6_event,
                                     lemma6_verdicts, rate_verdicts, sharp_slope, theorem1_epsilon,
                                     theorem1_probability, theorem2_alpha_max, theorem2_epsilon,
                                     theorem2_probability, theorem_bound_verdicts)
from sims.paper004_theorems_networks import (DEPTH, METHODS, WEIGHTS, as_model, chain_bound,  # noqa: F401
                                       forward, n_pruned, prune_network, sample_target,
                                       sup_ball_error, widths)

MODULE = "sims.paper004_theorems"


@dataclass(frozen=True)
class TheoremsConfig:
    """The sizes of a run (``Config`` is its command line).  ``nets``: target networks per
    (weights, d); ``io``: d_0 = d_l; ``starts`` / ``steps``: the projected gradient ascent of
    ``sup_ball_error``; ``device``: the torch device's type (recorded in the Result's config)."""
    sizes: tuple[int, ...] = (64, 128, 256, 512)
    alphas: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75)
    nets: int = 3
    io: int = 16
    seed: int = 0
    device: str = "auto"
    starts: int = 48
    steps: int = 160

    @classmethod
    def quick(cls, **overrides) -> "TheoremsConfig":
        return replace(cls(sizes=(32, 64, 128), alphas=(0.25, 0.5), nets=2, io=8, starts=16,
                           steps=40), **overrides)

    def validate(self) -> "TheoremsConfig":
        io = check_int("io", self.io, 2, 4096)
        sizes = tuple(check_int("size", d, io, 8192) for d in self.sizes)
        alphas = tuple(check_float("alpha", a, 0.0, 1.0, lo_open=True, hi_open=True)
                       for a in self.alphas)
        if not sizes or not alphas:
            raise InvalidArgument(f"sizes and alphas must be non-empty, got {sizes} and {alphas}")
        return replace(self, sizes=sizes, alphas=alphas, io=io,
                       nets=check_int("nets", self.nets, 1, 10_000),
                       seed=check_int("seed", self.seed, 0, None),
                       device=check_choice("device", self.device, DEVICE_CHOICES),
                       starts=check_int("starts", self.starts, 1, 10_000),
                       steps=check_int("steps", self.steps, 1, 100_000))


# ----------------------------------------------------------------------------------------------
# experiment
def sweep(sizes=(64, 128, 256, 512), alphas=(0.1, 0.25, 0.5, 0.75), seeds: int = 3, io: int = 16,
        weights=WEIGHTS, methods=METHODS, seed: int = 0, device=None, starts: int = 48, steps: int = 160,
        progress: bool = True) -> list[dict]:
    device = device or torch.device("cpu")
    rows = []
    jobs = [(wt, d, s) for wt in weights for d in sizes for s in range(seeds)]
    bar = progress_bar(jobs, desc="Theorems 1-2", disable=not progress or not sys.stderr.isatty())
    for job, (wt, d, s) in enumerate(bar):
        target = sample_target(d, io, wt, seed, job, device)
        norms_F = [spectral_norm(w) for w in target]
        for method in methods:
            for alpha in alphas:
                mask_seed = (seed * 1_000_003 + job * 1000 + int(1000 * alpha)) % (2**62)
                pruned = prune_network(target, method, alpha, mask_seed)
                deltas = [spectral_norm(a - b) for a, b in zip(pruned[1:-1], target[1:-1])]
                m = n_pruned(d, d, alpha)
                events = [lemma6_event((a == 0) & (b != 0), m) for a, b in zip(pruned[1:-1], target[1:-1])]
                rows.append(dict(table="run", weights=wt, method=method, alpha=alpha, d=d, seed=s, n_pruned=m,
                                 delta_norms=deltas, delta_norm_mean=float(np.mean(deltas)),
                                 target_norms=norms_F,
                                 sup_error_lower=sup_ball_error(pruned, target, starts, steps, seed=job),
                                 sup_error_chain_upper=chain_bound(pruned, target),
                                 lemma6_event=all(events)))
    return rows


def experiment(config: TheoremsConfig = TheoremsConfig(), *, progress: bool = True,
               context: ExperimentRun | None = None) -> Result:
    """Every measurement and verdict as one Result, at any ``TheoremsConfig`` (``run`` is the
    registered experiment's entry, through here)."""
    cfg = config.validate()
    context = context or ExperimentRun(MODULE, device=cfg.device, seed=cfg.seed)
    with context:
        rows = sweep(sizes=cfg.sizes, alphas=cfg.alphas, seeds=cfg.nets, io=cfg.io, seed=cfg.seed,
                     device=context.device, starts=cfg.starts, steps=cfg.steps, progress=progress)
        rates, verdicts = decide(rows)
        return context.result(config=dict(asdict(cfg), depth=DEPTH, q=0.99, latala_c_favourable=LATALA_C_FAVOURABLE),
                              records=rows, tables={"rates": rates}, verdicts=verdicts)


def decide(rows: list[dict], q: float = 0.99) -> tuple[list[dict], list]:
    """The fitted rates (table ``rates``) and every verdict, from the measured rows alone."""
    rates, verdicts = rate_verdicts(rows)
    verdicts += theorem_bound_verdicts(rows, q=q)
    verdicts += lemma6_verdicts(rows)
    verdicts += condition3_verdict()
    return rates, verdicts


def redecide_file(path) -> list:
    """Make the verdicts of the Result stored at ``path`` again from its records (measurements,
    config and provenance unchanged; JSON only, its CSVs are the measured rows):
    ``python -c "from sims.paper004_theorems import redecide_file; redecide_file('results/paper004_theorems.json')"``."""
    from dataclasses import replace as _replace

    from core.result import read_result, redecided, write_result
    stored = read_result(path)
    rates, verdicts = decide(stored.records, q=stored.config.get("q", 0.99))
    if stored.verdicts == verdicts and stored.tables.get("rates") == rates:
        return write_result(stored, path, csv_tables=False)  # nothing to re-decide: keep it as made
    result = redecided(_replace(stored, tables={**stored.tables, "rates": rates}),
                       "sims.paper004_theorems.redecide_file", verdicts)
    return write_result(result, path, csv_tables=False)


# ----------------------------------------------------------------------------------------------
# the registered experiment: its command line
@dataclass(frozen=True)
class Config:
    """The command line of ``python -m sims.paper004_theorems``: a preset (default or ``--quick``)
    and any of its sizes overridden (None: the preset's)."""
    seed: int = option(0, "base seed of the target networks and masks", lo=0)
    quick: bool = option(False, "sizes 32 64 128, alphas 0.25 0.5, 2 nets, io 8, 16 starts x 40 steps")
    nets: int | None = option(None, "target networks per (weights, d) (default 3; --quick 2)", lo=1, hi=10_000,
                              optional=True)
    sizes: tuple[int, ...] | None = option(None, "hidden widths d (default 64 128 256 512)", lo=2, hi=8192,
                                           optional=True)
    alphas: tuple[float, ...] | None = option(None, "pruning exponents alpha in (0, 1) (default 0.1 0.25 0.5 0.75)",
                                              lo=0.0, hi=1.0, lo_open=True, hi_open=True, optional=True)
    io: int | None = option(None, "input and output width d_0 = d_l (default 16)", lo=2, hi=4096, optional=True)
    starts: int | None = option(None, "gradient-ascent starts of the sup over the unit ball (default 48)",
                                lo=1, hi=10_000, optional=True)
    steps: int | None = option(None, "gradient-ascent steps per start (default 160)", lo=1, hi=100_000,
                               optional=True)


def toy_config(tmp_path) -> Config:
    """Widths 16-32, io 4, one net, 2 starts x 2 steps: every verdict family runs, in seconds."""
    return Config(quick=True, nets=1, sizes=(16, 24, 32), io=4, starts=2, steps=2)


def theorems_config(config: Config, device: str = "auto") -> TheoremsConfig:
    """The ``TheoremsConfig`` a command line means (``device``: the torch device's type)."""
    base = TheoremsConfig.quick() if config.quick else TheoremsConfig()
    chosen = {k: getattr(config, k) for k in ("nets", "sizes", "alphas", "io", "starts", "steps")
              if getattr(config, k) is not None}
    return replace(base, seed=config.seed, device=device, **chosen)


def run(config: Config = Config(), *, context: ExperimentRun | None = None, progress: bool = True) -> Result:
    """Theorems 1 and 2 measured at the sizes ``config`` means."""
    context = context or ExperimentRun(MODULE, config)
    context.seed = config.seed
    return experiment(theorems_config(config, context.device.type), progress=progress, context=context)


def main(argv=None) -> int:
    from sims.experiment import cli_main
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
