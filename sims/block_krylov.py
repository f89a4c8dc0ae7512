"""Top-r singular triplets of a matrix given only by products (matmat, rmatmat), with a certificate.

The numpy counterpart of ``sims.linalg.top_singular_triplets`` for operators too large to store
densely (``sims.block_tridiagonal``, N up to 10^6): randomized block Krylov on B^T B (Halko,
Martinsson & Tropp 2011, Sect. 4.5; Musco & Musco 2015), block size b = r + p, every new block
orthogonalised against the whole basis (classical Gram-Schmidt twice, then an eigen-decomposition of
the block's Gram matrix, which drops directions already in the basis), Rayleigh-Ritz on the Gram
matrix V^T B^T B V, explicit restart from the leading b Ritz vectors when the basis reaches
``max_basis`` columns.  Only the basis V is stored (d vectors of length M); at a check the leading
r + 1 Ritz vectors get two fresh products, so the residuals are exact:

    s_i = ||B v_i||,  u_i = B v_i / s_i,  eta_i = ||B^T u_i - s_i v_i||.

Certificate (as sims.linalg): sin(angle(v_i, true v_i)), sin(angle(u_i, true u_i)) <= eta_i / gap_i
(Wedin), where gap_i is the distance from s_i to the rest of the spectrum; the singular value is
within min(eta_i, eta_i^2 / gap_i).  Between the computed values the gap is taken from the Ritz
values.  Below s_r the gap needs sigma_{r+1}, which a Ritz value only estimates from below (Cauchy
interlacing), so the gap estimate is too large until the (r+1)-th Ritz value settles.  When the
caller supplies ``upper_bound(t) -> bool`` deciding sigma_{r+1} < t rigorously (for the reduced
spiked model: a banded Cholesky factorisation, ``BlockTridiagonal.norm_below``), the gap below s_r
is bounded from BELOW by s_r - t instead -- a certified gap, with no need to converge the
(r+1)-th value (the slow one: it sits at the bulk edge).  Without such a bound, or when it cannot
separate s_r (a spike below the detection threshold makes s_r an edge value), the estimated gap is
used with the settling rule of sims.linalg and the result says so (``gap_certified``).

Raises ``ConvergenceError`` (sims.linalg's) when max_iter block steps do not reach eta/gap <= tol.
Singular vectors get a deterministic sign (largest-magnitude entry of v_i positive).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from sims.linalg import ConvergenceError

__all__ = ["top_triplets", "KrylovInfo"]

_TAIL_SETTLE = 0.05          # as sims.linalg: the (r+1)-th Ritz value moved < 5% of the gap
_BOUND_FRACTIONS = (0.05, 0.3, 0.6)   # where between sigma_{r+1} estimate and s_r to try the bound


@dataclass
class KrylovInfo:
    residual: np.ndarray      # eta_i, i = 1..r
    gap: np.ndarray           # gap_i used in the certificate (a lower bound where gap_certified)
    vector_bound: np.ndarray  # eta_i / gap_i
    value_bound: np.ndarray   # min(eta_i, eta_i^2 / gap_i)
    gap_certified: bool       # the gap below s_r is a proven lower bound (upper_bound succeeded)
    sigma_next_upper: float   # the certified upper bound on sigma_{r+1} (nan if none)
    iterations: int
    products: int             # columns multiplied by B and by B^T (each)
    basis_size: int
    tol: float


def _orthonormalize(Z: np.ndarray, Vt: np.ndarray | None, drop: float = 1e-10) -> np.ndarray:
    """Columns spanning Z minus span(V) (Vt: basis as rows), orthonormal; directions whose norm
    falls below ``drop`` times their original norm are already in the basis and are dropped."""
    scale = np.linalg.norm(Z, axis=0).max() if Z.size else 0.0
    if scale == 0.0:
        return Z[:, :0]
    Z = Z / scale
    for sweep in range(2):
        if Vt is not None and Vt.shape[0]:
            Z = Z - Vt.T @ (Vt @ Z)
        w, E = np.linalg.eigh(Z.T @ Z)
        keep = w > (drop ** 2 if sweep == 0 else 0.25)
        Z = (Z @ E[:, keep]) / np.sqrt(w[keep])
    return Z


def _ritz(G: np.ndarray, k: int):
    lam, X = np.linalg.eigh(G)
    return X[:, ::-1][:, :k]


def top_triplets(B, r: int, *, tol: float = 1e-6, oversample: int = 5, max_iter: int = 200,
                 max_basis: int | None = None, seed: int = 0,
                 upper_bound: Callable[[float], bool] | None = None, lower_hint: float = 0.0,
                 memory_bytes: int = 2 ** 29):
    """Leading r singular triplets (s (r,), U (n, r), V (m, r), KrylovInfo) of B (module docstring).

    upper_bound(t): True only if sigma_{r+1}(B) < t is proven.  lower_hint: a value sigma_{r+1} is
    expected near (e.g. the bulk edge), used only to place the trial t's.  memory_bytes caps each
    of the two basis buffers (V and B^T B V), which sets the default max_basis at large m.
    """
    n, m = B.shape
    r = int(r)
    if not 1 <= r < min(n, m):
        raise ValueError(f"r must be an integer in [1, {min(n, m) - 1}], got {r}")
    b = r + int(oversample)
    if max_basis is None:
        max_basis = min(12 * b, memory_bytes // (8 * m))
    max_basis = int(min(max(max_basis, 3 * b), m))
    k = r + 1
    rng = np.random.default_rng(seed)
    Vt = np.empty((max_basis, m))       # basis, as rows
    Zt = np.empty((max_basis, m))       # B^T B applied to it
    G = np.zeros((max_basis, max_basis))
    Q = _orthonormalize(rng.standard_normal((m, b)), None)
    d = products = 0
    last_tail = None
    bound_t = math.nan                  # certified: sigma_{r+1} < bound_t
    tried = set()
    est_gap = resid = last_s = None
    for it in range(1, max_iter + 1):
        nb = Q.shape[1]
        if nb:
            Vt[d:d + nb] = Q.T
            Z = B.rmatmat(B.matmat(Q))
            Zt[d:d + nb] = Z.T
            products += nb
            Gcol = Vt[:d + nb] @ Z
            G[:d + nb, d:d + nb] = Gcol
            G[d:d + nb, :d] = Gcol[:d].T
            G[d:d + nb, d:d + nb] = (Gcol[d:] + Gcol[d:].T) / 2
            d += nb
        lam, X = np.linalg.eigh(G[:d, :d])
        X = X[:, ::-1][:, :max(k, b)]
        lam = np.maximum(lam[::-1][:max(k, b)], 0.0)
        s = np.sqrt(lam[:k])
        # Skip the residual while a Ritz value still moves by more than 1e-8 of its gap: its error
        # is then >= ~1e-8 gap, i.e. eta ~ sqrt(error * gap) >= 1e-4 gap, far above any tolerance
        # we certify (a skip never certifies anything, it only saves two passes over the basis).
        moving = last_s is not None and nb and np.any(np.abs(s[:r] - last_s[:r]) > 1e-8 * est_gap_prev)
        last_s = s
        above = np.concatenate([[np.inf], s[:r - 1] - s[1:r]])
        est_gap = est_gap_prev = np.minimum(above, s[:r] - s[1:r + 1])
        if moving and tol < 1e-4 and d + b <= max_basis:
            Q = _orthonormalize(Z, Vt[:d])[:, :b]
            continue
        # eta_i = ||B^T u_i - s_i v_i|| with u_i = B v_i / s_i: B^T u_i = (B^T B V x_i) / s_i = Z x_i / s_i
        Xk = X[:, :k]
        resid = np.linalg.norm(Zt[:d].T @ Xk - (Vt[:d].T @ Xk) * lam[:k], axis=0) / s
        tail = s[r]
        settled = nb == 0 or (last_tail is not None and
                              abs(tail - last_tail) <= _TAIL_SETTLE * est_gap[-1])
        last_tail = tail
        est_ok = bool(np.all(resid[:r] <= tol * est_gap))
        gap, certified = est_gap, False
        if upper_bound is not None and est_ok:
            if not np.isfinite(bound_t):
                # prove sigma_{r+1} < t for a t between its estimate (or the edge) and s_r
                base = max(tail, lower_hint)
                for f in _BOUND_FRACTIONS:
                    t = base + f * (s[r - 1] - base)
                    if t < s[r - 1] and round(t, 12) not in tried:
                        tried.add(round(t, 12))
                        if upper_bound(t):
                            bound_t = t
                            break
            if np.isfinite(bound_t) and bound_t < s[r - 1]:
                gap = est_gap.copy()
                gap[-1] = min(above[-1], s[r - 1] - bound_t)
                certified = bool(np.all(resid[:r] <= tol * gap))
        if certified or (est_ok and settled):
            out = _finish(B, Vt[:d].T @ X[:, :r], gap, certified, bound_t, it, products + 2 * r, d,
                          tol)
            if out is not None:
                return out
        if nb == 0:
            break  # the Krylov space is invariant: the Ritz values are exact, nothing left to add
        if d + b > max_basis:      # explicit restart from the leading Ritz vectors
            Q = _orthonormalize(Vt[:d].T @ X[:, :b], None)
            d = 0
            G[:] = 0.0
            continue
        Q = _orthonormalize(Z, Vt[:d])[:, :b]
    worst = float(np.max(resid[:r] / est_gap)) if resid is not None else math.inf
    err = ConvergenceError(
        f"block Krylov: not converged after {max_iter} block steps (basis {d}, block {b}): worst "
        f"eta/gap = {worst:.3g} > tol = {tol:.3g}. Increase max_iter or oversample.", info=None)
    # the leading Ritz pairs of the last basis, for a caller that refines them (sims.shift_invert)
    lam, X = np.linalg.eigh(G[:d, :d])
    kk = min(d, b + 2)
    err.partial = {"lam": np.maximum(lam[::-1][:kk], 0.0), "V": Vt[:d].T @ X[:, ::-1][:, :kk],
                   "iterations": max_iter, "products": products}
    raise err


def _finish(B, Vr, gap, certified, bound_t, it, products, d, tol):
    """Fresh products for the final triplets: s = ||B v||, u = B v / s (so B v = s u holds to
    rounding) and eta = ||B^T u - s v||, re-checked against the certificate (None if it fails)."""
    Yr = B.matmat(Vr)
    s = np.linalg.norm(Yr, axis=0)
    U = Yr / s
    resid = np.linalg.norm(B.rmatmat(U) - Vr * s, axis=0)
    if not np.all(resid <= tol * gap):
        return None
    idx = np.argmax(np.abs(Vr), axis=0)
    sign = np.sign(Vr[idx, np.arange(Vr.shape[1])])
    sign[sign == 0] = 1.0
    info = KrylovInfo(resid, gap, resid / gap, np.minimum(resid, resid ** 2 / gap), certified,
                      bound_t, it, products, d, tol)
    return s, U * sign, Vr * sign, info
