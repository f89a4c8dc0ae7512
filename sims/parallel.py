"""Sweeps on one machine or a cluster: ``map_tasks`` runs independent trials through joblib.

Backends (``--backend``):

- ``loky`` (default): local worker processes (``--jobs``); ``--jobs 1`` runs in this process.
- ``dask``: joblib's dask backend on a ``distributed`` cluster: the one at ``--scheduler ADDRESS``
  (e.g. ``tcp://10.0.0.5:8786``), or else a LocalCluster of ``--jobs`` single-threaded worker
  processes bound to 127.0.0.1.  Needs the ``dask`` extra (``pip install -e '.[dask]'``).
- ``ray``: joblib's ray backend (``ray.util.joblib``) on the cluster at ``--scheduler`` or a local
  one.  Needs the ``ray`` extra.

Results are bitwise identical across backends and worker counts because every task carries its own
seed (``sims.noise``: one generator per trial) and results come back in task order.  A backend whose
package is missing is an error naming the extra to install, never a silent fallback to loky.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterable, Sequence

from core.validate import InvalidArgument, check_choice, check_int

BACKENDS = ("loky", "dask", "ray")


def add_backend_options(parser) -> None:
    """``--backend`` and ``--scheduler`` for a sweep's CLI (``--jobs`` is a shared core.cli option)."""
    parser.add_argument("--backend", choices=BACKENDS, default="loky",
                        help="where the trials run: local processes (loky), dask or ray")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="address of an existing dask scheduler or ray cluster "
                             "(default: start a local one on 127.0.0.1)")


def _require(module: str, extra: str):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise InvalidArgument(f"backend needs the {module!r} package: pip install -e '.[{extra}]'") \
            from None


@contextlib.contextmanager
def _dask_backend(jobs: int, scheduler: str | None):
    distributed = _require("distributed", "dask")
    import joblib
    if scheduler:
        client = distributed.Client(scheduler)
        cluster = None
    else:
        cluster = distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
        client = distributed.Client(cluster)
    try:
        with joblib.parallel_config(backend="dask"):
            yield
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def _ray_backend(jobs: int, scheduler: str | None):
    ray = _require("ray", "ray")
    from ray.util.joblib import register_ray
    import joblib
    started = not ray.is_initialized()
    if started:
        ray.init(address=scheduler, num_cpus=None if scheduler else jobs,
                 include_dashboard=False, log_to_driver=False)
    register_ray()
    try:
        with joblib.parallel_config(backend="ray"):
            yield
    finally:
        if started:
            ray.shutdown()


def map_tasks(fn: Callable[..., Any], tasks: Iterable[Sequence[Any]], *, backend: str = "loky",
              jobs: int = 1, scheduler: str | None = None, progress: str | None = None) -> list[Any]:
    """``[fn(*task) for task in tasks]`` on the chosen backend, in task order.  ``progress``: the
    label of a progress bar over the finished tasks (``core.cli.progress``: on a terminal only)."""
    check_choice("backend", backend, BACKENDS)
    jobs = check_int("jobs", jobs, 1, 4096)
    tasks = [tuple(t) for t in tasks]
    if scheduler is not None and backend == "loky":
        raise InvalidArgument("scheduler is only used with backend 'dask' or 'ray', got backend "
                              "'loky'")

    def bar(results):
        if progress is None:
            return list(results)
        from core.cli import progress as progress_bar
        return list(progress_bar(results, total=len(tasks), desc=progress, unit="task"))

    if backend == "loky" and jobs == 1:
        return bar(fn(*t) for t in tasks)
    from joblib import Parallel, delayed
    if backend == "loky":
        return bar(Parallel(n_jobs=jobs, return_as="generator")(delayed(fn)(*t) for t in tasks))
    ctx = _dask_backend if backend == "dask" else _ray_backend
    with ctx(jobs, scheduler):
        return bar(Parallel(n_jobs=-1 if scheduler else jobs, return_as="generator")(
            delayed(fn)(*t) for t in tasks))
