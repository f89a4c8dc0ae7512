"""Paper 003's pruning method (Shmalo et al., arXiv:2503.01922): sparsify the singular vectors of the
singular values below the MP edge s+, recompose (or split) the layer, prune weights by magnitude to a
per-layer target scaled by the MP fit, and fine-tune with an L1 (lasso) penalty whose strength falls
with the fit error, over several prune cycles.

    from nets import singular_vector_sparsification as svs
    d = svs.decide(model.fc1)             # inspect: d.singular_values, d.s_plus, d.below, d.left ...
    model.fc1 = svs.apply(model.fc1, d)   # recomposed in place, or the two-factor layer
    svs.prune_smallest([(model.fc1, "weight")], n_zero=500)   # torch.nn.utils.prune masks
    loss = task_loss + svs.l1_penalty([(model.fc1, "weight", d.fit_error)], cycle=1)

Sources. The abstract (``/work/shared/papers/003_*``) names the method only as "based on the
sparsification of weights and singular vectors" and the title adds "a combination of the
Marchenko-Pastur distribution and regularization". Every step below is taken from the authors'
public code, github.com/yspennstate/RMT_pruning_ViT at commit b839c13, cited as ``S:<lines>`` =
src/SplittableLayers.py, ``P:`` = src/pruning.py, ``T:`` = src/training.py, ``R:`` = src/RMT.py,
``D:`` = prune.py (the driver that produced the ViT figure). Read there, re-implemented here on the
package's own pieces: the SVD and BEMA fit of ``nets.spectrum.matrix_spectrum`` (``theory.bema``,
paper 000 Algorithm 2) and its Algorithm 4 fit statistic, the spike inverse map of
``theory.shrinkage.signal_from_outlier``, the split layers of ``nets.layers.two_factor_layer`` and the masks
of ``torch.nn.utils.prune``.

One layer (``decide`` then ``apply``; S:174-284):

1. SVD of the ``out x in`` weight and BEMA fit of its squared singular values (S:190-192, S:83-90,
   R:153-190); s+ = ``sqrt(lambda_+ N)`` (``LayerSpectrum.threshold``). A layer whose fit statistic
   is not below ``fit_cutoff`` is left alone (S:91-92, S:198-199).
2. Optionally (``shift``) the singular values are replaced by their debiased values, the spike
   inverse map (S:48-68, S:201-202).
3. ``inner_dim = max(n_above + int(keep_ratio n_below), min_dim)`` vectors are kept (S:204-208).
4. Of the kept vectors, those whose value lies below s+ are sparsified: entries of U's column i and
   V^T's row i with ``|entry| < vector_threshold (1 - s_i / s+)^decay_power`` become 0 (S:215-233);
   then every kept vector loses its entries below ``vector_threshold / global_divisor`` (S:235-241).
5. When ``(n + m) inner_dim < n m`` the layer becomes the two factors ``sqrt(S) V^T`` (first) and
   ``U sqrt(S)`` (second, with the bias) (S:246, S:261-278); else it is recomposed,
   ``W' = U_sparse S V_sparse^T``, in place (S:246-253). A split layer is not sparsified again
   (S:243-244).

One prune cycle i = 1, 2, ... (``cycle_*`` functions; P:115-192, D:94-162): steps 1-5 on every layer,
with ``vector_threshold = cycle_vector_threshold(...)`` on even cycles and 0 on odd ones (P:147-154);
then per layer ``cycle_magnitude_target`` weights (P:157-163) are zeroed, smallest magnitude first
(``prune_smallest``; P:8-18, P:164-183); then fine-tuning with the pruned weights frozen (P:195-205,
here the masks freeze them) and the penalty of ``l1_penalty`` (T:31-46, P:208-219).

Where the code, the abstract and this module differ (each is a parameter or stated here):

* s+. The code divides the squared singular values by the number of *input* features and multiplies
  lambda_+ back by it (S:83, S:90); BEMA is linear in that scale, so s+ is the same as the package's
  ``sqrt(lambda_+ N)``, N = max(out, in), up to BEMA's own details: the code's Tracy-Widom term is
  ``(1 + sqrt g)**4 / 3`` (R:185, read by precedence as (1 + sqrt g)^4 / 3; paper 000 Algorithm 2 and
  ``theory.bema`` use the exponent 4/3) and pairs the k-th smallest eigenvalue with the quantile at
  level k / p (R:170-172; ``theory.bema`` uses the midpoint (k - 1/2) / p).
* Fit statistic. The code's ``error`` (R:307-337) compares the MP cdf, which it sets to 0 (not 1)
  above the edge for aspect ratio <= 1 (R:278-279), with ``alpha + (1 - 2 alpha) i / n``; here it is
  Algorithm 4's statistic (``BemaFit.mp_fit_error``). The driver's cutoff GoF = 1 (D:45) accepts
  every layer under either statistic; ``fit_cutoff`` defaults to that.
* Shift. The code divides the singular values by sigma^2 (a variance, no sqrt(N)) and omits the 1/2
  of the inverse map (S:61-64); here the map is ``theory.shrinkage.signal_from_outlier`` in the
  noise unit ``sqrt(sigma^2 N)``, and values at or below the bulk edge are multiplied by the map's
  value at the edge, ``c^{1/4} / (1 + sqrt c)`` (the code's continuity factor S:65-67, for the
  corrected map). The driver never shifts (``split(1, thresh)``, P:148-154): default off.
* Rank. The driver calls ``split`` with ratio 1 (P:149, P:153): every singular value is kept, so
  ``(n + m) k >= n m`` and the layer is always recomposed, never split. The "two factors" branch runs
  only with ``keep_ratio < 1``; the default is the driver's 1.
* Threshold scale. ``cycle_vector_threshold`` is ``750 x 1.5e-8 x target x n m`` (P:149): it grows
  with the matrix size while the entries of unit vectors shrink like 1/sqrt(n); at 64 x 64 and
  target 0.06 it is ~0.003 against entries ~0.1 (nothing zeroed), at ViT-B's 768 x 768 ~0.4.
  ``decide`` records how many entries each call zeroed.
* Magnitude step. The code raises an absolute threshold in steps of 2e-5 max(3, 4 c) (P:138-180)
  until the layer's non-zero count fell by the target; here exactly the target count of smallest
  |w| is zeroed (the sweep's result without its last step's overshoot). The code recomposes a dense
  matrix in every cycle, so entries pruned earlier come back as the recomposition's values and are
  pruned again if small; here the masks keep them at 0.
* Fine-tuning. The code's per-cycle loop (T:6-70) has no data term: it minimises group lasso, L1
  and L2 penalties only (lr 5e-8, D:42); data enter in a separate fine-tuning after pruning
  (fine_tune.py, cross-entropy, no L1). The abstract speaks of "regularization". Here a cycle's
  fine-tuning is the task loss plus ``l1_penalty`` (the code's L1 with its per-layer lasso strength
  ``1 / (1 + 10000 err / i)``, P:208-219, which the code applies by scaling the gradients, T:50-57);
  the group-lasso (1e-6) and L2 (2e-7) terms of T:31-46 are left out.
* Counting. The code counts non-zero entries of all parameters (P:21-34, D:157-162). The weights
  here: ``count_nonzero_parameters`` (masked weights as the layer uses them); ``stored_parameters``
  counts what storing the model densely takes after factorisation (zeros included).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from core.validate import InvalidArgument, check_float, check_int
from nets.layers import FACTORIZED_TYPES, two_factor_layer, split_saves_parameters
from nets.prune import is_mp_pruned
from nets.spectrum import UnfittableSpectrum, matrix_spectrum

__all__ = ["SparsificationSettings", "CycleSettings", "SparsificationDecision", "decide", "apply",
           "debiased_singular_values", "cycle_target_reduction", "cycle_vector_threshold",
           "cycle_magnitude_target", "lasso_strength", "l1_penalty", "prune_smallest",
           "effective_weight", "refresh_masked", "count_nonzero_parameters", "stored_parameters",
           "is_torch_pruned"]


# --------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SparsificationSettings:
    """One layer's rule (module docstring steps 1-5); defaults are the authors' driver's.

    ``alpha``, ``tw_level``: BEMA's trimming and Tracy-Widom level (the package's name for the
    authors' ``beta``; D:38-39: 0.25, 0.8; 0.8 puts s+ slightly *inside* the bulk, TW quantile at 0.2). ``fit_cutoff``: a layer is changed only when
    its fit statistic is below it (S:92; D:45 uses 1, i.e. every fitted layer). ``keep_ratio``:
    share of the below-s+ vectors kept (S:204-208; driver 1). ``min_dim``: least inner dimension
    (S:301-326, 10). ``decay_power``: exponent of ``(1 - s_i / s+)`` in a vector's threshold
    (S:220, 30). ``global_divisor``: the threshold on every kept vector is
    ``vector_threshold / global_divisor`` (S:237-240, 750; ``math.inf`` turns it off). ``shift``:
    replace the singular values by their debiased values (S:201-202; driver: off)."""

    alpha: float = 0.25
    tw_level: float = 0.8
    fit_cutoff: float = 1.0
    keep_ratio: float = 1.0
    min_dim: int = 10
    decay_power: float = 30.0
    global_divisor: float = 750.0
    shift: bool = False

    def __post_init__(self):
        check_float("alpha", self.alpha, 0.0, 0.5, lo_open=True, hi_open=True)
        check_float("tw_level", self.tw_level, 0.0, 1.0, lo_open=True, hi_open=True)
        check_float("fit_cutoff", self.fit_cutoff, 0.0, None, lo_open=True)
        check_float("keep_ratio", self.keep_ratio, 0.0, 1.0)
        check_int("min_dim", self.min_dim, 0)
        check_float("decay_power", self.decay_power, 0.0, None, lo_open=True)
        if not (self.global_divisor > 0):
            raise InvalidArgument(f"global_divisor must be > 0 (math.inf: off), got {self.global_divisor!r}")


@dataclass(frozen=True)
class CycleSettings:
    """The prune cycles (D:37-45, D:94-107, P:115-192, P:208-219, T:6-70); defaults the driver's.

    ``n_cycles``: cycles 1..n (the driver runs 1..34, D:40/D:94). ``target_base``,
    ``target_growth``: the cycle's target reduction ``target_base target_growth^i`` (D:106: 0.06,
    1.02). ``threshold_coefficient``: ``vector_threshold = coefficient target n m`` (P:149:
    750 x 1.5e-8). ``sparsify_every``: the vectors are sparsified on cycles divisible by it, the
    other cycles only recompose (P:147-154: 2). ``fit_exponent``: the per-layer target is
    ``((1 - err) share_below)^(fit_exponent / i) target nnz`` (P:157-163: 1.5). ``lasso_error_weight``:
    lasso strength ``1 / (1 + weight err / i)`` (P:219: 10000). ``l1_lambda``: the L1 coefficient
    (D:43: 5e-7)."""

    n_cycles: int = 34
    target_base: float = 0.06
    target_growth: float = 1.02
    threshold_coefficient: float = 750 * 1.5e-8
    sparsify_every: int = 2
    fit_exponent: float = 1.5
    lasso_error_weight: float = 10000.0
    l1_lambda: float = 5e-7

    def __post_init__(self):
        check_int("n_cycles", self.n_cycles, 1)
        check_float("target_base", self.target_base, 0.0, 1.0, lo_open=True)
        check_float("target_growth", self.target_growth, 0.0, None, lo_open=True)
        check_float("threshold_coefficient", self.threshold_coefficient, 0.0, None)
        check_int("sparsify_every", self.sparsify_every, 1)
        check_float("fit_exponent", self.fit_exponent, 0.0, None)
        check_float("lasso_error_weight", self.lasso_error_weight, 0.0, None)
        check_float("l1_lambda", self.l1_lambda, 0.0, None)


# --------------------------------------------------------------------------------------------
# the decision
# --------------------------------------------------------------------------------------------
@dataclass
class SparsificationDecision:
    """What ``decide`` found for one weight matrix, before anything changes.

    ``singular_values``: W's, descending; ``values``: those the layer keeps (debiased with
    ``shift``); ``below``: for each kept vector, whether its value lies below s+ (the sparsified
    ones, step 4); ``vector_thresholds``: each kept vector's threshold (0 above s+) before the global
    one; ``left`` (out x r, U with zeros) and ``right`` (r x in, V^T with zeros): the sparsified
    vectors; ``zeroed_entries``: entries of ``left`` and ``right`` set to 0 by steps 4 (per vector:
    ``zeroed_per_vector``) and the global threshold. ``action``: "split" | "recomposed" | "none"
    (fit rejected, unfittable, already split: ``reason``). ``params_before``: n m;
    ``stored_after``: (n + m) r when split, n m otherwise; ``nonzero_after``: non-zero entries of
    the factors (split) or of W' (recomposed)."""

    layer: str
    tensor: str
    shape: tuple[int, int]
    action: str
    reason: str = ""
    singular_values: np.ndarray | None = field(default=None, repr=False)
    values: np.ndarray | None = field(default=None, repr=False)
    s_plus: float | None = None
    sigma2: float | None = None
    fit_error: float | None = None
    accepted: bool | None = None
    share_below: float | None = None
    n_below: int | None = None
    inner_dim: int | None = None
    vector_threshold: float = 0.0
    vector_thresholds: np.ndarray | None = field(default=None, repr=False)
    below: np.ndarray | None = field(default=None, repr=False)
    left: torch.Tensor | None = field(default=None, repr=False)
    right: torch.Tensor | None = field(default=None, repr=False)
    zeroed_per_vector: np.ndarray | None = field(default=None, repr=False)
    zeroed_entries: int = 0
    params_before: int = 0
    stored_after: int = 0
    nonzero_after: int = 0

    def matrix(self) -> torch.Tensor:
        """W' = left diag(values) right (float64), what the layer computes after ``apply``."""
        if self.left is None:
            raise InvalidArgument(f"{self.layer}.{self.tensor}: action {self.action!r} changes nothing")
        v = torch.as_tensor(self.values[: self.inner_dim], dtype=torch.float64)
        return (self.left * v) @ self.right

    def summary(self) -> dict:
        """Plain data (no arrays) for records."""
        return dict(layer=self.layer, tensor=self.tensor, shape=list(self.shape), action=self.action,
                    reason=self.reason, s_plus=self.s_plus, sigma2=self.sigma2, fit_error=self.fit_error,
                    accepted=self.accepted, share_below=self.share_below, n_below=self.n_below,
                    inner_dim=self.inner_dim, vector_threshold=self.vector_threshold,
                    zeroed_entries=self.zeroed_entries, params_before=self.params_before,
                    stored_after=self.stored_after, nonzero_after=self.nonzero_after)


