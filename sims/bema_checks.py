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

Spectra: torch float64, ``eigvalsh`` of the smaller Gram matrix (W^T W / N or W W^T / N; for M > N
the M - N zeros of W^T W / N are appended).  Each trial draws from ``trial_generator(seed, index)``
with experiment-specific index ranges, so results do not depend on batch size or device.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from sims.device import resolve_device, trial_generator
from sims.report import Verdict, format_table, write_csv, write_json
from sims.stats import loglog_fit, mean_ci, proportion_ci
from theory import bema, spiked
from theory.marchenko_pastur import MarchenkoPastur

LEVEL_READINGS = ("lower", "midpoint", "upper")
# trial-index offsets keep the experiments' random streams disjoint
_OFFSET = {"d1": 0, "calibration": 10**7, "spikes": 2 * 10**7}


# --- sampling ---------------------------------------------------------------------------------------

def _gaussian(n_rows, n_cols, seed, index, device):
    gen = trial_generator(seed, index, device)
    return torch.randn(n_rows, n_cols, generator=gen, dtype=torch.float64).to(device), gen


def noise_spectra(n_rows: int, n_cols: int, indices, seed: int, device, batch: int = 50) -> np.ndarray:
    """Spectra of X = W^T W / N for unit-variance Gaussian W, one per trial index (rows ascending).
    Each matrix comes from its own generator; eigvalsh runs batched."""
    out = []
    indices = list(indices)
    for start in range(0, len(indices), batch):
        W = torch.stack([_gaussian(n_rows, n_cols, seed, i, device)[0] for i in indices[start:start + batch]])
        out.append(spectrum_of(W))
    return np.concatenate(out) if out else np.zeros((0, n_cols))


def spectrum_of(W: torch.Tensor) -> np.ndarray:
    """All M eigenvalues of X = W^T W / N (ascending), from the smaller Gram matrix."""
    n_rows, n_cols = W.shape[-2:]
    if n_cols <= n_rows:
        ev = torch.linalg.eigvalsh(W.mT @ W / n_rows)
    else:
        ev = torch.linalg.eigvalsh(W @ W.mT / n_rows)
        ev = torch.cat([torch.zeros(*ev.shape[:-1], n_cols - n_rows, dtype=ev.dtype, device=ev.device),
                        ev], dim=-1)
    return ev.clamp_min(0.0).cpu().numpy()


def example_d1_signal(n: int) -> np.ndarray:
    """S of eq. (D.1), with 1-based i, j (j = 0 would divide by zero in cos(i/j))."""
    i = np.arange(1, n + 1, dtype=float)[:, None]
    j = np.arange(1, n + 1, dtype=float)[None, :]
    return np.tan(np.pi / 2 + 1 / (j + 1)) + np.cos(i) * np.log(i + j + 1) + np.sin(j) * np.cos(i / j)


def example_d1_spectra(n: int, seed: int, trial: int, device) -> tuple[np.ndarray, np.ndarray]:
    """(spectrum of X = (R+S)^T (R+S) / N, spectrum of R^T R / N) for one draw of R."""
    R, _ = _gaussian(n, n, seed, _OFFSET["d1"] + trial, device)
    S = torch.as_tensor(example_d1_signal(n), dtype=torch.float64, device=device)
    return spectrum_of(R + S), spectrum_of(R)


# --- Example D.1: Figs D.1, D.2 and the lambda+ ~ 4 claim -------------------------------------------

