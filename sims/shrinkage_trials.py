"""One matrix of ``sims.shrinkage``: the errors of every shrinkage rule on W = R + S in each norm
(``lemma_trial``), the edge-based rules that need the whole spectrum (``edge_trial``), and the sizes
of a run (``LemmaConfig``, ``shape_for``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from sims.linalg import top_singular_triplets
from sims.noise import spiked_matrix
from theory import shrinkage as sh
from theory import shrinkage_symbolic as ss
from theory import spiked

RULES = ("truncate", "gd_threshold", "frobenius", "operator", "nuclear", "debias")
EDGE_RULES = sh.RULES            # the contract's rules, incl. OptShrink (needs the whole spectrum)
NORMS = ss.NORMS


@dataclass
class LemmaConfig:
    ratios: tuple = (1.0, 0.25, 4.0)
    multiples: tuple = (1.3, 2.0, 4.0)          # spikes = c^{1/4} * multiples
    sizes: tuple = (1000, 2000, 4000, 8000)     # max(N, M)
    trials: dict = field(default_factory=lambda: {1000: 40, 2000: 30, 4000: 16, 8000: 8})
    edge_sizes: tuple = (500, 1000)             # dense-SVD study of the exact-edge rules
    edge_trials: dict = field(default_factory=lambda: {500: 60, 1000: 40})
    seed: int = 0
    family_level: float = 0.95                  # simultaneous level of the lemma verdicts


def shape_for(size: int, ratio: float) -> tuple[int, int]:
    """(N, M) with max(N, M) = size and M/N = ratio."""
    return (size, int(round(ratio * size))) if ratio <= 1 else (int(round(size / ratio)), size)


# ------------------------------------------------------------------------------------- one matrix
def error_norms(U, eta, V, theta, r_s) -> tuple[float, float]:
    """(||E||_2, ||E||_F) of E = U diag(eta) V^T - sum_i theta_i e_i e_i^T, through the 2r x 2r core
    of E on the spans of [U, e_1..e_r] and [V, e_1..e_r]."""
    N, M = U.shape[0], V.shape[0]
    keep = eta != 0
    U, V, eta = U[:, keep], V[:, keep], eta[keep]
    L = np.concatenate([U, np.eye(N, r_s)], axis=1)
    R = np.concatenate([V, np.eye(M, r_s)], axis=1)
    QL, RL = np.linalg.qr(L)
    QR, RR = np.linalg.qr(R)
    core = RL @ np.diag(np.concatenate([eta, -theta])) @ RR.T
    sv = np.linalg.svd(core, compute_uv=False)
    return float(sv[0]), float(np.sqrt(np.sum(sv**2)))


def lemma_trial(theta, N: int, M: int, seed: int, trial: int, device) -> dict:
    """One matrix: the r outlier triplets (engine), each rule applied to them (bulk dropped), and
    ||W_eta - S|| in both norms."""
    smp = spiked_matrix(theta, N, M, seed=seed, trials=[trial], device=device)
    r = len(theta)
    U, s, V = top_singular_triplets(smp.W[0], r, dtype=torch.float64)
    U, s, V = (t.cpu().numpy().astype(np.float64) for t in (U, s, V))
    th = smp.theta.numpy()
    beta = min(N, M) / max(N, M)
    unit = math.sqrt(max(N, M) / N)          # noise_sigma = 1/sqrt(N) in the papers' units
    out = {"trial": trial, "s": s.tolist()}
    for rule in RULES:
        eta = unit * np.asarray(ss.rule_eta(s / unit, beta, rule), dtype=float)
        op, fro = error_norms(U, eta, V, th, r)
        out[rule] = {"operator": op, "frobenius": fro, "kept": int(np.count_nonzero(eta))}
    return out


def edge_trial(theta, N: int, M: int, seed: int, trial: int) -> dict:
    """One matrix, dense SVD: every rule of the contract on ALL singular values (threshold at the
    MP edge itself), ||W_eta - S|| and how many bulk values (beyond the r outliers) were kept."""
    smp = spiked_matrix(theta, N, M, seed=seed, trials=[trial])
    W = smp.W[0].numpy()
    Uf, s, Vt = np.linalg.svd(W, full_matrices=False)
    th = smp.theta.numpy()
    r = len(theta)
    edge = spiked.edge(M / N)
    out = {"trial": trial, "s_r1_minus_edge": float(s[r] - edge)}
    for rule in EDGE_RULES:
        new = sh.shrink_singular_values(s, N, M, rule, noise_sigma=1 / math.sqrt(N))
        op, fro = error_norms(Uf, new, Vt.T, th, r)
        out[rule] = {"operator": op, "frobenius": fro,
                     "bulk_kept": int(np.count_nonzero(new[r:])), "kept": int(np.count_nonzero(new))}
    return out