def is_torch_pruned(module: nn.Module, name: str = "weight") -> bool:
    """``module.<name>`` carries a ``torch.nn.utils.prune`` mask."""
    return any(isinstance(h, torch_prune.BasePruningMethod) and h._tensor_name == name
               for h in module._forward_pre_hooks.values())


def effective_weight(module: nn.Module, name: str = "weight") -> torch.Tensor:
    """The tensor the layer computes with (masked when torch-pruned), detached."""
    if is_torch_pruned(module, name):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, torch_prune.BasePruningMethod) and hook._tensor_name == name:
                return hook.apply_mask(module).detach()
    return getattr(module, name).detach()


def refresh_masked(model: nn.Module) -> nn.Module:
    """Recompute every torch-pruned tensor as ``orig * mask`` now. torch does it only in a module's
    forward pre-hook, so code that reads the attribute without calling the module sees the value of
    the last forward, before the last optimizer step: the fast path of ``nn.TransformerEncoderLayer``
    in eval mode reads ``self_attn.in_proj_weight`` and the MLP weights directly, and
    ``nn.MultiheadAttention`` always reads ``out_proj.weight`` without calling ``out_proj`` (in
    training, call this before every forward, or backward meets a freed graph)."""
    for module in model.modules():
        for hook in list(module._forward_pre_hooks.values()):
            if isinstance(hook, torch_prune.BasePruningMethod):
                setattr(module, hook._tensor_name, hook.apply_mask(module))
    return model


