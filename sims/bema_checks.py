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
the experiment (config, ``run``, command line).
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

from core import cli
from core.result import Result, Verdict
from core.validate import InvalidArgument, check_allocation, check_choice, check_float, check_int
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
from sims.device import check_device, resolve_device
from sims.experiment import ExperimentRun
from sims.parallel import BACKENDS, add_backend_options


def verdicts(calib: list[dict], d1: list[dict], d1_fig: dict | None, spikes: list[dict],
             d2_fig: dict | None = None) -> list[Verdict]:
    return (calibration_verdicts(calib) + alg4_verdict(calib) + example_d1_verdict(d1)
            + alpha_verdict(d1_fig) + spike_verdicts(spikes) + figure_d1_verdict(d1_fig)
            + figure_d2_verdict(d2_fig))


# --- the experiment: config in, Result out --------------------------------------------------------------

MODULE = "sims.bema_checks"
MAX_N = 20000


@dataclass(frozen=True)
class Config:
    """Sizes of every part of the check (defaults: the full run; ``Config.quick()``: seconds)."""
    calibration_n: tuple = (100, 200, 400)
    calibration_ratios: tuple = (0.5, 1.0, 2.0)
    trials: int = 1000
    d1_n: tuple = (250, 500, 1000, 2000)
    d1_trials: int = 3
    fig_n: int = 1000
    fig_trials: int = 3
    spike_n: tuple = (100, 200, 400)
    spike_ratios: tuple = (0.5, 1.0, 2.0)
    spike_factors: tuple = (0.5, 0.9, 1.1, 1.5, 2.0, 3.0)
    spike_trials: int = 100
    seed: int = 0
    device: str = "auto"
    backend: str = "loky"         # where the calibration batches and spike settings run
    jobs: int = 1
    scheduler: str | None = None

    @classmethod
    def quick(cls, **overrides) -> "Config":
        base = dict(calibration_n=(100,), calibration_ratios=(0.5, 1.0), trials=300,
                    d1_n=(150, 300), d1_trials=2, fig_n=200, fig_trials=2, spike_n=(100,),
                    spike_ratios=(1.0,), spike_factors=(0.5, 2.0), spike_trials=30)
        base.update(overrides)
        return cls(**base)

    def __post_init__(self):
        for name in ("calibration_n", "d1_n", "spike_n", "calibration_ratios", "spike_ratios",
                     "spike_factors"):
            value = getattr(self, name)
            if isinstance(value, (int, float)):
                value = (value,)
            if len(value) == 0:
                raise InvalidArgument(f"{name} must hold at least one value, got ()")
            object.__setattr__(self, name, tuple(value))
        for name in ("calibration_n", "d1_n", "spike_n"):
            object.__setattr__(self, name, tuple(check_int(name, n, 10, MAX_N) for n in getattr(self, name)))
        check_int("fig_n", self.fig_n, 10, MAX_N)
        for name in ("calibration_ratios", "spike_ratios"):
            object.__setattr__(self, name, tuple(check_float(name, r, 0.0, 100.0, lo_open=True)
                                                 for r in getattr(self, name)))
        object.__setattr__(self, "spike_factors", tuple(
            check_float("spike_factors", f, 0.0, 100.0, lo_open=True) for f in self.spike_factors))
        for name in ("trials", "spike_trials"):
            check_int(name, getattr(self, name), 2, 10**6)   # a proportion needs a few trials
        for name in ("d1_trials", "fig_trials"):
            check_int(name, getattr(self, name), 1, 10**4)
        check_int("seed", self.seed, 0)
        check_device(self.device)
        check_choice("backend", self.backend, BACKENDS)
        check_int("jobs", self.jobs, 1, 4096)
        if self.scheduler is not None and self.backend == "loky":
            raise InvalidArgument("scheduler is only used with backend 'dask' or 'ray', got "
                                  "backend 'loky'")
        biggest = max([n * max(1.0, r) * n for n in self.calibration_n for r in self.calibration_ratios]
                      + [n * n for n in self.d1_n] + [self.fig_n ** 2])
        check_allocation("one matrix of the sweep", biggest)


def run(config: Config, *, argv: list[str] | None = None, progress: bool = False) -> Result:
    """All checks of the module docstring; ``argv`` is the command line recorded in the provenance
    (default: the one that reproduces ``config``)."""
    c = config
    dev = resolve_device(c.device)
    _, prov = ExperimentRun(MODULE, None, argv=to_argv(c) if argv is None else argv,
                            device=dev, seed=c.seed).start()
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
    return Result(experiment=MODULE, config=asdict(c), provenance=prov.stop(), records=calib,
                  verdicts=verds, tables=tables)


def to_argv(c: Config) -> list[str]:
    """The command line that reruns ``c`` when it is the default or the quick config (with its
    seed, device and calibration trials); other configs are API-only and say so."""
    where = ["--backend", c.backend, "--jobs", str(c.jobs)] + (
        [] if c.scheduler is None else ["--scheduler", c.scheduler])
    for base, flags in ((Config(), []), (Config.quick(), ["--quick"])):
        trials = c.trials
        if asdict(Config(**{**asdict(base), "seed": c.seed, "device": c.device, "trials": trials,
                            "backend": c.backend, "jobs": c.jobs,
                            "scheduler": c.scheduler})) == asdict(c):
            extra = [] if trials == base.trials else ["--trials", str(trials)]
            return flags + extra + ["--seed", str(c.seed), "--device", c.device] + where
    return ["<api-config: see the Result's config>"]


def _parser():
    p = cli.make_parser(MODULE, __doc__, options=("seed", "device", "json", "quick", "threads",
                                                  "jobs"))
    p.add_argument("--trials", type=int, default=None,
                   help="calibration trials per setting (default 1000; --quick 300)")
    add_backend_options(p)
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)

    def body(args):
        overrides = {"seed": args.seed, "device": args.device, "backend": args.backend,
                     "jobs": args.jobs, "scheduler": args.scheduler}
        if args.trials is not None:
            overrides["trials"] = args.trials
        config = Config.quick(**overrides) if args.quick else Config(**overrides)
        return run(config, argv=argv, progress=True)

    return cli.run(_parser(), argv, body)


if __name__ == "__main__":
    sys.exit(main())
