"""Figures for paper 004 (Qian & Klabjan): Table 2 against RMT, and the pruning side by side.

``qk_table2``: ||B||_2 of Lemma 3 (Monte Carlo, ``sims.qian_klabjan``) against the edge + TW_1 law
(``theory.norm_predictions``): mean +- std and c0 at each q for square matrices, and the MC - RMT mean
offset in TW units against n.
``qk_side_by_side``: sup-ball error (relative to sup ||F||), label flips and |change of dX| for MP-based
SVD pruning (paper 000 Algorithm 3), magnitude and random pruning at matched budgets
(``sims.qk_side_by_side``).
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from sims.device import resolve_device
from sims.report import write_json


def _table2(outdir: Path, args) -> list[Path]:
    """Lemma 3 (Table 2): Monte Carlo ||B||_2 against edge + Tracy-Widom."""
    from sims import qian_klabjan as qk

    sizes = (32, 64, 128) if args.quick else qk.LEMMA3_SIZES
    trials = 200 if args.quick else 1000
    rows = qk.lemma3_table(sizes, trials=trials, seed=args.seed, device=resolve_device(args.device))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for K, color in zip(qk.LEMMA3_KS, ("C0", "C1")):
        sq = sorted((r for r in rows if r["n1"] == r["n2"] and r["K"] == K), key=lambda r: r["n1"])
        n = np.array([r["n1"] for r in sq])
        lab = f"K={K:.3g}"
        axes[0].errorbar(n, [r["norm_mean"] for r in sq], yerr=[r["norm_std"] for r in sq], fmt="o", color=color,
                         label=f"MC {lab}")
        axes[0].plot(n, [r["rmt_mean"] for r in sq], "-", color=color, label=f"edge+TW1 mean {lab}")
        axes[0].plot(n, [r["rmt_edge"] for r in sq], ":", color=color)
        for q, marker in zip(qk.QUANTILES, ("o", "s", "^", "v")):
            k = qk.qkey(q)
            axes[1].plot(n, [r[f"c0_{k}"] for r in sq], marker, color=color, mfc="none" if q > 0.99 else color)
            axes[1].plot(n, [r[f"c0_rmt_{k}"] for r in sq], "-", color=color, lw=0.8)
        axes[2].errorbar(n, [r["mean_offset_tw"] for r in sq], yerr=[2 * r["mean_offset_se_tw"] for r in sq],
                         fmt="o-", color=color, label=lab)
    nn = np.array(sizes, dtype=float)
    axes[2].plot(nn, -1.2 * nn ** (-1 / 3), "k--", lw=0.8, label="-1.2 n^(-1/3) (kappa4 n^(-1/3) scale)")
    axes[0].set(xscale="log", xlabel="n1 = n2", ylabel="||B||_2", title="mean +- std (dotted: edge)")
    axes[1].set(xscale="log", xlabel="n1 = n2", ylabel="c0",
                title="c0 at q = 95, 99, 99.9, 99.99% (open: TW-extrapolated)")
    axes[2].set(xscale="log", xlabel="n1 = n2", ylabel="(MC - RMT) mean / TW unit", title="finite-n offset")
    axes[0].legend(fontsize=7)
    axes[2].legend(fontsize=7)
    fig.suptitle("Paper 004 Lemma 3: iid U[-K/sqrt n, K/sqrt n] (Table 2) vs RMT")
    fig.tight_layout()
    png = outdir / "qk_table2.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, write_json(rows, outdir / "qk_table2.json")]


def _side_by_side(outdir: Path, args) -> list[Path]:
    """MP-based SVD vs magnitude vs random pruning at matched budgets."""
    from sims import qk_side_by_side as sbs

    device = resolve_device(args.device)
    rows = (sbs.run(sizes=(64,), seeds=1, n_data=500, seed=args.seed, device=device, starts=16, steps=40)
            if args.quick else sbs.run(seed=args.seed, device=device))
    summary = sbs.summarise(rows)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    d_max = max(r["d"] for r in summary)
    groups = [(f, b) for f in sbs.FAMILIES for b in sbs.BUDGETS]
    width = 0.8 / len(sbs.METHODS)
    for i, method in enumerate(sbs.METHODS):
        sel = [next(r for r in summary if (r["family"], r["budget"], r["method"], r["d"]) == (f, b, method, d_max))
               for f, b in groups]
        x = np.arange(len(groups)) + i * width
        axes[0].bar(x, [r["sup_error_lower"] / r["sup_F"] for r in sel], width, label=method)
        axes[1].bar(x, [r["label_flip_rate"] for r in sel], width, label=method)
        axes[2].bar(x, [r["dX_change_mean"] / max(r["dX_target_mean"], 1e-300) for r in sel], width, label=method)
    for ax, title in zip(axes, ("sup ||f - F|| / sup ||F|| (ascent, lower est.)", "fraction of labels flipped",
                                "mean |change of dX| / mean dX")):
        ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2)
        ax.set_xticklabels([f"{f}\nbudget {b}" for f, b in groups], fontsize=8)
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"d = {d_max}; budget mp: Algorithm 3's rank r (2rd weights kept per hidden layer); "
                 "alpha=0.5: floor(D^(1/2)) entries zeroed")
    fig.tight_layout()
    png = outdir / "qk_side_by_side.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, write_json([{"kind": "run", **r} for r in rows] + [{"kind": "summary", **r} for r in summary],
                            outdir / "qk_side_by_side.json")]


def _one_thread(fn):
    """Run with one torch thread (two per process stall batched LAPACK on a shared 2-core machine)."""
    def wrapped(outdir: Path, args) -> list[Path]:
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(outdir, args)
        finally:
            torch.set_num_threads(before)
    wrapped.__doc__ = fn.__doc__
    return wrapped


FIGURES = {"qk_table2": _one_thread(_table2), "qk_side_by_side": _one_thread(_side_by_side)}