def fig_d1_data(n: int = 1000, trials: int = 3, seed: int = 0, device="cpu", quick: bool = False,
                alphas=None, betas=None, alpha_fixed: float = 0.25, beta_fixed: float = 0.5) -> dict:
    """lambda+ of BEMA on Example D.1 against alpha (beta fixed) and against beta (alpha fixed).

    Defaults follow paper 001 Fig 3 (the same figure as paper 000 Fig D.1): alpha sweep at
    beta = 0.5, beta sweep at alpha = 0.25.  Mean and range over ``trials`` draws of R; the same for
    BEMA on R alone, and the limit 4."""
    if quick:
        n, trials = min(n, 200), min(trials, 2)
    dev = resolve_device(device) if isinstance(device, str) else device
    alphas = np.round(np.linspace(0.02, 0.46, 23), 3) if alphas is None else np.asarray(alphas, float)
    betas = np.round(np.linspace(0.02, 0.98, 25), 3) if betas is None else np.asarray(betas, float)
    draws = [example_d1_spectra(n, seed, t, dev) for t in range(trials)]

    def sweep(kind, values):
        rows = []
        for v in values:
            a, b = (v, beta_fixed) if kind == "alpha" else (alpha_fixed, v)
            lp_w = [bema.fit(w, n, n, alpha=a, beta=b).lambda_plus for w, _ in draws]
            lp_r = [bema.fit(r, n, n, alpha=a, beta=b).lambda_plus for _, r in draws]
            rows.append({"alpha": float(a), "beta": float(b), "lambda_plus_mean": float(np.mean(lp_w)),
                         "lambda_plus_min": float(np.min(lp_w)), "lambda_plus_max": float(np.max(lp_w)),
                         "lambda_plus_noise_only_mean": float(np.mean(lp_r))})
        return rows

    return {"N": n, "trials": trials, "seed": seed, "limit": 4.0, "alpha_fixed": alpha_fixed,
            "beta_fixed": beta_fixed, "alpha_sweep": sweep("alpha", alphas),
            "beta_sweep": sweep("beta", betas), "quick": quick}


def fig_d2_data(n: int = 1000, seed: int = 0, device="cpu", quick: bool = False, alpha: float = 0.1,
                beta: float = 0.1, bins: int = 80) -> dict:
    """ESD of X for one Example D.1 draw, with the BEMA-fitted MP density (Fig D.2)."""
    if quick:
        n = min(n, 200)
    dev = resolve_device(device) if isinstance(device, str) else device
    ev, _ = example_d1_spectra(n, seed, 0, dev)
    res = bema.fit(ev, n, n, alpha=alpha, beta=beta)
    law = MarchenkoPastur(1.0, res.sigma2)
    top = 1.5 * res.lambda_plus  # the outliers reach ~N^2/3: histogram the bulk, list the rest
    counts, edges = np.histogram(ev[ev <= top], bins=bins, range=(0.0, top))
    density = counts / (ev.size * np.diff(edges))
    grid = np.linspace(law.lower, law.upper, 400)
    return {"N": n, "seed": seed, "alpha": alpha, "beta": beta, "sigma2": res.sigma2,
            "lambda_plus": res.lambda_plus, "n_spikes": res.n_spikes, "mp_fit_error": res.mp_fit_error,
            "bin_edges": edges.tolist(), "esd_density": density.tolist(),
            "mp_grid": grid.tolist(), "mp_density": law.pdf(grid).tolist(),
            "outliers": ev[ev > top][::-1].tolist(), "quick": quick}


def example_d1_claim(ns=(250, 500, 1000, 2000), trials: int = 3, seed: int = 0, device="cpu",
                     alpha: float = 0.1, beta: float = 0.1, progress: bool = True) -> list[dict]:
    """lambda+ of W = R + S against 4, against BEMA on R alone, and against the TW margin."""
    dev = resolve_device(device) if isinstance(device, str) else device
    t = bema.tw_quantile(beta)
    out = []
    for n in tqdm(ns, desc="Example D.1", disable=not progress, leave=False):
        lw, lr, s2w, spikes = [], [], [], []
        for trial in range(trials):
            w, r = example_d1_spectra(n, seed, trial, dev)
            fw, fr = bema.fit(w, n, n, alpha=alpha, beta=beta), bema.fit(r, n, n, alpha=alpha, beta=beta)
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


# --- calibration on pure noise ------------------------------------------------------------------------

