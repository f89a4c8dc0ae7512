"""Block tridiagonal matrices with r x r blocks, stored as three stacks of blocks (no sparse format).

    B = [[D_0, L_0,              ],
         [T_0, D_1, L_1,         ],
         [     T_1, D_2, L_2,    ],
         [          ...          ]]        D: (K, r, r),  L, T: (K - 1, r, r)

A product with a block of b vectors is one batched ``numpy.matmul`` of the row panels
[T_{k-1}, D_k, L_k] (K, r, 3r) with overlapping windows of the padded (K r, b) array (a strided
view): O(K r^2 b), no index arrays and no sparse format to build.  Shapes
that do not fill whole blocks are padded with zero rows and columns, which only add zero singular
values.

``gram_band(skip_rows)`` returns B_j^T B_j in LAPACK's upper band storage, where B_j is B with its
first ``skip_rows`` rows set to zero; with ``scipy.linalg.lapack.dpbtrf`` it decides
lambda_max(B_j^T B_j) < tau (``noise_norm_below``), i.e. an upper bound sigma_{j+1}(B) <= ||B_j||_2 <
sqrt(tau) on the (j+1)-th singular value (Weyl: B - B_j has rank <= j).  B^T B is block pentadiagonal
(block (k, k+2) = T_k^T L_{k+1} is lower triangular when T is upper and L lower triangular), so its
half-bandwidth is 2r and the Cholesky factorisation costs O(K r^3).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy.linalg import lapack

__all__ = ["BlockTridiagonal"]


class BlockTridiagonal:
    """B of the module docstring; ``shape`` is (K r, K r) (padded)."""

    def __init__(self, D: np.ndarray, L: np.ndarray, T: np.ndarray, triangular: bool = False):
        D, L, T = (np.ascontiguousarray(x, dtype=np.float64) for x in (D, L, T))
        if D.ndim != 3 or D.shape[1] != D.shape[2] or L.shape != T.shape or \
                L.shape != (max(D.shape[0] - 1, 0),) + D.shape[1:]:
            raise ValueError(f"blocks must be D (K, r, r), L and T (K-1, r, r); got "
                             f"{D.shape}, {L.shape}, {T.shape}")
        self.D, self.L, self.T = D, L, T
        self.K, self.r = D.shape[0], D.shape[1]
        self.shape = (self.K * self.r, self.K * self.r)
        # T upper and L lower triangular (the reduced sampler's form) -> B^T B has half-bandwidth 2r
        self.triangular = bool(triangular)
        self._fwd = self._bwd = None

    # -- products ------------------------------------------------------------------------------
    def _panels(self):
        """Row panels [T_{k-1}, D_k, L_k] of B and [L_{k-1}^T, D_k^T, T_k^T] of B^T, (K, r, 3r) each
        (zero blocks at the ends): a product is then ONE batched matmul of each panel with the
        overlapping windows [X_{k-1}; X_k; X_{k+1}] of the zero-padded X (a strided view, no copy),
        ~3x faster than three block products (numpy's per-matrix overhead is paid once)."""
        if self._fwd is None:
            K, r = self.K, self.r
            fwd = np.zeros((K, r, 3 * r))
            bwd = np.zeros((K, r, 3 * r))
            fwd[:, :, r:2 * r] = self.D
            bwd[:, :, r:2 * r] = self.D.transpose(0, 2, 1)
            if K > 1:
                fwd[1:, :, :r] = self.T
                fwd[:-1, :, 2 * r:] = self.L
                bwd[1:, :, :r] = self.L.transpose(0, 2, 1)
                bwd[:-1, :, 2 * r:] = self.T.transpose(0, 2, 1)
            self._fwd, self._bwd = fwd, bwd
        return self._fwd, self._bwd

    def matmat(self, X: np.ndarray) -> np.ndarray:
        """B X for X of shape (K r, b) (or (K r,))."""
        return self._apply(X, self._panels()[0])

    def rmatmat(self, X: np.ndarray) -> np.ndarray:
        """B^T X."""
        return self._apply(X, self._panels()[1])

    def _apply(self, X, panel):
        vec = X.ndim == 1
        X2 = np.ascontiguousarray(X.reshape(-1, 1) if vec else X, dtype=np.float64)
        if X2.shape[0] != self.shape[1]:
            raise ValueError(f"X must have {self.shape[1]} rows, got {X2.shape[0]}")
        K, r, b = self.K, self.r, X2.shape[1]
        Y = np.empty((K, r, b))
        if K == 1:
            np.matmul(panel[:, :, r:2 * r], X2.reshape(1, r, b), out=Y)
        else:
            # interior block rows 1..K-2: windows [X_{k-1}; X_k; X_{k+1}] of X itself (no copy)
            if K > 2:
                windows = as_strided(X2, shape=(K - 2, 3 * r, b), strides=(r * b * 8, b * 8, 8),
                                     writeable=False)
                np.matmul(panel[1:-1], windows, out=Y[1:-1])
            Y[0] = panel[0, :, r:] @ X2[:2 * r]
            Y[-1] = panel[-1, :, :2 * r] @ X2[-2 * r:]
        Y = Y.reshape(self.shape[0], b)
        return Y[:, 0] if vec else Y

    __matmul__ = matmat

    # -- dense views (tests, small sizes) --------------------------------------------------------
    def toarray(self) -> np.ndarray:
        K, r = self.K, self.r
        A = np.zeros((K, r, K, r))
        k = np.arange(K)
        A[k, :, k, :] = self.D
        if K > 1:
            A[k[:-1], :, k[1:], :] = self.L
            A[k[1:], :, k[:-1], :] = self.T
        return A.reshape(K * r, K * r)

    def frobenius_sq(self) -> float:
        return float(np.sum(self.D ** 2) + np.sum(self.L ** 2) + np.sum(self.T ** 2))

    # -- spectral upper bounds ---------------------------------------------------------------------
    def gram_band(self, skip_rows: int = 0) -> np.ndarray:
        """(B_j^T B_j) in LAPACK upper band storage ab[kd + i - j, j] = A[i, j] (i <= j), B_j = B with
        its first ``skip_rows`` (<= r) rows zeroed."""
        K, r = self.K, self.r
        D, L, T = self.D, self.L, self.T
        if skip_rows:
            D = D.copy()
            L = L.copy()
            D[0, :skip_rows] = 0.0
            if K > 1:
                L[0, :skip_rows] = 0.0
        tr = lambda A: A.transpose(0, 2, 1)  # noqa: E731
        # (B^T B)[k, k] = D_k^T D_k + L_{k-1}^T L_{k-1} + T_k^T T_k
        A0 = np.matmul(tr(D), D)
        A1 = np.zeros((max(K - 1, 0), r, r))
        A2 = np.zeros((max(K - 2, 0), r, r))
        if K > 1:
            A0[1:] += np.matmul(tr(L), L)
            A0[:-1] += np.matmul(tr(T), T)
            # (k, k+1) = D_k^T L_k + T_k^T D_{k+1};  (k, k+2) = T_k^T L_{k+1}
            A1 = np.matmul(tr(D[:-1]), L) + np.matmul(tr(T), D[1:])
            A2 = np.matmul(tr(T[:-1]), L[1:])
        kd = self.bandwidth
        ab = np.zeros((kd + 1, K * r))
        for off, blocks in ((0, A0), (1, A1), (2, A2)):
            nk = blocks.shape[0]
            for i in range(r):
                for j in range(r):
                    row = kd + i - j - off * r      # kd + (global row - global column)
                    if 0 <= row <= kd and nk:       # upper triangle inside the band
                        ab[row, off * r + j::r][:nk] = blocks[:, i, j]
        return ab

    @property
    def bandwidth(self) -> int:
        return 2 * self.r if self.triangular else 3 * self.r - 1

    def schur_bound(self, skip_rows: int = 0) -> float:
        """||B_j||_2 <= sqrt(max row abs-sum * max column abs-sum) (Schur's test), B_j as in
        ``gram_band``: one pass over the blocks.  For the reduced spiked model it is nearly sharp:
        every row and column carries one or two chi/sqrt(N) ~ 1 entries and O(r) N(0, 1/N) ones,
        so it exceeds the bulk edge 2 (square case) by O(r / sqrt(N))."""
        D, L, T = np.abs(self.D), np.abs(self.L), np.abs(self.T)
        if skip_rows:
            D, L = D.copy(), L.copy()
            D[0, :skip_rows] = 0.0
            if self.K > 1:
                L[0, :skip_rows] = 0.0
        rows = D.sum(2)
        cols = D.sum(1)
        if self.K > 1:
            rows[:-1] += L.sum(2)
            rows[1:] += T.sum(2)
            cols[1:] += L.sum(1)
            cols[:-1] += T.sum(1)
        return float(np.sqrt(rows.max() * cols.max()))

    def norm_below(self, t: float, skip_rows: int = 0, band: np.ndarray | None = None) -> bool:
        """True when ||B_j||_2 < t is certified (B_j as in ``gram_band``): the Cholesky factorisation
        of t^2 (1 - 1e-10) I - B_j^T B_j succeeds.  The 1e-10 relative slack exceeds the rounding of
        the Gram entries and of the banded Cholesky (backward error ~ bandwidth * eps * ||A||), so
        success implies lambda_max(B_j^T B_j) < t^2 in exact arithmetic.  False says nothing."""
        ab = -(self.gram_band(skip_rows) if band is None else band)
        tau = t * t * (1.0 - 1e-10)
        ab[-1] += tau
        _, info = lapack.dpbtrf(ab, lower=0, overwrite_ab=1)
        return info == 0
