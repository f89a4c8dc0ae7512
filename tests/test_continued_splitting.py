"""Remark 3.1's "continued splitting" variant of Algorithm 1 (nets.algorithms.continued_splitting_round):
the factors of a split layer are split again (steps 4-18 on W'_1, W'_2) instead of being recombined
(steps 21-27). Checked on a planted spiked layer against Algorithm 1's own round."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from nets.configs import get_config, with_variant
from nets.layers import FACTORIZED_TYPES, count_parameters
from nets.algorithms import (
    MPPruningCallback,
    algorithm1_round,
    continued_splitting_round,
    prunable_layers,
)
from tests.planted import spiked_matrix

ALWAYS = 1.0  # the fit statistic is a sup of cdf differences, <= 1: tau = 1 accepts every fit


def _planted(seed=3):
    """One 100 x 150 linear layer holding R + 3 spikes (no activation, so the net is linear)."""
    model = nn.Sequential(nn.Linear(150, 100))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(spiked_matrix(100, 150, [6.0, 5.0, 4.0], seed=seed)))
        model[0].bias.copy_(torch.linspace(-1, 1, 100))
    return model


def _leaves(model, prefix="0"):
    return [n for n in prunable_layers(model, descend_into_factors=True) if n.split(".")[0] == prefix]


def _product(module) -> torch.Tensor:
    """The matrix a (possibly nested) factorised layer multiplies to: second(first(x)) = B A x."""
    if isinstance(module, FACTORIZED_TYPES):
        return _product(module.second) @ _product(module.first)
    return module.weight.detach().to(torch.float64)


def _two_rounds(round_fn, model, f=(0.5, 0.0)):
    events = []
    for k, keep in enumerate(f):
        before = count_parameters(model)
        evs = round_fn(model, keep, ALWAYS)
        # parameters fall by exactly what the round's split/recombine events say (steps 12, 14, 23)
        change = sum(e.params_after - e.params_before for e in evs if e.params_after is not None)
        assert count_parameters(model) == before + change, (k, evs)
        events.append(evs)
    return events


def test_second_round_splits_the_factors_where_algorithm1_recombines():
    alg1, cont = _planted(), _planted()
    initial = count_parameters(alg1)
    ev_alg1 = _two_rounds(algorithm1_round, alg1)
    ev_cont = _two_rounds(continued_splitting_round, cont)
    # round 1 has no factors yet: the two variants take the same decision (steps 3-19)
    assert [(e.action, e.rank_after) for e in ev_alg1[0]] == [(e.action, e.rank_after) for e in ev_cont[0]]
    assert ev_cont[0][0].action == "split" and ev_cont[0][0].rank_after == 3 + 48  # n_above + floor(f n_small)
    # round 2: Algorithm 1 recombines W'_1 W'_2 and re-splits it -> still 2 factors
    assert [e.action for e in ev_alg1[1]] == ["recombined", "split"]
    assert len(_leaves(alg1)) == 2
    # continued splitting: steps 4-18 on each factor; a factor split again -> a chain of > 2 factors
    assert all(e.variant == "continued_splitting" and e.step == "prune" for e in ev_cont[1])
    assert [e.layer for e in ev_cont[1]] == ["0.first", "0.second"]
    assert any(e.action == "split" for e in ev_cont[1])
    assert len(_leaves(cont)) > 2
    for e in ev_cont[1]:
        if e.action == "split":  # step 11: r (n + m) < n m, and the new factors hold exactly r (n + m)
            n, m = e.shape
            assert e.rank_after * (n + m) < n * m
            bias = e.params_before - n * m
            assert e.params_after == e.rank_after * (n + m) + bias
    after_round1 = initial + sum(e.params_after - e.params_before for e in ev_cont[0])
    assert count_parameters(cont) < after_round1 < initial and count_parameters(alg1) < after_round1


def test_forward_is_the_product_of_the_chain():
    model = _planted()
    _two_rounds(continued_splitting_round, model)
    layer = model[0]
    W = _product(layer)
    x = torch.randn(7, 150, generator=torch.Generator().manual_seed(0))
    bias = model(torch.zeros(1, 150)).detach().to(torch.float64)
    expected = x.to(torch.float64) @ W.T + bias
    torch.testing.assert_close(model(x).detach().to(torch.float64), expected, rtol=1e-5, atol=1e-5)
    # the chain has rank <= the first round's rank (each split keeps at most the factor's rank)
    assert torch.linalg.matrix_rank(W).item() <= 51


def test_callback_and_config_select_the_variant():
    cb = MPPruningCallback(every=2, schedule=lambda e: max(0.0, 1 - e / 4), tau=ALWAYS,
                           variant="continued_splitting")
    model = _planted()
    assert cb.on_epoch_end(model, 1) == []
    first = cb.on_epoch_end(model, 2)
    second = cb.on_epoch_end(model, 4)
    assert first and second and all(e.variant == "continued_splitting" for e in first + second)
    assert not any(e.action == "recombined" for e in second) and len(_leaves(model)) > 2
    cfg = with_variant(get_config("ex3.2a", "cpu"), "continued_splitting")
    assert cfg.pruning["variant"] == "continued_splitting" and cfg.pruning["tau"] == 0.7
    assert "variant" not in with_variant(cfg, "algorithm1").pruning
    with pytest.raises(ValueError, match="variant"):
        MPPruningCallback(variant="continued")
    from core.validate import InvalidArgument
    with pytest.raises(InvalidArgument, match="variant must be one of"):
        with_variant(cfg, "recombine")
