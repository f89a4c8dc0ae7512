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
"""
from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass

import numpy as np
import torch

from core import cli
from core.result import Provenance, Result, Verdict
from core.validate import InvalidArgument, check_allocation, check_choice, check_float, check_int
from sims.device import check_device, resolve_device, trial_generator
from sims.parallel import BACKENDS, add_backend_options, map_tasks
from sims.stats import loglog_fit, proportion_ci
from theory import bema, spiked
from theory.marchenko_pastur import MarchenkoPastur

LEVEL_READINGS = ("lower", "midpoint", "upper")
# trial-index offsets keep the experiments' random streams disjoint
_OFFSET = {"d1": 0, "calibration": 10**7, "spikes": 2 * 10**7}


def _bar(iterable, progress: bool, **kwargs):
    """A progress bar on a terminal (core.cli.progress) when ``progress``, else the iterable."""
    return cli.progress(iterable, **kwargs) if progress else iterable


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
    for n in _bar(ns, progress, desc="Example D.1"):
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


# --- calibration on pure noise ------------------------------------------------------------------------

def _literal_alg4_error(ev_full, n_rows, n_cols, sigma2, alpha):
    """Algorithm 4 exactly as printed in step 6: MP with parameter lambda = N/M."""
    m = ev_full.size
    law = MarchenkoPastur(n_rows / n_cols, sigma2)
    i_low, i_high = max(1, math.ceil(alpha * m - 1e-9)), math.floor((1 - alpha) * m + 1e-9)
    x = ev_full[i_low - 1:i_high]
    ecdf = np.searchsorted(ev_full, x, side="right") / m
    return float(np.max(np.abs(ecdf - law.cdf(x))))


def _calibration_batch(n: int, m: int, indices: range, seed: int, device, alpha: float,
                       batch: int) -> dict:
    """One batch of pure-noise trials (a task of sims.parallel): top eigenvalue, BEMA sigma^2 per
    reading, the MP fit error and Algorithm 4's literal error."""
    spectra = noise_spectra(n, m, indices, seed, device, batch)
    fits = {lv: [bema.fit(ev, n, m, alpha=alpha, tw_level=0.1, levels=lv) for ev in spectra]
            for lv in LEVEL_READINGS}
    return {"tops": spectra[:, -1],
            **{f"s2_{lv}": np.array([f.sigma2 for f in fits[lv]]) for lv in LEVEL_READINGS},
            "fit_err": np.array([f.mp_fit_error for f in fits["midpoint"]]),
            "literal": np.array([_literal_alg4_error(ev, n, m, f.sigma2, alpha)
                                 for ev, f in zip(spectra, fits["midpoint"])])}


def _map(fn, tasks, parallel: dict | None, progress: bool, desc: str) -> list:
    """Tasks in this process (with a progress bar), or through sims.parallel.map_tasks."""
    if parallel and (parallel["jobs"] > 1 or parallel["backend"] != "loky"):
        return map_tasks(fn, tasks, **parallel)
    return [fn(*t) for t in _bar(tasks, progress, desc=desc)]


def calibration(ns=(100, 200, 400), ratios=(0.5, 1.0, 2.0), trials: int = 1000, betas=(0.05, 0.1, 0.2),
                seed: int = 0, device="cpu", alpha: float = 0.1, batch: int = 50,
                progress: bool = True, parallel: dict | None = None) -> list[dict]:
    """P(top eigenvalue of pure-noise X > lambda+) per (N, ratio, beta, reading), Wilson 95% CI.
    ``parallel``: keyword arguments of sims.parallel.map_tasks (backend, jobs, scheduler) for the
    batches of trials; results do not depend on it."""
    dev = resolve_device(device) if isinstance(device, str) else device
    if parallel and dev.type != "cpu":
        parallel = None          # a device runs the batches one after the other, in this process
    records = []
    for ci_, (n, ratio) in enumerate([(n, r) for n in ns for r in ratios]):
        m = max(1, round(n * ratio))
        first = _OFFSET["calibration"] + ci_ * 10**5
        tasks = [(n, m, range(first + s, first + min(trials, s + batch)), seed,
                  "cpu" if parallel else dev, alpha, batch) for s in range(0, trials, batch)]
        parts = _map(_calibration_batch, tasks, parallel, progress, f"calibration N={n} c={ratio}")
        cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        tops, fit_err, literal = cat["tops"], cat["fit_err"], cat["literal"]
        s2 = {lv: cat[f"s2_{lv}"] for lv in LEVEL_READINGS}
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


