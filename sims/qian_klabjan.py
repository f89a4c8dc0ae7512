"""`python -m sims.qian_klabjan`: the constants of paper 004 (Qian & Klabjan, ICML 2021), Lemmas 3 and 4.

Appendix D.3-D.4 of paper 004 as Tables 2 and 3, each Monte Carlo number beside a random-matrix
prediction; the committed result is ``results/qian_klabjan.json`` (Table 2 as records, Table 3 as
the table ``lemma4``).

Table 2 (Appendix D.3, Lemma 3).  B is n1 x n2 with iid entries U[-K/sqrt(n), K/sqrt(n)], n = max(n1, n2).
For ``trials`` matrices per (n1, n2, K): mean and std of ||B||_2, and for each q the c0 with
P(||B||_2 <= c0) = q and the delta0 with q = 1 - 2 exp(-4 delta0 n).  Beside each Monte Carlo number,
the RMT prediction of ``theory.norm_predictions`` (edge s(sqrt n1 + sqrt n2) plus TW_1 fluctuations with
the Johnstone 2001 / Ma 2012 constants).

c0 has three estimates:
- ``c0_mc``: the empirical q-quantile, with a distribution-free 95% interval from the binomial law of
  order statistics.  With N matrices it is only reliable while N (1 - q) >= 10 exceedances;
- ``c0_twfit``: the MC samples mapped to TW units, a location-scale TW_1 law fitted by moments, read off
  at q; its 95% interval is a bootstrap over the matrices.  This is how q = 99.9% and 99.99% with 1000
  samples are estimated (an extrapolation along the TW_1 tail shape; flagged in ``c0_source``);
- ``c0_rmt``: the pure prediction, no data.
delta0 = log(2 / (1 - q)) / (4 n) is a function of (q, n) alone (``theory.norm_predictions.lemma3_delta0``).

Table 3 (Appendix D.4, Lemma 4 = Latala 2005, Theorem 2, eq. (42)/(13)).  d x d matrices A with entries
U[-sqrt(3/d), sqrt(3/d)], N(0, 1/d), N(0, 3/d), and N(0, 1/d) with floor(d^(2-alpha)) entries zeroed at
random (``zeroed``, as D.4 describes).  Because eq. (19) applies Lemma 4 to W - W*, whose nonzero
entries are the floor(D^(1-alpha)) *pruned* ones, ``--kept`` adds the complementary ``kept`` rows:
only floor(d^(2-alpha)) random entries nonzero.  For each: the three terms of (42) (max row norm, max column
norm, fourth-moment term) with exact expectations, E||A||_2, and the smallest C for which (42) holds,
C_min = E||A||_2 / (sum of terms); for the masked rows also C conditional on the mask (Lemma 4 applied
given the mask, which makes the entries independent), and the plug-in version where E A_ij^2 and
E A_ij^4 are replaced by their averages over the sampled matrices.
"""
from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from scipy import stats

from core.cli import DEVICE_CHOICES, make_parser, progress as progress_bar, run as cli_run
from core.result import Result, Verdict
from core.validate import InvalidArgument, check_choice, check_int
from sims.device import trial_generator
from sims.experiment import ExperimentRun
from sims.noise import sample_noise, sample_trials
from sims.stats import mean_ci
from theory import norm_predictions as npred
from theory import tracy_widom

LEMMA3_SIZES = (32, 64, 128, 256, 512)
LEMMA3_KS = (1.0, math.sqrt(3.0))
QUANTILES = (0.95, 0.99, 0.999, 0.9999)
LEMMA4_SIZES = (32, 64, 128, 256, 512)
LEMMA4_ALPHAS = (0.01, 0.1, 0.5)
MIN_EXCEEDANCES = 10  # an empirical q-quantile needs about this many samples above it to be usable
TW1_MEAN, TW1_VAR = -1.2065335745820, 1.6077810345810  # known constants (Tracy-Widom 1996; Bornemann 2010)
MODULE = "sims.qian_klabjan"
# claim ids (core.claims registry): the two sentences of D.3 on Table 2, and Table 3
D3_C0, D3_DELTA0, TABLE_3 = "004:text:D.3.1", "004:text:D.3.2", "004:table:3"
LEMMA_3, LEMMA_4, TABLE_2 = "004:lemma:3", "004:lemma:4", "004:table:2"
LEMMA3_C0_FACTOR = 1.1   # Lemma 3's c0 fixed at 1.1 x 2K/sqrt 3 (above every edge), independent of n
LATALA_GROWTH_TOLERANCE = 0.05   # a rise of C_min from the smallest to the largest d beyond this: inconclusive


