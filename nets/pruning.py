"""MP-based pruning of weight layers: Algorithm 1 (during training), Algorithm 3 (post-training)
of paper 000 (Berlyand et al. 2024) and the split algorithm of paper 001 Section 4.4.

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
* Every decision returns an event dict: layer, kind, shape, sigma2, lambda_plus, sv_threshold,
  fit_statistic, tau, accepted, n_singular, n_above_threshold, n_small, rank_before,
  rank_after, n_removed, kept_sv_min, removed_sv_max, params_before/after, action
  (split | dense | recombined | none), step (prune | recombine | algorithm3).
* Paper 001's variant (``paper001_round``/``paper001_callback``): 45% of the small singular values
  removed every 3 epochs, split only when that saves parameters (no dense W'), and factors of
  earlier splits are split again (its Example 4.3 ends with chains like 784-367-176-...-3000).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from nets.layers import (
    FactorizedConv2d,
    FactorizedLinear,
    count_parameters,
    factorise,
    recombined,
    set_dense_weight,
    split_saves_parameters,
    weight_matrix,
)
from nets.schedules import resolve_schedule

FACTORISED_TYPES = (FactorizedLinear, FactorizedConv2d)


# --------------------------------------------------------------------------------------------
# Spectrum of one layer
# --------------------------------------------------------------------------------------------
class UnfittableSpectrum(ValueError):
    """The spectrum leaves BEMA nothing to fit (e.g. a low-rank product with many exact zeros)."""


@dataclass
class LayerSpectrum:
    """SVD of a layer's ``out x in`` matrix (float64) with its BEMA fit (Algorithm 1 steps 4-7)."""

    U: torch.Tensor            # out x k, k = min(out, in)
    s: torch.Tensor            # k singular values, descending
    Vh: torch.Tensor           # k x in
    n_out: int
    n_in: int
    fit: object                # theory.bema.BemaFit of the tall orientation
    threshold: float           # sqrt(lambda_+ N) on singular values

    @property
    def n_above(self) -> int:
        return int((self.s > self.threshold).sum())

    @property
    def n_small(self) -> int:
        return int(self.s.numel()) - self.n_above

    @property
    def lambda_plus_in_features(self) -> float:
        """lambda_+ in the paper's Algorithm 3 normalisation X = W^T W / N_in."""
        return self.threshold ** 2 / self.n_in

    def truncated(self, rank: int) -> torch.Tensor:
        """W' = U S' V^T keeping the ``rank`` largest singular triplets."""
        return (self.U[:, :rank] * self.s[:rank]) @ self.Vh[:rank]

    def factors(self, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(U sqrt(S'), sqrt(S') V^T) of Algorithm 1 step 10 (out x r, r x in)."""
        root = self.s[:rank].sqrt()
        return self.U[:, :rank] * root, root[:, None] * self.Vh[:rank]


def _check_finite(matrix: torch.Tensor, what: str) -> None:
    if not torch.isfinite(matrix).all():
        bad = int((~torch.isfinite(matrix)).sum())
        raise ValueError(f"{what}: weight matrix has {bad} non-finite (NaN/inf) entries")


def bema_fit_singular_values(s: np.ndarray, n_out: int, n_in: int, alpha: float, beta: float):
    """BEMA (theory.bema.fit) on the singular values of an ``n_out x n_in`` matrix, tall
    orientation: eigenvalues s^2 / N of X = W^T W / N, N = max(n_out, n_in)."""
    from theory import bema  # numpy-only module, imported lazily so nets imports stay light

    n_rows, n_cols = max(n_out, n_in), min(n_out, n_in)
    s = np.asarray(s, dtype=np.float64)
    if s.shape != (n_cols,):
        raise ValueError(f"expected {n_cols} singular values for a {n_out} x {n_in} matrix, "
                         f"got shape {s.shape}")
    eig = np.sort(s ** 2 / n_rows)
    n_zero = int(np.count_nonzero(eig == 0.0))
    window_low = math.ceil(alpha * n_cols - 1e-9)
    window = min(math.floor((1 - alpha) * n_cols + 1e-9), n_cols) - max(window_low, 1) + 1
    if window < 3:
        # e.g. the 2-class output layer of E.4: BEMA's quantile window is (nearly) empty
        raise UnfittableSpectrum(f"{n_out} x {n_in} matrix: BEMA's window alpha n <= k <= (1-alpha) n "
                                 f"holds {window} of n = {n_cols} eigenvalues (need 3)")
    if n_zero >= math.floor((1 - alpha) * n_cols + 1e-9):
        # A factorised layer of rank r has n_cols - r exactly-zero singular values; when they fill
        # BEMA's whole quantile window sigma^2 is 0 and no MP law can be fitted (theory.bema raises).
        raise UnfittableSpectrum(f"{n_zero} of {n_cols} singular values are exactly 0, covering "
                                 f"BEMA's fit window [{window_low}, (1-alpha) {n_cols}]: no MP fit")
    return bema.fit(eig, n_rows, n_cols, alpha=alpha, beta=beta)


def layer_spectrum(layer_or_matrix, alpha: float = 0.1, beta: float = 0.1,
                   name: str = "layer", known_rank: int | None = None) -> LayerSpectrum:
    """Steps 4-6 of Algorithm 1 (steps 2-4 of Algorithm 3): SVD and BEMA lambda_+.
    ``known_rank`` (automatic for factorised layers): the matrix is a product of rank-r factors,
    so singular values beyond r are set to exactly 0."""
    from core.validate import InvalidArgument, check_float
    # Checked here, not left to the window test below: a bad alpha would read as "unfittable".
    alpha = check_float("alpha", alpha, 0.0, 0.5, lo_open=True, hi_open=True)
    beta = check_float("beta", beta, 0.0, 1.0, lo_open=True, hi_open=True)
    if isinstance(layer_or_matrix, nn.Module):
        matrix = weight_matrix(layer_or_matrix)
    else:
        matrix = torch.as_tensor(layer_or_matrix)
    if matrix.is_complex():
        raise InvalidArgument(f"{name}: weights must be real, got dtype {matrix.dtype}")
    if matrix.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D weight matrix, got shape {tuple(matrix.shape)}")
    if min(matrix.shape) < 2:
        raise UnfittableSpectrum(f"{name}: matrix of shape {tuple(matrix.shape)} is too small for an MP fit")
    _check_finite(matrix, name)
    m64 = matrix.detach().to(torch.float64)
    U, s, Vh = torch.linalg.svd(m64, full_matrices=False)
    if isinstance(layer_or_matrix, FACTORISED_TYPES):
        known_rank = layer_or_matrix.rank
    if known_rank is not None:
        # W = A B has rank <= r exactly; float rounding leaves ~1e-7-relative values in place of
        # the zeros, which would otherwise drag BEMA's sigma^2 towards 0 without being flagged.
        s = s.clone()
        s[known_rank:] = 0.0
    n_out, n_in = m64.shape
    fit = bema_fit_singular_values(s.cpu().numpy(), n_out, n_in, alpha, beta)
    return LayerSpectrum(U, s, Vh, n_out, n_in, fit, float(fit.singular_value_threshold))


def numerical_rank(s: torch.Tensor, n_out: int, n_in: int, dtype=torch.float32) -> int:
    """Rank with numpy/torch's default tolerance s_max * max(n, m) * eps(dtype of the weights):
    a layer already truncated in float32 has tiny, not zero, trailing singular values."""
    if s.numel() == 0 or float(s[0]) == 0.0:
        return 0
    tol = float(s[0]) * max(n_out, n_in) * torch.finfo(dtype).eps
    return int((s > tol).sum())


def kept_small_count(n_small: int, keep_fraction: float) -> int:
    """Number of small singular values kept: floor(f n_small) (Algorithm 1 step 9)."""
    if not 0.0 <= keep_fraction <= 1.0:
        raise ValueError(f"keep fraction f(epoch) must lie in [0, 1], got {keep_fraction}")
    return min(n_small, math.floor(keep_fraction * n_small + 1e-9))


def planned_rank(spectrum: LayerSpectrum, keep_fraction: float) -> int:
    """Rank of W' after step 9: all singular values above the threshold plus the
    floor(f n_small) largest of the small ones."""
    return spectrum.n_above + kept_small_count(spectrum.n_small, keep_fraction)


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
    if isinstance(layer, FACTORISED_TYPES):
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
    if isinstance(layer, FACTORISED_TYPES):
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
        new = factorise(layer, U[:, :rank] * root, root[:, None] * Vh[:rank])
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
    """Names of the weight layers Algorithm 1 visits: Linear/Conv2d and factorised layers.
    With ``descend_into_factors`` (paper 001's repeated splitting) the factors themselves are
    listed instead of the factorised module."""
    names, skip_prefixes = [], []
    for name, module in model.named_modules():
        if any(name.startswith(p) for p in skip_prefixes):
            continue
        if isinstance(module, FACTORISED_TYPES):
            if descend_into_factors:
                continue  # its first/second children are visited next
            names.append(name)
            skip_prefixes.append(name + ".")
        elif isinstance(module, (nn.Linear, nn.Conv2d)):
            names.append(name)
    return names


# --------------------------------------------------------------------------------------------
# Algorithm 1, one layer
# --------------------------------------------------------------------------------------------
def _event_base(name: str, layer: nn.Module, spec: LayerSpectrum, tau: float | None) -> dict:
    fit = spec.fit
    error = float(fit.mp_fit_error)
    return {
        "layer": name,
        "kind": "conv" if isinstance(layer, (nn.Conv2d, FactorizedConv2d)) else "linear",
        "shape": [spec.n_out, spec.n_in],
        "sigma2": float(fit.sigma2),
        "lambda_plus": float(fit.lambda_plus),
        "lambda_plus_in_features": spec.lambda_plus_in_features,
        "sv_threshold": spec.threshold,
        "fit_statistic": error,
        "tau": None if tau is None else float(tau),
        "accepted": None if tau is None else bool(fit.accepts(tau)),
        "n_singular": int(spec.s.numel()),
        "n_above_threshold": spec.n_above,
        "n_small": spec.n_small,
    }


def _unfittable_event(name, layer, step, keep_fraction, tau, params_before, exc) -> dict:
    """No MP law can be fitted: treated as a rejected fit (steps 8/17, 22/25), layer unchanged."""
    n_out, n_in = weight_matrix(layer).shape
    rank = getattr(layer, "rank", None)
    return {"layer": name, "step": step,
            "kind": "conv" if isinstance(layer, (nn.Conv2d, FactorizedConv2d)) else "linear",
            "shape": [int(n_out), int(n_in)], "keep_fraction": float(keep_fraction),
            "tau": float(tau), "accepted": False, "fit_statistic": None, "lambda_plus": None,
            "reason": str(exc), "action": "none", "rank_before": rank, "rank_after": rank,
            "n_removed": 0, "params_before": params_before, "params_after": params_before}


def _removal_summary(spec: LayerSpectrum, rank: int) -> dict:
    s = spec.s.cpu().numpy()
    return {
        "rank_after": int(rank),
        "n_removed": int(s.size - rank),
        "kept_sv_min": float(s[rank - 1]) if rank > 0 else None,
        "removed_sv_max": float(s[rank]) if rank < s.size else None,
        "removed_sv_sum_sq": float((s[rank:] ** 2).sum()),
    }


def prune_layer(model: nn.Module, name: str, keep_fraction: float, tau: float,
                alpha: float = 0.1, beta: float = 0.1, allow_dense: bool = True,
                known_rank: int | None = None) -> dict:
    """Algorithm 1 steps 4-18 for one unfactorised layer; returns the event dict.

    ``keep_fraction`` is f(epoch): the portion of small singular values kept. If the MP fit is
    accepted (fit statistic <= tau), W' keeps rank r = n_above + floor(f n_small); the layer is
    split when r (n + m) < n m (step 12), else W is overwritten by W' in place (step 14; skipped
    when ``allow_dense`` is False, as in paper 001 Section 4.4 step 4). ``known_rank``: the layer
    was just recombined from rank-r factors, so its singular values beyond r are exactly 0 (the
    same spectrum that the recombine test of step 22 saw)."""
    layer = _get_layer(model, name)
    if isinstance(layer, FACTORISED_TYPES):
        raise ValueError(f"{name!r} is factorised; Algorithm 1 prunes only split_l = false layers")
    _make_weight_permanent(layer)
    params_before = count_parameters(layer)
    try:
        spec = layer_spectrum(layer, alpha, beta, name, known_rank=known_rank)
    except UnfittableSpectrum as exc:
        return _unfittable_event(name, layer, "prune", keep_fraction, tau, params_before, exc)
    event = _event_base(name, layer, spec, tau)
    event.update(step="prune", keep_fraction=float(keep_fraction), params_before=params_before,
                 rank_before=numerical_rank(spec.s, spec.n_out, spec.n_in, layer.weight.dtype))
    if not event["accepted"]:
        event.update(action="none", rank_after=event["rank_before"], n_removed=0,
                     params_after=params_before)
        return event
    rank = planned_rank(spec, keep_fraction)
    event.update(_removal_summary(spec, rank))
    if split_saves_parameters(spec.n_out, spec.n_in, rank):
        left, right = spec.factors(rank)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
            new = factorise(layer, left, right)
        _replace(model, name, new)
        event.update(action="split", params_after=count_parameters(new))
    elif allow_dense:
        set_dense_weight(layer, spec.truncated(rank))
        event.update(action="dense", params_after=params_before)
    else:
        event.update(action="none", params_after=params_before, rank_after=event["rank_before"],
                     n_removed=0, reason="split would not save parameters")
    return event


def recombine_if_better(model: nn.Module, name: str, keep_fraction: float, tau: float,
                        alpha: float = 0.1, beta: float = 0.1) -> dict:
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
    tau = 0.7 the rule can fire only for 0.3 min(n, m) <= r < n m / (n + m)."""
    layer = _get_layer(model, name)
    if not isinstance(layer, FACTORISED_TYPES):
        raise ValueError(f"{name!r} is not factorised (split_l = false)")
    _make_weight_permanent(layer)
    params_before = count_parameters(layer)
    try:
        spec = layer_spectrum(layer, alpha, beta, name)
    except UnfittableSpectrum as exc:
        return _unfittable_event(name, layer, "recombine", keep_fraction, tau, params_before, exc)
    event = _event_base(name, layer, spec, tau)
    current = layer.rank * (spec.n_out + spec.n_in)
    new_rank = planned_rank(spec, keep_fraction)
    hypothetical = (new_rank * (spec.n_out + spec.n_in)
                    if split_saves_parameters(spec.n_out, spec.n_in, new_rank)
                    else spec.n_out * spec.n_in)
    decreases = hypothetical < current
    event.update(step="recombine", keep_fraction=float(keep_fraction), rank_before=layer.rank,
                 hypothetical_rank=new_rank, hypothetical_weight_params=hypothetical,
                 current_weight_params=current, params_before=params_before)
    if event["accepted"] and decreases:
        new = recombined(layer)
        _replace(model, name, new)
        event.update(action="recombined", params_after=count_parameters(new),
                     rank_after=layer.rank, n_removed=0)
    else:
        event.update(action="none", params_after=params_before, rank_after=layer.rank, n_removed=0)
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
                     layers: Iterable[str] | None = None) -> list[dict]:
    """One pruning round of Algorithm 1: steps 21-27 (recombine) on the split layers, then
    steps 3-19 on the layers with split_l = false (a recombined layer is pruned in the same
    round, as the while loop goes straight from step 27 to step 3 without training).
    ``layers`` restricts the round to those names (default: every Linear/Conv2d)."""
    events = []
    chosen = None if layers is None else set(layers)

    def selected(n):
        return chosen is None or n in chosen

    recombined_rank = {}
    if recombine_first:
        for name in prunable_layers(model):
            layer = model.get_submodule(name)
            if isinstance(layer, FACTORISED_TYPES) and selected(name):
                ev = recombine_if_better(model, name, keep_fraction, _tau_for(layer, tau, tau_conv),
                                         alpha, beta)
                if ev["action"] == "recombined":
                    recombined_rank[name] = layer.rank
                events.append(ev)
    for name in prunable_layers(model):
        layer = model.get_submodule(name)
        if not isinstance(layer, FACTORISED_TYPES) and selected(name):
            events.append(prune_layer(model, name, keep_fraction, _tau_for(layer, tau, tau_conv),
                                      alpha, beta, known_rank=recombined_rank.get(name)))
    return events


