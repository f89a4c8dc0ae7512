"""The experiment layer: Monte Carlo checks of the papers' statements and the experiments on trained
networks, each a registered unit (``sims.registry``; ``python -m sims --list``) that returns a
``core.result.Result``.

Shared pieces: ``sims.experiment`` (typed configs as CLI flags, the one run context),
``sims.registry`` (experiments and their declared claims), ``sims.seed_statistics`` (descriptive
statistics over seeds; every decision rule is ``core.protocol``'s), ``sims.paired_runs`` (pruned and unpruned training runs
side by side, cached and resumable), ``sims.device`` (device choice), ``sims.stats`` (Monte Carlo
confidence intervals, rates), ``sims.linalg`` (certified top singular triplets), ``sims.noise``
(seeded spiked matrices), ``sims.parallel`` (sweeps on loky, dask or ray).
Builds on ``core``, ``theory`` and ``nets``; never the reverse (tests/test_layering.py).
"""
from sims.registry import declare_all as _declare_all

_declare_all()  # claim ids are checked at birth in every run of a registered experiment
