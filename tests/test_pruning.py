"""Tests for nets.algorithms / nets.layers / nets.schedules (Algorithm 1, Algorithm 3, paper 001).

Expected values come from independent computations: numpy's float64 SVD (not the module's torch
SVD), hand-evaluated schedule formulas (fractions), the inequality r (n + m) < n m written out,
and planted spikes far above the BBP threshold."""
from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from nets import schedules
from nets.layers import FactorizedConv2d, FactorizedLinear, count_parameters
from nets.algorithms import (
    MPPruningCallback,
    algorithm1_round,
    algorithm3,
    kept_small_count,
    layer_spectrum,
    paper001_round,
    prune_layer,
    prune_layer_algorithm3,
    prunable_layers,
    recombine,
    recombine_if_better,
    split_layer,
    truncate_layer,
)
from tests.planted import spiked_matrix

ALWAYS = 1.0  # the fit statistic is a sup of cdf differences, <= 1: tau = 1 accepts every fit
NEVER = 1e-12  # a sup distance between an ecdf and a continuous cdf is never this small


def numpy_truncation(matrix: np.ndarray, rank: int) -> np.ndarray:
    U, s, Vt = np.linalg.svd(matrix.astype(np.float64), full_matrices=False)
    return (U[:, :rank] * s[:rank]) @ Vt[:rank]


# ---------------------------------------------------------------- split / truncate / recombine
def test_split_linear_equals_truncated_product():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(30, 40))
    W = model[0].weight.detach().double().numpy().copy()
    b = model[0].bias.detach().double().numpy().copy()
    x = torch.randn(7, 30)
    split_layer(model, "0", 5)
    assert isinstance(model[0], FactorizedLinear) and model[0].rank == 5
    expected = x.double().numpy() @ numpy_truncation(W, 5).T + b
    # float32 forward through two factors: relative rounding ~1e-6 of |W x| ~ O(1)
    np.testing.assert_allclose(model(x).detach().numpy(), expected, atol=2e-5)
    assert model[0].first.bias is None and model[0].second.bias is not None


@pytest.mark.parametrize("stride,padding,dilation", [(1, 0, 1), (2, 1, 1), (1, 2, 2)])
def test_split_conv_equals_truncated_kernel(stride, padding, dilation):
    torch.manual_seed(1)
    conv = nn.Conv2d(3, 6, (3, 2), stride=stride, padding=padding, dilation=dilation)
    model = nn.Sequential(conv)
    W = conv.weight.detach().double()
    W_mat = W.reshape(6, -1).numpy()           # m x (n p q), Section 3.2.2
    x = torch.randn(2, 3, 9, 8)
    split_layer(model, "0", 4)
    assert isinstance(model[0], FactorizedConv2d)
    assert tuple(model[0].second.weight.shape) == (6, 4, 1, 1)
    kernel = torch.from_numpy(numpy_truncation(W_mat, 4)).reshape(W.shape)
    expected = F.conv2d(x.double(), kernel, conv.bias.detach().double(), stride, padding, dilation)
    np.testing.assert_allclose(model(x).detach().double().numpy(), expected.numpy(), atol=2e-5)


def test_recombine_round_trip_linear_and_conv():
    torch.manual_seed(2)
    for layer in (nn.Linear(12, 9), nn.Conv2d(2, 5, 3, padding=1)):
        model = nn.Sequential(layer)
        x = torch.randn(3, 12) if isinstance(layer, nn.Linear) else torch.randn(3, 2, 6, 6)
        before = model(x).detach()
        full = min(layer.weight.reshape(layer.weight.shape[0], -1).shape)
        split_layer(model, "0", full)            # full rank: the product is W itself
        recombine(model, "0")
        assert type(model[0]) is type(layer)
        np.testing.assert_allclose(model(x).detach().numpy(), before.numpy(), atol=2e-5)
        # rank-2 split then recombine: dense weight equals the rank-2 truncation
        W = model[0].weight.detach().double().reshape(model[0].weight.shape[0], -1).numpy()
        split_layer(model, "0", 2)
        recombine(model, "0")
        got = model[0].weight.detach().double().reshape(W.shape).numpy()
        np.testing.assert_allclose(got, numpy_truncation(W, 2), atol=1e-5)


def test_truncate_layer_in_place_keeps_parameter_object():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(20, 15))
    param = model[0].weight
    W = param.detach().double().numpy().copy()
    truncate_layer(model, "0", 3)
    assert model[0].weight is param            # optimizer state stays valid (step 14)
    np.testing.assert_allclose(param.detach().double().numpy(), numpy_truncation(W, 3), atol=1e-6)


