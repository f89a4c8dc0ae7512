"""Numerical check of paper 000 Section 4: Lemma 4.1, Lemma 4.2, Theorem 4.1, Theorem 4.2, Example 4.2.

``python -m sims.pruning_theorem [--quick] [--n N ...] [--trials T] [--seed S] [--jobs J]
[--json PATH]`` (``--help`` lists the options: the fields of ``Config``).  The committed result is
``results/pruning_theorem.json``.  Parts 1.-4. below live in ``sims.pruning_theorem_lemma_4_1``,
``sims.pruning_theorem_spiked`` and ``sims.pruning_theorem_accuracy`` (what they share: constants,
claim ids, generators, intervals and verdict rules, in ``sims.pruning_theorem_common``); this module
is the experiment: its config, ``run`` and command line.

1. Lemma 4.1 (4.4) (deterministic): every input of many random networks (depths 1-4, widths 2-30,
   pruned layer b, abs / ReLU, with and without biases and final activation, thresholds between
   singular values, some exactly at one).  Violations and bound / actual change; a hand-built
   2 x 2 network where (4.4) holds with equality (the constant sqrt(2) is sharp); and every layer
   pruned at once as Algorithm 1 does, where the sum of the single-layer bounds is the valid bound.
2. Lemma 4.2 (4.14), Remark 4.2 (4.16), Theorem 4.1 (4.19), Remark 4.6 (4.21) on the three-layer
   settings of ``sims.pruning_settings`` (random / aligned / pooling), R_2 fresh per trial,
   N swept; how often the condition is met; scaling of E and |delta X| with N (Remark 4.5);
   the proof step (C.13) ``||R z||_1 <= max|R_ij| ||z||_1`` (the valid factor is the max column
   sum ``||R||_1``, for z independent of R ``||R z||_1 ~ sqrt(2N/pi) ||z||_2``).
3. Theorem 4.2: E_acc (corrected smallest post-fixed point, see ``theory.pruning_bounds.e_acc``,
   Remark 4.11), |G_{E_acc}| / |T'| (4.27), accuracy after pruning, fraction of trials with
   accuracy >= bound; (4.29) as printed and with Theorem 4.1's own E'(s) of (4.18).  (4.30)'s
   (1 - C)^|G| multiplies probabilities of events that share R_2; the union bound 1 - |G| C is
   what holds in general.
4. Example 4.2 end to end (S = diag(30..70), threshold (4.23) at 2 + eps), against Lemma 4.1's
   bound and ||S - W'||_2 against f_W of (4.24) (Fig. 4.3).

Probabilities in 2.: a claim "P(A | B) >= 1 - D(N)" is about one fixed input s, the probability
being over R.  We pool (trial, input) pairs; the pairs of one trial share R, so the interval is a
cluster bootstrap over trials (percentile, 95%), replaced by Clopper-Pearson over the trials with
at least one conditioned pair when all pooled outcomes agree (then the bootstrap is degenerate).
Verdict: ``fails`` if the interval lies below the bound, ``holds`` if above, ``vacuous`` if the
condition B is met in fewer than 1% of pairs, otherwise ``inconclusive``.  Claims with an
unspecified C(N) -> 0 (Theorem 4.1, Remark 4.6, Example 4.2): ``holds`` when the interval lies
above 0.95, ``fails`` when below 1/2.
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, replace

import numpy as np

from core.result import Result
from core.validate import InvalidArgument
from sims import pruning_settings as ps
from sims.experiment import ExperimentRun, cli_main, option
# The four parts, one module each; their public names stay importable from here.
from sims.pruning_theorem_accuracy import (example_4_2, example_4_2_verdicts, fW_decision,  # noqa: F401
                                           theorem_4_2_record, theorem_4_2_trials,
                                           theorem_4_2_verdicts)
from sims.pruning_theorem_common import (EPS, EQ_C13, EXAMPLE_4_2, FIGURE_4_3, LEMMA_4_1,  # noqa: F401
                                         LEMMA_4_2, REMARK_4_1, REMARK_4_2, REMARK_4_5, REMARK_4_6,
                                         REMARK_4_11, SQRT_LAMBDA_PLUS, THEOREM_4_1, THEOREM_4_2,
                                         TOL, VACUOUS_RATE, cluster_ratio, f_W_square,
                                         limit_decision, low_rank_difference_norm,
                                         probability_decision, setting_id, trial_rng, truncate_top)
from sims.pruning_theorem_lemma_4_1 import (lemma_4_1_check, lemma_4_1_verdicts,  # noqa: F401
                                            random_network, sharp_example, sharpness_decision,
                                            simultaneous_pruning_check)
from sims.pruning_theorem_spiked import (c13_verdict, scaling_verdict, spiked_record,  # noqa: F401
                                         spiked_trials, spiked_verdicts)

MODULE = "sims.pruning_theorem"
CPU_ONLY = True                 # numpy on the CPU: --device takes cpu|auto only
N_MIN, N_MAX = 16, 4096         # the partial SVD keeps up to 8 triplets; N^2 floats per trial
RATIO_BINS = np.linspace(-1.0, 5.0, 61)   # log10(bound / actual) histogram of Lemma 4.1
_rng = trial_rng                # the name the tests (and older notebooks) use


PRESETS = {  # the sizes a size field left at None takes: the full run, and --quick (seconds)
    False: dict(n=(64, 128, 256, 512), trials=100, lemma_networks=400, lemma_inputs=50,
                simultaneous_networks=200, example_n=1000, example_trials=5),
    True: dict(n=(64, 128, 256), trials=30, lemma_networks=60, lemma_inputs=20,
               simultaneous_networks=30, example_n=300, example_trials=3),
}


@dataclass(frozen=True)
class Config:
    """Sizes of the run; a size left at None takes the full run's value (``quick``: the small one,
    ``PRESETS``).  Results do not depend on ``jobs``: every trial has its own generator."""
    n: tuple[int, ...] | None = option(
        None, "N values swept for parts 2-3, at least 2 distinct (default 64 128 256 512; --quick "
        "64 128 256)", lo=N_MIN, hi=N_MAX, optional=True)
    trials: int | None = option(None, "draws of R_2 per (network, N); Theorem 4.2 uses max(10, trials // 3) "
                                "(default 100; --quick 30)", lo=2, hi=100_000, optional=True)
    seed: int = option(0, "base seed; every trial's generator derives from it", lo=0)
    lemma_networks: int | None = option(None, "random networks of Lemma 4.1's check (default 400; --quick 60)",
                                        lo=1, hi=10**6, optional=True)
    lemma_inputs: int | None = option(None, "inputs per network in Lemma 4.1's check (default 50; --quick 20)",
                                      lo=1, hi=10**5, optional=True)
    simultaneous_networks: int | None = option(
        None, "networks with every layer pruned at once (default 200; --quick 30)", lo=1, hi=10**6,
        optional=True)
    example_n: int | None = option(None, "N of Example 4.2 (default 1000; --quick 300)", lo=N_MIN, hi=N_MAX,
                                   optional=True)
    example_trials: int | None = option(None, "trials of Example 4.2 (default 5; --quick 3)", lo=1, hi=10**4,
                                        optional=True)
    jobs: int = option(1, "worker processes (the Result does not depend on it)", lo=1, hi=256)
    quick: bool = option(False, "small sizes, seconds to a minute (every size not given)")

    def resolved(self) -> "Config":
        """This config with every size given (None -> the preset's value), checked across fields."""
        sizes = {k: v for k, v in PRESETS[self.quick].items() if getattr(self, k) is None}
        cfg = replace(self, **sizes)
        if len(cfg.n) < 2 or len(set(cfg.n)) != len(cfg.n):
            raise InvalidArgument(f"n must hold at least 2 distinct values (the rates of Remark 4.5 "
                                  f"are fitted over N), got {list(cfg.n)}")
        return cfg


def toy_config(tmp_path=None) -> Config:
    """Seconds on one core: N = 16, 32, three trials, five networks."""
    return Config(quick=True, n=(16, 32), trials=3, example_n=32, example_trials=1, lemma_networks=5,
                  simultaneous_networks=3)


def _parallel(fn, tasks: list[tuple], jobs: int, desc: str) -> list:
    """``[fn(*t) for t in tasks]`` in ``jobs`` processes, in task order, with a progress bar over
    the finished tasks on a terminal (sims.parallel.map_tasks)."""
    from sims.parallel import map_tasks
    return map_tasks(fn, tasks, jobs=jobs, progress=desc)


def run(config: Config = Config(), *, context: ExperimentRun | None = None) -> Result:
    """The whole check as one Result (no command line recorded from Python; ``python -m`` records
    its own through ``sims.experiment.cli_main``)."""
    context = context or ExperimentRun(MODULE, config)
    context.seed = config.seed
    with context:
        return _run(config.resolved(), context)


def _run(cfg: Config, context: ExperimentRun) -> Result:
    l41 = lemma_4_1_check(cfg.lemma_networks, cfg.lemma_inputs, cfg.seed)
    sim = simultaneous_pruning_check(cfg.simultaneous_networks, 20, cfg.seed)
    verdicts = lemma_4_1_verdicts(l41, sharp_example(), sim)

    tasks = [(name, N, cfg.trials, cfg.seed) for name in ps.SETTINGS for N in cfg.n]
    spiked = _parallel(spiked_trials, tasks, cfg.jobs, "Lemma 4.2 / Theorem 4.1")
    for res in spiked:
        verdicts.extend(spiked_verdicts(res))
        if res["name"] == "random":
            verdicts.append(c13_verdict(res))
    verdicts.append(scaling_verdict([r for r in spiked if r["name"] == "random"]))

    tasks = [(name, N, max(10, cfg.trials // 3), cfg.seed) for name in ("aligned", "random")
             for N in cfg.n]
    thm42 = _parallel(theorem_4_2_trials, tasks, cfg.jobs, "Theorem 4.2")
    for rec in thm42:
        verdicts.extend(theorem_4_2_verdicts(rec))
    ex = example_4_2(cfg.example_n, cfg.example_trials, cfg.seed)
    verdicts.extend(example_4_2_verdicts(ex))

    counts, _ = np.histogram(np.log10(l41["ratios"]), bins=RATIO_BINS)
    tables = {
        "lemma_4_1_ratios": [dict(table="lemma_4_1_ratios", log10_ratio_low=float(lo),
                                  log10_ratio_high=float(hi), pairs=int(c))
                             for lo, hi, c in zip(RATIO_BINS[:-1], RATIO_BINS[1:], counts)],
        "theorem_4_2": [theorem_4_2_record(r) for r in thm42],
        "example_4_2": [dict(table="example_4_2", N=ex["N"], trials=ex["trials"], f_W=ex["f_W"],
                             f_W_opnorm_limit=ex["f_W_opnorm_limit"],
                             mean_opnorm=float(ex["opnorm"].mean()),
                             condition_rate=float(ex["cond"].mean()),
                             median_threshold=float(np.median(ex["threshold"])),
                             median_lemma_4_1_bound=float(np.median(ex["lemma41"][0])))],
    }
    out_of_range = int(np.sum((np.log10(l41["ratios"]) < RATIO_BINS[0])
                              | (np.log10(l41["ratios"]) > RATIO_BINS[-1])))
    config_dict = dict({k: v for k, v in asdict(cfg).items() if k != "quick"}, eps=EPS, sqrt_lambda_plus=SQRT_LAMBDA_PLUS,
                       lemma_4_1_ratios_outside_histogram=out_of_range)
    return context.result(config=config_dict, records=[spiked_record(r) for r in spiked],
                          verdicts=verdicts, tables=tables)


def main(argv=None) -> int:
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
