"""`python -m sims.approximation_lemma`: Monte Carlo check of Approximation Lemma B.2 (paper 000).

W = R + S with R N x M iid (variance 1/N; Gaussian, Rademacher or uniform) and S diagonal with the
given singular values theta_i (u_i = e_i, v_i = e_i).  W' keeps the singular values of W above
sqrt(lambda+) + eps (Definition B.1, (B.4)).  Per trial we measure

* ``||W' - S||_2`` (claimed to tend to f_W almost surely in (B.14); Fig 4.3);
* ``||(W' - S) z||`` for z fixed independently of R: each v_i, one random unit vector, and mixes
  ((v_r + random)/sqrt 2, sum_i v_i / sqrt r) -- the setting of (B.5);
* |<u_i, u'_i>|, |<v_i, v'_i>| (Fig B.1, A.4),

and compare them with the paper's f_W ((B.6); = (4.24) for Example A.1) and with the derived limits
of ``theory.approximation_symbolic``.

Verdicts (registry ids), per spike set at the largest N unless said otherwise:

* ``000:lemma:B.2``: vacuous when a spike is below the threshold (its outlier not kept); else its
  (B.5): for fixed z, P(||(W'-S)z|| >= (1 + eps) f_W ||z||) -> 0: holds when the largest
  derived fixed-z limit is f_W itself and the exceedance fraction's 95% CI stays below 1/2;
* ``000:eq:B.14``: ||W'-S||_2 -> f_W a.s., judged on the N -> infinity extrapolation (mean =
  L + C N^{-1/2}, >= 3 N values) or else the CI at the largest N: fails when the interval holds the
  derived limit (the larger block norm of ``opnorm_limit``) and not f_W;
* ``000:figure:4.3`` (paper's spikes 30..70, c = 1, the record nearest N = 3000): f_W within the
  range of the ten matrices' ||S-W'||_2;
* ``000:text:4.6.2``: f_W < sqrt(lambda+) (so min{f_W, sqrt(lambda+)} = f_W in (C.22));
* ``000:figure:4.2`` (no simulation): |f_W - 1| <= 0.03 for sigma_r >= 5, on a grid of (4.24).

The Result also carries the curves of Fig 4.2 (``tables["fig_4_2"]``: (4.24) and the derived
operator-norm limit against sigma) and the fixed-z table (``tables["fixed_z"]``).

Layout: ``sims.approximation_lemma_trials`` (one trial), ``sims.approximation_lemma_limits`` (the
N -> infinity analysis, Fig 4.2's curves), ``sims.approximation_lemma_verdicts``; this module is the
experiment: ``Config`` (the flags), ``Sweep`` (what runs; presets ``--quick``/``--paper``/``--large``),
the sweep over N, ``run`` (``sims.experiment.ExperimentRun``); the command line is
``sims.experiment.cli_main``'s, from ``Config``.
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

import numpy as np

from core.result import Result
from core.validate import (InvalidArgument, check_allocation, check_choice, check_float,
                           check_int)
from sims.device import check_device, resolve_device, trial_generator  # noqa: F401
from sims.experiment import ExperimentRun, cli_main, option, run_built_sweep, run_swept
from sims.stats import mean_ci, proportion_ci
from theory import approximation as paper
from theory import approximation_symbolic as derived

from sims import banded
from sims.parallel import BACKENDS, map_tasks
# One concern per module; their public names stay importable from here.
from sims.approximation_lemma_trials import (B5_EPS, DEFAULT_EPS, MODERATE_SPIKES,  # noqa: F401
                                              PAPER_SPIKES, ideal_coefficients, noise_matrix,
                                              one_trial, test_vectors, truncate)
from sims.approximation_lemma_limits import (convergence, extrapolate, extrapolate_power,  # noqa: F401
                                              fig_4_2_curves, limits_table)
from sims.approximation_lemma_verdicts import set_verdicts, theory_verdicts, verdicts  # noqa: F401

_noise = noise_matrix                            # the name the tests use


MODULE = "sims.approximation_lemma"
MAX_N = 100_000              # dense engine: one N x M matrix per trial
MAX_N_BANDED = 1_000_000     # banded engine: O(N r) per trial (sims.banded)
ENGINES = ("dense", "banded")
NOISE_KINDS = ("gaussian", "rademacher", "uniform")
DEFAULT_SETS = (PAPER_SPIKES, MODERATE_SPIKES)
# --large: N over three decades (ratio ~3.16); fewer matrices where a trial costs more and the
# fluctuations (~N^-1/2) are smaller
LARGE_NS = (1000, 3162, 10_000, 31_623, 100_000, 316_228, 1_000_000)
LARGE_TRIALS = (200, 200, 100, 60, 30, 16, 10)


@dataclass(frozen=True)
class Sweep:
    """What one run simulates (the Result's ``config``; a command line's ``Config`` becomes one
    through ``sweep_of``): N values (M = round(ratio N)), matrices per N, spike sets (one matrix ensemble each, run
    separately), noise kind, truncation slack eps of (B.4), seed, device; engine (dense: the N x M matrix;
    banded: sims.banded's exact-in-distribution reduction, Gaussian noise only); where the trials
    run (sims.parallel: backend loky|dask|ray, jobs, scheduler address)."""
    n: tuple = (250, 500, 1000)
    trials: int = 10
    spike_sets: tuple = DEFAULT_SETS
    ratio: float = 1.0
    noise: str = "gaussian"
    eps: float = DEFAULT_EPS
    seed: int = 0
    device: str = "auto"
    engine: str = "dense"
    backend: str = "loky"
    jobs: int = 1
    scheduler: str | None = None

    @classmethod
    def quick(cls, **overrides) -> "Sweep":
        return cls(**{"n": (150, 300, 600), "trials": 4, **overrides})

    def trials_per_n(self) -> tuple:
        return self.trials if isinstance(self.trials, tuple) else (self.trials,) * len(self.n)

    @classmethod
    def large(cls, **overrides) -> "Sweep":
        """Three decades of N for the limit and rates of ||W'-S||_2 (banded engine)."""
        return cls(**{"n": LARGE_NS, "trials": LARGE_TRIALS, "engine": "banded", **overrides})

    @classmethod
    def paper(cls, **overrides) -> "Sweep":
        """N up to 6000 including Fig 4.3's 3000, 10 matrices per N."""
        return cls(**{"n": (500, 1000, 2000, 3000, 6000), "trials": 10, **overrides})

    def __post_init__(self):
        n = (self.n,) if isinstance(self.n, (int, np.integer)) else tuple(self.n)
        if not n:
            raise InvalidArgument("n must hold at least one matrix size, got ()")
        check_choice("engine", self.engine, ENGINES)
        n_max = MAX_N_BANDED if self.engine == "banded" else MAX_N
        object.__setattr__(self, "n", tuple(check_int("n", v, 10, n_max) for v in n))
        # a confidence interval needs 2 matrices; one count for every N, or one per N
        if isinstance(self.trials, (list, tuple)):
            if len(self.trials) != len(self.n):
                raise InvalidArgument(f"trials must hold one count or one per N ({len(self.n)}), "
                                      f"got {list(self.trials)}")
            object.__setattr__(self, "trials",
                               tuple(check_int("trials", t, 2, 10**6) for t in self.trials))
        else:
            check_int("trials", self.trials, 2, 10**6)
        sets = []
        for g in self.spike_sets:
            g = (g,) if isinstance(g, (int, float)) else tuple(g)
            if not g:
                raise InvalidArgument("spikes must hold at least one value, got ()")
            sets.append(tuple(sorted((check_float("spikes", t, 0.0, None, lo_open=True) for t in g),
                                     reverse=True)))
        if not sets:
            raise InvalidArgument("spike_sets must hold at least one set of spikes, got ()")
        object.__setattr__(self, "spike_sets", tuple(sets))
        ratio = check_float("ratio", self.ratio, 0.0, 1000.0, lo_open=True)
        object.__setattr__(self, "ratio", ratio)
        check_choice("noise", self.noise, NOISE_KINDS)
        if self.engine == "banded" and self.noise != "gaussian":
            raise InvalidArgument(f"engine 'banded' needs noise 'gaussian' (its reduction uses the "
                                  f"orthogonal invariance of Gaussian R), got noise {self.noise!r}; "
                                  f"use engine 'dense' for universality checks")
        check_choice("backend", self.backend, BACKENDS)
        check_int("jobs", self.jobs, 1, 4096)
        if self.scheduler is not None and self.backend == "loky":
            raise InvalidArgument("scheduler is only used with backend 'dask' or 'ray', got "
                                  "backend 'loky'")
        object.__setattr__(self, "eps", check_float("eps", self.eps, 0.0, 10.0))
        check_int("seed", self.seed, 0)
        check_device(self.device)
        r = max(len(g) for g in sets)
        for v in self.n:
            m = int(round(ratio * v))
            if min(v, m) < r + 2:
                raise InvalidArgument(f"n = {v} (M = round(ratio * n) = {m}) is too small for {r} "
                                      f"spikes: need min(N, M) >= {r + 2}")
        big = max(self.n)
        if self.engine == "dense":
            check_allocation("one N x M matrix", big * max(1, int(round(ratio * big))))


def _trial_task(N, M, thetas, noise, seed, trial, device, eps, engine):
    """One trial wherever it runs (sims.parallel): the fixed z's are rebuilt from the seed in the
    worker (O(M)), so a task ships a few numbers, not vectors of length M."""
    zs = test_vectors(M, len(thetas), seed)
    if engine == "banded":
        r = len(thetas)
        parts = {name: (z[:r].numpy(), float(z[r:].norm())) for name, z in zs.items()}
        parts["_k"] = int(np.sum(derived.kept_by_truncation(thetas, M / N, eps=eps)))
        return banded.lemma_trial(thetas, N, M, seed, trial, derived.edge(M / N) + eps, parts)
    return one_trial(N, M, thetas, noise, seed, trial, resolve_device(device), eps, zs)


def measure(config: Sweep, progress: bool = False) -> list[dict]:
    """One record per (spike set, N): measured means with 95% t intervals against the derived
    limits and the paper's f_W."""
    records = []
    for spikes in config.spike_sets:
        records += _measure_set(config, np.array(spikes, dtype=float), progress)
    return records


def _measure_set(c: Sweep, thetas: np.ndarray, progress: bool) -> list[dict]:
    ratio, eps, seed, noise = c.ratio, c.eps, c.seed, c.noise
    dev = resolve_device(c.device)
    g_sigma, g_u, g_v = derived.spike_limits(thetas, ratio)
    assumption_ok = bool(np.all(derived.kept_by_truncation(thetas, ratio, eps=eps)))
    f_W = paper.f_W_general_B6(g_sigma, g_u, g_v, thetas) if assumption_ok else float("nan")
    L = derived.fixed_v_limits(thetas, ratio, eps=eps)
    records = []
    for N, trials in zip(c.n, c.trials_per_n()):
        M = int(round(ratio * N))
        zs = test_vectors(M, len(thetas), seed)
        tasks = [(N, M, thetas, noise, seed, t, str(dev), eps, c.engine) for t in range(trials)]
        # the bar counts finished trials (map_tasks lists the tasks before it runs them)
        rows = map_tasks(_trial_task, tasks, backend=c.backend, jobs=c.jobs, scheduler=c.scheduler,
                         progress=f"spikes {thetas.min():g}..{thetas.max():g}, N={N}"
                         if progress else None)
        op = np.array([r["opnorm"] for r in rows])
        op_ci = mean_ci(op)
        fixed = {}
        ideal = ideal_coefficients(len(thetas))
        for name, z in zs.items():
            coeffs = ideal[name]
            vals = np.array([r["z_" + name] for r in rows])
            ci = mean_ci(vals)
            fixed[name] = {"mean": ci.mean, "ci": ci.as_list(),
                           "limit": derived.fixed_z_limit(thetas, coeffs, ratio, eps=eps)}
        worst = f"v{int(np.argmax(L)) + 1}"   # the v_i attaining (B.6)'s max (v_r if theta_r >= sqrt 2)
        zr = np.array([r["z_" + worst] for r in rows])
        exceed = int(np.sum(zr >= (1 + B5_EPS) * f_W)) if assumption_ok else 0
        b5 = proportion_ci(exceed, trials)
        u_ov = np.array([r["u_overlap"] for r in rows if len(r["u_overlap"]) == len(thetas)])
        v_ov = np.array([r["v_overlap"] for r in rows if len(r["v_overlap"]) == len(thetas)])
        records.append({
            "N": N, "M": M, "ratio": ratio, "noise": noise, "trials": trials, "eps": eps,
            "engine": c.engine,
            "spikes": thetas.tolist(), "theta_min": float(thetas.min()),
            "n_kept_mean": float(np.mean([r["n_kept"] for r in rows])),
            "opnorm_mean": op_ci.mean, "opnorm_ci": op_ci.as_list(),
            "opnorm_limit": derived.opnorm_limit(thetas, ratio, eps=eps),
            "opnorm_samples": op.tolist(),
            "fixed_z": worst, "fixed_z_mean": fixed[worst]["mean"], "fixed_z_ci": fixed[worst]["ci"],
            "fixed_z_limit": fixed[worst]["limit"], "fixed_z_all": fixed,
            "f_W_paper": f_W, "lemma_assumption_ok": assumption_ok,
            "b5_exceed_fraction": b5.mean, "b5_exceed_ci": b5.as_list(),
            "u_overlap_mean": u_ov.mean(0).tolist() if len(u_ov) else None,
            "v_overlap_mean": v_ov.mean(0).tolist() if len(v_ov) else None,
            "overlap_limit_sqrt": [np.sqrt(g_u).tolist(), np.sqrt(g_v).tolist()],
            "fixed_v_limits": L.tolist(),
        })
    return records


@dataclass(frozen=True)
class Config:
    """The flags of ``python -m sims.approximation_lemma``; :func:`sweep_of` expands them (presets
    ``--quick``/``--paper``/``--large`` included) into the :class:`Sweep` that runs.  Ranges that
    depend on another flag (N's largest value on the engine, trials per N, N against the spikes)
    are checked there (``core.validate``)."""
    n: tuple[int, ...] | None = option(None, f"matrix sizes N, 10 to {MAX_N} ({MAX_N_BANDED} banded) "
                                       "(default: 250 500 1000)", optional=True)
    trials: tuple[int, ...] | None = option(None, "matrices per N, >= 2: one count, or one per N "
                                            "(default: 10)", lo=2, hi=10**6, optional=True)
    spikes: tuple[float, ...] | None = option(None, "singular values of S, > 0 (default: the paper's "
                                              "30..70 and 2 3 5)", lo=0.0, lo_open=True,
                                              optional=True)
    ratio: float = option(1.0, "M/N in (0, 1000]", lo=0.0, hi=1000.0, lo_open=True)
    noise: str = option("gaussian", "entry distribution of R", choices=NOISE_KINDS)
    eps: float = option(DEFAULT_EPS, "truncation slack of (B.4)", lo=0.0, hi=10.0)
    paper: bool = option(False, "paper scale: N = 500 1000 2000 3000 (Fig 4.3) 6000, 10 matrices per N")
    large: bool = option(False, f"three decades of N with the banded engine: N = "
                                f"{' '.join(map(str, LARGE_NS))}, {' '.join(map(str, LARGE_TRIALS))} "
                                f"matrices")
    quick: bool = option(False, "small sizes, seconds to a minute")
    engine: str | None = option(None, "dense N x M matrices (N <= 1e5; default: dense, banded with "
                                      "--large), or the banded exact-in-distribution reduction "
                                      "(Gaussian noise only; N <= 1e6)", choices=ENGINES, optional=True)
    seed: int = option(0, "base seed; every trial's generator derives from it", lo=0)
    jobs: int = option(1, "worker processes for the sweep", lo=1, hi=4096)
    backend: str = option("loky", "where the trials run: local processes (loky), dask or ray",
                          choices=BACKENDS)
    scheduler: str | None = option(None, "address of an existing dask scheduler or ray cluster "
                                         "(default: start a local one on 127.0.0.1)", optional=True)


def sweep_of(config: Config, device: str = "auto") -> Sweep:
    """The :class:`Sweep` a command line asks for (a preset fills what it leaves unset)."""
    if config.paper + config.quick + config.large > 1:
        raise InvalidArgument("--paper, --quick and --large exclude each other")
    if config.large and config.engine == "dense" and config.n is None:  # else: n > MAX_N, unasked
        raise InvalidArgument(f"engine 'dense' takes N <= {MAX_N}, --large's N go to {max(LARGE_NS)}: "
                              f"drop --engine dense or give --n")
    kw = {"ratio": config.ratio, "noise": config.noise, "eps": config.eps, "seed": config.seed,
          "device": device, "backend": config.backend, "jobs": config.jobs,
          "scheduler": config.scheduler}
    if config.engine is not None:
        kw["engine"] = config.engine
    if config.n is not None:
        kw["n"] = tuple(config.n)
    if config.trials is not None:
        kw["trials"] = config.trials[0] if len(config.trials) == 1 else tuple(config.trials)
    if config.spikes is not None:
        kw["spike_sets"] = (tuple(config.spikes),)
    factory = (Sweep.paper if config.paper else Sweep.quick if config.quick else
               Sweep.large if config.large else Sweep)
    return factory(**kw)


def toy_config(tmp_path=None) -> Config:
    """Two small N, two matrices each, the moderate spikes: seconds on one core."""
    return Config(n=(40, 60), trials=(2,), spikes=MODERATE_SPIKES)


def run(config: Config = Config(), *, context: ExperimentRun | None = None) -> Result:
    """The Result of a command line's ``config`` (its :func:`sweep_of`, on the run's device);
    a progress bar when run from the command line (on a terminal only)."""
    return run_swept(MODULE, config, context, sweep_of, judged)


def run_sweep(sweep: Sweep, *, progress: bool = False) -> Result:
    """The Result of a :class:`Sweep` built in Python (e.g. several spike sets of one's own);
    its provenance records the command line that reruns it where there is one (``to_argv``)."""
    return run_built_sweep(MODULE, sweep, judged, to_argv, progress=progress)


def judged(sweep: Sweep, context: ExperimentRun, *, progress: bool = False) -> Result:
    """Simulate every spike set and judge inside an open run; records without the nested fixed-z
    table, which goes to ``tables["fixed_z"]``; Fig 4.2's curves in ``tables["fig_4_2"]``."""
    records = measure(sweep, progress=progress)
    vlist = theory_verdicts() + verdicts(records)
    fixed = [{"spikes": r["spikes"], "N": r["N"], "z": name, "mean": v["mean"], "ci": v["ci"],
              "limit": v["limit"]} for r in records for name, v in r["fixed_z_all"].items()]
    flat = [{k: v for k, v in r.items() if k != "fixed_z_all"} for r in records]
    return context.result(config=asdict(sweep), records=flat, verdicts=vlist,
                          tables={"fixed_z": fixed, "fig_4_2": fig_4_2_curves(),
                                  "limits": limits_table(records)})


def to_argv(c: Sweep) -> list[str]:
    """A command line that reruns ``c`` (every setting spelled out)."""
    if c.spike_sets == DEFAULT_SETS:
        spikes = []
    elif len(c.spike_sets) == 1:
        spikes = ["--spikes", *map(repr, c.spike_sets[0])]
    else:
        return ["<api-config: several spike sets; see the Result's config>"]
    return (["--n", *map(str, c.n), "--trials", *map(str, c.trials_per_n())] + spikes
            + ["--ratio", repr(c.ratio), "--noise", c.noise, "--eps", repr(c.eps), "--seed", str(c.seed),
               "--device", c.device, "--engine", c.engine, "--backend", c.backend,
               "--jobs", str(c.jobs)] + ([] if c.scheduler is None else ["--scheduler", c.scheduler]))


def main(argv=None) -> int:
    """``python -m sims.approximation_lemma`` (and ``rmt-approximation-lemma``): the flags of
    ``Config`` and the shared ones (``--json``, ``--device``, ``--threads``, ``--verbose``)."""
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
