"""Figures D.1 and D.2 of paper 000 (BEMA on Example D.1); data from ``sims.bema_checks``.

D.1: lambda+ against alpha (beta = 0.5) and against beta (alpha = 0.25), the paper's red line
lambda+ = 4, and BEMA on the noise R alone.  D.2: ESD of X = W^T W / N with the BEMA-fitted MP
density.  Each writes ``fig_D.x.png`` and ``fig_D.x.json`` (the plotted data) into ``outdir``.
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _write_json(data: dict, path: Path) -> Path:
    path.write_text(json.dumps(data, indent=1))
    return path


def fig_d1(outdir: Path, args) -> list[Path]:
    """Fig D.1: BEMA lambda+ on Example D.1 against alpha and against beta."""
    from sims.bema_checks import fig_d1_data

    data = fig_d1_data(seed=args.seed, device=args.device, quick=args.quick)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, var in ((axes[0], "alpha_sweep", "alpha"), (axes[1], "beta_sweep", "beta")):
        rows = data[key]
        x = [r[var] for r in rows]
        ax.fill_between(x, [r["lambda_plus_min"] for r in rows], [r["lambda_plus_max"] for r in rows],
                        color="tab:blue", alpha=0.2, label=f"range over {data['trials']} draws of R")
        ax.plot(x, [r["lambda_plus_mean"] for r in rows], "o-", ms=3, color="tab:blue",
                label="BEMA on X = (R+S)^T(R+S)/N")
        ax.plot(x, [r["lambda_plus_noise_only_mean"] for r in rows], "--", color="tab:green",
                label="BEMA on R^T R/N alone")
        ax.axhline(data["limit"], color="red", label="lambda+ = 4")
        fixed = f"beta = {data['beta_fixed']}" if var == "alpha" else f"alpha = {data['alpha_fixed']}"
        ax.set_xlabel(var)
        ax.set_ylabel("lambda+")
        ax.set_title(f"({'a' if var == 'alpha' else 'b'}) dependence on {var}, {fixed}, N = {data['N']}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    png = outdir / "fig_D.1.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, _write_json(data, outdir / "fig_D.1.json")]


def fig_d2(outdir: Path, args) -> list[Path]:
    """Fig D.2: ESD of X for Example D.1 with the BEMA-fitted MP density."""
    from sims.bema_checks import fig_d2_data

    data = fig_d2_data(seed=args.seed, device=args.device, quick=args.quick)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    edges = data["bin_edges"]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.stairs(data["esd_density"], edges, fill=True, color="tab:blue", alpha=0.6, label="ESD of X")
    ax.plot(data["mp_grid"], data["mp_density"], color="red",
            label=f"MP fitted by BEMA, sigma^2 = {data['sigma2']:.4f}")
    ax.axvline(data["lambda_plus"], color="k", ls="--",
               label=f"lambda+ = {data['lambda_plus']:.4f} ({data['n_spikes']} eigenvalues above)")
    ax.set_xlabel("eigenvalue of X = W^T W / N")
    ax.set_ylabel("density")
    ax.set_title(f"Fig D.2, Example D.1, N = {data['N']} (outliers beyond the axis: {len(data['outliers'])})",
                 fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    png = outdir / "fig_D.2.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, _write_json(data, outdir / "fig_D.2.json")]


FIGURES = {"D.1": fig_d1, "D.2": fig_d2}
