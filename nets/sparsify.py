"""Sparsification of paper 000 Section 3.2.1 (after Example 3.2) and Section 3.2.2:

* after training: set to zero every weight with |w| < xi and sweep xi, recording accuracy against
  the number of parameters kept (Figs 3.6, 3.9, 3.11) -- ``sparsification_sweep``;
* during training: every few epochs set to zero the weights with |w| < zeta(epoch), zeta growing
  linearly from 0.001 at the first epoch to 0.02 at the last -- ``ThresholdSparsificationCallback``.

"Weights" are the weight tensors of every nn.Linear / nn.Conv2d, including the factors of layers
split by MP pruning; biases and BatchNorm parameters are left alone (the paper speaks of weights).
Two ways to zero:

* ``use_masks=True``: ``torch.nn.utils.prune.custom_from_mask``; the zeros persist through further
  training (weight = weight_orig * mask) and combine with earlier masks. Note the module then has
  ``weight_orig`` + ``weight_mask`` in its state_dict; call ``torch.nn.utils.prune.remove`` (or
  ``make_permanent``) before saving with a plain-layer structure.
* ``use_masks=False``: the small entries are overwritten with 0 in place (checkpoint friendly;
  training may regrow them until the next sparsification).

"Parameters kept" = trainable parameters minus the weight entries that are zero (after the
threshold); it includes biases, as the paper's parameter counts do (Tables 3.2, 3.5).
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Iterable

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from core.validate import InvalidArgument
from nets.layers import count_parameters, weight_layers


def weight_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) for every Linear/Conv2d, factors of split layers included
    (``nets.layers.weight_layers``)."""
    return weight_layers(model)


def count_trainable(model: nn.Module) -> int:
    """Trainable parameter count, with a pruned weight counted once (weight_orig is the Parameter,
    the mask a buffer)."""
    return count_parameters(model)


def zero_weight_count(model: nn.Module) -> int:
    """Entries of the effective weights (masked if a prune mask is present) that are exactly 0."""
    return sum(int((m.weight == 0).sum()) for _, m in weight_modules(model))


def parameters_kept(model: nn.Module) -> int:
    """Trainable parameters minus zero weight entries."""
    return count_trainable(model) - zero_weight_count(model)


def _check_threshold(value: float, what: str) -> float:
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise InvalidArgument(f"{what} must be a finite number >= 0, got {value}")
    return value


def sparsify(model: nn.Module, threshold: float, use_masks: bool = False) -> dict:
    """Set to zero all weights with |w| < threshold (strict, "smaller than"). Returns counts.
    Raises ValueError on NaN/inf weights (|NaN| < xi is False: they would survive silently)."""
    threshold = _check_threshold(threshold, "sparsification threshold")
    newly = 0
    for name, m in weight_modules(model):
        w = m.weight.detach()
        if not torch.isfinite(w).all():
            raise InvalidArgument(f"layer {name!r} has non-finite weights; cannot sparsify")
        small = w.abs() < threshold
        newly += int((small & (w != 0)).sum())
        if use_masks:
            torch_prune.custom_from_mask(m, "weight", mask=~small)
        else:
            with torch.no_grad():
                target = m.weight_orig if hasattr(m, "weight_orig") else m.weight
                target.masked_fill_(small, 0.0)
    return {"threshold": threshold, "newly_zeroed": newly, "zero_weights": zero_weight_count(model),
            "parameters": count_trainable(model), "parameters_kept": parameters_kept(model)}


def make_permanent(model: nn.Module) -> nn.Module:
    """Fold every torch.nn.utils.prune mask on a weight into the weight (prune.remove)."""
    for _, m in weight_modules(model):
        if torch_prune.is_pruned(m) and hasattr(m, "weight_orig"):
            torch_prune.remove(m, "weight")
    return model


def sparsification_sweep(model: nn.Module, thresholds: Iterable[float],
                         evaluate: Callable[[nn.Module], float], use_masks: bool = True) -> list[dict]:
    """Figs 3.6 / 3.9 / 3.11: for each xi, sparsify a deep copy of the trained model and evaluate.
    ``evaluate(model) -> accuracy``. Rows: xi, parameters_kept, fraction_kept, accuracy."""
    total = count_trainable(model)
    rows = []
    for xi in thresholds:
        clone = copy.deepcopy(model)
        counts = sparsify(clone, xi, use_masks=use_masks)
        rows.append({"xi": counts["threshold"], "parameters": total,
                     "parameters_kept": counts["parameters_kept"],
                     "fraction_kept": counts["parameters_kept"] / total,
                     "accuracy": float(evaluate(clone))})
    return rows


def linear_zeta(epoch: int, epochs: int, zeta_start: float = 0.001, zeta_end: float = 0.02) -> float:
    """zeta at ``epoch`` (1-based, epochs completed): zeta_start at epoch 1, zeta_end at the last
    epoch, linear in between (Section 3.2.1: "initially 0.001 ... by the end of training 0.02")."""
    if epochs < 1 or not 1 <= epoch:
        raise InvalidArgument(f"need 1 <= epoch and epochs >= 1, got epoch={epoch}, epochs={epochs}")
    if epochs == 1:
        return zeta_end
    t = min(epoch - 1, epochs - 1) / (epochs - 1)
    return zeta_start + (zeta_end - zeta_start) * t


class ThresholdSparsificationCallback:
    """Sparsification during training with a linearly growing threshold zeta (Section 3.2.1).
    ``on_epoch_end(model, epoch)`` with epoch = epochs completed; acts every ``every`` epochs."""

    def __init__(self, epochs: int, zeta_start: float = 0.001, zeta_end: float = 0.02, every: int = 1,
                 use_masks: bool = False):
        if every < 1:
            raise InvalidArgument(f"every must be >= 1, got {every}")
        _check_threshold(zeta_start, "zeta_start")
        _check_threshold(zeta_end, "zeta_end")
        self.epochs, self.zeta_start, self.zeta_end = int(epochs), float(zeta_start), float(zeta_end)
        self.every, self.use_masks = int(every), bool(use_masks)

    def on_epoch_end(self, model: nn.Module, epoch: int) -> list[dict]:
        if epoch % self.every:
            return []
        zeta = linear_zeta(epoch, self.epochs, self.zeta_start, self.zeta_end)
        counts = sparsify(model, zeta, use_masks=self.use_masks)
        return [{"step": "sparsify", "action": "sparsify", "epoch": int(epoch), "zeta": zeta, **counts}]

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        return None


def make_sparsification_callback(spec: dict, epochs: int) -> ThresholdSparsificationCallback:
    """Build the during-training callback from a config dict {"kind": "during", "zeta_start",
    "zeta_end", "every"} (nets.configs)."""
    if spec.get("kind") != "during":
        raise InvalidArgument(f"sparsification spec kind must be 'during', got {spec.get('kind')!r}")
    known = {"kind", "zeta_start", "zeta_end", "every", "use_masks"}
    unknown = set(spec) - known
    if unknown:
        raise InvalidArgument(f"unknown sparsification options {sorted(unknown)}")
    return ThresholdSparsificationCallback(epochs, spec.get("zeta_start", 0.001), spec.get("zeta_end", 0.02),
                                           spec.get("every", 1), spec.get("use_masks", False))
