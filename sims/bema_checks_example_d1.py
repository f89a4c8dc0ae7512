"""Example D.1 of paper 000 in ``sims.bema_checks``: W = R + S (eq. D.1), lambda+ against alpha and
beta (Fig D.1), the ESD with the fitted MP density (Fig D.2), and the claim that lambda+ of W and of
R alone are "approximately the same"; their verdicts (Remark D.1's insensitivity to alpha, Example
D.1, Figs D.1 and D.2).
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch

from core import protocol as P
from core.result import Verdict
from sims.bema_checks_common import TRIAL_OFFSET, gaussian_matrix, progress_bar, spectrum_of
from sims.device import resolve_device
from sims.stats import loglog_fit
from theory import bema
from theory.marchenko_pastur import MarchenkoPastur


def example_d1_signal(n: int) -> np.ndarray:
    """S of eq. (D.1), with 1-based i, j (j = 0 would divide by zero in cos(i/j))."""
    i = np.arange(1, n + 1, dtype=float)[:, None]
    j = np.arange(1, n + 1, dtype=float)[None, :]
    return np.tan(np.pi / 2 + 1 / (j + 1)) + np.cos(i) * np.log(i + j + 1) + np.sin(j) * np.cos(i / j)


def example_d1_spectra(n: int, seed: int, trial: int, device) -> tuple[np.ndarray, np.ndarray]:
    """(spectrum of X = (R+S)^T (R+S) / N, spectrum of R^T R / N) for one draw of R."""
    R, _ = gaussian_matrix(n, n, seed, TRIAL_OFFSET["d1"] + trial, device)
    S = torch.as_tensor(example_d1_signal(n), dtype=torch.float64, device=device)
    return spectrum_of(R + S), spectrum_of(R)


def fig_d1_data(n: int = 1000, trials: int = 3, seed: int = 0, device="cpu", alphas=None, betas=None,
                alpha_fixed: float = 0.25, beta_fixed: float = 0.5) -> dict:
    """lambda+ of BEMA on Example D.1 against alpha (beta fixed) and against beta (alpha fixed).

    Defaults follow paper 001 Fig 3 (the same figure as paper 000 Fig D.1): alpha sweep at
    beta = 0.5, beta sweep at alpha = 0.25.  Mean and range over ``trials`` draws of R; the same for
    BEMA on R alone, and the limit 4."""
    dev = resolve_device(device) if isinstance(device, str) else device
    alphas = np.round(np.linspace(0.02, 0.46, 23), 3) if alphas is None else np.asarray(alphas, float)
    betas = np.round(np.linspace(0.02, 0.98, 25), 3) if betas is None else np.asarray(betas, float)
    draws = [example_d1_spectra(n, seed, t, dev) for t in range(trials)]

    def sweep(kind, values):
        rows = []
        for v in values:
            a, b = (v, beta_fixed) if kind == "alpha" else (alpha_fixed, v)
            lp_w = [bema.fit(w, n, n, alpha=a, tw_level=b).lambda_plus for w, _ in draws]
            lp_r = [bema.fit(r, n, n, alpha=a, tw_level=b).lambda_plus for _, r in draws]
            rows.append({"alpha": float(a), "beta": float(b), "lambda_plus_mean": float(np.mean(lp_w)),
                         "lambda_plus_min": float(np.min(lp_w)), "lambda_plus_max": float(np.max(lp_w)),
                         "lambda_plus_noise_only_mean": float(np.mean(lp_r))})
        return rows

    return {"N": n, "trials": trials, "seed": seed, "limit": 4.0, "alpha_fixed": alpha_fixed,
            "beta_fixed": beta_fixed, "alpha_sweep": sweep("alpha", alphas),
            "beta_sweep": sweep("beta", betas)}


def fig_d2_data(n: int = 1000, seed: int = 0, device="cpu", alpha: float = 0.1, beta: float = 0.1,
                bins: int = 80) -> dict:
    """ESD of X for one Example D.1 draw, with the BEMA-fitted MP density (Fig D.2)."""
    dev = resolve_device(device) if isinstance(device, str) else device
    ev, _ = example_d1_spectra(n, seed, 0, dev)
    res = bema.fit(ev, n, n, alpha=alpha, tw_level=beta)
    law = MarchenkoPastur(1.0, res.sigma2)
    top = 1.5 * res.lambda_plus  # the outliers reach ~N^2/3: histogram the bulk, list the rest
    counts, edges = np.histogram(ev[ev <= top], bins=bins, range=(0.0, top))
    density = counts / (ev.size * np.diff(edges))
    grid = np.linspace(law.lower, law.upper, 400)
    return {"N": n, "seed": seed, "alpha": alpha, "beta": beta, "sigma2": res.sigma2,
            "lambda_plus": res.lambda_plus, "n_spikes": res.n_spikes, "mp_fit_error": res.mp_fit_error,
            "bin_edges": edges.tolist(), "esd_density": density.tolist(),
            "mp_grid": grid.tolist(), "mp_density": law.pdf(grid).tolist(),
            "outliers": ev[ev > top][::-1].tolist()}


def example_d1_claim(ns=(250, 500, 1000, 2000), trials: int = 3, seed: int = 0, device="cpu",
                     alpha: float = 0.1, beta: float = 0.1, progress: bool = True) -> list[dict]:
    """lambda+ of W = R + S against 4, against BEMA on R alone, and against the TW margin."""
    dev = resolve_device(device) if isinstance(device, str) else device
    t = bema.tw_quantile(beta)
    out = []
    for n in progress_bar(ns, progress, desc="Example D.1"):
        lw, lr, s2w, spikes = [], [], [], []
        for trial in range(trials):
            w, r = example_d1_spectra(n, seed, trial, dev)
            fw, fr = bema.fit(w, n, n, alpha=alpha, tw_level=beta), bema.fit(r, n, n, alpha=alpha, tw_level=beta)
            lw.append(fw.lambda_plus), lr.append(fr.lambda_plus), s2w.append(fw.sigma2)
            spikes.append(fw.n_spikes)
        s_signal = np.linalg.svd(example_d1_signal(n), compute_uv=False)
        out.append({"N": n, "trials": trials, "alpha": alpha, "beta": beta,
                    "lambda_plus_mean": float(np.mean(lw)), "lambda_plus_noise_only_mean": float(np.mean(lr)),
                    "sigma2_mean": float(np.mean(s2w)), "n_spikes_mean": float(np.mean(spikes)),
                    "tw_margin": 2 ** (4 / 3) * t * n ** (-2 / 3),
                    "excess_over_noise_only": float(np.mean(lw) - np.mean(lr)),
                    "relative_error_vs_4": float(np.mean(lw) / 4 - 1),
                    "signal_singular_values_above_sqrtN": int(np.sum(s_signal > math.sqrt(n)))})
    return out


GOF_TAU = 0.7   # the paper's MP fit threshold (Section 3.2.1, "Goodness of fit (GoF or tau) = 0.7")
# "approximately the same" (Example D.1, Fig D.1): within 5% of the red line lambda+ = 4.  The
# tolerance was declared for Fig D.1 before this claim was re-decided (issue 23), as the agreement a
# reader sees between a plotted curve and a reference line; applied unchanged to Example D.1.
FIG_D1_RELATIVE = 0.05
EXAMPLE_D1_TOLERANCE = FIG_D1_RELATIVE * 4.0
TOP_SD_TW1 = math.sqrt(1.6077810345810)     # sd of the TW_1 law

_UNSTATED_N = "the paper does not state N"
DECLARATIONS = {
    # Example D.1 (paper 000 Sec. D.1, eq. D.1; = paper 001 Example 3.3): "the lambda+ obtained to fit
    # the bulk of the ESD of X and the lambda+ of R^T R/N [= 4] are approximately the same", decided at
    # the largest measured N (the example itself appeals to N -> infinity via Theorem 3.1).
    "example_d1": P.declare(
        "000:example:D.1", "|mean BEMA lambda+ of X - 4| at the largest measured N (alpha = beta = 0.1)",
        "approximately", margin=EXAMPLE_D1_TOLERANCE, scale=f"reduced N ({_UNSTATED_N}; N in the setting)"),
    # The same quantity as a limit: |lambda+ - 4| must shrink with N, reported with its rate.
    "example_d1_limit": P.declare(
        "000:example:D.1", "|mean BEMA lambda+ of X - 4| over N", "asymptotic",
        scale=f"reduced N ({_UNSTATED_N}; the deviation is a finite-N effect of a limit)",
        family="000:example:D.1 rate in N"),
    # Remark D.1: "dependence on alpha is insignificant for sufficiently large values": the range of
    # lambda+ over alpha >= 0.1 within one sd of the top noise eigenvalue, sd(TW_1) 2^{4/3} N^{-2/3}.
    "alpha_insensitivity": P.declare(
        "000:remark:D.1", "range of mean lambda+ over alpha in [0.1, 0.46] against sd(TW_1) 2^{4/3} N^{-2/3}",
        "bound", scale=f"reduced N ({_UNSTATED_N}; one N, in the setting)",
        family="000:remark:D.1 alpha insensitivity"),
    # Fig D.1: every sweep point within 5% of 4, and lambda+ falls as beta grows (Spearman rho <= 0).
    "figure_d1": P.declare(
        "000:figure:D.1", "largest |lambda+/4 - 1| over the alpha and beta sweeps, and Spearman rho of "
        "lambda+ against beta", "all_parts", margin=FIG_D1_RELATIVE,
        scale=f"reduced N ({_UNSTATED_N}; one N, in the setting)"),
    # Fig D.2: Algorithm 4's sup distance within the Kolmogorov 95% scale 1.36/sqrt(M) of an iid sample.
    "figure_d2": P.declare(
        "000:figure:D.2", "Algorithm 4 sup distance between the ESD and the fitted MP law against "
        "1.36/sqrt(M)", "bound", scale=f"reduced N ({_UNSTATED_N}; one draw, N in the setting)"),
}


def _at_n(decl: "P.Declaration", ns) -> "P.Declaration":
    ns = sorted(set(ns))
    where = f"N = {ns[0]}" if len(ns) == 1 else f"N = {ns[0]}-{ns[-1]}"
    return replace(decl, scale=f"{where} ({_UNSTATED_N}; reduced: the claim is read as a limit too)")


def example_d1_verdict(d1: list[dict]) -> list[Verdict]:
    """Example D.1 of paper 000 (Sec. D.1, eq. D.1, lambda+ = sigma^2 (1 + 1)^2 = 4): BEMA's lambda+
    of X is "approximately" 4, decided against the declared tolerance ``EXAMPLE_D1_TOLERANCE`` at the
    largest measured N (``protocol.approximately``), and its deviation from 4 reported with its rate
    in N (``protocol.asymptotic``, its own family).  The stricter comparison with BEMA on R alone at
    BEMA's own resolution (the Tracy-Widom margin 2^{4/3} t_{1-beta} N^{-2/3}) is a finding about S of
    (D.1), reported in the rate row's note, not a verdict on the example's words."""
    if not d1:
        return []
    big = max(d1, key=lambda r: r["N"])
    ns = [r["N"] for r in d1]
    per_n = "; ".join(f"N={r['N']}: lambda+={r['lambda_plus_mean']:.4f} (R alone "
                      f"{r['lambda_plus_noise_only_mean']:.4f}, TW margin {r['tw_margin']:.4f})" for r in d1)
    decl = _at_n(DECLARATIONS["example_d1"], [big["N"]])
    setting = f"BEMA lambda+ of X vs of R^T R/N (=4), alpha=beta=0.1, {big['trials']} draws"
    out = [P.verdict(
        decl, P.approximately(decl, big["lambda_plus_mean"], 4.0), setting=setting,
        measured=big["lambda_plus_mean"], bound=4.0, N=big["N"],
        note=(f"decided at the largest N against the declared tolerance {EXAMPLE_D1_TOLERANCE:g} (5% of 4); "
              f"|lambda+ - 4| per N: " + ", ".join(f"{r['N']}: {abs(r['lambda_plus_mean'] - 4):.3f}" for r in d1)
              + f"; rate: the 000:example:D.1 rate row; " + per_n),
        extra={"check": "example_d1"})]
    if len(d1) >= 2:
        ldecl = _at_n(DECLARATIONS["example_d1_limit"], ns)
        decision = P.asymptotic(ldecl, ns, [r["lambda_plus_mean"] - 4.0 for r in d1], noisy=True)
        extra = {"check": "example_d1_rate"}
        note = (f"|lambda+ - 4| shrinks like N^{decision.extra.get('rate_exponent', float('nan')):.2f}; "
                f"relative error vs 4 at N={big['N']}: {big['relative_error_vs_4']:.4f}")
        if len(d1) >= 3:
            fit = loglog_fit(ns, [r["excess_over_noise_only"] for r in d1])
            extra.update(excess_slope=fit.slope, excess_slope_ci=[fit.slope_low, fit.slope_high])
            note += (f". Finding (not the example's words): lambda+(R+S) - lambda+(R) ~ N^{fit.slope:.2f} "
                     f"(95% CI [{fit.slope_low:.2f}, {fit.slope_high:.2f}]) against the TW margin's N^-0.67: "
                     f"S of (D.1) is not low rank ({big['signal_singular_values_above_sqrtN']} singular values "
                     f"above sqrt(N) at N={big['N']}, growing with N) and shifts the bulk order statistics, so "
                     f"at BEMA's own resolution the excess is "
                     f"{big['excess_over_noise_only'] / big['tw_margin']:.1f} TW margins at N={big['N']}")
        out.append(P.verdict(ldecl, decision, setting=setting + ", rate in N", measured=big["lambda_plus_mean"],
                             bound=4.0, N=big["N"], note=note + "; " + per_n, extra=extra))
    return out


def alpha_verdict(d1_fig: dict | None) -> list[Verdict]:
    """Remark D.1 (paper 000 Sec. D.1): "dependence on alpha is insignificant for sufficiently large
    values" (``protocol.bound``: range over alpha <= sd of the top noise eigenvalue)."""
    if not d1_fig:
        return []
    sweep = [r for r in d1_fig["alpha_sweep"] if r["alpha"] >= 0.1]
    if len(sweep) < 2:
        return []
    spread = max(r["lambda_plus_mean"] for r in sweep) - min(r["lambda_plus_mean"] for r in sweep)
    # "insignificant": smaller than the sd of the top noise eigenvalue, sd(TW_1) 2^{4/3} N^{-2/3}
    top_sd = TOP_SD_TW1 * 2 ** (4 / 3) * d1_fig["N"] ** (-2 / 3)
    alphas = [r["alpha"] for r in sweep]
    decl = _at_n(DECLARATIONS["alpha_insensitivity"], [d1_fig["N"]])
    return [P.verdict(
        decl, P.bound(decl, spread, top_sd),
        setting=f"lambda+ insensitive to alpha in [{min(alphas):g}, {max(alphas):g}], "
                f"Example D.1, N={d1_fig['N']}, beta={d1_fig['beta_fixed']}",
        measured=spread, bound=top_sd, N=d1_fig["N"],
        note="measured = range of mean lambda+ over alpha; bound = sd of the top noise eigenvalue, "
             "sd(TW_1) 2^{4/3} N^{-2/3}", extra={"check": "alpha_insensitivity"})]


