"""Tests for nets.baselines (paper 004 magnitude and random pruning): exact counts computed by
hand, first/last layers untouched, agreement with torch.nn.utils.prune.l1_unstructured, errors."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from nets.baselines import count_to_prune, magnitude_prune, pruning_counts, random_prune


def mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 7),
                         nn.Linear(7, 3))


def cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 4, 3), nn.Conv2d(4, 4, 3), nn.Conv2d(4, 2, 3))


def test_counts_by_hand():
    # D = 48 and 42 for the interior layers "2" (8 -> 6) and "4" (6 -> 7)
    assert pruning_counts(mlp(), alpha=0.5) == {"2": 6, "4": 6}        # floor(6.93), floor(6.48)
    assert pruning_counts(mlp(), gamma=0.25) == {"2": 12, "4": 10}     # floor(12), floor(10.5)
    assert count_to_prune(64, alpha=0.5) == 8                          # 64^0.5 = 8 exactly
    assert count_to_prune(1000, alpha=1 / 3) == 100                    # 1000^(2/3) = 99.99999999999997
    assert count_to_prune(16, alpha=1.0, unit="filters") == 4          # d^(2 - alpha), d = 4


def test_magnitude_prunes_exactly_the_smallest_and_keeps_ends():
    model = mlp()
    w_before = {n: model.get_submodule(n).weight.detach().clone() for n in ("2", "4")}
    events = magnitude_prune(model, gamma=0.25)
    assert {e["layer"]: e["weights_zeroed"] for e in events} == {"2": 12, "4": 10}
    for name, count in (("2", 12), ("4", 10)):
        m = model.get_submodule(name)
        mask = m.weight_mask.bool()
        assert int((~mask).sum()) == count
        absw = w_before[name].abs()
        assert absw[~mask].max() <= absw[mask].min()    # pruned entries are the smallest
    assert not torch_prune.is_pruned(model[0]) and not torch_prune.is_pruned(model[5])


def test_magnitude_matches_torch_l1_unstructured():
    a, b = mlp(3), mlp(3)
    magnitude_prune(a, counts={"2": 17})
    torch_prune.l1_unstructured(b[2], "weight", amount=17)
    assert torch.equal(a[2].weight_mask, b[2].weight_mask)


def test_random_with_and_without_replacement():
    model = mlp()
    ev = random_prune(model, gamma=0.5, seed=4)                      # 24 and 21 draws
    for e in ev:
        assert e["units_zeroed"] == e["draws_distinct"] <= e["count"]
    model = mlp()
    ev = random_prune(model, gamma=0.5, replacement=False, seed=4)
    assert [e["units_zeroed"] for e in ev] == [24, 21]
    assert not torch_prune.is_pruned(model[0]) and not torch_prune.is_pruned(model[5])
    # same seed, same mask
    again = mlp()
    random_prune(again, gamma=0.5, replacement=False, seed=4)
    assert torch.equal(again[2].weight_mask, model[2].weight_mask)


def test_filter_pruning_zeroes_whole_filters():
    model = cnn()
    l1 = model[1].weight.detach().abs().sum(dim=(2, 3)).flatten()
    events = magnitude_prune(model, alpha=1.0, unit="filters")        # 4 of 16 filters per layer
    assert [e["units_zeroed"] for e in events] == [4, 4]
    assert [e["weights_zeroed"] for e in events] == [36, 36]
    zeroed = (model[1].weight.detach().abs().sum(dim=(2, 3)) == 0).flatten()
    assert l1[zeroed].max() <= l1[~zeroed].min()
    ev = random_prune(cnn(), alpha=1.0, unit="filters", replacement=False)
    assert [e["weights_zeroed"] for e in ev] == [36, 36]


def test_errors():
    with pytest.raises(ValueError, match="exactly one"):
        pruning_counts(mlp(), alpha=0.5, gamma=0.1)
    with pytest.raises(ValueError, match="first or last"):
        magnitude_prune(mlp(), counts={"0": 1})
    with pytest.raises(ValueError, match="only 2"):
        pruning_counts(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), gamma=0.5)
    with pytest.raises(ValueError, match="count must be"):
        magnitude_prune(mlp(), counts={"2": 49})
    with pytest.raises(ValueError, match="gamma"):
        count_to_prune(10, gamma=1.5)
    model = mlp()
    with torch.no_grad():
        model[2].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        random_prune(model, gamma=0.1)
    with pytest.raises(ValueError, match="Conv2d"):
        magnitude_prune(mlp(), counts={"2": 1}, unit="filters")
