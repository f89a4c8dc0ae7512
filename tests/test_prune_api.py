"""nets.prune, the torch-style API: on Linear, Conv2d and MultiheadAttention the parametrized
forward equals the truncated product (numpy's float64 SVD, not the module's), torch.nn.utils.prune
interoperates, state_dicts travel both ways, remove / factorize preserve outputs, no silent rank 0.

Test matrices: planted spikes (tests/planted.py) with theta >= 4, far above the BBP threshold
c^(1/4) <= 1, so they lie above the edge with overwhelming probability at any seed; the number of
noise singular values that also clear the Tracy-Widom margin varies with the seed, so every
expected value is computed from the rank the event reports (the truncation is then checked
independently). "All noise" matrices have singular values placed exactly at MP quantiles
(deterministic spectrum, random singular vectors): BEMA recovers sigma^2 = 1 and nothing clears the
edge at any seed."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune as torch_prune

import nets
from core.validate import InvalidArgument
from nets.layers import FactorizedConv2d, FactorizedLinear, eligible_weights, weight_layers
from tests.planted import spiked_matrix
from theory.marchenko_pastur import MarchenkoPastur

ATOL = 2e-5   # float32 forward of O(1) outputs through a rank-r projection: ~1e-6 relative rounding


def numpy_truncation(matrix: np.ndarray, rank: int) -> np.ndarray:
    U, s, Vt = np.linalg.svd(matrix.astype(np.float64), full_matrices=False)
    return (U[:, :rank] * s[:rank]) @ Vt[:rank]


def all_noise_matrix(n_out: int, n_in: int, seed: int) -> np.ndarray:
    """Singular values sqrt(N q_k), q_k the MP(c, 1) quantile at level (k - 1/2)/M: exactly the
    spectrum BEMA's midpoint fit expects of pure noise, so sigma^2 = 1 and every value lies below
    the MP edge (1 + sqrt c)^2 < lambda_+."""
    N, M = max(n_out, n_in), min(n_out, n_in)
    q = MarchenkoPastur(M / N, 1.0).ppf((np.arange(1, M + 1) - 0.5) / M)
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((n_out, M)))
    v, _ = np.linalg.qr(rng.standard_normal((n_in, M)))
    return (u * np.sqrt(N * q[::-1])) @ v.T


def _set(param: torch.Tensor, matrix: np.ndarray) -> None:
    with torch.no_grad():
        param.copy_(torch.from_numpy(matrix).reshape(param.shape))


def _linear(seed=0, n_in=120, n_out=80):
    torch.manual_seed(seed)
    layer = nn.Linear(n_in, n_out)
    _set(layer.weight, spiked_matrix(n_out, n_in, [6.0, 5.0, 4.0], seed=seed))
    return layer


def _conv(seed=0):
    torch.manual_seed(seed)
    conv = nn.Conv2d(8, 60, 3, padding=1)          # 60 x 72 matrix
    _set(conv.weight, spiked_matrix(60, 72, [6.0, 5.0], seed=seed))
    return conv


def _attention(seed=0, embed=48):
    torch.manual_seed(seed)
    mha = nn.MultiheadAttention(embed, 4, batch_first=True)
    blocks = [spiked_matrix(embed, embed, [6.0, 5.0], seed=seed),
              all_noise_matrix(embed, embed, seed + 1),
              spiked_matrix(embed, embed, [7.0], seed=seed + 2)]
    _set(mha.in_proj_weight, np.concatenate(blocks))
    _set(mha.out_proj.weight, spiked_matrix(embed, embed, [5.0, 4.0], seed=seed + 3))
    return mha


def _attend(mha, x):
    return mha(x, x, x, need_weights=False)[0]


def _prune(module, name="weight", *, tau=None, **kwargs):
    """Decide and apply (``mp_decide(...).apply()``); the event, or the (Q, K, V) events."""
    decision = nets.mp_decide(module, name, tau=tau, **kwargs)
    decision.apply()
    return decision.event if len(decision) == 1 else decision.events


def _prune_model(model, *, tau=None, **kwargs):
    """``decide_model`` + apply: the flat list of events."""
    decisions = nets.decide_model(model, tau=tau, **kwargs)
    for decision in decisions:
        decision.apply()
    return [event for decision in decisions for event in decision]


# ---------------------------------------------------------------- forward = truncated product
def test_linear_forward_equals_truncated_product():
    layer = _linear()
    W = layer.weight.detach().double().numpy().copy()
    x = torch.randn(5, 120)
    ev = _prune(layer)
    assert ev.action == "parametrized" and 3 <= ev.rank_after < 80 and ev.n_removed == 80 - ev.rank_after
    assert len(ev.kept_singular_values) == ev.rank_after and min(ev.kept_singular_values) > ev.sv_threshold
    assert max(ev.removed_singular_values) <= ev.sv_threshold
    expected = x.double().numpy() @ numpy_truncation(W, ev.rank_after).T + layer.bias.detach().double().numpy()
    np.testing.assert_allclose(layer(x).detach().double().numpy(), expected, atol=ATOL)
    np.testing.assert_allclose(layer.weight.detach().double().numpy(), numpy_truncation(W, ev.rank_after),
                               atol=1e-5)
    assert ev.params_before == 80 * 120 and ev.params_after == ev.rank_after * 200


def test_conv_forward_equals_truncated_kernel():
    conv = _conv()
    W = conv.weight.detach().double().clone()
    x = torch.randn(2, 8, 6, 6)
    ev = _prune(conv)
    assert ev.kind == "conv" and ev.shape == (60, 72) and ev.action == "parametrized"
    kernel = torch.from_numpy(numpy_truncation(W.reshape(60, 72).numpy(), ev.rank_after)).reshape(W.shape)
    expected = F.conv2d(x.double(), kernel, conv.bias.detach().double(), padding=1)
    np.testing.assert_allclose(conv(x).detach().double().numpy(), expected.numpy(), atol=ATOL)


def test_attention_q_k_v_blocks_are_fitted_separately():
    mha = _attention()
    W = mha.in_proj_weight.detach().double().numpy().copy()
    x = torch.randn(3, 7, 48)
    with pytest.warns(nets.AllNoiseWarning, match=r"\[k\]"):
        events = _prune(mha, "in_proj_weight")
    q, k, v = events
    assert [e.block for e in events] == ["q", "k", "v"] and all(e.kind == "attention" for e in events)
    assert q.action == v.action == "parametrized" and k.action == "kept" and k.n_above_threshold == 0
    assert 2 <= q.rank_after < 48 and 1 <= v.rank_after < 48
    expected = np.concatenate([numpy_truncation(W[:48], q.rank_after), W[48:96],
                               numpy_truncation(W[96:], v.rank_after)])
    np.testing.assert_allclose(mha.in_proj_weight.detach().double().numpy(), expected, atol=1e-5)
    # the module's forward uses the projected weight: compare with a plain MHA holding W'
    ref = nn.MultiheadAttention(48, 4, batch_first=True)
    ref.load_state_dict({**{k_: v_ for k_, v_ in mha.state_dict().items() if "parametrizations" not in k_},
                         "in_proj_weight": torch.from_numpy(expected).float()})
    np.testing.assert_allclose(_attend(mha, x).detach().numpy(), _attend(ref, x).detach().numpy(), atol=ATOL)
    out = _prune(mha.out_proj)
    assert out.action == "parametrized" and out.kind == "linear"


# ---------------------------------------------------------------- .weight, hooks, optimizers
def test_weight_hooks_and_optimizer_keep_working():
    layer = _linear(1)
    param = layer.weight
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    calls = []
    layer.register_forward_hook(lambda m, i, o: calls.append(o.shape))
    ev = _prune(layer)
    assert layer.parametrizations.weight.original is param           # same Parameter object
    before = layer.weight.detach().clone()
    layer(torch.randn(4, 120)).pow(2).sum().backward()
    opt.step()
    assert calls == [(4, 80)] and not torch.equal(layer.weight.detach(), before)
    # training stays in the kept singular subspaces: rank <= r
    s = torch.linalg.svdvals(layer.weight.detach().double())
    assert int((s > 1e-4 * s[0]).sum()) <= ev.rank_after


# ---------------------------------------------------------------- torch.nn.utils.prune
def test_torch_prune_before_mp_keeps_its_mask_outermost():
    layer = _linear(2)
    torch_prune.l1_unstructured(layer, "weight", amount=0.3)
    mask = layer.weight_mask.clone()
    orig = layer.weight_orig.detach().double().numpy().copy()
    ev = _prune(layer)
    assert ev.action == "parametrized" and nets.is_mp_pruned(layer)
    expected = mask.double().numpy() * numpy_truncation(orig, ev.rank_after)
    np.testing.assert_allclose(layer.weight.detach().double().numpy(), expected, atol=1e-5)
    x = torch.randn(3, 120)
    np.testing.assert_allclose(layer(x).detach().double().numpy(),
                               x.double().numpy() @ expected.T + layer.bias.detach().double().numpy(), atol=ATOL)
    nets.remove(layer)                                              # MP first, then torch's mask
    torch_prune.remove(layer, "weight")
    np.testing.assert_allclose(layer.weight.detach().double().numpy(), expected, atol=1e-5)
    assert set(dict(layer.named_parameters())) == {"weight", "bias"}


def test_torch_prune_after_mp_needs_remove_first():
    layer = _linear(3)
    _prune(layer)
    torch_prune.l1_unstructured(layer, "bias", amount=0.5)           # other tensors: as usual
    assert int((layer.bias == 0).sum()) == 40
    with pytest.raises(TypeError):                                   # torch refuses a parametrized weight
        torch_prune.l1_unstructured(layer, "weight", amount=0.5)
    nets.remove(layer)
    low_rank = layer.weight.detach().clone()
    torch_prune.l1_unstructured(layer, "weight", amount=0.5)
    assert int((layer.weight == 0).sum()) == 40 * 120
    kept = layer.weight != 0
    assert torch.equal(layer.weight[kept], low_rank[kept])


# ---------------------------------------------------------------- state_dict round trips
def _models():
    torch.manual_seed(4)
    lin = nn.Sequential(nn.Linear(120, 80), nn.ReLU(), nn.Linear(80, 10))
    _set(lin[0].weight, spiked_matrix(80, 120, [6.0, 5.0, 4.0], seed=4))
    conv = nn.Sequential(_conv(5))
    return [("linear", lin, lambda: nn.Sequential(nn.Linear(120, 80), nn.ReLU(), nn.Linear(80, 10)),
             torch.randn(4, 120)),
            ("conv", conv, lambda: nn.Sequential(nn.Conv2d(8, 60, 3, padding=1)), torch.randn(2, 8, 5, 5))]


@pytest.mark.parametrize("case", [0, 1])
@pytest.mark.parametrize("dense", [False, True])
def test_pruned_state_dict_loads_into_original_architecture(case, dense):
    label, model, fresh, x = _models()[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nets.AllNoiseWarning)
        _prune_model(model)
    want = model(x).detach()
    target = fresh()
    nets.load_pruned_state_dict(target, model.state_dict(), dense=dense)
    np.testing.assert_allclose(target(x).detach().numpy(), want.numpy(), atol=ATOL)
    if dense:
        assert set(target.state_dict()) == set(fresh().state_dict())   # plain architecture again
    else:
        assert nets.is_mp_pruned(target[0])
    # and back: an unpruned model's state_dict into the pruned model
    plain = fresh()
    nets.load_pruned_state_dict(model, plain.state_dict())
    np.testing.assert_allclose(model(x).detach().numpy(), plain(x).detach().numpy(), atol=1e-6)
    assert not nets.is_mp_pruned(model[0])


def test_attention_state_dict_round_trip():
    mha = _attention(6)
    x = torch.randn(2, 5, 48)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nets.AllNoiseWarning)
        _prune_model(mha)
    want = _attend(mha, x).detach()
    for dense in (False, True):
        target = nn.MultiheadAttention(48, 4, batch_first=True)
        nets.load_pruned_state_dict(target, mha.state_dict(), dense=dense)
        np.testing.assert_allclose(_attend(target, x).detach().numpy(), want.numpy(), atol=ATOL)


def test_factorized_state_dict_loads_both_ways():
    label, model, fresh, x = _models()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nets.AllNoiseWarning)
        assert nets.prune_model(model, tau=None, split=True) is model
    assert isinstance(model[0], FactorizedLinear)
    want = model(x).detach()
    target = fresh()
    nets.load_pruned_state_dict(target, model.state_dict())          # swaps the factorised layer in
    assert isinstance(target[0], FactorizedLinear)
    np.testing.assert_allclose(target(x).detach().numpy(), want.numpy(), atol=ATOL)
    dense = nets.load_pruned_state_dict(fresh(), model.state_dict(), dense=True)
    assert type(dense[0]) is nn.Linear
    np.testing.assert_allclose(dense(x).detach().numpy(), want.numpy(), atol=ATOL)
    plain = fresh()
    nets.load_pruned_state_dict(target, plain.state_dict())          # and back to dense
    assert type(target[0]) is nn.Linear
    np.testing.assert_allclose(target(x).detach().numpy(), plain(x).detach().numpy(), atol=1e-6)


# ---------------------------------------------------------------- remove / factorize
@pytest.mark.parametrize("make,x", [(_linear, torch.randn(3, 120)), (_conv, torch.randn(2, 8, 6, 6))])
def test_remove_and_factorize_preserve_outputs(make, x):
    layer = make()
    _prune(layer)
    want = layer(x).detach()
    split = nets.factorize(layer)
    assert isinstance(split, (FactorizedLinear, FactorizedConv2d))
    np.testing.assert_allclose(split(x).detach().numpy(), want.numpy(), atol=ATOL)
    nets.remove(layer)
    assert not nets.is_mp_pruned(layer) and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(layer(x).detach().numpy(), want.numpy(), atol=1e-6)


def test_remove_restore_gives_back_the_original_and_attention_remove():
    layer = _linear(7)
    W = layer.weight.detach().clone()
    _prune(layer)
    nets.remove(layer, restore=True)
    assert torch.equal(layer.weight.detach(), W)
    mha = _attention(8)
    x = torch.randn(2, 5, 48)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nets.AllNoiseWarning)
        _prune(mha, "in_proj_weight")
    want = _attend(mha, x).detach()
    nets.remove(mha, "in_proj_weight")
    np.testing.assert_allclose(_attend(mha, x).detach().numpy(), want.numpy(), atol=1e-6)


def test_factorize_returns_module_when_no_saving():
    layer = _linear(9)
    ev = _prune(layer, keep_fraction=0.9)        # r >= floor(0.9 * 77) = 69: 69 * 200 > 9600
    assert ev.rank_after >= 69 and ev.params_after == 80 * 120 and nets.factorize(layer) is layer


# ---------------------------------------------------------------- no silent rank 0
@pytest.mark.parametrize("n_in,n_out", [(256, 512), (300, 120)])
def test_all_noise_layer_keeps_its_weight_with_a_warning(n_in, n_out):
    layer = nn.Linear(n_in, n_out)
    _set(layer.weight, all_noise_matrix(n_out, n_in, seed=n_in))
    W = layer.weight.detach().clone()
    with pytest.warns(nets.AllNoiseWarning, match="rank 0"):
        ev = _prune(layer)
    assert ev.action == "kept" and ev.n_above_threshold == 0 and ev.rank_after == min(n_in, n_out)
    assert not nets.is_mp_pruned(layer) and torch.equal(layer.weight.detach(), W)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ev = _prune(layer, allow_rank_zero=True)                 # explicit opt-in: no warning
    assert ev.action == "parametrized" and ev.rank_after == 0 and float(layer.weight.detach().abs().max()) == 0.0


def test_all_noise_conv_and_algorithm3_defaults_warn():
    from nets.algorithms import prune_layer_algorithm3
    conv = nn.Conv2d(4, 60, 3)                                         # 60 x 36 matrix
    _set(conv.weight, all_noise_matrix(60, 36, seed=1))
    with pytest.warns(nets.AllNoiseWarning):
        assert _prune(conv).action == "kept"
    model = nn.Sequential(nn.Linear(256, 512))                          # the example
    _set(model[0].weight, all_noise_matrix(512, 256, seed=2))
    with pytest.warns(nets.AllNoiseWarning):
        ev = prune_layer_algorithm3(model, "0")
    assert ev.action == "kept" and type(model[0]) is nn.Linear


# ---------------------------------------------------------------- prune_model, events, errors
def test_prune_model_walks_eligible_layers_and_events_round_trip():
    model = nn.Sequential(nn.Linear(120, 80), nn.ReLU(), nn.Linear(80, 2))
    _set(model[0].weight, spiked_matrix(80, 120, [6.0], seed=10))
    events = _prune_model(model, tau=1.0)
    assert [(e.layer, e.tensor) for e in events] == [("0", "weight"), ("2", "weight")]
    assert events[1].action == "none" and "window" in events[1].reason     # 2 outputs: no MP fit
    for e in events:
        assert nets.PruneEvent.from_dict(e.to_dict()) == e
    with pytest.raises(InvalidArgument, match="already MP-pruned"):
        _prune(model[0])
    with pytest.raises(InvalidArgument, match="not eligible"):
        _prune_model(model, layers=["1"])


def test_eligible_layers_one_definition():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(16, 2)
            self.emb = nn.Embedding(50, 16)
            self.conv = nn.Conv2d(4, 4, 3, groups=2)
            self.fc = FactorizedLinear(16, 16, 3)
    block = Block()
    assert [n for n, _ in weight_layers(block)] == ["attn.out_proj", "conv", "fc.first", "fc.second"]
    assert [n for n, _ in weight_layers(block, factorized_as_unit=True)] == ["attn.out_proj", "conv", "fc"]
    assert eligible_weights(block) == [("attn", "in_proj_weight"), ("attn.out_proj", "weight"),
                                       ("fc.first", "weight"), ("fc.second", "weight")]
    assert ("emb", "weight") in eligible_weights(block, embeddings=True)


def test_bad_arguments_raise_invalid_argument():
    layer = _linear(11)
    for kwargs, match in [({"rule": "nope"}, "rule"), ({"tau": 0.0}, "tau"), ({"alpha": 0.5}, "alpha"),
                          ({"tw_level": 1.0}, "tw_level"), ({"keep_fraction": 1.5}, "keep_fraction")]:
        with pytest.raises(InvalidArgument, match=match):
            _prune(layer, **kwargs)
    with pytest.raises(InvalidArgument, match="groups"):
        _prune(nn.Conv2d(4, 4, 3, groups=2))
    with pytest.raises(InvalidArgument, match="not MP-pruned"):
        nets.remove(layer)
    with pytest.raises(InvalidArgument, match="not MP-pruned"):
        nets.factorize(layer)
    for bad in (float("nan"), float("inf")):
        with torch.no_grad():
            layer.weight[0, 0] = bad
        with pytest.raises(InvalidArgument, match="1 non-finite"):
            _prune(layer)


@pytest.mark.parametrize("call,match", [
    (lambda l: _prune(l, "wieght"), r"no tensor 'wieght'.*\['weight'\]"),     # names the valid ones
    (lambda l: _prune(l, "bias"), r"'bias'.*>= 2 dimensions.*\['weight'\]"),  # 1-D
    (lambda l: _prune(l, tau=1.5), r"tau must be in \(0.0, 1.0\], got 1.5"),  # statistic <= 1
    (lambda l: _prune(l, tau=float("nan")), r"tau must be a finite"),
    (lambda l: _prune(l, known_rank=-1), r"known_rank must be an integer in \[0, 80\], got -1"),
    (lambda l: _prune(l, known_rank=81), r"known_rank .* got 81"),
    (lambda l: _prune(l, noise_sigma=0.1), r"noise_sigma is used by the shrinkage rules only"),
    (lambda l: _prune_model(nn.Sequential(l), layers="0"), r"layers must be an iterable .* string '0'"),
    (lambda l: _prune_model(nn.Sequential(l), tw_level=0.0), r"tw_level must be in \(0.0, 1.0\), got 0.0"),
    (lambda l: _prune(nn.Conv1d(8, 40, 3, groups=2)), r"Conv1d with groups=2"),
])
def test_bad_input_names_parameter_value_and_range(call, match):
    # before any SVD: the weight of a bad call is untouched and nothing is registered
    layer = _linear(14)
    W = layer.weight.detach().clone()
    with pytest.raises(InvalidArgument, match=match):
        call(layer)
    assert not nets.is_mp_pruned(layer) and torch.equal(layer.weight.detach(), W)


def test_embedding_table_can_be_pruned():
    emb = nn.Embedding(200, 40)
    _set(emb.weight, spiked_matrix(200, 40, [6.0, 5.0], seed=12))
    W = emb.weight.detach().double().numpy().copy()
    ev = _prune(emb)
    idx = torch.tensor([[0, 5, 199]])
    np.testing.assert_allclose(emb(idx).detach().double().numpy()[0],
                               numpy_truncation(W, ev.rank_after)[[0, 5, 199]], atol=1e-5)
    assert ev.kind == "embedding"


def test_shrinkage_rules_are_wired_through_theory_shrinkage(monkeypatch):
    # theory.shrinkage lands from another branch; a stand-in with its signature checks the wiring:
    # new singular values s/2 for the top two, 0 below, so W' = (truncation to rank 2) / 2.
    import sys
    import types
    fake = types.ModuleType("theory.shrinkage")
    fake.RULES = ("frobenius",)

    def shrink_singular_values(s, n_rows, n_cols, rule, *, noise_sigma=None):
        assert (n_rows, n_cols, rule) == (120, 80, "frobenius")
        out = np.zeros_like(s)
        out[:2] = s[:2] / 2
        return out
    fake.shrink_singular_values = shrink_singular_values
    monkeypatch.setitem(sys.modules, "theory.shrinkage", fake)
    # `from theory import shrinkage` reads the package attribute first: once the real module has
    # been imported (it has landed), the stand-in must replace that attribute too
    import theory
    monkeypatch.setattr(theory, "shrinkage", fake, raising=False)
    assert "frobenius" in nets.available_rules()
    layer = _linear(13)
    W = layer.weight.detach().double().numpy().copy()
    ev = _prune(layer, rule="frobenius")
    assert ev.rule == "frobenius" and ev.rank_after == 2 and len(ev.new_singular_values) == 2
    np.testing.assert_allclose(layer.weight.detach().double().numpy(), numpy_truncation(W, 2) / 2, atol=1e-5)
    monkeypatch.delitem(sys.modules, "theory.shrinkage")


# ---------------------------------------------------------------- review: more state_dict forms
class _FirstSecond(nn.Module):
    """Ordinary children that happen to be called first/second (not a factorised layer)."""

    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Linear(120, 80), nn.Linear(80, 30)

    def forward(self, x):
        return self.second(torch.relu(self.first(x)))


def test_children_named_first_and_second_are_not_mistaken_for_factors():
    torch.manual_seed(15)
    model = _FirstSecond()
    x = torch.randn(3, 120)
    target = _FirstSecond()
    nets.load_pruned_state_dict(target, model.state_dict())                # plain into plain
    np.testing.assert_allclose(target(x).detach().numpy(), model(x).detach().numpy(), atol=0)
    _set(model.first.weight, spiked_matrix(80, 120, [6.0, 5.0], seed=15))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nets.AllNoiseWarning)
        _prune_model(model)
    nets.load_pruned_state_dict(target, model.state_dict())                # pruned into plain
    np.testing.assert_allclose(target(x).detach().numpy(), model(x).detach().numpy(), atol=ATOL)


def test_masked_and_mp_pruned_state_dict_round_trips_into_plain_layers():
    layer = _linear(16)
    torch_prune.l1_unstructured(layer, "weight", amount=0.3)
    _prune(layer)
    x = torch.randn(3, 120)
    want = layer(x).detach()
    for dense in (False, True):
        target = nn.Linear(120, 80)
        nets.load_pruned_state_dict(target, layer.state_dict(), dense=dense)
        np.testing.assert_allclose(target(x).detach().numpy(), want.numpy(), atol=ATOL)
        assert nets.is_mp_pruned(target) is (not dense)
    plain = nn.Linear(120, 80)                                            # and back
    nets.load_pruned_state_dict(layer, plain.state_dict())
    assert not nets.is_mp_pruned(layer) and set(layer.state_dict()) == {"weight", "bias"}
    np.testing.assert_allclose(layer(x).detach().numpy(), plain(x).detach().numpy(), atol=0)


@pytest.mark.parametrize("rule", ["frobenius", "operator"])
def test_shrinkage_rule_defaults_to_the_bema_noise_level(rule):
    # the event's sigma^2 is the level the rule used (as sims.shrinkage_pruning does), not GD's median
    from theory import shrinkage as sh
    layer = _linear(17).double()
    W = layer.weight.detach().numpy().copy()
    ev = _prune(layer, rule=rule)
    assert ev.noise_sigma == pytest.approx(np.sqrt(ev.sigma2), rel=1e-15)
    expect, rank = sh.shrink_matrix(W, rule, noise_sigma=ev.noise_sigma)
    assert ev.rank_after == rank
    np.testing.assert_allclose(layer.weight.detach().numpy(), expect, atol=1e-12)


def test_event_is_orientation_free_and_counts_by_hand():
    # W (80 x 120) and W^T (120 x 80): the same singular values, so the same tall-orientation BEMA fit
    # (N = 120 rows), threshold sqrt(lambda_+ N) and rank; counts: n m before, r (n + m) after
    a, b = nn.Linear(120, 80), nn.Linear(80, 120)
    _set(a.weight, spiked_matrix(80, 120, [6.0, 5.0, 4.0], seed=18))
    _set(b.weight, a.weight.detach().T.double().numpy())
    ea, eb = _prune(a), _prune(b)
    assert ea.rank_after == eb.rank_after and ea.sv_threshold == pytest.approx(eb.sv_threshold, rel=1e-12)
    assert ea.sv_threshold ** 2 == pytest.approx(ea.lambda_plus * 120, rel=1e-12)
    assert ea.lambda_plus_in_features == pytest.approx(ea.lambda_plus, rel=1e-12)       # in = 120 = N
    assert eb.lambda_plus_in_features == pytest.approx(eb.lambda_plus * 120 / 80, rel=1e-12)
    r = ea.rank_after
    assert (ea.params_before, ea.params_after, eb.params_after) == (9600, r * 200, r * 200)
    s = np.linalg.svd(a.parametrizations.weight.original.detach().double().numpy(), compute_uv=False)
    np.testing.assert_allclose(ea.kept_singular_values, s[:r], rtol=1e-6)
    np.testing.assert_allclose(ea.removed_singular_values, s[r:], rtol=1e-5, atol=1e-6)
    mha = _attention(19)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nets.AllNoiseWarning)
        q, k, v = _prune(mha, "in_proj_weight")
    assert all(e.params_before == 48 * 48 and e.shape == (48, 48) for e in (q, k, v))
    assert q.params_after == q.rank_after * 96 and k.params_after == 48 * 48    # k kept: all noise
