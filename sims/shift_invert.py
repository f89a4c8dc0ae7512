"""Shift-and-invert refinement of singular triplets at the bulk edge of a block tridiagonal B.

Krylov methods on B^T B converge for an eigenvalue at the rate sqrt(gap / spread): for a spike
below the detection threshold the r-th singular value of the spiked model is the largest bulk
value, separated from the next by the Tracy-Widom spacing ~ N^(-2/3), and block Krylov needs
thousands of products at N = 10^6.  Inverting around a shift sigma close to it changes the rate to
|lambda - sigma| / |lambda' - sigma| for the nearest and the next-nearest eigenvalues, a constant
factor per step.  B^T B is banded (half-bandwidth 2r, ``BlockTridiagonal.gram_band``), so
(B^T B - sigma I) has an LU factorisation with partial pivoting in O(N r^2) (LAPACK dgbtrf) and
each solve costs O(N r).

``refine_trailing`` takes the converged leading Ritz vectors (the outliers: they are kept fixed
and projected out) and runs subspace iteration with (B^T B - sigma I)^(-1) on a block of q vectors
started from the unconverged Ritz vectors, re-centring sigma on the current Ritz value of the
first unconverged triplet, then Rayleigh-Ritz with B^T B.  The certificate is sims.linalg's:
eta_i / gap_i <= tol with eta_i = ||B^T B v_i - lambda_i v_i|| / s_i (= ||B^T u_i - s_i v_i|| for
u_i = B v_i / s_i) and gaps from the neighbouring values: the converged outlier above and the
next value of the window below, which is used only once its own residual is below 5% of the gap
(so it is converged, not an underestimate).  That the window's top value is the wanted one (no
eigenvalue missed between it and the outlier above) rests, as in sims.linalg, on the Krylov
start; subspace iteration finds the eigenvalues nearest sigma, and sigma sits at the top of the
window.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import lapack

__all__ = ["BandedShiftInvert", "NotConverged", "refine_trailing"]


class BandedShiftInvert:
    """Solves with (A - sigma I), A = B^T B in upper band storage (kd + 1, n)."""

    def __init__(self, band: np.ndarray, sigma: float):
        kd = band.shape[0] - 1
        n = band.shape[1]
        ab = np.zeros((3 * kd + 1, n))
        ab[kd:2 * kd + 1] = band                       # upper part and diagonal
        ab[2 * kd] -= sigma
        for o in range(1, kd + 1):                     # lower part: A[j + o, j] = A[j, j + o]
            ab[2 * kd + o, :n - o] = band[kd - o, o:]
        self.lu, self.piv, info = lapack.dgbtrf(ab, kd, kd, overwrite_ab=1)
        if info < 0:
            raise ValueError(f"dgbtrf: illegal argument {-info}")
        self.singular = info > 0
        self.kd = kd

    def solve(self, Y: np.ndarray) -> np.ndarray:
        X, info = lapack.dgbtrs(self.lu, self.kd, self.kd, Y, self.piv)
        if info != 0:
            raise ValueError(f"dgbtrs failed (info {info})")
        return X


def _gram_apply(B, X):
    return B.rmatmat(B.matmat(X))


def refine_trailing(B, lam0: np.ndarray, V0: np.ndarray, n_done: int, r: int, tol: float,
                    extra: int = 4, max_iter: int = 40, band: np.ndarray | None = None):
    """Refine Ritz pairs n_done..r-1 of A = B^T B (lam0 descending, V0 their vectors, at least
    r + 1 of them; the first n_done are converged and stay fixed), one at a time, each with the
    shift re-centred on it.  Returns (lam (r,), V (m, r), eta (r - n_done,), gap (r - n_done,),
    steps), eta/gap <= tol for every refined triplet, or raises RuntimeError."""
    band = B.gram_band(0) if band is None else band
    Vc, lam_c = V0[:, :n_done], list(lam0[:n_done])
    X = V0[:, n_done:]
    etas, gaps, steps = [], [], 0
    for j in range(n_done, r):
        try:
            lam_j, v_j, eta_j, gap_j, X_next, its = _refine_one(B, band, np.array(lam_c), Vc, X,
                                                                tol, max_iter, extra)
        except NotConverged:
            # the locked vectors are accurate only to eta <= tol * gap; projecting them out leaves
            # the wanted vector a residual floor of about eta_locked * |lambda_locked - lambda_j| /
            # gap_locked, which can exceed tol * gap_j when gap_j is smaller than the gaps above
            # (a Tracy-Widom spacing below an outlier).  Inverse iteration at each locked value
            # takes them to rounding level, and the refinement is rerun once.
            Vc, lam_c = _polish_locked(B, band, Vc, lam_c)
            steps += 2 * Vc.shape[1]
            lam_j, v_j, eta_j, gap_j, X_next, its = _refine_one(B, band, np.array(lam_c), Vc, X,
                                                                tol, max_iter, extra)
        X = X_next
        Vc = np.concatenate([Vc, v_j[:, None]], axis=1)
        lam_c.append(lam_j)
        etas.append(eta_j)
        gaps.append(gap_j)
        steps += its
    return np.array(lam_c), Vc, np.array(etas), np.array(gaps), steps


class NotConverged(RuntimeError):
    """Shift-invert refinement did not reach eta/gap <= tol within max_iter steps."""


def _polish_locked(B, band, Vc: np.ndarray, lam_c: list, steps: int = 2):
    """Two steps of inverse iteration for each locked Ritz pair in turn (shift at its Ritz value,
    which is accurate to eta^2 / gap, so the factor per step is about that over the gap), each
    orthogonalised against the already polished ones; returns the vectors and Rayleigh quotients."""
    out, lam_out = np.zeros_like(Vc), []
    for i in range(Vc.shape[1]):
        op, _ = _factor(band, lam_c[i] * (1 + 1e-12))
        x = Vc[:, i:i + 1]
        for _ in range(steps):
            x = op.solve(x)
            x = x - out[:, :i] @ (out[:, :i].T @ x)
            x /= np.linalg.norm(x)
        out[:, i:i + 1] = x
        lam_out.append(float((x.T @ _gram_apply(B, x))[0, 0]))
    return out, lam_out


def _factor(band: np.ndarray, sigma: float):
    op = BandedShiftInvert(band.copy(), sigma)
    if op.singular:      # sigma hit an eigenvalue to rounding: move off it
        sigma *= 1 + 1e-8
        op = BandedShiftInvert(band.copy(), sigma)
    return op, sigma


def _refine_one(B, band, lam_c, Vc, X, tol, max_iter, extra):
    """The largest eigenpair of A = B^T B orthogonal to Vc, by shift-invert subspace iteration on
    a window of 2 + extra vectors; returns it, its eta and gap, and the rest of the window."""
    X = X[:, :2 + extra]
    sigma = op = None
    for it in range(1, max_iter + 1):
        if Vc.shape[1]:
            X = X - Vc @ (Vc.T @ X)
        X, _ = np.linalg.qr(X)
        AX = _gram_apply(B, X)
        H = X.T @ AX
        w, E = np.linalg.eigh((H + H.T) / 2)
        w, E = w[::-1], E[:, ::-1]
        Xr, AXr = X @ E, AX @ E
        s = np.sqrt(np.maximum(w, 0.0))
        eta = np.linalg.norm(AXr - Xr * w, axis=0) / np.maximum(s, 1e-300)
        above = np.sqrt(lam_c[-1]) - s[0] if lam_c.size else np.inf
        below = s[0] - s[1]
        gap = min(above, below)
        # the next value bounds the gap only once it is itself converged (5% of the gap)
        if eta[0] <= tol * gap and eta[1] <= 0.05 * below:
            return float(w[0]), Xr[:, 0], float(eta[0]), float(gap), Xr[:, 1:], it
        # shift just above the wanted value: a relative offset keeps the factorisation off exact
        # singularity; the offset / (distance to the next value) is the convergence factor
        target = w[0] + 1e-3 * max(w[0] - w[1], 0.0) + 1e-12 * abs(w[0])
        if sigma is None or abs(target - sigma) > 0.1 * abs(w[0] - w[1]):
            op, sigma = _factor(band, target)
        X = op.solve(Xr)
    raise NotConverged(f"shift-invert refinement: not converged after {max_iter} steps: "
                       f"eta/gap = {eta[0] / gap:.3g} > tol = {tol:.3g}")
