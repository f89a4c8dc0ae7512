"""Suite-wide settings: single-threaded torch, the seed-shift switch, hypothesis profiles.

Threads.  Torch runs single-threaded in tests: the test matrices are small, so intra-op threads only
add overhead, and on a shared 2-core machine spin-waiting BLAS/OpenMP threads made LAPACK calls
10-600x slower (measured by several of us: a 200x200 eigvalsh took 6.4 s instead of ~10 ms).

Seed shift.  Every statistical assertion must hold under ANY seed, not the one it was written
with.  ``pytest --seed-shift K`` (or ``RMT_SEED_SHIFT=K``) adds ``SEED_STRIDE * K`` to every integer
seed handed to ``numpy.random.default_rng``, ``numpy.random.seed``, ``numpy.random.RandomState``,
``torch.manual_seed`` and ``torch.Generator.manual_seed`` (the package's own seed arguments reach
these too, so they are shifted as well), in the pytest process and in every Python subprocess the
tests start (joblib/loky and dask workers, ``python -m``: tests/seed_shift.py, applied there by
tests/_seed_shift_site/sitecustomize.py on PYTHONPATH).  Equal seeds stay equal and different seeds different, so
reproducibility tests keep their meaning; what breaks is an expected value that is only true at one
seed.  K = 0 (the default) changes nothing.  The rerun campaign of issue 10 is

    for k in $(seq 1 20); do OMP_NUM_THREADS=1 python -m pytest -q --seed-shift $k; done

Hypothesis.  Profiles ``ci`` (derandomized: the same examples on every run, no example database;
the default) and ``explore`` (random examples, 10x more of them, database on; for local bug
hunting), selected by the environment variable ``HYPOTHESIS_PROFILE``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

from tests.seed_shift import SEED_STRIDE

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
def _toy_fashion_mnist(tmp_path_factory):
    """Every test sees a toy Fashion-MNIST (tests/toy_idx.py) written as IDX files, through the real
    loader: ``RMT_FASHION_MNIST_DIR`` points at it (inherited by ``python -m`` subprocesses), so no
    default-suite test depends on whether the machine has Debian's dataset.  ``.ci/run`` also sets
    ``RMT_HIDE_SYSTEM_DATASETS=1``, so a test that bypassed this would fail in CI as on a fresh
    machine.  Paper-scale (``slow``) tests need the real files: run them with
    ``RMT_TEST_REAL_DATA=1``."""
    if os.environ.get("RMT_TEST_REAL_DATA") == "1":
        yield None
        return
    from tests.toy_idx import write_toy_fashion_mnist
    directory = write_toy_fashion_mnist(tmp_path_factory.mktemp("toy-fashion-mnist"))
    patch = pytest.MonkeyPatch()
    patch.setenv("RMT_FASHION_MNIST_DIR", str(directory))
    yield directory
    patch.undo()


@pytest.fixture(autouse=True, scope="session")
def _single_thread_torch():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --------------------------------------------------------------------------------------------
# the seed shift (tests/seed_shift.py)

_UNDO = pytest.MonkeyPatch()


def pytest_configure(config):
    """Installed at configure time, before collection (module-level draws are shifted too), and
    exported to subprocesses: RMT_SEED_SHIFT plus a PYTHONPATH entry whose sitecustomize applies it."""
    k = seed_shift(config)
    if k == 0:
        return
    from tests import seed_shift as shift
    shift.install(SEED_STRIDE * k, _UNDO.setattr)
    root = Path(__file__).resolve().parent.parent
    site = root / "tests" / "_seed_shift_site"
    _UNDO.setenv(shift.ENV, str(k))
    _UNDO.setenv("PYTHONPATH", os.pathsep.join([str(site), str(root)] + (
        [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))


def pytest_unconfigure(config):
    _UNDO.undo()


@pytest.fixture
def unshifted_seeds(monkeypatch):
    """Real seeds inside the test, also in its subprocesses: only for tests that regenerate a
    committed Result from the seed stored in its provenance (at any other seed the stored
    verdicts are not expected to reappear, so such a test cannot take part in the shift)."""
    from tests import seed_shift as shift
    monkeypatch.delenv(shift.ENV, raising=False)
    with shift.suspended():
        yield
