"""`python -m sims.wigner`: Example 4.3 / Appendix B.2 of paper 000 (symmetric spiked model).

W = X + S, X n x n Gaussian Wigner noise, S = sum_i theta_i u_i u_i^T (u_i = e_i).  Example 4.3 reads
"R an n x n symmetric (or Hermitian) matrix with independent, zero mean, normally distributed
entries.  The variance of the entries is sigma^2/n on the diagonal and sigma^2/(2n) on the
off-diagonal", and Appendix B.2 (taken from [7]) gives lambda_i -> sigma_i + sigma^2/sigma_i and
|<u,u'>|^2 -> 1 - sigma^2/sigma_i^2 for sigma_i > sigma, with sqrt(lambda+) = 2 sigma.  Those are the
variances of the Hermitian case (sigma^2/(2n) per real and imaginary part), so three noise models:

* ``gue``: the paper's reading -- complex Hermitian, variance sigma^2/n on the (real) diagonal and
  sigma^2/(2n) for the real and for the imaginary part off it (E|X_ij|^2 = sigma^2/n): edge 2 sigma
  and B.2's limits hold;
* ``goe``: real symmetric with off-diagonal variance sigma^2/n (diagonal 2 sigma^2/n), the real
  matrix with the same edge and the same first-order limits;
* ``paper``: the printed variances taken as *real* entries: edge sqrt(2) sigma, outliers at
  theta + sigma^2/(2 theta), i.e. B.2 at its own scale s = sigma/sqrt(2).  Not the paper's reading:
  its rows are a labelled control (B.2 at the model's own scale), never fails of the claim.

W' keeps the eigenvalues of modulus above 2 sigma + eps (the paper's sqrt(lambda+) = 2 sigma).
Measured: top eigenvalues, squared overlaps, ||W'-S||_2 and ||(W'-S)u_r||, against B.2, against
the paper's f_W (4.25) and against the derived limits of ``theory.approximation_symbolic``.

Verdicts (registry ids), per model at the largest n, each by a rule of core.protocol under the
families of ``DECLARATIONS`` (one family per claim and reading; the setting names the reading):
``000:text:B.2.1`` (lambda_i -> theta_i + sigma^2/theta_i, per spike: ``discriminates``, the 95%
t-interval of the mean top eigenvalues against B.2's limit; in the ``paper`` control against B.2 at
the model's own scale, with no rival: holds or inconclusive), ``000:eq:4.25`` (||W'-S||_2 -> f_W:
``discriminates`` with the derived limit of theory.approximation_symbolic as the rival),
``000:figure:4.4`` (f_W < 2 sigma, with ||W'-S||_2 for f_W: ``bound`` on the interval's upper end).
The claims are limits, measured at finite n (scale stated as such).  The Result also carries Fig
4.4's curves (``tables["fig_4_4"]``) and the per-spike table (``tables["per_spike"]``).
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

import numpy as np
import torch

from core import cli, protocol
from core.result import Result, Verdict
from core.validate import InvalidArgument, check_allocation, check_choice, check_float, check_int
from sims.device import check_device, resolve_device, trial_generator
from sims.experiment import ExperimentRun, cli_main, option, run_built_sweep, run_swept
from sims.stats import mean_ci
from theory import approximation as paper
from theory import approximation_symbolic as derived
from theory import spiked

MODELS = ("gue", "goe", "paper")
READING = {
    "gue": "the paper's reading: complex Hermitian with Example 4.3's variances",
    "goe": "real symmetric, off-diagonal variance sigma^2/n (GOE: the Hermitian case's edge)",
    "paper": "control, not the paper's reading: real symmetric with Example 4.3's variances as real entries",
}
LIMIT_SCALE = "finite n (the n are in the setting); the claim is a limit as n -> infinity"


def _families(claim: str, endpoint: str, rule: str, control_endpoint: str | None = None) -> dict:
    return {m: protocol.declare(claim, control_endpoint if (m == "paper" and control_endpoint) else endpoint,
                                rule, scale=LIMIT_SCALE, family=f"{claim} [{m}: {READING[m]}]")
            for m in MODELS}


DECLARATIONS = {
    "000:text:B.2.1": _families(
        "000:text:B.2.1", "i-th largest eigenvalue, 95% t-interval of the mean over the matrices at the "
        "largest n, against theta_i + sigma^2/theta_i (B.2)", "discriminates",
        "i-th largest eigenvalue, 95% t-interval at the largest n, against B.2 at the model's own scale "
        "s = sigma/sqrt(2) (a control of the simulation: holds or inconclusive, never fails)"),
    "000:eq:4.25": _families(
        "000:eq:4.25", "||W'-S||_2, 95% t-interval at the largest n, against f_W of (4.25) (rival: the "
        "derived a.s. limit)", "discriminates"),
    "000:figure:4.4": _families(
        "000:figure:4.4", "upper end of the 95% t-interval of ||W'-S||_2 (f_W's quantity) against "
        "sqrt(lambda+) = 2 sigma", "bound"),
}
DEFAULT_SPIKES = (1.5, 2.0, 3.0)


def effective_scale(sigma: float, model: str) -> float:
    """s with off-diagonal variance s^2/n: the scale that sets edge 2s and the B.2 limits."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    return abs(sigma) / np.sqrt(2) if model == "paper" else abs(sigma)


