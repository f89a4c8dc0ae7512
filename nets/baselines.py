"""Baseline pruning methods as defined in paper 004 (Qian & Klabjan, ICML 2021), Section 4:
layer-wise magnitude-based and random pruning of weight-subnetworks, masks applied through
``torch.nn.utils.prune`` (so they compose with other torch pruning and can be made permanent
with ``prune.remove``).

Definitions (paper 004)
-----------------------
* Layers k = 1..l are the Linear/Conv2d modules in registration order. "We fix M_1 and M_l as the
  all 1 matrix": the first and last weight layers are never pruned.
* Counts: prune ``floor(gamma_k D_k)`` entries (compression ratio gamma_k) or, as in Theorems 1-2,
  ``floor(D_k^(1 - alpha))`` entries; D_k is the number of entries of W_k.
* Magnitude-based: zero the ``count`` entries of smallest |w| (ties broken by flattened index,
  as a stable sort would; torch's l1_unstructured uses topk and may break ties differently).
* Random: starting from M_k = 1, repeat ``count`` times: pick i, j uniformly, set (M_k)_ij = 0 --
  *with* replacement, so at most ``count`` entries are zeroed (Section 4 and footnote 3).
  ``replacement=False`` gives the "without-replacement" variant of Appendix E.2 (exactly count).
* CNNs (Section 5, Theorem 3): prune 2-D filters F_{s,t,:,:} instead of entries: random filter
  pruning draws ``floor(d^(2 - alpha))`` pairs (s, t) with replacement for d x d channels. For
  m x n channels we use P = m n filters and ``floor(P^(1 - alpha/2))`` (= d^(2 - alpha) when
  m = n = d). Magnitude filter pruning (Appendix C.2) zeroes the filters of smallest L1 norm.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from nets.layers import weight_layers as _weight_layers

UNITS = ("entries", "filters")


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Linear/Conv2d modules in registration order (paper 004's layers 1..l;
    ``nets.layers.weight_layers``)."""
    return _weight_layers(model)


def _units(module: nn.Module, unit: str) -> int:
    if unit == "entries":
        return module.weight.numel()
    if unit == "filters":
        if not isinstance(module, nn.Conv2d):
            raise ValueError("unit='filters' applies to Conv2d layers only")
        return module.weight.shape[0] * module.weight.shape[1]
    raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")


def count_to_prune(n_units: int, alpha: float | None = None, gamma: float | None = None,
                   unit: str = "entries") -> int:
    """floor(gamma D) or floor(D^(1 - alpha)) (entries; Theorems 1-2), floor(P^(1 - alpha/2)) for
    filters (Theorem 3 with P = d^2). Exactly one of alpha, gamma must be given."""
    if (alpha is None) == (gamma is None):
        raise ValueError("give exactly one of alpha (count D^(1-alpha)) or gamma (count gamma D)")
    if gamma is not None:
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"compression ratio gamma must lie in [0, 1], got {gamma}")
        return math.floor(gamma * n_units + 1e-9)
    if not 0.0 < alpha <= 1.0 * (2 if unit == "filters" else 1):
        raise ValueError(f"alpha must lie in (0, {2 if unit == 'filters' else 1}], got {alpha}")
    exponent = 1.0 - alpha / 2 if unit == "filters" else 1.0 - alpha
    # floor(D^e) computed in floats: guard values a hair below an integer
    return math.floor(n_units ** exponent + 1e-9)


def pruning_counts(model: nn.Module, alpha=None, gamma=None, unit: str = "entries") -> dict[str, int]:
    """Per-layer counts for the interior layers (first and last are kept: count 0 is not listed)."""
    layers = weight_layers(model)
    if len(layers) < 3:
        raise ValueError(f"paper 004 keeps the first and last layers; the model has only {len(layers)} "
                         "weight layers, so nothing can be pruned")
    out = {}
    for name, m in layers[1:-1]:
        if unit == "filters" and not isinstance(m, nn.Conv2d):
            continue
        out[name] = count_to_prune(_units(m, unit), alpha, gamma, unit)
    return out


