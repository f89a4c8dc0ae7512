"""Module trees as plain data, for checkpoints: :func:`module_structure` and its inverse
:func:`build_from_structure`.

A checkpoint stores the module tree (which layers were split by pruning, Algorithm 1 step 12) as
``{"type", "args", "children"}`` dicts so that it loads with ``torch.load(weights_only=True)``.
Rebuilding a tree must not let the file choose code: a checkpoint is data, and whoever wrote it
must not get to import a module or call a function of their choice (a ``type`` naming
``nets.data:load_image_dataset`` once reached ``pickle.load`` on an attacker's directory).  So:

* ``type`` is looked up in :data:`LAYER_TYPES`, a fixed allow-list of layer classes; nothing is
  imported and no name is resolved from the file.
* Every argument is checked against the type's schema (exact argument names, types, ranges) and
  the whole tree (shape, child names, depth, node count, total parameter count) is validated
  *before* any module is constructed.  A bad entry raises ``InvalidArgument`` naming its path in
  the tree (e.g. ``structure entry 'classifier.fc1'``).

A new layer class becomes storable by adding it to :data:`LAYER_TYPES` (constructor, argument
schema, child rule, element count), not by a hook the file could name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from torch import nn

from core.validate import InvalidArgument, check_choice, check_float, check_int
from nets.layers import Abs, FactorizedConv2d, FactorizedLinear

MAX_WIDTH = 2 ** 24              # features / channels / rank of one layer
MAX_KERNEL = 1024                # kernel side, stride, dilation, padding of convolutions and pools
MAX_ELEMENTS = 2 ** 32           # parameter + buffer elements of the whole tree (16 GiB in float32)
MAX_DEPTH = 32
MAX_NODES = 100_000
_CHILD_NAME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_]{0,63}|[0-9]{1,6})$")


# ---------------------------------------------------------------------------------------------
# argument validators: (qualified name, value) -> normalised value, or InvalidArgument

def _int(lo: int, hi: int) -> Callable[[str, Any], int]:
    return lambda name, v: check_int(name, v, lo, hi)


def _boolean(name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise InvalidArgument(f"{name} must be True or False, got {v!r}")
    return v


def _real(lo: float, hi: float, **kw) -> Callable[[str, Any], float]:
    return lambda name, v: check_float(name, v, lo, hi, **kw)


def _optional(f):
    return lambda name, v: None if v is None else f(name, v)


def _choice(*choices):
    return lambda name, v: check_choice(name, v, choices)


def _int_or_pair(lo: int, hi: int) -> Callable[[str, Any], int | tuple]:
    def check(name, v):
        if isinstance(v, (list, tuple)):
            if len(v) != 2:
                raise InvalidArgument(f"{name} must be an integer or a pair of integers in [{lo}, {hi}], "
                                      f"got {v!r}")
            return tuple(check_int(f"{name}[{i}]", x, lo, hi) for i, x in enumerate(v))
        return check_int(name, v, lo, hi)
    return check


def _padding(name, v):
    if isinstance(v, str):
        return check_choice(name, v, ("same", "valid"))
    return _int_or_pair(0, MAX_KERNEL)(name, v)


def _pair(v) -> tuple[int, int]:
    return v if isinstance(v, tuple) else (v, v)


# ---------------------------------------------------------------------------------------------
# the allow-list

@dataclass(frozen=True)
class LayerType:
    """One storable layer class: how to build it from checked arguments, the exact argument
    schema, which children it may have (None: none; "any": a container; a tuple: exactly those
    names) and how many tensor elements it allocates (for the size guard)."""
    build: Callable[[dict], nn.Module]
    schema: dict[str, Callable[[str, Any], Any]]
    children: None | str | tuple[str, ...] = None
    elements: Callable[[dict], int] = lambda a: 0


def _conv_elements(a: dict) -> int:
    k0, k1 = _pair(a["kernel_size"])
    return a["out_channels"] * (a["in_channels"] // a["groups"]) * k0 * k1 + a["out_channels"]


def _factorized_conv(a: dict) -> nn.Module:
    template = nn.Conv2d(a["in_channels"], a["out_channels"], a["kernel_size"], stride=a["stride"],
                         padding=a["padding"], dilation=a["dilation"], bias=a["bias"], device="meta")
    return FactorizedConv2d(template, a["rank"]).to_empty(device="cpu")


_WIDTH = _int(0, MAX_WIDTH)      # 0: a rank-0 split has zero-width factors
_BATCHNORM = {"num_features": _int(1, MAX_WIDTH), "eps": _real(0.0, 1.0, lo_open=True),
              "momentum": _optional(_real(0.0, 1.0)), "affine": _boolean, "track_running_stats": _boolean}
_CONV_GEOMETRY = {"kernel_size": _int_or_pair(1, MAX_KERNEL), "stride": _int_or_pair(1, MAX_KERNEL),
                  "dilation": _int_or_pair(1, MAX_KERNEL)}

LAYER_TYPES: dict[str, LayerType] = {
    "Linear": LayerType(
        lambda a: nn.Linear(**a),
        {"in_features": _WIDTH, "out_features": _WIDTH, "bias": _boolean},
        elements=lambda a: a["in_features"] * a["out_features"] + a["out_features"]),
    "Conv2d": LayerType(
        lambda a: nn.Conv2d(**a),
        {"in_channels": _int(1, MAX_WIDTH), "out_channels": _int(1, MAX_WIDTH), **_CONV_GEOMETRY,
         "padding": _padding, "groups": _int(1, MAX_WIDTH), "bias": _boolean,
         "padding_mode": _choice("zeros", "reflect", "replicate", "circular")},
        elements=_conv_elements),
    "BatchNorm1d": LayerType(lambda a: nn.BatchNorm1d(**a), _BATCHNORM,
                             elements=lambda a: 4 * a["num_features"] + 1),
    "BatchNorm2d": LayerType(lambda a: nn.BatchNorm2d(**a), _BATCHNORM,
                             elements=lambda a: 4 * a["num_features"] + 1),
    "ReLU": LayerType(lambda a: nn.ReLU(), {}),
    "Identity": LayerType(lambda a: nn.Identity(), {}),
    "Dropout": LayerType(lambda a: nn.Dropout(**a), {"p": _real(0.0, 1.0)}),
    "MaxPool2d": LayerType(
        lambda a: nn.MaxPool2d(**a),
        {"kernel_size": _int_or_pair(1, MAX_KERNEL), "stride": _int_or_pair(1, MAX_KERNEL),
         "padding": _int_or_pair(0, MAX_KERNEL), "dilation": _int_or_pair(1, MAX_KERNEL),
         "ceil_mode": _boolean}),
    "Flatten": LayerType(lambda a: nn.Flatten(**a), {"start_dim": _int(-8, 8), "end_dim": _int(-8, 8)}),
    "Sequential": LayerType(lambda a: nn.Sequential(), {}, children="any"),
    "ModuleList": LayerType(lambda a: nn.ModuleList(), {}, children="any"),
    # The split layers of nets.layers (Algorithm 1 step 10).  The names are the ones checkpoints
    # have always carried; they are dictionary keys here, never imported.
    "nets.layers:FactorizedLinear": LayerType(
        lambda a: FactorizedLinear(**a),
        {"in_features": _WIDTH, "out_features": _WIDTH, "rank": _WIDTH, "bias": _boolean},
        children=("first", "second"),
        elements=lambda a: a["rank"] * (a["in_features"] + a["out_features"]) + a["out_features"]),
    "nets.layers:FactorizedConv2d": LayerType(
        _factorized_conv,
        {"in_channels": _int(1, MAX_WIDTH), "out_channels": _int(1, MAX_WIDTH), **_CONV_GEOMETRY,
         "padding": _int_or_pair(0, MAX_KERNEL), "rank": _WIDTH, "bias": _boolean},
        children=("first", "second"),
        elements=lambda a: (a["rank"] * a["in_channels"] * _pair(a["kernel_size"])[0]
                            * _pair(a["kernel_size"])[1] + (a["rank"] + 1) * a["out_channels"])),
}


def _abs_type() -> LayerType:
    return LayerType(lambda a: Abs(), {})


# ---------------------------------------------------------------------------------------------
# plain data out

def _conv_padding(m: nn.Conv2d):
    return m.padding if isinstance(m.padding, str) else list(m.padding)


_ENCODERS: dict[type, tuple[str, Callable[[nn.Module], dict]]] = {
    nn.Linear: ("Linear", lambda m: {"in_features": m.in_features, "out_features": m.out_features,
                                     "bias": m.bias is not None}),
    nn.Conv2d: ("Conv2d", lambda m: {"in_channels": m.in_channels, "out_channels": m.out_channels,
                                     "kernel_size": list(m.kernel_size), "stride": list(m.stride),
                                     "padding": _conv_padding(m), "dilation": list(m.dilation),
                                     "groups": m.groups, "bias": m.bias is not None,
                                     "padding_mode": m.padding_mode}),
    nn.BatchNorm1d: ("BatchNorm1d", lambda m: {"num_features": m.num_features, "eps": m.eps,
                                               "momentum": m.momentum, "affine": m.affine,
                                               "track_running_stats": m.track_running_stats}),
    nn.BatchNorm2d: ("BatchNorm2d", lambda m: {"num_features": m.num_features, "eps": m.eps,
                                               "momentum": m.momentum, "affine": m.affine,
                                               "track_running_stats": m.track_running_stats}),
    nn.ReLU: ("ReLU", lambda m: {}),
    nn.Identity: ("Identity", lambda m: {}),
    nn.Dropout: ("Dropout", lambda m: {"p": m.p}),
    nn.MaxPool2d: ("MaxPool2d", lambda m: {"kernel_size": m.kernel_size, "stride": m.stride,
                                           "padding": m.padding, "dilation": m.dilation,
                                           "ceil_mode": m.ceil_mode}),
    nn.Flatten: ("Flatten", lambda m: {"start_dim": m.start_dim, "end_dim": m.end_dim}),
    nn.Sequential: ("Sequential", lambda m: {}),
    nn.ModuleList: ("ModuleList", lambda m: {}),
    FactorizedLinear: ("nets.layers:FactorizedLinear",
                       lambda m: {"in_features": m.in_features, "out_features": m.out_features,
                                  "rank": m.rank, "bias": m.second.bias is not None}),
    FactorizedConv2d: ("nets.layers:FactorizedConv2d",
                       lambda m: {"in_channels": m.in_channels, "out_channels": m.out_channels,
                                  "kernel_size": list(m.first.kernel_size), "stride": list(m.first.stride),
                                  "padding": list(m.first.padding), "dilation": list(m.first.dilation),
                                  "rank": m.rank, "bias": m.second.bias is not None}),
}


def _layer_types() -> dict[str, LayerType]:
    return {**LAYER_TYPES, "Abs": _abs_type()}


def module_structure(module: nn.Module) -> dict:
    """The module tree as plain data: {"type", "args", "children": {name: ...}}.

    Only the layer classes of :data:`LAYER_TYPES` (exact classes, not subclasses) can be stored;
    anything else raises TypeError."""
    cls = type(module)
    if cls is Abs:
        kind, args = "Abs", {}
    elif cls in _ENCODERS:
        kind, args = _ENCODERS[cls][0], _ENCODERS[cls][1](module)
    else:
        raise TypeError(f"cannot store module of type {cls.__module__}.{cls.__qualname__} as plain data: "
                        "only the layer types of nets.structure.LAYER_TYPES are stored (add the class "
                        "there with its argument schema)")
    return {"type": kind, "args": args,
            "children": {name: module_structure(child) for name, child in module.named_children()}}


# ---------------------------------------------------------------------------------------------
# plain data in: validate everything, then build

def _tupled(v):
    return tuple(_tupled(x) for x in v) if isinstance(v, list) else v


def validate_structure(tree: Any, path: str = "", *, counter: list | None = None,
                       _depth: int = 0) -> dict:
    """Check a whole tree against :data:`LAYER_TYPES` without building anything; returns a copy
    with checked, normalised arguments.  ``InvalidArgument`` names the first bad entry.

    ``counter`` ([entries, elements], shared by the calls for one model) sums the size guard over
    several trees."""
    count = [0, 0] if counter is None else counter
    where = f"structure entry {path or '<root>'!r}"
    if _depth > MAX_DEPTH:
        raise InvalidArgument(f"{where}: tree deeper than {MAX_DEPTH} levels")
    count[0] += 1
    if count[0] > MAX_NODES:
        raise InvalidArgument(f"structure has more than {MAX_NODES} entries")
    if not isinstance(tree, dict) or set(tree) != {"type", "args", "children"}:
        keys = sorted(tree) if isinstance(tree, dict) else type(tree).__name__
        raise InvalidArgument(f"{where} must be a dict with keys 'type', 'args', 'children', got {keys}")
    kind, args, children = tree["type"], tree["args"], tree["children"]
    types = _layer_types()
    if not isinstance(kind, str) or kind not in types:
        raise InvalidArgument(f"{where}: type must be one of {sorted(types)}, got {kind!r} "
                              "(checkpoints rebuild only allow-listed layer types)")
    spec = types[kind]
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise InvalidArgument(f"{where} ({kind}): args must be a dict with string keys, got {args!r}")
    unknown, missing = sorted(set(args) - set(spec.schema)), sorted(set(spec.schema) - set(args))
    if unknown or missing:
        raise InvalidArgument(f"{where} ({kind}): arguments must be exactly {sorted(spec.schema)}; "
                              f"unknown {unknown}, missing {missing}")
    checked = {name: check(f"{where} ({kind}) argument {name}", _tupled(args[name]))
               for name, check in spec.schema.items()}
    if kind == "Conv2d" and (checked["in_channels"] % checked["groups"]
                             or checked["out_channels"] % checked["groups"]):
        raise InvalidArgument(f"{where} (Conv2d): groups={checked['groups']} must divide in_channels="
                              f"{checked['in_channels']} and out_channels={checked['out_channels']}")
    count[1] += spec.elements(checked)
    if count[1] > MAX_ELEMENTS:
        raise InvalidArgument(f"{where} ({kind}): the tree would allocate more than {MAX_ELEMENTS} "
                              f"elements (limit of nets.structure.MAX_ELEMENTS)")
    if not isinstance(children, dict):
        raise InvalidArgument(f"{where} ({kind}): children must be a dict, got {type(children).__name__}")
    names = list(children)
    if spec.children is None and names:
        raise InvalidArgument(f"{where} ({kind}): a {kind} has no children, got {names}")
    if isinstance(spec.children, tuple) and sorted(names) != sorted(spec.children):
        raise InvalidArgument(f"{where} ({kind}): children must be exactly {list(spec.children)}, got {names}")
    if kind == "ModuleList" and names != [str(i) for i in range(len(names))]:
        raise InvalidArgument(f"{where} (ModuleList): children must be named 0, 1, ..., got {names}")
    out_children = {}
    for name in names:
        if not isinstance(name, str) or not _CHILD_NAME.match(name):
            raise InvalidArgument(f"{where} ({kind}): child name {name!r} is not a plain identifier "
                                  "(letters, digits, '_'; starting with a letter) or an index")
        if name == "training" or hasattr(nn.Sequential, name):
            raise InvalidArgument(f"{where} ({kind}): child name {name!r} would shadow an attribute "
                                  "of the module")
        sub = f"{path}.{name}" if path else name
        out_children[name] = validate_structure(children[name], sub, counter=count, _depth=_depth + 1)
    return {"type": kind, "args": checked, "children": out_children}


def _build_checked(tree: dict) -> nn.Module:
    spec = _layer_types()[tree["type"]]
    module = spec.build(dict(tree["args"]))
    for name, child in tree["children"].items():
        built = _build_checked(child)
        if isinstance(module, nn.ModuleList):
            module.append(built)
        else:
            setattr(module, name, built)
    return module


def build_from_structure(tree: Any, path: str = "") -> nn.Module:
    """Inverse of :func:`module_structure` (parameters uninitialised: load a state_dict next).
    The whole tree is validated first (:func:`validate_structure`); nothing is built from a tree
    with a bad entry."""
    return _build_checked(validate_structure(tree, path))
