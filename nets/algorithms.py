"""The papers' pruning algorithms, built on the one-matrix API of ``nets.prune``: Algorithm 1
(during training: its rounds and the training callback), Algorithm 3 (post-training) of paper 000
(Berlyand et al. 2024) and the split algorithm of paper 001 Section 4.4.

Conventions (read these before comparing numbers with the paper)
-----------------------------------------------------------------
* A layer's matrix is torch's ``out x in`` weight (Conv2d: the ``m x (n p q)`` reshape of
  Section 3.2.2, see ``nets.layers``). Singular values s_1 >= s_2 >= ... are orientation free.
* BEMA (``theory.bema``, Algorithm 2) is run on the matrix oriented *tall* (N = max(in, out) rows,
  M = min(in, out) columns, ratio c = M / N <= 1 as in Theorem 3.1), i.e. on the M eigenvalues
  s_i^2 / N of ``X = W^T W / N``. The threshold on singular values is
  ``fit.singular_value_threshold = sqrt(lambda_+ N)`` = sigma (sqrt(N) + sqrt(M)) up to the
  Tracy-Widom term. The paper's Algorithm 3 normalises by the number of *input* features
  (X = W^T W / N_in); its threshold sqrt(lambda_+^paper N_in) is the same number on singular
  values, so ``lambda_plus_in_features = threshold^2 / in`` is logged for comparison.
  (The paper's published code does the same: it fits the min(in, out) non-zero eigenvalues.)
* "Small" singular values are those ``<= threshold`` (the paper's "smaller than sqrt(lambda_+)";
  equality has probability 0). Step 9 removes the portion 1 - f(epoch) of them, and the ones
  removed are the *smallest*: the ``floor(f n_small)`` largest small singular values are kept
  (paper 001 Section 4.2 step 7 "remove the smallest singular values"; the paper's code keeps
  the leading ``int(n_small f) + n_above`` singular triplets). A 1e-9 guard absorbs float error
  in ``f n_small`` (0.29 * 100 = 28.999999999999996 must give 29).
* Parameter counts for the split decision (step 11) are weights only: r (n + m) < n m; the bias
  vector has the same length either way and sits on the second factor.
* One round of Algorithm 1 (``algorithm1_round``, run by ``MPPruningCallback`` every l epochs)
  = steps 21-27 on split layers, then steps 3-19 on the others; the first round (epoch l) has no
  split layers. A layer whose MP fit is rejected, or for which no MP law can be fitted (BEMA's
  window holds < 3 eigenvalues, e.g. a 2-output layer), is left unchanged and logged.
* One implementation: the MP decision of one layer (SVD, BEMA, fit test, rank) and the low-rank
  map are ``nets.prune.mp_decide`` / ``mp_prune``; a split is ``nets.prune.factorize``, a dense W' (step 14) is
  ``nets.prune.remove``. Every decision returns a typed ``nets.prune.PruneEvent`` (layer, kind,
  shape, sigma2, lambda_plus, sv_threshold, fit_statistic, tau, accepted, n_above_threshold,
  n_small, rank_before/after, kept and removed singular values, params_before/after, action
  split | dense | recombined | none, step prune | recombine | algorithm3).
* Paper 001's variant (``paper001_round``/``paper001_callback``): 45% of the small singular values
  removed every 3 epochs, split only when that saves parameters (no dense W'), and factors of
  earlier splits are split again (its Example 4.3 ends with chains like 784-367-176-...-3000).
* Remark 3.1's variant (``continued_splitting_round``, callback ``variant="continued_splitting"``):
  Algorithm 1's f(epoch) and tau, but steps 4-18 run on the factors of earlier splits instead of
  recombining them (steps 21-27), so a layer becomes a chain of factors.
* Mechanism controls (ours, not the papers'; issue 23 item 3): ``MPPruningCallback`` variants
  "hidden_only", "random_output_projection", "revive_dead_outputs" run ``nets.controls``' rounds
  at Algorithm 1's epochs (see that module).
* The rule (issue 12): every function here takes ``rule`` (default "mp", the papers' rule above)
  and ``noise_sigma`` (default None: the layer's BEMA level), passed to ``nets.prune.mp_prune`` / ``rule_singular_values``.
  Another rule of ``nets.prune.available_rules()`` (``theory.shrinkage``: "truncate",
  "gd_threshold", the optimal shrinkers "frobenius"/"operator"/"nuclear", "debias", "optshrink")
  replaces step 9's decision: the singular values the rule zeroes play the part of the small ones
  (the portion f(epoch) of them kept unchanged), the others take the rule's values, with the noise
  level of the layer's BEMA fit. Step 22's hypothetical rank is the rule's rank. Factors of a
  shrunk layer carry the shrunk singular values. With f > 0 and a shrinker the new singular values
  are not monotone in the old ones (kept outliers shrunk, retained small ones unchanged): the
  literal combination of step 9 with the rule; at f = 0 the rule acts alone.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from nets.layers import (
    FACTORIZED_TYPES,
    FactorizedConv2d,
    count_parameters,
    two_factor_layer,
    recombined,
    set_dense_weight,
    split_saves_parameters,
    weight_layers,
    weight_matrix,
)
from nets import controls
from nets.prune import MP_RULE, PruneEvent, check_noise_sigma, check_rule, factorize, \
    mp_decide, remove, rule_singular_values
from nets.schedules import resolve_schedule
# The spectrum of one layer lives in nets.spectrum; re-exported for existing callers.
from nets.spectrum import (  # noqa: F401
    LayerSpectrum,
    UnfittableSpectrum,
    bema_fit_singular_values,
    kept_small_count,
    layer_spectrum,
    numerical_rank,
    planned_rank,
)
from nets.spectrum import check_finite as _check_finite


# --------------------------------------------------------------------------------------------
# Module surgery (composable, in the style of torch.nn.utils.prune)
# --------------------------------------------------------------------------------------------
def _parent_and_attr(model: nn.Module, name: str) -> tuple[nn.Module, str]:
    if not name:
        raise ValueError("layer name must be non-empty (the model itself cannot be replaced)")
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    if not hasattr(parent, attr):
        raise ValueError(f"model has no submodule {name!r}")
    return parent, attr


def _replace(model: nn.Module, name: str, new: nn.Module) -> None:
    parent, attr = _parent_and_attr(model, name)
    setattr(parent, attr, new)


def _get_layer(model: nn.Module, name: str) -> nn.Module:
    try:
        layer = model.get_submodule(name)
    except AttributeError as exc:
        raise ValueError(f"model has no submodule {name!r}") from exc
    return layer


def _make_weight_permanent(layer: nn.Module) -> None:
    """A torch.nn.utils.prune mask (e.g. from sparsification) is folded into the weight before
    the SVD surgery: the SVD acts on the masked weight, which is what the forward pass uses."""
    for sub in (layer, getattr(layer, "first", None), getattr(layer, "second", None)):
        if sub is not None and torch_prune.is_pruned(sub) and hasattr(sub, "weight_orig"):
            torch_prune.remove(sub, "weight")


def truncate_layer(model: nn.Module, name: str, rank: int) -> nn.Module:
    """Replace a Linear/Conv2d's weight in place by its best rank-``rank`` approximation
    (Algorithm 1 step 14). Returns the layer."""
    layer = _get_layer(model, name)
    if isinstance(layer, FACTORIZED_TYPES):
        raise ValueError(f"{name!r} is factorised; recombine() it first")
    _make_weight_permanent(layer)
    spec = layer_spectrum_svd_only(layer, name)
    _check_rank(rank, spec[1].numel(), name)
    U, s, Vh = spec
    set_dense_weight(layer, (U[:, :rank] * s[:rank]) @ Vh[:rank])
    return layer


def layer_spectrum_svd_only(layer: nn.Module, name: str = "layer"):
    matrix = weight_matrix(layer)
    _check_finite(matrix, name)
    return torch.linalg.svd(matrix.to(torch.float64), full_matrices=False)


def _check_rank(rank: int, k: int, name: str) -> None:
    if not (isinstance(rank, (int, np.integer)) and 0 <= rank <= k):
        raise ValueError(f"{name}: rank must be an integer in [0, {k}], got {rank!r}")


def split_layer(model: nn.Module, name: str, rank: int, require_saving: bool = False) -> nn.Module:
    """Replace a Linear/Conv2d by the factors U sqrt(S') and sqrt(S') V^T of its rank-``rank``
    truncation, no activation between (Algorithm 1 steps 10-12). Returns the new module.
    With ``require_saving`` a split that does not satisfy r (n + m) < n m raises ValueError."""
    layer = _get_layer(model, name)
    if isinstance(layer, FACTORIZED_TYPES):
        raise ValueError(f"{name!r} is already factorised; recombine() it first")
    _make_weight_permanent(layer)
    U, s, Vh = layer_spectrum_svd_only(layer, name)
    _check_rank(rank, s.numel(), name)
    n_out, n_in = U.shape[0], Vh.shape[1]
    if require_saving and not split_saves_parameters(n_out, n_in, rank):
        raise ValueError(f"{name}: rank {rank} split of a {n_out} x {n_in} matrix does not save "
                         f"parameters ({rank * (n_out + n_in)} >= {n_out * n_in})")
    root = s[:rank].sqrt()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
        new = two_factor_layer(layer, U[:, :rank] * root, root[:, None] * Vh[:rank])
    _replace(model, name, new)
    return new


def recombine(model: nn.Module, name: str) -> nn.Module:
    """Replace a factorised layer by the dense layer W = A B (Algorithm 1 step 23)."""
    layer = _get_layer(model, name)
    _make_weight_permanent(layer)
    new = recombined(layer)
    _replace(model, name, new)
    return new


def prunable_layers(model: nn.Module, descend_into_factors: bool = False) -> list[str]:
    """Names of the weight layers Algorithm 1 visits (``nets.layers.weight_layers``): Linear/Conv2d
    and factorised layers as units. With ``descend_into_factors`` (paper 001's repeated splitting)
    the factors themselves are listed instead of the factorised module."""
    return [n for n, _ in weight_layers(model, factorized_as_unit=not descend_into_factors)]


# --------------------------------------------------------------------------------------------
# Algorithm 1, one layer (the MP decision and the low-rank map are nets.prune's mp_prune)
# --------------------------------------------------------------------------------------------
def _all_singular_values(event: PruneEvent) -> tuple[float, ...]:
    return event.kept_singular_values + event.removed_singular_values


def _undone(event: PruneEvent, action: str, reason: str) -> PruneEvent:
    """The event of a decision that was not applied: layer unchanged."""
    return event.replace(action=action, rank_after=event.rank_before, n_removed=0,
                         kept_singular_values=_all_singular_values(event), removed_singular_values=(),
                         params_after=event.params_before, reason=reason)


def prune_layer(model: nn.Module, name: str, keep_fraction: float, tau: float,
                alpha: float = 0.1, beta: float = 0.1, allow_dense: bool = True,
                known_rank: int | None = None, allow_rank_zero: bool = True,
                rule: str = MP_RULE, noise_sigma: float | None = None) -> PruneEvent:
    """Algorithm 1 steps 4-18 for one unfactorised layer; returns the event.

    ``keep_fraction`` is f(epoch): the portion of small singular values kept. If the MP fit is
    accepted (fit statistic <= tau), W' keeps rank r = n_above + floor(f n_small) (``mp_prune``);
    the layer is split when r (n + m) < n m (step 12, ``factorize``), else W is overwritten by W'
    in place (step 14, ``remove``; skipped when ``allow_dense`` is False, as in paper 001 Section
    4.4 step 4). ``known_rank``: the layer was just recombined from rank-r factors, so its singular
    values beyond r are exactly 0 (the spectrum the recombine test of step 22 saw).
    ``allow_rank_zero`` (default True here: step 9 with f = 0 removes every small singular value,
    as the paper's algorithm does; the event then shows rank_after = 0). ``rule``, ``noise_sigma``:
    see the module docstring."""
    layer = _get_layer(model, name)
    if isinstance(layer, FACTORIZED_TYPES):
        raise ValueError(f"{name!r} is factorised; Algorithm 1 prunes only split_l = false layers")
    _make_weight_permanent(layer)
    params_before = count_parameters(layer)
    decision = mp_decide(layer, "weight", rule=rule, tau=tau, alpha=alpha, tw_level=beta,
                         keep_fraction=keep_fraction, known_rank=known_rank, allow_rank_zero=allow_rank_zero,
                         noise_sigma=noise_sigma, layer_name=name)
    decision.apply()
    event = decision.event.replace(step="prune", params_before=params_before, params_after=params_before)
    if event.action != "parametrized":
        if event.accepted is not False and event.reason == "no singular value to remove":
            # r = min(n, m) never saves parameters: step 14 writes W' = W
            if allow_dense:
                return event.replace(action="dense")
            return event.replace(action="none", reason="split would not save parameters")
        return event.replace(action="none")
    if split_saves_parameters(*event.shape, event.rank_after):
        new = factorize(layer)
        _replace(model, name, new)
        return event.replace(action="split", params_after=count_parameters(new))
    if allow_dense:
        remove(layer, "weight")
        return event.replace(action="dense")
    remove(layer, "weight", restore=True)
    return _undone(event, "none", "split would not save parameters")


def recombine_if_better(model: nn.Module, name: str, keep_fraction: float, tau: float,
                        alpha: float = 0.1, beta: float = 0.1, rule: str = MP_RULE,
                        noise_sigma: float | None = None) -> PruneEvent:
    """Algorithm 1 steps 21-27 for one factorised layer: with W := W'_1 W'_2, recombine when
    (a) the ESD of X fits MP with threshold tau and (b) re-running steps 4-12 on W would lower
    the parameter count below the current r (n + m). The recombined layer is re-pruned by the
    next steps 3-19 pass (Remark 3.1: "recombining and splitting the original matrix").

    Note: W has rank <= r, so z = min(n, m) - r of its singular values are exactly 0 (set so
    explicitly, see ``layer_spectrum``); they enter the MP fit like any others (the paper says
    nothing else). Algorithm 4's statistic is then at least the zero fraction z / min(n, m) (the
    ecdf jumps to it at 0 where the MP cdf of ratio c <= 1 is 0), so (a) needs
    r >= (1 - tau) min(n, m); when the zeros fill BEMA's whole window no law can be fitted and the
    layer stays split. Since a split needs r < n m / (n + m) <= min(n, m) / 2, with the paper's
    tau = 0.7 the rule can fire only for 0.3 min(n, m) <= r < n m / (n + m). With another ``rule``
    the hypothetical rank is that rule's (``nets.prune.rule_singular_values``)."""
    check_rule(rule)
    layer = _get_layer(model, name)
    if not isinstance(layer, FACTORIZED_TYPES):
        raise ValueError(f"{name!r} is not factorised (split_l = false)")
    _make_weight_permanent(layer)
    params_before = count_parameters(layer)
    n_out, n_in = (int(d) for d in weight_matrix(layer).shape)
    base = dict(layer=name, tensor="weight", kind="conv" if isinstance(layer, FactorizedConv2d) else "linear",
                shape=(n_out, n_in), rule=rule, step="recombine", tau=float(tau),
                keep_fraction=float(keep_fraction), params_before=params_before, params_after=params_before,
                rank_before=layer.rank, rank_after=layer.rank, n_removed=0)
    try:
        spec = layer_spectrum(layer, alpha, beta, name)
    except UnfittableSpectrum as exc:
        return PruneEvent(**base, action="none", accepted=False, reason=str(exc))
    fit = spec.fit
    current = layer.rank * (n_out + n_in)
    new_rank, _ = rule_singular_values(spec, rule, keep_fraction, noise_sigma)
    hypothetical = (new_rank * (n_out + n_in) if split_saves_parameters(n_out, n_in, new_rank)
                    else n_out * n_in)
    accepted = bool(fit.accepts(tau))
    event = PruneEvent(**base, action="none", accepted=accepted, sigma2=float(fit.sigma2),
                       lambda_plus=float(fit.lambda_plus), lambda_plus_in_features=spec.lambda_plus_in_features,
                       sv_threshold=spec.threshold, fit_statistic=float(fit.mp_fit_error),
                       n_singular=int(spec.s.numel()), n_above_threshold=spec.n_above, n_small=spec.n_small,
                       kept_singular_values=tuple(float(v) for v in spec.s.cpu().numpy()),
                       hypothetical_rank=new_rank, hypothetical_weight_params=hypothetical,
                       current_weight_params=current)
    if accepted and hypothetical < current:
        new = recombined(layer)
        _replace(model, name, new)
        return event.replace(action="recombined", params_after=count_parameters(new))
    return event


# --------------------------------------------------------------------------------------------
# Algorithm 1 / paper 001, whole model
# --------------------------------------------------------------------------------------------
def _tau_for(layer: nn.Module, tau: float, tau_conv: float | None) -> float:
    if tau_conv is not None and isinstance(layer, (nn.Conv2d, FactorizedConv2d)):
        return tau_conv
    return tau


def algorithm1_round(model: nn.Module, keep_fraction: float, tau: float, tau_conv: float | None = None,
                     alpha: float = 0.1, beta: float = 0.1, recombine_first: bool = True,
                     layers: Iterable[str] | None = None, rule: str = MP_RULE,
                     noise_sigma: float | None = None) -> list[PruneEvent]:
    """One pruning round of Algorithm 1: steps 21-27 (recombine) on the split layers, then
    steps 3-19 on the layers with split_l = false (a recombined layer is pruned in the same
    round, as the while loop goes straight from step 27 to step 3 without training).
    ``layers`` restricts the round to those names (default: every Linear/Conv2d). ``rule``,
    ``noise_sigma``: the decision of steps 9 and 22 (module docstring; default the papers')."""
    check_rule(rule)
    events = []
    chosen = None if layers is None else set(layers)

    def selected(n):
        return chosen is None or n in chosen

    recombined_rank = {}
    if recombine_first:
        for name in prunable_layers(model):
            layer = model.get_submodule(name)
            if isinstance(layer, FACTORIZED_TYPES) and selected(name):
                ev = recombine_if_better(model, name, keep_fraction, _tau_for(layer, tau, tau_conv),
                                         alpha, beta, rule=rule, noise_sigma=noise_sigma)
                if ev.action == "recombined":
                    recombined_rank[name] = layer.rank
                events.append(ev)
    for name in prunable_layers(model):
        layer = model.get_submodule(name)
        if not isinstance(layer, FACTORIZED_TYPES) and selected(name):
            events.append(prune_layer(model, name, keep_fraction, _tau_for(layer, tau, tau_conv),
                                      alpha, beta, known_rank=recombined_rank.get(name), rule=rule,
                                      noise_sigma=noise_sigma))
    return events


def paper001_round(model: nn.Module, remove_fraction: float = 0.45, tau: float = 0.15,
                   alpha: float = 0.1, beta: float = 0.1,
                   layers: Iterable[str] | None = None, rule: str = MP_RULE,
                   noise_sigma: float | None = None) -> list[PruneEvent]:
    """One cycle of paper 001 Section 4.4: for every weight layer (including factors of earlier
    splits, which is how its Example 4.3 ends with chains such as 784-367-176-89-54-35-3000),
    when the ESD fits MP (Section 4.3, threshold tau) remove ``remove_fraction`` (45%) of the
    small singular values and split, but only if the two new layers have fewer parameters
    (step 4); otherwise leave the layer unchanged."""
    if not 0.0 <= remove_fraction <= 1.0:
        raise ValueError(f"remove_fraction must lie in [0, 1], got {remove_fraction}")
    check_rule(rule)
    chosen = None if layers is None else set(layers)
    events = []
    for name in prunable_layers(model, descend_into_factors=True):
        if chosen is not None and name not in chosen:
            continue
        if _get_layer(model, name).weight.numel() == 0:
            # a factor of a rank-0 split (every singular value of its layer was small and all were
            # removed, e.g. remove_fraction 1): an empty matrix has no spectrum and nothing to remove
            continue
        ev = prune_layer(model, name, 1.0 - remove_fraction, tau, alpha, beta, allow_dense=False,
                         rule=rule, noise_sigma=noise_sigma)
        events.append(ev.replace(variant="paper001"))
    return events


def continued_splitting_round(model: nn.Module, keep_fraction: float, tau: float,
                              tau_conv: float | None = None, alpha: float = 0.1, beta: float = 0.1,
                              layers: Iterable[str] | None = None, rule: str = MP_RULE,
                              noise_sigma: float | None = None) -> list[PruneEvent]:
    """One round of the "continued splitting" variant of Algorithm 1 (paper 000, Remark 3.1,
    Section 3.1.3: "it is possible to continue splitting the matrices W_l, W'_l, and so on").

    Where Algorithm 1 recombines a split layer W_l := W'_{1,l} W'_{2,l} and re-splits that
    (steps 21-27, ``algorithm1_round``), this variant never recombines: steps 4-18 run on every
    *leaf* weight matrix, the factors of earlier splits included, so a factor W'_{1,l} whose ESD
    fits MP (step 7, threshold ``tau``; the paper's 0.7) loses the portion 1 - f(epoch) of its
    small singular values (step 9, f = ``keep_fraction`` from Algorithm 1's own schedule, e.g.
    (3.6)) and is split again, W'_{1,l} = W''_{1,l} W''_{2,l}, when that saves parameters (steps
    10-12), or else overwritten by its truncation W' (step 14). A layer thus becomes a chain of
    factors with no activation between them. The tree walk over the factors is the one of paper
    001's repeated splitting (``paper001_round``: ``prunable_layers(descend_into_factors=True)``);
    only the decision differs (f(epoch), tau and step 14 of Algorithm 1 instead of 001's fixed 45%
    and split-or-nothing). On a model without factors (the first round) this is exactly steps 3-19
    of ``algorithm1_round``. ``layers`` restricts the round to those leaf names; ``rule``,
    ``noise_sigma``: module docstring. Events carry ``variant="continued_splitting"``."""
    check_rule(rule)
    chosen = None if layers is None else set(layers)
    events = []
    for name in prunable_layers(model, descend_into_factors=True):
        if chosen is not None and name not in chosen:
            continue
        layer = _get_layer(model, name)
        if layer.weight.numel() == 0:
            continue  # a factor of a rank-0 split: no spectrum, nothing to remove
        ev = prune_layer(model, name, keep_fraction, _tau_for(layer, tau, tau_conv), alpha, beta,
                         rule=rule, noise_sigma=noise_sigma)
        events.append(ev.replace(variant="continued_splitting"))
    return events


def hidden_only_round(model: nn.Module, keep_fraction: float, tau: float, tau_conv: float | None = None,
                      alpha: float = 0.1, beta: float = 0.1, recombine_first: bool = True,
                      layers: Iterable[str] | None = None, rule: str = MP_RULE,
                      noise_sigma: float | None = None) -> list[PruneEvent]:
    """Mechanism control (a) of ``nets.controls``: one round of Algorithm 1 (``algorithm1_round``,
    same arguments) on every weight layer except the output layer (``controls.output_layer_name``),
    which is never touched. Each layer's decision reads only that layer, so the hidden layers'
    events are Algorithm 1's on the same state. Events carry ``variant="hidden_only"``."""
    events = algorithm1_round(model, keep_fraction, tau, tau_conv, alpha, beta, recombine_first=recombine_first,
                              layers=controls.hidden_layer_names(model, layers), rule=rule,
                              noise_sigma=noise_sigma)
    return [ev.replace(variant="hidden_only") for ev in events]


def random_output_projection_round(model: nn.Module, keep_fraction: float, tau: float, *, seed: int,
                                   epoch: int, space: str = "input", tau_conv: float | None = None,
                                   alpha: float = 0.1, beta: float = 0.1, recombine_first: bool = True,
                                   layers: Iterable[str] | None = None, rule: str = MP_RULE,
                                   noise_sigma: float | None = None) -> list[PruneEvent]:
    """Mechanism control (b) of ``nets.controls``: one round of Algorithm 1 on the hidden layers and,
    on the output layer, Algorithm 1's own steps (21-27, then 4-18: BEMA fit, tau, rank r, split or
    dense) with the random rank-r projection W Q Q^T (``controls.write_random_projection``; Q Haar
    on R^in for ``space="input"``, on W's row space for "row"; drawn from (``seed``, ``epoch``))
    written where Algorithm 1 writes its SVD truncation. Same rank and parameter count as
    Algorithm 1's, another subspace. Returns the hidden layers' events, then the output layer's,
    all with ``variant="random_output_projection"``. Only the papers' rule "mp"."""
    if space not in controls.PROJECTION_SPACES:
        raise ValueError(f"space must be one of {controls.PROJECTION_SPACES}, got {space!r}")
    if rule != MP_RULE:
        raise ValueError(f"rule: the random-projection control replaces MP's truncation; rule must be "
                         f"{MP_RULE!r}, got {rule!r}")
    common = dict(recombine_first=recombine_first, rule=rule, noise_sigma=noise_sigma)
    events = algorithm1_round(model, keep_fraction, tau, tau_conv, alpha, beta,
                              layers=controls.hidden_layer_names(model, layers), **common)
    out = controls.output_layer_name(model)
    if layers is None or out in set(layers):
        # the matrix steps 4-18 see: the weight, or W = W'_1 W'_2 when steps 21-27 recombine it
        # (``recombined`` writes exactly ``weight_matrix``'s product)
        matrix = weight_matrix(model.get_submodule(out)).detach().to(torch.float64)
        for ev in algorithm1_round(model, keep_fraction, tau, tau_conv, alpha, beta, layers=[out], **common):
            events.append(controls.write_random_projection(model, out, matrix, ev, seed=seed, epoch=epoch,
                                                           space=space))
    return [ev.replace(variant="random_output_projection") for ev in events]


# The Algorithm 1 variants MPPruningCallback runs (TrainConfig.pruning["variant"], nets.configs.with_variant);
# the last three are the mechanism controls of nets.controls (issue 23 item 3), not algorithms of the papers
VARIANTS = ("algorithm1", "paper001", "continued_splitting", "hidden_only", "random_output_projection",
            "revive_dead_outputs")


class MPPruningCallback:
    """Algorithm 1 (or a variant: ``variant`` "paper001", paper 001's split algorithm, or
    "continued_splitting", Remark 3.1's factors split again, ``continued_splitting_round``) as a
    training-loop callback.

    ``on_epoch_end(model, epoch)`` is called after each epoch with ``epoch`` = number of epochs
    completed so far (1, 2, ...). Every ``every`` epochs (the split frequency l; the first
    round after epoch l, step 1) a round runs with f = schedule(epoch); rounds stop after
    ``max_epoch`` (step 2's "epoch <= 100"). Returns the list of PruneEvents (empty otherwise).

    When a round splits or recombines a layer the model has new Parameter objects and the
    optimizer must be rebuilt: ``parameters_changed`` is True after such a round (events carry
    action "split"/"recombined"). Dense replacements (step 14) write in place and keep the
    optimizer state valid.

    ``rule`` (default "mp", the papers') and ``noise_sigma`` (default None) choose the decision
    of steps 9 and 22 (module docstring); a rule that ``nets.prune.available_rules()`` does not
    list is refused here, before training (``InvalidArgument`` naming ``rule``).

    The mechanism controls of ``nets.controls`` run at the same epochs: variant "hidden_only"
    (Algorithm 1 without the output layer), "random_output_projection" (the output layer's MP
    truncation replaced by a random projection of the same rank; ``projection_space`` "input" or
    "row") and "revive_dead_outputs" (no pruning; dead output rows re-initialised;
    ``revive_criterion`` "dead" or "never_predicted"). The last two
    need the run's seed (and, for the last, its training set): ``nets.train.Run`` passes them
    through ``bind_run``; without a run, call ``bind(seed, train_dataset, device, loss)``.
    """

    def __init__(self, every: int = 7, schedule="3.6", tau: float = 0.7, tau_conv: float | None = None,
                 alpha: float = 0.1, beta: float = 0.1, variant: str = "algorithm1",
                 remove_fraction: float = 0.45, max_epoch: int | None = None,
                 layers: Iterable[str] | None = None, rule: str = MP_RULE, noise_sigma: float | None = None,
                 projection_space: str = "input", revive_criterion: str = "dead"):
        if every < 1:
            raise ValueError(f"split frequency must be >= 1 epoch, got {every}")
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        if projection_space not in controls.PROJECTION_SPACES:
            raise ValueError(f"projection_space must be one of {controls.PROJECTION_SPACES}, "
                             f"got {projection_space!r}")
        if variant == "random_output_projection" and rule != MP_RULE:
            raise ValueError(f"rule: variant 'random_output_projection' replaces MP's truncation; rule must "
                             f"be {MP_RULE!r}, got {rule!r}")
        if revive_criterion not in controls.REVIVE_CRITERIA:
            raise ValueError(f"revive_criterion must be one of {controls.REVIVE_CRITERIA}, got {revive_criterion!r}")
        self.projection_space, self.revive_criterion = projection_space, revive_criterion
        self._seed, self._train, self._device, self._loss = None, None, "cpu", "cross_entropy"
        self.rule = check_rule(rule)
        check_noise_sigma(noise_sigma, rule)
        self.noise_sigma = noise_sigma
        self.every, self.tau, self.tau_conv = every, tau, tau_conv
        self.alpha, self.beta, self.variant = alpha, beta, variant
        self.remove_fraction, self.max_epoch = remove_fraction, max_epoch
        self.schedule: Callable[[float], float] = resolve_schedule(schedule)
        self.layers = None if layers is None else list(layers)
        self.parameters_changed = False
        self.history: list[PruneEvent] = []

    def bind(self, seed: int, train_dataset=None, device="cpu", loss: str = "cross_entropy") -> None:
        """The run's seed (draws of the controls) and training set (dead units of
        "revive_dead_outputs"); unused by the MP variants."""
        self._seed, self._train, self._device, self._loss = int(seed), train_dataset, device, loss

    def bind_run(self, run) -> None:
        """``bind`` from a ``nets.train.Run`` (called by the Run when it is built)."""
        self.bind(run.seed, run.data.train, run.device, run.cfg.loss)

    def _bound_seed(self) -> int:
        if self._seed is None:
            raise ValueError(f"variant {self.variant!r} draws random numbers from the run's seed: call "
                             "bind(seed, ...) or bind_run(run) first")
        return self._seed

    def due(self, epoch: int) -> bool:
        return epoch >= self.every and epoch % self.every == 0 and (
            self.max_epoch is None or epoch <= self.max_epoch)

    def on_epoch_end(self, model: nn.Module, epoch: int) -> list[PruneEvent]:
        self.parameters_changed = False
        if not self.due(epoch):
            return []
        before = count_parameters(model)
        if self.variant == "algorithm1":
            f = float(self.schedule(epoch))
            events = algorithm1_round(model, f, self.tau, self.tau_conv, self.alpha, self.beta,
                                      recombine_first=epoch > self.every, layers=self.layers,
                                      rule=self.rule, noise_sigma=self.noise_sigma)
        elif self.variant == "continued_splitting":
            events = continued_splitting_round(model, float(self.schedule(epoch)), self.tau, self.tau_conv,
                                               self.alpha, self.beta, layers=self.layers, rule=self.rule,
                                               noise_sigma=self.noise_sigma)
        elif self.variant == "paper001":
            events = paper001_round(model, self.remove_fraction, self.tau, self.alpha, self.beta,
                                    layers=self.layers, rule=self.rule, noise_sigma=self.noise_sigma)
        else:
            events = self._control_round(model, epoch)
        after = count_parameters(model)
        events = [ev.replace(epoch=int(epoch), variant=ev.variant or self.variant,
                             model_params_before=before, model_params_after=after) for ev in events]
        self.parameters_changed = any(ev.action in ("split", "recombined") for ev in events)
        self.history.extend(events)
        return events

    def _control_round(self, model: nn.Module, epoch: int) -> list:
        """One round of a mechanism control of ``nets.controls`` (class docstring)."""
        common = dict(tau_conv=self.tau_conv, alpha=self.alpha, beta=self.beta,
                      recombine_first=epoch > self.every, layers=self.layers, rule=self.rule,
                      noise_sigma=self.noise_sigma)
        if self.variant == "hidden_only":
            return hidden_only_round(model, float(self.schedule(epoch)), self.tau, **common)
        if self.variant == "random_output_projection":
            return random_output_projection_round(
                model, float(self.schedule(epoch)), self.tau, seed=self._bound_seed(), epoch=int(epoch),
                space=self.projection_space, **common)
        if self._train is None:
            raise ValueError("variant 'revive_dead_outputs' measures dead output units on the training set: "
                             "call bind(seed, train_dataset, ...) or bind_run(run) first")
        return controls.revive_dead_outputs_round(model, self._train, seed=self._bound_seed(), epoch=int(epoch),
                                                  loss=self._loss, device=self._device,
                                                  criterion=self.revive_criterion)

    def state_dict(self) -> dict:
        """Decisions depend only on (model, epoch) (and, for the controls, the bound run's seed and
        training set); the event history (as plain data) is the only state."""
        return {"history": [ev.to_dict() if hasattr(ev, "to_dict") else dict(ev) for ev in self.history]}

    def load_state_dict(self, state: dict) -> None:
        # Checkpoints written before PruneEvent existed hold plain event dicts in another layout
        # (kept_sv_min / removed_sv_max, no tensor / rule); the history only records decisions
        # (they depend on the model and the epoch alone), so such entries are kept as they are.
        self.history = [ev if isinstance(ev, PruneEvent) else
                        PruneEvent.from_dict(ev) if {"tensor", "rule"} <= set(ev) else dict(ev)
                        for ev in state.get("history", [])]


# --------------------------------------------------------------------------------------------
# Algorithm 3 (post-training, one matrix)
# --------------------------------------------------------------------------------------------
@dataclass
class Algorithm3Result:
    """Outcome of Algorithm 3 on one matrix."""

    spectrum: LayerSpectrum
    accepted: bool | None      # None when no tau was given (step 5 not applied)
    rank: int                  # singular values kept
    truncated: torch.Tensor    # W' (out x in, float64)
    first: torch.Tensor        # sqrt(S') V^T  (r x in)
    second: torch.Tensor       # U sqrt(S')    (out x r)
    rule: str = MP_RULE
    new_singular_values: tuple[float, ...] | None = None   # the r values S' (None: unchanged, "mp")

    @property
    def weights_before(self) -> int:
        return self.spectrum.n_out * self.spectrum.n_in

    @property
    def weights_after_split(self) -> int:
        return self.rank * (self.spectrum.n_out + self.spectrum.n_in)

    @property
    def weights_saved(self) -> int:
        """Weights saved by splitting, 0 when splitting would not save (then keep W')."""
        return max(0, self.weights_before - self.weights_after_split)


def algorithm3(matrix, remove_fraction: float = 1.0, tau: float | None = None,
               alpha: float = 0.1, beta: float = 0.1, rule: str = MP_RULE,
               noise_sigma: float | None = None) -> Algorithm3Result:
    """Algorithm 3 (Appendix D.3): SVD, BEMA lambda_+, optional MP fit test (tau), replace the
    portion ``remove_fraction`` of the singular values below sqrt(lambda_+ N) by 0 (the smallest
    ones; step 6 says "a portion, e.g. 0.1"; Example D.3 / Fig D.5 remove them all, which is the
    default 1.0), and return W' and the factors of step 7. The matrix is ``out x in`` (torch
    orientation); the threshold is orientation free (see module docstring). Another ``rule``
    (module docstring) replaces the kept singular values by the rule's: W' = U S' V^T, factors
    U sqrt(S'), sqrt(S') V^T."""
    if not 0.0 <= remove_fraction <= 1.0:
        raise ValueError(f"remove_fraction must lie in [0, 1], got {remove_fraction}")
    check_rule(rule)
    check_noise_sigma(noise_sigma, rule)
    spec = layer_spectrum(matrix, alpha, beta, "algorithm3")
    accepted = None if tau is None else bool(spec.fit.accepts(tau))
    rank, new = rule_singular_values(spec, rule, 1.0 - remove_fraction, noise_sigma)
    if new is None:
        left, right = spec.factors(rank)
        return Algorithm3Result(spec, accepted, rank, spec.truncated(rank), right, left)
    values = torch.as_tensor(new[:rank], dtype=spec.s.dtype, device=spec.s.device)
    root = values.sqrt()
    U, Vh = spec.U[:, :rank], spec.Vh[:rank]
    return Algorithm3Result(spec, accepted, rank, (U * values) @ Vh, root[:, None] * Vh, U * root,
                            rule=rule, new_singular_values=tuple(float(v) for v in new[:rank]))


def prune_layer_algorithm3(model: nn.Module, name: str, remove_fraction: float = 1.0,
                           tau: float | None = None, alpha: float = 0.1, beta: float = 0.1,
                           split: bool = True, allow_rank_zero: bool = False, rule: str = MP_RULE,
                           noise_sigma: float | None = None) -> PruneEvent:
    """Apply Algorithm 3 to one layer of a trained model (``mp_prune`` with keep fraction
    1 - ``remove_fraction``). If a tau is given and the fit is rejected, the layer is left alone.
    With ``split`` the layer is factorised when that saves parameters, otherwise W' is written in
    place. A layer whose singular values all lie in the bulk keeps its weight with an
    ``AllNoiseWarning`` unless ``allow_rank_zero``. ``rule``, ``noise_sigma``: see the module
    docstring (the portion ``remove_fraction`` of the singular values the rule zeroes is removed)."""
    if not 0.0 <= remove_fraction <= 1.0:
        raise ValueError(f"remove_fraction must lie in [0, 1], got {remove_fraction}")
    layer = _get_layer(model, name)
    if isinstance(layer, FACTORIZED_TYPES):
        raise ValueError(f"{name!r} is already factorised")
    _make_weight_permanent(layer)
    before = count_parameters(layer)
    decision = mp_decide(layer, "weight", rule=rule, tau=tau, alpha=alpha, tw_level=beta,
                         keep_fraction=1.0 - remove_fraction, allow_rank_zero=allow_rank_zero,
                         noise_sigma=noise_sigma, layer_name=name)
    decision.apply()
    event = decision.event.replace(step="algorithm3", params_before=before, params_after=before)
    if event.action != "parametrized":
        return event if event.action == "kept" else event.replace(action="none")
    if split and split_saves_parameters(*event.shape, event.rank_after):
        new = factorize(layer)
        _replace(model, name, new)
        return event.replace(action="split", params_after=count_parameters(new))
    remove(layer, "weight")
    return event.replace(action="dense")


def paper001_callback(tau: float = 0.15, every: int = 3, remove_fraction: float = 0.45,
                      alpha: float = 0.1, beta: float = 0.1, **kwargs) -> MPPruningCallback:
    """Paper 001 Section 4.4 / Example 4.3 defaults: every 3 epochs remove 45% of the small
    singular values and split when that saves parameters and the MP fit passes (tau 0.15)."""
    return MPPruningCallback(every=every, tau=tau, alpha=alpha, beta=beta, variant="paper001",
                             remove_fraction=remove_fraction, **kwargs)