@dataclass(frozen=True)
class Config:
    """``trials``: matrices per Table 2 row (Table 3 uses max(20, trials // 2)); ``sizes``: the
    n1, n2 (Table 2) and d (Table 3) values; ``only``: one table; ``kept``: add the eq. (19)
    rows to Table 3 (only floor(d^(2-alpha)) entries nonzero)."""
    sizes: tuple[int, ...] = LEMMA3_SIZES
    trials: int = 1000
    seed: int = 0
    device: str = "auto"
    only: str | None = None
    kept: bool = False

    @classmethod
    def quick(cls, **overrides) -> "Config":
        return replace(cls(sizes=(32, 64), trials=100), **overrides)

    def validate(self) -> "Config":
        sizes = tuple(check_int("size", s, 2, 4096) for s in self.sizes)
        if not sizes:
            raise InvalidArgument("sizes must hold at least one matrix size, got none")
        if self.only is not None:
            check_choice("only", self.only, ("lemma3", "lemma4"))
        return replace(self, sizes=sizes, trials=check_int("trials", self.trials, 20, 10**6),
                       seed=check_int("seed", self.seed, 0, None),
                       device=check_choice("device", self.device, DEVICE_CHOICES),
                       kept=bool(self.kept))


def qkey(q: float) -> str:
    """Column suffix for a quantile level: 0.999 -> 'q99.9'."""
    return "q" + format(100 * q, ".10g")


# ----------------------------------------------------------------------------------------------
# sampling and norms


def spectral_norms(mats: torch.Tensor) -> np.ndarray:
    """||A||_2 for a batch (..., m, n): sqrt of the top eigenvalue of the smaller Gram matrix.

    eigvalsh of A A^T (or A^T A) in float64 gives the top singular value to relative accuracy ~1e-16
    (the eigenvalue error is ~eps ||A||^2).  It also avoids LAPACK's batched SVD of wide
    matrices (``svdvals``), which was orders of magnitude slower on a loaded machine."""
    if mats.ndim < 2:
        raise ValueError(f"need a (batch of) matrix, got shape {tuple(mats.shape)}")
    a = mats.to(torch.float64)
    gram = a @ a.transpose(-1, -2) if a.shape[-2] <= a.shape[-1] else a.transpose(-1, -2) @ a
    top = torch.linalg.eigvalsh(gram)[..., -1].clamp_min(0.0)
    return top.sqrt().cpu().numpy().astype(float)


def spectral_norm(mat: torch.Tensor) -> float:
    """||A||_2 of one matrix (see :func:`spectral_norms`)."""
    return float(spectral_norms(mat[None])[0])


def _row_seed(seed: int, table: int, row: int) -> int:
    # Each table row gets its own stream; trials within a row are independent of chunking.
    return seed * 1_000_003 + table * 10_007 + row


def lemma3_norms(n1: int, n2: int, K: float, trials: int, seed: int, row: int,
                 device: torch.device, chunk: int = 50) -> np.ndarray:
    """||B||_2 for ``trials`` matrices of Lemma 3 (iid U[-K/sqrt n, K/sqrt n], n = max(n1, n2))."""
    if trials < 2:
        raise ValueError(f"trials must be >= 2, got {trials}")
    n = max(n1, n2)
    var_scale = K * K * n1 / (3.0 * n)  # sample_noise: entry variance var_scale / n_rows = K^2 / (3n)
    rseed = _row_seed(seed, 3, row)
    out = []
    for start in range(0, trials, chunk):
        mats = sample_trials("uniform", rseed, range(start, min(start + chunk, trials)), n1, n2, var_scale,
                             device)
        out.append(spectral_norms(mats))
    return np.concatenate(out)


# ----------------------------------------------------------------------------------------------
# quantile estimators for c0


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


# ----------------------------------------------------------------------------------------------
# Lemma 4 (Latala)

# name -> (noise kind, var_scale (entry variance var_scale/d), fourth moment E A^4 * d^2 of an entry)
LEMMA4_DENSE = {
    "U[-sqrt(3/d),sqrt(3/d)]": ("uniform", 1.0, 9.0 / 5.0),
    "N(0,1/d)": ("gaussian", 1.0, 3.0),
    "N(0,3/d)": ("gaussian", 3.0, 27.0),
}