def _check_counts(model: nn.Module, counts: dict[str, int], unit: str) -> list[tuple[str, nn.Module, int]]:
    layers = weight_layers(model)
    names = [n for n, _ in layers]
    protected = {names[0], names[-1]} if names else set()
    mods = dict(layers)
    chosen = []
    for name, c in counts.items():
        if name not in mods:
            raise ValueError(f"no Linear/Conv2d layer named {name!r}")
        if name in protected:
            raise ValueError(f"layer {name!r} is the first or last weight layer, kept by paper 004")
        n_units = _units(mods[name], unit)
        if not (isinstance(c, int) and 0 <= c <= n_units):
            raise ValueError(f"{name}: count must be an integer in [0, {n_units}], got {c!r}")
        if not torch.isfinite(mods[name].weight).all():
            raise ValueError(f"{name}: weights contain NaN or inf")
        chosen.append((name, mods[name], c))
    return chosen


def _expand_filter_mask(filter_mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return filter_mask[:, :, None, None].expand_as(weight).clone()


def _resolve(model, alpha, gamma, counts, unit):
    if counts is None:
        counts = pruning_counts(model, alpha, gamma, unit)
    elif alpha is not None or gamma is not None:
        raise ValueError("give counts or alpha/gamma, not both")
    return _check_counts(model, counts, unit)


def magnitude_prune(model: nn.Module, alpha=None, gamma=None, counts: dict | None = None,
                    unit: str = "entries") -> list[dict]:
    """Layer-wise magnitude pruning (paper 004 Section 4; filters by L1 norm, Appendix C.2)."""
    events = []
    for name, m, c in _resolve(model, alpha, gamma, counts, unit):
        w = m.weight.detach()
        scores = w.abs() if unit == "entries" else w.abs().sum(dim=(2, 3))
        flat = scores.flatten()
        order = torch.sort(flat, stable=True).indices
        unit_mask = torch.ones_like(flat, dtype=torch.bool)
        unit_mask[order[:c]] = False
        unit_mask = unit_mask.reshape(scores.shape)
        mask = unit_mask if unit == "entries" else _expand_filter_mask(unit_mask, w)
        torch_prune.custom_from_mask(m, "weight", mask=mask)
        events.append({"layer": name, "method": "magnitude", "unit": unit, "units": flat.numel(),
                       "count": c, "units_zeroed": int((~unit_mask).sum()),
                       "weights_zeroed": int((~mask).sum())})
    return events


def random_prune(model: nn.Module, alpha=None, gamma=None, counts: dict | None = None,
                 unit: str = "entries", replacement: bool = True, seed: int = 0) -> list[dict]:
    """Layer-wise random pruning (paper 004 Section 4, with replacement; Appendix E.2 without)."""
    gen = torch.Generator().manual_seed(seed)
    events = []
    for name, m, c in _resolve(model, alpha, gamma, counts, unit):
        w = m.weight.detach()
        shape = w.shape if unit == "entries" else w.shape[:2]
        n_units = math.prod(shape)
        if replacement:
            picks = torch.randint(0, n_units, (c,), generator=gen)
        else:
            picks = torch.randperm(n_units, generator=gen)[:c]
        unit_mask = torch.ones(n_units, dtype=torch.bool)
        unit_mask[picks] = False
        unit_mask = unit_mask.reshape(shape).to(w.device)
        mask = unit_mask if unit == "entries" else _expand_filter_mask(unit_mask, w)
        torch_prune.custom_from_mask(m, "weight", mask=mask)
        events.append({"layer": name, "method": "random", "unit": unit, "replacement": replacement,
                       "units": n_units, "count": c, "draws_distinct": int(torch.unique(picks).numel()),
                       "units_zeroed": int((~unit_mask).sum()), "weights_zeroed": int((~mask).sum())})
    return events
