"""Test-set evaluation with the dead-unit measurements behind paper 000 Example 3.2's accuracy gap.

Section 3.2's fully connected nets apply a ReLU after the final layer too, so an output unit whose
pre-activation is <= 0 on every input emits a constant 0 logit: its class can only be predicted
through ties (argmax then takes the first index among the zeros).  ``evaluate_with_units`` runs one
pass over a dataset in eval mode and returns, next to the usual mean loss and accuracy:

* ``dead_units``: per activation module (``act1`` ... of ``FullyConnectedNet``, the ``act*`` modules of
  ``PaperCNN``), the number of units (channels for a conv map) whose output is exactly 0 on every
  sample of the dataset, and ``units`` their totals;
* ``dead_outputs`` / ``dead_output_classes``: the columns of the model's output that are exactly 0
  on every sample (never for a log-softmax output or a linear final layer in general position);
* ``test_accuracy_live_classes``: accuracy over the samples whose label is not a dead class;
* ``classes_never_predicted``: classes the argmax never returns;
* ``output_max_preactivation``: per output unit, the largest input of the final activation over the
  dataset (<= 0 exactly when a ReLU output is dead; how far below 0 says how hard it is to revive);
* ``loss_sum_batches``: the per-batch mean losses summed over consecutive batches of
  ``loss_batch`` samples (a reading of the paper's test losses of 42-150 in Tables 3.4/3.6, which
  are far above a per-sample cross-entropy; with 10,000 test images and batch 128 that is 79
  batch means).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from nets.data import make_loader
from nets.models import Abs

ACTIVATION_TYPES = (nn.ReLU, Abs, nn.Identity)


def activation_modules(model: nn.Module) -> dict[str, nn.Module]:
    """The activation modules whose units are counted: every ``act*`` child of the model's
    Sequential containers (ReLU, Abs or Identity), keyed by their short name (``act1`` ...,
    prefixed by the container for a CNN: ``features.act1``, ``classifier.act1``)."""
    found = {}
    for name, module in model.named_modules():
        short = name.rpartition(".")[2]
        if short.startswith("act") and isinstance(module, ACTIVATION_TYPES):
            key = short if name.startswith("layers.") else name
            found[key] = module
    return found


def final_activation_name(model: nn.Module) -> str | None:
    """The activation after the output layer of a FullyConnectedNet (``act<L>``), else None."""
    acts = [k for k in activation_modules(model) if k.startswith("act")]
    if not acts or not hasattr(model, "topology"):
        return None
    return f"act{len(model.topology) - 1}"


def _unit_reduce(t: torch.Tensor, how: str) -> torch.Tensor:
    """Per-unit max over samples (and positions for conv maps)."""
    t = t.detach()
    if t.ndim > 2:
        t = t.transpose(0, 1).flatten(1).T  # (samples * positions, channels)
    return t.abs().amax(0) if how == "absmax" else t.amax(0)


def evaluate_with_units(model: nn.Module, dataset, loss: str = "cross_entropy", device="cpu",
                        batch_size: int = 1000, loss_batch: int = 128) -> dict:
    """One eval-mode pass over ``dataset``: loss, accuracy and the dead-unit counts (module doc)."""
    acts = activation_modules(model)
    final = final_activation_name(model)
    absmax: dict[str, torch.Tensor] = {}
    pre_max: dict[str, torch.Tensor] = {}
    hooks = []

    def hook(name):
        def fn(module, inputs, output):
            m = _unit_reduce(output, "absmax")
            absmax[name] = m if name not in absmax else torch.maximum(absmax[name], m)
            if name == final:
                p = _unit_reduce(inputs[0], "max")
                pre_max[name] = p if name not in pre_max else torch.maximum(pre_max[name], p)
        return fn

    for name, module in acts.items():
        hooks.append(module.register_forward_hook(hook(name)))
    was_training = model.training
    model.eval()
    per_sample_loss, labels, predictions, out_absmax = [], [], [], None
    try:
        with torch.no_grad():
            for x, y in make_loader(dataset, batch_size, shuffle=False):
                x, y = x.to(device), y.to(device)
                out = model(x)
                if loss == "cross_entropy":
                    per_sample_loss.append(F.cross_entropy(out, y, reduction="none").cpu())
                    predictions.append(out.argmax(1).cpu())
                    labels.append(y.cpu())
                    m = out.detach().abs().amax(0)
                    out_absmax = m if out_absmax is None else torch.maximum(out_absmax, m)
                else:
                    per_sample_loss.append(F.mse_loss(out, y, reduction="none").flatten(1).mean(1).cpu())
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    losses = torch.cat(per_sample_loss).double()
    n = losses.numel()
    chunks = losses.split(loss_batch)
    row = {"loss": float(losses.mean()),
           "loss_sum_batches": float(sum(c.mean() for c in chunks)),
           "loss_batches": len(chunks), "loss_batch": loss_batch,
           "dead_units": {k: int((v == 0).sum()) for k, v in absmax.items()},
           "units": {k: int(v.numel()) for k, v in absmax.items()}}
    if loss != "cross_entropy":
        row.update(accuracy=None)
        return row
    y, pred = torch.cat(labels), torch.cat(predictions)
    n_classes = int(out_absmax.numel())
    dead = [int(c) for c in torch.nonzero(out_absmax == 0).flatten()]
    live_mask = ~torch.isin(y, torch.tensor(dead, dtype=y.dtype)) if dead else torch.ones_like(y, dtype=torch.bool)
    n_live = int(live_mask.sum())
    row.update({
        "accuracy": float((pred == y).double().mean()),
        "dead_outputs": len(dead), "dead_output_classes": dead,
        "accuracy_live_classes": (float((pred[live_mask] == y[live_mask]).double().mean())
                                  if n_live else math.nan),
        "classes_never_predicted": int(n_classes - torch.unique(pred).numel()),
        "samples": n,
    })
    if final is not None and final in pre_max:
        row["output_max_preactivation"] = [float(v) for v in pre_max[final]]
    return row


def output_layer_matrix(model: nn.Module) -> torch.Tensor | None:
    """The ``out x in`` weight of a FullyConnectedNet's output layer (``layers.fc<L>``; the product
    of the factors once it is split), float64 on the CPU; None for other models."""
    if not hasattr(model, "topology") or not hasattr(model, "layers"):
        return None
    from nets.layers import weight_matrix
    layer = getattr(model.layers, f"fc{len(model.topology) - 1}")
    return weight_matrix(layer).detach().to("cpu", torch.float64)


def output_rows_removed(before: torch.Tensor | None, after: torch.Tensor | None) -> list[float] | None:
    """Per output unit j, ||W'_j - W_j|| / ||W_j||: how much of row j a pruning round removed (an MP
    truncation removes the row's component along the discarded right singular directions)."""
    if before is None or after is None or before.shape != after.shape:
        return None
    norms = before.norm(dim=1)
    change = (after - before).norm(dim=1)
    return [float(c / n) if n > 0 else math.nan for c, n in zip(change, norms)]