def _spike_setting(k: int, n: int, m: int, theta: float, rank: int, trials: int, seed: int, device,
                   alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """BEMA's spike count and sigma^2 for each trial of one setting (a task of sims.parallel)."""
    dev = resolve_device(device) if isinstance(device, str) else device
    counts, sig = [], []
    for t in range(trials):
        R, gen = _gaussian(n, m, seed, _OFFSET["spikes"] + k * 10**4 + t, dev)
        U, _ = torch.linalg.qr(torch.randn(n, rank, generator=gen, dtype=torch.float64).to(dev))
        V, _ = torch.linalg.qr(torch.randn(m, rank, generator=gen, dtype=torch.float64).to(dev))
        # R has entries of variance 1 here; sqrt(N) (R/sqrt(N) + theta U V^T)
        W = R + math.sqrt(n) * theta * (U @ V.mT)
        res = bema.fit(spectrum_of(W), n, m, alpha=alpha, tw_level=beta)
        counts.append(res.n_spikes), sig.append(res.sigma2)
    return np.array(counts), np.array(sig)


def spike_counts(ns=(100, 200, 400), ratios=(0.5, 1.0, 2.0), factors=(0.5, 0.9, 1.1, 1.5, 2.0, 3.0),
                 rank: int = 3, trials: int = 100, seed: int = 0, device="cpu", alpha: float = 0.1,
                 beta: float = 0.1, progress: bool = True, parallel: dict | None = None) -> list[dict]:
    """n_spikes of BEMA on W = sqrt(N)(R + theta sum u_i v_i^T) against r [theta > threshold]."""
    dev = resolve_device(device) if isinstance(device, str) else device
    if parallel and dev.type != "cpu":
        parallel = None
    records = []
    configs = [(n, r, f) for n in ns for r in ratios for f in factors]
    settings = [(n, max(rank + 1, round(n * ratio)), factor) for n, ratio, factor in configs]
    tasks = [(k, n, m, factor * bbp_threshold(m / n), rank, trials, seed,
              "cpu" if parallel else dev, alpha, beta) for k, (n, m, factor) in enumerate(settings)]
    all_counts = _map(_spike_setting, tasks, parallel, progress, "spike counts")
    for (n, m, factor), (counts, sig) in zip(settings, all_counts):
        thr = bbp_threshold(m / n)
        theta = factor * thr
        truth = rank if factor > 1 else 0
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

BETA = 0.1      # Remark D.1: the paper's alpha = beta = 0.1
READING_LABEL = {"lower": "as printed (q_k at level k/N, k-th smallest)",
                 "upper": "Ke-Ma-Lin reading ((k/p) upper quantile, k-th largest)",
                 "midpoint": "midpoint levels (k-1/2)/n (this package's default)",
                 "oracle sigma2=1": "oracle sigma^2 = 1 (TW approximation alone)"}


def _ci_text(r, key="exceed"):
    lo, hi = r[f"{key}_ci"]
    return f"N={r['N']} c={r['ratio']:g}: {r[key]:.3f} [{lo:.3f},{hi:.3f}]"


def calibration_verdicts(calib: list[dict], beta: float = BETA) -> list[Verdict]:
    """Remark D.1 ("beta allows us to control the confidence ...") per reading of step 3
    (``extra["reading"]``), and BEMA's midpoint reading against the oracle sigma^2 = 1 (which
    isolates the TW approximation; ``extra["check"] == "midpoint_vs_oracle"``)."""
    at = [r for r in calib if r["beta"] == beta]
    if not at:
        return []
    out = []
    big = max(r["N"] for r in at)
    grid = (f"N in {sorted({r['N'] for r in at})}, c in {sorted({r['ratio'] for r in at})}, "
            f"{at[0]['trials']} trials, beta={beta}")
    by = {name: [r for r in at if r["reading"] == name] for name in READING_LABEL}
    for name, rows in by.items():
        largest = [r for r in rows if r["N"] == big]
        if not largest:
            continue
        ok = all(r["beta_in_ci"] for r in largest)
        worst = max(largest, key=lambda r: abs(r["exceed"] - beta))
        corrected = ""
        if name == "lower" and not ok:
            corrected = ("match the k-th smallest eigenvalue to the (k-1/2)/n quantile: the k/n level "
                         "biases sigma^2 down by ~1 sampling sd at every N, hence the excess")
        out.append(Verdict(
            "000:remark:D.1", f"P(top noise eig > lambda+) = beta, reading={name}, {grid}",
            "holds" if ok else "fails", measured=worst["exceed"], interval=worst["exceed_ci"],
            bound=beta, corrected=corrected, N=big,
            note=(f"step 3 {READING_LABEL[name]}; verdict at the largest N (every 95% Wilson CI must "
                  f"contain beta); measured = the worst one; " + "; ".join(_ci_text(r) for r in rows)),
            extra={"check": "calibration", "reading": name}))
    # BEMA's own contribution: midpoint vs oracle, config by config (overlapping 95% intervals)
    pairs = [(m, o) for m in by["midpoint"] for o in by["oracle sigma2=1"]
             if (m["N"], m["M"]) == (o["N"], o["M"])]
    if pairs:
        gaps = [abs(m["exceed"] - o["exceed"]) for m, o in pairs]
        overlap = all(m["exceed_ci"][0] <= o["exceed_ci"][1] and o["exceed_ci"][0] <= m["exceed_ci"][1]
                      for m, o in pairs)
        out.append(Verdict(
            "000:algorithm:2", f"BEMA midpoint vs oracle sigma^2=1 exceedance, {grid}",
            "holds" if overlap else "fails", measured=max(gaps), N=big,
            note="claim: BEMA (midpoint) adds no miscalibration beyond the TW_1 approximation; measured "
                 "= max |P(midpoint) - P(oracle)| over (N, c), holds when every pair of 95% intervals "
                 "overlaps; the shortfall below beta at small N is the O(N^{-1/3}) error of the "
                 "Johnstone centring/scaling (N, M rather than N-1/2, M-1/2), shared with the oracle",
            extra={"check": "midpoint_vs_oracle"}))
    return out


def alg4_verdict(calib: list[dict]) -> list[Verdict]:
    """Algorithm 4 step 6 as printed (MP parameter lambda = N/M) on rectangular pure noise."""
    rect = [r for r in calib if r["beta"] == BETA and r["reading"] == "midpoint" and r["ratio"] != 1.0]
    if not rect:
        return []
    w = max(rect, key=lambda r: r["mp_fit_error_literal_N_over_M_mean"])
    lit, ok = w["mp_fit_error_literal_N_over_M_mean"], w["mp_fit_error_mean"]
    return [Verdict(
        "000:algorithm:4", f"step 6 MP parameter lambda = N/M, pure noise N={w['N']} M={w['M']}",
        "fails" if lit > 0.05 else "holds", measured=lit, bound=ok, N=w["N"],
        corrected=f"use c = M/N (Theorem 3.1): mean fit error {ok:.4f} instead of {lit:.4f}",
        note="measured = mean Alg. 4 statistic with N/M; bound = the same with M/N; any tau < 0.5 "
             "rejects pure noise under the printed reading when M < N (MP(N/M) puts mass 1 - M/N at 0)",
        extra={"check": "alg4_step6"})]


def example_d1_verdict(d1: list[dict]) -> list[Verdict]:
    """Example D.1: BEMA's lambda+ of X ~ lambda+ of R^T R / N (= 4), at BEMA's own resolution
    (the Tracy-Widom margin 2^{4/3} t_{1-beta} N^{-2/3})."""
    if not d1:
        return []
    big = max(d1, key=lambda r: r["N"])
    ok = abs(big["excess_over_noise_only"]) <= big["tw_margin"]
    note = "; ".join(f"N={r['N']}: lambda+={r['lambda_plus_mean']:.4f} (R alone "
                     f"{r['lambda_plus_noise_only_mean']:.4f}, TW margin {r['tw_margin']:.4f})" for r in d1)
    corrected, extra = "", {"check": "example_d1"}
    if len(d1) >= 3:
        fit = loglog_fit([r["N"] for r in d1], [r["excess_over_noise_only"] for r in d1])
        extra.update(excess_slope=fit.slope, excess_slope_ci=[fit.slope_low, fit.slope_high])
        if not ok:
            corrected = (f"lambda+(R+S) - lambda+(R) ~ N^{fit.slope:.2f} (95% CI [{fit.slope_low:.2f}, "
                         f"{fit.slope_high:.2f}]), vs the TW margin's N^-0.67: S of (D.1) is not low rank "
                         f"({big['signal_singular_values_above_sqrtN']} singular values above sqrt(N) at "
                         f"N={big['N']}, growing with N) and shifts the bulk order statistics, so BEMA "
                         f"overestimates lambda+ by {big['excess_over_noise_only'] / big['tw_margin']:.1f} "
                         "TW margins; the relative error vs 4 does vanish")
    return [Verdict(
        "000:example:D.1", f"BEMA lambda+ of X vs of R^T R/N (=4), alpha=beta=0.1, {big['trials']} draws",
        "holds" if ok else "fails", measured=big["lambda_plus_mean"], bound=4.0, N=big["N"],
        corrected=corrected,
        note=(f"holds when |lambda+(X) - lambda+(R)| <= the TW margin at the largest N; relative error "
              f"vs 4: {big['relative_error_vs_4']:.4f}; " + note), extra=extra)]


def alpha_verdict(d1_fig: dict | None) -> list[Verdict]:
    """Remark D.1: "dependence on alpha is insignificant for sufficiently large values"."""
    if not d1_fig:
        return []
    sweep = [r for r in d1_fig["alpha_sweep"] if r["alpha"] >= 0.1]
    if len(sweep) < 2:
        return []
    spread = max(r["lambda_plus_mean"] for r in sweep) - min(r["lambda_plus_mean"] for r in sweep)
    # "insignificant": smaller than the sd of the top noise eigenvalue, sd(TW_1) 2^{4/3} N^{-2/3}
    top_sd = math.sqrt(1.6077810345810) * 2 ** (4 / 3) * d1_fig["N"] ** (-2 / 3)
    alphas = [r["alpha"] for r in sweep]
    return [Verdict(
        "000:remark:D.1", f"lambda+ insensitive to alpha in [{min(alphas):g}, {max(alphas):g}], "
        f"Example D.1, N={d1_fig['N']}, beta={d1_fig['beta_fixed']}",
        "holds" if spread <= top_sd else "fails", measured=spread, bound=top_sd, N=d1_fig["N"],
        note="measured = range of mean lambda+ over alpha; bound = sd of the top noise eigenvalue, "
             "sd(TW_1) 2^{4/3} N^{-2/3}", extra={"check": "alpha_insensitivity"})]


def spike_verdicts(spikes: list[dict]) -> list[Verdict]:
    """Algorithm 2's purpose: the eigenvalues above lambda+ are the spikes (``extra["check"]``:
    strong_spikes, near_threshold, false_spikes_well_below, false_spikes_just_below)."""
    if not spikes:
        return []
    out = []
    grid = (f"N in {sorted({r['N'] for r in spikes})}, c in {sorted({r['ratio'] for r in spikes})}, "
            f"rank {spikes[0].get('rank', 3)}, {spikes[0]['trials']} trials, beta={BETA}")
    strong = [r for r in spikes if r["theta_over_threshold"] >= 2]
    if strong:
        worst = min(strong, key=lambda r: r["exact_rate"])
        out.append(Verdict(
            "000:algorithm:2", f"counts every spike with theta >= 2 x BBP threshold, {grid}",
            "holds" if worst["exact_ci"][1] >= 1 - BETA else "fails", measured=worst["exact_rate"],
            interval=worst["exact_ci"], bound=1 - BETA, N=worst["N"],
            note=f"measured = worst exact-count rate: N={worst['N']} c={worst['ratio']:g} theta/threshold="
                 f"{worst['theta_over_threshold']:g}; bound = 1 - beta",
            extra={"check": "strong_spikes"}))
    near = [r for r in spikes if 1 < r["theta_over_threshold"] < 2]
    if near:
        note = "; ".join(f"N={r['N']} c={r['ratio']:g} x{r['theta_over_threshold']:g}: exact "
                         f"{r['exact_rate']:.2f} (gap {r['gap_tw_units']:.1f} TW units)" for r in near)
        worst = min(near, key=lambda r: r["exact_rate"])
        fails = worst["exact_ci"][1] < 1 - BETA
        out.append(Verdict(
            "000:algorithm:2", f"counts spikes just above the BBP threshold (x1-2), {grid}",
            "fails" if fails else "holds", measured=worst["exact_rate"], interval=worst["exact_ci"],
            bound=1 - BETA, N=worst["N"],
            # the numbers behind this are the per-config rates and gaps in the note
            corrected=("detection needs the outlier's limit to clear the edge by several TW units "
                       "(N^{-2/3} scale; exact rate against gap in the note): theta - threshold >> "
                       "N^{-1/3}") if fails else "",
            note=note, extra={"check": "near_threshold"}))
    for lo, hi, name in ((0, 0.6, "well below"), (0.6, 1.0, "just below")):
        rows = [r for r in spikes if lo < r["theta_over_threshold"] < hi]
        if not rows:
            continue
        worst = max(rows, key=lambda r: r["overcount_rate"])
        # per-config binomial test of "rate <= beta" at 99.9%: the Wilson lower bound must not exceed beta
        flagged = [r for r in rows if proportion_ci(round(r["overcount_rate"] * r["trials"]), r["trials"],
                                                    level=0.999).low > BETA]
        out.append(Verdict(
            "000:algorithm:2", f"false-spike rate <= beta for theta {name} the BBP threshold, {grid}",
            "fails" if flagged else "holds", measured=worst["overcount_rate"], bound=BETA, N=worst["N"],
            corrected=("" if not flagged else
                       "subcritical spikes within the BBP critical window theta_bar(1 - O(N^{-1/3})) lift "
                       "the top noise eigenvalues (deformed TW law): BEMA's beta does not bound the "
                       "false-spike rate there"),
            note="; ".join(f"N={r['N']} c={r['ratio']:g} x{r['theta_over_threshold']:g}: "
                           f"{r['overcount_rate']:.2f}" for r in rows),
            extra={"check": "false_spikes_" + name.replace(" ", "_")}))
    return out


GOF_TAU = 0.7   # the paper's MP fit threshold (Section 3.2.1, "Goodness of fit (GoF or tau) = 0.7")


FIG_D1_RELATIVE = 0.05   # Fig D.1 "approximately the same" as the red line 4: within 5%


def figure_d1_verdict(d1_fig: dict | None) -> list[Verdict]:
    """Fig D.1 (with Remark D.1 and Example D.1's "approximately the same"): BEMA's lambda+ over alpha
    and beta beside the red line lambda+ = 4.  Rule (declared): 'holds' when every sweep point is
    within ``FIG_D1_RELATIVE`` of 4 and lambda+ falls as beta grows (Spearman rho < 0: beta sets the
    confidence).  The stricter reading, at BEMA's own resolution, is 000:example:D.1's verdict; the
    note gives the excess in sd of the top noise eigenvalue, sd(TW_1) 2^{4/3} N^{-2/3}."""
    if not d1_fig:
        return []
    from scipy.stats import spearmanr
    n = d1_fig["N"]
    top_sd = math.sqrt(1.6077810345810) * 2 ** (4 / 3) * n ** (-2 / 3)
    rows = d1_fig["alpha_sweep"] + d1_fig["beta_sweep"]
    rel = [abs(r["lambda_plus_mean"] / 4 - 1) for r in rows]
    k = int(np.argmax(rel))
    excess = max((r["lambda_plus_mean"] - r["lambda_plus_noise_only_mean"]) / top_sd for r in rows)
    beta_rows = d1_fig["beta_sweep"]
    rho = float(spearmanr([r["beta"] for r in beta_rows], [r["lambda_plus_mean"] for r in beta_rows]).statistic)
    ok = rel[k] <= FIG_D1_RELATIVE and rho < 0
    return [Verdict(
        "000:figure:D.1", f"Example D.1, N={n}, {d1_fig['trials']} draws: lambda+ over alpha (beta="
        f"{d1_fig['beta_fixed']}) and beta (alpha={d1_fig['alpha_fixed']}) against 4",
        "holds" if ok else "fails", measured=rel[k], bound=FIG_D1_RELATIVE, N=n,
        note=f"measured = largest |lambda+ / 4 - 1| over the {len(rows)} sweep points (at alpha="
             f"{rows[k]['alpha']:g}, beta={rows[k]['beta']:g}); Spearman rho of lambda+ against beta "
             f"{rho:.2f}. Against lambda+ of R alone, the curves sit up to {excess:.2g} sd of the top noise "
             f"eigenvalue ({top_sd:.3g}) higher: at BEMA's resolution S is visible (000:example:D.1). "
             "Data: tables fig_d1_alpha, fig_d1_beta",
        extra={"check": "figure_d1", "spearman_beta": rho, "excess_top_sd": excess})]


def figure_d2_verdict(d2_fig: dict | None) -> list[Verdict]:
    """Fig D.2: the ESD of X with its BEMA best-fit MP density.  Rule (declared): 'holds' when
    Algorithm 4's sup distance is within the Kolmogorov 95% scale 1.36/sqrt(M) of an iid sample
    of the same size; 'inconclusive' when only the paper's tau = 0.7 accepts it; else 'fails'."""
    if not d2_fig:
        return []
    err, m = d2_fig["mp_fit_error"], d2_fig["N"]
    ks_scale = 1.36 / math.sqrt(m)
    verdict = "holds" if err <= ks_scale else ("inconclusive" if err <= GOF_TAU else "fails")
    return [Verdict(
        "000:figure:D.2", f"Example D.1, N = M = {m}, one draw, alpha = {d2_fig['alpha']}, beta = "
                          f"{d2_fig['beta']}", verdict, measured=err, bound=ks_scale, N=m,
        note=f"Algorithm 4's sup distance between the ESD and the fitted MP(sigma^2 = "
             f"{d2_fig['sigma2']:.4g}) law: {err:.3g}, against 1.36/sqrt(M) = {ks_scale:.3g} (the "
             f"paper's tau = {GOF_TAU} accepts far worse fits); {d2_fig['n_spikes']} eigenvalues above "
             f"lambda+ = {d2_fig['lambda_plus']:.4g}. Data: tables fig_d2_histogram, fig_d2_mp",
        extra={"check": "figure_d2"})]


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
    prov = Provenance.start(module=MODULE, argv=to_argv(c) if argv is None else argv, seed=c.seed,
                            device=str(dev))
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
