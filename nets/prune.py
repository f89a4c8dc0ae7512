"""MP-based pruning of any torch model, in the style of ``torch.nn.utils.prune`` and
``torch.nn.utils.parametrize``.

    import nets
    decision = nets.mp_decide(model.fc1, tau=0.7)    # what would change (events), nothing applied
    decision.apply()                                 # low-rank parametrization of fc1.weight
    nets.mp_prune(model.fc2, tau=0.7)                # decide and apply; returns the module
    nets.prune_model(model, tau=0.7)                 # every eligible layer; returns the model
    nets.remove(model.fc1)                           # make it permanent: a plain dense weight W'
    nets.factorize(model, "fc2")                     # two-factor layer in place when r (n + m) < n m

Conventions (as ``torch.nn.utils.prune``): functions that change a module return it;
``mp_decide`` / ``decide_model`` return :class:`MPDecision` objects (the events, one per row
block) and change nothing. ``tau`` is always explicit: a tolerance for Algorithm 4, or None to
skip the fit test on purpose (leaving it out warns). ``tw_level`` is Algorithm 2's Tracy-Widom
level (the paper's beta; ``beta=`` is a deprecated alias).

Sizes: an event's ``params_after`` counts what the *factorised* layer stores, r (n + m). The
parametrized module keeps the original weight plus the bases U_r and V_r as buffers, so its
state_dict is *larger* than the dense one until you call :func:`remove` (dense W', original size)
or :func:`factorize` (the r (n + m) factors): save after one of them to save small.

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
import os
import sys
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
    FACTORIZED_TYPES,
    count_parameters,
    eligible_weights,
    two_factor_layer,
    split_saves_parameters,
)
from nets.spectrum import LayerSpectrum, UnfittableSpectrum, check_finite, kept_small_count, \
    matrix_spectrum, numerical_rank, planned_rank

__all__ = ["PruneEvent", "AllNoiseWarning", "LowRankProjection", "MPDecision", "mp_decide", "mp_prune",
           "remove", "factorize", "decide_model", "prune_model", "mp_pruned_ranks", "load_pruned_state_dict", "is_mp_pruned", "available_rules", "mp_rank",
           "rule_singular_values", "check_rule", "check_noise_sigma"]

MP_RULE = "mp"
ATTENTION_BLOCKS = ("q", "k", "v")


class AllNoiseWarning(UserWarning):
    """The whole spectrum lies in the MP bulk: the rule would remove the layer (rank 0)."""


# --------------------------------------------------------------------------------------------
# the event
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class PruneEvent:
    """One decision on one weight matrix (one block of a packed attention weight).

    ``shape`` is the ``out x in`` matrix; ``lambda_plus`` BEMA's edge for the eigenvalues of
    ``X = W^T W / N`` (tall orientation, N = max(out, in)) and ``sv_threshold = sqrt(lambda_+ N)``
    its value on singular values; ``fit_statistic`` Algorithm 4's sup distance; ``accepted`` is
    None when no ``tau`` was given. ``kept_singular_values`` / ``removed_singular_values`` are W's
    singular values (descending) that survive / are set to 0. ``params_before`` counts the weight
    entries of the matrix (or the layer's trainable parameters, for the Algorithm 1 steps);
    ``params_after`` what storing W' needs (r (n + m) when that is smaller, else n m): the size
    after :func:`factorize`. The parametrized module itself stores more than the dense one (the
    original weight plus the bases U_r, V_r; module docstring, "Sizes").
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

    @property
    def where(self) -> str:
        """``layer.tensor[block]`` (``layer`` is the module's name in its model, or its class name)."""
        block = f"[{self.block}]" if self.block else ""
        return f"{self.layer or '<module>'}.{self.tensor}{block}"

    def __str__(self) -> str:
        """One line: where, shape, rule, action, rank before -> after, fit test, parameters."""
        parts = [f"{self.where} {self.shape[0]}x{self.shape[1]} {self.rule}: {self.action}"]
        if self.rank_before is not None:
            parts.append(f"rank {self.rank_before} -> {self.rank_after}")
        if self.sv_threshold is not None:
            parts.append(f"edge sqrt(lambda+ N) {self.sv_threshold:.4g}")
        if self.fit_statistic is not None:
            test = ("not run (tau=None)" if self.tau is None else
                    f"{'<=' if self.accepted else '>'} tau {self.tau:g}")
            parts.append(f"fit {self.fit_statistic:.3g} {test}")
        parts.append(f"params {self.params_before} -> {self.params_after}")
        line = ", ".join(parts)
        return f"{line}; {self.reason}" if self.reason and self.action != "parametrized" else line

    def __repr__(self) -> str:
        """The fields that differ from their defaults; singular-value tuples as their length."""
        shown = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and v == f.default:
                continue
            if isinstance(v, tuple) and f.name != "shape":
                v = f"<{len(v)} values>"
            else:
                v = repr(v)
            shown.append(f"{f.name}={v}")
        return f"PruneEvent({', '.join(shown)})"


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
        """Kept rank per row block (-1: block passed through)."""
        return self.block_ranks.tolist()

    def extra_repr(self) -> str:
        ranks = ["full" if r < 0 else str(r) for r in self.ranks()]
        rows = self.block_rows.tolist()
        if len(rows) == 1:
            return f"rank={ranks[0]}, rows={rows[0]}"
        return f"ranks=[{', '.join(ranks)}], block_rows={rows}"

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


def is_mp_pruned(module: nn.Module, name: str | None = None) -> bool:
    """Whether MP pruning is registered on ``module.<name>``; without ``name``, on any tensor of
    ``module`` or of its submodules (recursive, as ``torch.nn.utils.prune.is_pruned``).

    Examples
    --------
    >>> import torch, nets
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 4))
    >>> nets.is_mp_pruned(model), nets.is_mp_pruned(model[0], "weight")
    (False, False)
    """
    if name is None:
        return any(_projections(m) for m in module.modules())
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


def _check_options(rule, tau, alpha, tw_level, keep_fraction, noise_sigma=None) -> None:
    check_rule(rule)
    if tau is not None:
        # Algorithm 4's statistic is a sup distance between two CDFs, in [0, 1]: tau >= 1 accepts all
        check_float("tau", tau, 0.0, 1.0, lo_open=True)
    check_float("alpha", alpha, 0.0, 0.5, lo_open=True, hi_open=True)
    check_float("tw_level", tw_level, 0.0, 1.0, lo_open=True, hi_open=True)
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
        _warn(f"{layer}.{tensor}{'[' + block + ']' if block else ''}: "
                      f"all {s.size} singular values lie below the MP edge sqrt(lambda_+ N) = "
                      f"{spec.threshold:.4g}; the rule would remove the whole matrix (rank 0). Weight "
                      "kept; pass allow_rank_zero=True to remove it.", AllNoiseWarning)
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
class _Unset:
    def __repr__(self) -> str:
        return "<not given>"


_UNSET: Any = _Unset()


def _warn(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first caller outside this file (the user's line)."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _resolve_options(function: str, tau, tw_level, beta) -> tuple[float | None, float]:
    """``tau`` must be given (a tolerance, or None to skip Algorithm 4 on purpose); ``beta`` is the
    deprecated name of ``tw_level``."""
    if tau is _UNSET:
        _warn(f"{function}: tau not given, so Algorithm 4's MP fit test is skipped and every layer is "
              "pruned; pass tau=None to skip it explicitly, or a tolerance in (0, 1] (the papers use "
              "0.7 for dense layers). Omitting tau will be an error in the next release.", FutureWarning)
        tau = None
    if beta is not None:
        _warn(f"{function}: 'beta' is renamed 'tw_level' (Algorithm 2's Tracy-Widom level; "
              "theory.tracy_widom's beta is the ensemble index); 'beta' will be removed in the next "
              "release", DeprecationWarning)
        if tw_level is not _UNSET and tw_level != beta:
            raise InvalidArgument(f"{function}: give tw_level or its old name beta, not both")
        tw_level = beta
    return tau, (0.1 if tw_level is _UNSET else tw_level)


class MPDecision:
    """What MP pruning decides for one weight tensor, before anything is applied (the
    sklearn-style "fit"; :meth:`apply` is the "transform").

    Returned by :func:`mp_decide`; :func:`mp_prune` is ``mp_decide(...).apply()``. Iterating
    gives the :class:`PruneEvent` of each row block (one for a Linear/Conv/Embedding weight; Q, K
    and V for a packed ``in_proj_weight``); ``event`` is the single event of a one-block weight.
    The decision keeps the kept singular bases, so applying it does not repeat the SVD; it refuses
    to apply once the weight has changed since the decision (e.g. an optimizer step).

    Attributes
    ----------
    module : nn.Module
        The module whose tensor was decided on.
    name : str
        The tensor's name (``"weight"``, ``"in_proj_weight"``, ...).
    events : tuple of PruneEvent
        One per row block.
    changes : bool
        Whether applying registers a parametrization (some block is projected).
    """

    def __init__(self, module: nn.Module, name: str, blocks: list[tuple[str | None, int]],
                 decisions: list[_Decision], version: int):
        self.module, self.name = module, name
        self.events: tuple[PruneEvent, ...] = tuple(d.event for d in decisions)
        self._blocks = blocks
        self._bases = [d.basis for d in decisions]
        self._version = version
        self._applied = False

    @property
    def changes(self) -> bool:
        return any(b is not None for b in self._bases)

    @property
    def event(self) -> PruneEvent:
        if len(self.events) != 1:
            raise InvalidArgument(f"{self.events[0].layer}.{self.name} has {len(self.events)} blocks "
                                  f"({', '.join(str(e.block) for e in self.events)}): read .events")
        return self.events[0]

    def __iter__(self):
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def __getitem__(self, i):
        return self.events[i]

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.events)

    def __repr__(self) -> str:
        ranks = ", ".join(f"{e.rank_before}->{e.rank_after}" for e in self.events)
        state = "applied" if self._applied else "not applied"
        return (f"MPDecision({self.events[0].layer}.{self.name}, "
                f"{'/'.join(e.action for e in self.events)}, ranks {ranks}, {state})")

    def apply(self) -> nn.Module:
        """Register the decided low-rank parametrization (nothing when no block changes).

        Returns
        -------
        nn.Module
            The module, pruned in place.
        """
        if self._applied:
            raise InvalidArgument(f"this decision on {self.events[0].layer}.{self.name} was already applied")
        if not self.changes:
            self._applied = True
            return self.module
        module = self.module
        if is_mp_pruned(module, self.name):
            raise InvalidArgument(f"{self.events[0].layer}.{self.name} is already MP-pruned; call "
                                  "nets.remove() first")
        target = _target(module, self.name)
        if getattr(module, target)._version != self._version:
            raise InvalidArgument(f"{self.events[0].layer}.{self.name} changed since the decision; call "
                                  "mp_decide again")
        projection = LowRankProjection([n for _, n in self._blocks], self._bases)
        parametrize.register_parametrization(module, target,
                                             projection.to(getattr(module, target).device))
        if target != self.name:
            _refresh_torch_prune(module, self.name)
        self._applied = True
        return module


def mp_decide(module: nn.Module, name: str = "weight", *, rule: str = MP_RULE, tau: float | None = _UNSET,
              alpha: float = 0.1, tw_level: float = _UNSET, keep_fraction: float = 0.0,
              allow_rank_zero: bool = False, known_rank: int | None = None,
              blocks: list[tuple[str | None, int]] | None = None, noise_sigma: float | None = None,
              layer_name: str = "", beta: float | None = None) -> MPDecision:
    """Decide how MP pruning would change ``module.<name>``, without changing anything.

    SVD of the weight matrix, BEMA's edge lambda_+ (Algorithm 2), Algorithm 4's fit test when
    ``tau`` is a number, then the rule (module docstring). Apply the result with
    ``decision.apply()``, or call :func:`mp_prune` to decide and apply at once.

    Parameters
    ----------
    module : nn.Module
        Any module holding the weight matrix (Linear, Conv1d/2d/3d with groups=1,
        MultiheadAttention, Embedding, or a custom module).
    name : str, default "weight"
        The tensor: a parameter with >= 2 dimensions (Conv: the m x (n p q) reshape, Section 3.2.2).
    rule : str, default "mp"
        "mp" (the papers' rule) or a shrinkage rule of :func:`available_rules`.
    tau : float in (0, 1] or None
        Algorithm 4's tolerance: a block whose fit statistic exceeds ``tau`` is left alone. Pass
        ``None`` to skip the fit test on purpose; leaving it out warns (FutureWarning).
    alpha : float in (0, 1/2), default 0.1
        BEMA's trimmed fraction (Algorithm 2).
    tw_level : float in (0, 1), default 0.1
        Algorithm 2's Tracy-Widom level (the paper's beta): the probability that a pure-noise top
        eigenvalue exceeds lambda_+. ``beta=`` is its deprecated name.
    keep_fraction : float in [0, 1], default 0
        Portion of the small singular values kept (Algorithm 1's f(epoch); Algorithm 3's
        1 - remove fraction).
    allow_rank_zero : bool, default False
        Remove the whole matrix when every singular value lies in the bulk (otherwise: kept,
        with an :class:`AllNoiseWarning`).
    known_rank : int, optional
        The matrix is a product of rank-r factors (its trailing singular values are exact zeros).
    blocks : list of (label, rows), optional
        Row blocks fitted separately (default: Q/K/V for ``in_proj_weight``, else one block).
    noise_sigma : float, optional
        Noise entry standard deviation for a shrinkage rule (default: sqrt of the BEMA sigma^2).
    layer_name : str, optional
        Recorded in the events (default: the module's class name).

    Returns
    -------
    MPDecision
        The events (one per block) and, privately, the kept bases for ``apply()``.

    Examples
    --------
    >>> import torch, nets
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = torch.nn.Linear(200, 100)
    >>> signal = torch.randn(100, 3, generator=g) @ torch.randn(3, 200, generator=g)
    >>> noise = 0.1 * torch.randn(100, 200, generator=g)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(signal / 2 + noise)
    >>> decision = nets.mp_decide(layer, tau=0.7)
    >>> event = decision.event
    >>> event.action, event.rank_before, event.accepted
    ('parametrized', 100, True)
    >>> event.rank_after >= 3             # the planted 3 (and a noise value with probability ~ tw_level)
    True
    >>> print(event)                      # doctest: +ELLIPSIS
    Linear.weight 100x200 mp: parametrized, rank 100 -> ..., fit ... <= tau 0.7, params 20000 -> ...
    >>> nets.is_mp_pruned(layer)          # nothing applied yet
    False
    >>> decision.apply() is layer
    True
    >>> print(layer.parametrizations.weight[0])   # doctest: +ELLIPSIS
    LowRankProjection(rank=..., rows=100)
    """
    if not isinstance(module, nn.Module):
        raise InvalidArgument(f"module must be an nn.Module, got {type(module).__name__}")
    tau, tw_level = _resolve_options("mp_decide", tau, tw_level, beta)
    _check_options(rule, tau, alpha, tw_level, keep_fraction, noise_sigma)
    layer_name = layer_name or type(module).__name__
    if is_mp_pruned(module, name):
        raise InvalidArgument(f"{layer_name}.{name} is already MP-pruned; call nets.remove() first")
    target = _target(module, name)
    if parametrize.is_parametrized(module, target):
        raise InvalidArgument(f"{name!r} already carries another parametrization; MP pruning would "
                              "not act on the tensor the layer uses")
    matrix = _matrix_of(module, name)
    check_finite(matrix, f"{layer_name}.{name}")
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
                                 kind=_kind(module, name), rule=rule, tau=tau, alpha=alpha, beta=tw_level,
                                 keep_fraction=keep_fraction, known_rank=known_rank,
                                 allow_rank_zero=allow_rank_zero, noise_sigma=noise_sigma,
                                 weight_dtype=dtype))
        start += n
    return MPDecision(module, name, blocks, decisions, getattr(module, target)._version)


