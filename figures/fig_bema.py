"""Figures D.1 and D.2 of paper 000 (BEMA on Example D.1), from ``results/bema_checks.json``.

D.1: lambda+ against alpha (beta = 0.5) and against beta (alpha = 0.25), the paper's red line
lambda+ = 4, and BEMA on the noise R alone (tables ``fig_d1_alpha``, ``fig_d1_beta``).  D.2: ESD
of X = W^T W / N with the BEMA-fitted MP density (tables ``fig_d2_fit``, ``fig_d2_histogram``,
``fig_d2_mp``).  Each writes ``fig_D_x.png`` with its data (JSON, CSV) beside it.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from figures._output import figure_stem, save_figure, source  # noqa: E402
from figures._results import load_result, results_dir  # noqa: E402

RESULT = "bema_checks"
COMMAND = "python -m sims.bema_checks --json results/bema_checks.json"


def fig_d1(outdir: Path, args) -> list[Path]:
    """Fig D.1: BEMA lambda+ on Example D.1 against alpha and against beta."""
    result = load_result(RESULT, COMMAND, results_dir(args))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    rows = []
    for ax, key, var in ((axes[0], "fig_d1_alpha", "alpha"), (axes[1], "fig_d1_beta", "beta")):
        sweep = result.tables[key]
        first = sweep[0]
        x = [r[var] for r in sweep]
        ax.fill_between(x, [r["lambda_plus_min"] for r in sweep], [r["lambda_plus_max"] for r in sweep],
                        color="tab:blue", alpha=0.2, label=f"range over {first['trials']} draws of R")
        ax.plot(x, [r["lambda_plus_mean"] for r in sweep], "o-", ms=3, color="tab:blue",
                label="BEMA on X = (R+S)^T(R+S)/N")
        ax.plot(x, [r["lambda_plus_noise_only_mean"] for r in sweep], "--", color="tab:green",
                label="BEMA on R^T R/N alone")
        ax.axhline(first["limit"], color="red", label=f"lambda+ = {first['limit']:g}")
        fixed = f"beta = {first['beta_fixed']}" if var == "alpha" else f"alpha = {first['alpha_fixed']}"
        ax.set_xlabel(var)
        ax.set_ylabel("lambda+")
        ax.set_title(f"({'a' if var == 'alpha' else 'b'}) dependence on {var}, {fixed}, N = {first['N']}")
        ax.legend(fontsize=8)
        rows += [{"sweep": var, **r} for r in sweep]
    fig.tight_layout()
    return save_figure(fig, outdir, figure_stem("D.1"), rows, source(result, RESULT))


def fig_d2(outdir: Path, args) -> list[Path]:
    """Fig D.2: ESD of X for Example D.1 with the BEMA-fitted MP density."""
    result = load_result(RESULT, COMMAND, results_dir(args))
    (fit,) = result.tables["fig_d2_fit"]
    hist, mp = result.tables["fig_d2_histogram"], result.tables["fig_d2_mp"]
    edges = [h["bin_low"] for h in hist] + [hist[-1]["bin_high"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.stairs([h["density"] for h in hist], edges, fill=True, color="tab:blue", alpha=0.6,
              label="ESD of X")
    ax.plot([m["x"] for m in mp], [m["density"] for m in mp], color="red",
            label=f"MP fitted by BEMA, sigma^2 = {fit['sigma2']:.4f}")
    ax.axvline(fit["lambda_plus"], color="k", ls="--",
               label=f"lambda+ = {fit['lambda_plus']:.4f} ({fit['n_spikes']} eigenvalues above)")
    ax.set_xlabel("eigenvalue of X = W^T W / N")
    ax.set_ylabel("density")
    ax.set_title(f"Fig D.2, Example D.1, N = {fit['N']} (outliers beyond the axis: "
                 f"{fit['n_outliers_beyond_axis']})", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    rows = [{"part": "histogram", **h} for h in hist] + [{"part": "mp_density", **m} for m in mp]
    meta = {**source(result, RESULT), "fit": fit,
            "bulk_mass": float(np.sum([h["density"] * (h["bin_high"] - h["bin_low"]) for h in hist]))}
    return save_figure(fig, outdir, figure_stem("D.2"), rows, meta)


FIGURES = {"D.1": fig_d1, "D.2": fig_d2}
