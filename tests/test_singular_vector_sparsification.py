"""Paper 003's rule (nets.singular_vector_sparsification) on planted low-rank-plus-noise layers.

The one statistical assertion (the planted spikes lie above s+) has a false-alarm probability far
below 1e-4: each spike is placed so that its singular value's limit (BGN, theory.spiked) exceeds the
bulk edge, hence s+ (beta = 0.8 puts s+ below the edge), by more than 1.0, while an outlier's
fluctuation is Gaussian with standard deviation O(N^{-1/2}) (~0.05 here) and BEMA's edge estimate
varies by O(N^{-2/3}): the gap is > 15 standard deviations, a Gaussian tail < 1e-40. Everything else
is exact given the decision (which vectors, which entries, which counts), so it holds under any
``--seed-shift``.
"""
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

import nets
import nets.singular_vector_sparsification as svs
from core.validate import InvalidArgument
from tests.planted import spiked_matrix
from theory import shrinkage, spiked

N_OUT, N_IN = 300, 150
C = N_IN / N_OUT
# spikes whose singular-value limits sit > 1.0 above the bulk edge 1 + sqrt(c) (unit noise scale)
THETAS = (4.0, 3.5, 3.0)


def planted_linear(seed, n_out=N_OUT, n_in=N_IN, thetas=THETAS):
    w = spiked_matrix(n_out, n_in, thetas, seed)
    layer = nn.Linear(n_in, n_out).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
        layer.bias.copy_(torch.linspace(-1, 1, n_out, dtype=torch.float64))
    return layer


def test_planted_spikes_sit_well_above_the_edge():
    edge = 1 + math.sqrt(C)
    for theta in THETAS:
        assert spiked.singular_value_limit(theta, C) > edge + 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_sparsified_vectors_are_exactly_those_below_s_plus(seed):
    layer = planted_linear(seed)
    settings = svs.SparsificationSettings(global_divisor=math.inf)     # step 4 only
    U, s, Vh = torch.linalg.svd(layer.weight.detach(), full_matrices=False)
    d = svs.decide(layer, settings=settings, vector_threshold=5.0)
    # the planted spikes are above s+ (false alarm < 1e-40, module docstring)
    assert (d.singular_values[: len(THETAS)] > d.s_plus).all()
    assert d.action == "recomposed" and d.inner_dim == N_IN             # keep_ratio 1: all kept
    below = d.singular_values < d.s_plus
    np.testing.assert_array_equal(d.below, below)
    assert d.n_below == int(below.sum()) and d.share_below == pytest.approx(below.mean())
    # the singular vectors are unique up to sign: compare magnitudes
    for i in range(N_IN):
        if not below[i]:
            assert d.vector_thresholds[i] == 0.0 and d.zeroed_per_vector[i] == 0
            torch.testing.assert_close(d.left[:, i].abs(), U[:, i].abs())
            torch.testing.assert_close(d.right[i].abs(), Vh[i].abs())
            continue
        t = 5.0 * (1 - d.singular_values[i] / d.s_plus) ** 30          # S:220
        assert d.vector_thresholds[i] == pytest.approx(t)
        small_u, small_v = U[:, i].abs() < t, Vh[i].abs() < t
        assert torch.equal(d.left[:, i] == 0, small_u)
        assert torch.equal(d.right[i] == 0, small_v)
        assert d.zeroed_per_vector[i] == int(small_u.sum() + small_v.sum())
    assert d.zeroed_entries > 0                                         # the threshold did act


def test_the_global_threshold_acts_on_every_kept_vector():
    layer = planted_linear(3)
    d = svs.decide(layer, vector_threshold=7.5, settings=svs.SparsificationSettings(global_divisor=750.0))
    U, _, _ = torch.linalg.svd(layer.weight.detach(), full_matrices=False)
    top = U[:, 0]                                                       # a spike: only the global cut
    assert torch.equal(d.left[:, 0] == 0, top.abs() < 7.5 / 750)


def test_zero_threshold_changes_nothing_but_the_rounding():
    layer = planted_linear(4)
    before = layer.weight.detach().clone()
    d = svs.decide(layer, vector_threshold=0.0)
    assert d.zeroed_entries == 0
    svs.apply(layer, d)
    torch.testing.assert_close(layer.weight.detach(), before)


@pytest.mark.parametrize("keep_ratio", [0.0, 0.5, 1.0])
def test_parameters_fall_as_the_rule_says(keep_ratio):
    layer = planted_linear(5)
    d = svs.decide(layer, vector_threshold=3.0,
                   settings=svs.SparsificationSettings(keep_ratio=keep_ratio, min_dim=10))
    n_above = N_IN - d.n_below
    inner = min(N_IN, max(int(d.n_below * keep_ratio) + n_above, 10))   # S:204-208
    assert d.inner_dim == inner
    new = svs.apply(layer, d)
    if inner * (N_OUT + N_IN) < N_OUT * N_IN:                          # S:246
        assert d.action == "split" and isinstance(new, nets.layers.FactorizedLinear)
        assert new.rank == inner
        assert d.stored_after == inner * (N_OUT + N_IN)
        nonzero = int(torch.count_nonzero(new.first.weight) + torch.count_nonzero(new.second.weight))
        assert nonzero == d.nonzero_after == inner * (N_OUT + N_IN) - d.zeroed_entries
        assert svs.stored_parameters(new) == inner * (N_OUT + N_IN) + N_OUT       # + bias
    else:
        assert d.action == "recomposed" and new is layer
        assert d.stored_after == N_OUT * N_IN
        assert svs.stored_parameters(new) == N_OUT * N_IN + N_OUT


