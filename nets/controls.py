"""Mechanism controls for paper 000's Example 3.2a (issue 23 item 3): which part of Algorithm 1
explains the accuracy gain over the unpruned net, and is it the revival of dead output units?

Section 3.2's nets apply a ReLU after the output layer, so an output unit whose pre-activation is
<= 0 on every input is dead: its class is never predicted (``nets.mechanism``). Algorithm 1's first
round cuts the 10 x 500 output layer to rank 8 and changes every output row. Three controls, each a
round function run by ``nets.algorithms.MPPruningCallback`` at Algorithm 1's own epochs (every l
epochs, step 1) as a ``variant`` (configs ``ex3.2a-hidden-only``, ``ex3.2a-random-output-projection``
(space "input"), ``ex3.2a-random-output-projection-rowspace`` (space "row") and
``ex3.2a-revive-dead-outputs`` in ``nets.configs``):

* ``hidden_only_round`` (variant "hidden_only"): Algorithm 1 (steps 3-27, ``algorithm1_round``) on
  every weight layer except the output layer, which is never touched. Each layer's decision reads
  only that layer's weights, so the hidden layers' events equal Algorithm 1's on the same state.
* ``random_output_projection_round`` (variant "random_output_projection"): the hidden layers by
  Algorithm 1 as usual; the output layer goes through Algorithm 1 too (recombine test of steps
  21-27, then steps 4-18: BEMA fit, tau, rank r = n_above + floor(f n_small), split or dense), but
  where Algorithm 1 writes the SVD truncation W' = U_r S_r V_r^T the control writes a random rank-r
  projection of the same matrix W (out x in):

      W  <-  (W Q) Q^T,

  Q an in x r matrix with orthonormal columns. ``space="input"`` (default): Q uniform (Haar) on the
  Stiefel manifold of R^in, Q = G R^-1 sign(diag R) from the QR factorisation G = QR of an in x r
  standard Gaussian G; E||row_j (W Q Q^T)||^2 = (r / in) ||row_j W||^2. ``space="row"``: Q = V_k O with
  V_k the k = rank(W) leading right singular vectors of W and O a Haar k x r matrix (a uniformly random
  r-dimensional subspace of W's own row space, the subspace MP chooses its top-r from; it removes on
  average the fraction (k - r) / k of each row's squared norm instead of (in - r) / in). Either way
  the new matrix has rank r and a row space that is not the top-r right singular subspace of W
  (except with probability 0). Where Algorithm 1 splits (step 12, r (n + m) < n m) the layer
  becomes the two factors ``second.weight = W Q`` (out x r, with the bias) and ``first.weight =
  Q^T`` (r x in), so the parameter count equals MP's; where it writes a dense W' (step 14) the control
  writes W Q Q^T in place; where Algorithm 1 removes nothing (fit rejected, r = rank W) the layer is
  Algorithm 1's. Q is drawn from a generator seeded by (run seed, epoch of the round, space), so a
  run is reproducible and its rounds use independent draws. The event is Algorithm 1's (its MP
  numbers: rank, kept and removed singular values) with ``variant`` and ``reason`` saying what was
  written instead.
* ``revive_dead_outputs_round`` (variant "revive_dead_outputs"): no MP pruning at all. At each
  round, the output units that are dead on the *training* set (output exactly 0 on every training
  sample, ``nets.mechanism.evaluate_with_units``' definition) get their incoming row re-drawn as
  the paper's initialisation draws it (Section 3.2: weights iid N(0, 1/N), N = the layer's fan-in,
  ``nets.models.init_std("normal", ...)``) and their bias set to 0; live rows, the other layers and
  the optimizer's momentum buffers are left as they are (a dead row receives no loss gradient, so
  its buffer holds only the L2 term of (E.7), which is kept as Algorithm 1's dense step 14 keeps it).
  Rows are drawn from a generator seeded by (run seed, epoch). One ``ReviveEvent`` per round says
  how many rows were revived (0 included). ``criterion="never_predicted"`` (config
  ``ex3.2a-revive-never-predicted``) re-draws instead the rows of the classes the argmax never
  returns on the training set, dead or not: a never-predicted class can have a live but nearly
  dead output (positive on a few samples by a small margin), which the strict criterion leaves alone.

The rounds of (a) and (b) are Algorithm 1 variants and live beside it in ``nets.algorithms``
(``hidden_only_round``, ``random_output_projection_round``); this module holds what they add
(``hidden_layer_names``, ``write_random_projection``) and the round of (c). The functions that need
the run's seed or training data take them as arguments; the callback gets them from
``nets.train.Run`` through ``MPPruningCallback.bind_run``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from nets.layers import FACTORIZED_TYPES, count_parameters, set_dense_weight, weight_layers, weight_matrix

PROJECTION_SPACES = ("input", "row")
REVIVE_CRITERIA = ("dead", "never_predicted")


def output_layer_name(model: nn.Module) -> str:
    """The output layer: the last weight layer in registration order, a factorised layer counting as
    one (the layers Algorithm 1 visits, ``nets.layers.weight_layers``); ``layers.fc<L>`` for a
    ``FullyConnectedNet``."""
    names = [n for n, _ in weight_layers(model, factorized_as_unit=True)]
    if not names:
        raise ValueError("model has no Linear/Conv2d layer, hence no output layer")
    return names[-1]


def control_generator(seed: int, epoch: int, purpose: str) -> torch.Generator:
    """A CPU generator for one control draw, seeded from (run seed, epoch of the round, purpose)."""
    words = [int(seed) % 2 ** 32, int(epoch) % 2 ** 32, *purpose.encode()]
    state = np.random.SeedSequence(words).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 31 ^ int(state[1]))


def haar_orthonormal(n: int, r: int, generator: torch.Generator) -> torch.Tensor:
    """An n x r float64 matrix with orthonormal columns, uniform (Haar) on the Stiefel manifold:
    Q of the QR factorisation of an n x r standard Gaussian, columns multiplied by sign(diag R)
    (Mezzadri 2007) so the law does not depend on LAPACK's sign convention."""
    if not (0 <= r <= n):
        raise ValueError(f"rank r must lie in [0, n = {n}], got {r}")
    gauss = torch.randn(n, r, generator=generator, dtype=torch.float64)
    q, upper = torch.linalg.qr(gauss)
    signs = torch.sign(torch.diagonal(upper))
    signs[signs == 0] = 1.0
    return q * signs