def _literal_alg4_error(ev_full, n_rows, n_cols, sigma2, alpha):
    """Algorithm 4 exactly as printed in step 6: MP with parameter lambda = N/M."""
    m = ev_full.size
    law = MarchenkoPastur(n_rows / n_cols, sigma2)
    i_low, i_high = max(1, math.ceil(alpha * m - 1e-9)), math.floor((1 - alpha) * m + 1e-9)
    x = ev_full[i_low - 1:i_high]
    ecdf = np.searchsorted(ev_full, x, side="right") / m
    return float(np.max(np.abs(ecdf - law.cdf(x))))


def calibration(ns=(100, 200, 400), ratios=(0.5, 1.0, 2.0), trials: int = 1000, betas=(0.05, 0.1, 0.2),
                seed: int = 0, device="cpu", alpha: float = 0.1, batch: int = 50,
                progress: bool = True) -> list[dict]:
    """P(top eigenvalue of pure-noise X > lambda+) per (N, ratio, beta, reading), Wilson 95% CI."""
    dev = resolve_device(device) if isinstance(device, str) else device
    records = []
    for ci_, (n, ratio) in enumerate([(n, r) for n in ns for r in ratios]):
        m = max(1, round(n * ratio))
        first = _OFFSET["calibration"] + ci_ * 10**5
        spectra = np.concatenate([
            noise_spectra(n, m, range(first + s, first + min(trials, s + batch)), seed, dev, batch)
            for s in tqdm(range(0, trials, batch), desc=f"calibration N={n} c={ratio}",
                          disable=not progress, leave=False)])
        tops = spectra[:, -1]
        fits = {lv: [bema.fit(ev, n, m, alpha=alpha, beta=0.1, levels=lv) for ev in spectra]
                for lv in LEVEL_READINGS}
        s2 = {lv: np.array([f.sigma2 for f in fits[lv]]) for lv in LEVEL_READINGS}
        fit_err = np.array([f.mp_fit_error for f in fits["midpoint"]])
        literal = np.array([_literal_alg4_error(ev, n, m, f.sigma2, alpha)
                            for ev, f in zip(spectra, fits["midpoint"])])
        for beta in betas:
            t = bema.tw_quantile(beta)
            base = {"N": n, "M": m, "ratio": m / n, "beta": beta, "trials": trials, "alpha": alpha}
            readings = [("oracle sigma2=1", np.ones(trials))] + [(lv, s2[lv]) for lv in LEVEL_READINGS]
            for name, sig in readings:
                lp = np.array([bema.edge_with_tw_correction(s, n, m / n, t) for s in sig])
                hits = int(np.sum(tops > lp))
                ci = proportion_ci(hits, trials, level=0.95)
                rec = {**base, "reading": name, "exceed": hits / trials, "exceed_ci": ci.as_list(),
                       "beta_in_ci": ci.contains(beta), "sigma2_mean": float(sig.mean()),
                       "sigma2_sd": float(sig.std(ddof=1))}
                if name == "midpoint":
                    rec["mp_fit_error_mean"] = float(fit_err.mean())
                    rec["mp_fit_error_literal_N_over_M_mean"] = float(literal.mean())
                records.append(rec)
    return records


# --- spike counting ------------------------------------------------------------------------------------

def bbp_threshold(ratio: float) -> float:
    """Phase-transition theta for R of entry variance 1/N (``theory.spiked.threshold``, c^{1/4})."""
    return float(spiked.threshold(ratio))