def sample_wigner(n: int, sigma: float, model: str, gen, device, dtype=torch.float64):
    """Gaussian Wigner noise in the chosen normalisation (module docstring); complex for ``gue``."""
    G = torch.randn(n, n, generator=gen, dtype=dtype).to(device) * (abs(sigma) / np.sqrt(n))
    if model == "gue":
        # Z = (G + i G2)/sqrt 2 has E|z|^2 = sigma^2/n; (Z + Z^H)/sqrt 2: off-diagonal real and
        # imaginary parts of variance sigma^2/(2n) each, real diagonal of variance sigma^2/n
        G2 = torch.randn(n, n, generator=gen, dtype=dtype).to(device) * (abs(sigma) / np.sqrt(n))
        Z = torch.complex(G, G2) / np.sqrt(2)
        return (Z + Z.mH) / np.sqrt(2)
    if model == "goe":
        return (G + G.T) / np.sqrt(2)     # off-diagonal sigma^2/n, diagonal 2 sigma^2/n
    if model == "paper":
        return (G + G.T) / 2              # off-diagonal sigma^2/(2n), diagonal sigma^2/n
    raise ValueError(f"model must be one of {MODELS}, got {model!r}")


def one_trial(n, thetas, sigma, model, seed, trial, device, eps) -> dict:
    gen = trial_generator(seed, trial, device)
    W = sample_wigner(n, sigma, model, gen, device)
    r = len(thetas)
    th = torch.as_tensor(thetas, dtype=W.dtype, device=device)
    idx = torch.arange(r, device=device)
    W[idx, idx] += th
    # .mH is .T for the real models (same numbers); the conjugate transpose for gue
    lam, Q = torch.linalg.eigh(W)
    order = torch.argsort(lam, descending=True)
    lam, Q = lam[order], Q[:, order]
    keep = lam.abs() > 2 * abs(sigma) + eps
    Uk, lk = Q[:, keep], lam[keep]
    E = torch.eye(n, r, dtype=W.dtype, device=device)
    A = torch.cat([Uk, E], 1)
    c = torch.cat([lk, -th.real]).to(W.dtype)
    Qa, Ra = torch.linalg.qr(A)
    D = (Ra * c) @ Ra.mH                  # W' - S restricted to its range (Hermitian)
    u_r = E[:, -1]
    return {"eig": lam[:r].cpu().numpy().tolist(),
            "overlap_sq": (Q[:r, :r].diagonal().abs() ** 2).cpu().numpy().tolist(),
            "opnorm": float(torch.linalg.eigvalsh(D).abs().max()),
            "fixed_ur": float((A @ (c * (A.mH @ u_r))).norm()),
            "n_kept": int(keep.sum())}


MODULE = "sims.wigner"
MAX_N = 50_000


