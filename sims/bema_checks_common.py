"""What the checks of ``sims.bema_checks`` share: the readings of BEMA's step 3, the level beta of
Remark D.1, the random streams (one generator per trial, disjoint index ranges per check), pure-noise
spectra (torch float64, ``eigvalsh`` of the smaller Gram matrix), batches run here or through
``sims.parallel``, and the interval text of the verdict notes.
"""
from __future__ import annotations

import numpy as np
import torch

from core import cli
from sims.device import trial_generator
from sims.parallel import map_tasks

LEVEL_READINGS = ("lower", "midpoint", "upper")
BETA = 0.1      # Remark D.1: the paper's alpha = beta = 0.1
# trial-index offsets keep the experiments' random streams disjoint
TRIAL_OFFSET = {"d1": 0, "calibration": 10**7, "spikes": 2 * 10**7}


def progress_bar(iterable, progress: bool, **kwargs):
    """A progress bar on a terminal (core.cli.progress) when ``progress``, else the iterable."""
    return cli.progress(iterable, **kwargs) if progress else iterable


def gaussian_matrix(n_rows, n_cols, seed, index, device):
    gen = trial_generator(seed, index, device)
    return torch.randn(n_rows, n_cols, generator=gen, dtype=torch.float64).to(device), gen


def noise_spectra(n_rows: int, n_cols: int, indices, seed: int, device, batch: int = 50) -> np.ndarray:
    """Spectra of X = W^T W / N for unit-variance Gaussian W, one per trial index (rows ascending).
    Each matrix comes from its own generator; eigvalsh runs batched."""
    out = []
    indices = list(indices)
    for start in range(0, len(indices), batch):
        W = torch.stack([gaussian_matrix(n_rows, n_cols, seed, i, device)[0] for i in indices[start:start + batch]])
        out.append(spectrum_of(W))
    return np.concatenate(out) if out else np.zeros((0, n_cols))


def spectrum_of(W: torch.Tensor) -> np.ndarray:
    """All M eigenvalues of X = W^T W / N (ascending), from the smaller Gram matrix."""
    n_rows, n_cols = W.shape[-2:]
    if n_cols <= n_rows:
        ev = torch.linalg.eigvalsh(W.mT @ W / n_rows)
    else:
        ev = torch.linalg.eigvalsh(W @ W.mT / n_rows)
        ev = torch.cat([torch.zeros(*ev.shape[:-1], n_cols - n_rows, dtype=ev.dtype, device=ev.device),
                        ev], dim=-1)
    return ev.clamp_min(0.0).cpu().numpy()


def map_batches(fn, tasks, parallel: dict | None, progress: bool, desc: str) -> list:
    """Tasks in this process (with a progress bar), or through sims.parallel.map_tasks."""
    if parallel and (parallel["jobs"] > 1 or parallel["backend"] != "loky"):
        return map_tasks(fn, tasks, **parallel)
    return [fn(*t) for t in progress_bar(tasks, progress, desc=desc)]


def interval_text(r, key="exceed"):
    lo, hi = r[f"{key}_ci"]
    return f"N={r['N']} c={r['ratio']:g}: {r[key]:.3f} [{lo:.3f},{hi:.3f}]"
