"""MP-based pruning of any torch model, in the style of ``torch.nn.utils.prune`` and
``torch.nn.utils.parametrize``.

    import nets
    event = nets.mp_prune(model.fc1)                 # low-rank parametrization of fc1.weight
    events = nets.prune_model(model, tau=0.7)        # every eligible layer (nets.layers.eligible_weights)
    nets.remove(model.fc1)                           # make it permanent: a plain dense weight W'
    model.fc2 = nets.factorize(model.fc2)            # two-factor layer when r (n + m) < n m

What ``mp_prune(module, name)`` does (paper 000 Algorithm 3 / Algorithm 1 steps 4-9, one matrix):
SVD of the weight (as the ``out x in`` matrix; Conv2d: the m x (n p q) reshape of Section 3.2.2),
BEMA lambda_+ (Algorithm 2, ``theory.bema``), the MP fit statistic (Algorithm 4; the layer is left
alone when ``tau`` is given and the statistic exceeds it), then the rule:

* ``rule="mp"`` (the papers' rule, default): keep every singular value above ``sqrt(lambda_+ N)``
  and the ``floor(keep_fraction n_small)`` largest of the small ones (``keep_fraction=0``:
  Algorithm 3 with all of them removed, Example D.3; Algorithm 1 uses f(epoch));
* any rule of ``theory.shrinkage.shrink_singular_values`` (when that module is installed; see
  :func:`available_rules`): the singular values are replaced by the rule's, U and V kept.
  ``keep_fraction`` f acts as Algorithm 1 step 9 does for "mp", with the rule's zeros in place of
  the small singular values: of the n_zero singular values the rule sets to 0, the
  ``floor(f n_zero)`` largest are kept unchanged (f = 0, the default: the pure rule). The noise
  level the rule needs is ``noise_sigma`` (an entry standard deviation); by default the
  sqrt(sigma^2) of the layer's BEMA fit (then "truncate" is the MP edge without Algorithm 2's
  Tracy-Widom margin).

The result is registered as a parametrization ``weight = U_r diag(g) U_r^T W V_r V_r^T`` of the
unchanged original tensor (``module.parametrizations.weight.original``, the *same* Parameter
object, so an optimizer built before keeps training it; g = 1 for "mp", the shrinkage gains
otherwise). At registration this equals the truncated (or shrunk) SVD. Training afterwards stays
in the kept singular subspaces; :func:`factorize` gives the two-factor layer of Algorithm 1 step 10
whose factors train freely. ``module.weight``, forward hooks and ``state_dict`` keep working;
:func:`remove` writes W' into the weight (``restore=True``: undo), :func:`load_pruned_state_dict`
moves state_dicts between pruned and unpruned models of one architecture.

``nn.MultiheadAttention``: the packed ``in_proj_weight`` (3E x E) is three matrices, Q, K and V,
each fitted and truncated on its own (one parametrization with three blocks, three events);
``out_proj`` is a Linear. Embeddings (``nn.Embedding.weight``, rows = tokens) are eligible on
request.

torch.nn.utils.prune: a layer pruned with torch first keeps its mask, applied *after* the low-rank
map (``weight = mask * W'``; the parametrization sits on ``weight_orig``). torch's prune functions
refuse a tensor that is already parametrized (they need ``weight`` to be a Parameter): call
:func:`remove` first, or prune with torch before MP. Both orders are tested.

No silent rank 0: when every singular value lies in the noise bulk (an untrained layer) the rule
would keep nothing; the weight is then kept, with an :class:`AllNoiseWarning`, unless
``allow_rank_zero=True``.

Events (:class:`PruneEvent`) are typed; ``to_dict``/``from_dict`` give plain data (checkpoints).
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils import prune as torch_prune

from core.validate import InvalidArgument, check_choice, check_float, check_int, check_positive
from nets.layers import (
    FACTORISED_TYPES,
    count_parameters,
    eligible_weights,
    factorise,
    split_saves_parameters,
)
from nets.spectrum import LayerSpectrum, UnfittableSpectrum, check_finite, kept_small_count, \
    matrix_spectrum, numerical_rank, planned_rank

__all__ = ["PruneEvent", "AllNoiseWarning", "LowRankProjection", "mp_prune", "remove", "factorize",
           "prune_model", "load_pruned_state_dict", "is_mp_pruned", "available_rules", "mp_rank",
           "rule_singular_values", "check_rule", "check_noise_sigma"]

MP_RULE = "mp"
ATTENTION_BLOCKS = ("q", "k", "v")


class AllNoiseWarning(UserWarning):
    """The whole spectrum lies in the MP bulk: the rule would remove the layer (rank 0)."""


# --------------------------------------------------------------------------------------------
# the event
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PruneEvent:
    """One decision on one weight matrix (one block of a packed attention weight).

    ``shape`` is the ``out x in`` matrix; ``lambda_plus`` BEMA's edge for the eigenvalues of
    ``X = W^T W / N`` (tall orientation, N = max(out, in)) and ``sv_threshold = sqrt(lambda_+ N)``
    its value on singular values; ``fit_statistic`` Algorithm 4's sup distance; ``accepted`` is
    None when no ``tau`` was given. ``kept_singular_values`` / ``removed_singular_values`` are W's
    singular values (descending) that survive / are set to 0. ``params_before`` counts the weight
    entries of the matrix (or the layer's trainable parameters, for the Algorithm 1 steps);
    ``params_after`` what storing W' needs (r (n + m) when that is smaller, else n m).
    ``noise_sigma``: the noise entry standard deviation a shrinkage rule used (None for "mp").
    ``action``: parametrized | kept | none (fit rejected, unfittable, nothing to remove) for
    ``mp_prune``; split | dense | recombined | none for Algorithm 1/3 steps."""

    layer: str
    tensor: str
    kind: str
    shape: tuple[int, int]
    rule: str
    step: str
    action: str
    accepted: bool | None
    tau: float | None
    params_before: int
    params_after: int
    block: str | None = None
    sigma2: float | None = None
    lambda_plus: float | None = None
    lambda_plus_in_features: float | None = None
    sv_threshold: float | None = None
    fit_statistic: float | None = None
    n_singular: int | None = None
    n_above_threshold: int | None = None
    n_small: int | None = None
    keep_fraction: float | None = None
    rank_before: int | None = None
    rank_after: int | None = None
    n_removed: int = 0
    kept_singular_values: tuple[float, ...] = ()
    removed_singular_values: tuple[float, ...] = ()
    new_singular_values: tuple[float, ...] | None = None   # shrinkage rules only
    noise_sigma: float | None = None                       # shrinkage rules: entry sd used
    reason: str = ""
    variant: str | None = None
    epoch: int | None = None
    model_params_before: int | None = None
    model_params_after: int | None = None
    hypothetical_rank: int | None = None                   # Algorithm 1 steps 21-27
    hypothetical_weight_params: int | None = None
    current_weight_params: int | None = None

    @property
    def kept_sv_min(self) -> float | None:
        return self.kept_singular_values[-1] if self.kept_singular_values else None

    @property
    def removed_sv_max(self) -> float | None:
        return self.removed_singular_values[0] if self.removed_singular_values else None

    @property
    def removed_sv_sum_sq(self) -> float:
        return float(sum(v * v for v in self.removed_singular_values))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists for tuples): JSON and ``torch.load(weights_only=True)`` safe."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "PruneEvent":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise InvalidArgument(f"PruneEvent.from_dict: unknown fields {sorted(unknown)}")
        values = dict(data)
        for key in ("shape", "kept_singular_values", "removed_singular_values", "new_singular_values"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    def replace(self, **changes) -> "PruneEvent":
        return dataclasses.replace(self, **changes)


# --------------------------------------------------------------------------------------------
# the parametrization
# --------------------------------------------------------------------------------------------
class LowRankProjection(nn.Module):
    """``W -> U_r diag(g) U_r^T W V_r V_r^T`` block by block along dim 0 (the matrix view is
    ``W.reshape(W.shape[0], -1)``). Blocks of ``block_rows`` rows; a block with rank -1 is passed
    through. Buffers (all in the state_dict, so a pruned state_dict describes itself):
    ``block_rows``, ``block_ranks``, and per projected block i ``left{i}`` (rows x r, U_r),
    ``right{i}`` (cols x r, V_r) and, for shrinkage rules, ``gain{i}`` (r)."""

    def __init__(self, block_rows: list[int], bases: list[tuple | None]):
        super().__init__()
        if len(block_rows) != len(bases):
            raise ValueError("one basis (or None) per block")
        self.register_buffer("block_rows", torch.tensor(block_rows, dtype=torch.int64))
        ranks = [-1 if b is None else int(b[0].shape[1]) for b in bases]
        self.register_buffer("block_ranks", torch.tensor(ranks, dtype=torch.int64))
        for i, basis in enumerate(bases):
            if basis is None:
                continue
            left, right, gain = basis
            self.register_buffer(f"left{i}", left)
            self.register_buffer(f"right{i}", right)
            if gain is not None:
                self.register_buffer(f"gain{i}", gain)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        matrix = weight.reshape(weight.shape[0], -1)
        parts, start = [], 0
        for i, (rows, rank) in enumerate(zip(self.block_rows.tolist(), self.block_ranks.tolist())):
            block = matrix[start:start + rows]
            start += rows
            if rank < 0:
                parts.append(block)
                continue
            left, right = getattr(self, f"left{i}"), getattr(self, f"right{i}")
            core = left.T @ block @ right                     # r x r
            gain = getattr(self, f"gain{i}", None)
            if gain is not None:
                core = gain[:, None] * core
            parts.append(left @ core @ right.T)
        return torch.cat(parts, 0).reshape(weight.shape)

    def ranks(self) -> list[int]:
        return self.block_ranks.tolist()

    @classmethod
    def empty_like_state(cls, state: dict, prefix: str, dtype, device) -> "LowRankProjection":
        """A projection with the buffer shapes found in ``state`` under ``prefix`` (values are
        then loaded by ``load_state_dict``)."""
        rows = state[prefix + "block_rows"].tolist()
        ranks = state[prefix + "block_ranks"].tolist()
        bases = []
        for i, r in enumerate(ranks):
            if r < 0:
                bases.append(None)
                continue
            left = torch.empty(state[prefix + f"left{i}"].shape, dtype=dtype, device=device)
            right = torch.empty(state[prefix + f"right{i}"].shape, dtype=dtype, device=device)
            gain = (torch.empty(state[prefix + f"gain{i}"].shape, dtype=dtype, device=device)
                    if prefix + f"gain{i}" in state else None)
            bases.append((left, right, gain))
        return cls(rows, bases)


# --------------------------------------------------------------------------------------------
# rules
# --------------------------------------------------------------------------------------------
def _shrinkage():
    try:
        from theory import shrinkage  # written on another branch; optional until it lands
    except ImportError:
        return None
    return shrinkage if hasattr(shrinkage, "shrink_singular_values") else None


def available_rules() -> tuple[str, ...]:
    """"mp" plus the rules of ``theory.shrinkage`` when that module is present."""
    shrink = _shrinkage()
    extra = tuple(getattr(shrink, "RULES", ("truncate", "gd_threshold", "frobenius", "operator",
                                            "nuclear", "optshrink"))) if shrink else ()
    return (MP_RULE,) + tuple(r for r in extra if r != MP_RULE)


def mp_rank(spectrum: LayerSpectrum, keep_fraction: float) -> int:
    """Singular values kept by the "mp" rule: those above sqrt(lambda_+ N) plus
    floor(keep_fraction n_small) of the small ones."""
    return planned_rank(spectrum, keep_fraction)


def check_rule(rule: str) -> str:
    """``rule`` if it is one of :func:`available_rules`, else ``InvalidArgument`` naming ``rule``."""
    return check_choice("rule", rule, available_rules())


def check_noise_sigma(noise_sigma, rule: str) -> None:
    """None (the BEMA fit's level) or a number > 0 with a shrinkage rule, None with "mp"; else
    ``InvalidArgument`` naming ``noise_sigma``."""
    if noise_sigma is not None:
        if rule == MP_RULE:
            raise InvalidArgument(f"noise_sigma is used by the shrinkage rules only; rule 'mp' takes the "
                                  f"noise level from BEMA's fit, got noise_sigma={noise_sigma!r}")
        check_positive("noise_sigma", noise_sigma)


def _shrunk_values(spectrum: LayerSpectrum, rule: str, noise_sigma) -> np.ndarray:
    """The rule's singular values; ``noise_sigma`` is the entry sd of the noise (the caller's, or
    sqrt(sigma^2) of the layer's BEMA fit: the level the event reports and ``sims.shrinkage_pruning``
    uses)."""
    s = spectrum.s.cpu().numpy()
    n_rows, n_cols = max(spectrum.n_out, spectrum.n_in), min(spectrum.n_out, spectrum.n_in)
    new = np.asarray(_shrinkage().shrink_singular_values(s, n_rows, n_cols, rule, noise_sigma=noise_sigma),
                     dtype=np.float64)
    if new.shape != s.shape or not np.all(np.isfinite(new)) or np.any(new < 0):
        raise ValueError(f"theory.shrinkage rule {rule!r} returned {new.shape} values (need {s.shape}, "
                         "finite, >= 0)")
    kept = new > 0
    if kept.any() and not kept[: int(kept.sum())].all():
        raise ValueError(f"theory.shrinkage rule {rule!r} zeroed a singular value above one it kept")
    return new


def rule_singular_values(spectrum: LayerSpectrum, rule: str = MP_RULE, keep_fraction: float = 0.0,
                         noise_sigma=None) -> tuple[int, np.ndarray | None]:
    """(rank kept, new singular values) of a layer under ``rule``: the one decision behind
    ``mp_prune``, Algorithm 1 (steps 9 and 22) and Algorithm 3.

    "mp": rank = #{s > sqrt(lambda_+ N)} + floor(f n_small) (``mp_rank``), values None (the kept
    singular values are unchanged). Other rules: the rule's values at noise level ``noise_sigma``
    (None: sqrt(sigma^2) of the BEMA fit), with the floor(f n_zero) largest of the singular values
    it zeroes kept unchanged (module docstring); the array holds all min(n, m) values, 0 from index
    ``rank`` on."""
    if rule == MP_RULE:
        return mp_rank(spectrum, keep_fraction), None
    if noise_sigma is None:
        noise_sigma = math.sqrt(float(spectrum.fit.sigma2))
    new = _shrunk_values(spectrum, rule, noise_sigma)
    n_rule = int(np.count_nonzero(new > 0))
    rank = n_rule + kept_small_count(new.size - n_rule, keep_fraction)
    s = spectrum.s.cpu().numpy()
    new[n_rule:rank] = s[n_rule:rank]
    return rank, new


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _kind(module: nn.Module, tensor: str) -> str:
    if isinstance(module, nn.MultiheadAttention):
        return "attention"
    if isinstance(module, nn.Embedding):
        return "embedding"
    if isinstance(module, nn.modules.conv._ConvNd):
        return "conv"
    return "linear"


def _torch_pruned(module: nn.Module, name: str) -> bool:
    return any(isinstance(h, torch_prune.BasePruningMethod) and h._tensor_name == name
               for h in module._forward_pre_hooks.values())


def _refresh_torch_prune(module: nn.Module, name: str) -> None:
    """torch's prune recomputes ``weight = mask * weight_orig`` only in a forward pre-hook: do it
    now so that ``module.weight`` is current right after MP pruning / removal."""
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, torch_prune.BasePruningMethod) and hook._tensor_name == name:
            setattr(module, name, hook.apply_mask(module))


def _target(module: nn.Module, name: str) -> str:
    """The tensor the parametrization sits on: ``name``, or ``name_orig`` under a torch mask."""
    return name + "_orig" if _torch_pruned(module, name) else name


def is_mp_pruned(module: nn.Module, name: str = "weight") -> bool:
    target = _target(module, name)
    return parametrize.is_parametrized(module, target) and any(
        isinstance(p, LowRankProjection) for p in module.parametrizations[target])


def _default_blocks(module: nn.Module, name: str, rows: int) -> list[tuple[str | None, int]]:
    if isinstance(module, nn.MultiheadAttention) and name == "in_proj_weight":
        if rows % 3:
            raise InvalidArgument(f"in_proj_weight has {rows} rows, not 3 equal Q/K/V blocks")
        return [(b, rows // 3) for b in ATTENTION_BLOCKS]
    return [(None, rows)]


def _matrix_tensors(module: nn.Module) -> list[str]:
    """Names of the module's own parameters with >= 2 dimensions (what ``name`` may be)."""
    names = []
    for n, p in module.named_parameters(recurse=False):
        if p.ndim >= 2:
            names.append(n)
    if parametrize.is_parametrized(module):
        names += [n for n in module.parametrizations.keys() if getattr(module, n).ndim >= 2]
    return sorted({n.removesuffix("_orig") for n in names})