def debiased_singular_values(s: np.ndarray, sigma2: float, n_rows: int, n_cols: int) -> np.ndarray:
    """Step 2 (S:48-68, corrected as the module docstring says): the spike inverse map
    ``theory.shrinkage.signal_from_outlier`` of each value above the bulk edge, in the noise unit
    ``sqrt(sigma^2 N)`` (N = max(n_rows, n_cols), c = min/max); values at or below the edge times
    ``c^{1/4} / (1 + sqrt c)``, the map's value at the edge over the edge."""
    from theory.shrinkage import signal_from_outlier
    N, M = max(n_rows, n_cols), min(n_rows, n_cols)
    c = M / N
    unit = math.sqrt(sigma2 * N)
    y = np.asarray(s, dtype=np.float64) / unit
    edge = 1 + math.sqrt(c)
    mapped = np.asarray(signal_from_outlier(np.where(y > edge, y, 0.0), c), dtype=np.float64)
    return unit * np.where(y > edge, mapped, y * c ** 0.25 / edge)


def _matrix_view(module: nn.Module, name: str) -> torch.Tensor:
    if isinstance(module, nn.modules.conv._ConvNd) and (module.groups != 1 or module.padding_mode != "zeros"):
        raise InvalidArgument(f"{type(module).__name__} with groups={module.groups}, padding_mode="
                              f"{module.padding_mode!r} has no single m x (n p q) matrix: groups must be 1")
    try:
        w = effective_weight(module, name)
    except AttributeError:
        raise InvalidArgument(f"{type(module).__name__} has no tensor {name!r}") from None
    if not isinstance(w, torch.Tensor) or w.ndim < 2:
        raise InvalidArgument(f"{name!r} of {type(module).__name__} must be a weight matrix (>= 2 dims)")
    return w.reshape(w.shape[0], -1)


