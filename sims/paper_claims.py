"""`python -m sims.paper_claims`: cheap numerical checks of paper 000's remaining statements (and 001's counts).

Each function checks one paper object and returns its Verdicts (claim ids from core/claims.json):

- Example D.2 (Appendix D.2) and Fig D.4: a 10 x 10 layer split at rank 2 "has only 20 parameters".
  Counted on the pipeline's own split (nets.algorithms.split_layer) and by the closed form k (m + n).
- Paper 001, Section 4.5: the parameter counts of Examples 4.1 and 4.3-4.7 (dense and split
  networks as printed), counted on torch Linear layers.
- Remark 4.3 (Section 4.2): sparsifying W = R + S at a threshold zeta(N) "amounts to replacing W by
  S", because the entries of R (iid N(0, 1/N)) are small w.r.t. zeta(N).  The fraction of pure-noise
  entries that survive is exactly 2 (1 - Phi(zeta sqrt N)); max |R_ij| ~ sqrt(2 log(N^2) / N).
  Checked at the thresholds the paper uses (zeta from 0.001 to 0.02, Section 3.2.1) and at the
  widths of its networks.
- Remark 4.7 (Section 4.3): truncating at sqrt(lambda_+) + eps with eps from the Tracy-Widom
  fluctuations makes P(sigma_max(R) > sqrt(lambda_+) + eps) small: eps_N(beta) = the TW_1
  (1 - beta)-quantile times the edge scale N^{-2/3} (1 + sqrt c)^{4/3} c^{-1/6}... (Johnstone 2001,
  for the square case: sigma_max^2 ~ 4 + 2^{4/3} N^{-2/3} TW_1).  Monte Carlo exceedance rate
  against beta with a Wilson interval.
- Remark A.1 / (A.8)-(A.12): a.s. convergence of Theorems A.3/A.4 gives P(|X_N - X| > eps) -> 0.
  The remark writes that a.s. convergence implies convergence "in law" (weaker than what (A.8)
  needs; a.s. convergence also implies convergence in probability, which is what it uses).  Monte
  Carlo of P(|sigma'_1 - (1 + theta^2)/theta| > eps) at growing N.
- (C.1) (proof of Lemma 4.2): P(dX(s, S) >= 0 | dX(s, W) >= a(N) ||s||) >= 1 - N^{-1/4}, a
  conditional probability of a deterministic event; a counterexample, and the event form that the
  proof's (C.8) does give.
- Appendix E.2: "the MP theorem does not hold" for a 90%-sparse initialisation: Kolmogorov distance of
  the ESD to MP with the thinned variance.
- Theorem A.5 (Gershgorin), Theorem B.1 (Eckart-Young-Mirsky), Theorem C.1 (Chebyshev): textbook
  theorems the proofs use; checked on random matrices / exact distributions (and for Chebyshev, its
  sharpness on the three-point law).
- Theorem C.2 (Borell-TIS as printed, with E[max X_i] and max |X_i|) and its use in (C.14):
  P(max_ij |R_ij| > N^{-3/8} + sqrt(2 log(N^2)/N)) <= 2 exp(-N^{1/4}/2).  Both sides are exact
  here: max |X_i| of n iid N(0, s^2) has cdf (2 Phi(x/s) - 1)^n, E[max X_i] by quadrature.

The checks live one concern per module: ``sims.paper_claims_counts`` (parameter counts),
``sims.paper_claims_section4`` (Section 4's remarks), ``sims.paper_claims_spiked`` (the spiked
model of Appendix A, 001's Theorem 3.2), ``sims.paper_claims_proof_steps`` (Appendix C's steps and
the textbook theorems), ``sims.paper_claims_appendix_e``; sizes in ``sims.paper_claims_config``.
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

import numpy as np

from core.result import Result
from sims.experiment import ExperimentRun, cli_main, option
# The checks, one module per concern; their public names stay importable from here.
from sims.paper_claims_appendix_e import figure_e2_tables, text_e2_4
from sims.paper_claims_config import QUICK, PaperClaimsConfig
from sims.paper_claims_counts import PAPER001_COUNTS, example_d2, fc_parameters, paper001_counts  # noqa: F401
from sims.paper_claims_proof_steps import (eq_c1, eq_c28, expected_max_gaussian, theorem_a5,  # noqa: F401
                                           theorem_b1, theorem_c1, theorem_c2)
from sims.paper_claims_section4 import (eq_4_24, example_4_3, remark_4_3, remark_4_7,  # noqa: F401
                                        surviving_noise_norm)
from sims.paper_claims_spiked import (SPIKED_RATIO, SPIKED_THETAS, SUBCRITICAL_FACTOR,  # noqa: F401
                                      assumption_4_3, remark_a1, theorem_001_3_2, theorem_a2)

_expected_max = expected_max_gaussian   # the name the tests use


MODULE = "sims.paper_claims"
CPU_ONLY = True   # numpy and scipy on the CPU: no --device choice


@dataclass(frozen=True)
class Config:
    """The flags of ``python -m sims.paper_claims``; :func:`settings_of` turns them into the sizes
    of every check (``PaperClaimsConfig``, the Result's ``config``)."""
    seed: int = option(0, "base seed; every check's generator derives from it", lo=0)
    trials: int | None = option(None, "Monte Carlo matrices per setting of Remarks 4.7 and A.1, 20 "
                                "to 1e6 (default: 400, or 120 with --quick)", lo=20, hi=10**6,
                                optional=True)
    quick: bool = option(False, "small sizes, seconds to a minute")


def settings_of(config: Config) -> PaperClaimsConfig:
    """The sizes a command line asks for (``--quick``: ``QUICK``; ``--trials`` over either)."""
    kw = dict(QUICK) if config.quick else {}
    if config.trials is not None:
        kw["trials"] = config.trials
    return PaperClaimsConfig(seed=config.seed, **kw)


def toy_config(tmp_path=None) -> Config:
    """The quick sizes with the fewest trials allowed."""
    return Config(quick=True, trials=20)


def run(config: Config = Config(), *, context: ExperimentRun | None = None) -> Result:
    """Every check at the sizes of ``settings_of(config)``, one Result."""
    context = context or ExperimentRun(MODULE, config, device="cpu")
    context.seed = config.seed
    with context:
        return judged(settings_of(config), context)


def judged(cfg: PaperClaimsConfig, context: ExperimentRun) -> Result:
    """Run every check at the sizes ``cfg`` inside an open run (``run_settings`` from Python)."""
    def rng_for(tag: str, n: int, trial: int) -> np.random.Generator:
        # One generator per (check, size, trial): results do not depend on the order of checks.
        return np.random.default_rng([cfg.seed, zlib_tag(tag), n, trial])

    records, verdicts = [], []
    for rows, vs in (example_d2(), paper001_counts(), remark_4_3(cfg, rng_for), remark_4_7(cfg, rng_for),
                     remark_a1(cfg, rng_for), eq_c1(cfg, rng_for), text_e2_4(cfg, rng_for),
                     theorem_a5(cfg, rng_for), theorem_b1(cfg, rng_for), theorem_c1(), theorem_c2(),
                     assumption_4_3(cfg, rng_for), theorem_a2(cfg, rng_for), eq_4_24(),
                     example_4_3(cfg, rng_for), eq_c28(), theorem_001_3_2(cfg, rng_for)):
        records += rows
        verdicts += vs
    return context.result(config=asdict(cfg), records=records, verdicts=verdicts,
                          tables=figure_e2_tables(cfg.seed))


def run_settings(cfg: PaperClaimsConfig) -> Result:
    """The Result at sizes built in Python (e.g. one check's sizes changed)."""
    with ExperimentRun(MODULE, None, device="cpu", seed=cfg.seed) as context:
        return judged(cfg, context)


def zlib_tag(tag: str) -> int:
    import zlib
    return zlib.crc32(tag.encode())


def main(argv=None) -> int:
    """``python -m sims.paper_claims``: the flags of ``Config`` and the shared ones (``--json``,
    ``--threads``, ``--verbose``)."""
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