def mp_prune(module: nn.Module, name: str = "weight", *, rule: str = MP_RULE, tau: float | None = _UNSET,
             alpha: float = 0.1, tw_level: float = _UNSET, keep_fraction: float = 0.0,
             allow_rank_zero: bool = False, known_rank: int | None = None,
             blocks: list[tuple[str | None, int]] | None = None, noise_sigma: float | None = None,
             layer_name: str = "", beta: float | None = None) -> nn.Module:
    """Prune the weight matrix ``module.<name>`` and register the result as a parametrization, in
    place, as ``torch.nn.utils.prune`` does: ``mp_decide(module, name, ...).apply()``.

    When no block changes (fit rejected with ``tau``, unfittable spectrum, nothing to remove, all
    noise without ``allow_rank_zero``) nothing is registered. To read the decision (ranks, edge,
    fit statistic), call :func:`mp_decide` and then ``.apply()`` it.

    Parameters
    ----------
    module, name, rule, tau, alpha, tw_level, keep_fraction, allow_rank_zero, known_rank, blocks, \
noise_sigma, layer_name
        As in :func:`mp_decide`.

    Returns
    -------
    nn.Module
        ``module`` itself (also for ``nn.MultiheadAttention``).

    Examples
    --------
    >>> import torch, nets
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = torch.nn.Linear(200, 100)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.randn(100, 3, generator=g) @ torch.randn(3, 200, generator=g))
    ...     _ = layer.weight.add_(0.2 * torch.randn(100, 200, generator=g))
    >>> nets.mp_prune(layer, tau=None) is layer
    True
    >>> 3 <= int(torch.linalg.matrix_rank(layer.weight)) <= 10     # the planted rank 3 (+ noise, rarely)
    True
    >>> nets.remove(layer)                # make W' permanent: a plain dense weight
    Linear(in_features=200, out_features=100, bias=True)
    """
    tau, tw_level = _resolve_options("mp_prune", tau, tw_level, beta)
    return mp_decide(module, name, rule=rule, tau=tau, alpha=alpha, tw_level=tw_level,
                     keep_fraction=keep_fraction, allow_rank_zero=allow_rank_zero, known_rank=known_rank,
                     blocks=blocks, noise_sigma=noise_sigma, layer_name=layer_name).apply()


