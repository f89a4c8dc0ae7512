"""The self-check of theory/ (``python -m theory``) as a registered experiment: every formula against
an independent computation, and the verdicts of the rows that check a claim of paper 000 (the rules
and claim families are ``theory.__main__``'s ``DECLARATIONS`` and ``PAPER_CLAIMS``).

Why two modules: theory/ imports nothing above core (tests/test_layering.py), so its command line
``python -m theory`` cannot be built by ``sims.experiment.cli_main`` and stays in
``theory.__main__`` (core.cli's parser: ``--json``, ``--verbose``; exit status 1 when a row is not
ok).  This module is the same computation as a typed unit of the registry (``Config``, ``run``,
``toy_config``), so that the registry's tests run it and check its claims at birth; its Result is
named ``theory`` like the command's, and ``python -m sims.theory_self_check`` gives the same
Result.  The committed ``results/theory.json`` was made by ``python -m theory --json ...``, whose
flags this ``Config`` also parses (tests/test_theory_cli.py).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

from core.result import Result
from sims.experiment import ExperimentRun, cli_main
from theory.__main__ import collect_rows, verdicts_from_rows

MODULE = "sims.theory_self_check"
RESULT_NAME = "theory"      # the Result's experiment (and core/claims.json's checked_by)
CPU_ONLY = True             # exact formulas in numpy, scipy and sympy
PROVENANCE_SEED = None      # nothing random


@dataclass(frozen=True)
class Config:
    """No settings: the formulas are exact, checked as the paper states them."""


def toy_config(tmp_path=None) -> Config:
    """The whole self-check (a few seconds: it has no sizes to shrink)."""
    return Config()


def run(config: Config = Config(), *, context: ExperimentRun | None = None) -> Result:
    """Every theory module's ``self_check`` rows as records, one verdict per row and claim of
    ``PAPER_CLAIMS`` (the rows of ``python -m theory``)."""
    context = context or ExperimentRun(MODULE, config, device="cpu", experiment=RESULT_NAME,
                                       seed=PROVENANCE_SEED)
    with context:
        rows = collect_rows()
        return context.result(config={}, records=rows, verdicts=verdicts_from_rows(rows))


def main(argv=None) -> int:
    """``python -m sims.theory_self_check``: the shared flags only (``--json``, ``--threads``,
    ``--verbose``)."""
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