def spike_counts(ns=(100, 200, 400), ratios=(0.5, 1.0, 2.0), factors=(0.5, 0.9, 1.1, 1.5, 2.0, 3.0),
                 rank: int = 3, trials: int = 100, seed: int = 0, device="cpu", alpha: float = 0.1,
                 beta: float = 0.1, progress: bool = True) -> list[dict]:
    """n_spikes of BEMA on W = sqrt(N)(R + theta sum u_i v_i^T) against r [theta > threshold]."""
    dev = resolve_device(device) if isinstance(device, str) else device
    records = []
    configs = [(n, r, f) for n in ns for r in ratios for f in factors]
    for k, (n, ratio, factor) in enumerate(tqdm(configs, desc="spike counts", disable=not progress,
                                                leave=False)):
        m = max(rank + 1, round(n * ratio))
        thr = bbp_threshold(m / n)
        theta = factor * thr
        truth = rank if factor > 1 else 0
        counts, sig = [], []
        for t in range(trials):
            R, gen = _gaussian(n, m, seed, _OFFSET["spikes"] + k * 10**4 + t, dev)
            U, _ = torch.linalg.qr(torch.randn(n, rank, generator=gen, dtype=torch.float64).to(dev))
            V, _ = torch.linalg.qr(torch.randn(m, rank, generator=gen, dtype=torch.float64).to(dev))
            # R has entries of variance 1 here; sqrt(N) (R/sqrt(N) + theta U V^T)
            W = R + math.sqrt(n) * theta * (U @ V.mT)
            res = bema.fit(spectrum_of(W), n, m, alpha=alpha, beta=beta)
            counts.append(res.n_spikes), sig.append(res.sigma2)
        counts = np.array(counts)
        exact = int(np.sum(counts == truth))
        ci = proportion_ci(exact, trials, level=0.95)
        # limit of the spike eigenvalue of X: squared outlier singular value (A.3 / Benaych-Georges-
        # Nadakuditi), (1 + theta^2)(c + theta^2)/theta^2 above the threshold
        spike_limit = float(spiked.singular_value_limit(theta, m / n)) ** 2 if factor > 1 else None
        records.append({"N": n, "M": m, "ratio": m / n, "theta": theta, "theta_over_threshold": factor,
                        "threshold": thr, "rank": rank, "truth": truth,
                        "trials": trials, "n_spikes_mean": float(counts.mean()),
                        "exact_rate": exact / trials, "exact_ci": ci.as_list(),
                        "undercount_rate": float(np.mean(counts < truth)),
                        "overcount_rate": float(np.mean(counts > truth)),
                        "spike_eigenvalue_limit": spike_limit,
                        "gap_tw_units": (None if spike_limit is None else
                                         (spike_limit - (1 + math.sqrt(m / n)) ** 2)
                                         / (n ** (-2 / 3) * (m / n) ** (-1 / 6) * (1 + math.sqrt(m / n)) ** (4 / 3))),
                        "edge": (1 + math.sqrt(m / n)) ** 2, "sigma2_mean": float(np.mean(sig))})
    return records


# --- verdicts ------------------------------------------------------------------------------------------

def _ci_text(r, key="exceed"):
    lo, hi = r[f"{key}_ci"]
    return f"N={r['N']} c={r['ratio']:g}: {r[key]:.3f} [{lo:.3f},{hi:.3f}]"