def figure_d1_verdict(d1_fig: dict | None) -> list[Verdict]:
    """Fig D.1 of paper 000 (with Remark D.1 and Example D.1's "approximately the same"): BEMA's
    lambda+ over alpha and beta beside the red line lambda+ = 4.  Rule (declared, ``all_parts``):
    every sweep point within ``FIG_D1_RELATIVE`` of 4 (``approximately``) and lambda+ not rising
    with beta (Spearman rho <= 0, ``bound``: beta sets the confidence).  The excess over BEMA on R
    alone, in sd of the top noise eigenvalue sd(TW_1) 2^{4/3} N^{-2/3}, is in the note."""
    if not d1_fig:
        return []
    from scipy.stats import spearmanr
    n = d1_fig["N"]
    top_sd = TOP_SD_TW1 * 2 ** (4 / 3) * n ** (-2 / 3)
    rows = d1_fig["alpha_sweep"] + d1_fig["beta_sweep"]
    rel = [abs(r["lambda_plus_mean"] / 4 - 1) for r in rows]
    k = int(np.argmax(rel))
    excess = max((r["lambda_plus_mean"] - r["lambda_plus_noise_only_mean"]) / top_sd for r in rows)
    beta_rows = d1_fig["beta_sweep"]
    rho = float(spearmanr([r["beta"] for r in beta_rows], [r["lambda_plus_mean"] for r in beta_rows]).statistic)
    decl = _at_n(DECLARATIONS["figure_d1"], [n])
    decision = P.all_parts(decl, [P.approximately(decl, rel[k], 0.0), P.bound(decl, rho, 0.0)])
    return [P.verdict(
        decl, decision, setting=f"Example D.1, N={n}, {d1_fig['trials']} draws: lambda+ over alpha (beta="
        f"{d1_fig['beta_fixed']}) and beta (alpha={d1_fig['alpha_fixed']}) against 4",
        measured=rel[k], bound=FIG_D1_RELATIVE, N=n,
        note=f"measured = largest |lambda+ / 4 - 1| over the {len(rows)} sweep points (at alpha="
             f"{rows[k]['alpha']:g}, beta={rows[k]['beta']:g}); Spearman rho of lambda+ against beta "
             f"{rho:.2f}. Against lambda+ of R alone, the curves sit up to {excess:.2g} sd of the top noise "
             f"eigenvalue ({top_sd:.3g}) higher: at BEMA's resolution S is visible (000:example:D.1). "
             "Data: tables fig_d1_alpha, fig_d1_beta",
        extra={"check": "figure_d1", "spearman_beta": rho, "excess_top_sd": excess})]


