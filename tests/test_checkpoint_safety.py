"""No code chosen by a file: a checkpoint's module tree rebuilds only allow-listed layer types with
checked arguments (nets.structure), CIFAR-10 batches load through a restricted unpickler
(nets.data.read_cifar_batch), and a refused file leaves no side effect (nothing imported, no module
constructed, no file the payload would have written)."""
from __future__ import annotations

import builtins
import copy
import importlib
import os
import pickle
import struct

import numpy as np
import pytest
import torch
from torch import nn

import nets.data
import nets.structure
from core.validate import InvalidArgument
from nets.configs import TrainConfig
from nets.data import load_image_dataset, polynomial_classification_e4, read_cifar_batch
from nets.models import build_model, model_structure, rebuild_model
from nets.structure import MAX_ELEMENTS, build_from_structure, module_structure
from nets.train import CHECKPOINT, Run, train


def _cfg(**kw) -> TrainConfig:
    base = dict(name="tiny", description="test", paper_ref="-", dataset="polynomial_e4",
                model={"kind": "mlp", "topology": [2, 8, 2]}, epochs=2, batch_size=32, lr=0.05,
                momentum=0.9, lr_decay=0.9, l1=0.0, l2=0.0, n_train=64, n_test=32)
    base.update(kw)
    return TrainConfig(**base)


class _Payload:
    """Unpickling this runs the shell command ``touch marker`` (os.system), as in issue 10."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


REFUSED_SYSTEM = r"global (posix|os|nt)\.system is not allowed"


def test_the_payload_runs_under_plain_pickle(tmp_path):
    """Power check: the files the next tests refuse do run a command when read by pickle.load."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.exists()


def _attacker_cifar_dir(directory, marker):
    """A CIFAR-10 directory whose first batch runs the payload when pickle.load reads it."""
    directory.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(directory / name, "wb") as fh:
            pickle.dump({b"data": _Payload(marker), b"labels": [0]}, fh)
    return directory


@pytest.fixture
def no_side_effects(monkeypatch):
    """Record every import of a module of the payload's choosing and every nn.Module constructed."""
    seen = {"imports": [], "modules": 0}
    real_import, real_import_module, real_init = builtins.__import__, importlib.import_module, nn.Module.__init__

    def spy_import(name, *args, **kw):
        if name.split(".")[0] in ("os", "subprocess", "builtins") or name in ("nets.data", "nets.train"):
            seen["imports"].append(name)
        return real_import(name, *args, **kw)

    def spy_import_module(name, *args, **kw):
        seen["imports"].append(name)
        return real_import_module(name, *args, **kw)

    def spy_init(self, *args, **kw):
        seen["modules"] += 1
        return real_init(self, *args, **kw)
    monkeypatch.setattr(builtins, "__import__", spy_import)
    monkeypatch.setattr(importlib, "import_module", spy_import_module)
    monkeypatch.setattr(nn.Module, "__init__", spy_init)
    return seen


def test_malicious_checkpoint_is_refused_on_resume(tmp_path, monkeypatch):
    """The attack of issue 10: a checkpoint that loads under weights_only=True but whose structure
    names nets.data:load_image_dataset with an attacker's CIFAR directory (whose pickle runs code).
    Resuming must refuse it, naming the entry, before any import or call."""
    cfg, data = _cfg(), polynomial_classification_e4(seed=0, n_train=64, n_test=32)
    out = tmp_path / "run"
    train(cfg, seed=0, data=data, out_dir=out, stop_after=1, progress=False)
    marker = tmp_path / "payload-ran"
    evil_dir = _attacker_cifar_dir(tmp_path / "evil", marker)
    state = torch.load(out / CHECKPOINT, weights_only=True)
    state["structure"]["children"]["layers"]["children"]["fc1"] = {
        "type": "nets.data:load_image_dataset",
        "args": {"name": "cifar10", "data_dir": str(evil_dir)}, "children": {}}
    torch.save(state, out / CHECKPOINT)
    torch.load(out / CHECKPOINT, weights_only=True)  # the file itself is "safe" to torch

    called = []
    monkeypatch.setattr(nets.data, "load_image_dataset", lambda *a, **k: called.append(a))
    with pytest.raises(InvalidArgument, match=r"structure entry 'layers\.fc1'.*nets\.data:load_image_dataset"):
        train(cfg, seed=0, data=data, out_dir=out, resume=True, progress=False)
    assert called == [] and not marker.exists()
    # and the attacker's directory itself is refused by the data loader, without running the payload
    monkeypatch.undo()
    with pytest.raises(InvalidArgument, match=r"data_batch_1.*" + REFUSED_SYSTEM):
        load_image_dataset("cifar10", evil_dir)
    assert not marker.exists()


def _linear(**over):
    args = {"in_features": 3, "out_features": 2, "bias": True}
    args.update(over)
    return {"type": "Linear", "args": args, "children": {}}


def _seq(**children):
    return {"type": "Sequential", "args": {}, "children": children}


