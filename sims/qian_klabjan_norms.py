"""Spectral norms for ``sims.qian_klabjan`` and ``sims.paper004_theorems`` (batched, float64), and the seed
of one table row's trial streams.
"""
from __future__ import annotations

import numpy as np
import torch


def spectral_norms(mats: torch.Tensor) -> np.ndarray:
    """||A||_2 for a batch (..., m, n): sqrt of the top eigenvalue of the smaller Gram matrix.

    eigvalsh of A A^T (or A^T A) in float64 gives the top singular value to relative accuracy ~1e-16
    (the eigenvalue error is ~eps ||A||^2).  It also avoids LAPACK's batched SVD of wide
    matrices (``svdvals``), which was orders of magnitude slower on a loaded machine."""
    if mats.ndim < 2:
        raise ValueError(f"need a (batch of) matrix, got shape {tuple(mats.shape)}")
    a = mats.to(torch.float64)
    gram = a @ a.transpose(-1, -2) if a.shape[-2] <= a.shape[-1] else a.transpose(-1, -2) @ a
    top = torch.linalg.eigvalsh(gram)[..., -1].clamp_min(0.0)
    return top.sqrt().cpu().numpy().astype(float)


def spectral_norm(mat: torch.Tensor) -> float:
    """||A||_2 of one matrix (see :func:`spectral_norms`)."""
    return float(spectral_norms(mat[None])[0])


def row_seed(seed: int, table: int, row: int) -> int:
    # Each table row gets its own stream; trials within a row are independent of chunking.
    return seed * 1_000_003 + table * 10_007 + row