# ---------------------------------------------------------------- parameter counting
@settings(max_examples=25, deadline=None)
@given(n_out=st.integers(10, 40), n_in=st.integers(10, 40), keep=st.floats(0.0, 1.0),
       seed=st.integers(0, 10_000))
def test_pruning_never_increases_parameters_and_splits_only_when_saving(n_out, n_in, keep, seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(n_in, n_out))
    before = count_parameters(model)
    event = prune_layer(model, "0", keep, tau=ALWAYS)
    after = count_parameters(model)
    assert after <= before
    r = event.rank_after
    saves = r * (n_in + n_out) < n_in * n_out       # Algorithm 1 step 11 written out
    assert (event.action == "split") == saves
    if saves:
        assert after == r * (n_in + n_out) + n_out   # factors + bias on the second factor
    else:
        assert event.action == "dense" and after == before


def test_kept_small_count_floors_with_float_guard():
    assert kept_small_count(100, 0.29) == 29         # 0.29 * 100 = 28.999999999999996 in floats
    assert kept_small_count(10, 0.55) == 5
    assert kept_small_count(7, 0.0) == 0 and kept_small_count(7, 1.0) == 7
    with pytest.raises(ValueError, match="keep fraction"):
        kept_small_count(5, 1.5)


# ---------------------------------------------------------------- schedules
@pytest.mark.parametrize("fn,horizon,epochs", [
    (schedules.schedule_3_5, 30, [7, 14, 21, 28, 35]),
    (schedules.schedule_3_6, 60, [7, 14, 63, 70]),
    (schedules.schedule_3_8, 20, [13, 26]),
    (schedules.schedule_3_9, 60, [17, 34, 51, 68]),
    (schedules.schedule_3_11, 200, [40, 80, 200, 240]),
    (schedules.schedule_300_epochs, 1000, [13, 299]),
])
def test_schedules_match_paper_formulas(fn, horizon, epochs):
    for e in epochs:
        exact = max(Fraction(0), 1 - Fraction(e, horizon))
        assert fn(e) == pytest.approx(float(exact), abs=1e-15)
    assert fn(0) == 1.0


def test_schedule_named_values():
    # (3.5) at the split epochs of Example 3.1 (l = 7): 23/30, 16/30, 9/30, 2/30, then 0.
    assert [schedules.schedule_3_5(e) for e in (7, 14, 21, 28, 35)] == pytest.approx(
        [23 / 30, 16 / 30, 9 / 30, 2 / 30, 0.0])
    assert schedules.SCHEDULES["3.8"](13) == pytest.approx(0.35)
    assert schedules.linear_schedule(60)(14) == schedules.schedule_3_6(14)
    with pytest.raises(ValueError):
        schedules.resolve_schedule("3.7")


# ---------------------------------------------------------------- MP behaviour
def test_pure_noise_layer_loses_all_small_singular_values():
    # W iid N(0, 1/N): no spikes. BEMA's threshold carries the Tracy-Widom (1 - beta = 0.9)
    # quantile, so P(s_1 above it) ~ 0.1 and P(s_2 above it) is far smaller (s_2 sits below s_1);
    # hence at most 1 survivor is the mathematically expected outcome.  Measured for issue 23 over 6000
    # independent 300 x 150 noise matrices (nets.spectrum.matrix_spectrum): n_above = 0 in 5523, 1 in
    # 477, >= 2 in none, so P(false alarm) < 5e-4 (95% upper bound); <= 1e-4 is not yet shown (it
    # needs the TW_1 law of the second eigenvalue, or ~30,000 draws).
    W = spiked_matrix(300, 150, [], seed=11)
    res = algorithm3(W, remove_fraction=1.0)
    assert res.spectrum.n_above <= 1
    assert res.rank == res.spectrum.n_above
    # sigma^2 recovered: entries have variance 1/300. BEMA's least-squares estimate fluctuates by
    # O(1/n) relative (eigenvalue rigidity): relative sd 0.0071 over the same 6000 matrices (mean offset
    # < 1e-4), so 5% is 7 sd: false alarm ~1e-12.
    assert res.spectrum.fit.sigma2 == pytest.approx(1 / 300, rel=0.05)