def calibration_verdicts(calib: list[dict], beta: float = 0.1) -> list[Verdict]:
    """Remark D.1 ("beta allows us to control the confidence ...") per reading of step 3, and
    BEMA's midpoint reading against the oracle sigma^2 = 1 (which isolates the TW approximation)."""
    at = [r for r in calib if r["beta"] == beta]
    if not at:
        return []
    out = []
    big = max(r["N"] for r in at)
    setting = (f"pure Gaussian noise, N in {sorted({r['N'] for r in at})}, ratios "
               f"{sorted({r['ratio'] for r in at})}, {at[0]['trials']} trials, beta={beta}, 95% Wilson CIs")
    by = {name: [r for r in at if r["reading"] == name] for name in ("lower", "midpoint", "upper", "oracle sigma2=1")}
    label = {"lower": "as printed (q_k at level k/N, k-th smallest)",
             "upper": "Ke-Ma-Lin reading ((k/p) upper quantile, k-th largest)",
             "midpoint": "midpoint levels (k-1/2)/n (this package's default)",
             "oracle sigma2=1": "oracle sigma^2 = 1 (TW approximation alone)"}
    for name, rows in by.items():
        largest = [r for r in rows if r["N"] == big]
        ok = all(r["beta_in_ci"] for r in largest)
        worst = max(largest, key=lambda r: abs(r["exceed"] - beta))
        corrected = ""
        if name == "lower" and not ok:
            corrected = ("match the k-th smallest eigenvalue to the (k-1/2)/n quantile: the k/n level "
                         "biases sigma^2 down by ~1 sampling sd at every N, hence the excess")
        out.append(Verdict(f"Remark D.1: P(top noise eigenvalue > lambda+) = beta, step 3 {label[name]}",
                           setting, big, worst["exceed"], beta, "holds" if ok else "fails",
                           ci=worst["exceed_ci"], corrected=corrected,
                           note="; ".join(_ci_text(r) for r in rows)))
    # BEMA's own contribution: midpoint vs oracle, config by config (overlapping 95% intervals)
    pairs = [(m, o) for m in by["midpoint"] for o in by["oracle sigma2=1"] if (m["N"], m["M"]) == (o["N"], o["M"])]
    if pairs:
        gaps = [abs(m["exceed"] - o["exceed"]) for m, o in pairs]
        overlap = all(m["exceed_ci"][0] <= o["exceed_ci"][1] and o["exceed_ci"][0] <= m["exceed_ci"][1]
                      for m, o in pairs)
        out.append(Verdict("BEMA (midpoint) adds no miscalibration beyond the TW_1 approximation",
                           setting, big, max(gaps), None, "holds" if overlap else "fails",
                           note="measured = max |P(midpoint) - P(oracle)| over (N, c); the shortfall below "
                                "beta at small N is the O(N^{-1/3}) error of the Johnstone centring/scaling "
                                "(N, M rather than N-1/2, M-1/2), shared with the oracle"))
    return out


def verdicts(calib: list[dict], d1: list[dict], d1_fig: dict | None, spikes: list[dict]) -> list[Verdict]:
    out = calibration_verdicts(calib)
    rect = [r for r in calib if r["beta"] == 0.1 and r["reading"] == "midpoint" and r["ratio"] != 1.0]
    if rect:
        w = max(rect, key=lambda r: r["mp_fit_error_literal_N_over_M_mean"])
        out.append(Verdict(
            "Alg. 4 step 6: F'_X = MP with parameter lambda = N/M", f"pure noise N={w['N']} M={w['M']}",
            w["N"], w["mp_fit_error_literal_N_over_M_mean"], w["mp_fit_error_mean"],
            "fails" if w["mp_fit_error_literal_N_over_M_mean"] > 0.05 else "holds",
            corrected="use c = M/N (Theorem 3.1): mean fit error "
                      f"{w['mp_fit_error_mean']:.4f} instead of {w['mp_fit_error_literal_N_over_M_mean']:.4f}",
            note="measured = mean Alg. 4 statistic with N/M; bound = with M/N; any tau < 0.5 rejects pure "
                 "noise under the printed reading when M < N (MP(N/M) puts mass 1 - M/N at 0)"))
    if d1:
        big = max(d1, key=lambda r: r["N"])
        ok = abs(big["excess_over_noise_only"]) <= big["tw_margin"]
        note = "; ".join(f"N={r['N']}: lambda+={r['lambda_plus_mean']:.4f} (R alone "
                         f"{r['lambda_plus_noise_only_mean']:.4f}, TW margin {r['tw_margin']:.4f})" for r in d1)
        corrected = ""
        if len(d1) >= 3:
            fit = loglog_fit([r["N"] for r in d1], [r["excess_over_noise_only"] for r in d1])
            corrected = (f"lambda+(R+S) - lambda+(R) ~ N^{fit.slope:.2f} (95% CI [{fit.slope_low:.2f}, "
                         f"{fit.slope_high:.2f}]), vs the TW margin's N^-0.67: S of (D.1) is not low rank "
                         f"({big['signal_singular_values_above_sqrtN']} singular values above sqrt(N) at "
                         f"N={big['N']}, growing with N) and shifts the bulk order statistics, so BEMA "
                         f"overestimates lambda+ by {big['excess_over_noise_only'] / big['tw_margin']:.1f} "
                         "TW margins; the relative error vs 4 does vanish")
        out.append(Verdict("Example D.1: BEMA lambda+ of X ~ lambda+ of R^T R/N (= 4), at BEMA's resolution",
                           f"eq. (D.1), unit-variance R, alpha=beta=0.1, {big['trials']} draws", big["N"],
                           big["lambda_plus_mean"], 4.0, "holds" if ok else "fails", corrected=corrected,
                           note=f"relative error vs 4: {big['relative_error_vs_4']:.4f}; " + note))
    if d1_fig:
        sweep = [r for r in d1_fig["alpha_sweep"] if r["alpha"] >= 0.1]
        spread = max(r["lambda_plus_mean"] for r in sweep) - min(r["lambda_plus_mean"] for r in sweep)
        # "insignificant": smaller than the sd of the top noise eigenvalue, sd(TW_1) 2^{4/3} N^{-2/3}
        top_sd = math.sqrt(1.6077810345810) * 2 ** (4 / 3) * d1_fig["N"] ** (-2 / 3)
        out.append(Verdict("Remark D.1: dependence on alpha is insignificant for sufficiently large alpha",
                           f"Example D.1, N={d1_fig['N']}, beta={d1_fig['beta_fixed']}, alpha in [0.1, 0.46]",
                           d1_fig["N"], spread, top_sd, "holds" if spread <= top_sd else "fails",
                           note="measured = range of mean lambda+ over alpha; bound = sd of the top noise "
                                "eigenvalue, sd(TW_1) 2^{4/3} N^{-2/3}"))
    if spikes:
        out += spike_verdicts(spikes)
    return out


