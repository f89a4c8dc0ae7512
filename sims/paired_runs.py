"""Pruned and unpruned training runs side by side, cached and resumable, and the rows and tables the
experiments on trained networks build from them (paper 000 Section 3, Appendix E, paper 001).

A *pair* is one config and seed trained twice from the same initial weights on the same batches,
once with MP-based pruning (Algorithm 1, or paper 001's split algorithm) and once without
(``nets.train.train_runs(side_by_side=True)``), so the two runs agree exactly until the first
pruning round (``identical_until_first_event``).  Runs are cached: each (config, scale, seed) trains
in ``<runs_dir>/<config>-<scale tag>/seed<S>/{pruned,unpruned}`` (a single run in ``.../single``),
with a checkpoint after every epoch; a finished run is read back from its checkpoint, so rerunning
an experiment after an interruption trains only what is missing.

* training: ``cpu_config`` (a registered config at CPU scale), ``load_data`` (one seed's data
  subset, decoded once per process), ``train_pair`` / ``collect_pairs`` / ``single_run``;
* one run's numbers: ``run_row`` (final numbers, Tables 3.4-3.6), ``epoch_records`` (per-epoch
  curves, Figs 3.3-3.5), ``event_rows`` (each pruning round), ``equal_time_row`` (Section 3.2.1's
  equal-CPU-time comparison), ``class_accuracies`` / ``common_class_gap``;
* over seeds: ``paired_table`` (pruned, unpruned and paired difference with intervals),
  ``curve_table`` (seed bands per epoch).

Experiments call ``cpu_config`` and ``load_data`` through this module (``paired_runs.cpu_config``),
so that a test can shrink every experiment at once by patching them here.
"""
from __future__ import annotations

import math
from pathlib import Path

from nets.configs import TrainConfig, get_config
from sims.experiment import RUNS_DIR
from sims.seed_statistics import mean_ci, variance_ratio_ci

def scale_tag(cfg: TrainConfig) -> str:
    """Short name of the scale of a config (widths, data, epochs), for run folders."""
    if cfg.scale == "paper":
        return f"paper-e{cfg.epochs}"
    ch = cfg.cpu_changes
    parts = ["cpu"]
    if "width_divisor" in ch:
        parts.append(f"w{ch['width_divisor']}")
    if cfg.n_train is not None:
        parts.append(f"n{cfg.n_train}")
    parts.append(f"e{cfg.epochs}")
    return "-".join(parts)


def run_dir(cfg: TrainConfig, seed: int, runs_dir: Path = RUNS_DIR) -> Path:
    return Path(runs_dir) / f"{cfg.name}-{scale_tag(cfg)}" / f"seed{seed}"


DATA_CACHE: dict = {}


def load_data(cfg: TrainConfig, seed: int, data_dir):
    """The (seeded subset of the) dataset, decoded once per process: a control config with the same
    data settings and seed trains on the very same tensors."""
    from nets.train import load_data_for
    key = (cfg.dataset, cfg.n_train, cfg.n_test, repr(sorted(cfg.dataset_kwargs.items())), seed,
           str(data_dir))
    if key not in DATA_CACHE:
        DATA_CACHE.clear()  # one seed's data at a time
        DATA_CACHE[key] = load_data_for(cfg, seed=seed, data_dir=data_dir)
    return DATA_CACHE[key]


def train_pair(cfg: TrainConfig, seed: int, *, runs_dir: Path | None = RUNS_DIR, device="cpu",
               progress: bool = False, data_dir=None):
    """Pruned and unpruned runs of ``cfg`` with ``seed`` (resumed from their checkpoints;
    ``runs_dir=None``: no checkpoints, nothing resumed)."""
    from nets.train import train_runs
    out = None if runs_dir is None else run_dir(cfg, seed, runs_dir)
    kw = dict(seed=seed, device=device, out_dir=out, side_by_side=True, resume=out is not None,
              progress=progress, data=load_data(cfg, seed, data_dir))
    try:
        return train_runs(cfg, **kw)
    except FloatingPointError as exc:
        if out is None:
            raise
        # A run whose loss became NaN (e.g. paper 001's plain SGD at step 0.05): keep both runs as
        # they were after the last epoch both completed, and say so.
        import json
        done = min(len(json.loads((out / label / "metrics.json").read_text())["epochs"])
                   if (out / label / "metrics.json").exists() else 0 for label in ("pruned", "unpruned"))
        if done == 0:
            raise
        runs = train_runs(cfg, **{**kw, "stop_after": done})
        for run in runs:
            run.diverged = f"stopped after epoch {done}: {exc}"
        return runs