def decide(module: nn.Module, name: str = "weight", *, settings: SparsificationSettings = SparsificationSettings(),
           vector_threshold: float = 0.0, layer_name: str = "") -> SparsificationDecision:
    """Steps 1-5 of the module docstring for ``module.<name>`` (Linear, Conv2d as its m x (n p q)
    reshape, or any >= 2-dim weight such as ``nn.MultiheadAttention.in_proj_weight``, taken as one
    matrix as timm's ``qkv`` Linear is in the authors' ViT). Changes nothing. ``vector_threshold``:
    the threshold of step 4 (a cycle's ``cycle_vector_threshold``; 0: no entry is zeroed)."""
    if not isinstance(module, nn.Module):
        raise InvalidArgument(f"module must be an nn.Module, got {type(module).__name__}")
    if not isinstance(settings, SparsificationSettings):
        raise InvalidArgument(f"settings must be a SparsificationSettings, got {type(settings).__name__}")
    vector_threshold = check_float("vector_threshold", vector_threshold, 0.0, None)
    label = layer_name or type(module).__name__
    if isinstance(module, FACTORIZED_TYPES):
        shape = (module.second.weight.shape[0], module.first.weight[0].numel())
        stored = sum(p.numel() for p in (module.first.weight, module.second.weight))
        return SparsificationDecision(label, name, shape, "none", reason="already split (S:243-244)",
                                      params_before=shape[0] * shape[1], stored_after=stored,
                                      nonzero_after=sum(int(torch.count_nonzero(effective_weight(m)))
                                                        for m in (module.first, module.second)))
    if is_mp_pruned(module, name):
        raise InvalidArgument(f"{label}.{name} is MP-parametrized (nets.mp_prune); call nets.remove() first")
    matrix = _matrix_view(module, name)
    n_out, n_in = (int(d) for d in matrix.shape)
    dense = n_out * n_in
    base = dict(layer=label, tensor=name, shape=(n_out, n_in), params_before=dense, stored_after=dense,
                nonzero_after=int(torch.count_nonzero(matrix)), vector_threshold=vector_threshold)
    try:
        spec = matrix_spectrum(matrix, settings.alpha, settings.tw_level, f"{label}.{name}")
    except UnfittableSpectrum as exc:
        return SparsificationDecision(**base, action="none", reason=f"no MP fit: {exc}")
    s = spec.s.cpu().numpy()
    s_plus = float(spec.threshold)
    fit_error = float(spec.fit.mp_fit_error)
    accepted = fit_error < settings.fit_cutoff
    values = (debiased_singular_values(s, float(spec.fit.sigma2), n_out, n_in) if settings.shift else s.copy())
    below_all = values < s_plus                                    # S:215 (after the shift, S:201-216)
    n_below = int(below_all.sum())
    k = s.size
    common = dict(singular_values=s, values=values, s_plus=s_plus, sigma2=float(spec.fit.sigma2),
                  fit_error=fit_error, accepted=accepted, share_below=n_below / k, n_below=n_below)
    if not accepted:
        return SparsificationDecision(**base, **common, action="none",
                                      reason=f"no good fit: statistic {fit_error:.4g} >= fit_cutoff "
                                             f"{settings.fit_cutoff} (S:198-199)")
    n_above = k - n_below                                          # S:204 (values are descending)
    inner = min(k, max(int(n_below * settings.keep_ratio) + n_above, settings.min_dim))   # S:205-208
    left = spec.U[:, :inner].clone()
    right = spec.Vh[:inner].clone()
    below = below_all[:inner]
    ratio = np.clip(1.0 - values[:inner] / s_plus, 0.0, None)
    thresholds = np.where(below, vector_threshold * ratio ** settings.decay_power, 0.0)   # S:220
    zeroed = np.zeros(inner, dtype=np.int64)
    for i in np.flatnonzero(below & (thresholds > 0)):                                     # S:222-233
        t = float(thresholds[i])
        lo_u, lo_v = left[:, i].abs() < t, right[i].abs() < t
        zeroed[i] += int(lo_u.sum() + lo_v.sum())
        left[lo_u, i] = 0.0
        right[i, lo_v] = 0.0
    global_t = vector_threshold / settings.global_divisor                                  # S:235-241
    if global_t > 0:
        lo_u, lo_v = (left.abs() < global_t) & (left != 0), (right.abs() < global_t) & (right != 0)
        zeroed += lo_u.sum(0).cpu().numpy() + lo_v.sum(1).cpu().numpy()
        left[lo_u] = 0.0
        right[lo_v] = 0.0
    split = split_saves_parameters(n_out, n_in, inner)                                    # S:246
    d = SparsificationDecision(**{**base, **common}, action="split" if split else "recomposed",
                               inner_dim=inner, vector_thresholds=thresholds, below=below, left=left,
                               right=right, zeroed_per_vector=zeroed, zeroed_entries=int(zeroed.sum()))
    if split:
        root = torch.as_tensor(values[:inner], dtype=torch.float64).sqrt()
        d.stored_after = inner * (n_out + n_in)
        d.nonzero_after = int(torch.count_nonzero(left * root) + torch.count_nonzero(root[:, None] * right))
    else:
        d.nonzero_after = int(torch.count_nonzero(d.matrix().to(matrix.dtype)))
    return d


