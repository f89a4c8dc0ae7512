"""Algorithm 1 and Algorithm 3 with a shrinkage rule (issue 12): the rule reaches nets.prune.mp_prune,
the decision is the rule's (checked against theory.shrinkage with the BEMA noise level computed here),
a bad rule or noise level is an InvalidArgument naming it, and the configs / CLI pass the rule on."""
import math

import numpy as np
import pytest
import torch
from torch import nn

import nets.algorithms as pruning
from core.validate import InvalidArgument
from nets.configs import get_config, with_rule
from nets.layers import weight_matrix
from nets.spectrum import bema_fit_singular_values
from tests.planted import spiked_matrix
from theory import shrinkage as sh


def _model(seed=0, thetas=(6.0, 4.0, 3.0)):
    torch.manual_seed(seed)         # the biases
    model = nn.Sequential(nn.Linear(80, 120), nn.ReLU(), nn.Linear(120, 60))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(spiked_matrix(120, 80, thetas, seed)))
        model[2].weight.copy_(torch.from_numpy(spiked_matrix(60, 120, thetas, seed + 1)))
    return model


def _bema_sigma(W):
    s = np.linalg.svd(W, compute_uv=False)
    return math.sqrt(bema_fit_singular_values(s, *W.shape, alpha=0.1, beta=0.1).sigma2)


def _singular_values(layer):
    return np.linalg.svd(weight_matrix(layer).detach().double().numpy(), compute_uv=False)


@pytest.mark.parametrize("bad", [
    lambda m: pruning.MPPruningCallback(rule="soft"),
    lambda m: pruning.algorithm1_round(m, 0.5, 0.7, rule="soft"),
    lambda m: pruning.paper001_round(m, rule="soft"),
    lambda m: pruning.prune_layer(m, "0", 0.5, 0.7, rule="soft"),
    lambda m: pruning.prune_layer_algorithm3(m, "0", rule="soft"),
    lambda m: pruning.algorithm3(m[0].weight.detach(), rule="soft"),
])
def test_unknown_rule_is_refused_naming_rule(bad):
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(InvalidArgument, match="rule"):
        bad(model)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize("rule, noise", [("frobenius", "median"), ("frobenius", -1.0),
                                         ("frobenius", float("nan")), ("mp", 0.1)])
def test_bad_noise_level_is_refused_naming_noise_sigma(rule, noise):
    # "mp" takes its noise level from BEMA: a noise_sigma with it is refused, not ignored
    with pytest.raises(InvalidArgument, match="noise_sigma"):
        pruning.MPPruningCallback(rule=rule, noise_sigma=noise)
    with pytest.raises(InvalidArgument, match="noise_sigma"):
        pruning.prune_layer_algorithm3(_model(), "0", rule=rule, noise_sigma=noise)
    with pytest.raises(InvalidArgument, match="noise_sigma"):
        pruning.algorithm3(_model()[0].weight.detach(), rule=rule, noise_sigma=noise)