def test_planted_spikes_are_exactly_the_kept_singular_values():
    thetas = [6.0, 4.0, 3.0]                    # BBP threshold c^(1/4) = 0.84 for c = 1/2
    W = spiked_matrix(150, 300, thetas, seed=5)
    model = nn.Sequential(nn.Linear(300, 150, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(W))
    event = prune_layer(model, "0", keep_fraction=0.0, tau=0.7)
    assert event.accepted and event.n_above_threshold == 3 and event.rank_after == 3
    assert event.action == "split"           # 3 * 450 < 45000
    # the kept part is the rank-3 truncation of W (numpy SVD)
    np.testing.assert_allclose(model[0].product_matrix().double().numpy(), numpy_truncation(W, 3),
                               atol=1e-5)


def test_mp_fit_rejection_leaves_layer_untouched():
    W = spiked_matrix(100, 80, [5.0], seed=3)
    model = nn.Sequential(nn.Linear(80, 100))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(W))
    before = model[0].weight.detach().clone()
    event = prune_layer(model, "0", keep_fraction=0.0, tau=NEVER)   # nothing can pass tau < 0
    assert not event.accepted and event.action == "none"
    assert torch.equal(model[0].weight.detach(), before)


# ---------------------------------------------------------------- Algorithm 1 / paper 001 flow
def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(60, 80), nn.ReLU(), nn.Linear(80, 70), nn.ReLU(), nn.Linear(70, 10))


def test_callback_runs_every_l_epochs_and_logs_events():
    model = _mlp()
    cb = MPPruningCallback(every=3, schedule=lambda e: max(0.0, 1 - e / 6), tau=ALWAYS)
    assert cb.on_epoch_end(model, 1) == [] and cb.on_epoch_end(model, 2) == []
    events = cb.on_epoch_end(model, 3)
    assert [e.layer for e in events] == ["0", "2", "4"]
    keys = {"layer", "shape", "lambda_plus", "fit_statistic", "accepted", "n_removed", "rank_after",
            "params_before", "params_after", "epoch", "action", "keep_fraction"}
    assert keys <= {f.name for f in dataclasses.fields(events[0])}
    assert all(e.keep_fraction == 0.5 for e in events)
    total = count_parameters(model)
    events6 = cb.on_epoch_end(model, 6)          # f = 0: all small singular values go
    assert count_parameters(model) <= total
    assert all(e.epoch == 6 for e in events6)
    assert cb.parameters_changed == any(e.action in ("split", "recombined") for e in events6)


def test_recombine_rule_requires_fit_and_saving():
    model = _mlp(1)
    split_layer(model, "2", 20)
    ev = recombine_if_better(model, "2", keep_fraction=1.0, tau=ALWAYS)
    # f = 1 keeps every small singular value, the 50 exact zeros of the rank-20 product included
    # (they lie below the threshold): hypothetical rank 70 = min(80, 70), so 70 (80 + 70) >= 80 * 70,
    # no split, hypothetical count 80 * 70 > current 20 (80 + 70): no saving, no recombination.
    assert ev.action == "none" and isinstance(model[2], FactorizedLinear)
    assert ev.hypothetical_rank == 70 and ev.hypothetical_weight_params == 80 * 70
    assert ev.current_weight_params == 20 * (80 + 70)
    ev = recombine_if_better(model, "2", keep_fraction=0.0, tau=NEVER)
    assert ev.action == "none"                # fit rejected
    with pytest.raises(ValueError, match="not factorised"):
        recombine_if_better(model, "0", 0.5, ALWAYS)


def test_algorithm1_round_recombines_then_resplits_lower_rank():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(100, 150), nn.ReLU(), nn.Linear(150, 10))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(spiked_matrix(150, 100, [6.0, 5.0, 4.0], seed=4)))
    split_layer(model, "0", 50)                  # 50 * 250 = 12500 < 15000: a legal split state
    ev = algorithm1_round(model, keep_fraction=0.0, tau=ALWAYS)
    rec = ev[0]
    assert (rec.layer, rec.step) == ("0", "recombine")
    # steps 21-27: recombine iff the fit is accepted and re-pruning lowers r (n + m)
    assert rec.current_weight_params == 12500
    should = rec.accepted and rec.hypothetical_weight_params < 12500
    assert (rec.action == "recombined") == should
    # The product has 50 exact zeros among 100 singular values, and BEMA's window (ranks 10..90)
    # contains the zero eigenvalues: there F_X(0) = 1/2 while the MP cdf (ratio 2/3 < 1, no atom)
    # is 0, so Algorithm 4's statistic is at least the zero fraction 1/2 (exact lower bound); it is
    # a sup of cdf differences, so at most 1 and tau = 1 accepts. With f = 0 the hypothetical rank
    # is the count above the threshold, < 50.
    assert 0.5 <= rec.fit_statistic <= 1.0
    assert should
    again = [e for e in ev if e.layer == "0" and e.step == "prune"]
    assert len(again) == 1 and again[0].rank_after == rec.hypothetical_rank < 50
    assert model[0].rank == rec.hypothetical_rank