def apply(module: nn.Module, decision: SparsificationDecision, name: str = "weight") -> nn.Module:
    """Carry out ``decision`` on ``module``: "recomposed" writes W' into the weight in place (the
    same Parameter, so an optimizer keeps it; under a torch.nn.utils.prune mask W' goes to
    ``<name>_orig`` and the mask stays); "split" returns the two-factor layer
    (``nets.layers.two_factor_layer``; the caller puts it in place, ``model.fc = apply(model.fc, d)``);
    "none" returns the module unchanged. The decision must be fresh (same shape, same tensor)."""
    if decision.action == "none":
        return module
    if decision.tensor != name:
        raise InvalidArgument(f"decision is for tensor {decision.tensor!r}, not {name!r}")
    matrix = _matrix_view(module, name)
    if tuple(matrix.shape) != tuple(decision.shape):
        raise InvalidArgument(f"decision is for a {decision.shape} matrix, the layer's is {tuple(matrix.shape)}")
    if decision.action == "split":
        if is_torch_pruned(module, name):
            raise InvalidArgument("the weight carries a torch.nn.utils.prune mask: a masked matrix has no "
                                  "two-factor form; torch.nn.utils.prune.remove it first")
        if not isinstance(module, (nn.Linear, nn.Conv2d)) or name != "weight":
            raise InvalidArgument(f"a split needs a Linear or Conv2d weight, got {type(module).__name__}.{name}")
        root = torch.as_tensor(decision.values[: decision.inner_dim], dtype=torch.float64).sqrt()
        return two_factor_layer(module, decision.left * root, root[:, None] * decision.right)   # S:261-278
    target = name + "_orig" if is_torch_pruned(module, name) else name
    param = getattr(module, target)
    with torch.no_grad():
        param.copy_(decision.matrix().reshape(param.shape).to(param.dtype))               # S:247-253
    if target != name:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, torch_prune.BasePruningMethod) and hook._tensor_name == name:
                setattr(module, name, hook.apply_mask(module))
    return module