BAD_TREES = {
    "function instead of a class": (_seq(a=_linear(), b={"type": "nets.data:load_image_dataset",
                                                          "args": {"name": "cifar10"}, "children": {}}),
                                     r"'b'.*type must be one of"),
    "builtin callable": ({"type": "builtins:eval", "args": {}, "children": {}}, "type must be one of"),
    "os.system": (_seq(x={"type": "os:system", "args": {}, "children": {}}), r"'x'.*os:system"),
    "unknown type": (_seq(x={"type": "Transformer", "args": {}, "children": {}}), r"'x'.*Transformer"),
    "torch class by path": ({"type": "torch.nn:Linear", "args": {}, "children": {}}, "type must be one of"),
    "type not a string": ({"type": ["Linear"], "args": {}, "children": {}}, "type must be one of"),
    "string width": (_seq(l=_linear(in_features="3")), r"'l'.*in_features must be an integer"),
    "float width": (_linear(out_features=2.0), "out_features must be an integer"),
    "bool width": (_linear(in_features=True), "in_features must be an integer"),
    "negative width": (_linear(in_features=-1), r"in_features must be an integer in \[0"),
    "int for bool": (_linear(bias=1), "bias must be True or False"),
    "absurd width": (_linear(in_features=10**9), "in_features must be an integer in"),
    "absurd total size": (_seq(a=_linear(in_features=2**20, out_features=2**20)), str(MAX_ELEMENTS)),
    "absurd kernel": ({"type": "Conv2d", "args": {
        "in_channels": 1, "out_channels": 1, "kernel_size": [10**6, 3], "stride": [1, 1], "padding": [0, 0],
        "dilation": [1, 1], "groups": 1, "bias": True, "padding_mode": "zeros"}, "children": {}},
        r"kernel_size\[0\] must be an integer"),
    "bad padding mode": ({"type": "Conv2d", "args": {
        "in_channels": 1, "out_channels": 1, "kernel_size": [3, 3], "stride": [1, 1], "padding": [0, 0],
        "dilation": [1, 1], "groups": 1, "bias": True, "padding_mode": "os.system"}, "children": {}},
        "padding_mode must be one of"),
    "groups not dividing": ({"type": "Conv2d", "args": {
        "in_channels": 3, "out_channels": 4, "kernel_size": [3, 3], "stride": [1, 1], "padding": [0, 0],
        "dilation": [1, 1], "groups": 2, "bias": True, "padding_mode": "zeros"}, "children": {}},
        "groups=2 must divide"),
    "extra argument": (_linear(device="cuda"), r"unknown \['device'\]"),
    "missing argument": ({"type": "Linear", "args": {"in_features": 3}, "children": {}},
                         r"missing \['bias', 'out_features'\]"),
    "nan dropout": ({"type": "Dropout", "args": {"p": float("nan")}, "children": {}}, "p must be a finite"),
    "dropout above 1": ({"type": "Dropout", "args": {"p": 2.0}, "children": {}}, r"p must be in \[0.0, 1.0\]"),
    "children on a leaf": ({"type": "ReLU", "args": {}, "children": {"x": _linear()}}, "has no children"),
    "dunder child name": (_seq(__class__=_linear()), "not a plain identifier"),
    "dotted child name": (_seq(**{"a.b": _linear()}), "not a plain identifier"),
    "shadowing child name": (_seq(training=_linear()), "would shadow"),
    "factorised children": ({"type": "nets.layers:FactorizedLinear",
                             "args": {"in_features": 3, "out_features": 2, "rank": 1, "bias": True},
                             "children": {"first": _linear(), "evil": _linear()}}, "children must be exactly"),
    "extra key": ({**_linear(), "code": "print(1)"}, "keys 'type', 'args', 'children'"),
    "not a dict": (_seq(a="Linear(3, 2)"), r"'a' must be a dict"),
}


@pytest.mark.parametrize("case", sorted(BAD_TREES))
def test_bad_structure_is_refused_before_anything_is_built(case, no_side_effects):
    tree, message = BAD_TREES[case]
    with pytest.raises(InvalidArgument, match=message):
        build_from_structure(tree)
    assert no_side_effects["modules"] == 0, "a module was constructed before the tree was refused"
    assert no_side_effects["imports"] == []


def test_deep_and_wide_trees_are_refused(monkeypatch):
    deep = _linear()
    for _ in range(40):
        deep = _seq(x=deep)
    with pytest.raises(InvalidArgument, match="deeper than"):
        build_from_structure(deep)
    monkeypatch.setattr(nets.structure, "MAX_NODES", 50)   # the rule, at a size the test can afford
    wide = _seq(**{str(i): {"type": "ReLU", "args": {}, "children": {}} for i in range(50)})
    with pytest.raises(InvalidArgument, match="more than 50 entries"):
        build_from_structure(wide)


def test_rebuild_model_refuses_children_the_model_lacks_and_a_bad_root():
    spec = {"kind": "mlp", "topology": [3, 4, 2]}
    tree = model_structure(build_model(spec, seed=0))
    evil = copy.deepcopy(tree)
    evil["children"]["forward"] = _linear()
    with pytest.raises(InvalidArgument, match=r"children \['forward'\]"):
        rebuild_model(spec, evil)
    for root in ({"type": "nets.data:load_image_dataset", "args": {}, "children": {}},
                 {"type": "root", "args": {"x": 1}, "children": {}}, [], None):
        with pytest.raises(InvalidArgument, match="structure must be"):
            rebuild_model(spec, root)