def latala_terms(second, fourth) -> tuple[float, float, float]:
    """The three terms of (42) from matrices of E A_ij^2 and E A_ij^4 (any shape m x n)."""
    second = np.asarray(second, dtype=float)
    fourth = np.asarray(fourth, dtype=float)
    if second.ndim != 2 or second.shape != fourth.shape:
        raise ValueError(f"need two matrices of the same shape, got {second.shape} and {fourth.shape}")
    if np.any(~np.isfinite(second)) or np.any(~np.isfinite(fourth)) or np.any(second < 0) or np.any(fourth < 0):
        raise ValueError("moments must be finite and non-negative")
    return (float(np.sqrt(second.sum(axis=1).max())), float(np.sqrt(second.sum(axis=0).max())),
            float(fourth.sum() ** 0.25))


def latala_c_min(mean_norm: float, terms) -> float:
    """Smallest C with E||A||_2 <= C (row + column + fourth-moment term), eq. (42)."""
    total = float(sum(terms))
    if not (math.isfinite(mean_norm) and mean_norm >= 0 and total > 0):
        raise ValueError(f"need a finite mean norm and a positive bound, got {mean_norm}, {total}")
    return mean_norm / total


def _mask_count(d: int, alpha: float) -> int:
    return int(math.floor(d ** (2.0 - alpha)))


def lemma4_samples(d: int, dist: str, alpha: float | None, trials: int, seed: int, row: int,
                   device: torch.device, chunk: int = 25):
    """Sampled matrices' norms, per-entry sums of A^2 and A^4, and per-matrix conditional terms."""
    kind, vs, _ = LEMMA4_DENSE.get(dist, ("gaussian", 1.0, 3.0))
    rseed = _row_seed(seed, 4, row)
    norms, cond_terms = [], []
    s2 = torch.zeros(d, d, dtype=torch.float64)
    s4 = torch.zeros(d, d, dtype=torch.float64)
    m = _mask_count(d, alpha) if alpha is not None else 0
    for start in range(0, trials, chunk):
        mats = []
        for t in range(start, min(start + chunk, trials)):
            gen = trial_generator(rseed, t, device)
            a = sample_noise(kind, 1, d, d, vs, gen, device, torch.float64)[0]
            if alpha is not None:
                idx = torch.randperm(d * d, generator=gen)[:m].to(device)
                mask = torch.zeros(d * d, dtype=torch.float64, device=device)
                mask[idx] = 1.0
                mask = mask.view(d, d)
                if dist.startswith("kept"):   # only the m drawn entries survive (W - W* of eq. (19))
                    a = a * mask
                else:                          # the m drawn entries are zeroed (Appendix D.4)
                    a = a * (1.0 - mask)
                nz = (a != 0).to(torch.float64)
                # Given the mask the entries are independent: E A^2 = nz/d, E A^4 = 3 nz/d^2.
                cond_terms.append(latala_terms((nz / d).cpu().numpy(), (3.0 * nz / d**2).cpu().numpy()))
            mats.append(a)
        mats = torch.stack(mats)
        norms.append(spectral_norms(mats))
        s2 += (mats**2).sum(0).cpu()
        s4 += (mats**4).sum(0).cpu()
    return np.concatenate(norms), s2.numpy() / trials, s4.numpy() / trials, cond_terms


def lemma4_exact_terms(d: int, dist: str, alpha: float | None) -> tuple[float, float, float]:
    """Terms of (42) with the exact entry moments (mask averaged out for the masked rows)."""
    if alpha is None:
        _, vs, m4 = LEMMA4_DENSE[dist]
        return latala_terms(np.full((d, d), vs / d), np.full((d, d), m4 / d**2))
    frac = _mask_count(d, alpha) / d**2
    keep = frac if dist.startswith("kept") else 1.0 - frac
    return latala_terms(np.full((d, d), keep / d), np.full((d, d), 3.0 * keep / d**2))


def lemma4_configs(sizes=LEMMA4_SIZES, alphas=LEMMA4_ALPHAS, kept: bool = False):
    out = []
    for d in sizes:
        out += [(d, name, None) for name in LEMMA4_DENSE]
        out += [(d, "zeroed N(0,1/d)", a) for a in alphas]
        if kept:
            out += [(d, "kept N(0,1/d)", a) for a in alphas]
    return out


