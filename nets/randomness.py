"""Measurable "randomness" of a weight matrix, for paper 003's two theorems (its abstract: "the
randomness in the weight matrices of a DNN decreases as the weights approach a local or global
minimum"; "DNN loss decreases as we remove randomness in the weight layers").

The abstract does not define randomness; these are the RMT readings of it used here, all from the
BEMA fit of ``nets.spectrum`` (tall orientation, eigenvalues of X = W^T W / N, N = max(out, in)):

* ``sigma2``: BEMA's noise variance (Algorithm 2): the scale of the random part;
* ``bulk_fraction``: the fraction of singular values at or below the edge sqrt(lambda_+ N), i.e.
  inside the fitted MP bulk;
* ``fit_statistic``: Algorithm 4's sup distance between the spectrum and the fitted MP law
  (small = the matrix looks like MP noise);
* ``bulk_energy_fraction``: ||W - W_spikes||_F^2 / ||W||_F^2, the share of the Frobenius energy
  below the edge;
* ``spike_norm``: ||W_spikes||_F, the norm of the part above the edge (the "signal").

Randomness *decreases* when sigma2, bulk_fraction, fit quality as MP (1 - fit_statistic) and
bulk_energy_fraction go down and spike_norm goes up.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from nets.spectrum import UnfittableSpectrum, matrix_spectrum

MEASURES = ("sigma2", "bulk_fraction", "fit_statistic", "bulk_energy_fraction", "spike_norm")


def randomness(matrix: torch.Tensor, alpha: float = 0.1, beta: float = 0.1) -> dict:
    """The measures of the module docstring for one ``out x in`` matrix (NaN when unfittable)."""
    try:
        spec = matrix_spectrum(matrix, alpha, beta)
    except UnfittableSpectrum:
        return {m: math.nan for m in MEASURES} | {"n_singular": min(matrix.shape), "n_above": None}
    s = spec.s.cpu().numpy()
    above = s > spec.threshold
    energy = float((s ** 2).sum())
    return {"sigma2": float(spec.fit.sigma2), "bulk_fraction": float(1 - above.mean()),
            "fit_statistic": float(spec.fit.mp_fit_error),
            "bulk_energy_fraction": float((s[~above] ** 2).sum() / energy) if energy > 0 else math.nan,
            "spike_norm": float(np.sqrt((s[above] ** 2).sum())), "n_singular": int(s.size),
            "n_above": int(above.sum())}


def model_matrices(model: nn.Module, layers: list[str] | None = None) -> dict[str, torch.Tensor]:
    """name -> ``out x in`` matrix for every eligible weight (``nets.layers.eligible_weights``);
    a packed attention ``in_proj_weight`` gives three entries ``<name>.q/.k/.v``."""
    from nets.layers import eligible_weights
    out = {}
    for name, tensor in eligible_weights(model):
        if layers is not None and name not in layers:
            continue
        w = getattr(model.get_submodule(name), tensor).detach()
        w = w.reshape(w.shape[0], -1)
        if tensor == "in_proj_weight":
            for label, block in zip("qkv", w.chunk(3, 0)):
                out[f"{name}.{label}"] = block
        else:
            out[name] = w
    return out


def model_randomness(model: nn.Module, layers: list[str] | None = None, alpha: float = 0.1,
                     beta: float = 0.1) -> list[dict]:
    """One row per matrix: ``{"matrix": name, "shape": [out, in], **randomness(...)}``."""
    return [{"matrix": n, "shape": list(m.shape), **randomness(m, alpha, beta)}
            for n, m in model_matrices(model, layers).items()]
