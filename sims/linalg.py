"""Top-r singular triplets of batched matrices without a full SVD, with a certified accuracy.

``top_singular_triplets(W, r)`` runs a randomized block Krylov method (Halko, Martinsson & Tropp 2011,
Sect. 4.5; Musco & Musco 2015) on W^T W: block size b = r + p (oversampling p), every new block
orthogonalised against the whole basis (classical Gram-Schmidt twice, then QR), and a Rayleigh-Ritz
step on Y = W V (through the float64 Gram matrix Y^T Y, grown block by block), where V (M x d)
is the orthonormal Krylov basis.  Since W V is
stored as the basis grows, the Ritz triplets (u_i, s_i, v_i) satisfy W v_i = s_i u_i exactly (up to
rounding), so the only residual is the other side,

    eta_i = || W^T u_i - s_i v_i ||.

By Wedin's sin-theta theorem the angle between (u_i, v_i) and the true i-th singular vectors is at
most eta_i / gap_i, and the Ritz value is within min(eta_i, eta_i^2 / gap_i) of a singular value,
where gap_i is the distance from s_i to the rest of the spectrum.  The gap is estimated from the
r + 1 leading Ritz values (Cauchy interlacing makes Ritz values lower bounds, so the gap to the
(r+1)-th is estimated from above until that value has settled; we therefore also require it to move
by less than 5% of the gap between two checks).  A triplet counts as converged when eta_i / gap_i <= tol:
this bounds the *vector* error, which is what singular-vector overlaps (Theorem A.4) need.

Iteration stops when all r triplets of every matrix in the batch are converged.  Otherwise, after
``max_iter`` block steps, a ``ConvergenceError`` is raised (``on_fail="raise"``, the default) or a
``ConvergenceWarning`` issued (``on_fail="warn"``): results are never silently inaccurate.  The
achieved bounds are available with ``return_info=True``.

Singular vectors are returned with a deterministic sign (the largest-magnitude entry of each v_i is
positive), so equal inputs give equal outputs whatever the random start block.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch

__all__ = ["top_singular_triplets", "TripletInfo", "ConvergenceError", "ConvergenceWarning"]


class ConvergenceError(RuntimeError):
    """The Krylov iteration did not certify the requested accuracy within ``max_iter`` steps."""

    def __init__(self, message: str, info: "TripletInfo"):
        super().__init__(message)
        self.info = info


class ConvergenceWarning(RuntimeWarning):
    pass


@dataclass
class TripletInfo:
    """Accuracy certificate of ``top_singular_triplets`` (tensors have the batch shape + (r,))."""

    residual: torch.Tensor      # eta_i = ||W^T u_i - s_i v_i||
    gap: torch.Tensor           # estimated distance of s_i to the rest of the spectrum
    vector_bound: torch.Tensor  # eta_i / gap_i >= sin(angle to the true singular vectors)
    value_bound: torch.Tensor   # min(eta_i, eta_i^2/gap_i) >= |s_i - true singular value|
    converged: torch.Tensor     # vector_bound <= tol
    iterations: int             # block steps (each: one product with W and one with W^T)
    basis_size: int             # Krylov basis dimension at the end
    tol: float


# The gap of s_r is estimated with the (r+1)-th Ritz value; it is trusted once that value moves by
# less than this fraction of the gap between checks (an error of a few % in the gap changes the
# certified bound eta/gap by as much, not its order).
_TAIL_SETTLE = 0.05


def _default_tol(dtype: torch.dtype) -> float:
    # eta is computed to about eps * ||W||; 1e-3 leaves float32 room for gaps ~ 1e-2 ||W||.
    return 1e-6 if dtype == torch.float64 else 1e-3


def _validate(W: torch.Tensor, r: int, oversample: int, max_iter: int) -> None:
    if not isinstance(W, torch.Tensor):
        raise ValueError(f"W must be a torch.Tensor, got {type(W).__name__}")
    if W.ndim < 2:
        raise ValueError(f"W must have shape (..., N, M), got {tuple(W.shape)}")
    if not W.dtype.is_floating_point:
        raise ValueError(f"W must be a floating-point tensor, got {W.dtype}")
    if W.numel() == 0:
        raise ValueError(f"W is empty (shape {tuple(W.shape)})")
    # one reduction instead of an elementwise mask: a NaN/inf entry makes the sum NaN/inf; a finite
    # W whose sum overflows is re-checked entry by entry before it is rejected
    if not bool(torch.isfinite(W.sum())) and not bool(torch.isfinite(W).all()):
        raise ValueError("W contains NaN or inf")
    k = min(W.shape[-2:])
    if int(r) != r or not 1 <= r <= k:
        raise ValueError(f"r must be an integer in [1, min(N, M) = {k}], got {r!r}")
    if int(oversample) != oversample or oversample < 1:
        raise ValueError(f"oversample must be a positive integer, got {oversample!r}")
    if int(max_iter) != max_iter or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")


def _fix_signs(U: torch.Tensor, V: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    idx = V.abs().argmax(dim=-2, keepdim=True)
    sign = torch.sign(torch.gather(V, -2, idx))
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    return U * sign, V * sign


def _orthogonalize(Z: torch.Tensor, V: torch.Tensor | None) -> torch.Tensor:
    """Orthonormal basis of Z's columns with V's span removed (CGS2, then QR twice)."""
    for _ in range(2):
        if V is not None:
            Z = Z - V @ (V.transpose(-1, -2) @ Z)
        Z = torch.linalg.qr(Z).Q
    return Z


def _full_svd(W: torch.Tensor, r: int):
    U, s, Vh = torch.linalg.svd(W, full_matrices=False)
    U, V = _fix_signs(U[..., :r], Vh[..., :r, :].transpose(-1, -2))
    return U, s[..., :r], V


def top_singular_triplets(W: torch.Tensor, r: int, *, oversample: int = 10, max_iter: int = 60,
                          tol: float | None = None, generator: torch.Generator | None = None,
                          dtype: torch.dtype | None = None, max_basis: int | None = None,
                          on_fail: str = "raise", return_info: bool = False):
    """Leading r singular triplets of W (shape (..., N, M)): U (..., N, r), s (..., r) descending,
    V (..., M, r), with W v_i = s_i u_i.

    Parameters
    ----------
    oversample: extra block columns p (block size r + p); larger p speeds up convergence when s_r
        is close to s_{r+1} (e.g. a spike near the bulk edge).
    max_iter: block steps before giving up (each costs two products of W with an (r+p)-column block).
    tol: required bound on eta_i / gap_i (module docstring); default 1e-6 in float64, 1e-3 in float32.
    generator: CPU generator for the random start block (default: seeded with 0, deterministic).
    dtype: compute in this dtype (e.g. torch.float64 for overlaps near the threshold); default W's.
    max_basis: Krylov basis size at which the method restarts from the current leading Ritz vectors
        (default min(M, 50 (r + p), 600)).
    on_fail: "raise" (ConvergenceError) or "warn" (ConvergenceWarning) when not converged.
    return_info: also return a ``TripletInfo`` certificate.
    """
    _validate(W, r, oversample, max_iter)
    if on_fail not in ("raise", "warn"):
        raise ValueError(f"on_fail must be 'raise' or 'warn', got {on_fail!r}")
    if dtype is not None:
        if not dtype.is_floating_point:
            raise ValueError(f"dtype must be floating point, got {dtype}")
        W = W.to(dtype)
    tol = _default_tol(W.dtype) if tol is None else float(tol)
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    N, M = W.shape[-2:]
    batch = W.shape[:-2]
    b = r + oversample
    if b >= min(N, M) // 2:
        # A Krylov basis of this block size spans most of the space after one or two steps; the
        # dense SVD is then exact and cheaper.  Its accuracy is rounding only (no iteration).
        U, s, V = _full_svd(W, r)
        if return_info:
            z = torch.zeros_like(s)
            info = TripletInfo(z, torch.full_like(s, math.inf), z, z,
                               torch.ones_like(s, dtype=torch.bool), 0, min(N, M), tol)
            return U, s, V, info
        return U, s, V
    if max_basis is None:
        max_basis = min(M, 50 * b, 600)
    max_basis = min(max(int(max_basis), 2 * b), M)
    if generator is None:
        generator = torch.Generator(device="cpu").manual_seed(0)
    omega = torch.randn(*batch, M, b, generator=generator, dtype=W.dtype).to(W.device)
    Wt = W.transpose(-1, -2)

    # Preallocated basis V (M x d), images Y = W V (N x d), Z = W^T Y (M x d: the raw next blocks,
    # kept so that residuals need no extra pass over W) and Gram G = Y^T Y (float64: its
    # eigenvalues are s^2, so it keeps the small Ritz values accurate whatever W's dtype).
    # Each buffer is the transposed view of a row-major (max_basis, dim) array, so writing a block
    # of columns writes contiguous rows; a row-major (dim, max_basis) array would touch every row
    # (page) of the buffer per block (measured: ~20% of the run time at N = 3000).
    Vbuf = W.new_empty(*batch, max_basis, M).transpose(-1, -2)
    Ybuf = W.new_empty(*batch, max_basis, N).transpose(-1, -2)
    Zbuf = W.new_empty(*batch, max_basis, M).transpose(-1, -2)
    Gbuf = torch.empty(*batch, max_basis, max_basis, dtype=torch.float64, device=W.device)
    Vbuf[..., :b] = _orthogonalize(omega, None)
    d = 0            # columns of V whose images are in Y
    nb = b           # size of the current block (the last one may be cut to fill max_basis)
    next_check = 1
    last_tail = None
    info = None
    for it in range(1, max_iter + 1):
        Yj = W @ Vbuf[..., d:d + nb]
        Ybuf[..., d:d + nb] = Yj
        off = Ybuf[..., :d + nb].to(torch.float64).transpose(-1, -2) @ Yj.to(torch.float64)
        Gbuf[..., :d + nb, d:d + nb] = off
        Gbuf[..., d:d + nb, :d] = off[..., :d, :].transpose(-1, -2)
        # (Y^T W)^T rather than W^T Y: BLAS on the transposed view of a row-major W is ~1.5x slower
        Zj = (Yj.transpose(-1, -2) @ W).transpose(-1, -2)
        Zbuf[..., d:d + nb] = Zj
        d += nb
        exhausted = d >= max_basis
        if it >= next_check or it == max_iter or exhausted:
            V, Y = Vbuf[..., :d], Ybuf[..., :d]
            U_r, s_r, V_r, X = _rayleigh_ritz(Gbuf[..., :d, :d], V, Y, r + 1)
            # W^T u = W^T Y x / s = Z x / s: rounding ~ eps s_1^2 / s_i, fine unless s_1 / s_i is huge
            # (then the certificate fails loudly rather than passing wrongly)
            WTu = (Zbuf[..., :d] @ X[..., :r + 1].to(W.dtype)) / s_r.unsqueeze(-2)
            resid = torch.linalg.vector_norm(WTu - V_r * s_r.unsqueeze(-2), dim=-2)
            gap = _gaps(s_r, r)
            tail = s_r[..., r]
            info = _certificate(resid[..., :r], gap, tol, it, d)
            # a basis spanning all of R^M makes the Ritz values exact: nothing left to settle
            settled = d >= M or (last_tail is not None and bool(
                ((tail - last_tail).abs() <= _TAIL_SETTLE * gap[..., r - 1]).all()))
            last_tail = tail
            if bool(info.converged.all()) and settled:
                U, V = _fix_signs(U_r[..., :r], V_r[..., :r])
                return (U, s_r[..., :r], V, info) if return_info else (U, s_r[..., :r], V)
            next_check = max(it + 1, math.ceil(it * 1.25))
            if exhausted:
                # Explicit restart from the leading b Ritz vectors (keeps memory bounded).
                Vbuf[..., :b] = _orthogonalize(V @ X[..., :b].to(V.dtype), None)
                d, nb = 0, b
                continue
        nb = min(b, max_basis - d)
        Vbuf[..., d:d + nb] = _orthogonalize(Zj, Vbuf[..., :d])[..., :nb]

    worst = float(info.vector_bound.max())
    msg = (f"top_singular_triplets: not converged after {max_iter} block steps (basis {info.basis_size}, "
           f"block {b}): worst eta/gap = {worst:.3g} > tol = {tol:.3g}; "
           f"{int((~info.converged).sum())} of {info.converged.numel()} triplets uncertified. "
           "Increase max_iter or oversample, or pass a larger tol.")
    if on_fail == "raise":
        raise ConvergenceError(msg, info)
    warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    U, V = _fix_signs(U_r[..., :r], V_r[..., :r])
    return (U, s_r[..., :r], V, info) if return_info else (U, s_r[..., :r], V)


def _rayleigh_ritz(gram, V, Y, k):
    """Leading k Ritz triplets from the Gram matrix of Y = W V: v = V x, s = |Y x|, u = Y x / s,
    so that W v = s u holds exactly."""
    lam, X = torch.linalg.eigh(gram)
    X = X.flip(-1)                     # all Ritz directions, leading first (restarts need b)
    Xw = X[..., :k].to(V.dtype)
    V_r = V @ Xw
    Yx = Y @ Xw
    s_r = torch.linalg.vector_norm(Yx, dim=-2)
    U_r = Yx / s_r.unsqueeze(-2)
    return U_r, s_r, V_r, X


def _gaps(s: torch.Tensor, r: int) -> torch.Tensor:
    """Distance of each of the first r Ritz values to its neighbours among the first r + 1."""
    diffs = s[..., :r] - s[..., 1:r + 1]                          # s_i - s_{i+1}, i < r
    inf = torch.full_like(s[..., :1], math.inf)
    above = torch.cat([inf, diffs[..., :-1]], dim=-1)             # s_{i-1} - s_i
    return torch.minimum(above, diffs)


def _certificate(resid, gap, tol, it, d) -> TripletInfo:
    with torch.no_grad():
        vector_bound = torch.where(gap > 0, resid / gap, torch.full_like(resid, math.inf))
        value_bound = torch.minimum(resid, resid**2 / gap)
    return TripletInfo(resid, gap, vector_bound, value_bound, vector_bound <= tol, it, d, tol)