@pytest.mark.parametrize("keep_ratio", [0.0, 1.0])
def test_forward_matches_the_recomposed_matrix(keep_ratio):
    layer = planted_linear(6)
    d = svs.decide(layer, vector_threshold=4.0, settings=svs.SparsificationSettings(keep_ratio=keep_ratio))
    w_new, bias = d.matrix(), layer.bias.detach().clone()
    new = svs.apply(layer, d)
    x = torch.randn(7, N_IN, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(new(x), x @ w_new.T + bias)
    # and W' is U_sparse S V_sparse^T
    torch.testing.assert_close(w_new, (d.left * torch.from_numpy(d.values[: d.inner_dim])) @ d.right)


def test_conv_layers_use_the_m_by_npq_matrix():
    g = torch.Generator().manual_seed(1)
    conv = nn.Conv2d(40, 64, 3).double()
    with torch.no_grad():
        conv.weight.copy_(torch.randn(64, 40, 3, 3, generator=g, dtype=torch.float64) / 19)
    d = svs.decide(conv, vector_threshold=2.0, settings=svs.SparsificationSettings(keep_ratio=0.0))
    assert d.shape == (64, 360)
    w_new = d.matrix().reshape(64, 40, 3, 3)
    new = svs.apply(conv, d)
    x = torch.randn(2, 40, 8, 8, dtype=torch.float64, generator=g)
    torch.testing.assert_close(new(x), nn.functional.conv2d(x, w_new, conv.bias))


def test_composes_with_torch_prune_masks_in_both_orders():
    # mask first: the decision sees the masked matrix, W' goes to weight_orig, the mask stays
    layer = planted_linear(7)
    torch_prune.random_unstructured(layer, "weight", amount=0.2)
    mask = layer.weight_mask.clone()
    d = svs.decide(layer, vector_threshold=3.0)
    svs.apply(layer, d)
    assert torch.equal(layer.weight_mask, mask)
    torch.testing.assert_close(layer.weight.detach(), mask * d.matrix())
    x = torch.randn(3, N_IN, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(layer(x), x @ (mask * d.matrix()).T + layer.bias)
    # then the magnitude step adds to the mask: exactly n more zeros, the old ones kept
    before = int(torch.count_nonzero(layer.weight))
    assert svs.prune_smallest([(layer, "weight")], 500) == 500
    assert int(torch.count_nonzero(layer.weight)) == before - 500
    assert torch.all(layer.weight_mask <= mask)
    # split first, then masks on the factors; the masked entries get no gradient
    layer = planted_linear(8)
    new = svs.apply(layer, svs.decide(layer, settings=svs.SparsificationSettings(keep_ratio=0.0)))
    svs.prune_smallest([(new, "weight")], 100)
    nnz = int(torch.count_nonzero(new.first.weight) + torch.count_nonzero(new.second.weight))
    assert nnz == new.rank * (N_IN + N_OUT) - 100
    new(x).sum().backward()
    assert torch.all(new.first.weight_orig.grad[new.first.weight_mask == 0] == 0)


def test_state_dicts_round_trip():
    x = torch.randn(4, N_IN, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    for keep_ratio in (0.0, 1.0):
        model = nn.Sequential(planted_linear(9), nn.ReLU(), nn.Linear(N_OUT, 10).double())
        d = svs.decide(model[0], vector_threshold=3.0, settings=svs.SparsificationSettings(keep_ratio=keep_ratio))
        model[0] = svs.apply(model[0], d)
        svs.prune_smallest([(model[0], "weight")], 300)
        if keep_ratio == 0.0:
            # masked factors: make the zeros permanent first (nets.load_pruned_state_dict reads a
            # factorised layer's first.weight / second.weight, not their _orig / _mask pairs)
            for part in (model[0].first, model[0].second):
                if svs.is_torch_pruned(part):
                    torch_prune.remove(part, "weight")
        expected = model(x)
        fresh = nn.Sequential(nn.Linear(N_IN, N_OUT), nn.ReLU(), nn.Linear(N_OUT, 10)).double()
        fresh = nets.load_pruned_state_dict(fresh, model.state_dict())
        torch.testing.assert_close(fresh(x), expected)


def test_prune_smallest_takes_the_smallest_magnitudes_globally():
    a, b = nn.Linear(4, 3, bias=False), nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        a.weight.copy_(torch.arange(1, 13, dtype=torch.float32).reshape(3, 4))
        b.weight.copy_(-torch.arange(1, 7, dtype=torch.float32).reshape(2, 3) - 0.5)
    assert svs.prune_smallest([(a, "weight"), (b, "weight")], 5) == 5
    # |w| order: 1, 1.5, 2, 2.5, 3 -> a's 1, 2, 3 and b's -1.5, -2.5
    assert int((a.weight == 0).sum()) == 3 and int((b.weight == 0).sum()) == 2
    assert svs.count_nonzero_parameters(nn.Sequential(a, b)) == 18 - 5


def test_cycle_rules_as_printed():
    # P:157-163: ceil(((1 - 0.1) 0.8)^(1.5 / 2) x 0.06 x 1.02^2 x 1000) = ceil(48.79) = 49
    assert svs.cycle_magnitude_target(1000, 0.1, 0.8, 2) == 49
    # P:147-154: 750 x 1.5e-8 x 0.06 x 1.02^2 x 768 x 768 = 0.4142 on even cycles, 0 on odd ones
    assert svs.cycle_vector_threshold(2, 768, 768) == pytest.approx(0.41421570, rel=1e-6)
    assert svs.cycle_vector_threshold(3, 768, 768) == 0.0
    # P:219: 1 / (1 + 10000 x 0.05 / 1)
    assert svs.lasso_strength(0.05, 1) == pytest.approx(1 / 501)
    layer = nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, -1.5]]))
    pen = svs.l1_penalty([(layer, "weight", 0.05)], 1, svs.CycleSettings(l1_lambda=1.0))
    assert float(pen.detach()) == pytest.approx(6.0 / 501)


