"""`python -m sims.qian_klabjan`: the constants of paper 004 (Qian & Klabjan, ICML 2021), Lemmas 3 and 4.

Appendix D.3-D.4 of paper 004 as Tables 2 and 3, each Monte Carlo number beside a random-matrix
prediction; the committed result is ``results/qian_klabjan.json`` (Table 2 as records, Table 3 as
the table ``lemma4``).

Table 2 (Appendix D.3, Lemma 3).  B is n1 x n2 with iid entries U[-K/sqrt(n), K/sqrt(n)], n = max(n1, n2).
For ``trials`` matrices per (n1, n2, K): mean and std of ||B||_2, and for each q the c0 with
P(||B||_2 <= c0) = q and the delta0 with q = 1 - 2 exp(-4 delta0 n).  Beside each Monte Carlo number,
the RMT prediction of ``theory.norm_predictions`` (edge s(sqrt n1 + sqrt n2) plus TW_1 fluctuations with
the Johnstone 2001 / Ma 2012 constants).

c0 has three estimates:
- ``c0_mc``: the empirical q-quantile, with a distribution-free 95% interval from the binomial law of
  order statistics.  With N matrices it is only reliable while N (1 - q) >= 10 exceedances;
- ``c0_twfit``: the MC samples mapped to TW units, a location-scale TW_1 law fitted by moments, read off
  at q; its 95% interval is a bootstrap over the matrices.  This is how q = 99.9% and 99.99% with 1000
  samples are estimated (an extrapolation along the TW_1 tail shape; flagged in ``c0_source``);
- ``c0_rmt``: the pure prediction, no data.
delta0 = log(2 / (1 - q)) / (4 n) is a function of (q, n) alone (``theory.norm_predictions.lemma3_delta0``).

Table 3 (Appendix D.4, Lemma 4 = Latala 2005, Theorem 2, eq. (42)/(13)).  d x d matrices A with entries
U[-sqrt(3/d), sqrt(3/d)], N(0, 1/d), N(0, 3/d), and N(0, 1/d) with floor(d^(2-alpha)) entries zeroed at
random (``zeroed``, as D.4 describes).  Because eq. (19) applies Lemma 4 to W - W*, whose nonzero
entries are the floor(D^(1-alpha)) *pruned* ones, ``--kept`` adds the complementary ``kept`` rows:
only floor(d^(2-alpha)) random entries nonzero.  For each: the three terms of (42) (max row norm, max column
norm, fourth-moment term) with exact expectations, E||A||_2, and the smallest C for which (42) holds,
C_min = E||A||_2 / (sum of terms); for the masked rows also C conditional on the mask (Lemma 4 applied
given the mask, which makes the entries independent), and the plug-in version where E A_ij^2 and
E A_ij^4 are replaced by their averages over the sampled matrices.

Layout: ``sims.qian_klabjan_norms`` (spectral norms, row seeds), ``sims.qian_klabjan_lemma3`` (Lemma 3,
Table 2), ``sims.qian_klabjan_lemma4`` (Lemma 4, Table 3), ``sims.qian_klabjan_verdicts``; this module
is the experiment (the sizes ``TablesConfig`` and ``experiment``; the command line ``Config`` and ``run``).
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, replace

from core.cli import DEVICE_CHOICES
from core.result import Result
from core.validate import InvalidArgument, check_choice, check_int
from sims.experiment import ExperimentRun, option
# One concern per module; their public names stay importable from here.
from sims.qian_klabjan_lemma3 import (LEMMA3_KS, LEMMA3_SIZES, MIN_EXCEEDANCES, QUANTILES,  # noqa: F401
                                      TW1_MEAN, TW1_VAR, empirical_quantile, lemma3_norms,
                                      lemma3_record, lemma3_table, qkey, tw_fitted_quantiles)
from sims.qian_klabjan_lemma4 import (LEMMA4_ALPHAS, LEMMA4_DENSE, LEMMA4_SIZES,  # noqa: F401
                                      latala_c_min, latala_terms, lemma4_configs,
                                      lemma4_exact_terms, lemma4_samples, lemma4_table)
from sims.qian_klabjan_norms import row_seed, spectral_norm, spectral_norms  # noqa: F401
from sims.qian_klabjan_verdicts import (D3_C0, D3_DELTA0, DECLARATIONS,  # noqa: F401
                                        LATALA_GROWTH_TOLERANCE, LEMMA3_C0_FACTOR, LEMMA_3, LEMMA_4,
                                        TABLE_2, TABLE_3, lemma_verdicts, redecide, redecide_file,
                                        table_verdicts)

MODULE = "sims.qian_klabjan"


@dataclass(frozen=True)
class TablesConfig:
    """The sizes of a run (``Config`` is its command line).  ``trials``: matrices per Table 2 row (Table 3 uses max(20, trials // 2)); ``sizes``: the
    n1, n2 (Table 2) and d (Table 3) values; ``only``: one table; ``kept``: add the eq. (19)
    rows to Table 3 (only floor(d^(2-alpha)) entries nonzero); ``device``: the torch device's type
    (recorded in the Result's config)."""
    sizes: tuple[int, ...] = LEMMA3_SIZES
    trials: int = 1000
    seed: int = 0
    device: str = "auto"
    only: str | None = None
    kept: bool = False

    @classmethod
    def quick(cls, **overrides) -> "TablesConfig":
        return replace(cls(sizes=(32, 64), trials=100), **overrides)

    def validate(self) -> "TablesConfig":
        sizes = tuple(check_int("size", s, 2, 4096) for s in self.sizes)
        if not sizes:
            raise InvalidArgument("sizes must hold at least one matrix size, got none")
        if self.only is not None:
            check_choice("only", self.only, ("lemma3", "lemma4"))
        return replace(self, sizes=sizes, trials=check_int("trials", self.trials, 20, 10**6),
                       seed=check_int("seed", self.seed, 0, None),
                       device=check_choice("device", self.device, DEVICE_CHOICES),
                       kept=bool(self.kept))


def experiment(config: TablesConfig = TablesConfig(), *, progress: bool = True,
               context: ExperimentRun | None = None) -> Result:
    """Tables 2 and 3 and their verdicts, at any ``TablesConfig`` (``run`` is the registered
    experiment's entry, through here)."""
    cfg = config.validate()
    context = context or ExperimentRun(MODULE, device=cfg.device, seed=cfg.seed)
    with context:
        t4 = max(20, cfg.trials // 2)
        rows3 = (lemma3_table(cfg.sizes, trials=cfg.trials, seed=cfg.seed, device=context.device, progress=progress)
                 if cfg.only != "lemma4" else [])
        rows4 = (lemma4_table(cfg.sizes, trials=t4, seed=cfg.seed, device=context.device, kept=cfg.kept,
                              progress=progress) if cfg.only != "lemma3" else [])
        return context.result(config=dict(asdict(cfg), lemma4_trials=t4, quantiles=QUANTILES,
                                          lemma3_Ks=LEMMA3_KS, lemma4_alphas=LEMMA4_ALPHAS),
                              records=[{"table": "lemma3", **r} for r in rows3],
                              tables={"lemma4": [{"table": "lemma4", **r} for r in rows4]},
                              verdicts=table_verdicts(rows3, rows4))


# ----------------------------------------------------------------------------------------------
# the registered experiment: its command line
@dataclass(frozen=True)
class Config:
    """The command line of ``python -m sims.qian_klabjan``: a preset (default or ``--quick``) and
    any of its sizes overridden (None: the preset's)."""
    seed: int = option(0, "base seed; every row's generator derives from it", lo=0)
    quick: bool = option(False, "sizes 32 64, 100 matrices per row")
    trials: int | None = option(None, "matrices per Table 2 row (default 1000, --quick 100; Table 3 uses half)",
                                lo=20, hi=10**6, optional=True)
    only: str | None = option(None, "one table only", choices=("lemma3", "lemma4"), optional=True)
    kept: bool = option(False, "add the eq. (19) 'kept' rows to Table 3 (only floor(d^(2-alpha)) entries nonzero)")
    sizes: tuple[int, ...] | None = option(None, "n1, n2 (Table 2) and d (Table 3) values (default "
                                           f"{' '.join(map(str, LEMMA3_SIZES))})", lo=2, hi=4096, optional=True)


def toy_config(tmp_path) -> Config:
    """Sizes 16 and 24, 40 matrices per row (20 for Table 3): both tables, every verdict family."""
    return Config(sizes=(16, 24), trials=40)


def tables_config(config: Config, device: str = "auto") -> TablesConfig:
    """The ``TablesConfig`` a command line means (``device``: the torch device's type)."""
    if config.kept and config.only == "lemma3":  # the kept rows are Table 3's (Lemma 4), not run here
        raise InvalidArgument("kept adds rows to Table 3 (lemma4); it has no effect with only 'lemma3'")
    base = TablesConfig.quick() if config.quick else TablesConfig()
    chosen = {k: getattr(config, k) for k in ("trials", "sizes") if getattr(config, k) is not None}
    return replace(base, seed=config.seed, device=device, only=config.only, kept=config.kept, **chosen)


def run(config: Config = Config(), *, context: ExperimentRun | None = None, progress: bool = True) -> Result:
    """Tables 2 and 3 and their verdicts at the sizes ``config`` means."""
    context = context or ExperimentRun(MODULE, config)
    context.seed = config.seed
    return experiment(tables_config(config, context.device.type), progress=progress, context=context)


def main(argv=None) -> int:
    from sims.experiment import cli_main
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