# --------------------------------------------------------------------------------------------
# the cycles
# --------------------------------------------------------------------------------------------
def cycle_target_reduction(cycle: int, settings: CycleSettings = CycleSettings()) -> float:
    """``target_base target_growth^i`` (D:106)."""
    check_int("cycle", cycle, 1)
    return settings.target_base * settings.target_growth ** cycle


def cycle_vector_threshold(cycle: int, n_out: int, n_in: int, settings: CycleSettings = CycleSettings()) -> float:
    """Step 4's threshold in cycle i: ``coefficient target(i) n m`` on cycles divisible by
    ``sparsify_every``, else 0 (P:147-154; the code's ``scale`` is 1, P:144-145)."""
    if cycle % settings.sparsify_every:
        return 0.0
    return settings.threshold_coefficient * cycle_target_reduction(cycle, settings) * n_out * n_in


def cycle_magnitude_target(nonzero: int, fit_error: float, share_below: float, cycle: int,
                           settings: CycleSettings = CycleSettings()) -> int:
    """Weights the layer loses in cycle i: ``ceil(((1 - err) share_below)^(1.5 / i) target(i) nnz)``
    (P:157-163; the code's loop stops at the first count at or above this, hence the ceiling)."""
    check_int("nonzero", nonzero, 0)
    check_float("fit_error", fit_error, 0.0, 1.0)
    check_float("share_below", share_below, 0.0, 1.0)
    scale = ((1.0 - fit_error) * share_below) ** (settings.fit_exponent / cycle)
    return min(nonzero, math.ceil(scale * cycle_target_reduction(cycle, settings) * nonzero - 1e-9))


