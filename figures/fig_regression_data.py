"""Fig E.2 of paper 000 (the regression problem of Appendix E.3), from ``results/paper_claims.json``.

The 2000 noisy training points and the noise-free test curve 0.5 cos(20x) + 2 cos(5x) + 0.5 sin(10x)
(tables ``fig_e2_train``, ``fig_e2_test``, made by ``nets.data.regression_e3``).  Writes
``fig_E_2.png`` with its data (JSON, CSV) beside it.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from figures._output import figure_stem, save_figure, source  # noqa: E402
from figures._results import load_result, results_dir  # noqa: E402

RESULT = "paper_claims"
COMMAND = "python -m sims.paper_claims --json results/paper_claims.json"


def fig_e2(outdir: Path, args) -> list[Path]:
    """Fig E.2: the E.3 regression data, noisy training points and the noise-free target."""
    result = load_result(RESULT, COMMAND, results_dir(args))
    train, test = result.tables["fig_e2_train"], result.tables["fig_e2_test"]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter([r["x"] for r in train], [r["y"] for r in train], s=3, color="tab:blue", alpha=0.5,
               label=f"training data ({len(train)} points, uniform noise x 0.5)")
    ax.plot([r["x"] for r in test], [r["y_true"] for r in test], color="red",
            label=f"target 0.5 cos 20x + 2 cos 5x + 0.5 sin 10x ({len(test)} test points)")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Fig E.2: the regression problem of Appendix E.3", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    rows = [{"part": "train", **r} for r in train] + [{"part": "test", **r} for r in test]
    return save_figure(fig, outdir, figure_stem("E.2"), rows, source(result, RESULT))


FIGURES = {"E.2": fig_e2}
