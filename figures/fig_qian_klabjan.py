"""Figures for paper 004 (Qian & Klabjan), drawn from committed Results (nothing is computed here).

``qk_table2``: ||B||_2 of Lemma 3 (Monte Carlo, ``results/qian_klabjan.json``) against the edge +
TW_1 law (``theory.norm_predictions``, stored beside each row): mean +- std and c0 at each q for
square matrices, and the MC - RMT mean offset in TW units against n.
``qk_side_by_side``: sup-ball error (relative to sup ||F||), label flips and |change of dX| for
MP-based SVD pruning (paper 000 Algorithm 3), magnitude and random pruning at matched budgets
(``results/paper004_side_by_side.json``).
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from core.result import plain, write_csv  # noqa: E402
from figures._output import figure_stem
from figures._results import load_result, results_dir  # noqa: E402

TABLE2 = ("qian_klabjan", "python -m sims.qian_klabjan --json results/qian_klabjan.json")
SIDE = ("paper004_side_by_side",
        "python -m sims.paper004_side_by_side --threads 1 --json results/paper004_side_by_side.json")


def _qkey(q: float) -> str:
    """Column suffix of a quantile level, as sims.qian_klabjan writes it: 0.999 -> 'q99.9'."""
    return "q" + format(100 * q, ".10g")


def _save(fig, outdir: Path, name: str, data: dict, rows: list[dict]) -> list[Path]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    png = outdir / f"{name}.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    js = outdir / f"{name}.json"
    js.write_text(json.dumps(plain(data), indent=1, sort_keys=True) + "\n")
    return [png, js, write_csv(rows, outdir / f"{name}.csv")]


def _table2(outdir: Path, args) -> list[Path]:
    """Lemma 3 (Table 2): Monte Carlo ||B||_2 against edge + Tracy-Widom."""
    res = load_result(*TABLE2, results_dir(args))
    rows = [r for r in res.records if r.get("table") == "lemma3"]
    if not rows:
        raise ValueError(f"results/{TABLE2[0]}.json has no Table 2 rows; rerun: {TABLE2[1]}")
    quantiles = res.config["quantiles"]
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 4.4))
    for K, color in zip(sorted({r["K"] for r in rows}), ("C0", "C1", "C2", "C3")):
        sq = sorted((r for r in rows if r["n1"] == r["n2"] and r["K"] == K), key=lambda r: r["n1"])
        n = np.array([r["n1"] for r in sq])
        lab = f"K={K:.3g}"
        axes[0].errorbar(n, [r["norm_mean"] for r in sq], yerr=[r["norm_std"] for r in sq], fmt="o",
                         color=color, label=f"MC {lab}")
        axes[0].plot(n, [r["rmt_mean"] for r in sq], "-", color=color, label=f"edge+TW1 mean {lab}")
        axes[0].plot(n, [r["rmt_edge"] for r in sq], ":", color=color)
        for q in quantiles:
            k = _qkey(q)
            axes[1].plot(n, [r[f"c0_{k}"] for r in sq], "o", color=color,
                         mfc="none" if q > 0.99 else color)
            axes[1].plot(n, [r[f"c0_rmt_{k}"] for r in sq], "-", color=color, lw=0.8)
        axes[2].errorbar(n, [r["mean_offset_tw"] for r in sq],
                         yerr=[2 * r["mean_offset_se_tw"] for r in sq], fmt="o-", color=color,
                         label=lab)
    nn = np.array(sorted({r["n1"] for r in rows}), dtype=float)
    axes[2].plot(nn, -1.2 * nn ** (-1 / 3), "k--", lw=0.8, label="-1.2 n^(-1/3) (kappa4 n^(-1/3) scale)")
    axes[0].set(xscale="log", xlabel="n1 = n2", ylabel="||B||_2", title="mean +- std (dotted: edge)")
    axes[1].set(xscale="log", xlabel="n1 = n2", ylabel="c0",
                title="c0 at q = " + ", ".join(f"{100 * q:g}" for q in quantiles)
                      + "% (open: TW-extrapolated)")
    axes[2].set(xscale="log", xlabel="n1 = n2", ylabel="(MC - RMT) mean / TW unit",
                title="finite-n offset")
    axes[0].legend(fontsize=8)
    axes[2].legend(fontsize=8)
    fig.suptitle("Paper 004 Lemma 3: iid U[-K/sqrt n, K/sqrt n] (Table 2) vs RMT")
    fig.tight_layout()
    data = dict(result=res.experiment, argv=res.provenance.argv, rows=rows)
    return _save(fig, outdir, figure_stem("qk_table2"), data, rows)


METHOD_LABELS = {"svd": "MP-based SVD (paper 000 Algorithm 3)", "magnitude": "magnitude",
                 "random_without_replacement": "random (without replacement)"}


def _side_by_side(outdir: Path, args) -> list[Path]:
    """MP-based SVD vs magnitude vs random pruning at matched budgets."""
    res = load_result(*SIDE, results_dir(args))
    summary = res.tables["summary"]
    families = list(dict.fromkeys(r["family"] for r in summary))
    budgets = list(dict.fromkeys(r["budget"] for r in summary))
    methods = list(dict.fromkeys(r["method"] for r in summary))
    d_max = max(r["d"] for r in summary)
    groups = [(f, b) for f in families for b in budgets]
    width = 0.8 / len(methods)
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 4.4))
    plotted = []
    for i, method in enumerate(methods):
        sel = [next(r for r in summary if (r["family"], r["budget"], r["method"], r["d"])
                    == (f, b, method, d_max)) for f, b in groups]
        plotted += sel
        x = np.arange(len(groups)) + i * width
        label = METHOD_LABELS.get(method, method)
        axes[0].bar(x, [r["sup_error_lower"] / r["sup_F"] for r in sel], width, label=label)
        axes[1].bar(x, [r["label_flip_rate"] for r in sel], width, label=label)
        axes[2].bar(x, [r["dX_change_mean"] / max(r["dX_target_mean"], 1e-300) for r in sel], width,
                    label=label)
    for ax, title, ylabel in zip(axes, ("(a) sup-ball error (ascent, lower estimate)",
                                        "(b) labels flipped", "(c) change of the confidence dX"),
                                 ("sup ||f - F|| / sup ||F||", "fraction of test labels flipped",
                                  "mean |change of dX| / mean dX")):
        ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2)
        ax.set_xticklabels([f"{f}\n{b}" for f, b in groups], fontsize=8)
        ax.set_xlabel("weights (iid / spiked) and budget (mp / alpha)")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 1.08)
    # one legend for the three panels, below them: inside a panel it covers bars
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(methods), fontsize=9, frameon=False)
    fig.suptitle(f"Paper 004 side by side, d = {d_max}. Budget mp: Algorithm 3's rank r (2rd weights kept per "
                 "hidden layer); alpha=0.5: floor(D^(1/2)) entries zeroed", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    data = dict(result=res.experiment, argv=res.provenance.argv, d=d_max, rows=plotted)
    return _save(fig, outdir, figure_stem("qk_side_by_side"), data, plotted)


FIGURES = {"qk_table2": _table2, "qk_side_by_side": _side_by_side}
