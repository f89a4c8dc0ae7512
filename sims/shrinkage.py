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
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.cli import make_parser, output_dir, positive_int, progress, run as cli_run
from core.result import Provenance, Result, Verdict
from core.validate import InvalidArgument, check_choice, check_float, check_int
from sims.device import resolve_device
from sims.linalg import top_singular_triplets
from sims.noise import spiked_matrix
from sims.stats import loglog_fit, mean_ci, proportion_ci
from theory import approximation as paper
from theory import shrinkage as sh
from theory import shrinkage_symbolic as ss
from theory import spiked
from theory import tracy_widom

RULES = ("truncate", "gd_threshold", "frobenius", "operator", "nuclear", "debias")
EDGE_RULES = sh.RULES            # the contract's rules, incl. OptShrink (needs the whole spectrum)
NORMS = ss.NORMS


@dataclass
class LemmaConfig:
    ratios: tuple = (1.0, 0.25, 4.0)
    multiples: tuple = (1.3, 2.0, 4.0)          # spikes = c^{1/4} * multiples
    sizes: tuple = (1000, 2000, 4000, 8000)     # max(N, M)
    trials: dict = field(default_factory=lambda: {1000: 40, 2000: 30, 4000: 16, 8000: 8})
    edge_sizes: tuple = (500, 1000)             # dense-SVD study of the exact-edge rules
    edge_trials: dict = field(default_factory=lambda: {500: 60, 1000: 40})
    seed: int = 0
    family_level: float = 0.95                  # simultaneous level of the lemma verdicts


def shape_for(size: int, ratio: float) -> tuple[int, int]:
    """(N, M) with max(N, M) = size and M/N = ratio."""
    return (size, int(round(ratio * size))) if ratio <= 1 else (int(round(size / ratio)), size)


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


# ------------------------------------------------------------------------------------- one matrix
def _error_norms(U, eta, V, theta, r_s) -> tuple[float, float]:
    """(||E||_2, ||E||_F) of E = U diag(eta) V^T - sum_i theta_i e_i e_i^T, through the 2r x 2r core
    of E on the spans of [U, e_1..e_r] and [V, e_1..e_r]."""
    N, M = U.shape[0], V.shape[0]
    keep = eta != 0
    U, V, eta = U[:, keep], V[:, keep], eta[keep]
    L = np.concatenate([U, np.eye(N, r_s)], axis=1)
    R = np.concatenate([V, np.eye(M, r_s)], axis=1)
    QL, RL = np.linalg.qr(L)
    QR, RR = np.linalg.qr(R)
    core = RL @ np.diag(np.concatenate([eta, -theta])) @ RR.T
    sv = np.linalg.svd(core, compute_uv=False)
    return float(sv[0]), float(np.sqrt(np.sum(sv**2)))


def lemma_trial(theta, N: int, M: int, seed: int, trial: int, device) -> dict:
    """One matrix: the r outlier triplets (engine), each rule applied to them (bulk dropped), and
    ||W_eta - S|| in both norms."""
    smp = spiked_matrix(theta, N, M, seed=seed, trials=[trial], device=device)
    r = len(theta)
    U, s, V = top_singular_triplets(smp.W[0], r, dtype=torch.float64)
    U, s, V = (t.cpu().numpy().astype(np.float64) for t in (U, s, V))
    th = smp.theta.numpy()
    beta = min(N, M) / max(N, M)
    unit = math.sqrt(max(N, M) / N)          # noise_sigma = 1/sqrt(N) in the papers' units
    out = {"trial": trial, "s": s.tolist()}
    for rule in RULES:
        eta = unit * np.asarray(ss.rule_eta(s / unit, beta, rule), dtype=float)
        op, fro = _error_norms(U, eta, V, th, r)
        out[rule] = {"operator": op, "frobenius": fro, "kept": int(np.count_nonzero(eta))}
    return out