@dataclass(frozen=True)
class Sweep:
    """What one run simulates (the Result's ``config``; a command line's ``Config`` becomes one
    through ``sweep_of``): matrix sizes n, trials per n, spikes theta_i (each > sigma: Example 4.3), noise scale sigma,
    noise normalisations (``models``, each run separately), slack eps of the truncation at
    2 sigma + eps, seed, device."""
    n: tuple = (250, 500, 1000)
    trials: int = 8
    spikes: tuple = DEFAULT_SPIKES
    sigma: float = 1.0
    models: tuple = MODELS
    eps: float = 0.1
    seed: int = 0
    device: str = "auto"

    @classmethod
    def quick(cls, **overrides) -> "Sweep":
        return cls(**{"n": (150, 300), "trials": 4, **overrides})

    def __post_init__(self):
        n = (self.n,) if isinstance(self.n, (int, np.integer)) else tuple(self.n)
        if not n:
            raise InvalidArgument("n must hold at least one matrix size, got ()")
        object.__setattr__(self, "n", tuple(check_int("n", v, 10, MAX_N) for v in n))
        check_int("trials", self.trials, 2, 10**6)     # a confidence interval needs 2 matrices
        sigma = check_float("sigma", self.sigma, 0.0, 1e6, lo_open=True)
        object.__setattr__(self, "sigma", sigma)
        spikes = (self.spikes,) if isinstance(self.spikes, (int, float)) else tuple(self.spikes)
        if not spikes:
            raise InvalidArgument("spikes must hold at least one value, got ()")
        spikes = tuple(sorted((check_float("spikes", t, sigma, None, lo_open=True) for t in spikes),
                              reverse=True))
        object.__setattr__(self, "spikes", spikes)
        models = (self.models,) if isinstance(self.models, str) else tuple(self.models)
        if not models:
            raise InvalidArgument(f"models must hold at least one of {MODELS}, got ()")
        object.__setattr__(self, "models", tuple(check_choice("model", m, MODELS) for m in models))
        object.__setattr__(self, "eps", check_float("eps", self.eps, 0.0, 10.0))
        check_int("seed", self.seed, 0)
        check_device(self.device)
        if min(self.n) < len(spikes) + 2:
            raise InvalidArgument(f"n = {min(self.n)} is too small for {len(spikes)} spikes: need "
                                  f"n >= {len(spikes) + 2}")
        check_allocation("one n x n matrix", max(self.n) ** 2)


def measure(config: Sweep, progress: bool = False) -> list[dict]:
    """One record per (model, n); the per-spike means are nested under ``per_spike``."""
    records = []
    for model in config.models:
        records += _measure_model(config, model, progress)
    return records


def _measure_model(c: Sweep, model: str, progress: bool) -> list[dict]:
    """One record per n.  theta_i exceed sigma (Example 4.3's assumption, checked by Config)."""
    thetas = np.array(c.spikes, dtype=float)
    trials, sigma, seed, eps = c.trials, c.sigma, c.seed, c.eps
    dev = resolve_device(c.device)
    s = effective_scale(sigma, model)
    f_W = paper.f_W_symmetric_4_25(thetas, sigma)
    # W' truncates at the paper's 2 sigma + eps whatever the true edge 2 s
    fixed_lim, top_lim = derived.symmetric_limits(thetas, s, eps=eps, truncation=2 * abs(sigma))
    records = []
    for n in c.n:
        it = range(trials)
        if progress:
            it = cli.progress(it, desc=f"{model}, n={n}")
        rows = [one_trial(n, thetas, sigma, model, seed, t, dev, eps) for t in it]
        eig = np.array([x["eig"] for x in rows])
        ov = np.array([x["overlap_sq"] for x in rows])
        op, fz = mean_ci([x["opnorm"] for x in rows]), mean_ci([x["fixed_ur"] for x in rows])
        rec = {"N": n, "model": model, "sigma": sigma, "effective_scale": s, "trials": trials,
               "eps": eps, "spikes": thetas.tolist(), "theta_min": float(thetas.min()),
               "n_kept_mean": float(np.mean([x["n_kept"] for x in rows])),
               "opnorm_mean": op.mean, "opnorm_ci": op.as_list(),
               "opnorm_limit": float(top_lim.max()),
               "fixed_z": "u_r", "fixed_z_mean": fz.mean, "fixed_z_ci": fz.as_list(),
               "fixed_z_limit": float(fixed_lim[-1]), "f_W_paper": f_W, "two_sigma": 2 * abs(sigma)}
        per = []
        for i, th in enumerate(thetas):
            e_ci, o_ci = mean_ci(eig[:, i]), mean_ci(ov[:, i])
            per.append({"theta": float(th), "eig_mean": e_ci.mean, "eig_ci": e_ci.as_list(),
                        "eig_limit_B2": float(spiked.wigner_eigenvalue_limit(th, abs(sigma))),
                        "eig_limit_true": float(spiked.wigner_eigenvalue_limit(th, s)),
                        "overlap_sq_mean": o_ci.mean, "overlap_sq_ci": o_ci.as_list(),
                        "overlap_sq_limit_B2": float(spiked.wigner_overlap_limit(th, abs(sigma))),
                        "overlap_sq_limit_true": float(spiked.wigner_overlap_limit(th, s))})
        rec["per_spike"] = per
        records.append(rec)
    return records


