"""Figures of paper 000 Section 3 (Example 3.2 and its controls, Section 3.2.1's sparsification,
Appendix E.2) from the committed Results of ``nets.section3`` (``results/section3/*.json``).

3.3 / 3.4: test / training accuracy against epoch, pruned against unpruned, mean and 95% seed band,
one panel per topology.  3.5: (a) the training and test accuracy of topology (a) with the pruning
rounds marked, (b) test accuracy right before and right after each round.  E.1: the N(0, 1/N), He
and Xavier initialisations of E.2's net (``appendix-e2``; else the He / Xavier controls of topology (a)).
"mechanism": classes never predicted (an output dead, or nearly, behind the final ReLU) against epoch,
and the accuracy gap against their difference within each seed pair.
3.6: accuracy against parameters kept by post-training sparsification.  Every figure also writes
its table as CSV.  A missing Result raises ``figures._results.MissingResult`` naming the command.
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt

from core.result import write_csv
from figures._output import figure_stem
from figures._results import load_result, results_dir

TOPOLOGIES = ("a", "b", "c")


def _command(topology: str) -> str:
    return (f"python -m nets.section3 example-3.2 --topology {topology} ... "
            f"--json results/section3/ex3.2{topology}.json (see the report for the seeds)")


def _load(topology: str, rdir=None):
    return load_result(f"section3/ex3.2{topology}", _command(topology), rdir)


def _available(rdir=None):
    out = {}
    for t in TOPOLOGIES:
        try:
            out[t] = _load(t, rdir)
        except FileNotFoundError:
            continue
    if not out:
        _load("a", rdir)  # raises MissingResult with the command
    return out


COLOURS = {"pruned": "tab:blue", "unpruned": "tab:red"}


def _band(ax, rows, key, run, label=None, colour=None):
    rows = sorted((r for r in rows if r["run"] == run), key=lambda r: r["epoch"])
    if not rows:
        return
    ep = [r["epoch"] for r in rows]
    mean = [r[f"{key}_mean"] for r in rows]
    lo = [r[f"{key}_lo"] if r[f"{key}_lo"] is not None else r[f"{key}_mean"] for r in rows]
    hi = [r[f"{key}_hi"] if r[f"{key}_hi"] is not None else r[f"{key}_mean"] for r in rows]
    c = colour or COLOURS[run]
    ax.plot(ep, mean, color=c, lw=1.6, zorder=3, label=label or f"{run} (n={rows[0]['seeds']})")
    # translucent fill plus its two edges: where the bands of two runs overlap, the fill of the one
    # drawn last would hide the other; the edge lines keep both visible
    ax.fill_between(ep, lo, hi, color=c, alpha=0.12, lw=0, zorder=1)
    for edge in (lo, hi):
        ax.plot(ep, edge, color=c, lw=0.7, ls="--", alpha=0.9, zorder=2)


def _curves(outdir: Path, args, key: str, number: str) -> list[Path]:
    results = _available(results_dir(args))
    fig, axes = plt.subplots(1, len(results), figsize=(3.8 * len(results), 3.6), squeeze=False)
    table = []
    for ax, (t, res) in zip(axes[0], results.items()):
        main = f"ex3.2{t}"
        rows = [r for r in res.records if r["config"] == main]
        table += rows
        for run in ("pruned", "unpruned"):
            _band(ax, rows, key, run)
        topo = res.config["scale"]["topology"]
        ax.set_title(f"({t}) {topo}\n{res.config['scale']['tag']}", fontsize=8)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key.replace("_", " "))
        ax.legend(fontsize=8)
    fig.suptitle(f"Fig {number} counterpart: {key.replace('_', ' ')}, mean and 95% seed band", fontsize=9)
    fig.tight_layout()
    png = Path(outdir) / f"{figure_stem(number)}.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, write_csv(table, Path(outdir) / f"{figure_stem(number)}.csv")]


def fig_3_3(outdir: Path, args) -> list[Path]:
    """Fig 3.3: Example 3.2 test accuracy vs epoch, pruned vs unpruned, seed bands."""
    return _curves(outdir, args, "test_accuracy", "3.3")


def fig_3_4(outdir: Path, args) -> list[Path]:
    """Fig 3.4: Example 3.2 training accuracy vs epoch, pruned vs unpruned, seed bands."""
    return _curves(outdir, args, "train_accuracy", "3.4")


def fig_3_5(outdir: Path, args) -> list[Path]:
    """Fig 3.5: topology (a), accuracy with pruning rounds marked; test accuracy before/after each round."""
    res = _load("a", results_dir(args))
    rows = [r for r in res.records if r["config"] == "ex3.2a" and r["run"] == "pruned"]
    events = [e for e in res.tables["events"] if e["config"] == "ex3.2a"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    _band(a, rows, "train_accuracy", "pruned", "training accuracy", "tab:green")
    _band(a, rows, "test_accuracy", "pruned", "test accuracy", "tab:blue")
    for e in sorted({e["epoch"] for e in events}):
        a.axvline(e, color="tab:blue", ls="--", lw=0.7)
    a.set_xlabel("epoch")
    a.set_ylabel("accuracy")
    a.set_title("(a) pruned ex3.2a; dashed: pruning rounds", fontsize=9)
    a.legend(fontsize=8)
    by_epoch: dict = {}
    for e in events:
        by_epoch.setdefault(e["epoch"], []).append(e)
    ep = sorted(by_epoch)
    before = [sum(x["test_accuracy_before"] for x in by_epoch[k]) / len(by_epoch[k]) for k in ep]
    after = [sum(x["test_accuracy_after"] for x in by_epoch[k]) / len(by_epoch[k]) for k in ep]
    b.scatter(ep, before, color="tab:red", label="before pruning (mean over seeds)")
    b.scatter(ep, after, color="tab:purple", label="after pruning")
    for e in events:
        b.plot([e["epoch"], e["epoch"]], [e["test_accuracy_before"], e["test_accuracy_after"]],
               color="gray", lw=0.5, alpha=0.6)
    b.set_xlabel("epoch")
    b.set_ylabel("test accuracy")
    b.set_title("(b) test accuracy right before / after each round (lines: single seeds)", fontsize=9)
    b.legend(fontsize=8)
    fig.tight_layout()
    png = Path(outdir) / f"{figure_stem('3.5')}.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, write_csv(events, Path(outdir) / f"{figure_stem('3.5')}.csv")]


E2_COMMAND = ("python -m nets.section3 appendix-e2 --seeds 5 --width-divisor 40 "
              "--json results/section3/e2.json (see the report for the seeds)")


def fig_e_1(outdir: Path, args) -> list[Path]:
    """Fig E.1 counterpart: test accuracy against epoch, pruned vs unpruned, per initialisation of E.2's net.

    The N(0,1/N), He and Xavier initialisations (and, beside them, the 90%-sparse and L2-only variants) of E.2's net
    ([784, 3000, 3000, 3000, 3000, 500, 10] at reduced width, ``appendix-e2``); without that Result,
    the He and Xavier controls of Example 3.2a."""
    rd = results_dir(args)
    try:
        res = load_result("section3/e2", E2_COMMAND, rd)
        configs = [c for c in ("e2-normal", "e2-he", "e2-xavier", "e2-normal-sparse90", "e2-he-l2only",
                               "e2-xavier-l2only", "e2-normal-sparse90-l2only")
                   if any(r["config"] == c for r in res.records)]
        title = f"Fig E.1 counterpart: E.2's net at widths / {res.config['width_divisor']}, test accuracy"
    except FileNotFoundError:
        res = _load("a", rd)
        configs = [c for c in ("ex3.2a", "ex3.2a-he", "ex3.2a-xavier") if any(r["config"] == c for r in res.records)]
        title = "Fig E.1 counterpart on Example 3.2a (E.2 uses another net and L1 + L2)"
    cols = min(3, len(configs))
    rows_n = -(-len(configs) // cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(3.8 * cols, 3.2 * rows_n), squeeze=False)
    table = []
    for ax, c in zip(axes.flat, configs):
        rows = [r for r in res.records if r["config"] == c]
        table += rows
        for run in ("pruned", "unpruned"):
            _band(ax, rows, "test_accuracy", run)
        ax.set_title(c, fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(configs):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    png = Path(outdir) / f"{figure_stem('E.1')}.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, write_csv(table, Path(outdir) / f"{figure_stem('E.1')}.csv")]


VARIANTS = {"": ("N(0, 1/N) init, final ReLU", "tab:blue"), "-he": ("He init, final ReLU", "tab:green"),
            "-xavier": ("Xavier init, final ReLU", "tab:purple"),
            "-linear-output": ("linear output (no final ReLU)", "tab:gray")}
RUN_STYLES = {"pruned": "-", "unpruned": "--"}
TOPOLOGY_MARKERS = {"a": "o", "b": "s", "c": "^"}


def _variant(config: str, topology: str) -> str:
    return config[len(f"ex3.2{topology}"):]


def fig_mechanism(outdir: Path, args) -> list[Path]:
    """Classes never predicted (outputs dead behind the final ReLU) vs epoch; the accuracy gap vs their difference."""
    from matplotlib.lines import Line2D

    results = _available(results_dir(args))
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.6))
    curves, scatter = list(axes.flat[:3]), axes.flat[3]
    table = []
    for ax, (t, res) in zip(curves, results.items()):
        for c in sorted({r["config"] for r in res.records}):
            label, colour = VARIANTS.get(_variant(c, t), (c, "tab:brown"))
            rows = [r for r in res.records if r["config"] == c]
            for run, ls in RUN_STYLES.items():
                rr = sorted((r for r in rows if r["run"] == run), key=lambda r: r["epoch"])
                if rr:
                    ax.plot([r["epoch"] for r in rr], [r["classes_never_predicted_mean"] for r in rr],
                            ls=ls, color=colour, lw=1.4)
        ax.set_title(f"({t}) {res.config['scale']['topology']}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("classes never predicted (mean over seeds)")
        ax.grid(alpha=0.3)
    for ax in curves[len(results):]:
        ax.axis("off")
    for t, res in results.items():
        by = {(r["config"], r["seed"], r["run"]): r for r in res.tables["runs"]}
        for (c, s, run), r in by.items():
            if run != "pruned" or (c, s, "unpruned") not in by:
                continue
            u = by[(c, s, "unpruned")]
            row = {"config": c, "seed": s, "never_predicted_unpruned_minus_pruned":
                   u["final_classes_never_predicted"] - r["final_classes_never_predicted"],
                   "dead_outputs_unpruned_minus_pruned": u["final_dead_outputs"] - r["final_dead_outputs"],
                   "gap": r["final_test_accuracy"] - u["final_test_accuracy"]}
            table.append(row)
            colour = VARIANTS["-linear-output"][1] if c.endswith("linear-output") else VARIANTS[""][1]
            scatter.scatter(row["never_predicted_unpruned_minus_pruned"], row["gap"],
                            marker=TOPOLOGY_MARKERS[t], color=colour, alpha=0.7)
    scatter.axhline(0, color="k", lw=0.5)
    scatter.set_xlabel("classes never predicted at the end: unpruned - pruned")
    scatter.set_ylabel("final test accuracy: pruned - unpruned")
    scatter.set_title("(d) one point per seed pair", fontsize=9)
    scatter.grid(alpha=0.3)
    scatter.legend(handles=[Line2D([], [], ls="", marker=m, color="k", label=f"topology ({t})")
                            for t, m in TOPOLOGY_MARKERS.items() if t in results]
                   + [Line2D([], [], ls="", marker="o", color=VARIANTS[""][1], label="final ReLU"),
                      Line2D([], [], ls="", marker="o", color=VARIANTS["-linear-output"][1],
                             label="linear output")], fontsize=8, loc="upper left")
    shown = {_variant(c, t) for t, res in results.items() for c in {r["config"] for r in res.records}}
    handles = [Line2D([], [], color=colour, lw=2, label=label) for v, (label, colour) in VARIANTS.items()
               if v in shown]
    handles += [Line2D([], [], color="k", ls=ls, label=run) for run, ls in RUN_STYLES.items()]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle("Example 3.2: outputs dead behind the final ReLU and the accuracy gap", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    png = Path(outdir) / f"{figure_stem('mechanism')}.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, write_csv(table, Path(outdir) / f"{figure_stem('mechanism')}.csv")]


def _sweep_plot(ax, sweeps, title):
    for run, colour in COLOURS.items():
        for seed in sorted({r["seed"] for r in sweeps if r["run"] == run}):
            rr = sorted((r for r in sweeps if r["run"] == run and r["seed"] == seed), key=lambda r: r["xi"])
            ax.plot([r["fraction_kept"] for r in rr], [r["accuracy"] for r in rr], "o-", color=colour, ms=3,
                    label=f"{'MP-pruned' if run == 'pruned' else 'unpruned'} net, seed {seed}")
            last = None      # label a point only where it does not run into the previous label
            for r in sorted(rr, key=lambda r: r["fraction_kept"]):
                x = math.log10(max(r["fraction_kept"], 1e-12))
                if last is None or x - last >= 0.18:
                    ax.annotate(f"{100 * r['fraction_kept']:.2g}%", (r["fraction_kept"], r["accuracy"]),
                                fontsize=8, xytext=(2, 3), textcoords="offset points")
                    last = x
    ax.set_xscale("log")
    ax.set_xlabel("fraction of parameters kept (log)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=8)


def fig_3_6(outdir: Path, args) -> list[Path]:
    """Fig 3.6: accuracy vs parameters kept by post-training sparsification (MP-pruned and unpruned)."""
    res = load_result("section3/claims_3_2_1", "python -m nets.section3 claims-3.2.1 --seeds 1 "
                      "--json results/section3/claims_3_2_1.json", results_dir(args))
    sweeps = [r for r in res.tables["sparsification_sweep"] if r["config"] == "fmnist-mp-sparsify-after"]
    fig, ax = plt.subplots(figsize=(6, 4))
    _sweep_plot(ax, sweeps, "Fig 3.6 counterpart: [784, 300 x 4, 50, 10], cpu scale")
    fig.tight_layout()
    png = Path(outdir) / f"{figure_stem('3.6')}.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, write_csv(sweeps, Path(outdir) / f"{figure_stem('3.6')}.csv")]


def _ex34(args):
    return load_result("section3/ex3.4", "python -m nets.section3 example-3.4 --seeds 1 "
                       "--json results/section3/ex3.4.json", results_dir(args))


def fig_3_8(outdir: Path, args) -> list[Path]:
    """Fig 3.8: Example 3.4 CNN (cpu scale), test and training accuracy, pruned vs unpruned."""
    res = _ex34(args)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, key in zip(axes, ("test_accuracy", "train_accuracy")):
        for run in ("pruned", "unpruned"):
            _band(ax, res.records, key, run)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key.replace("_", " "))
        ax.legend(fontsize=8)
    fig.suptitle(f"Fig 3.8 counterpart: CNN {res.config['scale']['tag']}", fontsize=9)
    fig.tight_layout()
    png = Path(outdir) / f"{figure_stem('3.8')}.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, write_csv(res.records, Path(outdir) / f"{figure_stem('3.8')}.csv")]


def fig_3_9(outdir: Path, args) -> list[Path]:
    """Fig 3.9: Example 3.4 CNN sparsified after training, (a) MP-pruned, (b) unpruned."""
    res = _ex34(args)
    sweeps = res.tables["sparsification_sweep"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, run, label in zip(axes, ("pruned", "unpruned"), ("(a) MP-pruned CNN", "(b) unpruned CNN")):
        _sweep_plot(ax, [r for r in sweeps if r["run"] == run], label)
    fig.tight_layout()
    png = Path(outdir) / f"{figure_stem('3.9')}.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, write_csv(sweeps, Path(outdir) / f"{figure_stem('3.9')}.csv")]


def fig_ladder(outdir: Path, args) -> list[Path]:
    """Width ladder of Example 3.2a: accuracy gap and never-predicted-class runs against width."""
    res = load_result("section3/ladder", "python -m nets.section3 ladder --widths 40 20 10 --seeds 3 "
                      "--json results/section3/ladder.json", results_dir(args))
    rows = sorted(res.records, key=lambda r: -r["width_divisor"])
    x = [1 / r["width_divisor"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    a.errorbar(x, [r["gap_mean"] for r in rows],
               yerr=[[r["gap_mean"] - (r["gap_lo"] if r["gap_lo"] is not None else r["gap_mean"]) for r in rows],
                     [(r["gap_hi"] if r["gap_hi"] is not None else r["gap_mean"]) - r["gap_mean"] for r in rows]],
               fmt="o-", label="pruned - unpruned (95% CI)")
    for v in res.verdicts:
        if "extrapolated_gap" in v.extra:
            a.errorbar([1.0], [v.extra["extrapolated_gap"]],
                       yerr=[[v.extra["extrapolated_gap"] - v.extra["lo"]], [v.extra["hi"] - v.extra["extrapolated_gap"]]],
                       fmt="s", color="gray", label="extrapolation to paper width")
    a.axhline(0.19, color="tab:red", ls=":", label="paper gap (~89% vs ~70%)")
    a.set_xscale("log", base=2)
    a.set_xlabel("width / paper width")
    a.set_ylabel("test accuracy gap")
    a.legend(fontsize=8)
    b.plot(x, [r["unpruned_runs_class_never_predicted"] / r["seeds"] for r in rows], "o-", color="tab:red",
           label="unpruned")
    b.plot(x, [r["pruned_runs_class_never_predicted"] / r["seeds"] for r in rows], "o-", color="tab:blue",
           label="pruned")
    b.set_xscale("log", base=2)
    b.set_xlabel("width / paper width")
    b.set_ylabel("runs ending with a never-predicted class")
    b.legend(fontsize=8)
    fig.tight_layout()
    png = Path(outdir) / f"{figure_stem('ladder')}.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [png, write_csv(rows, Path(outdir) / f"{figure_stem('ladder')}.csv")]


FIGURES = {"3.3": fig_3_3, "3.4": fig_3_4, "3.5": fig_3_5, "3.6": fig_3_6, "3.8": fig_3_8, "3.9": fig_3_9,
           "E.1": fig_e_1, "mechanism": fig_mechanism, "ladder": fig_ladder}
