"""nets.prune: the gaps a mutation run found (issue 24, `python mutation/run.py --only nets/prune.py`).
Expected values come from the definitions (a PruneEvent's fields, torch's own prune masks, the
module's parameters listed by hand), never from the function under test."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

import nets
from core.validate import InvalidArgument
from tests.planted import spiked_matrix


def _set(param: torch.Tensor, matrix: np.ndarray) -> None:
    with torch.no_grad():
        param.copy_(torch.from_numpy(matrix).reshape(param.shape))


def _event(**changes) -> nets.PruneEvent:
    base = dict(layer="fc", tensor="weight", kind="linear", shape=(3, 4), rule="mp", step="mp_prune",
                action="parametrized", accepted=True, tau=0.7, params_before=12, params_after=7,
                kept_singular_values=(3.0,), removed_singular_values=(1.0, 0.5))
    base.update(changes)
    return nets.PruneEvent(**base)


# --- PruneEvent as plain data -------------------------------------------------------------------

def test_event_to_dict_gives_lists_and_from_dict_gives_tuples_back():
    ev = _event(new_singular_values=(2.5,), noise_sigma=0.1, rule="frobenius")
    d = ev.to_dict()
    # plain data: every tuple field becomes a list (JSON and weights_only torch.load safe)
    assert type(d["shape"]) is list and d["shape"] == [3, 4]
    assert type(d["kept_singular_values"]) is list and d["removed_singular_values"] == [1.0, 0.5]
    assert type(d["new_singular_values"]) is list and d["new_singular_values"] == [2.5]
    back = nets.PruneEvent.from_dict(json.loads(json.dumps(d)))
    # equality of the dataclass needs tuples again, the new singular values included
    assert back == ev and type(back.new_singular_values) is tuple and type(back.shape) is tuple
    assert nets.PruneEvent.from_dict(_event().to_dict()).new_singular_values is None


def test_event_from_dict_refuses_unknown_fields_by_name():
    d = _event().to_dict()
    d["bogus"] = 1
    with pytest.raises(InvalidArgument, match=re.escape("PruneEvent.from_dict: unknown fields ['bogus']")):
        nets.PruneEvent.from_dict(d)


# --- torch.nn.utils.prune on another tensor of the same layer ---------------------------------

def test_mp_prune_under_a_torch_mask_leaves_the_other_masked_tensor_alone():
    torch.manual_seed(0)
    layer = nn.Linear(120, 80)
    _set(layer.weight, spiked_matrix(80, 120, [6.0, 5.0, 4.0], seed=3))
    torch_prune.l1_unstructured(layer, "weight", amount=0.3)
    torch_prune.l1_unstructured(layer, "bias", amount=0.5)
    bias = (layer.bias_orig * layer.bias_mask).detach().clone()
    nets.mp_prune(layer, tau=None)
    # right after pruning, weight = mask * W' (W' the parametrized weight_orig), bias untouched
    expected = layer.weight_mask * layer.weight_orig
    assert layer.weight.shape == (80, 120)
    assert torch.equal(layer.weight.detach(), expected.detach())
    assert torch.equal(layer.bias.detach(), bias)


# --- the list of weight matrices named in an error --------------------------------------------

class _TwoMatrices(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.zeros(80, 120))
        self.c = nn.Parameter(torch.zeros(2, 3))
        self.v = nn.Parameter(torch.zeros(5))           # 1-D: not a weight matrix
        self.child = nn.Linear(2, 2)                    # its weight is the child's, not this module's


def _no_tensor(module, listed):
    return re.escape(f"{type(module).__name__} has no tensor 'nope'; its weight matrices are {listed}")


def test_missing_tensor_error_lists_the_modules_own_matrices():
    m = _TwoMatrices()
    with pytest.raises(InvalidArgument, match=_no_tensor(m, ["a", "c"])):
        nets.mp_decide(m, "nope", tau=None)
    # once "a" is MP-pruned it lives in m.parametrizations (a submodule) and is still listed
    _set(m.a, spiked_matrix(80, 120, [6.0, 5.0, 4.0], seed=4))
    nets.mp_prune(m, "a", tau=None)
    assert nets.is_mp_pruned(m, "a")
    with pytest.raises(InvalidArgument, match=_no_tensor(m, ["a", "c"])):
        nets.mp_decide(m, "nope", tau=None)
    # a torch-masked weight is listed by its name, not as weight_orig
    layer = nn.Linear(6, 4)
    torch_prune.l1_unstructured(layer, "weight", amount=0.5)
    with pytest.raises(InvalidArgument, match=_no_tensor(layer, ["weight"])):
        nets.mp_decide(layer, "nope", tau=None)


# --- how an event and a projection print --------------------------------------------------------

def test_event_str_is_one_line_with_each_part():
    ev = _event(sv_threshold=1.5, rank_before=3, rank_after=1, fit_statistic=0.25)
    assert str(ev) == ("fc.weight 3x4 mp: parametrized, rank 3 -> 1, edge sqrt(lambda+ N) 1.5, "
                       "fit 0.25 <= tau 0.7, params 12 -> 7")
    # no fit test run, no edge, no ranks: those parts are left out, not printed as None
    assert str(_event(tau=None, accepted=None, fit_statistic=0.25)) == (
        "fc.weight 3x4 mp: parametrized, fit 0.25 not run (tau=None), params 12 -> 7")
    # the reason is shown for a layer left alone, not for a parametrized one
    rejected = _event(action="none", accepted=False, fit_statistic=0.9, reason="MP fit rejected",
                      block="q", tensor="in_proj_weight", layer="")
    assert str(rejected) == ("<module>.in_proj_weight[q] 3x4 mp: none, fit 0.9 > tau 0.7, params 12 -> 7; "
                             "MP fit rejected")
    assert str(_event(reason="why")) == "fc.weight 3x4 mp: parametrized, params 12 -> 7"


def test_event_repr_shows_the_fields_that_differ_from_their_defaults():
    assert repr(_event()) == (
        "PruneEvent(layer='fc', tensor='weight', kind='linear', shape=(3, 4), rule='mp', step='mp_prune', "
        "action='parametrized', accepted=True, tau=0.7, params_before=12, params_after=7, "
        "kept_singular_values=<1 values>, removed_singular_values=<2 values>)")


def test_projection_repr_names_rank_zero_and_passed_through_blocks_apart():
    def basis(rows, cols, r):
        return torch.zeros(rows, r), torch.zeros(cols, r), None
    assert nets.LowRankProjection([4], [basis(4, 6, 0)]).extra_repr() == "rank=0, rows=4"
    assert nets.LowRankProjection([4], [None]).extra_repr() == "rank=full, rows=4"
    three = nets.LowRankProjection([2, 2, 2], [None, basis(2, 3, 1), basis(2, 3, 0)])
    assert three.extra_repr() == "ranks=[full, 1, 0], block_rows=[2, 2, 2]"
    assert three.ranks() == [-1, 1, 0]


# --- factorize by a dotted name -------------------------------------------------------------------

def test_factorize_replaces_a_nested_layer_in_its_own_parent():
    from nets.layers import FactorizedLinear
    torch.manual_seed(0)
    inner = nn.Linear(120, 80)
    _set(inner.weight, spiked_matrix(80, 120, [6.0, 5.0, 4.0], seed=5))
    model = nn.Sequential(nn.Sequential(inner, nn.ReLU()), nn.Linear(80, 2))
    x = torch.randn(3, 120)
    nets.mp_prune(inner, tau=None)
    expected = model(x).detach()
    assert nets.factorize(model, "0.0") is model
    assert type(model[0]) is nn.Sequential and len(model[0]) == 2       # the parent stays
    assert isinstance(model[0][0], FactorizedLinear) and isinstance(model[0][1], nn.ReLU)
    assert sorted(name for name, _ in model.named_children()) == ["0", "1"]
    torch.testing.assert_close(model(x).detach(), expected, rtol=1e-4, atol=1e-5)


# --- MPDecision as printed, and the signature users read -----------------------------------------

def test_decision_repr_and_str_before_and_after_apply():
    import inspect
    torch.manual_seed(0)
    layer = nn.Linear(120, 80)
    _set(layer.weight, spiked_matrix(80, 120, [6.0, 5.0, 4.0], seed=6))
    d = nets.mp_decide(layer, tau=None)
    e = d.event
    assert e.rank_before == 80 and 3 <= e.rank_after < 80
    assert repr(d) == f"MPDecision(Linear.weight, parametrized, ranks 80->{e.rank_after}, not applied)"
    assert str(d) == str(e) and list(d) == [e] and len(d) == 1 and d[0] is e
    d.apply()
    assert repr(d) == f"MPDecision(Linear.weight, parametrized, ranks 80->{e.rank_after}, applied)"
    # two row blocks: one line per block, actions and ranks joined in block order
    other = nn.Linear(120, 80)
    _set(other.weight, spiked_matrix(80, 120, [6.0, 5.0, 4.0], seed=7))
    two = nets.mp_decide(other, tau=None, blocks=[("top", 40), ("bottom", 40)], layer_name="fc")
    a, b = two.events
    assert (a.block, b.block) == ("top", "bottom")
    assert str(two) == f"{a}\n{b}"
    assert repr(two) == (f"MPDecision(fc.weight, {a.action}/{b.action}, ranks {a.rank_before}->{a.rank_after}, "
                         f"{b.rank_before}->{b.rank_after}, not applied)")
    with pytest.raises(InvalidArgument, match=re.escape("fc.weight has 2 blocks (top, bottom): read .events")):
        two.event
    # tau left out is shown as such in help(), not as an object address
    assert repr(inspect.signature(nets.mp_decide).parameters["tau"].default) == "<not given>"
