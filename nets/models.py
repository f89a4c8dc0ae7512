"""Networks of paper 000 (Berlyand et al. 2024) Section 3 and Appendix E.8.

Both model classes keep every weight layer as an ``nn.Linear`` / ``nn.Conv2d`` submodule inside
``nn.Sequential`` containers and call them as modules, so a pruning step (Algorithm 1, step 12) can
replace a layer by ``setattr(parent, name, factorized_module)`` and the forward pass follows.

Fully connected nets (:class:`FullyConnectedNet`), Section 3.2 "Unless stated otherwise":
weights iid N(0, 1/N) with N the number of input features, biases 0, ReLU after every layer
*including the final one*; then the loss takes the log-softmax (E.7's ``-log phi_i(s)``).  The
output is returned before any softmax.  Per-layer activations (``relu``, ``abs``, ``none``),
``final_activation="none"`` (E.3's regression net) and He / Xavier initialisations (E.2) are options.

The CNN of Appendix E.8 (:class:`PaperCNN`).  E.8 leaves padding, the exact pooling positions and
the BatchNorm placement open; the choices below are the ones for which torch's trainable parameter
count equals *every* count the paper reports (checked in tests/test_models.py):

* 3x3 convolutions with **no padding**, stride 1, with bias; each followed by BatchNorm2d, ReLU and
  Dropout(0.35).  The fully connected input widths fix the padding: Example 3.3/3.4 take
  41472 = 512 * 9 * 9 features from a 28x28 image after four convolutions, Example 3.5 takes
  8192 = 512 * 4 * 4 from a 32x32 image after five.  With padding 0 every conv removes 2 pixels.
* Max-pooling (2x2, stride 2, floor) "after every second convolutional layer, except the first one"
  read as: after the convolutions with 0-based index 2, 4, 6, ...  Then 28 -> 26 -> 24 -> 22 ->
  pool 11 -> 9 (41472 features) and 32 -> 30 -> 28 -> 26 -> pool 13 -> 11 -> 9 -> pool 4 (8192).
  Pooling after indices 1, 3 (28 -> 26 -> 24 -> 12 -> 10 -> 5) or padding 1 (28 -> 14 -> ...)
  give 12800 / other widths that contradict the paper's topologies.
* BatchNorm1d after **every** fully connected layer, the last one (10 outputs) included
  (E.8.1: "after each convolutional and fully connected layer"), ReLU after all but the last,
  Dropout after the first FC layer only (rate "variable" in E.8.1; default 0.35 here, our choice),
  log-softmax at the end.  The BatchNorm on the output layer contributes 2 * 10 = 20 parameters;
  without it, all three reported CNN counts would be off by exactly 20.

With these choices (conv: m*n*9 + m weights/biases + 2m BatchNorm; FC: a*b + b + 2b):

* Example 3.3, conv [1, 64, 128, 256, 512], FC [41472, 20000, 10000, 5000, 3000, 1400, 10]:
  1,100,323,974 (paper: 1,100,323,974).
* Example 3.4, FC [41472, 10000, 5000, 5000, 10]: 491,381,774 (paper: 491,381,774).
* Example 3.5, conv [3, 32, 64, 128, 256, 512], FC [8192, 500, 10]: 5,673,090 (paper: 5,673,090).

BatchNorm running statistics are buffers, not parameters, so they are not counted (the paper's
counts agree with that).  The conv-layer initialisation is not stated in E.8; we use the paper's
default N(0, 1/fan_in) with fan_in = n p q (the m x (n p q) reshape of Section 3.2.2).

Checkpoints store the module tree as plain data (:func:`module_structure` /
:func:`build_from_structure`, in ``nets.structure``: allow-listed layer types only) so that they load
with ``torch.load(weights_only=True)`` and rebuild without running code the file names, even after
pruning replaced layers by factorised modules.
"""
from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