def test_paper001_round_splits_factors_again():
    model = _mlp(3)
    before = count_parameters(model)
    paper001_round(model, remove_fraction=0.45, tau=ALWAYS)
    mid = count_parameters(model)
    names_mid = prunable_layers(model, descend_into_factors=True)
    paper001_round(model, remove_fraction=0.45, tau=ALWAYS)
    assert count_parameters(model) <= mid <= before
    assert any(n.endswith(".first") or n.endswith(".second") for n in names_mid)


def test_algorithm3_layer_and_saving():
    W = spiked_matrix(100, 150, [5.0, 4.0], seed=8)
    res = algorithm3(W)
    assert res.rank == 2 and res.weights_saved == 100 * 150 - 2 * 250
    model = nn.Sequential(nn.Linear(150, 100))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(W))
    ev = prune_layer_algorithm3(model, "0")
    assert ev.action == "split" and ev.params_after == 2 * 250 + 100


# ---------------------------------------------------------------- errors
def test_errors_are_clear():
    model = nn.Sequential(nn.Linear(10, 12))
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        prune_layer(model, "0", 0.5, ALWAYS)
    with pytest.raises(ValueError, match="non-finite"):
        split_layer(model, "0", 2)
    with pytest.raises(ValueError, match="2-D"):
        layer_spectrum(torch.randn(3, 4, 5))
    good = nn.Sequential(nn.Linear(10, 12))
    with pytest.raises(ValueError, match="rank"):
        split_layer(good, "0", 11)
    with pytest.raises(ValueError, match="no submodule"):
        prune_layer(good, "7", 0.5, ALWAYS)
    with pytest.raises(ValueError, match="groups"):
        split_layer(nn.Sequential(nn.Conv2d(4, 4, 3, groups=2)), "0", 1)
    with pytest.raises(ValueError, match="does not save"):
        split_layer(good, "0", 8, require_saving=True)
    with pytest.raises(ValueError, match="split frequency"):
        MPPruningCallback(every=0)


def test_rank_sweep_rows_follow_truncation_norms():
    from sims.posttraining_truncation import rank_sweep
    W = spiked_matrix(80, 120, [5.0, 4.0], seed=9)
    model = nn.Sequential(nn.Linear(120, 80))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(W))
    out = rank_sweep(model, "0", [1, 5, 30], evaluate=lambda m: float(m[0].weight.detach().double().norm()))
    s = np.linalg.svd(W.astype(np.float32).astype(np.float64), compute_uv=False)
    assert out["mp_rank"] == 2
    assert [r["rank"] for r in out["rows"]] == [1, 2, 5, 30, 80]
    for r in out["rows"]:   # ||W_k||_F = sqrt(sum_{i <= k} s_i^2)
        assert r["accuracy"] == pytest.approx(np.sqrt((s[:r["rank"]] ** 2).sum()), rel=1e-5)
    assert torch.equal(model[0].weight.detach(), torch.from_numpy(W).float())   # original untouched


def test_unfittable_layers_are_left_alone():
    # a 2-class output layer: BEMA's window alpha n <= k <= (1 - alpha) n holds < 3 eigenvalues
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(50, 60), nn.ReLU(), nn.Linear(60, 2))
    events = algorithm1_round(model, keep_fraction=0.5, tau=ALWAYS)
    last = [e for e in events if e.layer == "2"][0]
    assert last.action == "none" and last.accepted is False and "window" in last.reason
    # a factorised layer whose rank-r product has zeros filling the window cannot be refitted
    model = nn.Sequential(nn.Linear(50, 60))
    split_layer(model, "0", 3)
    ev = recombine_if_better(model, "0", 0.5, ALWAYS)
    assert ev.action == "none" and "exactly 0" in ev.reason