def cpu_config(name: str, **scale) -> TrainConfig:
    return get_config(name, "cpu", **scale)


def final_metric(m: dict, key: str):
    """A metric of an epoch row after its callbacks (the state the next epoch starts from)."""
    return m.get(f"{key}_after_callbacks", m.get(key))


def run_row(cfg: TrainConfig, seed: int, run) -> dict:
    """Final numbers of one run (Tables 3.4-3.6 counterparts) and its dead-unit history."""
    ms = run.metrics
    last = ms[-1]
    dead_hist = [final_metric(m, "dead_outputs") for m in ms]
    first_dead = next((m["epoch"] for m in ms if (m.get("dead_outputs") or 0) > 0
                       or (m.get("dead_outputs_after_callbacks") or 0) > 0), None)
    hidden = {k: v for k, v in final_metric(last, "dead_units").items()}
    final_act = f"act{len(cfg.model['topology']) - 1}" if cfg.model["kind"] == "mlp" else None
    row = {
        "config": cfg.name, "scale": scale_tag(cfg), "seed": seed, "run": run.label,
        "epochs": run.epoch,
        "final_test_accuracy": final_metric(last, "test_accuracy"),
        "final_train_accuracy": last["train_accuracy"],
        "final_train_loss": last["train_loss"],
        "final_test_loss": final_metric(last, "test_loss"),
        "final_test_loss_sum_batches": final_metric(last, "test_loss_sum_batches"),
        "best_test_accuracy": max(max(m["test_accuracy"], final_metric(m, "test_accuracy")) for m in ms),
        "mean_test_accuracy_last_5": sum(final_metric(m, "test_accuracy") for m in ms[-5:]) / len(ms[-5:]),
        "initial_parameters": run.initial_parameters,
        "final_parameters": last["parameters"],
        "final_nonzero_parameters": last["nonzero_parameters"],
        "parameter_reduction": 1 - last["parameters"] / run.initial_parameters,
        "final_dead_outputs": dead_hist[-1],
        "final_dead_output_classes": final_metric(last, "dead_output_classes"),
        "max_dead_outputs": max(dead_hist),
        "first_epoch_with_dead_output": first_dead,
        "final_test_accuracy_live_classes": final_metric(last, "test_accuracy_live_classes"),
        "final_classes_never_predicted": final_metric(last, "classes_never_predicted"),
        "max_classes_never_predicted": max(final_metric(m, "classes_never_predicted") or 0 for m in ms),
        "final_test_accuracy_predicted_classes": predicted_class_accuracy(cfg, last),
        "final_dead_hidden_units": sum(v for k, v in hidden.items() if k != final_act),
        "time_s": sum(m["train_time_s"] + m["callback_time_s"] for m in ms),
        "diverged": getattr(run, "diverged", None),
    }
    for k, v in hidden.items():
        row[f"final_dead_{k}"] = v
    if cfg.loss == "cross_entropy":
        per_class, predicted = class_accuracies(run.model, run.data.test, run.device)
        row["final_class_accuracy"] = per_class
        row["final_predicted_classes"] = predicted
    return row


def class_accuracies(model, dataset, device) -> tuple[list[float], list[int]]:
    """Per-class test accuracy of the final model and the classes its argmax ever returns."""
    import torch
    from nets.data import make_loader
    model.eval()
    correct, total, seen = None, None, set()
    with torch.no_grad():
        for x, y in make_loader(dataset, 1000, shuffle=False):
            pred = model(x.to(device)).argmax(1).cpu()
            k = int(max(int(y.max()) + 1, 10))
            c = torch.bincount(y[pred == y], minlength=k).double()
            t = torch.bincount(y, minlength=k).double()
            correct = c if correct is None else correct + c
            total = t if total is None else total + t
            seen.update(int(v) for v in pred.unique())
    acc = [float(a / b) if b > 0 else math.nan for a, b in zip(correct, total)]
    return acc, sorted(seen)


