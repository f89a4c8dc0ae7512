"""Figures 4.2, 4.3, 4.4 and B.1 of paper 000 (Approximation Lemma B.2, Examples 4.2/4.3).

Each figure is drawn with the paper's quantity and, beside it, the derived limit of
``theory.approximation_symbolic`` (which is what the measured norms converge to).  Data are
written as JSON and CSV beside the PNG.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sims.report import write_csv, write_json  # noqa: E402
from theory import approximation as paper  # noqa: E402
from theory import approximation_symbolic as derived  # noqa: E402

PAPER_SPIKES = (30.0, 40.0, 50.0, 60.0, 70.0)


def _save(fig, outdir: Path, stem: str, rows: list[dict]) -> list[Path]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    png = outdir / f"{stem}.png"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return [png, write_json(rows, outdir / f"{stem}.json"), write_csv(rows, outdir / f"{stem}.csv")]


def fig_4_2(outdir: Path, args) -> list[Path]:
    """Fig 4.2: f_W of (4.24) against sigma_i, with the derived limits of ||W'-S||_2 and ||(W'-S)v_i||."""
    sig = np.linspace(1.01, 10, 400)
    f = np.array([paper.f_W_example_A1([s]) for s in sig])
    op = derived.block_opnorm_limits(sig)
    rows = [{"sigma": float(s), "f_W_4_24": float(a), "opnorm_limit": float(b),
             "fixed_v_limit": float(a)} for s, a, b in zip(sig, f, op)]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(sig, f, label="f_W (4.24) = lim ||(W'-S) v_i|| (derived)")
    ax.plot(sig, op, "--", label="lim ||W'-S||_2 (derived; (B.14) claims f_W)")
    ax.axhline(1, color="gray", lw=0.5)
    ax.set_xlabel("sigma_i")
    ax.set_ylabel("value")
    ax.set_title("Fig 4.2: f_W of Example 4.2")
    ax.legend(fontsize=8)
    return _save(fig, outdir, "fig_4_2", rows)


_RUNS: dict = {}


def _paper_run(args):
    """Example 4.2's Monte Carlo (shared by Fig 4.3 and B.1 within one process)."""
    from sims import approximation_lemma as al
    key = (bool(args.quick), int(args.seed), str(args.device))
    if key not in _RUNS:
        n, trials = (300, 3) if args.quick else (3000, 10)
        _RUNS[key] = al.run([n], trials, PAPER_SPIKES, seed=args.seed, device=args.device,
                            progress=not args.quick)
    return _RUNS[key]


def plot_opnorm_records(records: list[dict], outdir: Path, stem: str = "fig_4_3") -> list[Path]:
    """||S-W'||_2 per matrix against f_W and the derived limit, one panel per record (N)."""
    rows = [{"N": r["N"], "matrix": i, "opnorm": v, "f_W_paper": r["f_W_paper"],
             "opnorm_limit": r["opnorm_limit"], "spikes": r["spikes"]}
            for r in records for i, v in enumerate(r["opnorm_samples"])]
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in records:
        ax.plot(range(1, len(r["opnorm_samples"]) + 1), r["opnorm_samples"], "o-",
                label=f"measured, N={r['N']}, spikes={r['spikes'][-1]:g}..{r['spikes'][0]:g}")
    last = records[-1]
    ax.axhline(last["f_W_paper"], color="k", label=f"f_W (4.24) = {last['f_W_paper']:.4f}")
    ax.axhline(last["opnorm_limit"], color="r", ls="--",
               label=f"derived limit = {last['opnorm_limit']:.4f}")
    ax.set_xlabel("matrix")
    ax.set_ylabel("||S - W'||_2")
    ax.set_title("Fig 4.3: ||S-W'||_2 for independent matrices")
    ax.legend(fontsize=7)
    return _save(fig, outdir, stem, rows)


def fig_4_3(outdir: Path, args) -> list[Path]:
    """Fig 4.3: ||S-W'||_2 for 10 matrices N=3000 (quick: 3 at N=300) vs f_W and the derived limit."""
    return plot_opnorm_records(_paper_run(args), outdir)


def fig_4_4(outdir: Path, args) -> list[Path]:
    """Fig 4.4: f_W of (4.25) against 2 sigma for sigma in [-25, 25], sigma_r = 30 and 100."""
    sig = np.linspace(-25, 25, 501)
    sig = sig[sig != 0]
    fig, ax = plt.subplots(figsize=(6, 4))
    rows = []
    for sr in (30.0, 100.0):
        f = np.array([paper.f_W_symmetric_4_25([sr], s) for s in sig])
        op = np.array([derived.symmetric_limits([sr], s)[1][0] for s in sig])
        ax.plot(sig, f, label=f"f_W (4.25), sigma_r={sr:g}")
        ax.plot(sig, op, "--", label=f"lim ||W'-S||_2 (derived), sigma_r={sr:g}")
        rows += [{"sigma": float(s), "sigma_r": sr, "f_W_4_25": float(a), "opnorm_limit": float(b),
                  "two_sigma": float(2 * s)} for s, a, b in zip(sig, f, op)]
    ax.plot(sig, 2 * sig, "k:", label="2 sigma")
    ax.set_xlabel("sigma")
    ax.set_title("Fig 4.4: f_W vs 2 sigma (Example 4.3)")
    ax.legend(fontsize=7)
    return _save(fig, outdir, "fig_4_4", rows)


def fig_B_1(outdir: Path, args) -> list[Path]:
    """Fig B.1: |<u_i,u'_i>| and |<v_i,v'_i>| measured (N=3000, 10 matrices; quick: N=300) vs sqrt(1-1/sigma_i^2)."""
    r = _paper_run(args)[0]
    spikes = np.array(r["spikes"])
    lim_u, lim_v = (np.array(x) for x in r["overlap_limit_sqrt"])
    rows = [{"sigma": float(s), "u_overlap_mean": float(mu), "v_overlap_mean": float(mv),
             "u_limit": float(lu), "v_limit": float(lv), "N": r["N"], "trials": r["trials"]}
            for s, mu, mv, lu, lv in zip(spikes, r["u_overlap_mean"], r["v_overlap_mean"], lim_u, lim_v)]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key, lim, name in ((axes[0], "u_overlap_mean", lim_u, "left"),
                               (axes[1], "v_overlap_mean", lim_v, "right")):
        ax.plot(spikes, r[key], "o", label=f"measured, N={r['N']}")
        ax.plot(spikes, lim, "x--", label="sqrt(1 - 1/sigma^2) (A.4)")
        ax.set_xlabel("sigma_i")
        ax.set_title(f"{name} singular vectors")
        ax.legend(fontsize=7)
    return _save(fig, outdir, "fig_B_1", rows)


FIGURES = {"4.2": fig_4_2, "4.3": fig_4_3, "4.4": fig_4_4, "B.1": fig_B_1}