def test_prune_layer_conv_forward_equals_truncated_kernel():
    torch.manual_seed(6)
    conv = nn.Conv2d(3, 40, 3, padding=1)
    model = nn.Sequential(conv)
    W = conv.weight.detach().double().clone()
    x = torch.randn(2, 3, 7, 7)
    ev = prune_layer(model, "0", keep_fraction=0.3, tau=ALWAYS, alpha=0.1)
    r = ev.rank_after
    assert ev.kind == "conv" and ev.shape == (40, 27)
    assert r == ev.n_above_threshold + math.floor(0.3 * ev.n_small)
    kernel = torch.from_numpy(numpy_truncation(W.reshape(40, 27).numpy(), r)).reshape(W.shape)
    expected = F.conv2d(x.double(), kernel, conv.bias.detach().double(), padding=1)
    np.testing.assert_allclose(model(x).detach().double().numpy(), expected.numpy(), atol=2e-5)
    assert (ev.action == "split") == (r * (40 + 27) < 40 * 27)


def test_nested_split_product_and_recombine():
    # paper 001 splits factors again: the outer module's matrix is still the full product
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(30, 40))
    x = torch.randn(4, 30)
    split_layer(model, "0", 12)
    split_layer(model, "0.second", 12)           # full rank of a 40 x 12 factor: exact
    out = model(x).detach()
    from nets.layers import weight_matrix
    W = weight_matrix(model[0])
    np.testing.assert_allclose((x @ W.T + model[0].bias.detach()).numpy(), out.numpy(), atol=2e-5)
    recombine(model, "0")
    np.testing.assert_allclose(model(x).detach().numpy(), out.numpy(), atol=2e-5)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 1000), horizon=st.integers(2, 6))
def test_algorithm1_rounds_never_increase_model_parameters(seed, horizon):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(40, 60), nn.ReLU(), nn.Linear(60, 50), nn.ReLU(), nn.Linear(50, 10))
    counts = [count_parameters(model)]
    for epoch in range(1, horizon + 2):
        with torch.no_grad():           # stand-in for training between rounds
            for p in model.parameters():
                p.add_(0.01 * torch.randn_like(p))
        algorithm1_round(model, max(0.0, 1 - epoch / horizon), tau=ALWAYS, recombine_first=epoch > 1)
        counts.append(count_parameters(model))
    assert all(b <= a for a, b in zip(counts, counts[1:])), counts


def test_paper001_callback_defaults():
    from nets.algorithms import paper001_callback
    cb = paper001_callback()
    model = _mlp(5)
    assert cb.on_epoch_end(model, 2) == []
    events = cb.on_epoch_end(model, 3)
    assert events and all(e.variant == "paper001" and e.keep_fraction == pytest.approx(0.55)
                          for e in events if e.keep_fraction is not None)
    assert all(e.action in ("split", "none") for e in events)    # never a dense W' (step 4)


def test_posttraining_cli_validates_before_training(capsys):
    from sims import posttraining_truncation as ptr
    for argv, text in ((["--nets", "0"], "nets must be an integer in [1, 100], got 0"),
                       (["--epochs", "-1"], "epochs must be an integer in [1, 1000], got -1"),
                       (["--data-dir", "/nonexistent/dir"], "data_dir must be an existing directory"),
                       (["--final-activation", "tanh"], "argument --final-activation")):
        with pytest.raises(SystemExit) as info:
            ptr.main(argv)
        assert info.value.code == 2
        assert text in capsys.readouterr().err.strip().splitlines()[-1]


def test_posttraining_verdict_rule_on_synthetic_sweeps():
    """Algorithm 3's verdict: holds when the MP rank keeps accuracy within 1 point of unpruned."""
    from sims import posttraining_truncation as ptr

    def data(acc_mp, dataset="mnist"):
        rows = [dict(rank=5, accuracy=acc_mp, is_mp_rank=True, weights_split=1, weights_dense=1),
                dict(rank=784, accuracy=0.98, is_mp_rank=False, weights_split=1, weights_dense=1)]
        return dict(rows=rows, full_rank_accuracy=0.98, dataset=dataset, layer="layers.fc1",
                    shape=[1000, 784], n_train=1, n_test=1, mp_rank=5, sv_threshold=1.0,
                    lambda_plus=1.0, sigma2=1.0, fit_statistic=0.0, accepted=True,
                    train_seconds=0.0, dx_at_mp_rank={}, train_metrics=[])

    assert {v.verdict for v in ptr._net_rows(data(0.975), 0, "relu")[3]} == {"holds"}
    vs = ptr._net_rows(data(0.95, "fashion_mnist"), 0, "relu")[3]
    assert [v.claim for v in vs] == ["000:algorithm:3", "001:algorithm:4.2"]
    assert all(v.verdict == "fails" and "MNIST" in v.setting for v in vs)