def common_class_gap(pruned_row: dict, unpruned_row: dict) -> float | None:
    """Pruned minus unpruned accuracy over the classes both nets predict (equal weight per class,
    which is the plain accuracy on the balanced Fashion-MNIST test set)."""
    if "final_class_accuracy" not in pruned_row:
        return None
    common = sorted(set(pruned_row["final_predicted_classes"]) & set(unpruned_row["final_predicted_classes"]))
    if not common:
        return None
    p = [pruned_row["final_class_accuracy"][c] for c in common]
    u = [unpruned_row["final_class_accuracy"][c] for c in common]
    return sum(p) / len(p) - sum(u) / len(u)


def predicted_class_accuracy(cfg: TrainConfig, m: dict):
    """Test accuracy over the classes the net predicts at all.  A class never returned by the argmax
    has no correct sample, so on the full Fashion-MNIST test set (1,000 images per class) this is
    exactly accuracy * 10,000 / (10,000 - 1,000 k) for k such classes; None on a subset."""
    if cfg.n_test not in (None, 10000) or cfg.dataset not in ("fashion_mnist", "mnist"):
        return None
    k = final_metric(m, "classes_never_predicted")
    acc = final_metric(m, "test_accuracy")
    return None if k is None or k >= 10 else acc * 10000 / (10000 - 1000 * k)


RECORD_KEYS = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_loss_sum_batches",
               "test_accuracy", "test_accuracy_live_classes", "dead_outputs", "parameters",
               "test_accuracy_after_callbacks", "dead_outputs_after_callbacks", "classes_never_predicted")


def epoch_records(cfg: TrainConfig, seed: int, run) -> list[dict]:
    """The per-epoch curves of one run (Figs 3.3-3.5): a fixed set of columns, dead hidden units
    summed over the hidden layers, elapsed training time."""
    rows, elapsed = [], 0.0
    final_act = f"act{len(cfg.model['topology']) - 1}" if cfg.model["kind"] == "mlp" else None
    for m in run.metrics:
        elapsed += m["train_time_s"] + m["callback_time_s"]
        row = {"config": cfg.name, "seed": seed, "run": run.label}
        row.update({k: m.get(k) for k in RECORD_KEYS})
        row["dead_hidden_units"] = sum(v for k, v in m["dead_units"].items() if k != final_act)
        row["elapsed_s"] = elapsed
        rows.append(row)
    return rows


