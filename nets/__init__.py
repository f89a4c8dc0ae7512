"""Networks, training and MP-based pruning (paper 000 Section 3, Appendices D-E; paper 001; paper 003).

The public pruning API, in the style of ``torch.nn.utils.prune`` / ``torch.nn.utils.parametrize``
(see ``nets.prune``): ``mp_decide`` / ``decide_model`` (decide, change nothing), ``mp_prune`` /
``prune_model`` (apply; return the module), ``remove``, ``factorize``, ``mp_pruned_ranks``,
``load_pruned_state_dict``, the typed ``PruneEvent`` and ``MPDecision``; which layers are eligible:
``eligible_weights`` / ``weight_layers`` (``nets.layers``).

The library's modules, one concern each: ``nets.prune`` (the API above: one module or model at a
time), ``nets.algorithms`` (the papers' algorithms built on it: Algorithm 1's rounds and its
training callback, Algorithm 3, paper 001's split), ``nets.layers`` (two-factor layers and matrix
views), ``nets.models`` / ``nets.configs`` / ``nets.data`` / ``nets.train`` (the Section 3 nets,
their settings, datasets and resumable training), ``nets.spectrum`` / ``nets.spectral_report``
(spectra of any model).  Experiments live in ``sims`` (``python -m sims --list``).
"""
from nets.layers import eligible_weights, weight_layers
from nets.prune import (
    AllNoiseWarning,
    LowRankProjection,
    MPDecision,
    PruneEvent,
    available_rules,
    decide_model,
    factorize,
    is_mp_pruned,
    load_pruned_state_dict,
    mp_decide,
    mp_prune,
    mp_pruned_ranks,
    prune_model,
    remove,
)

__all__ = ["mp_decide", "decide_model", "mp_prune", "remove", "factorize", "prune_model", "mp_pruned_ranks",
           "load_pruned_state_dict", "PruneEvent", "MPDecision",
           "AllNoiseWarning", "LowRankProjection", "is_mp_pruned", "available_rules", "eligible_weights",
           "weight_layers"]