def edge_trial(theta, N: int, M: int, seed: int, trial: int) -> dict:
    """One matrix, dense SVD: every rule of the contract on ALL singular values (threshold at the
    MP edge itself), ||W_eta - S|| and how many bulk values (beyond the r outliers) were kept."""
    smp = spiked_matrix(theta, N, M, seed=seed, trials=[trial])
    W = smp.W[0].numpy()
    Uf, s, Vt = np.linalg.svd(W, full_matrices=False)
    th = smp.theta.numpy()
    r = len(theta)
    edge = spiked.edge(M / N)
    out = {"trial": trial, "s_r1_minus_edge": float(s[r] - edge)}
    for rule in EDGE_RULES:
        new = sh.shrink_singular_values(s, N, M, rule, noise_sigma=1 / math.sqrt(N))
        op, fro = _error_norms(Uf, new, Vt.T, th, r)
        out[rule] = {"operator": op, "frobenius": fro,
                     "bulk_kept": int(np.count_nonzero(new[r:])), "kept": int(np.count_nonzero(new))}
    return out


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


def run_lemma(cfg: LemmaConfig, *, device="cpu", cache: Path | None = None, log=print) -> Result:
    cfg = _validate(cfg)
    prov = Provenance.start(module="sims.shrinkage", seed=cfg.seed, device=str(device))
    dev = resolve_device(device)
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
    return Result(experiment="sims.shrinkage", config=_config_dict(cfg), provenance=prov.stop(),
                  records=records, verdicts=verdicts,
                  tables={"edge": edge_rows, "trials": trial_rows, "rates": rates(records)})


def _config_dict(cfg: LemmaConfig) -> dict:
    d = asdict(cfg)
    d["trials"] = {str(k): v for k, v in cfg.trials.items()}
    d["edge_trials"] = {str(k): v for k, v in cfg.edge_trials.items()}
    return d


# ------------------------------------------------------------------------------------- analysis
def rates(records: list[dict]) -> list[dict]:
    """Per (ratio, rule, norm): log-log slope of the RMS deviation from the limit in N (expected
    -1/2: the outliers and overlaps fluctuate at N^{-1/2}), and of |mean - limit| (the bias)."""
    out = []
    keys = sorted({(r["ratio"], r["rule"], r["norm"]) for r in records})
    for c, rule, norm in keys:
        sel = sorted((r for r in records if (r["ratio"], r["rule"], r["norm"]) == (c, rule, norm)),
                     key=lambda r: r["size"])
        if len(sel) < 3:
            continue
        sizes = [r["size"] for r in sel]
        fit = loglog_fit(sizes, [r["rmse"] for r in sel])
        row = {"ratio": c, "rule": rule, "norm": norm, "sizes": sizes,
               "rmse_slope": fit.slope, "rmse_slope_ci": [fit.slope_low, fit.slope_high]}
        bias = [abs(r["mean"] - r["limit"]) for r in sel]
        if min(bias) > 0:
            b = loglog_fit(sizes, bias)
            row.update(bias_slope=b.slope, bias_slope_ci=[b.slope_low, b.slope_high])
        out.append(row)
    return out


def extrapolate(sel: list[dict], level: float = 0.95) -> dict | None:
    """Weighted least squares of the mean against N^{-1/2} over the sizes (weights 1/se^2): the
    intercept estimates the N -> infinity limit, with a t interval at ``level``.
    N^{-1/2} is the order of the outlier and overlap fluctuations; where a limit is a max of tied
    block values (the square operator rule: every block has both singular values 1) the mean carries
    a bias of that order (E max of fluctuations), which the intercept removes."""
    if len(sel) < 3:
        return None
    from scipy import stats
    x = np.array([r["size"] ** -0.5 for r in sel])
    y = np.array([r["mean"] for r in sel])
    se = np.array([max(r["sd"], 1e-12) / math.sqrt(r["trials"]) for r in sel])
    w = 1 / se**2
    X = np.stack([np.ones_like(x), x], 1)
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    beta = cov @ (X.T @ (w * y))
    dof = len(y) - 2
    chi2 = float(np.sum(w * (y - X @ beta) ** 2))
    # the per-size standard errors are estimated from as few as 8 matrices: t quantile with the
    # smallest per-size dof; a misfit of the N^{-1/2} model (chi2/dof > 1) widens the interval
    scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
    q = float(stats.t.ppf(0.5 + level / 2, min(r["trials"] for r in sel) - 1))
    half = q * math.sqrt(cov[0, 0] * scale)
    return {"limit": float(beta[0]), "ci": [float(beta[0] - half), float(beta[0] + half)],
            "coef_sqrt_n": float(beta[1]), "sizes": [r["size"] for r in sel], "chi2": chi2, "dof": dof}


