"""Counterparts of paper 000's Figs E.3 (training loss) and E.4 (test loss) of the Appendix E.3
regression, pruned against unpruned, each seed against epoch (log scale), from the
committed Result of ``nets.appendix_e3`` (``results/nets/appendix_e3.json``).  Each figure also
writes its rows as CSV; a missing Result raises ``figures._results.MissingResult`` naming the command.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from figures._output import figure_stem
from figures._results import load_result, results_dir
from core.result import write_csv
from figures.fig_section3 import COLOURS

COMMAND = "python -m nets.appendix_e3 --seeds 3 --json results/nets/appendix_e3.json (see the report for the options)"


def _figure(number: str, key: str):
    def draw(outdir: Path, args) -> list[Path]:
        res = load_result("nets/appendix_e3", COMMAND, results_dir(args))
        rows = res.tables.get("curves") or []
        Path(outdir).mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(6, 4))
        # each seed on its own: with three seeds a t-band says little, and one run that never fits
        # would hide in a mean
        for run in ("pruned", "unpruned"):
            for k, seed in enumerate(sorted({r["seed"] for r in rows if r["run"] == run})):
                rr = sorted((r for r in rows if r["run"] == run and r["seed"] == seed), key=lambda r: r["epoch"])
                ax.plot([r["epoch"] for r in rr], [r[key] for r in rr], color=COLOURS[run], lw=0.8, alpha=0.8,
                        ls=("-", "--", ":", "-.")[k % 4], label=f"{run}, seed {seed}")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key.replace("_", " ") + " (MSE)")
        scale = res.config.get("scale", {})
        ax.set_title(f"Fig {number} counterpart: {scale.get('topology')}, {scale.get('tag')}", fontsize=8)
        ax.legend(fontsize=8)
        fig.tight_layout()
        png = Path(outdir) / f"{figure_stem(number)}.png"
        fig.savefig(png, dpi=120)
        plt.close(fig)
        return [png, write_csv(rows, Path(outdir) / f"{figure_stem(number)}.csv")]

    draw.__doc__ = f"Fig {number}: E.3 regression {key.replace('_', ' ')} vs epoch, pruned vs unpruned (per seed)"
    return draw


FIGURES = {"E.3": _figure("E.3", "train_loss"), "E.4": _figure("E.4", "test_loss")}
