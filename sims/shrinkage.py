"""`python -m sims.shrinkage`: the Approximation Lemma (paper 000, Lemma B.2, (B.14)) for every shrinkage rule.

W = R + S, R N x M iid N(0, 1/N), S = sum_i theta_i e_i e_i^T (the paper's diagonal S of Example 4.2),
spikes theta = c^{1/4} * ``multiples`` (above the threshold c^{1/4}).  For each rule of
``theory.shrinkage_symbolic.LIMIT_RULES`` (truncation at the MP edge = Algorithm 3, GD14 hard
threshold, GD17 Frobenius / nuclear shrinkers, the corrected operator shrinker, GD17's printed
operator shrinker "debias") and each norm, ||W_eta - S|| is measured on ``trials`` matrices per size
and compared with the derived almost-sure limit ``shrunk_error_limit``.

Two studies, one Result:

* ``lemma`` (records, the main table): the rule applied to the r outlier triplets of W, computed with
  the engine ``sims.linalg.top_singular_triplets`` at max(N, M) = 1000 ... 8000.  This is the rule
  with its threshold raised by a fixed eps > 0 as in (B.4): as N grows it keeps no bulk value.
  Per (ratio, rule, norm): mean with a 95% t interval per N, the rate of the RMS deviation from the
  limit (log-log slope, expected -1/2), and a verdict at the largest N with simultaneous
  (Bonferroni) intervals over all cells.
* ``edge`` (table ``edge``): the rules exactly as ``theory.shrinkage.shrink_singular_values``
  applies them (threshold at the MP edge itself, no eps), from a dense SVD at the smaller sizes:
  how often a bulk singular value is kept, and what it does to the error.  A bulk value exceeds the
  edge with probability tending to P(TW_1 > 0) (the top non-outlier singular value has the TW_1
  fluctuations of the noise's largest one), so truncation (which keeps it at the edge value) and
  the operator shrinkers (which map it to unit * sqrt(beta), resp. unit * beta^{1/4} for GD17's
  printed one) have no almost-sure limit at eps = 0.

CLI: ``python -m sims.shrinkage [--quick] [--json results/shrinkage.json] [--cache runs/shrinkage]``
(cells already in the cache folder are read, not recomputed: the long run is resumable).

Layout: ``sims.shrinkage_trials`` (one matrix, the sizes of a run), ``sims.shrinkage_verdicts``
(rates, extrapolation, verdicts); this module is the experiment (the sweep with its per-cell trial
cache, command line).
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from core.cli import progress
from core.result import Result
from core.validate import InvalidArgument, check_float, check_int
from sims.experiment import ExperimentRun, option
from sims.stats import mean_ci, proportion_ci
from theory import shrinkage_symbolic as ss
# One concern per module; their public names stay importable from here.
from sims.shrinkage_trials import (EDGE_RULES, NORMS, RULES, LemmaConfig, edge_trial,  # noqa: F401
                                   error_norms, lemma_trial, shape_for)
from sims.shrinkage_verdicts import (EDGE_NEGLIGIBLE, edge_verdict, extrapolate,  # noqa: F401
                                     lemma_verdicts, rates)

MODULE = "sims.shrinkage"

# the names the tests use
_error_norms, _edge_verdict = error_norms, edge_verdict


def _validate(cfg: LemmaConfig) -> LemmaConfig:
    for c in cfg.ratios:
        check_float("ratio", c, 0.0, None, lo_open=True)
    for m in cfg.multiples:
        check_float("multiple", m, 1.0, None, lo_open=True)
    if len(set(cfg.multiples)) != len(cfg.multiples):
        raise InvalidArgument(f"multiples must be distinct, got {cfg.multiples}")
    for n in tuple(cfg.sizes) + tuple(cfg.edge_sizes):
        check_int("size", n, 50, 20000)
    for d in (cfg.trials, cfg.edge_trials):
        for n, t in d.items():
            check_int(f"trials[{n}]", t, 2, 100000)
    missing = [n for n in cfg.sizes if n not in cfg.trials] + \
              [n for n in cfg.edge_sizes if n not in cfg.edge_trials]
    if missing:
        raise InvalidArgument(f"no trial count for sizes {missing}")
    check_float("family_level", cfg.family_level, 0.0, 1.0, lo_open=True, hi_open=True)
    return cfg


# ------------------------------------------------------------------------------------- sweeps
def _cell(cache: Path | None, key: str, n_trials: int, one_trial):
    """[one_trial(t) for t in range(n_trials)], each trial stored in ``cache/key/t.json`` (a killed
    run resumes trial by trial); a finished cell is also stored whole as ``cache/key.json``."""
    if cache is None:
        return [one_trial(t) for t in progress(range(n_trials), desc=key, unit="matrix")]
    whole = cache / f"{key}.json"
    if whole.exists():
        return json.loads(whole.read_text())
    folder = cache / key
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for t in progress(range(n_trials), desc=key, unit="matrix"):
        path = folder / f"{t}.json"
        if path.exists():
            rows.append(json.loads(path.read_text()))
            continue
        rows.append(one_trial(t))
        path.write_text(json.dumps(rows[-1]))
    whole.write_text(json.dumps(rows))
    return rows


def _spikes(c: float, multiples) -> np.ndarray:
    return np.sort(c**0.25 * np.asarray(multiples, dtype=float))[::-1].copy()


def run_lemma(cfg: LemmaConfig, *, device="cpu", cache: Path | None = None, log=print,
              context: ExperimentRun | None = None) -> Result:
    """The sweep at any ``LemmaConfig`` (ratios and spikes included, which the command line does
    not set); ``run`` is the registered experiment's entry, through here."""
    cfg = _validate(cfg)
    context = context or ExperimentRun(MODULE, device=device, seed=cfg.seed)
    with context:
        return _sweep(cfg, context, None if cache is None else Path(cache), log)


