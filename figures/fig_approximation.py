"""Figures 4.2, 4.3, 4.4 and B.1 of paper 000 (Approximation Lemma B.2, Examples 4.2/4.3).

Each figure is drawn with the paper's quantity and, beside it, the derived limit of
``theory.approximation_symbolic`` (which is what the measured norms converge to).  Data come from
committed Results: ``results/approximation_lemma_paper.json`` (Figs 4.2, 4.3, B.1) and
``results/wigner.json`` (Fig 4.4); the plotted data are written as JSON and CSV beside the PNG.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from figures._output import figure_stem, save_figure, source  # noqa: E402
from figures._results import load_result, results_dir  # noqa: E402

APPROX = "approximation_lemma_paper"
APPROX_COMMAND = "python -m sims.approximation_lemma --paper --json results/approximation_lemma_paper.json"
WIGNER = "wigner"
WIGNER_COMMAND = "python -m sims.wigner --json results/wigner.json"
PAPER_SPIKES = (70.0, 60.0, 50.0, 40.0, 30.0)      # Example 4.2, stored in decreasing order
PAPER_N = 3000                                     # Fig 4.3 / B.1


def _approx(args):
    return load_result(APPROX, APPROX_COMMAND, results_dir(args))


def _paper_record(result) -> dict:
    """The record of Example 4.2's spikes at c = 1 nearest the paper's N = 3000."""
    rows = [r for r in result.records if tuple(r["spikes"]) == PAPER_SPIKES and r["ratio"] == 1.0]
    if not rows:
        raise ValueError(f"{APPROX}.json holds no run with the spikes {PAPER_SPIKES} at c = 1; make "
                         f"it with: {APPROX_COMMAND}")
    return min(rows, key=lambda r: abs(r["N"] - PAPER_N))


def fig_4_2(outdir: Path, args) -> list[Path]:
    """Fig 4.2: f_W of (4.24) against sigma_i, with the derived limits of ||W'-S||_2 and ||(W'-S)v_i||."""
    result = _approx(args)
    rows = result.tables["fig_4_2"]
    sig = [r["sigma"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(sig, [r["f_W_4_24"] for r in rows], label="f_W (4.24) = lim ||(W'-S) v_i|| (derived)")
    ax.plot(sig, [r["opnorm_limit"] for r in rows], "--", label="lim ||W'-S||_2 (derived; (B.14) claims f_W)")
    ax.axhline(1, color="gray", lw=0.5)
    ax.set_xlabel("sigma_i")
    ax.set_ylabel("value")
    ax.set_title("Fig 4.2: f_W of Example 4.2")
    ax.legend(fontsize=8)
    return save_figure(fig, outdir, figure_stem("4.2"), rows, source(result, APPROX))


def plot_opnorm_record(rec: dict, outdir: Path, stem: str = figure_stem("4.3"), meta: dict | None = None
                       ) -> list[Path]:
    """||S-W'||_2 per matrix against f_W and the derived limit (one record: one N)."""
    samples = rec["opnorm_samples"]
    rows = [{"N": rec["N"], "matrix": i + 1, "opnorm": v, "f_W_paper": rec["f_W_paper"],
             "opnorm_limit": rec["opnorm_limit"]} for i, v in enumerate(samples)]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(1, len(samples) + 1), samples, "o-",
            label=f"measured, N={rec['N']}, spikes={rec['spikes'][-1]:g}..{rec['spikes'][0]:g}")
    ax.axhline(rec["f_W_paper"], color="k", label=f"f_W (4.24) = {rec['f_W_paper']:.4f}")
    ax.axhline(rec["opnorm_limit"], color="r", ls="--", label=f"derived limit = {rec['opnorm_limit']:.4f}")
    ax.set_xlabel("matrix")
    ax.set_ylabel("||S - W'||_2")
    ax.set_title("Fig 4.3: ||S-W'||_2 for independent matrices")
    ax.legend(fontsize=8)
    return save_figure(fig, outdir, stem, rows, meta)


def fig_4_3(outdir: Path, args) -> list[Path]:
    """Fig 4.3: ||S-W'||_2 for 10 matrices at N=3000 (spikes 30..70) vs f_W and the derived limit."""
    result = _approx(args)
    return plot_opnorm_record(_paper_record(result), outdir, meta=source(result, APPROX))


def fig_4_4(outdir: Path, args) -> list[Path]:
    """Fig 4.4: f_W of (4.25) against 2 sigma for sigma in [-25, 25], sigma_r = 30 and 100."""
    result = load_result(WIGNER, WIGNER_COMMAND, results_dir(args))
    rows = result.tables["fig_4_4"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for sr in sorted({r["sigma_r"] for r in rows}):
        part = [r for r in rows if r["sigma_r"] == sr]
        sig = [r["sigma"] for r in part]
        ax.plot(sig, [r["f_W_4_25"] for r in part], label=f"f_W (4.25), sigma_r={sr:g}")
        ax.plot(sig, [r["opnorm_limit"] for r in part], "--", label=f"lim ||W'-S||_2 (derived), sigma_r={sr:g}")
    part = [r for r in rows if r["sigma_r"] == rows[0]["sigma_r"]]
    ax.plot([r["sigma"] for r in part], [r["two_sigma"] for r in part], "k:", label="2 sigma")
    ax.set_xlabel("sigma")
    ax.set_ylabel("f_W (4.25) and lim ||W'-S||_2")
    ax.set_title("Fig 4.4: f_W vs 2 sigma (Example 4.3)")
    ax.legend(fontsize=8)
    return save_figure(fig, outdir, figure_stem("4.4"), rows, source(result, WIGNER))


def fig_B_1(outdir: Path, args) -> list[Path]:
    """Fig B.1: |<u_i,u'_i>| and |<v_i,v'_i>| measured (N=3000, 10 matrices) vs sqrt(1-1/sigma_i^2)."""
    result = _approx(args)
    r = _paper_record(result)
    spikes = np.array(r["spikes"])
    lim_u, lim_v = (np.array(x) for x in r["overlap_limit_sqrt"])
    rows = [{"sigma": float(s), "u_overlap_mean": float(mu), "v_overlap_mean": float(mv),
             "u_limit": float(lu), "v_limit": float(lv), "N": r["N"], "trials": r["trials"]}
            for s, mu, mv, lu, lv in zip(spikes, r["u_overlap_mean"], r["v_overlap_mean"], lim_u, lim_v)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, lim, name, vec in ((axes[0], "u_overlap_mean", lim_u, "left", "u"),
                                    (axes[1], "v_overlap_mean", lim_v, "right", "v")):
        ax.plot(spikes, r[key], "o", label=f"measured, N={r['N']}")
        ax.plot(spikes, lim, "x--", label="sqrt(1 - 1/sigma^2) (A.4)")
        ax.set_xlabel("sigma_i")
        ax.set_ylabel(f"|<{vec}_i, {vec}'_i>|, mean of {r['trials']} matrices")
        ax.set_title(f"{name} singular vectors")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, outdir, figure_stem("B.1"), rows, source(result, APPROX))


FIGURES = {"4.2": fig_4_2, "4.3": fig_4_3, "4.4": fig_4_4, "B.1": fig_B_1}