def verdicts(records: list[dict]) -> list[Verdict]:
    """Verdicts of every model in ``records``, model by model."""
    out = []
    for model in dict.fromkeys(r["model"] for r in records):
        out += model_verdicts([r for r in records if r["model"] == model])
    return out


def model_verdicts(records: list[dict]) -> list[Verdict]:
    """Verdicts of one model at its largest n (module docstring), under its reading's families."""
    r = max(records, key=lambda x: x["N"])
    model = r["model"]
    spikes = ",".join(f"{t:g}" for t in r["spikes"])
    setting = (f"reading: {READING[model]}; sigma={r['sigma']:g}, spikes={spikes}, n={r['N']}, "
               f"{r['trials']} trials")
    out = []
    decl = DECLARATIONS["000:text:B.2.1"][model]
    for p in r["per_spike"]:
        lo, hi = p["eig_ci"]
        if model == "paper":   # the control: B.2 at the model's own scale (no rival: never fails)
            d = protocol.discriminates(decl, lo, hi, p["eig_limit_true"])
            what = (f"control: B.2 at the model's own scale s = {r['effective_scale']:.4g} gives "
                    f"{p['eig_limit_true']:.4f}, B.2 with sigma {p['eig_limit_B2']:.4f}; the printed "
                    f"variances are the Hermitian case's (see the gue rows)")
            target = p["eig_limit_true"]
        else:
            d = protocol.discriminates(decl, lo, hi, p["eig_limit_B2"])
            what = f"claim: lambda_i -> theta_i + sigma^2/theta_i = {p['eig_limit_B2']:.4f}"
            target = p["eig_limit_B2"]
        out.append(protocol.verdict(
            decl, d, setting=f"theta={p['theta']:g}, {setting}", measured=p["eig_mean"],
            interval=p["eig_ci"], bound=target, N=r["N"], note=f"{what}; {d.reason}",
            extra={"theta": p["theta"], "model": model, "reading": READING[model],
                   "limit_B2": p["eig_limit_B2"], "limit_own_scale": p["eig_limit_true"]}))
    lo, hi = r["opnorm_ci"]
    d = protocol.discriminates(DECLARATIONS["000:eq:4.25"][model], lo, hi, r["f_W_paper"], r["opnorm_limit"])
    out.append(protocol.verdict(
        DECLARATIONS["000:eq:4.25"][model], d, setting=setting, measured=r["opnorm_mean"],
        interval=r["opnorm_ci"], bound=r["f_W_paper"], N=r["N"],
        corrected=("" if d.word != "fails" else
                   f"||W'-S||_2 -> s (s/theta_r + sqrt(4 + 5 s^2/theta_r^2))/2 = {r['opnorm_limit']:.4f} "
                   f"(s = {r['effective_scale']:.4g})"),
        note=f"claim: ||W'-S||_2 -> f_W of (4.25); derived limit {r['opnorm_limit']:.4f}; {d.reason}",
        extra={"model": model, "reading": READING[model], "derived_limit": r["opnorm_limit"]}))
    two_sigma = 2 * abs(r["sigma"])
    d = protocol.bound(DECLARATIONS["000:figure:4.4"][model], hi, two_sigma)
    out.append(protocol.verdict(
        DECLARATIONS["000:figure:4.4"][model], d, setting=setting, measured=r["opnorm_mean"],
        interval=r["opnorm_ci"], bound=two_sigma, N=r["N"],
        note="claim: f_W < 2 sigma (Fig 4.4), with the measured ||W'-S||_2 for f_W (upper end of its 95% "
             "interval); the corrected operator-norm limit lies in (s, 2s), so the comparison survives, "
             f"with a smaller margin than (4.25) suggests; {d.reason}",
        extra={"model": model, "reading": READING[model]}))
    return out