def remove(module: nn.Module, name: str = "weight", *, restore: bool = False) -> nn.Module:
    """Make MP pruning permanent: the weight becomes the plain tensor W' (same Parameter object,
    so optimizer state stays valid). ``restore=True`` instead drops the parametrization and gives
    back the original weight (as trained since pruning).

    Parameters
    ----------
    module : nn.Module
        A module with an MP-pruned tensor ``name``.
    name : str, default "weight"
    restore : bool, default False
        Undo the pruning instead of making it permanent.

    Returns
    -------
    nn.Module
        ``module`` itself.
    """
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


def _factorized_layer(module: nn.Module) -> nn.Module:
    if not isinstance(module, (nn.Linear, nn.Conv2d)) or isinstance(module, FACTORIZED_TYPES):
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
        return two_factor_layer(module, left, right)


def factorize(module: nn.Module, name: str | None = None) -> nn.Module:
    """The two-factor layer ``second(first(x))`` equal to an MP-pruned Linear/Conv2d (Algorithm 1
    steps 10-12: U sqrt(S'), sqrt(S') V^T, bias on the second factor) when that saves parameters,
    r (n + m) < n m.

    A layer cannot change its own type, so there are two forms:

    * ``factorize(model, "fc1")``: replaces the submodule ``fc1`` of ``model`` in place and returns
      ``model`` (the usual form);
    * ``factorize(layer)``: returns the new two-factor layer, which the caller puts in place
      (``model.fc1 = factorize(model.fc1)``); ``layer`` itself is unchanged.

    Either way a layer whose split would not save parameters is left as it is (still MP-pruned).

    Parameters
    ----------
    module : nn.Module
        The model (with ``name``) or the MP-pruned layer itself.
    name : str, optional
        Dotted name of the layer inside ``module``.

    Returns
    -------
    nn.Module
        ``module`` (with ``name``), or the two-factor layer (without).

    Examples
    --------
    >>> import torch, nets
    >>> g = torch.Generator().manual_seed(0)
    >>> model = torch.nn.Sequential(torch.nn.Linear(200, 100))
    >>> with torch.no_grad():
    ...     _ = model[0].weight.copy_(torch.randn(100, 3, generator=g) @ torch.randn(3, 200, generator=g))
    ...     _ = model[0].weight.add_(0.2 * torch.randn(100, 200, generator=g))
    >>> _ = nets.mp_prune(model[0], tau=None)
    >>> nets.factorize(model, "0") is model
    True
    >>> [tuple(p.shape) for p in model.parameters()]     # doctest: +ELLIPSIS
    [(..., 200), (100, ...), (100,)]
    """
    if name is None:
        return _factorized_layer(module)
    try:
        layer = module.get_submodule(name)
    except AttributeError:
        raise InvalidArgument(f"{type(module).__name__} has no submodule {name!r}") from None
    new = _factorized_layer(layer)
    if new is not layer:
        _set_submodule(module, name, new)
    return module