def _sweep(cfg: LemmaConfig, context: ExperimentRun, cache: Path | None, log) -> Result:
    dev = context.device
    records, trial_rows, edge_rows = [], [], []
    lemma_cells = {}
    for c in cfg.ratios:
        theta = _spikes(c, cfg.multiples)
        limits = {(rule, norm): ss.shrunk_error_limit(theta, c, rule, norm)
                  for rule in EDGE_RULES for norm in NORMS}
        for size in cfg.sizes:
            N, M = shape_for(size, c)
            n_tr = cfg.trials[size]
            key = f"lemma_c{c:g}_N{N}_M{M}_T{n_tr}_s{cfg.seed}_m{'-'.join(f'{m:g}' for m in cfg.multiples)}"
            rows = _cell(cache, key, n_tr, lambda t: lemma_trial(theta, N, M, cfg.seed, t, dev))
            log(f"lemma c={c:g} N={N} M={M}: {n_tr} matrices")
            lemma_cells[size] = rows
            for rule in RULES:
                for norm in NORMS:
                    vals = np.array([row[rule][norm] for row in rows])
                    ci = mean_ci(vals)
                    lim = limits[(rule, norm)]
                    records.append({
                        "ratio": c, "N": N, "M": M, "size": size, "rule": rule, "norm": norm,
                        "trials": n_tr, "spikes": theta.tolist(), "mean": ci.mean,
                        "ci": ci.as_list(), "sd": float(vals.std(ddof=1)), "limit": lim,
                        "rmse": float(np.sqrt(np.mean((vals - lim) ** 2))),
                        "kept_mean": float(np.mean([row[rule]["kept"] for row in rows]))})
                    trial_rows += [{"ratio": c, "N": N, "M": M, "rule": rule, "norm": norm,
                                    "trial": row["trial"], "value": row[rule][norm]} for row in rows]
        for size in cfg.edge_sizes:
            N, M = shape_for(size, c)
            n_tr = cfg.edge_trials[size]
            key = f"edge_c{c:g}_N{N}_M{M}_T{n_tr}_s{cfg.seed}_m{'-'.join(f'{m:g}' for m in cfg.multiples)}"
            rows = _cell(cache, key, n_tr, lambda t: edge_trial(theta, N, M, cfg.seed, t))
            log(f"edge  c={c:g} N={N} M={M}: {n_tr} matrices")
            above = int(sum(row["s_r1_minus_edge"] > 0 for row in rows))
            # the same matrices (same seed and trial indices) in the outlier-only study, if any
            twin = {row["trial"]: row for row in lemma_cells.get(size, [])}
            for rule in EDGE_RULES:
                bulk = np.array([row[rule]["bulk_kept"] for row in rows])
                p = proportion_ci(int(np.count_nonzero(bulk)), n_tr)
                for norm in NORMS:
                    vals = np.array([row[rule][norm] for row in rows])
                    clean = vals[bulk == 0]
                    ci = mean_ci(vals)
                    pairs = [row[rule][norm] - twin[row["trial"]][rule][norm] for row in rows
                             if row["trial"] in twin and rule in twin[row["trial"]]]
                    diff = mean_ci(pairs) if len(pairs) >= 2 and np.ptp(pairs) > 0 else None
                    edge_rows.append({
                        "minus_outlier_only": None if diff is None else diff.mean,
                        "minus_outlier_only_ci": None if diff is None else diff.as_list(),
                        "paired_trials": len(pairs),
                        "max_abs_minus_outlier_only": float(np.max(np.abs(pairs))) if pairs else None,
                        "ratio": c, "N": N, "M": M, "size": size, "rule": rule, "norm": norm,
                        "trials": n_tr, "mean": ci.mean, "ci": ci.as_list(),
                        "limit": limits[(rule, norm)], "p_bulk_kept": p.mean,
                        "p_bulk_kept_ci": p.as_list(), "s_r1_above_edge": above,
                        "mean_if_no_bulk": float(clean.mean()) if clean.size else None,
                        "mean_if_bulk": float(vals[bulk > 0].mean()) if np.any(bulk > 0) else None})
    verdicts = lemma_verdicts(records, edge_rows, cfg)
    return context.result(config=config_record(cfg), records=records, verdicts=verdicts,
                          tables={"edge": edge_rows, "trials": trial_rows, "rates": rates(records)})