# Trainable parameters (requires_grad): the count the paper reports (Tables 3.2, 3.5). Re-exported.
from core.validate import InvalidArgument
from nets.layers import count_parameters
from nets.layers import Abs  # noqa: F401  (re-exported)
from nets.structure import build_from_structure, module_structure, validate_structure  # noqa: F401  (re-exported)

ACTIVATIONS = ("relu", "abs", "none")
INITS = ("normal", "he", "xavier")


def make_activation(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "abs":
        return Abs()
    if name == "none":
        return nn.Identity()
    raise InvalidArgument(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")


def init_std(kind: str, fan_in: int, fan_out: int) -> float:
    """Standard deviation of the Gaussian initialisation.

    normal: N(0, 1/fan_in) (paper 000 Section 3.2 default); he: N(0, 2/fan_in) (He et al. [24],
    fan-in mode, ReLU gain); xavier: N(0, 2/(fan_in + fan_out)) (Glorot-Bengio [21], normal form).
    All three are iid mean zero with finite variance, the hypothesis of Theorem 3.1 (E.2)."""
    if fan_in < 1 or fan_out < 1:
        raise InvalidArgument(f"fan_in and fan_out must be >= 1, got {fan_in}, {fan_out}")
    if kind == "normal":
        return math.sqrt(1.0 / fan_in)
    if kind == "he":
        return math.sqrt(2.0 / fan_in)
    if kind == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    raise InvalidArgument(f"unknown initialisation {kind!r}; choose one of {INITS}")


def initialise_(model: nn.Module, kind: str = "normal", *, generator: torch.Generator,
                sparsity: float = 0.0) -> None:
    """Initialise every Linear/Conv2d weight with :func:`init_std`, biases to 0 (Section 3.2).

    ``sparsity`` > 0 then sets that fraction of each weight's entries to 0 (uniformly at random,
    exactly round(sparsity * size) entries), the "sparse initialisation" of E.2 (90%); the zeros
    are not masked, they train like any other weight.  Draws come from ``generator`` on the CPU, so
    the result does not depend on the device or on the global RNG."""
    if not 0.0 <= sparsity < 1.0:
        raise InvalidArgument(f"sparsity must be in [0, 1), got {sparsity}")
    with torch.no_grad():
        for module in model.modules():
            if not isinstance(module, (nn.Linear, nn.Conv2d)):
                continue
            w = module.weight
            if w.is_meta:
                continue
            fan_out, fan_in = w.shape[0], w[0].numel()
            draw = torch.randn(w.shape, generator=generator, dtype=torch.float32)
            draw *= init_std(kind, fan_in, fan_out)
            if sparsity > 0:
                n_zero = round(sparsity * draw.numel())
                idx = torch.randperm(draw.numel(), generator=generator)[:n_zero]
                draw.view(-1)[idx] = 0.0
            w.copy_(draw.to(w.dtype))
            if module.bias is not None:
                module.bias.zero_()


class FullyConnectedNet(nn.Module):
    """Fully connected net from a topology ``[n_0, n_1, ..., n_L]`` (e.g. [784, 3000, 3000, 2000, 500, 10]).

    ``activation``: one name for all hidden layers, or a list of L names (one per layer, the last
    included; then ``final_activation`` must be left as None).  ``final_activation`` defaults to
    ``relu`` (the paper's nets; E.3's regression uses ``none``).  Layers are ``layers.fc1`` ...
    ``layers.fcL`` with activations ``layers.act1`` ...; inputs are flattened first."""

    def __init__(self, topology, activation="relu", final_activation=None):
        super().__init__()
        topology = [int(n) for n in topology]
        if len(topology) < 2 or min(topology) < 1:
            raise InvalidArgument(f"topology needs >= 2 positive widths, got {topology}")
        n_layers = len(topology) - 1
        if isinstance(activation, str):
            acts = [activation] * (n_layers - 1) + [final_activation or "relu"]
        else:
            acts = list(activation)
            if final_activation is not None:
                raise InvalidArgument("give final_activation or a full per-layer activation list, not both")
            if len(acts) != n_layers:
                raise InvalidArgument(f"{len(acts)} activations for {n_layers} layers")
        for name in ([activation] if isinstance(activation, str) else []) + acts:
            if name not in ACTIVATIONS:
                raise InvalidArgument(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")
        self.topology, self.activations = topology, acts
        items = []
        for i, (a, b) in enumerate(zip(topology, topology[1:]), start=1):
            items.append((f"fc{i}", nn.Linear(a, b)))
            items.append((f"act{i}", make_activation(acts[i - 1])))
        self.layers = nn.Sequential(OrderedDict(items))

    def forward(self, x):
        return self.layers(x.flatten(1))


def conv_output_side(input_side: int, n_convs: int, kernel_size: int = 3) -> int:
    """Spatial side after the E.8 conv stack (padding 0, pool after conv indices 2, 4, ...)."""
    side = input_side
    for i in range(n_convs):
        side -= kernel_size - 1
        if side < 1:
            raise InvalidArgument(f"input side {input_side} too small for {n_convs} unpadded {kernel_size}x{kernel_size} convs")
        if i % 2 == 0 and i > 0:
            side //= 2
    return side


class PaperCNN(nn.Module):
    """The CNN of Appendix E.8 (choices and the parameter counts they reproduce: module docstring).

    ``conv_channels`` = [input channels, filters of conv 1, ...] (e.g. [1, 64, 128, 256, 512]),
    ``fc_topology`` = [flattened width, ..., classes] (e.g. [41472, 10000, 5000, 5000, 10]);
    ``fc_topology[0]`` must equal channels * side^2 after the conv stack for ``input_side``.
    Returns log-probabilities (E.8: "the final layer applies a log-softmax")."""

    def __init__(self, conv_channels, fc_topology, input_side: int, *, kernel_size: int = 3,
                 conv_dropout: float = 0.35, fc_dropout: float = 0.35, activation: str = "relu"):
        super().__init__()
        conv_channels, fc_topology = [int(c) for c in conv_channels], [int(n) for n in fc_topology]
        if len(conv_channels) < 2 or len(fc_topology) < 2 or min(conv_channels + fc_topology) < 1:
            raise InvalidArgument(f"bad CNN spec conv={conv_channels} fc={fc_topology}")
        for p in (conv_dropout, fc_dropout):
            if not 0.0 <= p < 1.0:
                raise InvalidArgument(f"dropout rate must be in [0, 1), got {p}")
        side = conv_output_side(input_side, len(conv_channels) - 1, kernel_size)
        flat = conv_channels[-1] * side * side
        if flat != fc_topology[0]:
            raise InvalidArgument(f"conv stack {conv_channels} on a {input_side}x{input_side} input gives "
                             f"{conv_channels[-1]}x{side}x{side} = {flat} features, but fc_topology starts with {fc_topology[0]}")
        self.conv_channels, self.fc_topology, self.input_side = conv_channels, fc_topology, input_side
        feats = []
        for i, (a, b) in enumerate(zip(conv_channels, conv_channels[1:])):
            k = i + 1
            feats += [(f"conv{k}", nn.Conv2d(a, b, kernel_size)), (f"bn{k}", nn.BatchNorm2d(b)),
                      (f"act{k}", make_activation(activation))]
            if i % 2 == 0 and i > 0:
                feats.append((f"pool{k}", nn.MaxPool2d(2)))
            feats.append((f"drop{k}", nn.Dropout(conv_dropout)))
        self.features = nn.Sequential(OrderedDict(feats))
        head = []
        n_fc = len(fc_topology) - 1
        for i, (a, b) in enumerate(zip(fc_topology, fc_topology[1:]), start=1):
            head += [(f"fc{i}", nn.Linear(a, b)), (f"bn{i}", nn.BatchNorm1d(b))]
            if i < n_fc:
                head.append((f"act{i}", make_activation(activation)))
            if i == 1 and n_fc > 1:
                head.append((f"drop{i}", nn.Dropout(fc_dropout)))
        self.classifier = nn.Sequential(OrderedDict(head))

    def forward(self, x):
        return F.log_softmax(self.classifier(self.features(x).flatten(1)), dim=1)


def build_model(spec: dict, *, seed: int | None = 0, device: str | torch.device | None = None) -> nn.Module:
    """Model from a plain-data spec (see nets.configs).  ``device="meta"`` builds shapes only (no
    memory, no initialisation: used by ``--dry-run`` for billion-parameter models).

    spec: {"kind": "mlp", "topology": [...], "activation": "relu", "final_activation": "relu",
           "init": "normal", "init_sparsity": 0.0}
       or {"kind": "cnn", "conv_channels": [...], "fc_topology": [...], "input_side": 28,
           "conv_dropout": 0.35, "fc_dropout": 0.35, "init": "normal"}"""
    spec = dict(spec)
    kind = spec.pop("kind", None)
    init = spec.pop("init", "normal")
    sparsity = spec.pop("init_sparsity", 0.0)
    if init not in INITS:
        raise InvalidArgument(f"unknown initialisation {init!r}; choose one of {INITS}")
    meta = device is not None and torch.device(device).type == "meta"
    ctx = torch.device("meta") if meta else torch.device("cpu")
    with ctx:
        if kind == "mlp":
            model = FullyConnectedNet(**spec)
        elif kind == "cnn":
            model = PaperCNN(**spec)
        else:
            raise InvalidArgument(f"model spec kind must be 'mlp' or 'cnn', got {kind!r}")
    if not meta:
        if seed is None:
            raise InvalidArgument("seed is required to initialise a model")
        initialise_(model, init, generator=torch.Generator().manual_seed(seed), sparsity=sparsity)
        if device is not None:
            model = model.to(device)
    return model


def model_summary(model: nn.Module) -> str:
    """One line per leaf module with its parameter count; last line ``parameters: <count>``."""
    lines = [type(model).__name__]
    for name, module in model.named_modules():
        if name and not list(module.children()):
            n = sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad)
            shape = ""
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                shape = " weight " + "x".join(str(s) for s in module.weight.shape)
            lines.append(f"  {name:<24} {type(module).__name__:<12}{shape:<28} {n:>14,}")
    lines.append(f"parameters: {count_parameters(model)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# structure as plain data (checkpoints): nets.structure (allow-listed layer types only)

def model_structure(model: nn.Module) -> dict:
    """Plain-data tree of a model's submodules (the root itself is rebuilt from its spec)."""
    return {"type": "root", "args": {},
            "children": {name: module_structure(child) for name, child in model.named_children()}}


def rebuild_model(spec: dict, structure: dict) -> nn.Module:
    """A model of ``spec`` whose submodules follow ``structure`` (which may hold pruned layers).

    ``structure`` comes from a file: it is validated whole (:func:`nets.structure.validate_structure`,
    allow-listed layer types only, arguments checked) before anything is built, and its top-level
    children must be children of the model ``spec`` describes."""
    if not isinstance(structure, dict) or structure.get("type") != "root" or structure.get("args") != {} \
            or not isinstance(structure.get("children"), dict) or set(structure) != {"type", "args", "children"}:
        raise InvalidArgument("structure must be {'type': 'root', 'args': {}, 'children': {...}} "
                              "(as written by nets.models.model_structure)")
    counter = [0, 0]    # one size guard for the whole model
    children = {name: validate_structure(child, str(name), counter=counter)
                for name, child in structure["children"].items()}
    model = build_model(spec, seed=0)
    expected = dict(model.named_children())
    stray = sorted(set(children) - set(expected))
    if stray:
        raise InvalidArgument(f"structure names children {stray} that a {type(model).__name__} does not have "
                              f"(it has {sorted(expected)})")
    for name, child in children.items():
        setattr(model, name, build_from_structure(child, name))
    return model
