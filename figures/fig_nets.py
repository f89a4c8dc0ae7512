"""Figures of the pruning pipeline (nets/).

D.5: accuracy of the Example D.3 net ([784, 1000, 10]; the paper trains it on MNIST, we default to
Fashion-MNIST, the dataset installable here, see ``nets.posttraining``) against the number
of singular values of its first layer kept by Algorithm 3, MP threshold marked (paper 000 Fig D.5).
Data: ``results/nets/fig_d5.json`` written by ``python -m nets.posttraining`` when present (full
run), otherwise computed here by ``nets.posttraining.figure_d5_data`` (``--quick``: a tiny net
trained for one epoch on 2000 images).
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt

RESULTS = Path("results/nets/fig_d5.json")


def fig_d5(outdir: Path, args) -> list[Path]:
    """Fig D.5: accuracy vs singular values kept (Algorithm 3), MP threshold marked."""
    from nets.posttraining import figure_d5_data
    from sims.device import resolve_device

    if not args.quick and RESULTS.is_file():
        data = json.loads(RESULTS.read_text())
    else:
        data = figure_d5_data(quick=args.quick, seed=args.seed, device=resolve_device(args.device))
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    json_path = outdir / "fig_D.5.json"
    json_path.write_text(json.dumps(data, indent=1))
    ks = [r["rank"] for r in data["rows"]]
    acc = [r["accuracy"] for r in data["rows"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([max(k, 0.8) for k in ks], acc, "o-", color="tab:blue", label="test accuracy (4.2)")
    ax.axvline(max(data["mp_rank"], 0.8), color="red",
               label=f"MP threshold: {data['mp_rank']} singular values > sqrt(lambda+ N)")
    ax.axhline(data["full_rank_accuracy"], color="gray", ls=":", label="unpruned")
    ax.set_xscale("log")
    ax.set_xlabel(f"singular values kept in layer {data['layer']} {data['shape'][0]}x{data['shape'][1]}")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Fig D.5 ({data.get('dataset')}, {'quick' if data.get('quick') else 'full'})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    png = outdir / "fig_D.5.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, json_path]


FIGURES = {"D.5": fig_d5}
