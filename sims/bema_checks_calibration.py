"""BEMA's calibration on pure noise in ``sims.bema_checks``: P(top eigenvalue > lambda+) against beta
(Remark D.1) for the three readings of Algorithm 2's step 3 and the oracle sigma^2 = 1, and
Algorithm 4's step 6 as printed (MP parameter N/M) against c = M/N; their verdicts.
"""
from __future__ import annotations

import math

import numpy as np

from core.result import Verdict
from sims.bema_checks_common import (BETA, LEVEL_READINGS, TRIAL_OFFSET, interval_text, map_batches,
                                     noise_spectra)
from sims.device import resolve_device
from sims.stats import proportion_ci
from theory import bema
from theory.marchenko_pastur import MarchenkoPastur


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
        first = TRIAL_OFFSET["calibration"] + ci_ * 10**5
        tasks = [(n, m, range(first + s, first + min(trials, s + batch)), seed,
                  "cpu" if parallel else dev, alpha, batch) for s in range(0, trials, batch)]
        parts = map_batches(_calibration_batch, tasks, parallel, progress, f"calibration N={n} c={ratio}")
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


READING_LABEL = {"lower": "as printed (q_k at level k/N, k-th smallest)",
                 "upper": "Ke-Ma-Lin reading ((k/p) upper quantile, k-th largest)",
                 "midpoint": "midpoint levels (k-1/2)/n (this package's default)",
                 "oracle sigma2=1": "oracle sigma^2 = 1 (TW approximation alone)"}


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
                  f"contain beta); measured = the worst one; " + "; ".join(interval_text(r) for r in rows)),
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