def _t_interval(rec: dict, level: float) -> list[float]:
    from scipy import stats
    half = float(stats.t.ppf(0.5 + level / 2, rec["trials"] - 1)) * rec["sd"] / math.sqrt(rec["trials"])
    return [rec["mean"] - half, rec["mean"] + half]


def lemma_verdicts(records: list[dict], edge_rows: list[dict], cfg: LemmaConfig) -> list[Verdict]:
    out = []
    top = max(r["size"] for r in records)
    cells = [r for r in records if r["size"] == top]
    level = 1 - (1 - cfg.family_level) / len(cells)          # Bonferroni over the cells
    rate = {(x["ratio"], x["rule"], x["norm"]): x for x in rates(records)}
    for r in cells:
        sel = sorted((x for x in records if (x["ratio"], x["rule"], x["norm"]) ==
                      (r["ratio"], r["rule"], r["norm"])), key=lambda x: x["size"])
        ext = extrapolate(sel, level)
        lo_n, hi_n = _t_interval(r, level)
        in_n = lo_n <= r["limit"] <= hi_n
        if ext is not None:
            lo, hi = ext["ci"]
            measured = ext["limit"]
            basis = (f"N -> inf intercept of mean = L + C N^(-1/2) over max(N,M) = {ext['sizes']}: "
                     f"L = {ext['limit']:.5f}, C = {ext['coef_sqrt_n']:+.3f}")
        else:
            lo, hi, measured, basis = lo_n, hi_n, r["mean"], "no extrapolation (< 3 sizes)"
        # 'fails' needs evidence against both readings of the data: the N -> inf intercept (whose
        # N^{-1/2} model overshoots where a near-tie of block values resolves at larger N) and the
        # mean at the largest N (biased by O(N^{-1/2}) at ties)
        ok = lo <= r["limit"] <= hi or in_n
        rr = rate.get((r["ratio"], r["rule"], r["norm"]))
        slope = (f"; RMS deviation ~ N^{rr['rmse_slope']:.2f} (CI {rr['rmse_slope_ci'][0]:.2f}, "
                 f"{rr['rmse_slope_ci'][1]:.2f})" if rr else "")
        out.append(Verdict(
            "000:lemma:B.2",
            f"rule={r['rule']}, ||W_eta - S||_{'2' if r['norm'] == 'operator' else 'F'}, c={r['ratio']:g}, "
            f"N={r['N']}, M={r['M']}, spikes={[round(t, 4) for t in r['spikes']]}, {r['trials']} matrices",
            "holds" if ok else "fails", measured=measured, interval=[lo, hi], bound=r["limit"],
            N=r["N"],
            note=(f"derived a.s. limit (theory.shrinkage_symbolic) vs {basis}; intervals at "
                  f"{100 * level:.3f}% (95% simultaneous over {len(cells)} cells); at the largest N the "
                  f"mean is {r['mean']:.5f} [{lo_n:.5f}, {hi_n:.5f}] "
                  f"({'contains' if in_n else 'excludes'} the limit){slope}"),
            corrected="" if ok else "the derived block limit is off: see the rates table",
            extra={"extrapolation": ext}))
    # (B.14): the paper's f_W against truncation, and the corrected lemma (operator shrinker)
    for c in sorted({r["ratio"] for r in cells}):
        tr = next(r for r in cells if (r["ratio"], r["rule"], r["norm"]) == (c, "truncate", "operator"))
        opt = next(r for r in cells if (r["ratio"], r["rule"], r["norm"]) == (c, "operator", "operator"))
        theta = np.array(tr["spikes"])
        g_sigma, g_u, g_v = (np.atleast_1d(np.asarray(x, dtype=float)) for x in
                             (spiked.singular_value_limit(theta, c), *spiked.overlap_limits(theta, c)))
        f_W = paper.f_W_general_B6(g_sigma, g_u, g_v, theta)
        ext = extrapolate(sorted((x for x in records if (x["ratio"], x["rule"], x["norm"]) ==
                                  (c, "truncate", "operator")), key=lambda x: x["size"]), level)
        lo, hi = ext["ci"] if ext else _t_interval(tr, level)
        f_in, d_in = lo <= f_W <= hi, lo <= tr["limit"] <= hi
        v = "fails" if d_in and not f_in else ("holds" if f_in and not d_in else "inconclusive")
        closed = ("sqrt((theta_i^2 + c)/(theta_i^2 + 1))" if c <= 1 else
                  "sqrt(c (theta_i^2 + 1)/(theta_i^2 + c))")
        corrected = (f"Corrected Approximation Lemma: with W_op = sum_i eta(sigma'_i) u'_i v'_i^T over the "
                     f"outliers sigma'_i > sqrt(lambda+) + eps, eta the operator-optimal shrinker "
                     f"(theory.shrinkage: x c~/c in the papers' units), ||W_op - S||_2 -> max_i theta_i "
                     f"sqrt(1 - min(g_u_i, g_v_i)) = max_i {closed} (= 1 for square R), the smallest "
                     f"limit any shrinker of the outliers reaches; here {opt['limit']:.5f} "
                     f"(measured {opt['mean']:.5f}). Truncation (paper) tends to {tr['limit']:.5f}.")
        out.append(Verdict(
            "000:eq:B.14",
            f"truncation at the MP edge (Algorithm 3 / (B.4) with the outliers kept), c={c:g}, "
            f"N={tr['N']}, M={tr['M']}, spikes={[round(t, 4) for t in tr['spikes']]}, {tr['trials']} matrices",
            v, measured=ext["limit"] if ext else tr["mean"], interval=[lo, hi], bound=f_W, N=tr["N"],
            corrected=corrected if v == "fails" else "",
            note=(f"(B.14) claims ||W'-S||_2 -> f_W = {f_W:.5f} ((B.6)); derived limit {tr['limit']:.5f}; "
                  f"measured: N -> inf intercept (as for the Lemma B.2 cells), mean at the largest N "
                  f"{tr['mean']:.5f}; "
                  f"operator-optimal shrinker measured {opt['mean']:.5f} vs its limit {opt['limit']:.5f}"),
            extra={"operator_shrinker_limit": opt["limit"], "operator_shrinker_mean": opt["mean"],
                   "truncate_limit": tr["limit"]}))
    # exact edge (eps = 0): bulk values kept with probability -> P(TW_1 > 0)
    p_tw = float(tracy_widom.sf(0.0, 1))
    for row in edge_rows:
        if row["rule"] not in ("truncate", "operator", "frobenius") or row["paired_trials"] < 2:
            continue
        if row["max_abs_minus_outlier_only"] is None:
            continue
        out.append(_edge_verdict(row, p_tw))
    return out