def paper001_round(model: nn.Module, remove_fraction: float = 0.45, tau: float = 0.15,
                   alpha: float = 0.1, beta: float = 0.1,
                   layers: Iterable[str] | None = None) -> list[dict]:
    """One cycle of paper 001 Section 4.4: for every weight layer (including factors of earlier
    splits, which is how its Example 4.3 ends with chains such as 784-367-176-89-54-35-3000),
    when the ESD fits MP (Section 4.3, threshold tau) remove ``remove_fraction`` (45%) of the
    small singular values and split, but only if the two new layers have fewer parameters
    (step 4); otherwise leave the layer unchanged."""
    if not 0.0 <= remove_fraction <= 1.0:
        raise ValueError(f"remove_fraction must lie in [0, 1], got {remove_fraction}")
    chosen = None if layers is None else set(layers)
    events = []
    for name in prunable_layers(model, descend_into_factors=True):
        if chosen is not None and name not in chosen:
            continue
        ev = prune_layer(model, name, 1.0 - remove_fraction, tau, alpha, beta, allow_dense=False)
        ev["variant"] = "paper001"
        events.append(ev)
    return events


class MPPruningCallback:
    """Algorithm 1 (or paper 001's variant) as a training-loop callback.

    ``on_epoch_end(model, epoch)`` is called after each epoch with ``epoch`` = number of epochs
    completed so far (1, 2, ...). Every ``every`` epochs (the split frequency l; the first
    round after epoch l, step 1) a round runs with f = schedule(epoch); rounds stop after
    ``max_epoch`` (step 2's "epoch <= 100"). Returns the list of event dicts (empty otherwise).

    When a round splits or recombines a layer the model has new Parameter objects and the
    optimizer must be rebuilt: ``parameters_changed`` is True after such a round (events carry
    action "split"/"recombined"). Dense replacements (step 14) write in place and keep the
    optimizer state valid.
    """

    def __init__(self, every: int = 7, schedule="3.6", tau: float = 0.7, tau_conv: float | None = None,
                 alpha: float = 0.1, beta: float = 0.1, variant: str = "algorithm1",
                 remove_fraction: float = 0.45, max_epoch: int | None = None,
                 layers: Iterable[str] | None = None):
        if every < 1:
            raise ValueError(f"split frequency must be >= 1 epoch, got {every}")
        if variant not in ("algorithm1", "paper001"):
            raise ValueError(f"variant must be 'algorithm1' or 'paper001', got {variant!r}")
        self.every, self.tau, self.tau_conv = every, tau, tau_conv
        self.alpha, self.beta, self.variant = alpha, beta, variant
        self.remove_fraction, self.max_epoch = remove_fraction, max_epoch
        self.schedule: Callable[[float], float] = resolve_schedule(schedule)
        self.layers = None if layers is None else list(layers)
        self.parameters_changed = False
        self.history: list[dict] = []

    def due(self, epoch: int) -> bool:
        return epoch >= self.every and epoch % self.every == 0 and (
            self.max_epoch is None or epoch <= self.max_epoch)

    def on_epoch_end(self, model: nn.Module, epoch: int) -> list[dict]:
        self.parameters_changed = False
        if not self.due(epoch):
            return []
        before = count_parameters(model)
        if self.variant == "algorithm1":
            f = float(self.schedule(epoch))
            events = algorithm1_round(model, f, self.tau, self.tau_conv, self.alpha, self.beta,
                                      recombine_first=epoch > self.every, layers=self.layers)
        else:
            events = paper001_round(model, self.remove_fraction, self.tau, self.alpha, self.beta,
                                    layers=self.layers)
        after = count_parameters(model)
        for ev in events:
            ev["epoch"] = int(epoch)
            ev.setdefault("variant", self.variant)
            ev["model_params_before"], ev["model_params_after"] = before, after
        self.parameters_changed = any(ev["action"] in ("split", "recombined") for ev in events)
        self.history.extend(events)
        return events

    def state_dict(self) -> dict:
        """Decisions depend only on (model, epoch); the event history is the only state."""
        return {"history": list(self.history)}

    def load_state_dict(self, state: dict) -> None:
        self.history = list(state.get("history", []))


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
               alpha: float = 0.1, beta: float = 0.1) -> Algorithm3Result:
    """Algorithm 3 (Appendix D.3): SVD, BEMA lambda_+, optional MP fit test (tau), replace the
    portion ``remove_fraction`` of the singular values below sqrt(lambda_+ N) by 0 (the smallest
    ones; step 6 says "a portion, e.g. 0.1"; Example D.3 / Fig D.5 remove them all, which is the
    default 1.0), and return W' and the factors of step 7. The matrix is ``out x in`` (torch
    orientation); the threshold is orientation free (see module docstring)."""
    if not 0.0 <= remove_fraction <= 1.0:
        raise ValueError(f"remove_fraction must lie in [0, 1], got {remove_fraction}")
    spec = layer_spectrum(matrix, alpha, beta, "algorithm3")
    accepted = None if tau is None else bool(spec.fit.accepts(tau))
    rank = planned_rank(spec, 1.0 - remove_fraction)
    left, right = spec.factors(rank)
    return Algorithm3Result(spec, accepted, rank, spec.truncated(rank), right, left)


