"""Spiked-model convergence figure (Theorems A.3 / A.4), from ``results/spiked_model.json``.

Three log-log panels against N, one line per spike strength theta: the RMS error of the i-th
singular value about its A.3 limit, and of |<u_i,u'_i>|^2 and |<v_i,v'_i>|^2 about their A.4
limits, with the predicted fluctuation slopes (-1/2 above the threshold; -2/3 for the value and
-1 for the overlaps below it) as dashed reference lines anchored at the smallest N.  The plotted
data are written beside the PNG.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from figures._output import figure_stem, save_figure, source  # noqa: E402
from figures._results import load_result, results_dir  # noqa: E402

RESULT = "spiked_model"
COMMAND = "python -m sims.spiked_model --json results/spiked_model.json"
PANELS = (("sv", "singular value (A.3)"), ("u_overlap", r"$|\langle u,u'\rangle|^2$ (A.4)"),
          ("v_overlap", r"$|\langle v,v'\rangle|^2$ (A.4)"))
COLUMNS = ("N", "M", "ratio", "noise", "theta", "threshold", "trials", "sv_rmse", "u_overlap_rmse",
           "v_overlap_rmse")


def plot_spiked(records: list[dict], outdir: Path, stem: str = figure_stem("spiked"), meta: dict | None = None
                ) -> list[Path]:
    """Plot the records of a ``sims.spiked_model`` Result; returns [png, json, csv]."""
    if not records:
        raise ValueError("no records to plot")
    thetas = sorted({r["theta"] for r in records}, reverse=True)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(thetas)))
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 4.2))
    for ax, (key, title) in zip(axes, PANELS):
        for theta, color in zip(thetas, colors):
            rows = sorted((r for r in records if r["theta"] == theta), key=lambda r: r["N"])
            ns = np.array([r["N"] for r in rows], dtype=float)
            err = np.array([r[f"{key}_rmse"] for r in rows])
            above = theta > rows[0]["threshold"]
            ax.loglog(ns, err, "o-", color=color, ms=4,
                      label=f"θ={theta:g}" + ("" if above else " (below)"))
            if len(ns) > 1:
                slope = -0.5 if above else (-2 / 3 if key == "sv" else -1.0)
                ax.loglog(ns, err[0] * (ns / ns[0]) ** slope, "--", color=color, lw=0.8, alpha=0.7)
        ax.set_xlabel("N")
        ax.set_ylabel("RMS error about the limit")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8, ncol=2)
    r0 = records[0]
    fig.suptitle(f"Spiked model W = R + S ({r0['noise']}, c = M/N = {r0['ratio']:g}): measured "
                 "(solid) vs predicted fluctuation slopes (dashed)", fontsize=10)
    rows = [{k: r[k] for k in COLUMNS if k in r} for r in records]
    return save_figure(fig, outdir, stem, rows, meta)


def fig_spiked(outdir: Path, args) -> list[Path]:
    """Spiked model: RMS error of A.3 / A.4 quantities against N (results/spiked_model.json)."""
    result = load_result(RESULT, COMMAND, results_dir(args))
    return plot_spiked(result.records, outdir, meta=source(result, RESULT))


FIGURES = {"spiked": fig_spiked}
