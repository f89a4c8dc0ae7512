"""The summaries and verdicts of ``sims.paper003_frontier`` (paper 003's own method at CPU scale, claim
``003:abstract:1``) under the one verdict protocol (``core.protocol``): the two claim families declared
before the runs (``DECLARATIONS``: the abstract's comparison and the fine-tuned control), the frontier
table (mean over seeds per net, method and level) and ``verdicts``, which reads only the rows, the
units' pre-training curves and the config (a ``sims.paper003_frontier.Config``).  The rule itself is
stated in the docstring of ``sims.paper003_frontier``.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from core import protocol
from sims.decided import family_note
from sims.paper003_arms import METHODS, NETS

ENDPOINTS = (0.30, 0.50)
FAMILY_ALPHA = 0.05
CLAIM = "003:abstract:1"
SCALE = ("003's method (singular-vector sparsification, magnitude pruning, lasso fine-tuning) on an FC net "
         "[784, 200, 400, 200, 50, 10] and a small ViT (width 64, depth 3), Fashion-MNIST, 3 seeds; the paper: "
         "pre-trained ViT-B/16 on ImageNet")
DECLARATIONS = {  # declared before the runs; ``_declaration`` restates only the scale of another run
    "literal": protocol.declare(CLAIM, "1 point minus the accuracy drop (unpruned pre-trained minus pruned test "
                                "accuracy, points) at the first cycle reaching 30% / 50% removed, paired by seed",
                                "paired_sign", alpha=FAMILY_ALPHA, scale=SCALE),
    "control": protocol.declare(CLAIM, "1 point minus the accuracy drop against the finetune_only control (same "
                                "fine-tuning samples, no pruning) at the same cycle, paired by seed", "paired_sign",
                                alpha=FAMILY_ALPHA, scale=SCALE, family=CLAIM + " finetune-only control"),
}


def _declaration(key: str, scale: str) -> protocol.Declaration:
    decl = DECLARATIONS[key]
    return decl if scale == decl.scale else dataclasses.replace(decl, scale=scale)


def frontier(rows: list[dict]) -> list[dict]:
    """Mean over seeds per (net, method, level): removed fractions, accuracy, drop (95% percentile
    bootstrap over seeds, ``core.protocol``)."""
    out = []
    keys = sorted({(r["net"], r["method"], r["level"]) for r in rows}, key=lambda k: (k[0], METHODS.index(k[1])
                                                                                       if k[1] in METHODS else -1, k[2]))
    for net, method, level in keys:
        sel = [r for r in rows if (r["net"], r["method"], r["level"]) == (net, method, level)]
        drops = [r["accuracy_drop_points"] for r in sel]
        drop = (float(np.mean(drops)), *protocol.bootstrap_mean_interval(drops))
        out.append(dict(net=net, method=method, level=level, seeds=len(sel),
                        removed_nonzero=float(np.mean([r["removed_nonzero"] for r in sel])),
                        removed_stored=float(np.mean([r["removed_stored"] for r in sel])),
                        test_accuracy=float(np.mean([r["test_accuracy"] for r in sel])),
                        base_accuracy=float(np.mean([r["base_accuracy"] for r in sel])),
                        drop_points=drop[0], drop_lo=drop[1], drop_hi=drop[2]))
    return out


def describe(net: str, units: dict, cfg) -> str:
    seeds = sorted(s for (n, s) in units if n == net)
    data = "Fashion-MNIST" if cfg.data == "fashion_mnist" else "synthetic toy data"
    if net == "vit":
        pre = [units[(net, s)]["pretrain"] for s in seeds]
        c = pre[0].get("config", {})
        n = pre[0].get("settings", {}).get("n_train") or 60000
        return (f"small ViT (width {c.get('width')}, depth {c.get('depth')}, patch {c.get('patch')}), "
                f"{data}, pre-trained {pre[0].get('epochs')} epochs on {n} images, tested on "
                f"{cfg.vit_n_test}, seeds {seeds}")
    return (f"FC net {list(cfg.fc_topology)} (Example 3.2a / 10, linear output), {data}, "
            f"pre-trained {cfg.fc_epochs} epochs on {cfg.n_train} images, tested on {cfg.n_test}, seeds {seeds}")


def _scale(rows: list[dict], units: dict, cfg) -> str:
    parts = []
    if any(r["net"] == "fc" for r in rows):
        parts.append(f"an FC net {list(cfg.fc_topology)}")
    if any(r["net"] == "vit" for r in rows):
        c = next((u["pretrain"].get("config", {}) for (n, _), u in units.items() if n == "vit"), {})
        parts.append(f"a small ViT (width {c.get('width')}, depth {c.get('depth')})")
    seeds = sorted({r["seed"] for r in rows})
    data = "Fashion-MNIST" if cfg.data == "fashion_mnist" else "synthetic toy data"
    return (f"003's method (singular-vector sparsification, magnitude pruning, lasso fine-tuning) on "
            f"{' and '.join(parts)}, {data}, {len(seeds)} seeds; the paper: pre-trained ViT-B/16 on ImageNet")


def verdicts(rows: list[dict], units: dict, cfg) -> list:
    """The declared rule of the module docstring: per net and endpoint one row on the abstract's
    comparison and one on the fine-tuned control, each family Holm-adjusted."""
    scale = _scale(rows, units, cfg)
    found = []   # (kind, Decision, diffs, kwargs)
    for net in [n for n in NETS if any(r["net"] == n for r in rows)]:
        sel = [r for r in rows if r["net"] == net and r["method"] == "003"]
        seeds = sorted({r["seed"] for r in sel})
        cycles = sorted({r["level"] for r in sel})
        mean_removed = {c: float(np.mean([r["removed_nonzero"] for r in sel if r["level"] == c])) for c in cycles}
        setting = describe(net, units, cfg)
        curves = [units[(net, sd)]["pretrain"]["curve"] for sd in seeds if (net, sd) in units]
        converged = ""
        if curves and all(len(c) >= 3 for c in curves):
            last = np.mean([c[-1]["test_accuracy"] for c in curves])
            before = np.mean([c[-3]["test_accuracy"] for c in curves])
            converged = (f"Pre-training: test accuracy {100 * last:.2f}% after epoch {curves[0][-1]['epoch']}, "
                         f"{100 * (last - before):+.2f} points over the last two epochs (mean over seeds). ")
        for endpoint in ENDPOINTS:
            reach = [c for c in cycles if mean_removed[c] >= endpoint]
            base = (f"{setting}; 003's method at >= {endpoint:.0%} of parameters removed (non-zero count), "
                    "accuracy lost against the unpruned pre-trained net")
            if not reach:
                found.append(("literal", protocol.withheld(_declaration("literal", scale),
                                                           f"the {endpoint:.0%} endpoint is not reached in "
                                                           f"{len(cycles)} cycles (largest removed "
                                                           f"{max(mean_removed.values()):.3f})"),
                              None, dict(setting=base, bound=1.0, note="no cycle reaches the endpoint")))
                continue
            c = reach[0]
            drops = [r["accuracy_drop_points"] for r in sorted(sel, key=lambda r: r["seed"]) if r["level"] == c]
            control = {r["seed"]: r["test_accuracy"] for r in rows if r["net"] == net
                       and r["method"] == "finetune_only" and r["level"] == c}
            pruned = {r["seed"]: r["test_accuracy"] for r in sel if r["level"] == c}
            against_control = [100 * (control[sd] - pruned[sd]) for sd in sorted(pruned) if sd in control]
            literal = [1.0 - d for d in drops]
            others = []
            for method in ("magnitude", "random"):
                o = {r["seed"]: r["test_accuracy"] for r in rows if r["net"] == net and r["method"] == method
                     and r["level"] == c}
                if o and set(o) <= set(control):
                    lost = [100 * (control[sd] - o[sd]) for sd in sorted(o)]
                    others.append(f"{method} pruning at the same non-zero count and fine-tuning: "
                                  f"{np.mean(lost):.2f} points lost against the control")
            stored = float(np.mean([r["removed_stored"] for r in sel if r["level"] == c]))
            zeroed = float(np.mean([sum(r.get("vector_entries_zeroed") or 0 for r in sel
                                        if r["seed"] == sd and r["level"] <= c) for sd in seeds]))
            facts = (f"Cycle {c}: removed {mean_removed[c]:.3f} of the parameters by 003's count (non-zero "
                     f"entries), {stored:.3f} of the stored entries (ratio 1: no layer is split, zeros are stored); "
                     f"singular-vector entries zeroed by the sparsification step in cycles 1-{c}: {zeroed:.0f} per "
                     "seed (the code's threshold 1.125e-5 x target x n m is small at these widths); "
                     + "; ".join(others) + f". {converged}Scale: this model and data only, not ViT-B/16 on ImageNet")
            extra = {"net": net, "cycle": c, "seeds": seeds, "endpoint": endpoint}
            found.append(("literal", protocol.paired_sign(_declaration("literal", scale), literal), literal,
                          dict(setting=base, measured=float(np.mean(drops)), bound=1.0, extra=extra,
                               note=(f"accuracy lost, in points, against the unpruned pre-trained net (the abstract's "
                                     f"comparison): mean {np.mean(drops):.2f}, per seed {[round(d, 2) for d in drops]}; "
                                     f"the interval is of 1 point minus the drop. " + facts))))
            if len(against_control) == len(drops):
                ctrl = [1.0 - d for d in against_control]
                found.append(("control", protocol.paired_sign(_declaration("control", scale), ctrl), ctrl,
                              dict(setting=base.replace("against the unpruned pre-trained net",
                                                        "against the unpruned net fine-tuned with the same samples "
                                                        "(control)"),
                                   measured=float(np.mean(against_control)), bound=1.0, extra=extra,
                                   note=(f"control row: accuracy lost against the finetune_only net, mean "
                                         f"{np.mean(against_control):.2f}, per seed "
                                         f"{[round(d, 2) for d in against_control]} points; the interval is of 1 "
                                         "point minus the drop"))))
    out = []
    for kind in ("literal", "control"):
        mine = [f for f in found if f[0] == kind]
        tests = sum(f[1].p is not None for f in mine)
        protocol.adjust([f[1] for f in mine], FAMILY_ALPHA)
        for _, dec, diffs, kw in mine:
            if diffs is not None:
                kw["note"] = (family_note(dec, diffs, tests=tests, alpha=FAMILY_ALPHA,
                                          family="tests of the family") + "; " + kw["note"])
            out.append(protocol.verdict(_declaration(kind, scale), dec, **kw))
    return out

