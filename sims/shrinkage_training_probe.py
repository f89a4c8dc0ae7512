"""The per-round probe of ``sims.shrinkage_training``: |change of dX| (4.1) over one pruning round
of Algorithm 1 and the Lemma 4.1 bound for it (``round_change``), measured around each round by a
callback wrapper (``RoundProbe``) whose state travels in ``nets.train``'s checkpoints.
"""
from __future__ import annotations

import numpy as np

from core.validate import InvalidArgument


def network_of(model):
    """The model as a ``theory.pruning_bounds.Network`` (float64; factorised layers as products)."""
    import torch
    from nets.layers import weight_layers, weight_matrix
    from theory.pruning_bounds import Network
    acts = list(getattr(model, "activations", []))
    if not acts or any(a != "relu" for a in acts[:-1]) or acts[-1] not in ("relu", "none"):
        raise InvalidArgument("the dX / Lemma 4.1 probe needs a fully connected ReLU net (nets.models.FullyConnectedNet)")
    weights, biases = [], []
    with torch.no_grad():
        for _, layer in weight_layers(model, factorized_as_unit=True):
            weights.append(weight_matrix(layer).detach().to(torch.float64).cpu().numpy())
            b = layer.bias
            biases.append(None if b is None else b.detach().to(torch.float64).cpu().numpy())
    return Network(tuple(weights), tuple(biases), activation="relu", final_activation=acts[-1] == "relu")


def round_change(before, after, inputs: np.ndarray, labels: np.ndarray) -> dict:
    """|change of dX| over one pruning round and the Lemma 4.1 bound for it.

    Telescoping from the last changed layer down (the argument of
    ``theory.pruning_bounds.lemma_4_1_bound_all_layers``): pruning layer b in a network whose layers
    above b are already pruned and below b are not changes dX by at most
    sqrt 2 ||W_b - W'_b||_2 ||prefix_before(s)|| prod_{l > b} sigma_max(W'_l) (Lemma 4.1, (4.4)).
    The prefix is the network before the round, the suffix after it: valid for any W'."""
    from theory.pruning_bounds import Network, classification_confidence, lemma_4_1_bound, spectral_norm
    dx0 = classification_confidence(before.forward(inputs), labels)
    dx1 = classification_confidence(after.forward(inputs), labels)
    change = np.abs(dx1 - dx0)
    bound = np.zeros_like(change)
    changed = []
    for b in range(1, before.depth + 1):
        delta = after.weights[b - 1] - before.weights[b - 1]
        if not np.any(delta):
            continue
        changed.append(b)
        hybrid = Network(tuple(before.weights[:b]) + tuple(after.weights[b:]), before.biases,
                         before.activation, before.final_activation)
        bound = bound + lemma_4_1_bound(hybrid, inputs, b, spectral_norm(delta))
    holds = change <= bound * (1 + 1e-9) + 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bound > 0, change / bound, 0.0)
    return {"layers_changed": changed, "dX_change_mean": float(change.mean()),
            "dX_change_max": float(change.max()), "lemma41_bound_mean": float(bound.mean()),
            "lemma41_holds_fraction": float(holds.mean()), "lemma41_tightness_mean": float(ratio.mean()),
            "accuracy_before_round": float(np.mean(dx0 > 0)), "accuracy_after_round": float(np.mean(dx1 > 0))}


class RoundProbe:
    """Wraps an ``MPPruningCallback``: measures dX and the Lemma 4.1 bound around each round it runs.
    Its state (the inner callback's and the rounds measured) goes into ``nets.train``'s checkpoints."""

    def __init__(self, inner, inputs: np.ndarray, labels: np.ndarray):
        self.inner, self.inputs, self.labels = inner, inputs, labels
        self.rounds: list[dict] = []

    def on_epoch_end(self, model, epoch: int):
        if not self.inner.due(epoch):
            return self.inner.on_epoch_end(model, epoch)
        before = network_of(model)
        events = self.inner.on_epoch_end(model, epoch)
        row = round_change(before, network_of(model), self.inputs, self.labels)
        row.update(epoch=int(epoch), n_events=len(events),
                   splits=sum(ev.action == "split" for ev in events),
                   recombined=sum(ev.action == "recombined" for ev in events),
                   params_before=events[0].model_params_before if events else None,
                   params_after=events[0].model_params_after if events else None)
        self.rounds.append(row)
        return events

    def state_dict(self) -> dict:
        return {"inner": self.inner.state_dict(), "rounds": list(self.rounds)}

    def load_state_dict(self, state: dict) -> None:
        self.inner.load_state_dict(state.get("inner", {}))
        self.rounds = list(state.get("rounds", []))