def random_projection_basis(matrix: torch.Tensor, rank: int, generator: torch.Generator,
                            space: str = "input", matrix_rank: int | None = None) -> torch.Tensor:
    """The in x r orthonormal Q of ``random_output_projection_round`` (module docstring) for an
    ``out x in`` ``matrix``: Haar on R^in (``space="input"``) or a Haar r-subspace of the span of the
    ``matrix_rank`` leading right singular vectors (``space="row"``)."""
    if space not in PROJECTION_SPACES:
        raise ValueError(f"space must be one of {PROJECTION_SPACES}, got {space!r}")
    n_in = int(matrix.shape[1])
    if space == "input":
        return haar_orthonormal(n_in, rank, generator)
    k = int(min(matrix.shape) if matrix_rank is None else matrix_rank)
    if not rank <= k <= min(matrix.shape):
        raise ValueError(f"matrix_rank must lie in [rank = {rank}, {min(matrix.shape)}], got {k}")
    _, _, vh = torch.linalg.svd(matrix.to(torch.float64), full_matrices=False)
    return vh[:k].T @ haar_orthonormal(k, rank, generator)


def hidden_layer_names(model: nn.Module, layers: Iterable[str] | None = None) -> list[str]:
    """The weight layers Algorithm 1 visits (``weight_layers``, factorised as a unit) except the output
    layer, restricted to ``layers`` when given."""
    out = output_layer_name(model)
    chosen = None if layers is None else set(layers)
    return [n for n, _ in weight_layers(model, factorized_as_unit=True)
            if n != out and (chosen is None or n in chosen)]


def write_random_projection(model: nn.Module, name: str, matrix: torch.Tensor, event, *, seed: int, epoch: int,
                            space: str = "input"):
    """Overwrite layer ``name``, just pruned by Algorithm 1 steps 4-18 from ``matrix`` (its W before
    the step) with the decision ``event``, by the random rank-r projection W Q Q^T of the module
    docstring, in Algorithm 1's own form: the factors ``second = W Q``, ``first = Q^T`` of a split
    (step 12), or W Q Q^T in place of a dense W' (step 14). Returns the event with a ``reason``
    saying so. An event that removed nothing (r = rank W) or was not a split/dense step is returned
    unchanged, the layer left as Algorithm 1 made it."""
    if not (event.step == "prune" and event.action in ("split", "dense") and event.rank_after < event.rank_before):
        return event
    matrix = matrix.to(torch.float64)
    q = random_projection_basis(matrix, event.rank_after, control_generator(seed, epoch, f"projection-{space}"),
                                space, matrix_rank=event.rank_before)
    layer = model.get_submodule(name)
    left = matrix @ q
    with torch.no_grad():
        if event.action == "split":
            if not isinstance(layer, FACTORIZED_TYPES) or layer.rank != event.rank_after:
                raise RuntimeError(f"{name}: Algorithm 1 reported a rank-{event.rank_after} split but the "
                                   f"layer is {type(layer).__name__}")
            layer.second.weight.copy_(left.reshape(layer.second.weight.shape).to(layer.second.weight.dtype))
            layer.first.weight.copy_(q.T.reshape(layer.first.weight.shape).to(layer.first.weight.dtype))
        else:
            set_dense_weight(layer, left @ q.T)
    return event.replace(reason=f"random rank-{event.rank_after} projection W Q Q^T (Q Haar, space {space!r}, "
                                f"seed ({seed}, {epoch})) written instead of MP's truncation")