def figure_d2_verdict(d2_fig: dict | None) -> list[Verdict]:
    """Fig D.2 of paper 000: the ESD of X with its BEMA best-fit MP density.  Rule (declared,
    ``bound``): Algorithm 4's sup distance within the Kolmogorov 95% scale 1.36/sqrt(M) of an iid
    sample of the same size.  (Before issue 23 a distance between that scale and the paper's tau = 0.7
    was called inconclusive; the protocol's bound has no such band, and the measured distance is far
    below the scale.)"""
    if not d2_fig:
        return []
    err, m = d2_fig["mp_fit_error"], d2_fig["N"]
    ks_scale = 1.36 / math.sqrt(m)
    decl = _at_n(DECLARATIONS["figure_d2"], [m])
    return [P.verdict(
        decl, P.bound(decl, err, ks_scale),
        setting=f"Example D.1, N = M = {m}, one draw, alpha = {d2_fig['alpha']}, beta = {d2_fig['beta']}",
        measured=err, bound=ks_scale, N=m,
        note=f"Algorithm 4's sup distance between the ESD and the fitted MP(sigma^2 = "
             f"{d2_fig['sigma2']:.4g}) law: {err:.3g}, against 1.36/sqrt(M) = {ks_scale:.3g} (the "
             f"paper's tau = {GOF_TAU} accepts far worse fits); {d2_fig['n_spikes']} eigenvalues above "
             f"lambda+ = {d2_fig['lambda_plus']:.4g}. Data: tables fig_d2_histogram, fig_d2_mp",
        extra={"check": "figure_d2"})]
