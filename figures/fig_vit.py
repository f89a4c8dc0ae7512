"""Paper 003 at CPU scale, from the committed Result ``results/nets/paper003.json``
(``nets.paper003``):

* ``vit_accuracy_vs_parameters``: test accuracy against parameters kept for MP pruning (portions of
  the bulk removed), magnitude and random pruning (``torch.nn.utils.prune.global_unstructured``),
  one point per seed, the unpruned accuracy as a line (paper 003's figure, small ViT on
  Fashion-MNIST);
* ``randomness_trajectories``: mean bulk fraction per epoch, per net and L2 setting (003:abstract:3);
* ``loss_vs_bulk_removed``: training and test loss against the portion of the bulk removed
  (003:abstract:4).

``python -m figures 003.vit_accuracy_vs_parameters ...`` (see ``python -m figures --list``)
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from figures._output import figure_stem, save_figure, source  # noqa: E402
from figures._results import load_result, results_dir  # noqa: E402

COMMAND = ("python -m nets.paper003 --vit-dirs runs/vit/seed0 runs/vit/seed1 runs/vit/seed2 "
           "--json results/nets/paper003.json  (after python -m nets.vit --seeds 0 1 2 --out runs/vit "
           "--epochs 6 --n-train 30000)")


def vit_accuracy_vs_parameters(result, ax):
    rows = [r for r in result.records if r.get("part") == "vit_comparison"]
    styles = {"mp": ("o", "MP (bulk portion removed)"), "mp_rank0_allowed": ("x", "MP, rank 0 allowed"),
              "magnitude": ("s", "magnitude (global L1)"), "random": ("^", "random (global)")}
    for method, (marker, label) in styles.items():
        sel = [r for r in rows if r["method"] == method]
        if sel:
            ax.scatter([r["parameters_kept"] for r in sel], [r["test_accuracy"] for r in sel], marker=marker,
                       label=label, alpha=0.8)
    if rows:
        ax.axhline(np.mean([r["base_accuracy"] for r in rows]), color="k", lw=0.8, label="unpruned (mean)")
        ax.axvline(0.7 * rows[0]["parameters"], color="grey", ls=":", lw=0.8, label="30% fewer parameters")
    ax.set_xlabel("parameters kept")
    ax.set_ylabel("test accuracy")
    ax.set_title("small ViT, Fashion-MNIST")
    ax.legend(fontsize=8)


def randomness_trajectories(result, ax):
    traj = result.tables.get("randomness_trajectories", [])
    for key in sorted({(r["net"], r["l2"]) for r in traj}, key=str):
        sel = [r for r in traj if (r["net"], r["l2"]) == key and r["bulk_fraction"] is not None]
        epochs = sorted({r["epoch"] for r in sel})
        ax.plot(epochs, [np.mean([r["bulk_fraction"] for r in sel if r["epoch"] == e]) for e in epochs],
                marker="o", label=f"{key[0]}, L2 {key[1]}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("fraction of singular values in the MP bulk")
    ax.legend(fontsize=8)


def loss_vs_bulk_removed(result, ax):
    rows = result.tables.get("bulk_removal", [])
    for key in sorted({(r["net"], r["l2"]) for r in rows}, key=str):
        sel = [r for r in rows if (r["net"], r["l2"]) == key]
        levels = sorted({r["level"] for r in sel})
        for which, ls in (("train", "-"), ("test", "--")):
            ax.plot(levels, [np.mean([r[f"{which}_loss"] for r in sel if r["level"] == q]) for q in levels],
                    ls=ls, marker="o", label=f"{key[0]}, L2 {key[1]}, {which}")
    ax.set_xlabel("portion of the bulk singular values removed")
    ax.set_ylabel("cross-entropy loss")
    ax.set_yscale("log")
    ax.legend(fontsize=8)


def _figure(name: str, draw, rows_of):
    """A ``FIGURES`` entry (outdir, args) -> paths: load the Result, draw, write PNG + JSON + CSV."""
    def make(outdir: Path, args) -> list[Path]:
        result = load_result("nets/paper003", COMMAND, results_dir(args))
        fig, ax = plt.subplots(figsize=(6, 4))
        draw(result, ax)
        fig.tight_layout()
        return save_figure(fig, outdir, figure_stem(f"003.{name}"), rows_of(result),
                           meta=source(result, "results/nets/paper003.json"))
    make.__doc__ = f"paper 003 at CPU scale: {name.replace('_', ' ')} (nets.paper003)"
    return make


def _records(part: str):
    return lambda result: [r for r in result.records if r.get("part") == part] or result.records


FIGURES = {
    "003.vit_accuracy_vs_parameters": _figure("vit_accuracy_vs_parameters", vit_accuracy_vs_parameters,
                                              _records("vit_comparison")),
    "003.randomness_trajectories": _figure("randomness_trajectories", randomness_trajectories,
                                           lambda r: r.tables.get("randomness_trajectories", [])),
    "003.loss_vs_bulk_removed": _figure("loss_vs_bulk_removed", loss_vs_bulk_removed,
                                        lambda r: r.tables.get("bulk_removal", [])),
}