def spike_verdicts(spikes: list[dict]) -> list[Verdict]:
    out = []
    setting = (f"W = sqrt(N)(R + theta sum_(i<=3) u_i v_i^T), N in {sorted({r['N'] for r in spikes})}, "
               f"ratios {sorted({r['ratio'] for r in spikes})}, {spikes[0]['trials']} trials, beta=0.1")
    strong = [r for r in spikes if r["theta_over_threshold"] >= 2]
    if strong:
        worst = min(strong, key=lambda r: r["exact_rate"])
        out.append(Verdict("BEMA counts all spikes with theta >= 2 x BBP threshold", setting, worst["N"],
                           worst["exact_rate"], 0.9, "holds" if worst["exact_ci"][1] >= 0.9 else "fails",
                           ci=worst["exact_ci"],
                           note=f"worst: N={worst['N']} c={worst['ratio']:g} theta/threshold="
                                f"{worst['theta_over_threshold']:g}; bound = 1 - beta"))
    near = [r for r in spikes if 1 < r["theta_over_threshold"] < 2]
    if near:
        note = "; ".join(f"N={r['N']} c={r['ratio']:g} x{r['theta_over_threshold']:g}: exact {r['exact_rate']:.2f} "
                         f"(gap {r['gap_tw_units']:.1f} TW units)" for r in near)
        worst = min(near, key=lambda r: r["exact_rate"])
        fails = worst["exact_ci"][1] < 0.9
        out.append(Verdict("Spikes just above the BBP threshold are counted", setting, worst["N"],
                           worst["exact_rate"], 0.9, "fails" if fails else "holds",
                           ci=worst["exact_ci"],
                           # the numbers behind this are the per-config rates and gaps in the note
                           corrected=("detection needs the outlier's limit to clear the edge by several TW "
                                      "units (N^{-2/3} scale; exact rate against gap in the note): "
                                      "theta - threshold >> N^{-1/3}") if fails else "",
                           note=note))
    for lo, hi, name in ((0, 0.6, "well below"), (0.6, 1.0, "just below")):
        rows = [r for r in spikes if lo < r["theta_over_threshold"] < hi]
        if not rows:
            continue
        worst = max(rows, key=lambda r: r["overcount_rate"])
        # per-config binomial test of "rate <= beta" at 99.9%: the Wilson lower bound must not exceed beta
        flagged = [r for r in rows if proportion_ci(round(r["overcount_rate"] * r["trials"]), r["trials"],
                                                    level=0.999).low > 0.1]
        out.append(Verdict(f"No false spikes for theta {name} the BBP threshold (rate <= beta)", setting,
                           worst["N"], worst["overcount_rate"], 0.1, "fails" if flagged else "holds",
                           corrected=("" if not flagged else
                                      "subcritical spikes within the BBP critical window theta_bar(1 - O(N^{-1/3})) "
                                      "lift the top noise eigenvalues (deformed TW law): BEMA's beta does not "
                                      "bound the false-spike rate there"),
                           note="; ".join(f"N={r['N']} c={r['ratio']:g} x{r['theta_over_threshold']:g}: "
                                          f"{r['overcount_rate']:.2f}" for r in rows)))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m sims.bema_checks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    p.add_argument("--json", type=Path, help="write records here (+ _verdicts.json, .csv)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--trials", type=int, help="calibration trials per setting")
    args = p.parse_args(argv)
    dev = resolve_device(args.device)
    q = args.quick
    calib = calibration(ns=(100,) if q else (100, 200, 400), ratios=(0.5, 1.0) if q else (0.5, 1.0, 2.0),
                        trials=args.trials or (300 if q else 1000), seed=args.seed, device=dev)
    d1 = example_d1_claim(ns=(150, 300) if q else (250, 500, 1000, 2000), trials=2 if q else 3,
                          seed=args.seed, device=dev)
    d1_fig = fig_d1_data(seed=args.seed, device=dev, quick=q)
    spikes = spike_counts(ns=(100,) if q else (100, 200, 400), ratios=(1.0,) if q else (0.5, 1.0, 2.0),
                          factors=(0.5, 2.0) if q else (0.5, 0.9, 1.1, 1.5, 2.0, 3.0),
                          trials=30 if q else 100, seed=args.seed, device=dev)
    print("Calibration: P(top eigenvalue > lambda+) on pure noise")
    print(format_table(calib, ["N", "M", "beta", "reading", "exceed", "exceed_ci", "sigma2_mean", "sigma2_sd"]))
    print("\nExample D.1")
    print(format_table(d1, ["N", "lambda_plus_mean", "lambda_plus_noise_only_mean", "tw_margin",
                            "relative_error_vs_4", "sigma2_mean", "n_spikes_mean"]))
    print("\nSpike counts (truth = rank if theta > threshold else 0)")
    print(format_table(spikes, ["N", "M", "theta_over_threshold", "truth", "n_spikes_mean", "exact_rate",
                                "exact_ci", "undercount_rate", "overcount_rate"]))
    verds = verdicts(calib, d1, d1_fig, spikes)
    print("\nVerdicts")
    print(format_table([dict(claim=v.claim, verdict=v.verdict, N=v.N, measured=v.measured, bound=v.bound,
                             ci=v.ci) for v in verds], ["claim", "verdict", "N", "measured", "bound", "ci"]))
    for v in verds:
        if v.corrected or v.note:
            print(f"- {v.claim}: {v.note} {('| corrected: ' + v.corrected) if v.corrected else ''}")
    if args.json:
        write_json([{"calibration": calib, "example_d1": d1, "fig_d1": d1_fig, "spike_counts": spikes}],
                   args.json)
        write_json(verds, args.json.with_name(args.json.stem + "_verdicts.json"))
        write_csv(calib, args.json.with_name(args.json.stem + "_calibration.csv"))
        write_csv(spikes, args.json.with_name(args.json.stem + "_spikes.csv"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