_factorize_layer = _factorized_layer


def _set_submodule(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attr, new)


def _eligible(model: nn.Module, layers, attention: bool, embeddings: bool) -> list[tuple[str, str]]:
    if isinstance(layers, str):
        raise InvalidArgument(f"layers must be an iterable of module names (e.g. [{layers!r}]), got the "
                              f"string {layers!r}")
    wanted = None if layers is None else set(layers)
    found = eligible_weights(model, attention=attention, embeddings=embeddings)
    if wanted is not None:
        missing = wanted - {m for m, _ in found}
        if missing:
            raise InvalidArgument(f"layers {sorted(missing)} are not eligible weight layers of the model")
    return [(m, t) for m, t in found if wanted is None or m in wanted]


def decide_model(model: nn.Module, *, rule: str = MP_RULE, tau: float | None = _UNSET, alpha: float = 0.1,
                 tw_level: float = _UNSET, keep_fraction: float = 0.0, allow_rank_zero: bool = False,
                 attention: bool = True, embeddings: bool = False, layers: Iterable[str] | None = None,
                 noise_sigma: float | None = None, beta: float | None = None) -> list[MPDecision]:
    """:func:`mp_decide` on every eligible weight of ``model`` (``nets.layers.eligible_weights``),
    in module order, changing nothing; tensors already MP-pruned are skipped.

    Parameters
    ----------
    model : nn.Module
    rule, tau, alpha, tw_level, keep_fraction, allow_rank_zero, noise_sigma
        As in :func:`mp_decide`.
    attention : bool, default True
        Include ``nn.MultiheadAttention.in_proj_weight`` (Q, K, V fitted separately).
    embeddings : bool, default False
        Include ``nn.Embedding.weight``.
    layers : iterable of str, optional
        Only these module names.

    Returns
    -------
    list of MPDecision
        One per weight tensor; ``[e for d in decisions for e in d]`` are the events and
        ``for d in decisions: d.apply()`` is :func:`prune_model`.
    """
    tau, tw_level = _resolve_options("decide_model", tau, tw_level, beta)
    _check_options(rule, tau, alpha, tw_level, keep_fraction, noise_sigma)
    out = []
    for module_name, tensor in _eligible(model, layers, attention, embeddings):
        module = model.get_submodule(module_name)
        if is_mp_pruned(module, tensor):
            continue
        out.append(mp_decide(module, tensor, rule=rule, tau=tau, alpha=alpha, tw_level=tw_level,
                             keep_fraction=keep_fraction, allow_rank_zero=allow_rank_zero,
                             noise_sigma=noise_sigma, layer_name=module_name))
    return out