def test_debiasing_inverts_the_spike_map():
    n_rows, n_cols, sigma2 = 400, 200, 0.01
    c, unit = n_cols / n_rows, math.sqrt(sigma2 * n_rows)
    thetas = np.array([1.5, 2.0, 3.0])
    s = unit * shrinkage.outlier_from_signal(thetas, c)
    np.testing.assert_allclose(svs.debiased_singular_values(s, sigma2, n_rows, n_cols), unit * thetas, rtol=1e-10)
    # at the bulk edge both branches meet: c^{1/4} in noise units
    edge = unit * (1 + math.sqrt(c))
    low = svs.debiased_singular_values(np.array([edge * (1 - 1e-12)]), sigma2, n_rows, n_cols)
    assert low[0] == pytest.approx(unit * c ** 0.25, rel=1e-9)


def test_a_rejected_fit_leaves_the_layer_alone():
    layer = planted_linear(10)
    before = layer.weight.detach().clone()
    d = svs.decide(layer, vector_threshold=5.0, settings=svs.SparsificationSettings(fit_cutoff=1e-9))
    assert d.action == "none" and d.accepted is False and "no good fit" in d.reason
    assert svs.apply(layer, d) is layer
    assert torch.equal(layer.weight.detach(), before)


@pytest.mark.parametrize("kwargs", [dict(keep_ratio=1.5), dict(alpha=0.6), dict(tw_level=1.0),
                                    dict(fit_cutoff=0.0), dict(min_dim=-1), dict(global_divisor=0.0)])
def test_bad_settings_name_the_parameter(kwargs):
    with pytest.raises(InvalidArgument, match=next(iter(kwargs))):
        svs.SparsificationSettings(**kwargs)


def test_bad_calls_are_refused():
    layer = planted_linear(11)
    with pytest.raises(InvalidArgument, match="vector_threshold"):
        svs.decide(layer, vector_threshold=-1.0)
    with pytest.raises(InvalidArgument, match="n_cycles"):
        svs.CycleSettings(n_cycles=0)
    d = svs.decide(layer, settings=svs.SparsificationSettings(keep_ratio=0.0))
    with pytest.raises(InvalidArgument, match="decision is for"):
        svs.apply(nn.Linear(10, 20).double(), d)
    torch_prune.identity(layer, "weight")
    with pytest.raises(InvalidArgument, match="mask"):
        svs.apply(layer, d)


def test_attention_weights_train_under_masks_with_refresh():
    g = torch.Generator().manual_seed(4)
    mha = nn.MultiheadAttention(32, 4, batch_first=True).double()
    d = svs.decide(mha, "in_proj_weight", vector_threshold=1.0)     # the packed Q/K/V as one matrix
    assert d.shape == (96, 32)
    svs.apply(mha, d, "in_proj_weight")
    svs.prune_smallest([(mha, "in_proj_weight"), (mha.out_proj, "weight")], 200)
    opt = torch.optim.SGD(mha.parameters(), lr=0.1)
    x = torch.randn(2, 5, 32, dtype=torch.float64, generator=g)
    for _ in range(3):                 # out_proj is read, not called: its mask needs the refresh
        svs.refresh_masked(mha)
        loss = mha(x, x, x)[0].pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    svs.refresh_masked(mha)
    assert torch.all(mha.out_proj.weight[mha.out_proj.weight_mask == 0] == 0)
    assert torch.all(mha.in_proj_weight[mha.in_proj_weight_mask == 0] == 0)
    assert svs.count_nonzero_parameters(mha) == sum(p.numel() for p in mha.parameters()) - 200 \
        - int((mha.in_proj_bias == 0).sum() + (mha.out_proj.bias == 0).sum())