def _matrix_of(module: nn.Module, name: str) -> torch.Tensor:
    # any convolution (Conv1d/2d/3d): the out x (in k...) reshape is the layer's matrix only for
    # groups=1 (a grouped kernel is block-diagonal in that view, Section 3.2.2)
    if isinstance(module, nn.modules.conv._ConvNd) and name == "weight" and (
            module.groups != 1 or module.padding_mode != "zeros"):
        raise InvalidArgument(f"{type(module).__name__} with groups={module.groups}, padding_mode="
                              f"{module.padding_mode!r} has no single m x (n p q) matrix (Section 3.2.2): "
                              "groups must be 1, padding_mode 'zeros'")
    try:
        tensor = getattr(module, _target(module, name))
    except AttributeError:
        raise InvalidArgument(f"{type(module).__name__} has no tensor {name!r}; its weight matrices are "
                              f"{_matrix_tensors(module)}") from None
    if not isinstance(tensor, torch.Tensor) or tensor.ndim < 2:
        raise InvalidArgument(f"{name!r} of {type(module).__name__} must be a tensor with >= 2 dimensions "
                              f"(a weight matrix), got {getattr(tensor, 'shape', type(tensor).__name__)}; "
                              f"its weight matrices are {_matrix_tensors(module)}")
    return tensor.detach().reshape(tensor.shape[0], -1)


