"""`python -m sims.spiked_model`: Monte Carlo check of Theorems A.3 / A.4 (paper 000, Appendix A.1).

W = R + S, R N x M with iid entries of variance 1/N (Gaussian, Rademacher or uniform; Assumption 4.1,
Example A.1), S = sum_i theta_i u_i v_i^T with the paper's diagonal u_i = v_i = e_i (Example 4.2 /
Fig 4.3) or Haar-random orthonormal vectors.  For each (N, theta) we measure over independent trials

* the i-th largest singular value sigma'_i of W (i = rank of theta_i among the spikes) against its
  a.s. limit (Theorem A.3; rectangular c = M/N: Benaych-Georges & Nadakuditi 2012, theory.spiked):
  sqrt((1 + theta^2)(c + theta^2))/theta above the threshold theta_bar = c^{1/4}, the edge 1 + sqrt c
  below it;
* |<u_i, u'_i>|^2 and |<v_i, v'_i>|^2 against (A.4) (1 - 1/theta^2 at c = 1; 0 below the threshold);
* max_{i != j} |<u_i, u'_j>|^2 (A.11-A.12: -> 0).

Convergence rate.  Theorems A.3/A.4 state a.s. convergence without a rate.  We fit the root-mean-
square error E[(X_N - limit)^2]^{1/2} against N on a log-log scale (sims.stats.loglog_fit) and
compare the slope with the known fluctuation orders: above the threshold the outlier and its
overlaps have Gaussian fluctuations of order N^{-1/2} (Benaych-Georges, Guionnet & Maida 2011;
Bai & Yao 2008) and an O(1/N) bias, so the RMS error ~ N^{-1/2}; below the threshold the top
singular value sits at the edge with Tracy-Widom fluctuations and mean shift of order N^{-2/3}
(Peche 2006; Feral & Peche 2007), and the overlaps are delocalised, |<u,u'>|^2 = O(1/N)
(Bloemendal, Knowles, Yau & Yin 2016), so those RMS errors ~ N^{-2/3} and N^{-1}.  Within the
critical window |theta - theta_bar| ~ N^{-1/3} neither regime applies, which makes spikes near the
threshold converge visibly slower at N in the thousands.

Verdicts (per theta and quantity, over the N sweep): ``holds`` when the slope's 95% CI lies below 0
(the error provably shrinks with N; the note says whether the CI also contains the predicted rate)
and, at the largest N, the limit lies inside the 95% CI of the mean, or the gap is the known
finite-N offset (below the threshold: the Tracy-Widom mean shift of the edge, checked against
theory.norm_predictions; limit 0 of a nonnegative overlap); ``fails`` when the slope CI lies above
0; ``inconclusive`` otherwise (with the reason).  Each (N, theta) row also says whether the limit
lies inside the 95% CI of the mean and the z-score of the deviation.

Paper-specific checks: whenever the run holds theta = 30 at N = 3000, c = 1 (--paper: 10 matrices,
S = diag(30, 40, 50, 60, 70)) the Section B.1 / Fig B.1 statement <u_5, u'_5> ~ 0.99943 ~
sqrt(1 - 1/30^2); in every run with c = 1 the formula printed after (4.24) in Section 4.6,
sigma'_i = (1 + sigma_i^2)/sigma_1 (a typo for /sigma_i).

Verdict claims (registry ids): ``000:theorem:A.3`` (singular values), ``000:theorem:A.4``
(overlaps), ``000:figure:B.1``, ``000:text:4.6.1`` (the formula after (4.24)).

Default run: N = 250, 400, 630, 1000, 1600 with 32, 32, 24, 16, 10 trials, two matrix groups
(the paper's spikes and 3, 2, 1.5, 1.2, 0.8).  Computation: top-r triplets by
sims.linalg.top_singular_triplets (block Krylov with certified eta/gap <= 1e-6), matrices
reproducible from --seed (sims.noise: one generator per trial, bitwise independent of chunking and
of the number of jobs; the Krylov start block depends on the chunk, so computed triplets agree
across chunkings to the certified tolerance, and measure() chunks independently of --jobs), joblib
worker processes for CPU sweeps (--jobs, each single-threaded: spin-waiting BLAS threads slow down
badly when other jobs share the cores), float64.

``--engine banded`` (Gaussian noise only; N up to 10^6): each trial is drawn in sims.banded's
exact-in-distribution block-tridiagonal reduction, which has the same joint law of singular values
and overlaps with the spike vectors as W (O(N r) random numbers per trial), with the same
certified tolerance (sims.block_krylov; edge triplets by sims.shift_invert).  Spike vectors e_i
and Haar-random ones give the same law there.  ``--backend loky|dask|ray`` and ``--scheduler``
choose where the trials run (sims.parallel); results do not depend on it.

Layout: ``sims.spiked_model_simulate`` (the ensembles and their trials), ``sims.spiked_model_verdicts``
(rates and verdicts); this module is the experiment: ``Config`` (the flags), ``Sweep`` (what runs;
presets ``--quick``/``--paper``), ``measure``, ``run`` (``sims.experiment.ExperimentRun``); the
command line is ``sims.experiment.cli_main``'s, from ``Config``.
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

import numpy as np

from core import cli
from core.result import Result
from core.validate import InvalidArgument, check_allocation, check_choice, check_float, check_int
from sims.device import check_device, resolve_device
from sims.experiment import ExperimentRun, cli_main, option, run_built_sweep, run_swept
from sims.noise import NOISE_KINDS
from sims.parallel import BACKENDS, map_tasks
# One concern per module; their public names stay importable from here.
from sims.spiked_model_simulate import (DEFAULT_NS, DEFAULT_TRIALS, ENGINE_TOL,  # noqa: F401
                                        MAX_BATCH_BYTES, PAPER_FIG_B1, PAPER_N, PAPER_SPIKES,
                                        PAPER_TRIALS, QUICK_NS, QUICK_TRIALS, THRESHOLD_SPIKES,
                                        Setting, simulate, simulate_banded, summarize)
from sims.spiked_model_verdicts import (CLAIM_OF, LABEL_OF, QUANTITIES, limit_outside_ci,  # noqa: F401
                                        paper_fig_b1_verdict, paper_text_verdicts,
                                        predicted_rates, rates, verdicts)

_predicted_rates, _limit_outside_ci = predicted_rates, limit_outside_ci   # the names the tests use


# ---------------------------------------------------------------------------------------------
MODULE = "sims.spiked_model"
MAX_N = 100_000              # dense engine: N x M matrices
MAX_N_BANDED = 1_000_000     # banded engine: O(N r) per trial (sims.banded)
ENGINES = ("dense", "banded")
DEFAULT_GROUPS = (PAPER_SPIKES, THRESHOLD_SPIKES)
VECTOR_KINDS = ("diagonal", "random")


@dataclass(frozen=True)
class Sweep:
    """What one run simulates (recorded as the Result's ``config``; a command line's ``Config``
    becomes one through ``sweep_of``): N values, trials per N (None: DEFAULT_TRIALS, else 16),
    spike groups (one matrix ensemble each), c = M/N, noise kind, spike vectors, seed, device, CPU worker processes;
    engine (dense N x M matrices, or sims.banded's exact-in-distribution reduction: Gaussian noise
    only); where the trials run (sims.parallel: backend loky|dask|ray, scheduler address)."""
    n: tuple = DEFAULT_NS
    trials: int | None = None
    spike_groups: tuple = DEFAULT_GROUPS
    ratio: float = 1.0
    noise: str = "gaussian"
    vectors: str = "diagonal"
    seed: int = 0
    device: str = "auto"
    jobs: int = 2
    engine: str = "dense"
    backend: str = "loky"
    scheduler: str | None = None

    @classmethod
    def quick(cls, **overrides) -> "Sweep":
        return cls(**{"n": QUICK_NS, "trials": QUICK_TRIALS, **overrides})

    @classmethod
    def paper(cls, **overrides) -> "Sweep":
        """Fig 4.3 / B.1: N = 3000, 10 matrices, S = diag(30, 40, 50, 60, 70)."""
        return cls(**{"n": (PAPER_N,), "trials": PAPER_TRIALS, "spike_groups": (PAPER_SPIKES,),
                      **overrides})

    def __post_init__(self):
        n = (self.n,) if isinstance(self.n, (int, np.integer)) else tuple(self.n)
        if not n:
            raise InvalidArgument("n must hold at least one matrix size, got ()")
        check_choice("engine", self.engine, ENGINES)
        n_max = MAX_N_BANDED if self.engine == "banded" else MAX_N
        n = tuple(sorted({check_int("n", v, 10, n_max) for v in n}))
        object.__setattr__(self, "n", n)
        if self.trials is not None:
            # a confidence interval needs two samples
            object.__setattr__(self, "trials", check_int("trials", self.trials, 2, 10**6))
        ratio = check_float("ratio", self.ratio, 0.0, 1000.0, lo_open=True)
        object.__setattr__(self, "ratio", ratio)
        groups = []
        for g in self.spike_groups:
            g = (g,) if isinstance(g, (int, float)) else tuple(g)
            if not g:
                raise InvalidArgument("spikes must hold at least one value, got ()")
            g = tuple(sorted((check_float("spikes", t, 0.0, None, lo_open=True) for t in g),
                             reverse=True))
            if len(set(g)) != len(g):
                raise InvalidArgument(f"spikes in one matrix must be distinct, got {list(g)}")
            groups.append(g)
        if not groups:
            raise InvalidArgument("spike_groups must hold at least one group of spikes, got ()")
        object.__setattr__(self, "spike_groups", tuple(groups))
        check_choice("noise", self.noise, NOISE_KINDS)
        check_choice("vectors", self.vectors, VECTOR_KINDS)
        if self.engine == "banded" and self.noise != "gaussian":
            raise InvalidArgument(f"engine 'banded' needs noise 'gaussian' (its reduction uses the "
                                  f"orthogonal invariance of Gaussian R), got noise {self.noise!r}; "
                                  f"use engine 'dense' for universality checks")
        check_choice("backend", self.backend, BACKENDS)
        if self.scheduler is not None and self.backend == "loky":
            raise InvalidArgument("scheduler is only used with backend 'dask' or 'ray', got "
                                  "backend 'loky'")
        check_int("seed", self.seed, 0)
        check_int("jobs", self.jobs, 1, 512)
        check_device(self.device)
        r = max(len(g) for g in groups)
        for v in n:
            m = int(round(ratio * v))
            if 2 * r + 10 > min(v, m):
                raise InvalidArgument(f"n = {v} (M = round(ratio * n) = {m}) is too small for {r} "
                                      f"spikes: need min(N, M) >= 2 * spikes + 10 = {2 * r + 10}")
        big = max(n)
        if self.engine == "dense":
            check_allocation("one N x M matrix", big * max(1, int(round(ratio * big))))

    def trials_for(self, n: int) -> int:
        return self.trials if self.trials is not None else DEFAULT_TRIALS.get(n, 16)


def _simulate_task(setting: Setting, seed: int, trials, engine: str, device: str,
                   threads: int | None):
    if engine == "banded":
        return simulate_banded(setting, seed, trials)
    return simulate(setting, seed, trials, device, threads=threads)


def measure(config: Sweep, progress: bool = False) -> list[dict]:
    """Simulate every (N, spike group) and return one record per (N, theta), with the per-trial
    samples (``*_samples``) that ``rates`` bootstraps.

    CPU sweeps run in ``config.jobs`` joblib worker processes (each single-threaded; 1 = in this
    process); the trials are chunked independently of the number of jobs."""
    c = config
    dev = resolve_device(c.device)
    tasks = []
    for n in c.n:
        m = int(round(c.ratio * n))
        count = c.trials_for(n)
        for group in c.spike_groups:
            setting = Setting(n, m, c.noise, tuple(group), c.vectors)
            # chunks of a few trials: balanced across workers, identical results for any split
            step = max(1, min(4, count))
            for start in range(0, count, step):
                tasks.append((setting, range(start, min(count, start + step))))
    # largest matrices first (better load balance)
    tasks.sort(key=lambda t: -t[0].N * t[0].M * len(t[0].spikes))
    distributed = c.jobs > 1 or c.backend != "loky"
    if c.engine == "dense" and dev.type != "cpu":
        distributed = False     # the device runs one chunk at a time, in this process
    if distributed:
        results = map_tasks(_simulate_task, [(s, c.seed, tr, c.engine, "cpu", 1) for s, tr in tasks],
                            backend=c.backend, jobs=c.jobs, scheduler=c.scheduler,
                            progress="spiked model" if progress else None)
    else:
        results = (_simulate_task(s, c.seed, tr, c.engine, dev, None) for s, tr in tasks)
    pairs = zip(tasks, results)
    if progress and not distributed:
        pairs = cli.progress(pairs, total=len(tasks), desc="spiked model", unit="chunk")
    merged: dict = {}
    for (setting, tr), res in pairs:
        merged.setdefault(setting, []).append((tr.start, res))
    records = []
    for setting, parts in merged.items():
        parts.sort(key=lambda p: p[0])
        data = {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}
        recs = summarize(setting, data)
        for rec in recs:
            rec["cpu_seconds_group"] = float(data["cpu_seconds"].sum())
        records.extend(recs)
    records.sort(key=lambda r: (r["N"], -r["theta"]))
    return records


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    """The flags of ``python -m sims.spiked_model`` (``--n``, ``--trials``, ``--paper``, ...);
    :func:`sweep_of` expands them (presets included) into the :class:`Sweep` that runs.  The
    ranges that depend on another flag (N's largest value on the engine, the spikes against N)
    are checked there, by the same helper (``core.validate``)."""
    n: tuple[int, ...] | None = option(None, f"matrix sizes N, 10 to {MAX_N} ({MAX_N_BANDED} with "
                                       f"--engine banded) (default: {' '.join(map(str, DEFAULT_NS))})",
                                       optional=True)
    trials: int | None = option(None, f"matrices per (N, spike group), >= 2 (default: "
                                f"{DEFAULT_TRIALS})", lo=2, hi=10**6, optional=True)
    spikes: tuple[float, ...] | None = option(None, f"spike strengths of S, > 0, one matrix group "
                                              f"(default: {PAPER_SPIKES} and {THRESHOLD_SPIKES} as two "
                                              f"groups)", lo=0.0, lo_open=True, optional=True)
    ratio: float = option(1.0, "c = M/N in (0, 1000] (1: Example A.1)", lo=0.0, hi=1000.0, lo_open=True)
    noise: str = option("gaussian", "entry distribution of R", choices=NOISE_KINDS)
    vectors: str = option("diagonal", "spike vectors: e_i (paper) or Haar-random",
                          choices=VECTOR_KINDS)
    paper: bool = option(False, f"paper scale: N={PAPER_N}, {PAPER_TRIALS} matrices, spikes "
                                f"{PAPER_SPIKES}")
    quick: bool = option(False, "small sizes, seconds to a minute")
    engine: str = option("dense", "dense N x M matrices (N <= 1e5), or the banded exact-in-"
                                  "distribution reduction (sims.banded; Gaussian noise only; N <= 1e6)",
                         choices=ENGINES)
    seed: int = option(0, "base seed; every trial's generator derives from it", lo=0)
    jobs: int = option(2, "worker processes for the sweep", lo=1, hi=512)
    backend: str = option("loky", "where the trials run: local processes (loky), dask or ray",
                          choices=BACKENDS)
    scheduler: str | None = option(None, "address of an existing dask scheduler or ray cluster "
                                         "(default: start a local one on 127.0.0.1)", optional=True)


def sweep_of(config: Config, device: str = "auto") -> Sweep:
    """The :class:`Sweep` a command line asks for (``--paper``/``--quick`` fill what it leaves
    unset); InvalidArgument on flags that exclude each other or a range no flag alone decides."""
    if config.paper and config.quick:
        raise InvalidArgument("--paper and --quick exclude each other")
    kw = {"ratio": config.ratio, "noise": config.noise, "vectors": config.vectors,
          "seed": config.seed, "device": device, "jobs": config.jobs, "engine": config.engine,
          "backend": config.backend, "scheduler": config.scheduler}
    if config.n is not None:
        kw["n"] = tuple(config.n)
    if config.trials is not None:
        kw["trials"] = config.trials
    if config.spikes is not None:
        kw["spike_groups"] = (tuple(config.spikes),)
    factory = Sweep.paper if config.paper else Sweep.quick if config.quick else Sweep
    return factory(**kw)


def toy_config(tmp_path=None) -> Config:
    """Two small N, three matrices each, one process: seconds on one core."""
    return Config(n=(40, 60), trials=3, jobs=1)


def run(config: Config = Config(), *, context: ExperimentRun | None = None) -> Result:
    """The Result of a command line's ``config`` (its :func:`sweep_of`, on the run's device);
    a progress bar when run from the command line (on a terminal only)."""
    return run_swept(MODULE, config, context, sweep_of, judged)


def run_sweep(sweep: Sweep, *, progress: bool = False) -> Result:
    """The Result of a :class:`Sweep` built in Python (e.g. several spike groups of one's own);
    its provenance records the command line that reruns it where there is one (``to_argv``)."""
    return run_built_sweep(MODULE, sweep, judged, to_argv, progress=progress)


def judged(sweep: Sweep, context: ExperimentRun, *, progress: bool = False) -> Result:
    """Simulate, fit the rates and judge inside an open run: the Result's records are
    ``measure``'s without the per-trial samples; ``tables["rates"]`` holds the log-log fits."""
    records = measure(sweep, progress=progress)
    vlist = verdicts(records)
    b1 = paper_fig_b1_verdict(records)
    if b1 is not None:
        vlist.append(b1)
    vlist.extend(paper_text_verdicts(records))
    slim = [{k: v for k, v in r.items() if not k.endswith("_samples")} for r in records]
    return context.result(config=asdict(sweep), records=slim, verdicts=vlist,
                          tables={"rates": rates(records)})


def to_argv(c: Sweep) -> list[str]:
    """A command line that reruns ``c`` (every setting spelled out)."""
    if c.spike_groups == DEFAULT_GROUPS:
        spikes = []
    elif len(c.spike_groups) == 1:
        spikes = ["--spikes", *map(repr, c.spike_groups[0])]
    else:
        return ["<api-config: several spike groups; see the Result's config>"]
    out = ["--n", *map(str, c.n)] + ([] if c.trials is None else ["--trials", str(c.trials)])
    return out + spikes + ["--ratio", repr(c.ratio), "--noise", c.noise, "--vectors", c.vectors,
                           "--seed", str(c.seed), "--device", c.device, "--jobs", str(c.jobs),
                           "--engine", c.engine, "--backend", c.backend] + \
        ([] if c.scheduler is None else ["--scheduler", c.scheduler])


def main(argv=None) -> int:
    """``python -m sims.spiked_model`` (and the ``rmt-spiked-model`` script): the flags of
    ``Config`` and the shared ones (``--json``, ``--device``, ``--threads``, ``--verbose``)."""
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
