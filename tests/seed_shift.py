"""The seed shift of the test suite (see tests/conftest.py): ``install(offset)`` makes every
integer seed handed to numpy or torch ``seed + offset``.  Used by conftest in the pytest process
and, through ``tests/_seed_shift_site/sitecustomize.py``, in every Python subprocess the tests
start (joblib/loky and dask workers, ``python -m ...``), so a sweep sees the same shift wherever
its trials run."""
from __future__ import annotations

import builtins
import contextlib
import os
import sys

SEED_STRIDE = 1000
ENV = "RMT_SEED_SHIFT"


def shifted(seed, offset: int):
    """``seed`` + offset for an integer seed (or each integer of a sequence of them); anything else
    (None, a Generator, a SeedSequence, a state array) passes through unchanged."""
    import numpy as np
    if isinstance(seed, (bool, np.bool_)):
        return seed
    if isinstance(seed, (int, np.integer)):
        return int(seed) + offset
    if isinstance(seed, (list, tuple)) and seed and all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seed):
        return type(seed)(int(s) + offset for s in seed)
    return seed


class _SameType(type):
    """isinstance/issubclass against a wrapper class answer for the real class, so objects made
    before the patch or inside numpy/torch still count as instances."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._real)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls._real)


_INSTALLED: list[tuple[object, str, object, object]] = []   # (owner, name, original, wrapper)


def install(offset: int, setattr=setattr) -> None:
    """Wrap numpy.random.default_rng/seed/RandomState, torch.manual_seed and torch.Generator."""
    install_numpy(offset, setattr)
    install_torch(offset, setattr)


def _wrap(pairs, setattr) -> None:
    for owner, name, wrapper in pairs:
        _INSTALLED.append((owner, name, getattr(owner, name), wrapper))
        setattr(owner, name, wrapper)


def install_numpy(offset: int, setattr=setattr) -> None:
    import numpy as np

    real_default_rng, real_np_seed = np.random.default_rng, np.random.seed
    base_rs = np.random.RandomState

    def default_rng(seed=None):
        return real_default_rng(shifted(seed, offset))

    def np_seed(seed=None):
        return real_np_seed(shifted(seed, offset))

    class RandomState(base_rs, metaclass=_SameType):
        _real = base_rs

        def __init__(self, seed=None):
            super().__init__(shifted(seed, offset))

        def seed(self, seed=None):
            return super().seed(shifted(seed, offset))

    _wrap(((np.random, "default_rng", default_rng), (np.random, "seed", np_seed),
           (np.random, "RandomState", RandomState)), setattr)


def install_torch(offset: int, setattr=setattr) -> None:
    import torch

    real_manual_seed = torch.manual_seed
    base_gen = torch.Generator

    def manual_seed(seed):
        return real_manual_seed(shifted(seed, offset))

    class Generator(base_gen, metaclass=type("_TorchSameType", (_SameType, type(base_gen)), {})):
        _real = base_gen

        def manual_seed(self, seed):
            return super().manual_seed(shifted(seed, offset))

    _wrap(((torch, "manual_seed", manual_seed), (torch.random, "manual_seed", manual_seed),
           (torch, "Generator", Generator)), setattr)


class _AfterImport:
    """A meta-path finder that applies a patch right after a top-level package is imported, so a
    subprocess imports numpy or torch only if its own code does (a test may check exactly that)."""

    def __init__(self, patches: dict):
        self.patches = dict(patches)

    def find_spec(self, name, path=None, target=None):
        if name not in self.patches:
            return None
        import importlib.util
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        patch, loader = self.patches.pop(name), spec.loader
        exec_module = loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            patch()
        loader.exec_module = exec_and_patch
        if not self.patches:
            sys.meta_path.remove(self)
        return spec


def install_when_imported(offset: int) -> None:
    """The shift for a fresh interpreter (tests/_seed_shift_site/sitecustomize.py): numpy and torch
    are patched when (and only if) something imports them."""
    patches = {}
    for name, fn in (("numpy", install_numpy), ("torch", install_torch)):
        if name in sys.modules:
            fn(offset)
        else:
            patches[name] = (lambda fn=fn: fn(offset))
    if patches:
        sys.meta_path.insert(0, _AfterImport(patches))


@contextlib.contextmanager
def suspended():
    """The real numpy/torch seeding inside the block (for a test that reproduces a committed
    artifact from its stored seed: a shifted seed could not reproduce it, by design)."""
    for owner, name, original, _ in _INSTALLED:
        builtins.setattr(owner, name, original)
    try:
        yield
    finally:
        for owner, name, _, wrapper in _INSTALLED:
            builtins.setattr(owner, name, wrapper)


def from_environment() -> int:
    return int(os.environ.get(ENV, "0") or 0)