def lemma4_table(sizes=LEMMA4_SIZES, alphas=LEMMA4_ALPHAS, trials: int = 500, seed: int = 0,
                 device: torch.device | None = None, kept: bool = False, progress: bool = True) -> list[dict]:
    device = device or torch.device("cpu")
    rows = []
    every = lemma4_configs(sizes, alphas, kept=True)  # row seeds do not depend on whether kept rows run
    bar = progress_bar(lemma4_configs(sizes, alphas, kept), desc="Lemma 4",
                       disable=not progress or not sys.stderr.isatty())
    for d, dist, alpha in bar:
        row = every.index((d, dist, alpha))
        norms, m2, m4, cond = lemma4_samples(d, dist, alpha, trials, seed, row, device)
        est = mean_ci(norms)
        exact = lemma4_exact_terms(d, dist, alpha)
        plug = latala_terms(m2, m4)
        rec = dict(d=d, dist=dist, alpha=alpha, trials=int(norms.size),
                   zero_entries=_mask_count(d, alpha) if dist.startswith("zeroed") else
                   (d * d - _mask_count(d, alpha) if alpha is not None else 0),
                   norm_mean=est.mean, norm_mean_ci=est.as_list(),
                   row_term=exact[0], col_term=exact[1], fourth_term=exact[2],
                   C_min=latala_c_min(est.mean, exact),
                   C_min_ci=[est.low / sum(exact), est.high / sum(exact)],
                   plugin_row_term=plug[0], plugin_col_term=plug[1], plugin_fourth_term=plug[2],
                   C_min_plugin=latala_c_min(est.mean, plug))
        if cond:
            ratios = norms / np.array([sum(t) for t in cond])
            c_est = mean_ci(ratios)
            rec.update(C_min_given_mask=c_est.mean, C_min_given_mask_ci=c_est.as_list(),
                       C_min_given_mask_max=float(ratios.max()))
        rows.append(rec)
    return rows


# ----------------------------------------------------------------------------------------------
# verdicts on Appendix D.3-D.4


def table_verdicts(rows3: list[dict], rows4: list[dict]) -> list[Verdict]:
    """D.3: "c0 close to 1 and delta0 close to 0"; Lemma 4: a universal C exists (smallest one measured)."""
    out = []
    for K in sorted({r["K"] for r in rows3}):
        sel = [r for r in rows3 if r["K"] == K]
        worst = max(sel, key=lambda r: r["c0_q99"])
        close = worst["c0_q99"] <= 1.25
        out.append(Verdict(
            claim=D3_C0, setting=f"Table 2: c0 (Lemma 3) small and close to 1; K={K:.4g}, q=99%, "
                                 f"{len(sel)} (n1, n2) rows",
            N=worst["n"], measured=worst["c0_q99"], bound=1.25, verdict="holds" if close else "fails",
            note=f"'close to 1' read as <= 1.25; largest c0 at ({worst['n1']}, {worst['n2']}); RMT "
                 f"{worst['c0_rmt_q99']:.4g}, edge {worst['rmt_edge']:.4g}",
            corrected="" if close else "c0 = (K/sqrt 3)(1 + sqrt(min(n1,n2)/max(n1,n2))) + O(n^(-2/3)): "
                                       "about 2 for K = sqrt 3 (variance 1/n), close to 1 only for K near 1",
            extra=dict(check="c0_close_to_1", K=K, n1=worst["n1"], n2=worst["n2"])))
    if rows3:
        n_small, n_big = min(r["n"] for r in rows3), max(r["n"] for r in rows3)
        out.append(Verdict(
            claim=D3_DELTA0,
            setting=f"Table 2: delta0 (Lemma 3) small and close to 0; q = 1 - 2 exp(-4 delta0 n) "
                    f"solved for delta0, n in [{n_small}, {n_big}]", N=n_big,
            measured=npred.lemma3_delta0(0.99, n_big), bound=0.0, verdict="vacuous",
            note="delta0 = log(2/(1-q))/(4n) depends on (q, n) only, not on B: it tends to 0 like 1/n for any "
                 "matrix law, and with it 1 - 2 exp(-4 delta0 n) stays equal to q (no gain with n)",
            corrected="Lemma 3 needs (c0, delta0) independent of n: fix c0 above the edge; then "
                      "P(||B|| > c0) decays exponentially in n (TW right tail exp(-2/3 s^(3/2)), s ~ n^(2/3)), "
                      "so delta0(c0) stays bounded away from 0: for K = sqrt 3, square, c0 = 2.1: "
                      + ", ".join(f"{npred.lemma3_delta0_at(2.1, n, n, math.sqrt(3)):.3g} (n={n})" for n in (32, 128, 512))
                      + f", limit {npred.lemma3_delta0_limit(2.1, math.sqrt(3)):.3g} "
                        "(theory.norm_predictions.lemma3_delta0_at/_limit)",
            extra=dict(check="delta0_close_to_0")))
    if rows4:
        worst = max(rows4, key=lambda r: r["C_min"])
        best = min(rows4, key=lambda r: r["C_min"])
        out.append(Verdict(
            claim=TABLE_3, setting=f"Lemma 4 (Latala) eq. (42): smallest C over {len(rows4)} Table 3 "
                                   "rows (d, law, alpha)",
            N=worst["d"], measured=worst["C_min"], verdict="holds", interval=worst["C_min_ci"],
            note=f"smallest C valid for every row: {worst['C_min']:.4g} (at d={worst['d']}, {worst['dist']}, "
                 f"alpha={worst['alpha']}; smallest row value {best['C_min']:.4g}); iid rows approach "
                 "2/(2 + (E x^4 / var^2)^(1/4)) as d grows",
            extra=dict(check="latala_C", C_min_low=best["C_min"], C_min_high=worst["C_min"])))
    return out + lemma_verdicts(rows3, rows4)


