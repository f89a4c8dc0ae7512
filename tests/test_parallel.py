"""sims.parallel: the same sweep on loky and on a dask LocalCluster (127.0.0.1) gives bitwise
identical results in task order; bad backends are clear errors, never a silent fallback."""
import sys

import numpy as np
import pytest

from core.validate import InvalidArgument
from sims.parallel import map_tasks


def _trial(seed: int, n: int) -> np.ndarray:
    # The same seeded computation a sweep runs: draw, reduce, return an array.
    x = np.random.default_rng(seed).standard_normal((n, n))
    return np.linalg.svd(x, compute_uv=False)[:3]


TASKS = [(s, 20) for s in range(8)]


def test_loky_matches_serial_bitwise():
    serial = map_tasks(_trial, TASKS)
    assert all(np.array_equal(a, b) for a, b in zip(serial, map_tasks(_trial, TASKS, jobs=2)))


def test_dask_local_cluster_matches_loky_bitwise():
    serial = map_tasks(_trial, TASKS)
    on_dask = map_tasks(_trial, TASKS, backend="dask", jobs=2)
    assert len(on_dask) == len(serial)
    assert all(np.array_equal(a, b) for a, b in zip(serial, on_dask))


@pytest.mark.parametrize("kw, word", [({"backend": "spark"}, "backend"), ({"jobs": 0}, "jobs"),
                                      ({"scheduler": "tcp://127.0.0.1:1"}, "scheduler")])
def test_bad_options_name_themselves(kw, word):
    with pytest.raises(InvalidArgument, match=word):
        map_tasks(_trial, TASKS, **kw)


def test_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(InvalidArgument, match=r"\.\[ray\]"):
        map_tasks(_trial, TASKS, backend="ray", jobs=2)