def prune_layer_algorithm3(model: nn.Module, name: str, remove_fraction: float = 1.0,
                           tau: float | None = None, alpha: float = 0.1, beta: float = 0.1,
                           split: bool = True) -> dict:
    """Apply Algorithm 3 to one layer of a trained model. If a tau is given and the fit is
    rejected, the layer is left alone. With ``split`` the layer is factorised when that saves
    parameters, otherwise W' is written in place. Returns an event dict."""
    layer = _get_layer(model, name)
    if isinstance(layer, FACTORISED_TYPES):
        raise ValueError(f"{name!r} is already factorised")
    _make_weight_permanent(layer)
    before = count_parameters(layer)
    result = algorithm3(weight_matrix(layer), remove_fraction, tau, alpha, beta)
    event = _event_base(name, layer, result.spectrum, tau)
    event.update(step="algorithm3", params_before=before, **_removal_summary(result.spectrum, result.rank))
    if result.accepted is False:
        event.update(action="none", params_after=before, rank_after=int(result.spectrum.s.numel()),
                     n_removed=0)
        return event
    if split and split_saves_parameters(result.spectrum.n_out, result.spectrum.n_in, result.rank):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
            new = factorise(layer, result.second, result.first)
        _replace(model, name, new)
        event.update(action="split", params_after=count_parameters(new))
    else:
        set_dense_weight(layer, result.truncated)
        event.update(action="dense", params_after=before)
    return event


def paper001_callback(tau: float = 0.15, every: int = 3, remove_fraction: float = 0.45,
                      alpha: float = 0.1, beta: float = 0.1, **kwargs) -> MPPruningCallback:
    """Paper 001 Section 4.4 / Example 4.3 defaults: every 3 epochs remove 45% of the small
    singular values and split when that saves parameters and the MP fit passes (tau 0.15)."""
    return MPPruningCallback(every=every, tau=tau, alpha=alpha, beta=beta, variant="paper001",
                             remove_fraction=remove_fraction, **kwargs)