def test_every_stored_layer_type_round_trips():
    from nets.layers import FactorizedConv2d, FactorizedLinear
    from nets.models import Abs
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2, padding_mode="reflect"), nn.BatchNorm2d(4),
        nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.2), FactorizedConv2d(nn.Conv2d(4, 6, 3, padding=1), 2),
        nn.Flatten(), nn.ModuleList([nn.Identity()]), FactorizedLinear(6, 5, 2), Abs(), nn.BatchNorm1d(5),
        nn.Linear(5, 3, bias=False), nn.Conv2d(3, 3, 3, padding="same"))
    rebuilt = build_from_structure(module_structure(model))
    assert repr(rebuilt) == repr(model)
    rebuilt.load_state_dict(model.state_dict())  # same parameter and buffer shapes
    with pytest.raises(TypeError, match="LAYER_TYPES"):
        module_structure(nn.Sequential(nn.Tanh()))


# ---------------------------------------------------------------------------------------------
# CIFAR-10 batches

def py2_cifar_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """A CIFAR-10 batch as Python 2 pickled it (protocol 2, str as BINSTRING, numpy.core names):
    the format of the published cifar-10-python.tar.gz files."""
    def s(b):
        return (b"U" + bytes([len(b)]) + b) if len(b) < 256 else (b"T" + struct.pack("<I", len(b)) + b)
    n, m = data.shape
    arr = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + b"K\x00\x85" + s(b"b") + b"\x87R"
           + b"(K\x01" + b"J" + struct.pack("<i", n) + b"J" + struct.pack("<i", m) + b"\x86"
           + b"cnumpy\ndtype\n" + s(b"u1") + b"K\x00K\x01\x87R"
           + b"(K\x03" + s(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
           + b"\x89" + s(data.tobytes()) + b"tb")
    lab = b"](" + b"".join(b"K" + bytes([v]) for v in labels) + b"e"
    return b"\x80\x02}(" + s(b"data") + arr + s(b"labels") + lab + s(b"batch_label") + s(b"batch 1") + b"u."


@pytest.mark.parametrize("protocol", ["py2", 0, 2, 4, 5])
def test_cifar_batches_of_every_pickle_protocol_load(tmp_path, protocol):
    data = np.random.default_rng(3).integers(0, 256, (4, 3072)).astype(np.uint8)
    labels = [0, 9, 3, 3]
    path = tmp_path / "batch"
    if protocol == "py2":
        path.write_bytes(py2_cifar_pickle(data, labels))
    else:
        with open(path, "wb") as fh:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": b"b",
                         b"filenames": [b"a.png"] * 4}, fh, protocol=protocol)
    x, y = read_cifar_batch(path)
    assert np.array_equal(x.reshape(4, -1), data) and y.tolist() == labels


class ArraySubclass(np.ndarray):
    pass


def test_cifar_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "data_batch_1"
    with open(path, "wb") as fh:
        pickle.dump({b"data": _Payload(marker), b"labels": [0]}, fh)
    with pytest.raises(InvalidArgument, match=r"data_batch_1.*" + REFUSED_SYSTEM):
        read_cifar_batch(path)
    assert not marker.exists()
    with open(path, "wb") as fh:  # an ndarray subclass is resolved through its module: refused
        pickle.dump({b"data": np.zeros((1, 3072), np.uint8).view(ArraySubclass), b"labels": [0]}, fh)
    with pytest.raises(InvalidArgument, match="not allowed"):
        read_cifar_batch(path)
    with open(path, "wb") as fh:  # object arrays could carry anything: refused at the dtype
        pickle.dump({b"data": np.array([None, 1], dtype=object), b"labels": [0]}, fh)
    with pytest.raises(InvalidArgument, match="object dtype"):
        read_cifar_batch(path)


@pytest.mark.parametrize("content, message", [
    (b"not a pickle at all", "not a readable CIFAR-10 batch"),
    (b"", "not a readable CIFAR-10 batch"),
    (pickle.dumps([1, 2, 3]), "a dict with b'data'"),
    (pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}), r"shape \(n, 3072\)"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}), "uint8"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), "labels must be 2 integers"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}), r"labels must be in \[0, 9\]"),
])
def test_corrupt_cifar_batches_name_the_path(tmp_path, content, message):
    path = tmp_path / "test_batch"
    path.write_bytes(content)
    with pytest.raises(InvalidArgument, match=message) as err:
        read_cifar_batch(path)
    assert str(path) in str(err.value)


def test_checkpoint_from_a_training_run_still_resumes(tmp_path):
    cfg, data = _cfg(epochs=2), polynomial_classification_e4(seed=0, n_train=64, n_test=32)
    train(cfg, seed=0, data=data, out_dir=tmp_path, stop_after=1, progress=False)
    run = Run(cfg, data, seed=0, progress=False)
    run.load(tmp_path / CHECKPOINT)
    assert run.epoch == 1
