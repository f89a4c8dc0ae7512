"""Spike counting in ``sims.bema_checks``: W = sqrt(N) (R + S), S of rank r at theta = factor x the
BBP threshold (``theory.spiked``); the number of eigenvalues above BEMA's lambda+ against
r [theta > threshold] (Algorithm 2), over N, ratio and factor; its verdicts.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from core.result import Verdict
from sims.bema_checks_common import BETA, TRIAL_OFFSET, gaussian_matrix, map_batches, spectrum_of
from sims.device import resolve_device
from sims.stats import proportion_ci
from theory import bema, spiked


def bbp_threshold(ratio: float) -> float:
    """Phase-transition theta for R of entry variance 1/N (``theory.spiked.threshold``, c^{1/4})."""
    return float(spiked.threshold(ratio))


def _spike_setting(k: int, n: int, m: int, theta: float, rank: int, trials: int, seed: int, device,
                   alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """BEMA's spike count and sigma^2 for each trial of one setting (a task of sims.parallel)."""
    dev = resolve_device(device) if isinstance(device, str) else device
    counts, sig = [], []
    for t in range(trials):
        R, gen = gaussian_matrix(n, m, seed, TRIAL_OFFSET["spikes"] + k * 10**4 + t, dev)
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
    all_counts = map_batches(_spike_setting, tasks, parallel, progress, "spike counts")
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
