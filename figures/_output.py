"""How a figure is written: the PNG and, beside it, the plotted data as JSON and CSV."""
from __future__ import annotations

import json
import re
from pathlib import Path

from core.result import plain, write_csv


MIN_FONT_PT = 8        # the smallest text in a figure: ~12 px in the HTML report at full width
MAX_WIDTH_IN = 11.5    # at 120 dpi ~1380 px: the report shows it at >= 90% of its size


def figure_stem(name: str) -> str:
    """The one file-name convention of the figures: ``fig_`` + the figure name with every run of
    characters other than letters and digits turned into ``_`` ("4.3" -> ``fig_4_3``, "D.2" ->
    ``fig_D_2``, "001.6" -> ``fig_001_6``, "shrinkage.denoising" -> ``fig_shrinkage_denoising``);
    the PNG, JSON and CSV of a figure share it."""
    return "fig_" + re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_")


def save_figure(fig, outdir: Path, stem: str, rows: list[dict], meta: dict | None = None) -> list[Path]:
    """Write ``<stem>.png``, ``<stem>.json`` (``{"meta": ..., "rows": ...}``: the plotted data and
    where they came from) and ``<stem>.csv`` (the rows) into ``outdir``; close ``fig``."""
    import matplotlib.pyplot as plt

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    png = outdir / f"{stem}.png"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    plt.close(fig)
    js = outdir / f"{stem}.json"
    js.write_text(json.dumps(plain({"meta": meta or {}, "rows": rows}), indent=1, sort_keys=True,
                             allow_nan=False) + "\n")
    return [png, js, write_csv(rows, outdir / f"{stem}.csv")]


def source(result, path_name: str) -> dict:
    """The provenance a figure's data carry: the Result's experiment, command and commit."""
    p = result.provenance
    return {"result": path_name, "experiment": result.experiment, "argv": p.argv,
            "git_commit": p.git_commit, "seed": p.seed}