def event_rows(cfg: TrainConfig, seed: int, pruned, unpruned) -> list[dict]:
    """One row per pruning round of the pruned run (Fig 3.5): test accuracy and dead outputs right
    before and after the round, the unpruned run's epoch-to-epoch change at the same epoch (the
    yardstick for 'does not change significantly'), and what the round did to the output layer."""
    rows = []
    un = {m["epoch"]: m for m in unpruned.metrics}
    L = len(cfg.model["topology"]) - 1 if cfg.model["kind"] == "mlp" else None
    for m in pruned.metrics:
        if not m.get("events"):
            continue
        e = m["epoch"]
        out_ev = [ev for ev in m["events"] if L is not None and ev.get("layer") == f"layers.fc{L}"]
        dead_before = m.get("dead_output_classes") or []
        removed = m.get("output_rows_removed") or []
        live_removed = [r for j, r in enumerate(removed) if j not in dead_before and r is not None]
        dead_removed = [removed[j] for j in dead_before if j < len(removed)]
        pre_b = m.get("output_max_preactivation") or []
        pre_a = m.get("output_max_preactivation_after_callbacks") or []
        row = {"config": cfg.name, "seed": seed, "epoch": e,
               "test_accuracy_before": m["test_accuracy"],
               "test_accuracy_after": m["test_accuracy_after_callbacks"],
               "change": m["test_accuracy_after_callbacks"] - m["test_accuracy"],
               "dead_outputs_before": m.get("dead_outputs"),
               "dead_outputs_after": m.get("dead_outputs_after_callbacks"),
               "revived": len(set(dead_before) - set(m.get("dead_output_classes_after_callbacks") or [])),
               "killed": len(set(m.get("dead_output_classes_after_callbacks") or []) - set(dead_before)),
               "parameters_before": m["parameters_before_callbacks"], "parameters_after": m["parameters"],
               "unpruned_change_same_epoch": (un[e]["test_accuracy"] - un[e - 1]["test_accuracy"]
                                              if e in un and e - 1 in un else None),
               "output_rows_removed_mean_live": (sum(live_removed) / len(live_removed)
                                                 if live_removed else None),
               "output_rows_removed_dead": dead_removed,
               "dead_max_preactivation_before": [pre_b[j] for j in dead_before if j < len(pre_b)],
               "dead_max_preactivation_after": [pre_a[j] for j in dead_before if j < len(pre_a)],
               "never_predicted_before": m.get("classes_never_predicted"),
               "never_predicted_after": m.get("classes_never_predicted_after_callbacks")}
        if pre_b:
            # the weakest output (smallest largest pre-activation over the test set): the class a
            # (nearly) dead output stops predicting
            w = min(range(len(pre_b)), key=pre_b.__getitem__)
            others = sorted(pre_b[:w] + pre_b[w + 1:])
            row.update({"weakest_output": w, "weakest_max_preactivation_before": pre_b[w],
                        "weakest_max_preactivation_after": pre_a[w] if w < len(pre_a) else None,
                        "median_other_max_preactivation_before": others[len(others) // 2] if others else None,
                        "weakest_row_removed": removed[w] if w < len(removed) else None,
                        "other_rows_removed_mean": (sum(r for j, r in enumerate(removed) if j != w and r is not None)
                                                    / max(1, len(removed) - 1)) if removed else None})
        if out_ev:
            ev = out_ev[0]
            row.update({"output_layer_action": ev.get("action"), "output_layer_accepted": ev.get("accepted"),
                        "output_layer_rank_before": ev.get("rank_before"),
                        "output_layer_rank_after": ev.get("rank_after"),
                        "output_layer_n_above": ev.get("n_above_threshold"),
                        "output_layer_removed_sv_max": ev.get("removed_sv_max")})
        rows.append(row)
    return rows


def equal_time_row(cfg: TrainConfig, seed: int, pruned, unpruned) -> dict:
    """Section 3.2.1's equal-CPU-time comparison inside one side-by-side pair: the pruned run's
    total time T, and the unpruned run's test accuracy at the last epoch finished within T (its
    final accuracy, flagged, when it finished before T)."""
    t_p = sum(m["train_time_s"] + m["callback_time_s"] for m in pruned.metrics)
    elapsed, acc_u, epochs_u = 0.0, None, 0
    for m in unpruned.metrics:
        elapsed += m["train_time_s"] + m["callback_time_s"]
        if elapsed > t_p:
            break
        acc_u, epochs_u = m["test_accuracy"], m["epoch"]
    t_u = sum(m["train_time_s"] + m["callback_time_s"] for m in unpruned.metrics)
    return {"config": cfg.name, "seed": seed, "pruned_time_s": t_p, "unpruned_time_s": t_u,
            "pruned_accuracy": final_metric(pruned.metrics[-1], "test_accuracy"),
            "unpruned_accuracy_at_pruned_time": acc_u, "unpruned_epochs_within_time": epochs_u,
            "unpruned_finished_first": t_u <= t_p}


def collect_pairs(cfg: TrainConfig, seeds, *, runs_dir=RUNS_DIR, device="cpu", progress=False,
                  data_dir=None):
    """{seed: (pruned Run, unpruned Run)}, training whatever is missing."""
    pairs = {}
    for seed in seeds:
        runs = {r.label: r for r in train_pair(cfg, seed, runs_dir=runs_dir, device=device,
                                               progress=progress, data_dir=data_dir)}
        pairs[seed] = (runs["pruned"], runs["unpruned"])
    return pairs


def identical_until_first_event(pruned, unpruned) -> bool:
    """Same seed, same batches: the two runs must agree exactly until the first pruning round."""
    for mp, mu in zip(pruned.metrics, unpruned.metrics):
        if mp["train_loss"] != mu["train_loss"] or mp["test_accuracy"] != mu["test_accuracy"]:
            return False
        if mp.get("events"):
            return True
    return True


def paired_table(run_rows: list[dict], keys) -> list[dict]:
    """Per config, per metric: pruned and unpruned mean/sd/CI over seeds and the paired difference."""
    import numpy as np
    out = []
    configs = list(dict.fromkeys(r["config"] for r in run_rows))
    for name in configs:
        rows = [r for r in run_rows if r["config"] == name]
        by = {(r["seed"], r["run"]): r for r in rows}
        seeds = sorted({r["seed"] for r in rows})
        for key in keys:
            both = [(by[(s, "pruned")][key], by[(s, "unpruned")][key]) for s in seeds]
            both = [(a, b) for a, b in both if a is not None and b is not None]  # None: not defined here
            p, u = [a for a, _ in both], [b for _, b in both]
            d = [a - b for a, b in both]
            mp, mu, md = mean_ci(p), mean_ci(u), mean_ci(d)
            vr = variance_ratio_ci(p, u)
            out.append({"config": name, "metric": key, "seeds": len(seeds),
                        "pruned_mean": mp["mean"], "pruned_sd": mp["sd"], "pruned_lo": mp["lo"], "pruned_hi": mp["hi"],
                        "unpruned_mean": mu["mean"], "unpruned_sd": mu["sd"], "unpruned_lo": mu["lo"],
                        "unpruned_hi": mu["hi"], "diff_mean": md["mean"], "diff_lo": md["lo"], "diff_hi": md["hi"],
                        "variance_ratio": vr["ratio"], "variance_ratio_lo": vr["lo"],
                        "variance_ratio_hi": vr["hi"],
                        "pruned_min": float(np.min(p)) if p else math.nan,
                        "unpruned_min": float(np.min(u)) if u else math.nan})
    return out


CURVE_KEYS = ("test_accuracy", "train_accuracy", "train_loss", "dead_outputs", "dead_hidden_units",
              "parameters", "classes_never_predicted")


def curve_table(records: list[dict], keys=("test_accuracy", "train_accuracy")) -> list[dict]:
    """Mean and 95% CI over seeds per (config, run, epoch): the seed bands of Figs 3.3/3.4."""
    out = []
    groups: dict = {}
    for r in records:
        groups.setdefault((r["config"], r["run"], r["epoch"]), []).append(r)
    for (name, run, epoch), rows in groups.items():
        row = {"config": name, "run": run, "epoch": epoch, "seeds": len(rows)}
        for key in keys:
            s = mean_ci([x[key] for x in rows if x.get(key) is not None])
            row.update({f"{key}_mean": s["mean"], f"{key}_lo": s["lo"], f"{key}_hi": s["hi"]})
        out.append(row)
    return out


def scale_description(cfg: TrainConfig) -> dict:
    return {"scale": cfg.scale, "tag": scale_tag(cfg), "topology": cfg.model.get("topology"),
            "epochs": cfg.epochs, "n_train": cfg.n_train, "n_test": cfg.n_test,
            "cpu_changes": cfg.cpu_changes}


def single_run(cfg, seed: int, *, runs_dir=RUNS_DIR, device="cpu"):
    """One pruned run of ``cfg`` (cached in ``<runs_dir>/<config>-<scale>/seed<S>/single``, resumed);
    a run whose loss becomes NaN is kept as it was after its last finite epoch and says so in
    ``run.diverged`` (as ``train_pair`` does for pairs)."""
    import json
    from nets.train import train_runs
    out = None if runs_dir is None else run_dir(cfg, seed, runs_dir) / "single"
    kw = dict(seed=seed, device=device, out_dir=out, prune=True, resume=out is not None, progress=False,
              data=load_data(cfg, seed, None))
    try:
        return train_runs(cfg, **kw)[0]
    except FloatingPointError as exc:
        metrics = None if out is None else out / "metrics.json"
        done = len(json.loads(metrics.read_text())["epochs"]) if metrics is not None and metrics.exists() else 0
        if done == 0:
            raise
        run = train_runs(cfg, **{**kw, "stop_after": done})[0]
        run.diverged = f"stopped after epoch {done}: {exc}"
        return run
