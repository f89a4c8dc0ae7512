"""The sizes of ``sims.paper_claims`` (its default run and ``--quick``), shared by its check modules."""
from __future__ import annotations

from dataclasses import dataclass

from core.validate import check_int


@dataclass
class PaperClaimsConfig:
    seed: int = 0
    trials: int = 400                      # Monte Carlo matrices per setting (Remarks 4.7, A.1)
    ns: tuple[int, ...] = (100, 200, 400)  # matrix sizes for Remarks 4.7 and A.1
    beta: float = 0.05                     # exceedance level for Remark 4.7
    zetas: tuple[float, ...] = (0.001, 0.005, 0.01, 0.02)   # Section 3.2.1's sparsification range
    widths: tuple[int, ...] = (500, 1000, 2000, 3000, 4000)  # the widths of Example 3.2's nets
    gershgorin_trials: int = 2000
    opnorm_width: int = 3000               # Remark 4.3: operator norm of the surviving noise here
    spiked_ns: tuple[int, ...] = (200, 400, 800)   # Assumption 4.3 / Theorem A.2 Monte Carlo sizes
    spiked_trials: int = 20

    def __post_init__(self):
        check_int("seed", self.seed, 0)
        check_int("trials", self.trials, 20, 10**6)
        for n in self.ns:
            check_int("ns", n, 10, 5000)


QUICK = dict(trials=120, ns=(60, 120), gershgorin_trials=200, opnorm_width=600, spiked_ns=(100, 200),
             spiked_trials=6)
