"""Classification confidence of paper 000 Section 4.1.

(4.1)  dX(s, alpha) = X_{i(s)}(s, alpha) - max_{j != i(s)} X_j(s, alpha),

with X(s, alpha) the output of the final layer *before softmax* and i(s) the correct class;
(4.2)  acc = #{s in T' : dX(s) > 0} / #T'.

A model that ends in log_softmax (the paper's CNN, E.8) may be passed as is: log_softmax subtracts
the same logsumexp from every component, so the differences in (4.1) are unchanged. Softmax
*probabilities* would change dX and must not be used.

(4.2) counts a tie (dX = 0) as misclassified, whereas ``argmax`` picks the first maximal index;
the two accuracies differ exactly by the ties won by the correct class under argmax
(``ties`` is reported so the difference is visible).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import torch
from torch import nn

from core.validate import InvalidArgument, check_int


def confidence_from_outputs(outputs, targets) -> np.ndarray:
    """dX of (4.1) for a batch: ``outputs`` (n, K) pre-softmax, ``targets`` (n,) class indices."""
    out = torch.as_tensor(outputs).detach()
    tgt = torch.as_tensor(targets).detach()
    if out.ndim != 2 or out.shape[1] < 2:
        raise InvalidArgument(f"outputs must have shape (n, K) with K >= 2 classes, got {tuple(out.shape)}")
    if tgt.ndim != 1 or tgt.shape[0] != out.shape[0]:
        raise InvalidArgument(f"targets must have shape ({out.shape[0]},), got {tuple(tgt.shape)}")
    if tgt.dtype.is_floating_point or tgt.dtype == torch.bool:
        raise InvalidArgument(f"targets must be integer class indices, got dtype {tgt.dtype}")
    if tgt.numel() and (int(tgt.min()) < 0 or int(tgt.max()) >= out.shape[1]):
        raise InvalidArgument(f"targets must lie in [0, {out.shape[1] - 1}]")
    if not torch.isfinite(out).all():
        raise InvalidArgument("outputs contain NaN or inf")
    out = out.to(torch.float64)
    rows = torch.arange(out.shape[0])
    correct = out[rows, tgt]
    others = out.clone()
    others[rows, tgt] = -torch.inf
    return (correct - others.max(dim=1).values).cpu().numpy()


def classification_confidence(model: nn.Module, data, device=None, batch_size: int = 1000) -> np.ndarray:
    """dX (4.1) of every sample of ``data``: a DataLoader / iterable of (x, y) batches, a
    TensorDataset, or an (x, y) tuple of tensors. The model is evaluated in eval mode (dropout off,
    BatchNorm running statistics) and restored to its previous mode afterwards."""
    if device is None:
        try:
            device = next(model.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
    batches = _batches(data, batch_size)
    was_training = model.training
    model.eval()
    parts = []
    try:
        with torch.no_grad():
            for x, y in batches:
                parts.append(confidence_from_outputs(model(x.to(device)), y.to(device)))
    finally:
        model.train(was_training)
    if not parts:
        raise InvalidArgument("data yielded no samples")
    return np.concatenate(parts)


def _batches(data, batch_size: int) -> Iterable:
    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        x, y = data
        if x.shape[0] != y.shape[0]:
            raise InvalidArgument(f"x has {x.shape[0]} samples but y has {y.shape[0]}")
        return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, x.shape[0], batch_size)]
    if isinstance(data, torch.utils.data.TensorDataset):
        x, y = data.tensors[0], data.tensors[1]
        return _batches((x, y), batch_size)
    return data


def accuracy_from_confidence(dx) -> float:
    """(4.2): the fraction of samples with dX > 0 (ties count as errors)."""
    dx = np.asarray(dx, dtype=float)
    if dx.ndim != 1 or dx.size == 0:
        raise InvalidArgument(f"dX must be a non-empty 1-D array, got shape {dx.shape}")
    if np.isnan(dx).any():
        raise InvalidArgument("dX contains NaN")
    return float(np.count_nonzero(dx > 0) / dx.size)


def confidence_summary(dx, bins: int | np.ndarray = 50) -> dict:
    """Histogram data and summary of dX: bin edges, counts, accuracy (4.2), ties, quantiles."""
    dx = np.asarray(dx, dtype=float)
    acc = accuracy_from_confidence(dx)
    if np.ndim(bins) == 0:
        bins = check_int("bins", bins, 1, 10**7)
    counts, edges = np.histogram(dx, bins=bins)
    return {"n": int(dx.size), "accuracy": acc, "ties": int(np.count_nonzero(dx == 0)),
            "misclassified": int(np.count_nonzero(dx < 0)),
            "mean": float(dx.mean()), "quantiles": {str(q): float(np.quantile(dx, q))
                                                     for q in (0.01, 0.05, 0.25, 0.5, 0.75, 0.95)},
            "bin_edges": edges.tolist(), "counts": counts.tolist()}