def test_callback_passes_rule_and_bema_noise_to_the_api(monkeypatch):
    calls = []
    real = pruning.mp_decide

    def spy(*args, **kwargs):
        calls.append((kwargs["rule"], kwargs["noise_sigma"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(pruning, "mp_decide", spy)
    cb = pruning.MPPruningCallback(every=1, schedule=lambda e: 0.0, rule="gd_threshold")
    events = cb.on_epoch_end(_model(), 1)
    assert calls == [("gd_threshold", None)] * 2      # None: the layer's BEMA noise level
    assert [ev.rule for ev in events] == ["gd_threshold"] * 2
    assert cb.state_dict()["history"][0]["rule"] == "gd_threshold"


def test_default_rule_is_the_papers():
    model_a, model_b = _model(), _model()
    ev_a = pruning.algorithm1_round(model_a, 0.3, 0.7)
    ev_b = pruning.algorithm1_round(model_b, 0.3, 0.7, rule="mp")
    assert [e.rank_after for e in ev_a] == [e.rank_after for e in ev_b]
    assert all(e.rule == "mp" for e in ev_a)
    for a, b in zip(model_a.state_dict().values(), model_b.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("rule", ["gd_threshold", "frobenius", "operator"])
def test_prune_layer_with_f_zero_is_the_rule(rule):
    # f = 0: the layer's new singular values are theory.shrinkage's at the BEMA noise level
    model = _model()
    W = model[0].weight.detach().double().numpy().copy()
    s = np.linalg.svd(W, compute_uv=False)
    expect = sh.shrink_singular_values(s, 120, 80, rule, noise_sigma=_bema_sigma(W))
    k = int(np.count_nonzero(expect))
    assert 1 <= k < 10            # three planted spikes: the rule keeps a few
    ev = pruning.prune_layer(model, "0", 0.0, 0.7, rule=rule)
    assert ev.rule == rule and ev.rank_after == k and ev.action == "split"
    np.testing.assert_allclose(_singular_values(model[0])[:k], expect[:k], rtol=1e-5, atol=1e-6)
    assert ev.params_after == k * (120 + 80) + 120


def test_keep_fraction_keeps_part_of_the_zeroed_values_unchanged():
    # step 9 with a rule: of the n_zero singular values the rule zeroes, floor(f n_zero) largest
    # are kept as they are; the rule's own survivors take its values
    model = _model()
    W = model[0].weight.detach().double().numpy().copy()
    s = np.linalg.svd(W, compute_uv=False)
    shrunk = sh.shrink_singular_values(s, 120, 80, "frobenius", noise_sigma=_bema_sigma(W))
    k = int(np.count_nonzero(shrunk))
    f = 0.25
    extra = math.floor(f * (80 - k))
    ev = pruning.prune_layer(model, "0", f, 0.7, rule="frobenius")
    assert ev.rank_after == k + extra
    expect = np.sort(np.concatenate([shrunk[:k], s[k:k + extra]]))[::-1]
    np.testing.assert_allclose(_singular_values(model[0])[:k + extra], expect, rtol=1e-5, atol=1e-6)


def test_recombine_uses_the_rules_rank():
    # a rank-10 factorised layer whose three planted spikes are strong: the hypothetical rank of
    # steps 21-27 at f = 0 is what the rule keeps of the recombined matrix
    model = _model()
    pruning.split_layer(model, "0", 10)
    W = weight_matrix(model[0]).detach().double().numpy()
    s = np.linalg.svd(W, compute_uv=False)
    s[10:] = 0.0
    sigma = _bema_sigma_from(s, W.shape)
    for rule in ("gd_threshold", "frobenius"):
        ev = pruning.recombine_if_better(model, "0", 0.0, 1.0, rule=rule)
        want = int(np.count_nonzero(sh.shrink_singular_values(s, *W.shape, rule, noise_sigma=sigma)))
        assert ev.rule == rule and ev.hypothetical_rank == want


def _bema_sigma_from(s, shape):
    return math.sqrt(bema_fit_singular_values(s, *shape, alpha=0.1, beta=0.1).sigma2)


def test_algorithm3_with_a_rule_shrinks_and_factors_agree():
    W = torch.from_numpy(spiked_matrix(120, 80, (6.0, 4.0, 3.0), 3))
    res = pruning.algorithm3(W, rule="operator")
    s = np.linalg.svd(W.numpy(), compute_uv=False)
    expect = sh.shrink_singular_values(s, 120, 80, "operator", noise_sigma=_bema_sigma(W.numpy()))
    k = int(np.count_nonzero(expect))
    assert res.rank == k and res.rule == "operator"
    np.testing.assert_allclose(res.new_singular_values, expect[:k], rtol=1e-10)
    np.testing.assert_allclose(np.linalg.svd(res.truncated.numpy(), compute_uv=False)[:k], expect[:k], rtol=1e-8)
    torch.testing.assert_close(res.second @ res.first, res.truncated)


def test_prune_layer_algorithm3_takes_the_rule():
    model = _model()
    ev = pruning.prune_layer_algorithm3(model, "0", rule="gd_threshold")
    W = _model()[0].weight.detach().double().numpy()
    s = np.linalg.svd(W, compute_uv=False)
    want = int(np.count_nonzero(sh.shrink_singular_values(s, 120, 80, "gd_threshold",
                                                          noise_sigma=_bema_sigma(W))))
    assert ev.rule == "gd_threshold" and ev.rank_after == want


def test_config_rule_reaches_the_callback():
    from nets.train import make_callbacks
    cfg = with_rule(get_config("ex3.2a", "cpu"), "operator")
    assert cfg.pruning["rule"] == "operator"
    (cb,) = make_callbacks(cfg)
    assert cb.rule == "operator" and cb.noise_sigma is None
    base = get_config("ex3.2a", "cpu")
    assert with_rule(base, "mp").to_dict() == base.to_dict()       # "mp": config (and checkpoints) unchanged
    (cb,) = make_callbacks(base)
    assert cb.rule == "mp"
    with pytest.raises(InvalidArgument, match="rule"):
        with_rule(get_config("e4-classification", "cpu"), "frobenius")
    bad = with_rule(base, "frobenius")
    bad.pruning["rule"] = "soft"
    with pytest.raises(InvalidArgument, match="rule"):
        make_callbacks(bad)


def test_train_cli_rule(capsys):
    from nets.train import main
    assert main(["ex3.2a", "--scale", "cpu", "--rule", "gd_threshold", "--dry-run"]) == 0
    assert "'rule': 'gd_threshold'" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["ex3.2a", "--scale", "cpu", "--rule", "soft", "--dry-run"])
    assert exc.value.code == 2
    assert "--rule" in capsys.readouterr().err
