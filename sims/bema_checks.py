"""`python -m sims.bema_checks`: BEMA (paper 000 Algorithm 2) and the MP fit test (Algorithm 4) in
simulation.

* Example D.1 (eq. D.1, W = R + S, R N x N unit-variance Gaussian, X = W^T W / N): lambda+ against
  alpha and against beta (Fig D.1 data), the ESD with the fitted MP density (Fig D.2 data), and the
  claim "the lambda+ obtained ... and the lambda+ of R^T R / N are approximately the same" (Example
  D.1), measured against BEMA on R alone and against the method's own Tracy-Widom margin.
* Calibration on pure noise: P(top eigenvalue > lambda+) against beta (Remark D.1: "beta allows us to
  control the confidence that the eigenvalues of R will be smaller than the estimator"), Wilson
  intervals, several N and ratios, for the three readings of step 3's quantile (``theory.bema``
  QUANTILE_LEVELS) and for the oracle sigma^2 = 1 (isolates the Tracy-Widom approximation).
* Algorithm 4 step 6 as printed (MP parameter lambda = N/M) against c = M/N on rectangular noise.
* Spike counting: W = sqrt(N) (R + S), R entries of variance 1/N (Assumption 4.1), S = theta
  sum_{i<=r} u_i v_i^T; the number of eigenvalues of X above lambda+ against r [theta > threshold],
  over N, ratio and theta / threshold (threshold and outlier limits from ``theory.spiked``).

Verdict claims (registry ids): ``000:remark:D.1`` (calibration per reading of step 3; insensitivity
to alpha), ``000:algorithm:2`` (BEMA's midpoint reading against the oracle; spike counting),
``000:algorithm:4`` (step 6's MP parameter), ``000:example:D.1`` (lambda+ ~ 4).

Spectra: torch float64, ``eigvalsh`` of the smaller Gram matrix (W^T W / N or W W^T / N; for M > N
the M - N zeros of W^T W / N are appended).  Each trial draws from ``trial_generator(seed, index)``
with experiment-specific index ranges, so results do not depend on batch size or device.

Layout: ``sims.bema_checks_example_d1``, ``sims.bema_checks_calibration``, ``sims.bema_checks_spikes``
(one check each, with its verdicts), what they share in ``sims.bema_checks_common``; this module is
the experiment (config, ``run``, command line: the fields of ``Config`` are its flags).
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, replace

from core.result import Result, Verdict
from core.validate import InvalidArgument, check_allocation, check_float
# The checks, one module each; their public names stay importable from here.
from sims.bema_checks_calibration import (READING_LABEL, alg4_verdict, calibration,  # noqa: F401
                                          calibration_verdicts)
from sims.bema_checks_common import (BETA, LEVEL_READINGS, TRIAL_OFFSET, interval_text,  # noqa: F401
                                     noise_spectra, spectrum_of)
from sims.bema_checks_example_d1 import (FIG_D1_RELATIVE, GOF_TAU, alpha_verdict,  # noqa: F401
                                         example_d1_claim, example_d1_signal, example_d1_spectra,
                                         example_d1_verdict, fig_d1_data, fig_d2_data,
                                         figure_d1_verdict, figure_d2_verdict)
from sims.bema_checks_spikes import bbp_threshold, spike_counts, spike_verdicts  # noqa: F401
from sims.experiment import ExperimentRun, cli_main, config_argv, option
from sims.parallel import BACKENDS


def verdicts(calib: list[dict], d1: list[dict], d1_fig: dict | None, spikes: list[dict],
             d2_fig: dict | None = None) -> list[Verdict]:
    return (calibration_verdicts(calib) + alg4_verdict(calib) + example_d1_verdict(d1)
            + alpha_verdict(d1_fig) + spike_verdicts(spikes) + figure_d1_verdict(d1_fig)
            + figure_d2_verdict(d2_fig))


# --- the experiment: config in, Result out --------------------------------------------------------------

MODULE = "sims.bema_checks"
MAX_N = 20000
SIZES = ("calibration_n", "calibration_ratios", "trials", "d1_n", "d1_trials", "fig_n", "fig_trials",
         "spike_n", "spike_ratios", "spike_factors", "spike_trials")
PRESETS = {  # the sizes a size field left at None takes: the full run, and --quick (seconds)
    False: dict(calibration_n=(100, 200, 400), calibration_ratios=(0.5, 1.0, 2.0), trials=1000,
                d1_n=(250, 500, 1000, 2000), d1_trials=3, fig_n=1000, fig_trials=3, spike_n=(100, 200, 400),
                spike_ratios=(0.5, 1.0, 2.0), spike_factors=(0.5, 0.9, 1.1, 1.5, 2.0, 3.0), spike_trials=100),
    True: dict(calibration_n=(100,), calibration_ratios=(0.5, 1.0), trials=300, d1_n=(150, 300), d1_trials=2,
               fig_n=200, fig_trials=2, spike_n=(100,), spike_ratios=(1.0,), spike_factors=(0.5, 2.0),
               spike_trials=30),
}


def _size(default: str, quick: str, help: str, **rng):
    return option(None, f"{help} (default {default}; --quick {quick})", optional=True, **rng)


@dataclass(frozen=True)
class Config:
    """Sizes of every part of the check; a size left at None takes the full run's value (``quick``:
    the small one, ``PRESETS``).  The device is the run's (``--device``), not the config's."""
    calibration_n: tuple[int, ...] | None = _size("100 200 400", "100", "N of the pure-noise calibration",
                                                  lo=10, hi=MAX_N)
    calibration_ratios: tuple[float, ...] | None = _size("0.5 1 2", "0.5 1", "ratios c = M/N of the calibration "
                                                         "(each > 0)", lo=0.0, hi=100.0, lo_open=True)
    trials: int | None = _size("1000", "300", "calibration trials per setting", lo=2, hi=10**6)
    d1_n: tuple[int, ...] | None = _size("250 500 1000 2000", "150 300", "N of Example D.1's claim",
                                         lo=10, hi=MAX_N)
    d1_trials: int | None = _size("3", "2", "trials per N of Example D.1's claim", lo=1, hi=10**4)
    fig_n: int | None = _size("1000", "200", "N of the Fig D.1 / D.2 data", lo=10, hi=MAX_N)
    fig_trials: int | None = _size("3", "2", "trials per point of Fig D.1", lo=1, hi=10**4)
    spike_n: tuple[int, ...] | None = _size("100 200 400", "100", "N of the spike counting", lo=10, hi=MAX_N)
    spike_ratios: tuple[float, ...] | None = _size("0.5 1 2", "1", "ratios of the spike counting (each > 0)",
                                                   lo=0.0, hi=100.0, lo_open=True)
    spike_factors: tuple[float, ...] | None = _size("0.5 0.9 1.1 1.5 2 3", "0.5 2", "theta / threshold of the "
                                                    "spike counting (each > 0)", lo=0.0, hi=100.0,
                                                    lo_open=True)
    spike_trials: int | None = _size("100", "30", "trials per spike setting", lo=2, hi=10**6)
    seed: int = option(0, "base seed; every trial's generator derives from it", lo=0)
    backend: str = option("loky", "where the calibration batches and spike settings run", choices=BACKENDS)
    jobs: int = option(1, "worker processes for the sweeps", lo=1, hi=4096)
    scheduler: str | None = option(None, "address of an existing dask scheduler or ray cluster (default: "
                                         "start a local one on 127.0.0.1)", optional=True)
    quick: bool = option(False, "small sizes, seconds to a minute (every size not given)")

    def resolved(self) -> "Config":
        """This config with every size given (None -> the preset's value), checked across fields
        (``core.validate``: what one field's range cannot say)."""
        cfg = replace(self, **{k: v for k, v in PRESETS[self.quick].items() if getattr(self, k) is None})
        for name in ("calibration_n", "d1_n", "spike_n", "calibration_ratios", "spike_ratios", "spike_factors"):
            if len(getattr(cfg, name)) == 0:
                raise InvalidArgument(f"{name} must hold at least one value, got ()")
        for name in ("calibration_ratios", "spike_ratios", "spike_factors"):
            for r in getattr(cfg, name):
                check_float(name, r, 0.0, 100.0, lo_open=True)
        if cfg.scheduler is not None and cfg.backend == "loky":
            raise InvalidArgument("scheduler is only used with backend 'dask' or 'ray', got backend 'loky'")
        biggest = max([n * max(1.0, r) * n for n in cfg.calibration_n for r in cfg.calibration_ratios]
                      + [n * n for n in cfg.d1_n] + [cfg.fig_n ** 2])
        check_allocation("one matrix of the sweep", biggest)
        return cfg


def toy_config(tmp_path=None) -> Config:
    """Seconds on one core: N = 40, a few trials of every part."""
    return Config(quick=True, calibration_n=(40,), calibration_ratios=(0.5,), trials=20, d1_n=(40,), d1_trials=1,
                  fig_n=40, fig_trials=1, spike_n=(40,), spike_trials=4)


def recorded_config(config: Config, device) -> dict:
    """The Result's config: every size resolved, the device the run used (no ``quick``: the sizes say it)."""
    c = {k: v for k, v in asdict(config.resolved()).items() if k != "quick"}
    return {**{k: c[k] for k in SIZES}, "seed": c["seed"], "device": str(device),
            **{k: c[k] for k in ("backend", "jobs", "scheduler")}}


def run(config: Config = Config(), *, context: ExperimentRun | None = None) -> Result:
    """All checks of the module docstring.  From Python the Result records the command line that
    reruns ``config`` on the CPU; ``python -m`` records its own (``sims.experiment.cli_main``)."""
    context = context or ExperimentRun(MODULE, config, argv=config_argv(config) + ["--device", "cpu"])
    context.seed = config.seed
    with context:
        return _run(config.resolved(), context)


def _run(c: Config, context: ExperimentRun) -> Result:
    dev, progress = context.device, True   # bars on a terminal only (core.cli.progress)
    parallel = {"backend": c.backend, "jobs": c.jobs, "scheduler": c.scheduler}
    calib = calibration(ns=c.calibration_n, ratios=c.calibration_ratios, trials=c.trials,
                        seed=c.seed, device=dev, progress=progress, parallel=parallel)
    d1 = example_d1_claim(ns=c.d1_n, trials=c.d1_trials, seed=c.seed, device=dev, progress=progress)
    d1_fig = fig_d1_data(n=c.fig_n, trials=c.fig_trials, seed=c.seed, device=dev)
    d2_fig = fig_d2_data(n=c.fig_n, seed=c.seed, device=dev)
    spikes = spike_counts(ns=c.spike_n, ratios=c.spike_ratios, factors=c.spike_factors,
                          trials=c.spike_trials, seed=c.seed, device=dev, progress=progress,
                          parallel=parallel)
    verds = verdicts(calib, d1, d1_fig, spikes, d2_fig)
    fig_scalars = {k: d1_fig[k] for k in ("N", "trials", "limit", "alpha_fixed", "beta_fixed")}
    tables = {
        "example_d1": d1, "spike_counts": spikes,
        "fig_d1_alpha": [{**fig_scalars, **r} for r in d1_fig["alpha_sweep"]],
        "fig_d1_beta": [{**fig_scalars, **r} for r in d1_fig["beta_sweep"]],
        "fig_d2_fit": [{k: d2_fig[k] for k in ("N", "alpha", "beta", "sigma2", "lambda_plus",
                                               "n_spikes", "mp_fit_error")}
                       | {"n_outliers_beyond_axis": len(d2_fig["outliers"])}],
        "fig_d2_histogram": [{"bin_low": lo, "bin_high": hi, "density": d} for lo, hi, d in
                             zip(d2_fig["bin_edges"][:-1], d2_fig["bin_edges"][1:], d2_fig["esd_density"])],
        "fig_d2_mp": [{"x": x, "density": d} for x, d in zip(d2_fig["mp_grid"], d2_fig["mp_density"])],
    }
    return context.result(config=recorded_config(c, dev), records=calib, verdicts=verds, tables=tables)


def main(argv=None) -> int:
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
