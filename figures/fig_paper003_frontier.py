"""Paper 003's own method against MP rank truncation, magnitude and random pruning, from the
committed Result ``results/nets/paper003_frontier.json`` (``sims.paper003_frontier``):

* ``003.frontier_vit``, ``003.frontier_fc``: test accuracy against the share of parameters removed,
  counted as paper 003 counts them (non-zero entries, left) and as entries stored after
  factorisation (right); mean over seeds with each seed's point faint, the unpruned pre-trained
  accuracy and 1 point below it as lines, and the control (unpruned, fine-tuned with the same
  samples) drawn at the share 003's method had removed after the same cycle.

``python -m figures 003.frontier_vit 003.frontier_fc`` (see ``python -m figures --list``)
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from figures._output import figure_stem, save_figure, source  # noqa: E402
from figures._results import load_result, results_dir  # noqa: E402

RESULT = "nets/paper003_frontier"
COMMAND = ("python -m sims.paper003_frontier --vit-dirs runs/vit003/seed0 runs/vit003/seed1 runs/vit003/seed2 "
           "--json results/nets/paper003_frontier.json  (after python -m nets.vit --seeds 0 1 2 --out "
           "runs/vit003 --epochs 10 --n-train 30000)")
# 003 drawn last, hollow, so that it stays visible where it meets magnitude pruning
STYLES = {"mp_truncation": ("D", "C3", "MP rank truncation (no fine-tuning)"),
          "random": ("^", "C2", "random, same fine-tuning"),
          "magnitude": ("s", "C1", "magnitude, same fine-tuning"),
          "003": ("o", "C0", "003's method (sparsified vectors, lasso cycles)")}
WINDOW = (0.12, 0.03)   # y range: this far below / above the unpruned accuracy


def draw_frontier(result, net: str, axes) -> None:
    rows = [r for r in result.records if r["net"] == net]
    base = np.mean([r["base_accuracy"] for r in rows if r["method"] == "unpruned"])
    for ax, count in zip(axes, ("nonzero", "stored")):
        for method, (marker, colour, label) in STYLES.items():
            sel = [r for r in rows if r["method"] == method]
            if not sel:
                continue
            ax.scatter([r[f"removed_{count}"] for r in sel], [r["test_accuracy"] for r in sel], marker=marker,
                       color=colour, alpha=0.25, s=12)
            levels = sorted({r["level"] for r in sel})
            x = [np.mean([r[f"removed_{count}"] for r in sel if r["level"] == q]) for q in levels]
            y = [np.mean([r["test_accuracy"] for r in sel if r["level"] == q]) for q in levels]
            order = np.argsort(x)
            hollow = dict(markerfacecolor="none", markersize=9, markeredgewidth=1.5) if method == "003" else {}
            ax.plot(np.asarray(x)[order], np.asarray(y)[order], marker=marker, color=colour, label=label, lw=1,
                    **hollow)
        control = [r for r in rows if r["method"] == "finetune_only"]
        ref = [r for r in rows if r["method"] == "003"]
        if control and ref:
            # the control is unpruned: drawn at the share 003 had removed after the same cycle
            levels = sorted({r["level"] for r in control} & {r["level"] for r in ref})
            ax.plot([np.mean([r[f"removed_{count}"] for r in ref if r["level"] == q]) for q in levels],
                    [np.mean([r["test_accuracy"] for r in control if r["level"] == q]) for q in levels],
                    color="k", ls="-.", lw=1, label="unpruned, same fine-tuning (at 003's cycle)")
        ax.axhline(base, color="k", lw=0.8, label="unpruned, pre-trained (mean)")
        ax.axhline(base - 0.01, color="grey", ls="--", lw=0.8, label="1 point below")
        for v in (0.3, 0.5):
            ax.axvline(v, color="grey", ls=":", lw=0.8)
        ax.set_xlabel("share of parameters removed, " + ("non-zero count (003's)" if count == "nonzero"
                                                         else "stored after factorisation"))
        ax.set_ylabel("test accuracy")
        low = base - WINDOW[0]
        hidden = sum(r["test_accuracy"] < low for r in rows)
        ax.set_ylim(low, base + WINDOW[1])
        if hidden:
            ax.text(0.99, 0.99, f"{hidden} points below {low:.2f} not shown (all in the CSV)",
                    transform=ax.transAxes, ha="right", va="top", fontsize=8)
    axes[0].legend(fontsize=8, loc="lower right")


def _figure(net: str, title: str):
    def make(outdir: Path, args) -> list[Path]:
        result = load_result(RESULT, COMMAND, results_dir(args))
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
        draw_frontier(result, net, axes)
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        rows = [r for r in result.tables.get("frontier", []) if r["net"] == net]
        return save_figure(fig, outdir, figure_stem(f"003.frontier_{net}"), rows,
                           meta=source(result, f"results/{RESULT}.json"))
    make.__doc__ = (f"paper 003's method against MP truncation, magnitude and random pruning: accuracy "
                    f"against parameters removed, {title} (sims.paper003_frontier)")
    return make


FIGURES = {
    "003.frontier_vit": _figure("vit", "small ViT, Fashion-MNIST"),
    "003.frontier_fc": _figure("fc", "FC net of Example 3.2a / 10, Fashion-MNIST"),
}
