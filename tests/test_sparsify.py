"""Tests for nets.sparsify: exact counts on hand-built weights, masks vs in-place zeroing, the
linear zeta schedule of Section 3.2.1, and the sweep rows of Figs 3.6/3.9."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from nets.sparsify import (
    ThresholdSparsificationCallback,
    linear_zeta,
    make_permanent,
    make_sparsification_callback,
    parameters_kept,
    sparsification_sweep,
    sparsify,
)


def hand_model():
    """Linear(3 -> 2) and Conv2d(1 -> 1, 2x2) with known weights; 6 + 2 + 4 + 1 = 13 parameters."""
    lin, conv = nn.Linear(3, 2), nn.Conv2d(1, 1, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.5, -0.01, 0.0], [0.03, -0.2, 0.009]]))
        lin.bias.copy_(torch.tensor([0.001, 0.0]))     # biases are never sparsified
        conv.weight.copy_(torch.tensor([[[[0.025, -0.05], [0.0099, 1.0]]]]))
        conv.bias.fill_(0.004)
    return nn.ModuleDict({"lin": lin, "conv": conv})


@pytest.mark.parametrize("use_masks", [False, True])
def test_sparsify_counts_exact(use_masks):
    model = hand_model()
    # |w| < 0.02: linear -0.01, 0.009 (0.0 already zero); conv 0.0099.
    out = sparsify(model, 0.02, use_masks=use_masks)
    assert out["newly_zeroed"] == 3
    assert out["zero_weights"] == 4                     # the 3 plus the pre-existing 0.0
    assert out["parameters"] == 13
    assert out["parameters_kept"] == 13 - 4
    assert parameters_kept(model) == 9
    assert float(model["lin"].bias.detach()[0]) == pytest.approx(0.001)
    # "smaller than" is strict: 0.5 is exact in binary and survives xi = 0.5
    sparsify(model, 0.5, use_masks=use_masks)
    assert float(model["lin"].weight.detach()[0, 0]) == 0.5 and float(model["lin"].weight.detach()[1, 1]) == 0.0
    assert torch_prune.is_pruned(model["lin"]) == use_masks


def test_masks_persist_through_training_and_fold():
    model = hand_model()
    sparsify(model, 0.02, use_masks=True)
    with torch.no_grad():
        model["lin"].weight_orig.add_(1.0)                # an optimizer step on the raw weights
    assert float(model["lin"].weight.detach()[0, 1]) == 0.0         # masked entry stays zero
    make_permanent(model)
    assert not torch_prune.is_pruned(model["lin"])
    assert float(model["lin"].weight.detach()[0, 1]) == 0.0 and float(model["lin"].weight.detach()[0, 0]) == 1.5


def test_sweep_rows_and_original_untouched():
    model = hand_model()
    before = model["lin"].weight.detach().clone()
    rows = sparsification_sweep(model, [0.0, 0.02, 0.6], evaluate=lambda m: parameters_kept(m) / 13)
    assert [r["parameters_kept"] for r in rows] == [12, 9, 4]   # 0.6 keeps only 1.0 + 3 biases
    assert rows[1]["fraction_kept"] == pytest.approx(9 / 13)
    assert rows[2]["accuracy"] == pytest.approx(4 / 13)
    assert torch.equal(model["lin"].weight.detach(), before)


def test_linear_zeta_endpoints_and_midpoint():
    assert linear_zeta(1, 70) == pytest.approx(0.001)
    assert linear_zeta(70, 70) == pytest.approx(0.02)
    assert linear_zeta(35, 69) == pytest.approx(0.001 + 0.019 * 34 / 68)
    cb = make_sparsification_callback({"kind": "during", "zeta_start": 0.001, "zeta_end": 0.02,
                                       "every": 2}, epochs=11)
    model = hand_model()
    assert cb.on_epoch_end(model, 1) == []
    ev = cb.on_epoch_end(model, 2)
    assert ev[0]["zeta"] == pytest.approx(0.001 + 0.019 / 10)
    assert ev[0]["zero_weights"] == 1                         # only |w| < 0.0029: the 0.0 entry


def test_sparsify_errors():
    model = hand_model()
    with pytest.raises(ValueError, match="threshold"):
        sparsify(model, -0.1)
    with pytest.raises(ValueError, match="threshold"):
        sparsify(model, float("nan"))
    with torch.no_grad():
        model["lin"].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        sparsify(model, 0.1)
    with pytest.raises(ValueError, match="unknown"):
        make_sparsification_callback({"kind": "during", "zeta": 1}, epochs=3)
    with pytest.raises(ValueError, match="every"):
        ThresholdSparsificationCallback(10, every=0)