def fig_4_4_curves(sigma_r=(30.0, 100.0), n_points: int = 501) -> list[dict]:
    """Fig 4.4: f_W of (4.25) and the derived limit of ||W'-S||_2 against sigma in [-25, 25]
    (sigma = 0 left out), for the given smallest spikes sigma_r, with 2 sigma."""
    sig = np.linspace(-25, 25, n_points)
    sig = sig[sig != 0]
    rows = []
    for sr in sigma_r:
        f = np.array([paper.f_W_symmetric_4_25([sr], s) for s in sig])
        op = np.array([derived.symmetric_limits([sr], s)[1][0] for s in sig])
        rows += [{"sigma": float(s), "sigma_r": float(sr), "f_W_4_25": float(a),
                  "opnorm_limit": float(b), "two_sigma": float(2 * s)} for s, a, b in zip(sig, f, op)]
    return rows


@dataclass(frozen=True)
class Config:
    """The flags of ``python -m sims.wigner``; :func:`sweep_of` expands them (``--quick``
    included) into the :class:`Sweep` that runs.  Ranges that depend on another flag (spikes
    above sigma, n against the number of spikes) are checked there (``core.validate``)."""
    n: tuple[int, ...] | None = option(None, f"matrix sizes n, 10 to {MAX_N} (default: 250 500 1000)",
                                       optional=True)
    trials: int | None = option(None, "matrices per n, >= 2 (default: 8)", lo=2, hi=10**6, optional=True)
    spikes: tuple[float, ...] | None = option(None, f"theta_i > sigma (default: {DEFAULT_SPIKES})",
                                              optional=True)
    sigma: float = option(1.0, "noise scale sigma in (0, 1e6]", lo=0.0, hi=1e6, lo_open=True)
    model: str = option("all", "noise normalisation (module docstring)", choices=MODELS + ("all",))
    eps: float = option(0.1, "truncation slack", lo=0.0, hi=10.0)
    seed: int = option(0, "base seed; every trial's generator derives from it", lo=0)
    quick: bool = option(False, "small sizes, seconds to a minute")


def sweep_of(config: Config, device: str = "auto") -> Sweep:
    """The :class:`Sweep` a command line asks for (``--quick`` fills what it leaves unset)."""
    kw = {"sigma": config.sigma, "eps": config.eps, "seed": config.seed, "device": device,
          "models": MODELS if config.model == "all" else (config.model,)}
    if config.n is not None:
        kw["n"] = tuple(config.n)
    if config.trials is not None:
        kw["trials"] = config.trials
    if config.spikes is not None:
        kw["spikes"] = tuple(config.spikes)
    return (Sweep.quick if config.quick else Sweep)(**kw)


def toy_config(tmp_path=None) -> Config:
    """n = 30, two matrices per model: seconds on one core."""
    return Config(n=(30,), trials=2)


def run(config: Config = Config(), *, context: ExperimentRun | None = None) -> Result:
    """The Result of a command line's ``config`` (its :func:`sweep_of`, on the run's device);
    a progress bar when run from the command line (on a terminal only)."""
    return run_swept(MODULE, config, context, sweep_of, judged)


def run_sweep(sweep: Sweep, *, progress: bool = False) -> Result:
    """The Result of a :class:`Sweep` built in Python; its provenance records the command line
    that reruns it where there is one (``to_argv``)."""
    return run_built_sweep(MODULE, sweep, judged, to_argv, progress=progress)


def judged(sweep: Sweep, context: ExperimentRun, *, progress: bool = False) -> Result:
    """Simulate every model and judge inside an open run; the nested per-spike rows go to
    ``tables["per_spike"]``."""
    records = measure(sweep, progress=progress)
    vlist = verdicts(records)
    per_spike = [{"model": r["model"], "N": r["N"], **q} for r in records for q in r["per_spike"]]
    flat = [{k: v for k, v in r.items() if k != "per_spike"} for r in records]
    return context.result(config=asdict(sweep), records=flat, verdicts=vlist,
                          tables={"per_spike": per_spike, "fig_4_4": fig_4_4_curves()})


def to_argv(c: Sweep) -> list[str]:
    """A command line that reruns ``c`` (every setting spelled out)."""
    model = "all" if c.models == MODELS else c.models[0] if len(c.models) == 1 else None
    if model is None:
        return ["<api-config: models in another order; see the Result's config>"]
    return ["--n", *map(str, c.n), "--trials", str(c.trials), "--spikes", *map(repr, c.spikes),
            "--sigma", repr(c.sigma), "--model", model, "--eps", repr(c.eps), "--seed", str(c.seed),
            "--device", c.device]


def main(argv=None) -> int:
    """``python -m sims.wigner``: the flags of ``Config`` and the shared ones (``--json``,
    ``--device``, ``--threads``, ``--verbose``)."""
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
