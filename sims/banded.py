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

Statistics from B (stored as ``sims.block_tridiagonal.BlockTridiagonal``: three stacks of r x r
blocks, zero-padded to whole blocks, products by batched matmul, no sparse build): the top r
triplets by block Krylov (``sims.block_krylov``) with a Wedin certificate eta / gap <= tol whose gap
below s_r is a proven lower bound: sigma_{r+1}(B) <= ||B_r||_2 (B_r = B with its first r rows, the
spike rows, set to zero; Weyl, since B - B_r has rank r), and ||B_r||_2 < t is proven by Schur's
test (sqrt(max row abs-sum * max column abs-sum), nearly sharp for this B) or else by a banded
Cholesky factorisation of t^2 I - B_r^T B_r.  So the (r+1)-th singular value, which sits at the bulk
edge and converges slowly, is never computed.  When s_r itself is an edge value (a spike below
the detection threshold), Krylov cannot certify it in reasonable time at large N; after
``krylov_steps`` block steps the unconverged trailing triplets are refined one by one by
shift-and-invert subspace iteration on the banded B^T B (``sims.shift_invert``: banded LU,
O(N r^2)), with sims.linalg's estimated gap (``info.gap_certified`` False).  Overlaps are the first r coordinates of the singular
vectors; ||W_r - S||_2 = ||[U, E] diag(s, -theta) [V, E]^T||_2 needs only the Gram matrices of
[U, E] and [V, E], i.e. U[:r] and V[:r] (``truncation_error``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.validate import InvalidArgument, check_float, check_int
from sims.block_krylov import KrylovInfo, top_triplets as _krylov_top
from sims.block_tridiagonal import BlockTridiagonal
from sims.linalg import ConvergenceError
from sims.shift_invert import refine_trailing

__all__ = ["banded_spiked", "top_triplets", "truncation_error", "one_trial", "TrialStats",
           "check_theta"]


def _block_sizes(r: int, n_rows: int, n_cols: int):
    """Row sizes rho_k, column sizes c_k of the blocks, and the rows/columns still free when T_k /
    L_k are formed (the chi degrees of freedom).  While r rows and r columns remain, every step
    uses r of each (closed form); the last few steps, where blocks shrink, are iterated."""
    full = max(0, min(n_rows - r, n_cols - r) // r)   # steps with c_next = r_next = r
    k = np.arange(full)
    rho, col = [r] * (full + 1), [r] * (full + 1)
    n_free = list(n_rows - r - r * k)
    m_free = list(n_cols - r - r * k)
    rows_left, cols_left = n_rows - r - r * full, n_cols - r - r * full
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
                  var_scale: float = 1.0) -> BlockTridiagonal:
    """The banded matrix B of the module docstring (spike vectors e_1..e_r on both sides), padded
    with zero rows/columns to whole r x r blocks."""
    th = np.sort(np.asarray(theta, dtype=float).ravel())[::-1]
    r = th.size
    rho, col, n_free, m_free = _block_sizes(r, n_rows, n_cols)
    K = rho.size  # diagonal blocks D_1..D_K; L_k, T_k for k = 1..K-1
    scale = np.sqrt(var_scale / n_rows)
    ar = np.arange(r)
    rows_on = ar[None, :] < rho[:, None]          # (K, r): row i of block row k exists
    cols_on = ar[None, :] < col[:, None]
    # D_k: rho_k x c_k Gaussian (the draw order is that of the first, CSR-building version)
    D = rng.standard_normal((K, r, r))
    D[0][ar, ar] += th / scale
    D *= rows_on[:, :, None] & cols_on[:, None, :]
    L = np.zeros((max(K - 1, 0), r, r))
    T = np.zeros_like(L)
    if K > 1:
        k = np.arange(K - 1)
        # L_k (block row k, block column k+1): rho_k x c_{k+1}, lower trapezoidal, chi diagonal
        L = rng.standard_normal((K - 1, r, r))
        dof = m_free[k][:, None] - ar[None, :]
        L[:, ar, ar] = np.where(cols_on[1:], np.sqrt(rng.chisquare(np.maximum(dof, 1))), 0.0)
        L = np.tril(L) * (rows_on[:-1, :, None] & cols_on[1:, None, :])
        # T_k (block row k+1, block column k): rho_{k+1} x c_k, upper trapezoidal
        T = rng.standard_normal((K - 1, r, r))
        dof = n_free[k][:, None] - ar[None, :]
        T[:, ar, ar] = np.where(rows_on[1:], np.sqrt(rng.chisquare(np.maximum(dof, 1))), 0.0)
        T = np.triu(T) * (rows_on[1:, :, None] & cols_on[:-1, None, :])
    D *= scale
    L *= scale
    T *= scale
    return BlockTridiagonal(D, L, T, triangular=True)


def _norm_below_test(B: BlockTridiagonal, skip: int):
    """t -> whether ||B_skip||_2 < t is proven (B without its first ``skip`` rows): Schur's test
    first (one pass, nearly sharp here), the banded Cholesky when it is not enough; both cached."""
    band = {}

    def below(t: float) -> bool:
        if "schur" not in band:
            band["schur"] = B.schur_bound(skip_rows=skip)
        if band["schur"] * (1 + 1e-12) < t:
            return True
        if "ab" not in band:
            band["ab"] = B.gram_band(skip_rows=skip)
        return B.norm_below(t, band=band["ab"].copy())
    return below


def top_triplets(B: BlockTridiagonal, r: int, tol: float = 1e-6, edge: float = 0.0, seed: int = 0,
                 krylov_steps: int = 30, oversample: int = 3):
    """Top r singular triplets of B (s (r,), U, V, KrylovInfo), certified eta/gap <= tol with the
    gap below s_r bounded through ||B_r||_2 (module docstring); ``edge``: where sigma_{r+1} is
    expected (the noise's bulk edge), used only to place the trial bounds.

    Triplets that block Krylov does not certify within ``krylov_steps`` block steps (those at or
    near the bulk edge: a spike below or near the detection threshold) are refined one by one by
    shift-and-invert on the banded B^T B (``sims.shift_invert``); their gaps are then estimated
    from the converged next value, as in sims.linalg (``info.gap_certified`` is False)."""
    try:
        return _krylov_top(B, r, tol=tol, seed=seed, upper_bound=_norm_below_test(B, r),
                           lower_hint=edge,
                           max_iter=krylov_steps, oversample=oversample)
    except ConvergenceError as err:
        partial = err.partial
    lam, V = partial["lam"], partial["V"]
    s = np.sqrt(lam)
    AV = B.rmatmat(B.matmat(V))
    eta = np.linalg.norm(AV - V * lam, axis=0) / s
    gap_est = np.minimum(np.concatenate([[np.inf], s[:-2] - s[1:-1]]), s[:-1] - s[1:])
    n_done = 0
    while n_done < r and eta[n_done] <= tol * gap_est[n_done]:
        n_done += 1
    lam_r, V_r, eta_r, gap_r, steps = refine_trailing(B, lam, V, n_done, r, tol)
    gap = np.concatenate([gap_est[:n_done], gap_r])
    # the refined values may move the gaps of the converged ones below them: recheck
    s_r = np.sqrt(lam_r)
    gap[:n_done] = np.minimum(gap[:n_done], np.concatenate([s_r[:n_done] - s_r[1:n_done + 1]]))
    Y = B.matmat(V_r)
    s_f = np.linalg.norm(Y, axis=0)
    U = Y / s_f
    resid = np.linalg.norm(B.rmatmat(U) - V_r * s_f, axis=0)
    if not np.all(resid <= tol * gap):
        raise ConvergenceError(f"top_triplets: refined triplets not certified: eta/gap = "
                               f"{np.max(resid / gap):.3g} > tol = {tol:.3g}", info=None)
    idx = np.argmax(np.abs(V_r), axis=0)
    sign = np.sign(V_r[idx, np.arange(r)])
    sign[sign == 0] = 1.0
    info = KrylovInfo(resid, gap, resid / gap, np.minimum(resid, resid ** 2 / gap), False,
                      float("nan"), partial["iterations"] + steps, partial["products"], V.shape[1],
                      tol)
    return s_f, U * sign, V_r * sign, info


def truncation_error(s, U_head, V_head, theta) -> float:
    """||W_r - S||_2, W_r = U diag(s) V^T (rank r), S = E diag(theta) E^T (E = first r unit vectors):
    the norm of the 2r x 2r core after orthonormalising [U, E] and [V, E] through their Gram matrices
    [[I, U_head^T], [U_head, I]] (U_head = U[:r], the only coordinates needed)."""
    r = len(s)
    core = np.diag(np.concatenate([s, -np.asarray(theta, dtype=float)]))
    Fu, Fv = _gram_factor(U_head), _gram_factor(V_head)
    return float(np.linalg.norm(Fu.T @ core @ Fv, 2))


def _gram_factor(head):
    """F with F F^T = Gram of [U, E] = [[I, head^T], [head, I]] (PSD; rank-deficient when some u_i
    lies in span E)."""
    k, r = head.shape[1], head.shape[0]
    gram = np.block([[np.eye(k), head.T], [head, np.eye(r)]])
    w, Q = np.linalg.eigh(gram)
    return Q * np.sqrt(np.maximum(w, 0.0))


@dataclass
class TrialStats:
    s: np.ndarray           # top r singular values, descending
    u_overlap: np.ndarray   # |<u_i(W), u_i>|^2, i = 1..r
    v_overlap: np.ndarray   # |<v_i(W), v_i>|^2
    opnorm: float           # ||W_r - S||_2
    U_head: np.ndarray      # <u_i, u_j(W)>: the (r, r) head of the left singular vectors
    V_head: np.ndarray
    info: KrylovInfo


def check_theta(theta, n_rows: int, n_cols: int) -> np.ndarray:
    """Spikes as a descending float array, validated (distinct, finite, > 0, fewer than min(N, M))."""
    th = np.sort(np.asarray(theta, dtype=float).ravel())[::-1]
    if th.size == 0 or not np.all(np.isfinite(th)) or np.any(th <= 0) or np.unique(th).size != th.size:
        raise InvalidArgument(f"theta must be distinct finite values > 0, got {th.tolist()}")
    if th.size >= min(n_rows, n_cols):
        raise InvalidArgument(f"theta holds {th.size} spikes; must be < min(n_rows, n_cols) = "
                              f"{min(n_rows, n_cols)}")
    return th


def one_trial(theta, n_rows: int, n_cols: int, seed: int, trial: int, var_scale: float = 1.0,
              tol: float = 1e-6) -> TrialStats:
    """One draw of the Gaussian spiked model through the banded form (generator seeded by (seed, trial))."""
    n_rows = check_int("n_rows", n_rows, 2)
    n_cols = check_int("n_cols", n_cols, 2)
    check_float("var_scale", var_scale, 0.0, None, lo_open=True)
    th = check_theta(theta, n_rows, n_cols)
    rng = np.random.default_rng([int(seed), int(trial)])
    B = banded_spiked(th, n_rows, n_cols, rng, var_scale)
    r = th.size
    edge = np.sqrt(var_scale) * (1.0 + np.sqrt(n_cols / n_rows))
    s, U, V, info = top_triplets(B, r, tol, edge=edge, seed=int(trial))
    U_head, V_head = U[:r], V[:r]
    return TrialStats(s=s, u_overlap=np.diag(U_head) ** 2, v_overlap=np.diag(V_head) ** 2,
                      opnorm=truncation_error(s, U_head, V_head, th), U_head=U_head, V_head=V_head,
                      info=info)


def kept_columns(n_rows: int, n_cols: int, r: int) -> int:
    """Columns of B that carry entries (the rest of the M columns were dropped by the reduction)."""
    return int(_block_sizes(r, n_rows, n_cols)[1].sum())


def random_tail_product(V: np.ndarray, n_rows: int, n_cols: int, r: int,
                        rng: np.random.Generator) -> np.ndarray:
    """V_tail^T w for w uniform on the unit sphere of the (M - r)-dimensional complement of the
    spike coordinates, drawn independently of B: the law of <v_j(W), z_tail> / ||z_tail|| for any
    z_tail fixed orthogonal to the v_i (module docstring: the reduction's rotation acts on that
    complement, is independent of a fixed direction's image, and maps it to a uniform one).  Only
    the kept columns of B carry V's entries; the dropped ones enter through ||g|| alone."""
    kept = kept_columns(n_rows, n_cols, r) - r
    g = rng.standard_normal(kept)
    norm_sq = g @ g + (rng.chisquare(n_cols - r - kept) if n_cols - r - kept > 0 else 0.0)
    return (V[r:r + kept].T @ g) / np.sqrt(norm_sq)


def lemma_trial(theta, n_rows: int, n_cols: int, seed: int, trial: int, threshold: float,
                z_parts: dict, tol: float = 1e-6) -> dict:
    """One matrix of the Approximation Lemma (sims.approximation_lemma.one_trial) in banded form.

    W' keeps the triplets with s > threshold ((B.4)) among the top r = rank(S), as the dense
    engine does (``sims.approximation_lemma.truncate``: by Weyl only those can be outliers).  The
    top k triplets are certified, k = the number of spikes whose outlier limit exceeds the
    threshold (``k_expected``, given through ``theta``'s order: the caller passes k in
    ``z_parts['_k']``); when k < r, a proven bound sigma_{k+1} < t <= threshold shows no other
    one is kept, and where it cannot be proven (a spike's outlier or the bulk edge near the
    threshold at this N) the top r triplets are computed (``top_triplets``, shift-invert at the
    edge) and those above the threshold kept.  z_parts: name -> (head (r,), tail_norm) of the fixed test
    vectors z of (B.5) (head = <v_i, z>, tail_norm = ||z - sum head_i v_i||); the tail direction is
    drawn per trial (``random_tail_product``), which has the law of the dense engine's fixed z."""
    n_rows = check_int("n_rows", n_rows, 2)
    n_cols = check_int("n_cols", n_cols, 2)
    th = check_theta(theta, n_rows, n_cols)
    r = th.size
    k = int(z_parts.get("_k", r))
    rng = np.random.default_rng([int(seed), int(trial)])
    B = banded_spiked(th, n_rows, n_cols, rng)
    edge = 1.0 + np.sqrt(n_cols / n_rows)
    if k == 0 and B.norm_below(threshold):
        s, U_head, V_head, tail = np.zeros(0), np.zeros((r, 0)), np.zeros((r, 0)), np.zeros(0)
    else:
        below = _norm_below_test(B, k)
        proven = False
        if k > 0:
            try:
                s, U, V, info = _krylov_top(B, k, tol=tol, seed=int(trial), upper_bound=below,
                                            lower_hint=edge, oversample=3)
            except ConvergenceError:       # the k-th outlier is not separated from the bulk
                pass
            else:
                # nothing beyond the k-th is kept: k = r, or sigma_{k+1} <= ||B_k|| < threshold
                proven = k == r or (info.gap_certified and info.sigma_next_upper <= threshold)
                proven = proven or below(threshold)
        if not proven:
            s, U, V, info = top_triplets(B, r, tol, edge=edge, seed=int(trial))
        keep = s > threshold
        s, U_head, V_head = s[keep], U[:r, keep], V[:r, keep]
        tail = random_tail_product(V[:, keep], n_rows, n_cols, r, rng)
    # ||(W' - S) z|| = ||A y||, A = [U, E], y = c * ([V, E]^T z), c = (s, -theta);
    # ||A y||^2 = y^T Gram(A) y with Gram(A) = [[I, U_head^T], [U_head, I]]
    c = np.concatenate([s, -th])
    Fu = _gram_factor(U_head)
    out = {"opnorm": truncation_error(s, U_head, V_head, th) if s.size else float(th.max()),
           "n_kept": int(s.size), "sv": s.tolist()}
    for name, part in z_parts.items():
        if name.startswith("_"):
            continue
        head, tail_norm = part
        head = np.asarray(head, dtype=float)
        bz = np.concatenate([V_head.T @ head + tail * tail_norm, head])
        out["z_" + name] = float(np.linalg.norm(Fu.T @ (c * bz)))
    kk = min(r, s.size)
    out["u_overlap"] = np.abs(np.diag(U_head[:, :kk])).tolist() if kk else []
    out["v_overlap"] = np.abs(np.diag(V_head[:, :kk])).tolist() if kk else []
    return out
