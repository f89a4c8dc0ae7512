"""Figures of the pruning pipeline (nets/), drawn from committed Results (nothing is trained here).

D.5: accuracy of the Example D.3 net ([784, 1000, 10]; the paper trains it on MNIST, the committed
result uses Fashion-MNIST, the dataset installable here, see ``nets.posttraining``) against the
number of singular values of its first layer kept by Algorithm 3, MP threshold marked (paper 000
Fig D.5).  Data: ``results/posttraining.json``, one curve per trained net.
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from core.result import plain, write_csv  # noqa: E402
from figures._output import figure_stem
from figures._results import load_result, results_dir  # noqa: E402

POSTTRAINING = ("posttraining", "python -m nets.posttraining --nets 2 --final-activation relu none "
                "--json results/posttraining.json")


def fig_d5(outdir: Path, args) -> list[Path]:
    """Fig D.5: accuracy vs singular values kept (Algorithm 3), MP threshold marked."""
    res = load_result(*POSTTRAINING, results_dir(args))
    nets = res.tables["nets"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, net in enumerate(nets):
        key = (net["seed"], net["final_activation"])
        rows = sorted((r for r in res.records if (r["seed"], r["final_activation"]) == key),
                      key=lambda r: r["rank"])
        label = f"seed {net['seed']}, final {net['final_activation']}"
        ax.plot([max(r["rank"], 0.8) for r in rows], [r["accuracy"] for r in rows], "o-",
                color=f"C{i}", ms=3, label=f"{label} (unpruned {net['full_rank_accuracy']:.3f})")
        ax.axvline(max(net["mp_rank"], 0.8), color=f"C{i}", ls="--", lw=0.8)
    first = nets[0]
    ax.set_xscale("log")
    ax.set_xlabel(f"singular values kept in layer {first['layer']} "
                  f"{first['shape'][0]}x{first['shape'][1]} (dashed: MP threshold)")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Fig D.5 counterpart ({first['dataset']}, "
                 f"{'quick' if res.config.get('quick') else 'full'})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    png = outdir / f"{figure_stem('D.5')}.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    js = outdir / f"{figure_stem('D.5')}.json"
    js.write_text(json.dumps(plain(dict(result=res.experiment, argv=res.provenance.argv, nets=nets,
                                        rows=res.records)), indent=1, sort_keys=True) + "\n")
    return [png, js, write_csv(res.records, outdir / f"{figure_stem('D.5')}.csv")]


FIGURES = {"D.5": fig_d5}
