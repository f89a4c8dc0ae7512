"""Counterparts of paper 001's Figs 6-10 (test accuracy of the split and non-split DNNs of Examples
4.3-4.7 against epoch) from the committed Result of ``nets.paper001`` (``results/paper001.json``,
table ``curves``): each seed's curve of each arm, on Fashion-MNIST at CPU scale (the paper's
runs are on MNIST), with the paper's non-split plateau and split peak as dotted lines.  Each figure
also writes its rows as CSV.  A missing Result (or an example it does not hold) raises
``figures._results.MissingResult`` naming the command.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from core.result import write_csv
from figures._output import figure_stem
from figures._results import MissingResult, load_result, results_dir

# paper 001 figure -> example
FIGURE_EXAMPLE = {"6": "4.3", "7": "4.4", "8": "4.5", "9": "4.6", "10": "4.7"}
COMMAND = ("python -m nets.paper001 --examples 4.3 4.4 4.5 4.6 4.7 --seeds 3 --epochs-cap 300 "
           "--json results/paper001.json (see the report for the seeds)")
COLOURS = {"split": "tab:blue", "non-split": "tab:red"}


def _figure(number: str):
    example = FIGURE_EXAMPLE[number]

    def draw(outdir: Path, args) -> list[Path]:
        res = load_result("paper001", COMMAND, results_dir(args))
        config = f"p001-ex{example}"
        rows = [r for r in res.tables.get("curves", []) if r["config"] == config]
        if not rows:
            raise MissingResult(Path(f"results/paper001.json: curves of Example {example}"),
                                COMMAND.replace("--examples 4.3 4.4 4.5 4.6 4.7", f"--examples ... {example}"))
        summary = next((r for r in res.tables.get("examples", []) if r["example"] == example), None)
        Path(outdir).mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(6, 4))
        for arm in ("split", "non-split"):
            seeds = sorted({r["seed"] for r in rows if r["run"] == arm})
            for k, seed in enumerate(seeds):
                rr = sorted((r for r in rows if r["run"] == arm and r["seed"] == seed), key=lambda r: r["epoch"])
                ax.plot([r["epoch"] for r in rr], [r["test_accuracy"] for r in rr], color=COLOURS[arm], lw=0.8,
                        alpha=0.8, ls=("-", "--", ":", "-.")[k % 4], label=f"{arm}, seed {seed}")
        title = f"paper 001 Fig {number} counterpart (Example {example}), Fashion-MNIST"
        if summary:
            ax.axhline(summary["paper_nonsplit_plateau"], color=COLOURS["non-split"], ls=":", lw=0.8,
                       label="paper: non-split plateau (MNIST)")
            ax.axhline(summary["paper_split_peak"], color=COLOURS["split"], ls=":", lw=0.8,
                       label="paper: split peak (MNIST)")
            title += f"\n{summary['cpu_topology']}, {summary['epochs_run']} epochs, GoF {summary['goodness_of_fit']}"
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy")
        ax.set_title(title, fontsize=8)
        ax.legend(fontsize=8)
        fig.tight_layout()
        png = Path(outdir) / f"{figure_stem('001.' + number)}.png"
        fig.savefig(png, dpi=120)
        plt.close(fig)
        return [png, write_csv(rows, Path(outdir) / f"{figure_stem('001.' + number)}.csv")]

    draw.__doc__ = (f"Paper 001 Fig {number}: Example {example} split vs non-split test accuracy vs epoch "
                    "(Fashion-MNIST counterpart, per seed)")
    return draw


FIGURES = {f"001.{n}": _figure(n) for n in FIGURE_EXAMPLE}