def lasso_strength(fit_error: float, cycle: int, settings: CycleSettings = CycleSettings()) -> float:
    """``1 / (1 + 10000 err / i)`` (P:208-219): a well-fitted layer (small err) gets a strong
    penalty, and the penalty grows with the cycle."""
    check_int("cycle", cycle, 1)
    return 1.0 / (1.0 + settings.lasso_error_weight * fit_error / cycle)


def l1_penalty(layers, cycle: int, settings: CycleSettings = CycleSettings()) -> torch.Tensor:
    """``l1_lambda sum_l strength_l ||W_l||_1`` over ``layers`` = [(module, tensor name, fit error)]
    (T:41-42 with T:50-57's per-layer scaling by the lasso strength): the penalty a cycle's
    fine-tuning adds to the task loss. A factorised module contributes both factors."""
    total = None
    for module, name, err in layers:
        strength = lasso_strength(0.0 if err is None else float(err), cycle, settings)
        tensors = ([module.first.weight, module.second.weight] if isinstance(module, FACTORIZED_TYPES)
                   else [getattr(module, name)])
        for t in tensors:
            term = settings.l1_lambda * strength * t.abs().sum()
            total = term if total is None else total + term
    return total if total is not None else torch.zeros(())


def _tensors(module: nn.Module, name: str) -> list[tuple[nn.Module, str]]:
    if isinstance(module, FACTORIZED_TYPES):
        return [(module.first, "weight"), (module.second, "weight")]
    return [(module, name)]