def _check_options(rule, tau, alpha, beta, keep_fraction, noise_sigma=None) -> None:
    check_rule(rule)
    if tau is not None:
        # Algorithm 4's statistic is a sup distance between two CDFs, in [0, 1]: tau >= 1 accepts all
        check_float("tau", tau, 0.0, 1.0, lo_open=True)
    check_float("alpha", alpha, 0.0, 0.5, lo_open=True, hi_open=True)
    check_float("beta", beta, 0.0, 1.0, lo_open=True, hi_open=True)
    check_float("keep_fraction", keep_fraction, 0.0, 1.0)
    check_noise_sigma(noise_sigma, rule)


# --------------------------------------------------------------------------------------------
# one matrix (one block): the decision
# --------------------------------------------------------------------------------------------
@dataclass
class _Decision:
    event: PruneEvent
    basis: tuple | None = None     # (left, right, gain) when the block is projected


def _decide(matrix: torch.Tensor, *, layer: str, tensor: str, block: str | None, kind: str, rule: str,
            tau, alpha, beta, keep_fraction, known_rank, allow_rank_zero, noise_sigma,
            weight_dtype) -> _Decision:
    n_out, n_in = (int(d) for d in matrix.shape)
    weights = n_out * n_in
    base = dict(layer=layer, tensor=tensor, block=block, kind=kind, shape=(n_out, n_in), rule=rule,
                step="mp_prune", tau=None if tau is None else float(tau), params_before=weights,
                keep_fraction=float(keep_fraction))
    try:
        spec = matrix_spectrum(matrix, alpha, beta, f"{layer}.{tensor}" if layer else tensor, known_rank)
    except UnfittableSpectrum as exc:
        # no MP law: a rejected fit, layer unchanged (Algorithm 1 steps 8/17)
        return _Decision(PruneEvent(**base, action="none", accepted=False, params_after=weights,
                                    reason=str(exc)))
    fit = spec.fit
    s = spec.s.cpu().numpy()
    rank_before = known_rank if known_rank is not None else numerical_rank(spec.s, n_out, n_in, weight_dtype)
    base.update(sigma2=float(fit.sigma2), lambda_plus=float(fit.lambda_plus),
                lambda_plus_in_features=spec.lambda_plus_in_features, sv_threshold=spec.threshold,
                fit_statistic=float(fit.mp_fit_error), n_singular=int(s.size),
                n_above_threshold=spec.n_above, n_small=spec.n_small, rank_before=int(rank_before))
    accepted = None if tau is None else bool(fit.accepts(tau))
    unchanged = dict(rank_after=int(rank_before), n_removed=0, params_after=weights,
                     kept_singular_values=tuple(float(v) for v in s))
    if accepted is False:
        return _Decision(PruneEvent(**base, action="none", accepted=False, **unchanged,
                                    reason=f"MP fit rejected: statistic {fit.mp_fit_error:.4g} > tau {tau}"))
    if rule != MP_RULE and noise_sigma is None:
        noise_sigma = math.sqrt(float(fit.sigma2))
    rank, shrunk = rule_singular_values(spec, rule, keep_fraction, noise_sigma)
    if shrunk is None:
        new_values, gain = None, None
    else:
        base.update(noise_sigma=float(noise_sigma))
        new_values = tuple(float(v) for v in shrunk[:rank])
        gain = torch.from_numpy(np.where(s[:rank] > 0, shrunk[:rank] / np.where(s[:rank] > 0, s[:rank], 1), 0.0))
    if rank == 0 and not allow_rank_zero:
        warnings.warn(f"{layer or type(matrix).__name__}.{tensor}{'[' + block + ']' if block else ''}: "
                      f"all {s.size} singular values lie below the MP edge sqrt(lambda_+ N) = "
                      f"{spec.threshold:.4g}; the rule would remove the whole matrix (rank 0). Weight "
                      "kept; pass allow_rank_zero=True to remove it.", AllNoiseWarning, stacklevel=3)
        return _Decision(PruneEvent(**base, action="kept", accepted=accepted, **unchanged,
                                    reason="all singular values in the MP bulk (rank 0 not allowed)"))
    if rank >= s.size and new_values is None:
        return _Decision(PruneEvent(**base, action="none", accepted=accepted, **unchanged,
                                    reason="no singular value to remove"))
    after = rank * (n_out + n_in) if split_saves_parameters(n_out, n_in, rank) else weights
    event = PruneEvent(**base, action="parametrized", accepted=accepted, rank_after=int(rank),
                       n_removed=int(s.size - rank), params_after=int(after),
                       kept_singular_values=tuple(float(v) for v in s[:rank]),
                       removed_singular_values=tuple(float(v) for v in s[rank:]),
                       new_singular_values=new_values)
    left = spec.U[:, :rank].to(weight_dtype)
    right = spec.Vh[:rank].T.contiguous().to(weight_dtype)
    return _Decision(event, (left, right, None if gain is None else gain.to(weight_dtype)))


