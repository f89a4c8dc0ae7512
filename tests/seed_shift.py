"""The seed shift of the test suite (see tests/conftest.py): ``install(offset)`` makes every
integer seed handed to numpy or torch ``seed + offset``.  Used by conftest in the pytest process
and, through ``tests/_seed_shift_site/sitecustomize.py``, in every Python subprocess the tests
start (joblib/loky and dask workers, ``python -m ...``), so a sweep sees the same shift wherever
its trials run."""
from __future__ import annotations

import builtins
import contextlib
import os

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
    import numpy as np
    import torch

    real_default_rng, real_np_seed = np.random.default_rng, np.random.seed
    real_manual_seed = torch.manual_seed
    base_rs, base_gen = np.random.RandomState, torch.Generator

    def default_rng(seed=None):
        return real_default_rng(shifted(seed, offset))

    def np_seed(seed=None):
        return real_np_seed(shifted(seed, offset))

    def manual_seed(seed):
        return real_manual_seed(shifted(seed, offset))

    class RandomState(base_rs, metaclass=_SameType):
        _real = base_rs

        def __init__(self, seed=None):
            super().__init__(shifted(seed, offset))

        def seed(self, seed=None):
            return super().seed(shifted(seed, offset))

    class Generator(base_gen, metaclass=type("_TorchSameType", (_SameType, type(base_gen)), {})):
        _real = base_gen

        def manual_seed(self, seed):
            return super().manual_seed(shifted(seed, offset))

    for owner, name, wrapper in ((np.random, "default_rng", default_rng), (np.random, "seed", np_seed),
                                 (np.random, "RandomState", RandomState),
                                 (torch, "manual_seed", manual_seed),
                                 (torch.random, "manual_seed", manual_seed),
                                 (torch, "Generator", Generator)):
        _INSTALLED.append((owner, name, getattr(owner, name), wrapper))
        setattr(owner, name, wrapper)


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
