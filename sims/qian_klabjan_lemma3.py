"""Lemma 3 and Table 2 of paper 004 in ``sims.qian_klabjan``: ||W||_2 of n1 x n2 matrices with iid
U[-K, K] entries scaled by 1/sqrt(n1), and the constant c0 read as a quantile of it -- empirical
(with a binomial interval) and from a Tracy-Widom fit of the edge law.
"""
from __future__ import annotations

import math
import sys

import numpy as np
import torch
from scipy import stats

from core.cli import progress as progress_bar
from sims.noise import sample_trials
from sims.qian_klabjan_norms import row_seed, spectral_norms
from sims.stats import mean_ci
from theory import norm_predictions as npred
from theory import tracy_widom

LEMMA3_SIZES = (32, 64, 128, 256, 512)
LEMMA3_KS = (1.0, math.sqrt(3.0))
QUANTILES = (0.95, 0.99, 0.999, 0.9999)
MIN_EXCEEDANCES = 10  # an empirical q-quantile needs about this many samples above it to be usable
TW1_MEAN, TW1_VAR = -1.2065335745820, 1.6077810345810  # known constants (Tracy-Widom 1996; Bornemann 2010)


def qkey(q: float) -> str:
    """Column suffix for a quantile level: 0.999 -> 'q99.9'."""
    return "q" + format(100 * q, ".10g")


def lemma3_norms(n1: int, n2: int, K: float, trials: int, seed: int, row: int,
                 device: torch.device, chunk: int = 50) -> np.ndarray:
    """||B||_2 for ``trials`` matrices of Lemma 3 (iid U[-K/sqrt n, K/sqrt n], n = max(n1, n2))."""
    if trials < 2:
        raise ValueError(f"trials must be >= 2, got {trials}")
    n = max(n1, n2)
    var_scale = K * K * n1 / (3.0 * n)  # sample_noise: entry variance var_scale / n_rows = K^2 / (3n)
    rseed = row_seed(seed, 3, row)
    out = []
    for start in range(0, trials, chunk):
        mats = sample_trials("uniform", rseed, range(start, min(start + chunk, trials)), n1, n2, var_scale,
                             device)
        out.append(spectral_norms(mats))
    return np.concatenate(out)


def empirical_quantile(samples, q: float, level: float = 0.95) -> tuple[float, float, float | None]:
    """Empirical q-quantile with a distribution-free interval from order statistics.

    The number of samples below the true quantile is Binomial(N, q); ranks l, u with
    P(l <= Bin < u) >= level bracket it.  The upper end is None when u exceeds N."""
    x = np.sort(np.asarray(samples, dtype=float))
    n = x.size
    point = float(np.quantile(x, q, method="inverted_cdf"))
    lo_rank = int(stats.binom.ppf((1 - level) / 2, n, q))          # 0-based index of lower bound
    hi_rank = int(stats.binom.ppf(1 - (1 - level) / 2, n, q)) + 1
    low = float(x[max(lo_rank - 1, 0)])
    high = float(x[hi_rank - 1]) if hi_rank <= n else None
    return point, low, high


def tw_fitted_quantiles(samples, law: npred.SpectralNormLaw, qs, n_boot: int = 400, seed: int = 0):
    """c0 at each q from a TW_1 location-scale law fitted to the samples (in TW units) by moments.

    Returns (points, lows, highs) with a percentile bootstrap 95% interval over the samples.
    Extrapolating to q = 0.9999 with N = 1000 relies on the TW_1 tail shape; the interval reflects
    only sampling error of the fitted location and scale, not a wrong tail shape."""
    z = law.tw_score(np.asarray(samples, dtype=float))
    tw_q = tracy_widom.ppf(np.asarray(qs, dtype=float), 1)
    sd = math.sqrt(TW1_VAR)

    def fit(zs):
        scale = zs.std(axis=-1, ddof=1) / sd
        loc = zs.mean(axis=-1) - scale * TW1_MEAN
        return law._norm_from_score(loc[..., None] + scale[..., None] * tw_q)

    point = fit(z)
    rng = np.random.default_rng(seed)
    boot = fit(z[rng.integers(0, z.size, size=(n_boot, z.size))])
    return point, np.quantile(boot, 0.025, axis=0), np.quantile(boot, 0.975, axis=0)


def lemma3_record(samples, n1: int, n2: int, K: float, qs=QUANTILES, seed: int = 0) -> dict:
    """One Table 2 row: Monte Carlo and RMT side by side."""
    x = np.asarray(samples, dtype=float)
    law = npred.lemma3_law(n1, n2, K)
    n = max(n1, n2)
    est = mean_ci(x)
    unit = law.tw_units()
    rec = dict(n1=n1, n2=n2, K=float(K), n=n, trials=int(x.size),
               norm_mean=est.mean, norm_mean_ci=est.as_list(), norm_std=float(x.std(ddof=1)),
               norm_max=float(x.max()),
               rmt_edge=law.edge, rmt_mean=law.mean(), rmt_std=law.std(), tw_unit=unit)
    # MC minus RMT in TW units: the finite-n correction that the TW_1 limit leaves out.
    rec["mean_offset_tw"] = (rec["norm_mean"] - rec["rmt_mean"]) / unit
    rec["mean_offset_se_tw"] = rec["norm_std"] / math.sqrt(x.size) / unit
    tw_pt, tw_lo, tw_hi = tw_fitted_quantiles(x, law, qs, seed=seed)
    c0, delta0 = {}, {}
    for i, q in enumerate(qs):
        k = qkey(q)
        pt, lo, hi = empirical_quantile(x, q)
        reliable = x.size * (1 - q) >= MIN_EXCEEDANCES
        rec[f"c0_mc_{k}"], rec[f"c0_mc_{k}_ci"] = pt, [lo, hi]
        rec[f"c0_twfit_{k}"], rec[f"c0_twfit_{k}_ci"] = float(tw_pt[i]), [float(tw_lo[i]), float(tw_hi[i])]
        rec[f"c0_rmt_{k}"] = float(law.ppf(q))
        rec[f"c0_source_{k}"] = "empirical" if reliable else "tw-extrapolated"
        c0[str(q)] = pt if reliable else float(tw_pt[i])
        delta0[str(q)] = npred.lemma3_delta0(q, n)
        rec[f"c0_{k}"], rec[f"delta0_{k}"] = c0[str(q)], delta0[str(q)]
    rec["c0"], rec["delta0"] = c0, delta0
    # The delta0 Lemma 3 needs at a c0 fixed independently of n (5% above the edge), from the TW tail.
    rec["delta0_at_1.05_edge"] = npred.lemma3_delta0_at(1.05 * law.edge, n1, n2, K)
    return rec


def lemma3_table(sizes=LEMMA3_SIZES, Ks=LEMMA3_KS, trials: int = 1000, seed: int = 0,
                 device: torch.device | None = None, qs=QUANTILES, progress: bool = True) -> list[dict]:
    device = device or torch.device("cpu")
    configs = [(n1, n2, K) for K in Ks for n1 in sizes for n2 in sizes if n2 >= n1]
    rows = []
    bar = progress_bar(configs, desc="Lemma 3", disable=not progress or not sys.stderr.isatty())
    for row, (n1, n2, K) in enumerate(bar):
        x = lemma3_norms(n1, n2, K, trials, seed, row, device)
        rows.append(lemma3_record(x, n1, n2, K, qs, seed=seed + row))
    return rows
