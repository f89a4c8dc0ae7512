"""nets.models: parameter counts against the numbers printed in paper 000, initialisation
variances, the E.8 CNN's structure, and the plain-data module tree used by checkpoints."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nets.models import (PaperCNN, build_model, count_parameters, init_std, model_structure,
                         rebuild_model)

# (topology, initial parameter count) as printed in the paper.
TABLE_3_2 = [  # Example 3.1 (MNIST), Table 3.2 "Initial parameters"
    ([784, 3000, 3000, 2000, 500, 10], 18_365_510),
    ([784, 1000, 1000, 1000, 500, 10], 3_292_510),
    ([784, 2000, 2000, 1000, 500, 10], 8_078_510),
    ([784, 1500, 3000, 1500, 500, 10], 10_937_510),
]
TABLE_3_5 = [  # Example 3.2 (Fashion-MNIST), Table 3.5 "Initial parameters"
    ([784, 2000, 4000, 2000, 500, 10], 18_581_510),
    ([784, 2000, 2000, 2000, 2000, 1000, 500, 10], 16_082_510),
    ([784, 3000, 4000, 3000, 500, 10], 27_867_510),
]
CNNS = [  # (conv channels, FC topology, input side, count printed in the paper's text)
    ([1, 64, 128, 256, 512], [41472, 20000, 10000, 5000, 3000, 1400, 10], 28, 1_100_323_974),  # Example 3.3
    ([1, 64, 128, 256, 512], [41472, 10000, 5000, 5000, 10], 28, 491_381_774),                 # Example 3.4
    ([3, 32, 64, 128, 256, 512], [8192, 500, 10], 32, 5_673_090),                               # Example 3.5
]


@pytest.mark.parametrize("topology,count", TABLE_3_2 + TABLE_3_5)
def test_fully_connected_counts_match_tables_3_2_and_3_5(topology, count):
    model = build_model({"kind": "mlp", "topology": topology}, device="meta")
    assert count_parameters(model) == count


@pytest.mark.parametrize("conv,fc,side,count", CNNS)
def test_cnn_counts_match_examples_3_3_to_3_5(conv, fc, side, count):
    model = build_model({"kind": "cnn", "conv_channels": conv, "fc_topology": fc, "input_side": side},
                        device="meta")
    assert count_parameters(model) == count


def test_cnn_rejects_inconsistent_flatten_width():
    with pytest.raises(ValueError, match="512x9x9 = 41472"):
        PaperCNN([1, 64, 128, 256, 512], [40000, 10], 28)


def test_cnn_forward_is_log_softmax_and_layers_are_modules():
    torch.manual_seed(0)
    model = build_model({"kind": "cnn", "conv_channels": [3, 4, 4, 4, 4, 8], "fc_topology": [128, 12, 10],
                         "input_side": 32}, seed=1).eval()
    out = model(torch.randn(5, 3, 32, 32))
    assert out.shape == (5, 10)
    assert torch.allclose(out.exp().sum(1), torch.ones(5), atol=1e-5)
    names = {n for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))}
    assert names == {f"features.conv{i}" for i in range(1, 6)} | {"classifier.fc1", "classifier.fc2"}
    # pooling after 0-based convs 2 and 4 (E.8 "every second ... except the first")
    assert {n for n, m in model.named_modules() if isinstance(m, nn.MaxPool2d)} == {"features.pool3", "features.pool5"}


def test_replacing_a_layer_by_setattr_changes_the_forward():
    model = build_model({"kind": "mlp", "topology": [6, 5, 3]}, seed=0)
    x = torch.randn(4, 6)
    before = model(x)
    model.layers.fc1 = nn.Sequential(nn.Linear(6, 2, bias=False), nn.Linear(2, 5))
    assert not torch.allclose(model(x), before)


@pytest.mark.parametrize("kind,expected", [("normal", lambda i, o: 1 / i), ("he", lambda i, o: 2 / i),
                                           ("xavier", lambda i, o: 2 / (i + o))])
def test_initialisation_variance(kind, expected):
    fan_in, fan_out = 400, 1000
    model = build_model({"kind": "mlp", "topology": [fan_in, fan_out, 10], "init": kind}, seed=3)
    w = model.layers.fc1.weight.detach().double().flatten()
    var = expected(fan_in, fan_out)
    n = w.numel()
    # Gaussian entries: sd(sample mean) = sqrt(var/n); sd(sample variance)/var = sqrt(2/(n-1)).
    assert abs(w.mean().item()) < 5 * math.sqrt(var / n)
    assert abs(w.var().item() / var - 1) < 5 * math.sqrt(2 / (n - 1))
    assert torch.count_nonzero(model.layers.fc1.bias) == 0
    assert init_std(kind, fan_in, fan_out) ** 2 == pytest.approx(var)


def test_conv_initialisation_uses_fan_in_npq():
    model = build_model({"kind": "cnn", "conv_channels": [16, 300], "fc_topology": [300 * 26 * 26, 10],
                         "input_side": 28}, seed=0)
    w = model.features.conv1.weight.detach().double()
    n, var = w.numel(), 1 / (16 * 9)  # N(0, 1/(n p q)), Section 3.2.2's m x (n p q) matrix
    assert abs(w.var().item() / var - 1) < 5 * math.sqrt(2 / (n - 1))


def test_sparse_initialisation_zeroes_exactly_ninety_percent():
    model = build_model({"kind": "mlp", "topology": [100, 50, 10], "init_sparsity": 0.9}, seed=0)
    assert torch.count_nonzero(model.layers.fc1.weight).item() == 500
    assert torch.count_nonzero(model.layers.fc2.weight).item() == 50


def test_activations_and_final_layer():
    x = torch.randn(64, 3)
    relu = build_model({"kind": "mlp", "topology": [3, 8, 2]}, seed=0)
    assert (relu(x) >= 0).all()  # ReLU after the final layer (Section 3.2 default)
    lin = build_model({"kind": "mlp", "topology": [3, 8, 2], "final_activation": "none"}, seed=0)
    assert (lin(x) < 0).any()
    absnet = build_model({"kind": "mlp", "topology": [3, 8, 2], "activation": ["abs", "none"]}, seed=0)
    h = absnet.layers.fc1(x).abs()
    assert torch.allclose(absnet(x), absnet.layers.fc2(h))
    with pytest.raises(ValueError, match="activation"):
        build_model({"kind": "mlp", "topology": [3, 2], "activation": "tanh"}, seed=0)


def test_seeded_initialisation():
    spec = {"kind": "mlp", "topology": [10, 7, 3]}
    a, b, c = (build_model(spec, seed=s) for s in (1, 1, 2))
    assert torch.equal(a.layers.fc1.weight, b.layers.fc1.weight)
    assert not torch.equal(a.layers.fc1.weight, c.layers.fc1.weight)


def test_structure_round_trip_with_factorized_layers():
    from nets.layers import FactorizedConv2d, FactorizedLinear
    spec = {"kind": "cnn", "conv_channels": [3, 6, 6, 6], "fc_topology": [6 * 11 * 11, 20, 10], "input_side": 28}
    model = build_model(spec, seed=0)
    model.classifier.fc1 = FactorizedLinear(726, 20, 4)
    model.features.conv2 = FactorizedConv2d(model.features.conv2, 3)
    rebuilt = rebuild_model(spec, model_structure(model))
    rebuilt.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 28, 28)
    assert torch.equal(model.eval()(x), rebuilt.eval()(x))
    assert count_parameters(rebuilt) == count_parameters(model)


def test_structure_refuses_unknown_module_types():
    class Odd(nn.Module):
        pass
    model = build_model({"kind": "mlp", "topology": [3, 2]}, seed=0)
    model.layers.act1 = Odd()
    with pytest.raises(TypeError, match="plain data"):
        model_structure(model)
