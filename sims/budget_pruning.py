"""Pruning a trained model's matrices at a parameter budget, three ways, for the comparisons of paper
003's abstract (``sims.paper003_abstract``, ``sims.weightwatcher_compare``): MP truncation of each
matrix's bulk (``nets.decide_model``, Algorithm 3 with a portion of the bulk removed, stored as a
low-rank parametrization where that saves parameters) against ``torch.nn.utils.prune``'s global L1
magnitude and random unstructured pruning of the same tensors.
"""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune


def prunable_tensors(model: nn.Module, layers: list[str]) -> list[tuple[nn.Module, str]]:
    """(module, tensor name) of the matrices every method prunes (same set for all three)."""
    from nets.layers import eligible_weights
    chosen = set(layers)
    return [(model.get_submodule(m), t) for m, t in eligible_weights(model) if m in chosen]


def mp_prune_level(model: nn.Module, layers: list[str], remove_fraction: float, *,
                   allow_rank_zero: bool, tau=None) -> tuple[nn.Module, int, list]:
    """A pruned copy: the portion ``remove_fraction`` of each matrix's bulk removed (Algorithm 3),
    as a low-rank parametrization; returns (model, weights saved when stored factorised, events)."""
    import nets
    pruned = copy.deepcopy(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nets.AllNoiseWarning)
        decisions = nets.decide_model(pruned, layers=layers, keep_fraction=1.0 - remove_fraction, tau=tau,
                                      allow_rank_zero=allow_rank_zero)
        for decision in decisions:
            decision.apply()
    events = [event for decision in decisions for event in decision]
    saved = sum(e.params_before - e.params_after for e in events if e.action == "parametrized")
    return pruned, int(saved), events


def unstructured_prune(model: nn.Module, layers: list[str], n_remove: int, method: str,
                       seed: int = 0) -> nn.Module:
    """A copy with ``n_remove`` weights zeroed over the prunable tensors by
    ``torch.nn.utils.prune.global_unstructured`` (L1 magnitude, or random)."""
    pruned = copy.deepcopy(model)
    params = prunable_tensors(pruned, layers)
    if n_remove <= 0:
        return pruned
    kind = {"magnitude": torch_prune.L1Unstructured, "random": torch_prune.RandomUnstructured}[method]
    torch.manual_seed(seed)
    torch_prune.global_unstructured(params, pruning_method=kind, amount=int(n_remove))
    return pruned


def count_trainable(model: nn.Module) -> int:
    """Parameters that require gradients (a parametrized layer counts its factors)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
