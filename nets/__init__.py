"""Networks, training and MP-based pruning (paper 000 Section 3, Appendices D-E; paper 001; paper 003).

The public pruning API, in the style of ``torch.nn.utils.prune`` / ``torch.nn.utils.parametrize``
(see ``nets.prune``): ``mp_prune``, ``remove``, ``factorize``, ``prune_model``,
``load_pruned_state_dict``, the typed ``PruneEvent``; which layers are eligible:
``eligible_weights`` / ``weight_layers`` (``nets.layers``).
"""
from nets.layers import eligible_weights, weight_layers
from nets.prune import (
    AllNoiseWarning,
    LowRankProjection,
    PruneEvent,
    available_rules,
    factorize,
    is_mp_pruned,
    load_pruned_state_dict,
    mp_prune,
    prune_model,
    remove,
)

__all__ = ["mp_prune", "remove", "factorize", "prune_model", "load_pruned_state_dict", "PruneEvent",
           "AllNoiseWarning", "LowRankProjection", "is_mp_pruned", "available_rules", "eligible_weights",
           "weight_layers"]