# --------------------------------------------------------------------------------------------
# (c) no pruning; dead output rows re-initialised
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviveEvent:
    """One round of ``revive_dead_outputs_round``: the output layer's dead units (on the training
    set) and how many of their rows were re-initialised. Plain data via ``to_dict``; it has no
    ``tensor``/``rule`` keys, so a checkpoint's history keeps it as a plain dict."""

    layer: str
    kind: str
    shape: tuple[int, int]
    action: str                          # "revived" (some row re-drawn) or "none"
    rows_revived: int
    revived_units: tuple[int, ...]
    params_before: int
    params_after: int
    dead_on: str = "train"
    criterion: str = "dead"              # REVIVE_CRITERIA
    step: str = "revive"
    init: str = "normal: N(0, 1/fan_in) weights, zero bias"
    accepted: bool | None = None
    rank_before: int | None = None
    rank_after: int | None = None
    reason: str = ""
    variant: str | None = "revive_dead_outputs"
    epoch: int | None = None
    model_params_before: int | None = None
    model_params_after: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in dataclasses.fields(self)}

    def replace(self, **changes) -> "ReviveEvent":
        return dataclasses.replace(self, **changes)


def dead_output_units(model: nn.Module, dataset, loss: str = "cross_entropy", device="cpu") -> list[int]:
    """Output units that are exactly 0 on every sample of ``dataset`` (``nets.mechanism``'s dead
    outputs, measured with ``evaluate_with_units``)."""
    from nets.mechanism import evaluate_with_units
    row = evaluate_with_units(model, dataset, loss, device)
    if "dead_output_classes" not in row:
        raise ValueError(f"dead output units are defined for classifiers (loss 'cross_entropy'), got {loss!r}")
    return list(row["dead_output_classes"])


def never_predicted_units(model: nn.Module, dataset, device="cpu", batch_size: int = 1000) -> list[int]:
    """Output units (classes) the argmax of ``model`` never returns on ``dataset`` (eval mode): the
    dead outputs and the live ones that never win (``nets.mechanism``'s classes_never_predicted, as
    a list)."""
    from nets.data import make_loader
    was_training = model.training
    model.eval()
    seen, n_out = set(), None
    try:
        with torch.no_grad():
            for x, _ in make_loader(dataset, batch_size, shuffle=False):
                out = model(x.to(device))
                n_out = out.shape[1]
                seen.update(int(c) for c in out.argmax(1).unique())
    finally:
        model.train(was_training)
    return [j for j in range(n_out or 0) if j not in seen]


def revive_rows(layer: nn.Module, rows: list[int], generator: torch.Generator) -> None:
    """Re-draw the incoming weights of output units ``rows`` iid N(0, 1/fan_in) (the paper's
    initialisation, ``nets.models.init_std("normal", ...)``) and set their bias to 0, in place."""
    from nets.models import init_std
    if isinstance(layer, FACTORIZED_TYPES) or not isinstance(layer, (nn.Linear, nn.Conv2d)):
        raise ValueError(f"revive_rows needs an unfactorised Linear/Conv2d, got {type(layer).__name__}")
    if not rows:
        return
    weight = layer.weight
    fan_out, fan_in = weight.shape[0], weight[0].numel()
    draw = torch.randn((len(rows), *weight.shape[1:]), generator=generator, dtype=torch.float32)
    draw *= init_std("normal", fan_in, fan_out)
    index = torch.tensor(rows, dtype=torch.long, device=weight.device)
    with torch.no_grad():
        weight.index_copy_(0, index, draw.to(device=weight.device, dtype=weight.dtype))
        if layer.bias is not None:
            layer.bias.index_fill_(0, index, 0.0)


def revive_dead_outputs_round(model: nn.Module, train_dataset, *, seed: int, epoch: int,
                              loss: str = "cross_entropy", device="cpu", criterion: str = "dead") -> list[ReviveEvent]:
    """One round of the dead-output control (module docstring): measure the output units dead on
    ``train_dataset`` (``criterion="dead"``, ``dead_output_units``; or ``"never_predicted"``: the
    classes the argmax never returns there, ``never_predicted_units``, dead or nearly dead),
    re-initialise their rows (``revive_rows``, generator seeded by (``seed``, ``epoch``)), return one
    ``ReviveEvent``."""
    if criterion not in REVIVE_CRITERIA:
        raise ValueError(f"criterion must be one of {REVIVE_CRITERIA}, got {criterion!r}")
    name = output_layer_name(model)
    layer = model.get_submodule(name)
    dead = (dead_output_units(model, train_dataset, loss, device) if criterion == "dead"
            else never_predicted_units(model, train_dataset, device))
    revive_rows(layer, dead, control_generator(seed, epoch, "revive"))
    params = count_parameters(layer)
    shape = tuple(int(d) for d in weight_matrix(layer).shape)
    return [ReviveEvent(layer=name, kind="conv" if isinstance(layer, nn.Conv2d) else "linear", shape=shape,
                        action="revived" if dead else "none", rows_revived=len(dead), revived_units=tuple(dead),
                        params_before=params, params_after=params, criterion=criterion,
                        reason=(f"output units {dead} {criterion} on the training set: rows re-drawn" if dead
                                else f"no output unit {criterion} on the training set"))]