EDGE_NEGLIGIBLE = 1e-3     # a change of the error below this fraction of its limit counts as none


def _edge_verdict(row: dict, p_tw: float) -> Verdict:
    """eps = 0 against eps > 0 on the same matrices.  The paired difference is exactly 0 on a matrix
    that keeps no bulk value, so: no matrix kept one -> 'vacuous' (the comparison never arose);
    the 95% t interval excludes 0 -> 'fails'; the interval lies within +-EDGE_NEGLIGIBLE x limit ->
    'holds' (margin stated); otherwise 'inconclusive' (a few kept values, too few to tell)."""
    n_kept = int(round(row["p_bulk_kept"] * row["trials"]))
    ci = row["minus_outlier_only_ci"] or [0.0, 0.0]
    band = EDGE_NEGLIGIBLE * abs(row["limit"])
    if n_kept == 0:
        verdict = "vacuous"
    elif ci[0] > 0 or ci[1] < 0:
        verdict = "fails"
    elif -band <= ci[0] and ci[1] <= band:
        verdict = "holds"
    else:
        verdict = "inconclusive"
    decide = {"vacuous": "no matrix kept a bulk singular value, so eps = 0 and eps > 0 coincided on "
                         "every draw; more or larger draws decide it. ",
              "inconclusive": f"the interval is wider than +-{EDGE_NEGLIGIBLE:g} x limit = +-{band:.3g} "
                              "and contains 0: more matrices with a kept bulk value decide it. ",
              "holds": f"interval within +-{EDGE_NEGLIGIBLE:g} x limit = +-{band:.3g}. ",
              "fails": ""}[verdict]
    return Verdict(
        "000:lemma:B.2",
        f"eps = 0 (threshold at the MP edge itself) vs eps > 0, rule={row['rule']}, "
        f"||W_eta - S||_{'2' if row['norm'] == 'operator' else 'F'}, c={row['ratio']:g}, "
        f"N={row['N']}, M={row['M']}, {row['paired_trials']} matrices",
        verdict, measured=row["minus_outlier_only"] or 0.0, interval=ci,
        bound=0.0, N=row["N"],
        note=(f"{decide}paired mean difference of the error at eps = 0 and with the bulk dropped (95% t; "
              f"max |difference| {row['max_abs_minus_outlier_only']:.4g}); {n_kept} of {row['trials']} "
              f"matrices kept a bulk singular value ({row['p_bulk_kept']:.3f}, Wilson "
              f"{row['p_bulk_kept_ci'][0]:.3f}, {row['p_bulk_kept_ci'][1]:.3f}); as N -> inf "
              f"P(s_(r+1) > edge) -> P(TW_1 > 0) = {p_tw:.4f}, approached slowly here (the "
              f"near-threshold outlier pushes the bulk down by O(1/N), comparable to the TW scale "
              f"N^(-2/3) at these N)"),
        corrected="" if verdict != "fails" else (
            "the a.s. limit needs eps > 0 as in (B.4) (or a threshold above the edge by more "
            "than the TW scale N^(-2/3)); at eps = 0 a kept bulk value adds a component of size "
            "~ the edge (truncation), ~ unit sqrt(beta) (corrected operator shrinker) or "
            "~ unit beta^(1/4) (GD17's printed one, 'debias')"))


