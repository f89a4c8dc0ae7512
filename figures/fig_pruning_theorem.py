"""Figures for the Section 4 checks of paper 000 (``sims.pruning_theorem``,
``sims.pruning_pipeline_check``).

* ``4.1``: histogram of delta X on the E.4 test set after training with MP pruning (Fig. 4.1),
  with the median Lemma 4.1 bound and Theorem 4.1 threshold E' of the last pruning event drawn.
* ``4.1_fashion_mnist``: the same for the cpu-scale Fashion-MNIST network of Example 3.2.
* ``lemma_4_1_tightness``: distribution of bound / actual change over random networks.
* ``lemma_4_2_probabilities``: P(delta X(S) >= 0 | delta X(W) >= E) and P(|Delta| <= E) against
  1 - D(N), per setting.
* ``remark_4_5_scaling``: E, |delta X| and h_phi against N under standard initialisation.
* ``C_13``: ||R z||_1 / (max|R_ij| ||z||_1) against N (the proof step (C.13) needs <= 1).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sims.report import write_json  # noqa: E402

_CACHE: dict = {}


def _theorem_results(args):
    key = ("theorem", bool(args.quick), int(args.seed))
    if key not in _CACHE:
        from sims import pruning_theorem
        _CACHE[key] = pruning_theorem.run(quick=args.quick, seed=args.seed, progress=False)
    return _CACHE[key]


def _pipeline_results(args, config: str = "e4-classification"):
    key = ("pipeline", config, bool(args.quick), int(args.seed))
    if key not in _CACHE:
        from sims import pruning_pipeline_check
        _CACHE[key] = pruning_pipeline_check.run(quick=args.quick, seed=args.seed, config=config,
                                                 progress=False)
    return _CACHE[key]


def _save(fig, outdir: Path, name: str, data) -> list[Path]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    png = outdir / f"{name}.png"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return [png, write_json([data], outdir / f"{name}.json")]


# ---------------------------------------------------------------------------------------------
def plot_tightness(out: dict, outdir: Path) -> list[Path]:
    ratios = out["lemma_4_1"]["ratios"]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(np.log10(ratios), bins=60, color="C0")
    ax.axvline(0, color="k", ls="--", label="bound = actual")
    ax.set_xlabel("log10(Lemma 4.1 bound / actual change of delta X)")
    ax.set_ylabel("(network, input) pairs")
    ax.set_title(f"Lemma 4.1 over {out['lemma_4_1']['n_networks']} random networks")
    ax.legend()
    return _save(fig, outdir, "lemma_4_1_tightness",
                 dict(quantiles=out["lemma_4_1"]["ratio_quantiles"],
                      violations=out["lemma_4_1"]["violations"], log10_ratios=np.log10(ratios)))


def plot_probabilities(out: dict, outdir: Path) -> list[Path]:
    from theory.pruning_bounds import D_N
    rows = [v for v in out["verdicts"] if v.claim in ("lemma_4_2", "remark_4_2")]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
    data = []
    for ax, claim, title in zip(axes, ("lemma_4_2", "remark_4_2"),
                                ("P(dX(S) >= 0 | dX(W) >= E)  (4.14)", "P(|dX(S) - dX(W)| <= E)  (4.16)")):
        for i, setting in enumerate(("random", "aligned", "pooling")):
            pts = [v for v in rows if v.claim == claim and v.setting.startswith(setting)]
            Ns = [v.N for v in pts if v.measured is not None]
            m = [v.measured for v in pts if v.measured is not None]
            lo = [v.measured - v.ci[0] for v in pts if v.measured is not None]
            hi = [v.ci[1] - v.measured for v in pts if v.measured is not None]
            if Ns:
                ax.errorbar(Ns, m, yerr=[lo, hi], marker="o", capsize=3, color=f"C{i}", label=setting)
            data.append(dict(claim=claim, setting=setting, N=Ns, measured=m))
        Ns = sorted({v.N for v in rows})
        ax.plot(Ns, [1 - D_N(n) for n in Ns], "k--", label="1 - D(N)")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("N")
        ax.set_title(title, fontsize=9)
    axes[0].set_ylabel("probability")
    axes[0].legend(fontsize=8)
    return _save(fig, outdir, "lemma_4_2_probabilities", data)


def plot_scaling(out: dict, outdir: Path) -> list[Path]:
    res = out["spiked"]["random"]
    Ns = [r["N"] for r in res]
    series = {"E = a(N) h_phi": [np.median(r["E"]) for r in res],
              "|delta X(W)|": [np.median(np.abs(r["dW"])) for r in res],
              "h_phi": [np.median(r["h"]) for r in res]}
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for i, (name, ys) in enumerate(series.items()):
        ax.loglog(Ns, ys, "o-", color=f"C{i}", label=f"median {name}")
    ax.set_xlabel("N")
    ax.set_title("Remark 4.5 under standard initialisation", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, outdir, "remark_4_5_scaling", dict(N=Ns, **series))


def plot_c13(out: dict, outdir: Path) -> list[Path]:
    res = out["spiked"]["random"]
    Ns = np.array([r["N"] for r in res])
    ratio = [np.median(r["Rz1"] / r["c13_paper"]) for r in res]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog(Ns, ratio, "o-", label="median ||Rz||_1 / (max|R_ij| ||z||_1)")
    ax.axhline(1, color="k", ls="--", label="(C.13) requires <= 1")
    ax.set_xlabel("N")
    ax.legend(fontsize=8)
    return _save(fig, outdir, "C_13", dict(N=Ns, median_ratio=ratio))


def plot_all(out: dict, outdir: Path) -> list[Path]:
    return (plot_tightness(out, outdir) + plot_probabilities(out, outdir)
            + plot_scaling(out, outdir) + plot_c13(out, outdir))


def plot_pipeline(out: dict, outdir: Path, name: str = "fig_4_1") -> list[Path]:
    """Fig. 4.1: delta X on the test set after training, thresholds of the last pruning event."""
    changed = [r for r in out["records"] if r["changed"]]
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.hist(out["dX_final"], bins=60, color="C0", alpha=0.8, label="delta X, final epoch")
    data = dict(dX_final=out["dX_final"], config=out["config"], topology=out["topology"])
    if changed:
        last = changed[-1]
        ax.hist(last["dX_before"], bins=60, histtype="step", color="k",
                label=f"delta X before the epoch-{last['epoch']} pruning")
        ax.axvline(last["median_bound"], color="C3", ls="--",
                   label=f"median Lemma 4.1 bound (epoch {last['epoch']})")
        ax.axvline(last["median_E_prime"], color="C2", ls=":", label="median E' (Theorem 4.1)")
        data.update(last_event_epoch=last["epoch"], median_bound=last["median_bound"],
                    median_E_prime=last["median_E_prime"])
    ax.set_xlabel("delta X")
    ax.set_ylabel("test inputs")
    ax.set_title(f"{out['config']} {out['topology']}", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, outdir, name, data)


# ---------------------------------------------------------------------------------------------
def fig_4_1(outdir: Path, args) -> list[Path]:
    """Fig 4.1: histogram of delta X (E.4 problem, MP-pruned training) with the thresholds."""
    return plot_pipeline(_pipeline_results(args), outdir)


def fig_4_1_fashion_mnist(outdir: Path, args) -> list[Path]:
    """Fig 4.1's Fashion-MNIST counterpart (cpu-scale Example 3.2 network, 21 epochs)."""
    return plot_pipeline(_pipeline_results(args, "ex3.2a"), outdir, "fig_4_1_fashion_mnist")


def fig_tightness(outdir: Path, args) -> list[Path]:
    """Lemma 4.1: bound / actual change of delta X over random networks."""
    return plot_tightness(_theorem_results(args), outdir)


def fig_probabilities(outdir: Path, args) -> list[Path]:
    """Lemma 4.2 / Remark 4.2 probabilities against 1 - D(N)."""
    return plot_probabilities(_theorem_results(args), outdir)


def fig_scaling(outdir: Path, args) -> list[Path]:
    """Remark 4.5: E, |delta X| and h_phi against N."""
    return plot_scaling(_theorem_results(args), outdir)


def fig_c13(outdir: Path, args) -> list[Path]:
    """Proof step (C.13): ||R z||_1 against max|R_ij| ||z||_1."""
    return plot_c13(_theorem_results(args), outdir)


FIGURES = {
    "4.1": fig_4_1,
    "4.1_fashion_mnist": fig_4_1_fashion_mnist,
    "lemma_4_1_tightness": fig_tightness,
    "lemma_4_2_probabilities": fig_probabilities,
    "remark_4_5_scaling": fig_scaling,
    "C_13": fig_c13,
}
