"""The spectrum of one weight matrix and its BEMA fit (paper 000 Algorithm 1 steps 4-6, Algorithm 3
steps 2-4, plus the Algorithm 4 statistic that step 7 / step 5 compares with tau in ``nets.prune``):
the one place where nets/ turns a layer into singular values and lambda_+.

Conventions (see ``nets.algorithms``'s module docstring for how they map to the paper):

* the matrix is torch's ``out x in`` weight (Conv2d: the ``m x (n p q)`` reshape of Section 3.2.2);
* BEMA (``theory.bema``, Algorithm 2) runs on the *tall* orientation (N = max(out, in) rows,
  M = min(out, in) columns, c = M / N <= 1), i.e. on the M eigenvalues s_i^2 / N;
* the threshold on singular values is ``fit.singular_value_threshold = sqrt(lambda_+ N)``.

BEMA's fit window (Algorithm 2 step 2) is ``theory.bema.fit_window``; a spectrum it cannot fit
raises :class:`UnfittableSpectrum` here (a ValueError), which the pruning code treats as a rejected
fit (layer unchanged).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.validate import InvalidArgument
from nets.layers import FACTORIZED_TYPES, weight_matrix


class UnfittableSpectrum(ValueError):
    """The spectrum leaves BEMA nothing to fit (too few eigenvalues in its window, or a low-rank
    product whose exact zeros fill the window)."""


@dataclass
class LayerSpectrum:
    """SVD of a layer's ``out x in`` matrix (float64) with its BEMA fit."""

    U: torch.Tensor            # out x k, k = min(out, in)
    s: torch.Tensor            # k singular values, descending
    Vh: torch.Tensor           # k x in
    n_out: int
    n_in: int
    fit: object                # theory.bema.BemaFit of the tall orientation
    threshold: float           # sqrt(lambda_+ N) on singular values

    @property
    def n_above(self) -> int:
        return int((self.s > self.threshold).sum())

    @property
    def n_small(self) -> int:
        return int(self.s.numel()) - self.n_above

    @property
    def lambda_plus_in_features(self) -> float:
        """lambda_+ in the paper's Algorithm 3 normalisation X = W^T W / N_in."""
        return self.threshold ** 2 / self.n_in

    def truncated(self, rank: int) -> torch.Tensor:
        """W' = U S' V^T keeping the ``rank`` largest singular triplets."""
        return (self.U[:, :rank] * self.s[:rank]) @ self.Vh[:rank]

    def factors(self, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(U sqrt(S'), sqrt(S') V^T) of Algorithm 1 step 10 (out x r, r x in)."""
        root = self.s[:rank].sqrt()
        return self.U[:, :rank] * root, root[:, None] * self.Vh[:rank]


def check_finite(matrix: torch.Tensor, what: str) -> None:
    """Bad input, not a bug: an ``InvalidArgument`` (a ValueError) before any SVD is attempted."""
    if not torch.isfinite(matrix).all():
        bad = int((~torch.isfinite(matrix)).sum())
        raise InvalidArgument(f"{what}: weight matrix has {bad} non-finite (NaN/inf) entries; every "
                              "entry must be a finite real number")


def bema_fit_singular_values(s: np.ndarray, n_out: int, n_in: int, alpha: float, beta: float):
    """BEMA (theory.bema.fit) on the singular values of an ``n_out x n_in`` matrix, tall
    orientation: eigenvalues s^2 / N of X = W^T W / N, N = max(n_out, n_in)."""
    from theory import bema  # numpy-only module, imported lazily so nets imports stay light

    n_rows, n_cols = max(n_out, n_in), min(n_out, n_in)
    s = np.asarray(s, dtype=np.float64)
    if s.shape != (n_cols,):
        raise ValueError(f"expected {n_cols} singular values for a {n_out} x {n_in} matrix, "
                         f"got shape {s.shape}")
    try:
        window = bema.fit_window(n_cols, alpha)
    except ValueError as exc:
        # e.g. the 2-class output layer of E.4: BEMA's quantile window is (nearly) empty
        raise UnfittableSpectrum(f"{n_out} x {n_in} matrix: {exc}") from None
    n_zero = int(np.count_nonzero(s == 0.0))
    if n_zero >= window[-1]:
        # A rank-r product has n_cols - r exactly-zero singular values; when they fill BEMA's whole
        # window sigma^2 is 0 and no MP law can be fitted (theory.bema would raise).
        raise UnfittableSpectrum(f"{n_zero} of {n_cols} singular values are exactly 0, covering "
                                 f"BEMA's fit window [{window[0]}, {window[-1]}]: no MP fit")
    return bema.fit(np.sort(s ** 2 / n_rows), n_rows, n_cols, alpha=alpha, tw_level=beta)


def matrix_spectrum(matrix: torch.Tensor, alpha: float = 0.1, beta: float = 0.1, name: str = "layer",
                    known_rank: int | None = None) -> LayerSpectrum:
    """SVD (float64) and BEMA lambda_+ of an ``out x in`` matrix. ``known_rank``: the matrix is a
    product of rank-r factors, so its singular values beyond r are set to exactly 0."""
    from core.validate import InvalidArgument, check_float
    # Checked here, not left to BEMA's window test: a bad alpha would read as "unfittable".
    alpha = check_float("alpha", alpha, 0.0, 0.5, lo_open=True, hi_open=True)
    beta = check_float("beta", beta, 0.0, 1.0, lo_open=True, hi_open=True)
    matrix = torch.as_tensor(matrix)
    if matrix.is_complex():
        raise InvalidArgument(f"{name}: weights must be real, got dtype {matrix.dtype}")
    if matrix.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D weight matrix, got shape {tuple(matrix.shape)}")
    if min(matrix.shape) < 2:
        raise UnfittableSpectrum(f"{name}: matrix of shape {tuple(matrix.shape)} is too small for an MP fit")
    check_finite(matrix, name)
    m64 = matrix.detach().to(torch.float64)
    U, s, Vh = torch.linalg.svd(m64, full_matrices=False)
    if known_rank is not None:
        # W = A B has rank <= r exactly; float rounding leaves ~1e-7-relative values in place of
        # the zeros, which would otherwise drag BEMA's sigma^2 towards 0 without being flagged.
        s = s.clone()
        s[known_rank:] = 0.0
    n_out, n_in = m64.shape
    fit = bema_fit_singular_values(s.cpu().numpy(), n_out, n_in, alpha, beta)
    return LayerSpectrum(U, s, Vh, n_out, n_in, fit, float(fit.singular_value_threshold))


def layer_spectrum(layer_or_matrix, alpha: float = 0.1, beta: float = 0.1,
                   name: str = "layer", known_rank: int | None = None) -> LayerSpectrum:
    """Steps 4-6 of Algorithm 1 (steps 2-4 of Algorithm 3) on a Linear/Conv2d/factorised layer or
    a matrix; a factorised layer's rank is its known rank."""
    if isinstance(layer_or_matrix, nn.Module):
        if isinstance(layer_or_matrix, FACTORIZED_TYPES):
            known_rank = layer_or_matrix.rank
        return matrix_spectrum(weight_matrix(layer_or_matrix), alpha, beta, name, known_rank)
    return matrix_spectrum(layer_or_matrix, alpha, beta, name, known_rank)


def numerical_rank(s: torch.Tensor, n_out: int, n_in: int, dtype=torch.float32) -> int:
    """Rank with numpy/torch's default tolerance s_max * max(n, m) * eps(dtype of the weights):
    a layer already truncated in float32 has tiny, not zero, trailing singular values."""
    if s.numel() == 0 or float(s[0]) == 0.0:
        return 0
    tol = float(s[0]) * max(n_out, n_in) * torch.finfo(dtype).eps
    return int((s > tol).sum())


def kept_small_count(n_small: int, keep_fraction: float) -> int:
    """Number of small singular values kept: floor(f n_small) (Algorithm 1 step 9). The 1e-9 guard
    absorbs float error (0.29 * 100 = 28.999999999999996 must give 29)."""
    if not 0.0 <= keep_fraction <= 1.0:
        raise ValueError(f"keep fraction f(epoch) must lie in [0, 1], got {keep_fraction}")
    return min(n_small, math.floor(keep_fraction * n_small + 1e-9))


def planned_rank(spectrum: LayerSpectrum, keep_fraction: float) -> int:
    """Rank of W' after step 9: all singular values above the threshold plus the
    floor(f n_small) largest of the small ones."""
    return spectrum.n_above + kept_small_count(spectrum.n_small, keep_fraction)