# ------------------------------------------------------------------------------------- CLI
QUICK = LemmaConfig(ratios=(1.0, 0.25), multiples=(1.3, 2.0, 4.0), sizes=(200, 400, 800),
                    trials={200: 6, 400: 6, 800: 4}, edge_sizes=(200, 400),
                    edge_trials={200: 10, 400: 6})


def main(argv=None) -> int:
    p = make_parser("sims.shrinkage", __doc__, options=("seed", "device", "json", "quick"))
    p.add_argument("--sizes", type=positive_int, nargs="+", help="max(N, M) values (default 1000 2000 4000 8000)")
    p.add_argument("--trials", type=positive_int, nargs="+",
                   help="matrices per size, one per --sizes entry (default 40 30 16 8)")
    p.add_argument("--cache", type=output_dir, default=None, metavar="DIR",
                   help="folder of per-cell JSON files: cells found there are not recomputed")
    return cli_run(p, argv, _main)


def _main(args) -> Result:
    cfg = QUICK if args.quick else LemmaConfig()
    if args.sizes:
        trials = args.trials or [cfg.trials.get(n, 10) for n in args.sizes]
        if len(trials) != len(args.sizes):
            raise InvalidArgument(f"--trials needs one count per --sizes entry, got {args.trials}")
        cfg = LemmaConfig(**{**asdict(cfg), "sizes": tuple(args.sizes),
                             "trials": dict(zip(args.sizes, trials))})
    cfg.seed = args.seed
    return run_lemma(cfg, device=args.device, cache=args.cache)


if __name__ == "__main__":
    raise SystemExit(main())