def prune_smallest(targets, n_zero: int, *, scores=None) -> int:
    """Zero ``n_zero`` more entries over ``targets`` = [(module, tensor name)] (factorised modules:
    both factors), those with the smallest score among the entries still non-zero, with
    ``torch.nn.utils.prune.custom_from_mask`` (masks combine with earlier ones, so pruned weights stay
    0 and get no gradient: P:195-205's freezing). ``scores``: None = |w| (magnitude; P:8-18), or a
    callable ``tensor -> scores`` (e.g. random). Returns the number zeroed (<= n_zero)."""
    check_int("n_zero", n_zero, 0)
    pairs = [p for module, name in targets for p in _tensors(module, name)]
    weights = [effective_weight(m, t) for m, t in pairs]
    flat = []
    for w in weights:
        sc = w.abs() if scores is None else scores(w)
        flat.append(torch.where(w != 0, sc.to(torch.float64), torch.full_like(sc, math.inf, dtype=torch.float64)).flatten())
    allv = torch.cat(flat)
    available = int(torch.isfinite(allv).sum())
    n = min(n_zero, available)
    if n == 0:
        return 0
    order = torch.argsort(allv, stable=True)[:n]
    drop = torch.zeros(allv.numel(), dtype=torch.bool)
    drop[order] = True
    start = 0
    for (m, t), w in zip(pairs, weights):
        part = drop[start:start + w.numel()].reshape(w.shape)
        start += w.numel()
        if part.any():
            torch_prune.custom_from_mask(m, t, (~part).to(w.dtype))
    return n


def count_nonzero_parameters(model: nn.Module) -> int:
    """Non-zero entries of every parameter as the model uses it (P:21-34's count; a torch-pruned
    tensor counted through its mask)."""
    total = 0
    for module in model.modules():
        for pname, p in module.named_parameters(recurse=False):
            if pname.endswith("_orig") and is_torch_pruned(module, pname[:-5]):
                p = effective_weight(module, pname[:-5])
            total += int(torch.count_nonzero(p))
    return total


def stored_parameters(model: nn.Module) -> int:
    """Entries stored when every tensor is kept dense (zeros included) after factorisation: the
    model's parameter count (masks are not parameters)."""
    return sum(p.numel() for p in model.parameters())
