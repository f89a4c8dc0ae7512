"""Monte Carlo checks of the paper's statements (torch, device-agnostic; float64 where needed).

Shared pieces: ``sims.device`` (device choice), ``sims.stats`` (confidence intervals, rates),
``sims.linalg`` (certified top singular triplets), ``sims.noise`` (seeded spiked matrices),
``sims.parallel`` (sweeps on loky, dask or ray).  Every experiment returns a ``core.result.Result``.
Builds on ``core``, ``theory`` and ``nets``; never the reverse (tests/test_layering.py).
"""
