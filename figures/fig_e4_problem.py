"""Figures of the E.4 problem of paper 000 from ``results/e4_problem.json`` (``sims.e4_problem``).

4.1_example_4_1: Fig 4.1 for Example 4.1's own network ([2, 500, 2], unpruned, epoch 600): the
histogram of dX over the test set with the median Lemma 4.1 bound (table ``fig_4_1``; the figure
``4.1`` draws the MP-pruned two-hidden-layer net of ``sims.pruning_pipeline_check``).

E.5: the training points of the E.4 classification (blue above the random polynomial boundary, red
below), the boundary, the points Gaussian noise carried across it (circled) and the decision regions
of the trained Example 4.1 net (tables ``fig_e5_points``, ``fig_e5_boundary``, ``fig_e5_decision``).
D.3: a counterpart of Fig D.3 (paper 000's is an MNIST net): the ESD of X = W^T W / N of the trained
500 x 500 middle layer of [2, 500, 500, 2] on the E.4 data, with its BEMA best-fit MP density
(tables ``fig_d3_fit``, ``fig_d3_histogram``, ``fig_d3_mp``).  Each writes ``fig_<name>.png`` with
its data (JSON, CSV) beside it.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from figures._output import figure_stem, save_figure, source  # noqa: E402
from figures._results import load_result, results_dir  # noqa: E402

RESULT = "e4_problem"
COMMAND = "python -m sims.e4_problem --json results/e4_problem.json"


def fig_e5(outdir: Path, args) -> list[Path]:
    """Fig E.5: E.4 data (random polynomial boundary, noisy points) with the trained Example 4.1 net's decision regions."""
    result = load_result(RESULT, COMMAND, results_dir(args))
    points, boundary = result.tables["fig_e5_points"], result.tables["fig_e5_boundary"]
    decision = result.tables["fig_e5_decision"]
    xs = np.unique([d["x"] for d in decision])
    ys = np.unique([d["y"] for d in decision])
    grid = np.full((ys.size, xs.size), np.nan)
    for d in decision:
        grid[np.searchsorted(ys, d["y"]), np.searchsorted(xs, d["x"])] = d["predicted"]
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.contourf(xs, ys, grid, levels=[-0.5, 0.5, 1.5], colors=["#f4c7c3", "#c6dbef"], alpha=0.6)
    for label, colour, name in ((1, "tab:blue", "blue (label 1, above)"), (0, "tab:red", "red (label 0, below)")):
        sel = [p for p in points if p["label"] == label]
        ax.scatter([p["x"] for p in sel], [p["y"] for p in sel], s=6, color=colour, label=name)
    across = [p for p in points if p["across_boundary"]]
    ax.scatter([p["x"] for p in across], [p["y"] for p in across], s=40, facecolors="none",
               edgecolors="k", linewidths=0.8, label=f"carried across by the noise ({len(across)})")
    ax.plot([b["x"] for b in boundary], [b["p_x"] for b in boundary], "k-", lw=1.5, label="true boundary p(x)")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"Fig E.5: E.4 data ({len(points)} training points); shading: the trained "
                 "Example 4.1 net's class", fontsize=9)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    rows = ([{"part": "point", **p} for p in points] + [{"part": "boundary", **b} for b in boundary]
            + [{"part": "decision", **d} for d in decision])
    return save_figure(fig, outdir, figure_stem("E.5"), rows,
                       {**source(result, RESULT), "points_across_boundary": len(across)})


def fig_d3(outdir: Path, args) -> list[Path]:
    """Fig D.3 counterpart: ESD of a trained 500 x 500 layer (E.4 problem) with its BEMA best-fit MP density."""
    result = load_result(RESULT, COMMAND, results_dir(args))
    (fit,) = result.tables["fig_d3_fit"]
    hist, mp = result.tables["fig_d3_histogram"], result.tables["fig_d3_mp"]
    edges = [h["bin_low"] for h in hist] + [hist[-1]["bin_high"]]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.stairs([h["density"] for h in hist], edges, fill=True, color="tab:blue", alpha=0.6,
              label="ESD of X = W^T W / N")
    ax.plot([m["x"] for m in mp], [m["density"] for m in mp], color="red",
            label=f"MP fitted by BEMA, sigma^2 = {fit['sigma2']:.3g}")
    ax.axvline(fit["lambda_plus"], color="k", ls="--",
               label=f"lambda+ = {fit['lambda_plus']:.3g} ({fit['n_spikes']} eigenvalues above)")
    ax.set_xlabel("eigenvalue of X")
    ax.set_ylabel("density")
    ax.set_title(f"Fig D.3 counterpart: trained {fit['N']} x {fit['M']} layer (E.4 problem); "
                 f"outliers beyond the axis: {fit['n_outliers_beyond_axis']}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    rows = [{"part": "histogram", **h} for h in hist] + [{"part": "mp_density", **m} for m in mp]
    return save_figure(fig, outdir, figure_stem("D.3"), rows, {**source(result, RESULT), "fit": fit})


def fig_4_1_example(outdir: Path, args) -> list[Path]:
    """Fig 4.1 for Example 4.1's own net (one hidden layer of 500, unpruned, epoch 600): histogram of dX over the test set with the per-object Lemma 4.1 bound."""
    result = load_result(RESULT, COMMAND, results_dir(args))
    rows = result.tables["fig_4_1"]
    dx = np.array([r["dX"] for r in rows])
    bound = np.array([r["bound"] for r in rows])
    bound_x = np.array([r["bound_x"] for r in rows])
    fig, ax = plt.subplots(figsize=(6.5, 4))
    bins = np.linspace(min(dx.min(), 0.0), dx.max(), 50)
    ax.hist(dx, bins=bins, color="tab:blue", alpha=0.7, label=f"dX of {dx.size} test objects")
    ax.axvline(float(np.median(bound_x)), color="red", ls="--",
               label=f"median sqrt(2 lambda+) sigma_max(W_2) ||s||, lambda+ of X: {np.median(bound_x):.3g}")
    ax.text(0.98, 0.6, f"with the singular-value edge\n(Lemma 4.1's unit) the median\nbound is "
            f"{np.median(bound):.3g}", transform=ax.transAxes, ha="right", fontsize=8)
    share = float(np.mean(dx > 2 * bound_x))
    ax.set_xlabel("dX (classification confidence (4.1))")
    ax.set_ylabel("test objects")
    ax.set_title(f"Fig 4.1, Example 4.1 net (seed {rows[0]['seed']}): {share:.0%} of objects have dX "
                 "> 2 x their bound (lambda+ of X)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, outdir, figure_stem("4.1_example_4_1"), rows,
                       {**source(result, RESULT), "share_dx_above_2x_bound": share})


FIGURES = {"D.3": fig_d3, "E.5": fig_e5, "4.1_example_4_1": fig_4_1_example}