# --------------------------------------------------------------------------------------------
# the API
# --------------------------------------------------------------------------------------------
def mp_prune(module: nn.Module, name: str = "weight", *, rule: str = MP_RULE, tau: float | None = None,
             alpha: float = 0.1, beta: float = 0.1, keep_fraction: float = 0.0,
             allow_rank_zero: bool = False, known_rank: int | None = None,
             blocks: list[tuple[str | None, int]] | None = None, noise_sigma: float | None = None,
             layer_name: str = "") -> PruneEvent | tuple[PruneEvent, ...]:
    """Prune the weight matrix ``module.<name>`` by the rule and register the result as a
    parametrization (see the module docstring). Returns one :class:`PruneEvent`, or a tuple of
    them (Q, K, V) for a packed ``in_proj_weight``. When no block changes (fit rejected with
    ``tau``, unfittable spectrum, nothing to remove, all noise without ``allow_rank_zero``) nothing
    is registered.

    ``tau``: Algorithm 4 tolerance (None: no fit test). ``alpha``, ``beta``: BEMA's trimming and
    Tracy-Widom level. ``keep_fraction``: portion of the small singular values kept (for "mp"
    those below sqrt(lambda_+ N), for another rule those it zeroes; Algorithm 1's f(epoch),
    Algorithm 3's 1 - remove fraction). ``known_rank``: the matrix is a
    product of rank-r factors (its trailing singular values are exact zeros). ``blocks``: row
    blocks fitted separately, [(label, rows), ...] (default: Q/K/V for ``in_proj_weight``).
    ``noise_sigma``: entry standard deviation of the noise for the shrinkage rules (default: sqrt of
    the BEMA sigma^2 of the block, as ``sims.shrinkage_pruning``; refused with rule "mp"), recorded
    in the events. ``layer_name``: recorded in the events."""
    if not isinstance(module, nn.Module):
        raise InvalidArgument(f"module must be an nn.Module, got {type(module).__name__}")
    _check_options(rule, tau, alpha, beta, keep_fraction, noise_sigma)
    if is_mp_pruned(module, name):
        raise InvalidArgument(f"{layer_name or type(module).__name__}.{name} is already MP-pruned; "
                              "call nets.remove() first")
    target = _target(module, name)
    if parametrize.is_parametrized(module, target):
        raise InvalidArgument(f"{name!r} already carries another parametrization; MP pruning would "
                              "not act on the tensor the layer uses")
    matrix = _matrix_of(module, name)
    check_finite(matrix, f"{layer_name or type(module).__name__}.{name}")
    rows = matrix.shape[0]
    blocks = _default_blocks(module, name, rows) if blocks is None else list(blocks)
    if sum(r for _, r in blocks) != rows or any(r < 1 for _, r in blocks):
        raise InvalidArgument(f"blocks {blocks} must be positive row counts summing to {rows}")
    if known_rank is not None:
        # a negative or too large rank would silently zero the wrong singular values
        check_int("known_rank", known_rank, 0, min(min(n, matrix.shape[1]) for _, n in blocks))
    dtype = matrix.dtype
    decisions, start = [], 0
    for label, n in blocks:
        decisions.append(_decide(matrix[start:start + n], layer=layer_name, tensor=name, block=label,
                                 kind=_kind(module, name), rule=rule, tau=tau, alpha=alpha, beta=beta,
                                 keep_fraction=keep_fraction, known_rank=known_rank,
                                 allow_rank_zero=allow_rank_zero, noise_sigma=noise_sigma,
                                 weight_dtype=dtype))
        start += n
    if any(d.basis is not None for d in decisions):
        projection = LowRankProjection([n for _, n in blocks], [d.basis for d in decisions])
        parametrize.register_parametrization(module, target, projection.to(matrix.device))
        if target != name:
            _refresh_torch_prune(module, name)
    events = tuple(d.event for d in decisions)
    return events[0] if len(events) == 1 else events


