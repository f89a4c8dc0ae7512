"""Spike counting in ``sims.bema_checks``: W = sqrt(N) (R + S), S of rank r at theta = factor x the
BBP threshold (``theory.spiked``); the number of eigenvalues above BEMA's lambda+ against
r [theta > threshold] (Algorithm 2), over N, ratio and factor; its verdicts.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch

from core import protocol as P
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


DECIDING_GAP_TW = 10.0   # the outlier-to-edge gap (TW units) at which detection is near 1 in the 1.5x rows
_SPIKE_SCALE = "reduced N (the claim is a limit, N -> infinity at fixed theta/threshold); N range in the setting"
DECLARATIONS = {
    # What the paper claims of Algorithm 2 (paper 000 Sec. D.1, after Example D.1: "some eigenvalues
    # ... extend beyond the bulk ... associated with the singular values of S_l(t)"; "one can pinpoint
    # the eigenvalues associated with the singular values of S_l"; with [8] (Benaych-Georges and
    # Nadakuditi) for the spikes): as N -> infinity at fixed theta, the eigenvalues above lambda+ are
    # the spikes with theta above the BBP threshold (Theorem A.1, from [8]; Theorem A.3 for square R:
    # both "as N -> infinity"), and a subcritical spike leaves the top eigenvalue at the Tracy-Widom
    # edge, so it is counted with probability -> beta.
    # Far above the threshold (theta >= 2x; > 14 Tracy-Widom units at every measured N) the limit
    # regime is reached, and the exact count is tested per setting at level 1 - beta (exact binomial,
    # Holm over the settings).
    "strong_spikes": P.declare(
        "000:algorithm:2", "per (N, c, theta >= 2 x threshold): P(count = rank) at least 1 - beta, exact "
        "binomial, Holm over the settings", "proportion", margin=1 - BETA, scale=_SPIKE_SCALE,
        family="000:algorithm:2 strong spikes"),
    # Just above the threshold (1x-2x): detection -> 1 is a limit; inside the finite-N critical window
    # (theta - threshold ~ N^{-1/3}) it is not reached, so 1 - P(exact count) is reported with its rate.
    "near_threshold": P.declare(
        "000:algorithm:2", "1 - P(count = rank), pooled over c at each N, at one theta/threshold in (1, 2)",
        "asymptotic_mc", scale=_SPIKE_SCALE, family="000:algorithm:2 near-threshold detection"),
    # Below the threshold: |P(count > 0) - beta| -> 0, reported with its rate.
    "false_spikes": P.declare(
        "000:algorithm:2", "|P(count > 0) - beta|, pooled over c at each N, theta below the threshold",
        "asymptotic_mc", scale=_SPIKE_SCALE, family="000:algorithm:2 false spikes"),
}


def _scaled(decl: "P.Declaration", rows: list[dict]) -> "P.Declaration":
    ns = sorted({r["N"] for r in rows})
    return replace(decl, scale=f"N = {ns[0]}-{ns[-1]}, c in {sorted({r['ratio'] for r in rows})} "
                               "(reduced: the claim is a limit, N -> infinity at fixed theta/threshold)")


def _pooled(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    ns = sorted({r["N"] for r in rows})
    return ns, [float(np.mean([r[key] for r in rows if r["N"] == n])) for n in ns]


def _pooled_se(rows: list[dict], ns, rates) -> list[float]:
    """Binomial standard error of each pooled rate (all settings of one N together)."""
    return [math.sqrt(p * (1 - p) / sum(r["trials"] for r in rows if r["N"] == n)) for n, p in zip(ns, rates)]


def spike_verdicts(spikes: list[dict]) -> list[Verdict]:
    """Algorithm 2's purpose (paper 000 Sec. D.1): the eigenvalues above lambda+ are the spikes
    (``extra["check"]``: strong_spikes, near_threshold, false_spikes_well_below,
    false_spikes_just_below).  Limit claims: inside the finite-N critical window the rates are
    reported with their rate in N (``protocol.asymptotic_mc``: the drop must exceed the binomial
    sampling error), not as counterexamples."""
    if not spikes:
        return []
    out = []
    grid = (f"N in {sorted({r['N'] for r in spikes})}, c in {sorted({r['ratio'] for r in spikes})}, "
            f"rank {spikes[0].get('rank', 3)}, {spikes[0]['trials']} trials, beta={BETA}")
    strong = [r for r in spikes if r["theta_over_threshold"] >= 2]
    if strong:
        decl = _scaled(DECLARATIONS["strong_spikes"], strong)
        parts = P.adjust([P.proportion(decl, round(r["exact_rate"] * r["trials"]), r["trials"], at_most=False)
                          for r in strong], decl.alpha)
        decision = P.all_parts(decl, parts)
        worst_i = min(range(len(strong)), key=lambda i: strong[i]["exact_rate"])
        worst = strong[worst_i]
        decision.extra.update(worst_p=parts[worst_i].p, worst_p_adjusted=parts[worst_i].p_adjusted)
        out.append(P.verdict(
            decl, decision, setting=f"counts every spike with theta >= 2 x BBP threshold, {grid}",
            measured=worst["exact_rate"], interval=worst["exact_ci"], bound=1 - BETA, N=worst["N"],
            note=f"measured = worst exact-count rate: N={worst['N']} c={worst['ratio']:g} theta/threshold="
                 f"{worst['theta_over_threshold']:g} (exact binomial p = {parts[worst_i].p:.3g}, Holm-adjusted "
                 f"{parts[worst_i].p_adjusted:.3g} over {len(strong)} settings); bound = 1 - beta",
            extra={"check": "strong_spikes"}))
    for factor in sorted({r["theta_over_threshold"] for r in spikes if 1 < r["theta_over_threshold"] < 2}):
        rows = [r for r in spikes if r["theta_over_threshold"] == factor]
        decl = _scaled(DECLARATIONS["near_threshold"], rows)
        ns, exact = _pooled(rows, "exact_rate")
        _, gaps = _pooled(rows, "gap_tw_units")
        decision = P.asymptotic_mc(decl, ns, [1 - e for e in exact], _pooled_se(rows, ns, exact))
        worst = min(rows, key=lambda r: r["exact_rate"])
        out.append(P.verdict(
            decl, decision, setting=f"detection of spikes at theta = {factor:g} x BBP threshold -> 1 as N grows, {grid}",
            measured=exact[-1], bound=1 - BETA, N=ns[-1],
            note=(f"measured = pooled exact-count rate at N={ns[-1]}; per N: "
                  + ", ".join(f"N={n}: {e:.2f} (outlier limit {g:.2f} TW units above the edge)"
                              for n, e, g in zip(ns, exact, gaps))
                  + "; the gap in TW units grows like N^{2/3} at fixed theta, and detection needs several "
                    "units (the BBP critical window theta - threshold ~ N^{-1/3}); worst setting: "
                  + f"N={worst['N']} c={worst['ratio']:g}: {worst['exact_rate']:.2f}"
                  + ("" if decision.word == "holds" or not gaps[-1] > 0 else
                     f"; what would decide it: N at which the gap reaches {DECIDING_GAP_TW:g} TW units, "
                     f"~{ns[-1] * (DECIDING_GAP_TW / gaps[-1]) ** 1.5:.0f} at this theta/threshold")),
            extra={"check": "near_threshold", "theta_over_threshold": factor,
                   "exact_rate_by_N": dict(zip(map(str, ns), exact)), "gap_tw_units_by_N": dict(zip(map(str, ns), gaps))}))
    for lo, hi, name in ((0, 0.6, "well below"), (0.6, 1.0, "just below")):
        rows = [r for r in spikes if lo < r["theta_over_threshold"] < hi]
        if not rows:
            continue
        decl = _scaled(DECLARATIONS["false_spikes"], rows)
        ns, over = _pooled(rows, "overcount_rate")
        decision = P.asymptotic_mc(decl, ns, [o - BETA for o in over], _pooled_se(rows, ns, over))
        sd = math.sqrt(BETA * (1 - BETA) / sum(r["trials"] for r in rows if r["N"] == ns[-1]))
        worst = max(rows, key=lambda r: r["overcount_rate"])
        out.append(P.verdict(
            decl, decision, setting=f"false-spike rate -> beta for theta {name} the BBP threshold, {grid}",
            measured=worst["overcount_rate"], bound=BETA, N=worst["N"],
            note=(f"pooled false-spike rate per N: " + ", ".join(f"N={n}: {o:.3f}" for n, o in zip(ns, over))
                  + f" (binomial sd of a pooled rate at beta: {sd:.3f}); measured = the worst setting; "
                  + ("subcritical spikes inside the BBP critical window theta_bar(1 - O(N^{-1/3})) lift "
                     "the top noise eigenvalues (deformed TW law) at these N; " if name == "just below" else "")
                  + "; ".join(f"N={r['N']} c={r['ratio']:g} x{r['theta_over_threshold']:g}: "
                              f"{r['overcount_rate']:.2f}" for r in rows)),
            extra={"check": "false_spikes_" + name.replace(" ", "_"),
                   "overcount_rate_by_N": dict(zip(map(str, ns), over))}))
    return out
