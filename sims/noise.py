"""Noise ensembles R and spiked matrices W = R + S for the Monte Carlo checks.

R is N x M (n_rows x n_cols) with iid entries of mean 0 and variance ``var_scale / n_rows``
(paper Assumption 4.1 with var_scale = 1; Example A.1 is the Gaussian N = M case).  Three
ensembles with the same first two moments.  Only the Gaussian one is (orthogonally) invariant:
Theorem A.1 assumes bi-unitary invariance (Assumption 4.4), which Rademacher and uniform entries
lack, so with them the checks test the universality of the first-order limits for iid entries
(isotropic local laws: Bloemendal, Erdos, Knowles, Yau & Yin 2014), beyond the paper's assumptions:

* ``gaussian``:   sqrt(v) * N(0, 1)
* ``rademacher``: sqrt(v) * (+-1 with probability 1/2 each)
* ``uniform``:    U(-sqrt(3 v), sqrt(3 v))   (variance a^2 / 3 = v)

with v = var_scale / n_rows.  Fourth moments E x^4 / v^2: 3, 1 and 9/5 respectively.

Reproducibility scheme: every trial has its own CPU generator, ``sims.device.trial_generator(seed,
trial)``; its matrix is drawn on the CPU in the requested dtype and then moved to the device.  A
trial's numbers therefore depend only on (seed, trial, kind, shape, dtype): not on the batch size,
on which other trials ran, or on the device.  (Drawing on the GPU would be faster, but CUDA and CPU
generators give different streams, so CPU and GPU runs would no longer agree.)
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from sims.device import trial_generator

__all__ = ["NOISE_KINDS", "sample_noise", "sample_trials", "spiked_matrix", "SpikedSample",
           "FOURTH_MOMENT"]

NOISE_KINDS = ("gaussian", "rademacher", "uniform")
# E x^4 / (E x^2)^2 of one entry: known constants used by the tests.
FOURTH_MOMENT = {"gaussian": 3.0, "rademacher": 1.0, "uniform": 9.0 / 5.0}


def _check_shape(batch, n_rows, n_cols) -> None:
    for name, val in (("batch", batch), ("n_rows", n_rows), ("n_cols", n_cols)):
        if isinstance(val, bool) or int(val) != val or val < 1:
            raise ValueError(f"{name} must be a positive integer, got {val!r}")


def _draw_standard(kind: str, shape, gen: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """Entries with mean 0, variance 1."""
    if kind == "gaussian":
        return torch.randn(shape, generator=gen, dtype=dtype)
    if kind == "rademacher":
        return torch.randint(0, 2, shape, generator=gen, dtype=torch.int8).to(dtype).mul_(2).sub_(1)
    if kind == "uniform":
        return torch.rand(shape, generator=gen, dtype=dtype).mul_(2).sub_(1).mul_(3.0 ** 0.5)
    raise ValueError(f"unknown noise kind {kind!r}; choose one of {NOISE_KINDS}")


def sample_noise(kind: str, batch: int, n_rows: int, n_cols: int, var_scale: float = 1.0,
                 generator: torch.Generator | Sequence[torch.Generator] | None = None,
                 device: torch.device | str | None = None,
                 dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A (batch, n_rows, n_cols) tensor of iid entries, variance ``var_scale / n_rows``.

    ``generator``: one CPU generator (the batch is drawn from it in order) or a sequence of
    ``batch`` CPU generators, one per matrix (what ``sample_trials`` passes: trial-wise streams).
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; choose one of {NOISE_KINDS}")
    _check_shape(batch, n_rows, n_cols)
    var_scale = float(var_scale)
    if not (var_scale > 0 and var_scale < float("inf")):
        raise ValueError(f"var_scale must be finite and > 0, got {var_scale!r}")
    if not dtype.is_floating_point:
        raise ValueError(f"dtype must be floating point, got {dtype}")
    if generator is None:
        raise ValueError("pass a generator (e.g. sims.device.trial_generator(seed, trial, device)); "
                         "unseeded draws are not reproducible")
    gens = list(generator) if isinstance(generator, Sequence) else None
    if gens is not None and len(gens) != batch:
        raise ValueError(f"got {len(gens)} generators for a batch of {batch}")
    scale = (var_scale / n_rows) ** 0.5
    out = torch.empty((batch, n_rows, n_cols), dtype=dtype)
    for k in range(batch):
        gen = gens[k] if gens is not None else generator
        out[k] = _draw_standard(kind, (n_rows, n_cols), gen, dtype)
    out.mul_(scale)
    return out.to(device) if device is not None else out


def sample_trials(kind: str, seed: int, trials: Sequence[int], n_rows: int, n_cols: int,
                  var_scale: float = 1.0, device=None, dtype=torch.float64) -> torch.Tensor:
    """Noise for the given trial indices, trial t drawn from ``trial_generator(seed, t)``."""
    gens = [trial_generator(seed, int(t), torch.device("cpu")) for t in trials]
    return sample_noise(kind, len(gens), n_rows, n_cols, var_scale, gens, device, dtype)


@dataclass
class SpikedSample:
    """W = R + S for a batch: W (B, N, M); the spike directions U_S (B, N, r), V_S (B, M, r)."""

    W: torch.Tensor
    U_S: torch.Tensor
    V_S: torch.Tensor
    theta: torch.Tensor   # (r,), descending


def _haar_frame(gen: torch.Generator, n: int, r: int, dtype) -> torch.Tensor:
    """n x r matrix with orthonormal columns, Haar distributed (QR of a Gaussian, signs fixed)."""
    Q, Rm = torch.linalg.qr(torch.randn((n, r), generator=gen, dtype=dtype))
    return Q * torch.sign(torch.diagonal(Rm)).unsqueeze(0)


def spiked_matrix(theta, n_rows: int, n_cols: int, *, seed: int, trials: Sequence[int],
                  noise: str = "gaussian", var_scale: float = 1.0, vectors: str = "diagonal",
                  device=None, dtype=torch.float64) -> SpikedSample:
    """W = R + S, S = sum_i theta_i u_i v_i^T (paper (4.6), Example A.1), one matrix per trial.

    ``vectors="diagonal"``: u_i = e_i, v_i = e_i (the paper's diagonal S of Example 4.2 / Fig 4.3);
    ``vectors="random"``: Haar-random orthonormal u_i (N-dim) and v_i (M-dim), drawn from the trial's
    generator after R.  theta must be distinct, positive, at most min(N, M) of them; returned sorted
    descending (the i-th singular triplet of W is compared with the i-th largest theta).
    """
    th = torch.as_tensor(theta, dtype=torch.float64).flatten()
    if th.numel() == 0:
        raise ValueError("theta is empty")
    if not bool(torch.isfinite(th).all()) or bool((th <= 0).any()):
        raise ValueError(f"spike strengths theta must be finite and > 0, got {th.tolist()}")
    if th.unique().numel() != th.numel():
        raise ValueError(f"spike strengths must be distinct (Theorem A.4 assumes multiplicity 1), "
                         f"got {th.tolist()}")
    _check_shape(1, n_rows, n_cols)
    r = th.numel()
    if r > min(n_rows, n_cols):
        raise ValueError(f"{r} spikes do not fit in a {n_rows} x {n_cols} matrix")
    if vectors not in ("diagonal", "random"):
        raise ValueError(f"vectors must be 'diagonal' or 'random', got {vectors!r}")
    th = th.sort(descending=True).values
    gens = [trial_generator(seed, int(t), torch.device("cpu")) for t in trials]
    W = sample_noise(noise, len(gens), n_rows, n_cols, var_scale, gens, None, dtype)
    B = len(gens)
    if vectors == "diagonal":
        U_S = torch.zeros((B, n_rows, r), dtype=dtype)
        V_S = torch.zeros((B, n_cols, r), dtype=dtype)
        idx = torch.arange(r)
        U_S[:, idx, idx] = 1
        V_S[:, idx, idx] = 1
        W[:, idx, idx] += th.to(dtype)
    else:
        U_S = torch.stack([_haar_frame(g, n_rows, r, dtype) for g in gens])
        V_S = torch.stack([_haar_frame(g, n_cols, r, dtype) for g in gens])
        W += (U_S * th.to(dtype)) @ V_S.transpose(-1, -2)
    if device is not None:
        W, U_S, V_S = W.to(device), U_S.to(device), V_S.to(device)
    return SpikedSample(W, U_S, V_S, th)