def lemma_verdicts(rows3: list[dict], rows4: list[dict]) -> list[Verdict]:
    """Lemma 3 (constants c0(K), delta0 independent of n exist), Lemma 4 (a universal C in (13)) and
    Table 2 itself (whose printed rows our copy withholds)."""
    out = []
    for K in sorted({r["K"] for r in rows3}):
        sel = [r for r in rows3 if r["K"] == K]
        c0 = LEMMA3_C0_FACTOR * 2 * K / math.sqrt(3)
        worst = max(sel, key=lambda r: r["norm_max"])
        exceed = sum(r["norm_max"] > c0 for r in sel)
        deltas = [npred.lemma3_delta0_at(c0, r["n1"], r["n2"], K) for r in sel]
        square_limit = npred.lemma3_delta0_limit(c0, K)
        holds = exceed == 0 and min(deltas) > 0
        out.append(Verdict(
            claim=LEMMA_3, setting=f"U[-K/sqrt n, K/sqrt n], K={K:.4g}, {len(sel)} (n1, n2) rows with "
                                   f"n up to {max(r['n'] for r in sel)}, {sel[0]['trials']} matrices each; "
                                   f"c0 = {LEMMA3_C0_FACTOR} x 2K/sqrt 3 fixed for every n",
            N=worst["n"], measured=worst["norm_max"], bound=c0, verdict="holds" if holds else "fails",
            note=f"largest ||B||_2 over all {sum(r['trials'] for r in sel)} matrices: "
                 f"{worst['norm_max']:.4g} at ({worst['n1']}, {worst['n2']}) < c0 = {c0:.4g} "
                 f"({exceed} rows exceed it); delta0 at this c0 from the edge + TW_1 tail: "
                 f"{min(deltas):.3g} to {max(deltas):.3g} over the rows, tending to "
                 f"{square_limit:.3g} for square B (bounded away from 0, as the lemma needs). The "
                 f"proof's c0 = 2K(C+1)/sqrt 3 is larger still (C >= 1 in Lemma 2)",
            extra=dict(check="lemma3_fixed_c0", K=K, c0=c0, rows_exceeding=exceed,
                       delta0_min=min(deltas), delta0_square_limit=square_limit)))
    if rows4:
        worst = max(rows4, key=lambda r: r["C_min"])
        trend = []
        for dist in sorted({r["dist"] for r in rows4}):
            for alpha in sorted({r["alpha"] for r in rows4 if r["dist"] == dist},
                                key=lambda a: -1 if a is None else a):
                sel = sorted((r for r in rows4 if r["dist"] == dist and r["alpha"] == alpha),
                             key=lambda r: r["d"])
                if len(sel) >= 2:
                    trend.append(sel[-1]["C_min"] - sel[0]["C_min"])
        grows = max(trend) if trend else 0.0
        out.append(Verdict(
            claim=LEMMA_4, setting=f"(13) on d x d matrices, d in [{min(r['d'] for r in rows4)}, "
                                   f"{max(r['d'] for r in rows4)}], {len(rows4)} (d, law, alpha) rows "
                                   "(the Table 3 rows)",
            N=worst["d"], measured=worst["C_min"], interval=worst["C_min_ci"], bound=None,
            verdict="holds" if grows <= LATALA_GROWTH_TOLERANCE else "inconclusive",
            note=f"C_min = E||A||_2 / (bracket of (13)) is at most {worst['C_min']:.4g} on every row "
                 f"(at d={worst['d']}, {worst['dist']}); its largest change from the smallest to the "
                 f"largest d within one law is {grows:+.3g} ('holds' needs <= "
                 f"{LATALA_GROWTH_TOLERANCE}: no row asks for a C growing with d). "
                 "Latala's theorem is published; finitely many matrices cannot refute a universal C, "
                 "only show how large it must be",
            extra=dict(check="latala_universal_C", largest_change_with_d=grows)))
    if rows3:
        cells = [(r, q) for r in rows3 for q in QUANTILES]
        resolvable = sum(r["trials"] * (1 - q) >= MIN_EXCEEDANCES for r, q in cells)
        worst = max(rows3, key=lambda r: abs(r["mean_offset_tw"]))
        out.append(Verdict(
            claim=TABLE_2, setting=f"Table 2 reproduced: {len(rows3)} (n1, n2, K) rows, "
                                   f"{rows3[0]['trials']} matrices each, q in {list(QUANTILES)}",
            N=max(r["n"] for r in rows3), measured=resolvable / len(cells), bound=None,
            verdict="inconclusive",
            note=f"the printed rows are withheld in our copy, so the reproduced table (records of this "
                 f"Result) cannot be compared with them. With {rows3[0]['trials']} matrices only "
                 f"{resolvable} of {len(cells)} (row, q) cells have >= {MIN_EXCEEDANCES} expected "
                 f"exceedances (measured: that fraction): c0 at q = 99.9% and 99.99% cannot be read "
                 f"off 1000 matrices (here TW-extrapolated). Our Monte Carlo means sit within "
                 f"{abs(worst['mean_offset_tw']):.3g} TW units of the edge + TW_1 prediction. "
                 "Deciding it: the printed rows against the c0_mc intervals of results/qian_klabjan.csv",
            extra=dict(check="table2_reproduced")))
    return out


