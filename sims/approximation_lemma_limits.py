"""The N -> infinity side of ``sims.approximation_lemma``: convergence of ||W' - S||_2 over N, its
extrapolation (mean = L + C N^{-1/2}, and a free power), the table of limits beside the paper's f_W,
and the curves of Fig 4.2 ((4.24) and the derived operator-norm limit against sigma).
"""
from __future__ import annotations

import numpy as np

from sims.stats import loglog_fit
from theory import approximation as paper
from theory import approximation_symbolic as derived


def convergence(records: list[dict]) -> dict | None:
    """log-log slope of |opnorm_mean - opnorm_limit| and of |fixed_z_mean - fixed_z_limit| in N
    (needs >= 3 N values; expected about -1/2)."""
    if len(records) < 3:
        return None
    ns = [r["N"] for r in records]
    out = {}
    for key, lim in (("opnorm", "opnorm_limit"), ("fixed_z", "fixed_z_limit")):
        errs = [abs(r[f"{key}_mean"] - r[lim]) for r in records]
        if min(errs) > 0:
            fit = loglog_fit(ns, errs)
            out[key] = {"slope": fit.slope, "slope_ci": [fit.slope_low, fit.slope_high]}
    return out


def extrapolate(records: list[dict], key: str = "opnorm") -> dict | None:
    """Weighted least squares of the mean against N^{-1/2} (the rate of the outlier
    fluctuations): the intercept estimates the N -> infinity limit, with a 95% t interval."""
    if len(records) < 3:
        return None
    x = np.array([r["N"] ** -0.5 for r in records])
    y = np.array([r[f"{key}_mean"] for r in records])
    half = np.array([(r[f"{key}_ci"][1] - r[f"{key}_ci"][0]) / 2 for r in records])
    w = 1 / np.maximum(half, 1e-12) ** 2
    X = np.stack([np.ones_like(x), x], 1)
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    beta = cov @ (X.T @ (w * y))
    resid = y - X @ beta
    dof = len(y) - 2
    scale = max(1.0, float(np.sum(w * resid**2) / dof)) if dof > 0 else 1.0
    from scipy import stats
    q = float(stats.t.ppf(0.975, max(dof, 1)))
    se = float(np.sqrt(cov[0, 0] * scale))
    return {"limit": float(beta[0]), "limit_ci": [float(beta[0] - q * se), float(beta[0] + q * se)],
            "slope_coef": float(beta[1]), "ns": [r["N"] for r in records]}


def extrapolate_power(records: list[dict], key: str = "opnorm") -> dict | None:
    """Weighted least squares of the mean against L + C N^(-a) with the exponent free (>= 4 N
    values): the limit L and the rate a, each with a 95% interval from the covariance of the
    fit (sampling errors from the per-N 95% t intervals; scaled up by the reduced chi^2 when the
    points scatter more than their errors, i.e. when the model misfits).  None when the excess C
    is not resolved (|C| <= 3 se): then a is not identifiable and ``extrapolate`` (a = 1/2 fixed)
    is the estimate to use."""
    if len(records) < 4:
        return None
    from scipy import optimize, stats
    recs = sorted(records, key=lambda r: r["N"])
    n = np.array([r["N"] for r in recs], dtype=float)
    y = np.array([r[f"{key}_mean"] for r in recs])
    sd = np.array([max((r[f"{key}_ci"][1] - r[f"{key}_ci"][0]) / 2 / 1.96, 1e-12) for r in recs])
    x = n / n[0]

    def model(x, L, C, a):
        return L + C * x ** (-a)

    p0 = (y[-1], y[0] - y[-1], 0.5)
    try:
        beta, cov = optimize.curve_fit(model, x, y, p0=p0, sigma=sd, absolute_sigma=True,
                                       bounds=([-np.inf, -np.inf, 0.05], [np.inf, np.inf, 3.0]),
                                       maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    if not np.all(np.isfinite(cov)) or abs(beta[1]) <= 3 * np.sqrt(cov[1, 1]):
        return None     # no resolved finite-N excess: the exponent is not identifiable
    dof = len(y) - 3
    chi2 = float(np.sum(((y - model(x, *beta)) / sd) ** 2))
    scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
    q = float(stats.t.ppf(0.975, max(dof, 1)))
    se = np.sqrt(np.diag(cov) * scale)
    L, C, a = (float(v) for v in beta)
    return {"limit": L, "limit_ci": [L - q * se[0], L + q * se[0]], "rate": a,
            "rate_ci": [a - q * se[2], a + q * se[2]], "coef": C, "chi2": chi2, "dof": dof,
            "ns": [int(v) for v in n], "model": "mean = L + C (N/N_0)^(-a)"}


def limits_table(records: list[dict]) -> list[dict]:
    """Per spike set and quantity (||W'-S||_2, ||(W'-S) z|| at the (B.6) z): the power-law
    extrapolation (limit and rate with CIs), the log-log slope of |mean - derived limit| and, for
    ||W'-S||_2, the log-log slope of the per-matrix RMS error about the derived limit."""
    rows = []
    for spikes in sorted({tuple(r["spikes"]) for r in records}):
        recs = sorted((r for r in records if tuple(r["spikes"]) == spikes), key=lambda r: r["N"])
        conv = convergence(recs) or {}
        for key in ("opnorm", "fixed_z"):
            fit = extrapolate_power(recs, key)
            row = {"spikes": list(spikes), "quantity": key, "derived_limit": recs[-1][f"{key}_limit"],
                   "ns": [r["N"] for r in recs]}
            if fit:
                row.update(model="L + C N^-a", limit=fit["limit"], limit_ci=fit["limit_ci"],
                           rate=fit["rate"], rate_ci=fit["rate_ci"], chi2=fit["chi2"],
                           dof=fit["dof"])
            else:
                half = extrapolate(recs, key)
                if half:
                    row.update(model="L + C N^-1/2 (excess not resolved)", limit=half["limit"],
                               limit_ci=half["limit_ci"])
            if "limit_ci" in row:
                row["derived_in_ci"] = bool(row["limit_ci"][0] <= row["derived_limit"]
                                            <= row["limit_ci"][1])
            if key in conv:
                row.update(loglog_slope=conv[key]["slope"], loglog_slope_ci=conv[key]["slope_ci"])
            if key == "opnorm" and len(recs) >= 3 and all("opnorm_samples" in r for r in recs):
                # RMS error about the derived limit (bias and fluctuations together): the rate at
                # which a single matrix approaches the limit
                rms = [float(np.sqrt(np.mean((np.asarray(r["opnorm_samples"]) - r["opnorm_limit"]) ** 2)))
                       for r in recs]
                fit = loglog_fit([r["N"] for r in recs], rms)
                row.update(rms_error=rms, rms_slope=fit.slope,
                           rms_slope_ci=[fit.slope_low, fit.slope_high])
            rows.append(row)
    return rows


def fig_4_2_curves(n_points: int = 400) -> list[dict]:
    """Fig 4.2: f_W of (4.24) against sigma_i in (1, 10], with the derived limits of ||W'-S||_2
    (what (B.14) claims f_W to be) and of ||(W'-S)v_i|| (= (4.24))."""
    sig = np.linspace(1.01, 10, n_points)
    f = np.array([paper.f_W_example_A1([s]) for s in sig])
    op = derived.block_opnorm_limits(sig)
    return [{"sigma": float(s), "f_W_4_24": float(a), "opnorm_limit": float(b), "fixed_v_limit": float(a)}
            for s, a, b in zip(sig, f, op)]
