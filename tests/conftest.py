"""Suite-wide settings: single-threaded torch, the seed-shift switch, hypothesis profiles.

Threads.  Torch runs single-threaded in tests: the test matrices are small, so intra-op threads only
add overhead, and on a shared 2-core machine spin-waiting BLAS/OpenMP threads made LAPACK calls
10-600x slower (measured by several of us: a 200x200 eigvalsh took 6.4 s instead of ~10 ms).

Seed shift.  Every statistical assertion must hold under ANY seed, not the one it was written
with.  ``pytest --seed-shift K`` (or ``RMT_SEED_SHIFT=K``) adds ``SEED_STRIDE * K`` to every integer
seed handed to ``numpy.random.default_rng``, ``numpy.random.seed``, ``numpy.random.RandomState``,
``torch.manual_seed`` and ``torch.Generator.manual_seed`` (the package's own seed arguments reach
these too, so they are shifted as well).  Joblib sweeps run in threads while shifted (worker
processes would not see the shift).  Equal seeds stay equal and different seeds different, so
reproducibility tests keep their meaning; what breaks is an expected value that is only true at one
seed.  K = 0 (the default) changes nothing.  The rerun campaign of issue 10 is

    for k in $(seq 1 20); do OMP_NUM_THREADS=1 python -m pytest -q --seed-shift $k; done

Hypothesis.  Profiles ``ci`` (derandomized: the same examples on every run, no example database;
the default) and ``explore`` (random examples, 10x more of them, database on; for local bug
hunting), selected by the environment variable ``HYPOTHESIS_PROFILE``.
"""
from __future__ import annotations

import contextlib
import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings

SEED_STRIDE = 1000

settings.register_profile("ci", derandomize=True, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", derandomize=False, max_examples=1000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption("--seed-shift", type=int, default=None, metavar="K",
                     help=f"add {SEED_STRIDE}*K to every seed the tests hand to numpy/torch "
                          "(default: $RMT_SEED_SHIFT or 0)")


def seed_shift(config) -> int:
    value = config.getoption("--seed-shift")
    if value is None:
        value = int(os.environ.get("RMT_SEED_SHIFT", "0") or 0)
    return int(value)


def pytest_report_header(config):
    k = seed_shift(config)
    return [f"seed shift: {k} (seeds + {SEED_STRIDE * k}); hypothesis profile: "
            f"{os.environ.get('HYPOTHESIS_PROFILE', 'ci')}"]


@pytest.fixture(autouse=True, scope="session")
def _single_thread_torch():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --------------------------------------------------------------------------------------------
# the seed shift

def _shifted(seed, offset: int):
    """``seed`` + offset for an integer seed (or each integer of a sequence of them); anything
    else (None, a Generator, a SeedSequence, a state array) is passed through unchanged."""
    if isinstance(seed, (bool, np.bool_)):
        return seed
    if isinstance(seed, (int, np.integer)):
        return int(seed) + offset
    if isinstance(seed, (list, tuple)) and seed and all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seed):
        return type(seed)(int(s) + offset for s in seed)
    return seed


def _install(offset: int, patch: pytest.MonkeyPatch) -> None:
    real_default_rng = np.random.default_rng
    real_np_seed = np.random.seed
    real_manual_seed = torch.manual_seed
    base_rs, base_gen = np.random.RandomState, torch.Generator

    def default_rng(seed=None):
        return real_default_rng(_shifted(seed, offset))

    def np_seed(seed=None):
        return real_np_seed(_shifted(seed, offset))

    def manual_seed(seed):
        return real_manual_seed(_shifted(seed, offset))

    class _SameType(type):
        """isinstance/issubclass against the wrapper answer for the real class (objects made
        before the patch, or inside numpy/torch, are still instances)."""
        def __instancecheck__(cls, obj):
            return isinstance(obj, cls._real)

        def __subclasscheck__(cls, sub):
            return issubclass(sub, cls._real)

    class RandomState(base_rs, metaclass=_SameType):
        _real = base_rs

        def __init__(self, seed=None):
            super().__init__(_shifted(seed, offset))

        def seed(self, seed=None):
            return super().seed(_shifted(seed, offset))

    class Generator(base_gen, metaclass=type("_TorchSameType", (_SameType, type(base_gen)), {})):
        _real = base_gen

        def manual_seed(self, seed):
            return super().manual_seed(_shifted(seed, offset))

    patch.setattr(np.random, "default_rng", default_rng)
    patch.setattr(np.random, "seed", np_seed)
    patch.setattr(np.random, "RandomState", RandomState)
    patch.setattr(torch, "manual_seed", manual_seed)
    patch.setattr(torch, "Generator", Generator)
    patch.setattr(torch.random, "manual_seed", manual_seed)


_SHIFT_STACK = contextlib.ExitStack()


def pytest_configure(config):
    """Installed at configure time, before collection: module-level draws are shifted too."""
    k = seed_shift(config)
    if k == 0:
        return
    patch = pytest.MonkeyPatch()
    _install(SEED_STRIDE * k, patch)
    _SHIFT_STACK.callback(patch.undo)
    import joblib
    # loky workers are fresh processes without the patch: run joblib sweeps in threads
    _SHIFT_STACK.enter_context(joblib.parallel_config(backend="threading"))


def pytest_unconfigure(config):
    _SHIFT_STACK.close()