def config_record(cfg: LemmaConfig) -> dict:
    """The Result's config of a run at ``cfg`` (trial counts keyed by size as strings, as JSON has them)."""
    d = asdict(cfg)
    d["trials"] = {str(k): v for k, v in cfg.trials.items()}
    d["edge_trials"] = {str(k): v for k, v in cfg.edge_trials.items()}
    return d


def redecide_file(path) -> None:
    """Make the verdicts of the Result stored at ``path`` again from its records and its ``edge``
    table (``lemma_verdicts``; measurements and the measuring run's provenance unchanged, the
    re-decision recorded by ``core.result.redecided``): ``python -c "from sims.shrinkage import
    redecide_file; redecide_file('results/shrinkage.json')"`` (the trial cache of the original run
    is gone; its records hold every number the verdicts use)."""
    from dataclasses import fields

    from core.result import read_result, redecided, write_result
    stored = read_result(path)
    kw = {}
    for f in fields(LemmaConfig):
        if f.name in stored.config:
            v = stored.config[f.name]
            kw[f.name] = ({int(k): x for k, x in v.items()} if f.name in ("trials", "edge_trials")
                          else tuple(v) if isinstance(v, list) else v)
    verdicts = lemma_verdicts(stored.records, stored.tables["edge"], LemmaConfig(**kw))
    write_result(redecided(stored, "sims.shrinkage.redecide_file", verdicts), path, csv_tables=False)


# ------------------------------------------------------------------------------------- the experiment
QUICK = LemmaConfig(ratios=(1.0, 0.25), multiples=(1.3, 2.0, 4.0), sizes=(200, 400, 800),
                    trials={200: 6, 400: 6, 800: 4}, edge_sizes=(200, 400),
                    edge_trials={200: 10, 400: 6})


@dataclass(frozen=True)
class Config:
    """The command line of ``python -m sims.shrinkage`` (ratios and spikes: ``LemmaConfig``'s)."""
    seed: int = option(0, "base seed; every matrix's generator derives from it", lo=0)
    quick: bool = option(False, "small sizes (ratios 1 and 0.25, max(N, M) 200-800), seconds to a minute")
    sizes: tuple[int, ...] | None = option(None, "max(N, M) values (default 1000 2000 4000 8000)", lo=50, hi=20000,
                                           optional=True)
    trials: tuple[int, ...] | None = option(None, "matrices per size, one per --sizes entry (default 40 30 16 8)",
                                            lo=2, hi=100000, optional=True)
    cache: str | None = option(None, "folder of per-cell JSON files: cells found there are not recomputed "
                                     "(a killed run resumes)", optional=True)


def toy_config(tmp_path) -> Config:
    """The quick sizes cut to max(N, M) = 100-200, 3 matrices each, cached under ``tmp_path``."""
    return Config(quick=True, sizes=(100, 150, 200), trials=(3, 3, 3), cache=str(tmp_path / "cache"))


def lemma_config(config: Config) -> LemmaConfig:
    """The ``LemmaConfig`` a command line means: the default or ``QUICK`` sizes, ``--sizes`` with
    its ``--trials`` (default: the preset's count for a size, else 10), the seed."""
    cfg = QUICK if config.quick else LemmaConfig()
    for name in ("sizes", "trials"):  # an empty list given is refused, not taken as the default
        if getattr(config, name) == ():
            raise InvalidArgument(f"{name} must hold at least one value, got ()")
    if config.sizes:
        trials = config.trials or [cfg.trials.get(n, 10) for n in config.sizes]
        if len(trials) != len(config.sizes):
            raise InvalidArgument(f"trials needs one count per sizes entry, got {list(config.trials)}")
        cfg = replace(cfg, sizes=tuple(config.sizes), trials=dict(zip(config.sizes, trials)))
    elif config.trials:
        raise InvalidArgument("trials needs sizes (one count per sizes entry)")
    return replace(cfg, seed=config.seed)


def run(config: Config = Config(), *, context: ExperimentRun | None = None, log=print) -> Result:
    """Every rule and norm at the sizes ``config`` means, verdicts on Lemma B.2 and (B.14)."""
    cfg = lemma_config(config)
    context = context or ExperimentRun(MODULE, config)
    context.seed = cfg.seed
    return run_lemma(cfg, cache=config.cache, log=log, context=context)


def main(argv=None) -> int:
    from sims.experiment import cli_main
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