# ----------------------------------------------------------------------------------------------
# the experiment and its CLI

def run(config: Config = Config(), *, argv: list[str] | None = None, progress: bool = True) -> Result:
    """Tables 2 and 3 and their verdicts.  ``argv``: the command-line arguments when called from the
    CLI (kept in the provenance); None from Python."""
    cfg = config.validate()
    device, prov = ExperimentRun(MODULE, None, argv=argv, device=cfg.device, seed=cfg.seed).start()
    t4 = max(20, cfg.trials // 2)
    rows3 = (lemma3_table(cfg.sizes, trials=cfg.trials, seed=cfg.seed, device=device, progress=progress)
             if cfg.only != "lemma4" else [])
    rows4 = (lemma4_table(cfg.sizes, trials=t4, seed=cfg.seed, device=device, kept=cfg.kept,
                          progress=progress) if cfg.only != "lemma3" else [])
    return Result(experiment=MODULE, config=dict(asdict(cfg), lemma4_trials=t4, quantiles=QUANTILES,
                                                 lemma3_Ks=LEMMA3_KS, lemma4_alphas=LEMMA4_ALPHAS),
                  provenance=prov.stop(), records=[{"table": "lemma3", **r} for r in rows3],
                  tables={"lemma4": [{"table": "lemma4", **r} for r in rows4]},
                  verdicts=table_verdicts(rows3, rows4))


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = make_parser(MODULE, __doc__, options=("seed", "device", "json", "quick", "threads"))
    p.add_argument("--trials", type=int, default=None,
                   help="matrices per Table 2 row, in [20, 1000000] (default 1000, --quick 100; "
                        "Table 3 uses half)")
    p.add_argument("--only", choices=("lemma3", "lemma4"), default=None, help="one table only")
    p.add_argument("--kept", action="store_true",
                   help="add the eq. (19) 'kept' rows to Table 3 (only floor(d^(2-alpha)) entries nonzero)")

    def body(args) -> Result:
        base = Config.quick() if args.quick else Config()
        overrides = dict(seed=args.seed, device=args.device, only=args.only, kept=args.kept)
        if args.trials is not None:
            overrides["trials"] = args.trials
        return run(replace(base, **overrides), argv=argv)

    return cli_run(p, argv, body)


if __name__ == "__main__":
    sys.exit(main())
