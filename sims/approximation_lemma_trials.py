"""One Monte Carlo trial of ``sims.approximation_lemma``: W = R + S (R of the chosen noise, S diagonal),
its truncation W' at sqrt(lambda+) + eps ((B.4)), and per trial ||W' - S||_2, ||(W' - S) z|| for
the fixed test vectors z of (B.5), and the overlaps of Fig B.1; the spike sets the paper uses.
"""
from __future__ import annotations

import numpy as np
import torch

from sims.device import trial_generator
from sims.linalg import ConvergenceError, top_singular_triplets
from sims.noise import sample_noise
from theory import approximation_symbolic as derived


PAPER_SPIKES = (30.0, 40.0, 50.0, 60.0, 70.0)   # Example 4.2 / Fig 4.3
MODERATE_SPIKES = (2.0, 3.0, 5.0)                # where (4.24) and the true limit differ clearly
DEFAULT_EPS = 0.1
B5_EPS = 0.05                                    # the (1 + eps) slack of (B.5) in the verdict


# ---------------------------------------------------------------------------------------------
def noise_matrix(kind: str, n_rows: int, n_cols: int, gen, device, dtype) -> torch.Tensor:
    return sample_noise(kind, 1, n_rows, n_cols, 1.0, gen, device, dtype)[0]


def truncate(W: torch.Tensor, threshold: float, n_spikes: int):
    """Triplets of W with singular value above ``threshold`` ((B.4)).

    Only the top r = rank(S) can be outliers: by Weyl, sigma_{r+1}(R + S) <= ||R||_2, which tends
    to the edge a.s. (Assumption 4.1), below edge + eps.  So the r leading triplets suffice
    (certified block Krylov, ``sims.linalg``).  When a spike sits at or below the edge its triplet
    has no gap and cannot be certified: then the exact dense SVD is used instead."""
    k = min(n_spikes, min(W.shape))
    try:
        U, s, V = top_singular_triplets(W, k)
    except ConvergenceError:
        U, s, Vh = torch.linalg.svd(W, full_matrices=False)
        U, s, V = U[:, :k], s[:k], Vh[:k].T
    keep = s > threshold
    return U[:, keep], s[keep], V[:, keep]


def _opnorm_low_rank(A: torch.Tensor, c: torch.Tensor, B: torch.Tensor) -> float:
    """||A diag(c) B^T||_2 through thin QR of A and B (rank <= columns of A)."""
    Qa, Ra = torch.linalg.qr(A)
    Qb, Rb = torch.linalg.qr(B)
    return float(torch.linalg.matrix_norm((Ra * c) @ Rb.T, ord=2))


def test_vectors(n_cols: int, n_spikes: int, seed: int, dtype=torch.float64) -> dict:
    """The fixed z's of (B.5), drawn independently of R (own generator, same for every trial)."""
    gen = torch.Generator().manual_seed(10_000_019 + seed)
    rand = torch.randn(n_cols, generator=gen, dtype=dtype)
    rand /= rand.norm()
    eye = torch.eye(n_cols, n_spikes, dtype=dtype)
    zs = {f"v{i + 1}": eye[:, i] for i in range(n_spikes)}
    zs["random"] = rand
    weakest = eye[:, -1]           # spikes are stored in decreasing order: v_r is the last
    mix = weakest + rand
    zs["mix_vr_random"] = mix / mix.norm()
    zs["mix_all_v"] = eye.sum(1) / n_spikes**0.5
    return zs


def ideal_coefficients(n_spikes: int) -> dict:
    """<v_i, z> of each test vector as N -> infinity (a random unit z is asymptotically
    orthogonal to every v_i), which is what the a.s. limits use."""
    eye = np.eye(n_spikes)
    out = {f"v{i + 1}": eye[i] for i in range(n_spikes)}
    out["random"] = np.zeros(n_spikes)
    out["mix_vr_random"] = eye[-1] / np.sqrt(2)
    out["mix_all_v"] = np.ones(n_spikes) / np.sqrt(n_spikes)
    return out


def one_trial(N: int, M: int, thetas: np.ndarray, noise: str, seed: int, trial: int,
              device: torch.device, eps: float, zs: dict) -> dict:
    """One matrix: outliers kept, ||W'-S||_2, ||(W'-S)z|| for each z, overlaps."""
    dtype = torch.float64
    gen = trial_generator(seed, trial, device)
    W = noise_matrix(noise, N, M, gen, device, dtype)
    r = len(thetas)
    th = torch.as_tensor(thetas, dtype=dtype, device=device)
    idx = torch.arange(r, device=device)
    W[idx, idx] += th
    threshold = derived.edge(M / N) + eps
    U, s, V = truncate(W, threshold, r)
    eyeN = torch.eye(N, r, dtype=dtype, device=device)
    eyeM = torch.eye(M, r, dtype=dtype, device=device)
    A = torch.cat([U, eyeN], 1)
    B = torch.cat([V, eyeM], 1)
    c = torch.cat([s, -th])
    out = {"opnorm": _opnorm_low_rank(A, c, B), "n_kept": int(s.numel()),
           "sv": s.cpu().numpy().tolist()}
    for name, z in zs.items():
        z = z.to(device)
        out["z_" + name] = float((A @ (c * (B.T @ z))).norm())
    # overlaps |<u_i,u'_i>|, |<v_i,v'_i>| for the outliers matched in order (Fig B.1)
    k = min(r, s.numel())
    out["u_overlap"] = U[:r, :k].diagonal().abs().cpu().numpy().tolist() if k else []
    out["v_overlap"] = V[:r, :k].diagonal().abs().cpu().numpy().tolist() if k else []
    return out
