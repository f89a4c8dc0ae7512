"""Figures for the Section 4 checks of paper 000, drawn from the committed Results of
``sims.pruning_theorem`` and ``sims.pruning_pipeline_check`` (nothing is computed here).

* ``4.1``: histogram of delta X on the E.4 test set after training with MP pruning (Fig. 4.1),
  with the median Lemma 4.1 bound and Theorem 4.1 threshold E' of the last pruning event drawn.
* ``4.1_fashion_mnist``: the same for the cpu-scale Fashion-MNIST network of Example 3.2.
* ``lemma_4_1_tightness``: distribution of bound / actual change over random networks.
* ``lemma_4_2_probabilities``: P(delta X(S) >= 0 | delta X(W) >= E) and P(|Delta| <= E) against
  1 - D(N), per network.
* ``remark_4_5_scaling``: E, |delta X| and h_phi against N under standard initialisation.
* ``C_13``: ||R z||_1 / (max|R_ij| ||z||_1) against N (the proof step (C.13) needs <= 1).
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

THEOREM = ("pruning_theorem", "python -m sims.pruning_theorem --json results/pruning_theorem.json")
PIPELINE = ("pruning_pipeline_check", "python -m sims.pruning_pipeline_check "
            "--json results/pruning_pipeline_check.json")
NETWORKS = ("random", "aligned", "pooling")


def _save(fig, outdir: Path, name: str, data: dict, rows: list[dict] | None = None) -> list[Path]:
    """PNG, the plotted data as JSON, and (when given) the plotted rows as CSV."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    png = outdir / f"{name}.png"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    plt.close(fig)
    js = outdir / f"{name}.json"
    js.write_text(json.dumps(plain(data), indent=1, sort_keys=True) + "\n")
    paths = [png, js]
    if rows:
        paths.append(write_csv(rows, outdir / f"{name}.csv"))
    return paths


def _source(result) -> dict:
    return dict(result=result.experiment, argv=result.provenance.argv,
                git_commit=result.provenance.git_commit)


# ---------------------------------------------------------------------------------------------
def fig_4_1(outdir: Path, args, config: str = "e4-classification", name: str = figure_stem("4.1")) -> list[Path]:
    """Fig 4.1: histogram of delta X (E.4 problem, MP-pruned training) with the thresholds."""
    res = load_result(*PIPELINE, results_dir(args))
    hist = [r for r in res.tables.get("delta_x_histogram", []) if r["config"] == config]
    if not hist:
        raise ValueError(f"results/{PIPELINE[0]}.json has no delta X histogram for {config!r}; "
                         f"rerun: {PIPELINE[1]}")
    run = next(r for r in res.tables["runs"] if r["config"] == config)
    events = [r for r in res.records if r["config"] == config and r["changed"]]
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    final = [r for r in hist if r["series"] == "final"]
    ax.stairs([r["count"] for r in final], [final[0]["bin_low"]] + [r["bin_high"] for r in final],
              fill=True, color="C0", alpha=0.8, label="delta X, final epoch")
    data = dict(_source(res), config=config, topology=run["topology"], histogram=hist)
    before = [r for r in hist if r["series"] == "before_last_event"]
    if before and events:
        last = events[-1]
        ax.stairs([r["count"] for r in before],
                  [before[0]["bin_low"]] + [r["bin_high"] for r in before], color="k",
                  label=f"delta X before the epoch-{last['epoch']} pruning")
        ax.axvline(last["median_bound"], color="C3", ls="--",
                   label=f"median Lemma 4.1 bound (epoch {last['epoch']})")
        ax.axvline(last["median_E_prime"], color="C2", ls=":", label="median E' (Theorem 4.1)")
        data.update(last_event_epoch=last["epoch"], median_bound=last["median_bound"],
                    median_E_prime=last["median_E_prime"])
    ax.set_xlabel("delta X")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))   # no run-together tick labels
    ax.set_ylabel("test inputs")
    ax.set_title(f"{config} {run['topology']}", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, outdir, name, data, hist)


def fig_4_1_fashion_mnist(outdir: Path, args) -> list[Path]:
    """Fig 4.1's Fashion-MNIST counterpart (cpu-scale Example 3.2 network, 21 epochs)."""
    return fig_4_1(outdir, args, "ex3.2a", figure_stem("4.1_fashion_mnist"))


