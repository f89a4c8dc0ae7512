"""Monte Carlo checks of the paper's statements (torch, device-agnostic; float64 where needed).

Shared pieces: ``sims.device`` (device choice), ``sims.stats`` (confidence intervals, rates),
``sims.report`` (verdict records, JSON/CSV, tables). Builds on ``theory``; never the reverse.
"""
