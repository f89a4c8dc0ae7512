"""Lemma 4 (Latala's bound) and Table 3 of paper 004 in ``sims.qian_klabjan``: E||A||_2 against the
three terms of Latala's inequality for dense and masked (pruned) random matrices, and the smallest
constant C the samples allow.
"""
from __future__ import annotations

import math
import sys

import numpy as np
import torch

from core.cli import progress as progress_bar
from sims.device import trial_generator
from sims.noise import sample_noise
from sims.qian_klabjan_norms import row_seed, spectral_norms
from sims.stats import mean_ci

LEMMA4_SIZES = (32, 64, 128, 256, 512)
LEMMA4_ALPHAS = (0.01, 0.1, 0.5)


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
    rseed = row_seed(seed, 4, row)
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