def fig_tightness(outdir: Path, args) -> list[Path]:
    """Lemma 4.1: bound / actual change of delta X over random networks."""
    res = load_result(*THEOREM, results_dir(args))
    rows = res.tables["lemma_4_1_ratios"]
    v = next(v for v in res.verdicts if v.extra.get("check") == "lemma_4_1")
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.stairs([r["pairs"] for r in rows], [rows[0]["log10_ratio_low"]]
              + [r["log10_ratio_high"] for r in rows], fill=True, color="C0")
    ax.axvline(0, color="k", ls="--", label="bound = actual")
    ax.set_xlabel("log10(Lemma 4.1 bound / actual change of delta X)")
    ax.set_ylabel("(network, input) pairs")
    ax.set_title(f"Lemma 4.1 over {res.config['lemma_networks']} random networks")
    ax.legend()
    return _save(fig, outdir, figure_stem("lemma_4_1_tightness"),
                 dict(_source(res), quantiles=v.extra["quantiles"],
                      violations=v.extra["violations"], histogram=rows), rows)


def fig_probabilities(outdir: Path, args) -> list[Path]:
    """Lemma 4.2 / Remark 4.2 probabilities against 1 - D(N)."""
    res = load_result(*THEOREM, results_dir(args))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
    rows = []
    for ax, check, title in zip(axes, ("lemma_4_2", "remark_4_2"),
                                ("P(dX(S) >= 0 | dX(W) >= E)  (4.14)",
                                 "P(|dX(S) - dX(W)| <= E)  (4.16)")):
        bound = {}
        for i, network in enumerate(NETWORKS):
            pts = [v for v in res.verdicts if v.extra.get("check") == check
                   and v.extra.get("network") == network]
            bound.update({v.N: v.bound for v in pts})
            pts = [v for v in pts if v.measured is not None]
            rows += [dict(check=check, network=network, N=v.N, measured=v.measured,
                          low=v.interval[0], high=v.interval[1], bound=v.bound, verdict=v.verdict)
                     for v in pts]
            if pts:
                ax.errorbar([v.N for v in pts], [v.measured for v in pts],
                            yerr=[[v.measured - v.interval[0] for v in pts],
                                  [v.interval[1] - v.measured for v in pts]],
                            marker="o", capsize=3, color=f"C{i}", label=network)
        Ns = sorted(bound)
        ax.plot(Ns, [bound[n] for n in Ns], "k--", label="1 - D(N)")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("N")
        ax.set_title(title, fontsize=9)
    axes[0].set_ylabel("probability")
    axes[0].legend(fontsize=8)
    return _save(fig, outdir, figure_stem("lemma_4_2_probabilities"), dict(_source(res), points=rows), rows)


def fig_scaling(outdir: Path, args) -> list[Path]:
    """Remark 4.5: E, |delta X| and h_phi against N (standard initialisation)."""
    res = load_result(*THEOREM, results_dir(args))
    rows = sorted((r for r in res.records if r["network"] == "random"), key=lambda r: r["N"])
    Ns = [r["N"] for r in rows]
    series = {"E = a(N) h_phi": "median_E", "|delta X(W)|": "median_abs_dX_W",
              "h_phi": "median_h_phi"}
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for i, (label, key) in enumerate(series.items()):
        ax.loglog(Ns, [r[key] for r in rows], "o-", color=f"C{i}", label=f"median {label}")
    ax.set_xlabel("N")
    ax.set_ylabel("median over random networks")
    ax.set_title("Remark 4.5 under standard initialisation", fontsize=9)
    ax.legend(fontsize=8)
    data = dict(_source(res), N=Ns, **{k: [r[k] for r in rows] for k in series.values()})
    return _save(fig, outdir, figure_stem("remark_4_5_scaling"), data)


def fig_c13(outdir: Path, args) -> list[Path]:
    """Proof step (C.13): ||R z||_1 against max|R_ij| ||z||_1."""
    res = load_result(*THEOREM, results_dir(args))
    rows = sorted((r for r in res.records if r["network"] == "random"), key=lambda r: r["N"])
    Ns = [r["N"] for r in rows]
    ratio = [r["median_Rz1_over_c13"] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog(Ns, ratio, "o-", label="median ||Rz||_1 / (max|R_ij| ||z||_1)")
    ax.axhline(1, color="k", ls="--", label="(C.13) requires <= 1")
    ax.set_xlabel("N")
    ax.set_ylabel("||R z||_1 / (max|R_ij| ||z||_1)")
    ax.legend(fontsize=8)
    return _save(fig, outdir, figure_stem("C_13"), dict(_source(res), N=Ns, median_ratio=ratio))


FIGURES = {
    "4.1": fig_4_1,
    "4.1_fashion_mnist": fig_4_1_fashion_mnist,
    "lemma_4_1_tightness": fig_tightness,
    "lemma_4_2_probabilities": fig_probabilities,
    "remark_4_5_scaling": fig_scaling,
    "C_13": fig_c13,
}