def remove(module: nn.Module, name: str = "weight", *, restore: bool = False) -> nn.Module:
    """Make MP pruning permanent: the weight becomes the plain tensor W' (same Parameter object,
    so optimizer state stays valid). ``restore=True`` instead drops the parametrization and gives
    back the original weight (as trained since pruning)."""
    if not is_mp_pruned(module, name):
        raise InvalidArgument(f"{type(module).__name__}.{name} is not MP-pruned")
    target = _target(module, name)
    parametrize.remove_parametrizations(module, target, leave_parametrized=not restore)
    if target != name:
        _refresh_torch_prune(module, name)
    return module


def _factors(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """(out x r, r x in) float64 factors of the current W' = U_r C V_r^T: SVD of the r x r core C."""
    projection = next(p for p in module.parametrizations.weight if isinstance(p, LowRankProjection))
    original = module.parametrizations.weight.original.detach()
    matrix = original.reshape(original.shape[0], -1).to(torch.float64)
    left = projection.left0.to(torch.float64)
    right = projection.right0.to(torch.float64)
    core = left.T @ matrix @ right
    gain = getattr(projection, "gain0", None)
    if gain is not None:
        core = gain.to(torch.float64)[:, None] * core
    a, s, bh = torch.linalg.svd(core)
    root = s.sqrt()
    return (left @ a) * root, root[:, None] * (bh @ right.T)


def factorize(module: nn.Module) -> nn.Module:
    """The two-factor layer ``second(first(x))`` equal to an MP-pruned Linear/Conv2d (Algorithm 1
    steps 10-12: U sqrt(S'), sqrt(S') V^T, bias on the second factor) when that saves parameters,
    r (n + m) < n m; otherwise the module itself, unchanged. The caller puts the result in place
    (``model.fc = factorize(model.fc)``; ``prune_model(..., factorize=True)`` does it for all)."""
    if not isinstance(module, (nn.Linear, nn.Conv2d)) or isinstance(module, FACTORISED_TYPES):
        raise InvalidArgument(f"factorize needs an MP-pruned Linear or Conv2d, got {type(module).__name__}")
    if not is_mp_pruned(module, "weight"):
        raise InvalidArgument(f"{type(module).__name__}.weight is not MP-pruned: call mp_prune first")
    if _torch_pruned(module, "weight"):
        raise InvalidArgument("the weight also carries a torch.nn.utils.prune mask: a masked low-rank "
                              "matrix has no two-factor form; prune.remove the mask first")
    ranks = module.parametrizations.weight[0].ranks()
    if len(ranks) != 1:
        raise InvalidArgument("factorize acts on single-block weights")
    n_out = module.weight.shape[0]
    n_in = module.weight[0].numel()
    if not split_saves_parameters(n_out, n_in, ranks[0]):
        return module
    left, right = _factors(module)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
        return factorise(module, left, right)


_factorize_layer = factorize


def _set_submodule(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attr, new)


def prune_model(model: nn.Module, *, rule: str = MP_RULE, tau: float | None = None, alpha: float = 0.1,
                beta: float = 0.1, keep_fraction: float = 0.0, allow_rank_zero: bool = False,
                attention: bool = True, embeddings: bool = False, layers: Iterable[str] | None = None,
                factorize: bool = False, noise_sigma: float | None = None) -> list[PruneEvent]:
    """``mp_prune`` on every eligible weight of ``model`` (``nets.layers.eligible_weights``;
    ``layers`` restricts to those module names). With ``factorize`` every pruned Linear/Conv2d
    whose split saves parameters is replaced in place by its two-factor layer (events then read
    action "split"). Returns the events, in module order."""
    if isinstance(layers, str):
        raise InvalidArgument(f"layers must be an iterable of module names (e.g. [{layers!r}]), got the "
                              f"string {layers!r}")
    _check_options(rule, tau, alpha, beta, keep_fraction, noise_sigma)
    wanted = None if layers is None else set(layers)
    found = eligible_weights(model, attention=attention, embeddings=embeddings)
    if wanted is not None:
        missing = wanted - {m for m, _ in found}
        if missing:
            raise InvalidArgument(f"layers {sorted(missing)} are not eligible weight layers of the model")
    events: list[PruneEvent] = []
    for module_name, tensor in found:
        if wanted is not None and module_name not in wanted:
            continue
        module = model.get_submodule(module_name)
        if is_mp_pruned(module, tensor):
            continue
        out = mp_prune(module, tensor, rule=rule, tau=tau, alpha=alpha, beta=beta,
                       keep_fraction=keep_fraction, allow_rank_zero=allow_rank_zero,
                       noise_sigma=noise_sigma, layer_name=module_name)
        out = out if isinstance(out, tuple) else (out,)
        if (factorize and len(out) == 1 and out[0].action == "parametrized"
                and isinstance(module, (nn.Linear, nn.Conv2d)) and not _torch_pruned(module, tensor)):
            new = _factorize_layer(module)
            if new is not module:
                _set_submodule(model, module_name, new)
                out = (out[0].replace(action="split"),)
        events.extend(out)
    return events


# --------------------------------------------------------------------------------------------
# state_dicts between pruned and unpruned models
# --------------------------------------------------------------------------------------------
_PARAM_KEY = ".parametrizations."


def _split_parametrized_key(key: str) -> tuple[str, str, str] | None:
    """'a.b.parametrizations.weight.original' -> ('a.b', 'weight', 'original')."""
    head = "parametrizations."
    if key.startswith(head):
        module, rest = "", key[len(head):]
    elif _PARAM_KEY in key:
        module, rest = key.split(_PARAM_KEY, 1)
    else:
        return None
    tensor, _, tail = rest.partition(".")
    return module, tensor, tail


def _join(module: str, leaf: str) -> str:
    return f"{module}.{leaf}" if module else leaf


def load_pruned_state_dict(model: nn.Module, state_dict: dict, *, dense: bool = False,
                           strict: bool = True) -> nn.Module:
    """Load a state_dict into a model of the same architecture whatever form each weight takes on
    either side: plain, MP-parametrized (``mp_prune``), factorised (``factorize``), or masked by
    torch.nn.utils.prune (``weight_orig`` / ``weight_mask``, folded).

    The state_dict's form wins: a parametrized entry registers the same parametrization on the
    model's layer, a factorised one swaps the factorised module in, and a plain weight removes a
    parametrization (or factorisation) the model's layer carries. With ``dense=True`` everything is
    folded into plain weights instead, so the result is the original architecture computing the
    pruned function. Returns the model (its layers may be new module objects)."""
    state = dict(state_dict)
    # 1. MP parametrizations in the state_dict
    groups: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    for key in list(state):
        parts = _split_parametrized_key(key)
        if parts is not None:
            groups.setdefault(parts[:2], {})[parts[2]] = state[key]
    for (mod_name, tensor), entries in groups.items():
        prefix = _join(mod_name, f"parametrizations.{tensor}.")
        if "original" not in entries or "0.block_rows" not in entries:
            raise InvalidArgument(f"{prefix}: not an MP parametrization (need original and 0.block_rows)")
        module = model.get_submodule(mod_name)
        original = entries["original"]
        projection = LowRankProjection.empty_like_state(state, prefix + "0.", original.dtype, original.device)
        projection.load_state_dict({k[2:]: v for k, v in entries.items() if k.startswith("0.")})
        if dense:
            for k in [k for k in state if k.startswith(prefix)]:
                del state[k]
            state[_join(mod_name, tensor)] = projection(original).detach()
            if is_mp_pruned(module, tensor.removesuffix("_orig")):
                remove(module, tensor.removesuffix("_orig"), restore=True)
            continue
        base = tensor.removesuffix("_orig")
        if base != tensor and _join(mod_name, base + "_mask") in state and not _torch_pruned(module, base):
            # the state_dict's form wins: its torch.nn.utils.prune mask comes along (values loaded below)
            if is_mp_pruned(module, base):
                remove(module, base, restore=True)
            torch_prune.custom_from_mask(module, base, state[_join(mod_name, base + "_mask")])
        if parametrize.is_parametrized(module, tensor):
            parametrize.remove_parametrizations(module, tensor, leave_parametrized=False)
        parametrize.register_parametrization(module, tensor, projection)
        if base != tensor:
            _refresh_torch_prune(module, base)
    # 2. factorised layers in the state_dict (first.weight + second.weight)
    for key in [k for k in state if k == "first.weight" or k.endswith(".first.weight")]:
        mod_name = key[: -len("first.weight")].rstrip(".")
        second_key = _join(mod_name, "second.weight")
        if second_key not in state or not mod_name:
            continue
        try:
            module = model.get_submodule(mod_name)
        except AttributeError:
            continue                              # not in the model: load_state_dict reports it
        if not isinstance(module, (nn.Linear, nn.Conv2d) + FACTORISED_TYPES):
            continue                              # a container whose children are named first/second
        first, second = state[key], state[second_key]
        left = second.reshape(second.shape[0], -1)
        right = first.reshape(first.shape[0], -1)
        if isinstance(module, FACTORISED_TYPES):
            if dense:
                raise InvalidArgument(f"{mod_name}: the model's layer is factorised; dense=True needs the "
                                      "original architecture")
            if module.rank != right.shape[0]:
                _set_submodule(model, mod_name, factorise(_dense_template(module), left, right))
            continue
        if dense:
            del state[key], state[second_key]
            state[_join(mod_name, "weight")] = (left.to(torch.float64) @ right.to(torch.float64)).to(
                first.dtype).reshape(module.weight.shape)
            bias_key = _join(mod_name, "second.bias")
            if bias_key in state:
                state[_join(mod_name, "bias")] = state.pop(bias_key)
            if is_mp_pruned(module):
                remove(module, restore=True)
        else:
            if is_mp_pruned(module):
                remove(module, restore=True)
            _set_submodule(model, mod_name, factorise(module, left, right))
    # 3. torch.nn.utils.prune masks in the state_dict, for a layer without one: fold
    for key in [k for k in state if k.endswith("_orig")]:
        base = key[: -len("_orig")]
        mask_key = base + "_mask"
        if mask_key in state:
            mod_name, _, tensor = base.rpartition(".")
            module = model.get_submodule(mod_name)
            if not _torch_pruned(module, tensor):
                state[base] = state.pop(key) * state.pop(mask_key)
    # 4. plain weights in the state_dict where the model carries a parametrization / factorisation
    for name, module in list(model.named_modules()):
        if isinstance(module, FACTORISED_TYPES) and _join(name, "weight") in state:
            _set_submodule(model, name, _dense_template(module))
            continue
        if not parametrize.is_parametrized(module):
            continue
        for tensor in list(module.parametrizations.keys()):
            if not isinstance(module.parametrizations[tensor][0], LowRankProjection):
                continue
            base = tensor.removesuffix("_orig")
            if _join(name, tensor) in state:
                parametrize.remove_parametrizations(module, tensor, leave_parametrized=False)
            elif base != tensor and _join(name, base) in state and _join(name, base + "_mask") not in state:
                # a plain weight for a masked + MP-pruned layer: drop both forms, the load writes it
                remove(module, base, restore=True)
                torch_prune.remove(module, base)
    model.load_state_dict(state, strict=strict)
    return model


def _dense_template(layer: nn.Module) -> nn.Module:
    """A Linear/Conv2d with the shapes of a factorised layer (weights overwritten by the load)."""
    from nets.layers import recombined
    return recombined(layer)
