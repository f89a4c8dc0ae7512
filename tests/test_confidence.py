"""Tests for nets.confidence: dX (4.1) on a hand-computed example, accuracy (4.2), invariance
under log_softmax, and clear errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nets.confidence import (
    accuracy_from_confidence,
    classification_confidence,
    confidence_from_outputs,
    confidence_summary,
)

# Outputs X(s) for 4 samples, 3 classes, and their correct classes i(s).
X = torch.tensor([[2.0, 1.0, -1.0],    # i=0: 2 - max(1, -1) = 1
                  [0.5, 3.0, 3.5],     # i=1: 3 - max(0.5, 3.5) = -0.5
                  [1.0, 1.0, 0.0],     # i=0: 1 - max(1, 0) = 0  (tie)
                  [-2.0, -3.0, 4.0]])  # i=2: 4 - max(-2, -3) = 6
Y = torch.tensor([0, 1, 0, 2])
BY_HAND = np.array([1.0, -0.5, 0.0, 6.0])


def test_dx_hand_example():
    np.testing.assert_array_equal(confidence_from_outputs(X, Y), BY_HAND)


def test_accuracy_42_counts_ties_as_errors():
    dx = confidence_from_outputs(X, Y)
    assert accuracy_from_confidence(dx) == 2 / 4          # samples 0 and 3
    argmax_acc = float((X.argmax(1) == Y).float().mean())  # argmax picks class 0 for the tie
    assert argmax_acc == 3 / 4
    s = confidence_summary(dx, bins=4)
    assert s["ties"] == 1 and s["misclassified"] == 1 and sum(s["counts"]) == 4


def test_model_path_and_log_softmax_invariance():
    model = nn.Sequential(nn.Identity())
    dx = classification_confidence(model, (X, Y), batch_size=3)     # two batches
    np.testing.assert_array_equal(dx, BY_HAND)
    log_sm = nn.Sequential(nn.LogSoftmax(dim=1))
    np.testing.assert_allclose(classification_confidence(log_sm, torch.utils.data.TensorDataset(X, Y)),
                               BY_HAND, atol=1e-6)


def test_eval_mode_used_and_restored():
    model = nn.Sequential(nn.Dropout(p=0.9))
    model.train()
    dx = classification_confidence(model, (X, Y))
    np.testing.assert_array_equal(dx, BY_HAND)     # dropout off in eval mode
    assert model.training


def test_errors():
    with pytest.raises(ValueError, match="shape"):
        confidence_from_outputs(torch.zeros(4), Y)
    with pytest.raises(ValueError, match="targets"):
        confidence_from_outputs(X, Y[:3])
    with pytest.raises(ValueError, match="lie in"):
        confidence_from_outputs(X, torch.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="integer"):
        confidence_from_outputs(X, Y.float())
    bad = X.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        confidence_from_outputs(bad, Y)
    with pytest.raises(ValueError, match="non-empty"):
        accuracy_from_confidence([])
