"""Exact-in-distribution banded sampler of the Gaussian spiked model W = R + S (paper 000, (4.6)).

R is N x M with iid N(0, sigma^2 / N) entries, S = sum_{i<=r} theta_i u_i v_i^T with orthonormal u_i,
v_i. The statistics the spiked-model checks use -- the singular values of W, the overlaps
<u_j(W), u_i> and <v_j(W), v_i> with the spike vectors, and functions of them such as
||W_r - S||_2 (W_r the rank-r truncation) -- are invariant under W -> P W Q^T for orthogonal P, Q that
fix every u_i and v_i. This module samples, with O(N r) random numbers, a banded matrix B whose
joint law of those statistics is EXACTLY that of W (not an approximation): B is block tridiagonal
with blocks of size <= r,

        [ Theta + D_1   L_1                          ]
        [ T_1           D_2     L_2                  ]
    B = [               T_2     D_3     L_3          ]   (the spike vectors are e_1..e_r on both sides)
        [                       T_3     D_4    ...   ]

with independent blocks (all entries scaled by sigma / sqrt(N)): D_k iid N(0, 1); L_k lower
triangular with L_k[i, i] ~ chi_{m_k - i} and N(0, 1) below the diagonal; T_k upper triangular with
T_k[i, i] ~ chi_{n_k - i} and N(0, 1) above; m_k (n_k) = the number of columns (rows) not yet used.

Derivation. Rotate first so that u_i = e_i, v_i = e_i (R is invariant under W -> O_1^T W O_2, so R
stays iid Gaussian and S becomes diag(theta) in the top-left corner). Write
W = [[Theta + R_11, R_12], [R_21, R_22]] with R_11 r x r. Take the LQ factorisation R_12 = [L_1, 0] P_1^T
(P_1 orthogonal on the last M - r columns, a function of R_12 only) and the QR factorisation
R_21 = Q_1 [T_1; 0] (Q_1 orthogonal on the last N - r rows, a function of R_21 only). Then
diag(I, Q_1)^T W diag(I, P_1) = [[Theta + R_11, L_1, 0], [T_1, G], [0, G']] with [G; G'] = Q_1^T R_22 P_1:
given (R_12, R_21), Q_1 and P_1 are fixed orthogonal matrices and R_22 is independent of them, so
Q_1^T R_22 P_1 is again an iid Gaussian matrix, independent of (R_11, L_1, T_1). The triangular
factors of a Gaussian matrix have Bartlett's law (independent chi_{n - i} on the diagonal, iid
N(0, 1) off it; e.g. Muirhead 1982, Thm 3.2.14), the same fact on which Dumitriu & Edelman (2002,
J. Math. Phys. 43, 5830) build the bidiagonal beta-ensembles (the case r = 1 without spikes, where
no coordinate must be kept and Householder steps alternate to give a bidiagonal matrix). Repeat on
the trailing Gaussian matrix [G; G'] (its first r rows and columns become D_2 and are kept), a block
Householder reduction that never touches the first r rows or columns: every transformation fixes
e_1..e_r on both sides, so singular values and the first r coordinates of every singular vector are
unchanged. Because BOTH spike subspaces must be fixed, the first block column keeps T_1 below the
corner and the first block row keeps L_1 right of it: the reduced form is block TRIDIAGONAL (block
bidiagonal would need a transformation mixing the first r rows with the others). Rectangular shapes:
the blocks shrink to trapezoids when fewer than r rows or columns remain (Bartlett for a p x n
Gaussian with p > n), and the rows (columns) that QR (LQ) zeroes are dropped: they do not affect the
nonzero singular triplets. So B has about min(N, M) + r rows and columns.

Statistics from B: the top r triplets by sparse Lanczos (scipy.sparse.linalg.svds) with a Wedin
certificate (residual / gap, as sims.linalg); overlaps are the first r coordinates of the singular
vectors; ||W_r - S||_2 = ||[U, E] diag(s, -theta) [V, E]^T||_2 needs only the Gram matrices of
[U, E] and [V, E], i.e. U[:r] and V[:r] (``truncation_error``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds

from core.validate import InvalidArgument, check_float, check_int

__all__ = ["banded_spiked", "top_triplets", "truncation_error", "one_trial", "TrialStats"]


def _block_sizes(r: int, n_rows: int, n_cols: int):
    """Row sizes rho_k, column sizes c_k of the blocks, and the rows/columns still free when T_k /
    L_k are formed (the chi degrees of freedom)."""
    rho, col = [r], [r]
    n_free, m_free = [], []
    rows_left, cols_left = n_rows - r, n_cols - r
    while True:
        c_next = min(rho[-1], cols_left)  # L_k: LQ of a rho_k x cols_left Gaussian
        r_next = min(col[-1], rows_left)  # T_k: QR of a rows_left x c_k Gaussian
        m_free.append(cols_left)
        n_free.append(rows_left)
        if c_next == 0 and r_next == 0:
            break
        cols_left -= c_next
        rows_left -= r_next
        rho.append(r_next)
        col.append(c_next)
    return np.array(rho), np.array(col), np.array(n_free), np.array(m_free)


def banded_spiked(theta, n_rows: int, n_cols: int, rng: np.random.Generator,
                  var_scale: float = 1.0) -> sparse.csr_matrix:
    """The banded matrix B of the module docstring (spike vectors e_1..e_r on both sides)."""
    th = np.sort(np.asarray(theta, dtype=float).ravel())[::-1]
    r = th.size
    K = None
    rho, col, n_free, m_free = _block_sizes(r, n_rows, n_cols)
    K = rho.size  # diagonal blocks D_1..D_K; L_k, T_k for k = 1..K-1 (and a last T/L if sizes allow)
    scale = np.sqrt(var_scale / n_rows)
    row_off = np.concatenate([[0], np.cumsum(rho)])
    col_off = np.concatenate([[0], np.cumsum(col)])
    i, j = np.meshgrid(np.arange(r), np.arange(r), indexing="ij")
    rows_all, cols_all, vals_all = [], [], []

    # D_k: rho_k x c_k Gaussian
    D = rng.standard_normal((K, r, r))
    D[0][np.arange(r), np.arange(r)] += th / scale
    mask = (i[None] < rho[:, None, None]) & (j[None] < col[:, None, None])
    k_idx = np.broadcast_to(np.arange(K)[:, None, None], mask.shape)
    rows_all.append((row_off[k_idx] + i[None])[mask])
    cols_all.append((col_off[k_idx] + j[None])[mask])
    vals_all.append(D[mask])

    if K > 1:
        k = np.arange(K - 1)
        # L_k (block row k, block column k+1): rho_k x c_{k+1}, lower trapezoidal
        L = rng.standard_normal((K - 1, r, r))
        diag_dof = m_free[k][:, None] - np.arange(r)[None, :]
        on = np.arange(r)[None, :] < col[k + 1][:, None]
        L[:, np.arange(r), np.arange(r)] = np.where(on, np.sqrt(rng.chisquare(np.maximum(diag_dof, 1))), 0.0)
        mask = (i[None] < rho[k][:, None, None]) & (j[None] < col[k + 1][:, None, None]) & (j[None] <= i[None])
        kk = np.broadcast_to(k[:, None, None], mask.shape)
        rows_all.append((row_off[kk] + i[None])[mask])
        cols_all.append((col_off[kk + 1] + j[None])[mask])
        vals_all.append(L[mask])
        # T_k (block row k+1, block column k): rho_{k+1} x c_k, upper trapezoidal
        T = rng.standard_normal((K - 1, r, r))
        diag_dof = n_free[k][:, None] - np.arange(r)[None, :]
        on = np.arange(r)[None, :] < rho[k + 1][:, None]
        T[:, np.arange(r), np.arange(r)] = np.where(on, np.sqrt(rng.chisquare(np.maximum(diag_dof, 1))), 0.0)
        mask = (i[None] < rho[k + 1][:, None, None]) & (j[None] < col[k][:, None, None]) & (j[None] >= i[None])
        rows_all.append((row_off[kk + 1] + i[None])[mask])
        cols_all.append((col_off[kk] + j[None])[mask])
        vals_all.append(T[mask])

    rows = np.concatenate(rows_all)
    cols = np.concatenate(cols_all)
    vals = np.concatenate(vals_all) * scale
    shape = (int(row_off[-1]), int(col_off[-1]))
    return sparse.csr_matrix((vals, (rows, cols)), shape=shape)


def top_triplets(B, r: int, tol: float = 1e-8):
    """Top r singular triplets of the sparse B: (s (r,), U (n, r), V (m, r)), certified: raises if
    max_i ||B^T u_i - s_i v_i|| / gap_i > tol (Wedin; gap to the other computed values and the
    (r+1)-th)."""
    k = min(r + 1, min(B.shape) - 1)
    U, s, Vt = svds(B, k=k, tol=1e-13, random_state=0)
    order = np.argsort(s)[::-1]
    s, U, V = s[order], U[:, order], Vt[order].T
    resid = np.maximum(np.linalg.norm(B.T @ U - V * s, axis=0), np.linalg.norm(B @ V - U * s, axis=0))
    gaps = np.abs(s[:, None] - s[None, :]) + np.diag(np.full(k, np.inf))
    gap = gaps.min(axis=1)[:r]
    bound = resid[:r] / gap
    if not np.all(bound <= tol):
        raise RuntimeError(f"sparse SVD not certified: residual/gap {bound.max():.3g} > {tol}")
    signs = np.sign(V[np.argmax(np.abs(V), axis=0), np.arange(k)])
    return s[:r], (U * signs)[:, :r], (V * signs)[:, :r]


def truncation_error(s, U_head, V_head, theta) -> float:
    """||W_r - S||_2, W_r = U diag(s) V^T (rank r), S = E diag(theta) E^T (E = first r unit vectors):
    the norm of the 2r x 2r core after orthonormalising [U, E] and [V, E] through their Gram matrices
    [[I, U_head^T], [U_head, I]] (U_head = U[:r], the only coordinates needed)."""
    r = len(s)
    core = np.diag(np.concatenate([s, -np.asarray(theta, dtype=float)]))

    def factor(head):
        gram = np.block([[np.eye(r), head.T], [head, np.eye(r)]])
        w, Q = np.linalg.eigh(gram)  # gram = Q w Q^T >= 0 (rank-deficient when u_i in span E)
        return Q * np.sqrt(np.maximum(w, 0.0))  # F with F F^T = gram

    Fu, Fv = factor(U_head), factor(V_head)
    return float(np.linalg.norm(Fu.T @ core @ Fv, 2))


@dataclass
class TrialStats:
    s: np.ndarray           # top r singular values, descending
    u_overlap: np.ndarray   # |<u_i(W), u_i>|^2, i = 1..r
    v_overlap: np.ndarray   # |<v_i(W), v_i>|^2
    opnorm: float           # ||W_r - S||_2


def one_trial(theta, n_rows: int, n_cols: int, seed: int, trial: int, var_scale: float = 1.0,
              tol: float = 1e-8) -> TrialStats:
    """One draw of the Gaussian spiked model through the banded form (generator seeded by (seed, trial))."""
    th = np.sort(np.asarray(theta, dtype=float).ravel())[::-1]
    n_rows = check_int("n_rows", n_rows, 2)
    n_cols = check_int("n_cols", n_cols, 2)
    check_float("var_scale", var_scale, 0.0, None, lo_open=True)
    if th.size == 0 or not np.all(np.isfinite(th)) or np.any(th <= 0) or np.unique(th).size != th.size:
        raise InvalidArgument(f"theta must be distinct finite values > 0, got {th.tolist()}")
    if th.size >= min(n_rows, n_cols):
        raise InvalidArgument(f"theta holds {th.size} spikes; must be < min(n_rows, n_cols) = "
                              f"{min(n_rows, n_cols)}")
    rng = np.random.default_rng([int(seed), int(trial)])
    B = banded_spiked(th, n_rows, n_cols, rng, var_scale)
    r = th.size
    s, U, V = top_triplets(B, r, tol)
    U_head, V_head = U[:r], V[:r]
    return TrialStats(s=s, u_overlap=np.diag(U_head) ** 2, v_overlap=np.diag(V_head) ** 2,
                      opnorm=truncation_error(s, U_head, V_head, th))