def prune_model(model: nn.Module, *, rule: str = MP_RULE, tau: float | None = _UNSET, alpha: float = 0.1,
                tw_level: float = _UNSET, keep_fraction: float = 0.0, allow_rank_zero: bool = False,
                attention: bool = True, embeddings: bool = False, layers: Iterable[str] | None = None,
                split: bool = False, noise_sigma: float | None = None, beta: float | None = None,
                factorize: bool | None = None) -> nn.Module:
    """:func:`mp_prune` on every eligible weight of ``model``, in place:
    ``for d in decide_model(model, ...): d.apply()``, then, with ``split``, :func:`factorize` on
    each pruned Linear/Conv2d whose split saves parameters.

    Parameters
    ----------
    model : nn.Module
    rule, tau, alpha, tw_level, keep_fraction, allow_rank_zero, attention, embeddings, layers, \
noise_sigma
        As in :func:`decide_model`.
    split : bool, default False
        Replace each pruned Linear/Conv2d by its two-factor layer where r (n + m) < n m
        (Algorithm 1 step 12). ``factorize=`` is its deprecated name.

    Returns
    -------
    nn.Module
        ``model`` itself. The decisions: :func:`decide_model` (then apply them), or
        :func:`mp_pruned_ranks` after the fact.

    Examples
    --------
    >>> import torch, nets
    >>> g = torch.Generator().manual_seed(0)
    >>> model = torch.nn.Sequential(torch.nn.Linear(200, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    >>> with torch.no_grad():
    ...     _ = model[0].weight.copy_(torch.randn(100, 3, generator=g) @ torch.randn(3, 200, generator=g))
    ...     _ = model[0].weight.add_(0.2 * torch.randn(100, 200, generator=g))
    >>> nets.prune_model(model, tau=0.7, layers=["0"]) is model
    True
    >>> nets.mp_pruned_ranks(model)     # doctest: +ELLIPSIS
    {'0.weight': [...]}
    """
    if factorize is not None:
        _warn("prune_model: 'factorize' is renamed 'split' (it no longer shadows the function "
              "nets.factorize); 'factorize' will be removed in the next release", DeprecationWarning)
        split = bool(factorize)
    tau, tw_level = _resolve_options("prune_model", tau, tw_level, beta)
    for decision in decide_model(model, rule=rule, tau=tau, alpha=alpha, tw_level=tw_level,
                                 keep_fraction=keep_fraction, allow_rank_zero=allow_rank_zero,
                                 attention=attention, embeddings=embeddings, layers=layers,
                                 noise_sigma=noise_sigma):
        decision.apply()
        module = decision.module
        if (split and decision.changes and len(decision) == 1 and decision.name == "weight"
                and isinstance(module, (nn.Linear, nn.Conv2d)) and not _torch_pruned(module, "weight")):
            _split_in_place(model, decision.event.layer, module)
    return model


def _split_in_place(model: nn.Module, name: str, module: nn.Module) -> None:
    new = _factorized_layer(module)
    if new is not module:
        _set_submodule(model, name, new)


def mp_pruned_ranks(model: nn.Module) -> dict[str, list[int]]:
    """``{"module.tensor": kept rank per row block}`` of every MP-pruned tensor in ``model``
    (recursive; -1: a block passed through). Factorised layers are not MP-pruned any more: see
    their ``rank``."""
    out = {}
    for module_name, module in model.named_modules():
        for tensor, projection in _projections(module):
            out[_join(module_name, tensor.removesuffix("_orig"))] = projection.ranks()
    return out


def _projections(module: nn.Module) -> list[tuple[str, LowRankProjection]]:
    if not parametrize.is_parametrized(module):
        return []
    return [(t, p) for t in module.parametrizations.keys() for p in module.parametrizations[t]
            if isinstance(p, LowRankProjection)]


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


def load_pruned_state_dict(model: nn.Module, state_dict: dict | str | os.PathLike, *, dense: bool = False,
                           strict: bool = True) -> nn.Module:
    """Load a state_dict into a model of the same architecture whatever form each weight takes on
    either side: plain, MP-parametrized (``mp_prune``), factorised (``factorize``), or masked by
    torch.nn.utils.prune (``weight_orig`` / ``weight_mask``, folded).

    The state_dict's form wins: a parametrized entry registers the same parametrization on the
    model's layer, a factorised one swaps the factorised module in, and a plain weight removes a
    parametrization (or factorisation) the model's layer carries. With ``dense=True`` everything is
    folded into plain weights instead, so the result is the original architecture computing the
    pruned function.

    Parameters
    ----------
    model : nn.Module
        A model of the architecture the state_dict was saved from (pruned or not).
    state_dict : dict or path
        The state_dict, or a file holding one: written by ``torch.save`` (read with
        ``weights_only=True``) or a ``.safetensors`` file (``safetensors.torch.save_file``; needs
        the extra ``safetensors``). A file never runs code.
    dense : bool, default False
        Fold every parametrization and factorisation into plain weights.
    strict : bool, default True
        As ``nn.Module.load_state_dict``.

    Returns
    -------
    nn.Module
        ``model`` (its layers may be new module objects).

    Examples
    --------
    >>> import io, torch, nets
    >>> g = torch.Generator().manual_seed(0)
    >>> model = torch.nn.Sequential(torch.nn.Linear(200, 100))
    >>> with torch.no_grad():
    ...     _ = model[0].weight.copy_(torch.randn(100, 3, generator=g) @ torch.randn(3, 200, generator=g))
    ...     _ = model[0].weight.add_(0.2 * torch.randn(100, 200, generator=g))
    >>> _ = nets.factorize(nets.prune_model(model, tau=0.7), "0")       # 3 (100 + 200) weights
    >>> buffer = io.BytesIO(); torch.save(model.state_dict(), buffer)
    >>> fresh = torch.nn.Sequential(torch.nn.Linear(200, 100))
    >>> _ = nets.load_pruned_state_dict(fresh, torch.load(io.BytesIO(buffer.getvalue())))
    >>> type(fresh[0]).__name__, fresh[0].rank >= 3
    ('FactorizedLinear', True)
    """
    if isinstance(state_dict, (str, os.PathLike)):
        from nets.checkpoint import read_checkpoint
        path, state_dict = state_dict, read_checkpoint(state_dict, "state_dict")
        if not (isinstance(state_dict, dict) and all(isinstance(k, str) for k in state_dict)
                and all(isinstance(v, torch.Tensor) for v in state_dict.values())):
            raise InvalidArgument(f"state_dict {path} holds a {type(state_dict).__name__}, not a state_dict "
                                  "(names -> tensors)")
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
        if not isinstance(module, (nn.Linear, nn.Conv2d) + FACTORIZED_TYPES):
            continue                              # a container whose children are named first/second
        first, second = state[key], state[second_key]
        left = second.reshape(second.shape[0], -1)
        right = first.reshape(first.shape[0], -1)
        if isinstance(module, FACTORIZED_TYPES):
            if dense:
                raise InvalidArgument(f"{mod_name}: the model's layer is factorised; dense=True needs the "
                                      "original architecture")
            if module.rank != right.shape[0]:
                _set_submodule(model, mod_name, two_factor_layer(_dense_template(module), left, right))
            continue
        if dense:
            del state[key], state[second_key]
            state[_join(mod_name, "weight")] = (left.to(torch.float64) @ right.to(torch.float64)).to(
                first.dtype).reshape(module.weight.shape)
            bias_key = _join(mod_name, "second.bias")
            if bias_key in state:
                state[_join(mod_name, "bias")] = state.pop(bias_key)
            if is_mp_pruned(module, "weight"):
                remove(module, "weight", restore=True)
        else:
            if is_mp_pruned(module, "weight"):
                remove(module, "weight", restore=True)
            _set_submodule(model, mod_name, two_factor_layer(module, left, right))
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
        if isinstance(module, FACTORIZED_TYPES) and _join(name, "weight") in state:
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
