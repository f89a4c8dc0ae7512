"""Reading the paired ``nets.train`` Results of ``sims.paper_scale_pairs`` back, and its tables:
one row per pair (Tables 3.4-3.6 counterparts, the rounds of Fig 3.5, the equal-time comparison of
Section 3.2.1) and the per-epoch curves of both arms (Figs 3.3/3.4).  No verdict is made here."""
from __future__ import annotations

import re
from pathlib import Path

from core.result import Result, read_result

PLATEAU_EPOCHS = 5            # "plateaued at ~84%": the unpruned level, not one epoch's value
RUN_FILE = re.compile(r"seed(\d+)_(pruned|unpruned)\.json$")


# ---------------------------------------------------------------------------------------------
# reading the runs back

def load_pairs(directory: str | Path) -> dict[int, dict[str, Result]]:
    """The finished pairs in ``directory``: {seed: {"pruned": Result, "unpruned": Result}}; a seed
    with only one arm finished is left out (it is still in flight)."""
    arms: dict[int, dict[str, Result]] = {}
    for path in sorted(Path(directory).glob("seed*_*.json")):
        match = RUN_FILE.search(path.name)
        if match:
            arms.setdefault(int(match[1]), {})[match[2]] = read_result(path)
    return {seed: runs for seed, runs in sorted(arms.items()) if set(runs) == {"pruned", "unpruned"}}


def epoch_rows(result: Result) -> list[dict]:
    return sorted(result.records, key=lambda r: r["epoch"])


def _final(rows: list[dict], key: str):
    last = rows[-1]
    return last.get(f"{key}_after_callbacks", last.get(key))


def mean_of(values):
    return sum(values) / len(values) if values else None


def _dead_hidden(row: dict) -> int:
    """Dead hidden units (no activation on any test image), over every hidden ReLU layer."""
    layers = sorted(k for k in row if k.startswith("dead_units.act"))
    return int(sum(row[k] or 0 for k in layers[:-1]))  # the last ReLU is the output layer's


def time_basis(rows: list[dict]) -> str:
    """"cpu" when every epoch recorded its process CPU seconds (nets.train's ``cpu_time_s``: one
    thread per run, so not inflated by other jobs on the machine), else "wall" (training plus
    callbacks, which a shared machine inflates)."""
    return "cpu" if rows and all("cpu_time_s" in r for r in rows) else "wall"


def _cumulative_time(rows: list[dict]) -> list[float]:
    cpu = time_basis(rows) == "cpu"
    total, out = 0.0, []
    for r in rows:
        total += r["cpu_time_s"] if cpu else r["train_time_s"] + r["callback_time_s"]
        out.append(total)
    return out


def removing_rounds(rows: list[dict], events: list[dict]) -> list[dict]:
    """The pruned arm's epochs whose pruning round removed singular values: an accepted "prune"
    event of that epoch lowered a layer's rank (nets.train's events table).  The parameter count is
    no test of this: a layer kept dense loses rank without losing stored parameters, and the last
    rounds of schedule (3.6) only recombine and remove nothing."""
    epochs = {e["epoch"] for e in events if e.get("step") == "prune" and e.get("accepted")
              and e.get("rank_after") is not None and e["rank_after"] < e["rank_before"]}
    return [r for r in rows if "test_accuracy_after_callbacks" in r and r["epoch"] in epochs]


# ---------------------------------------------------------------------------------------------
# tables

def pair_row(seed: int, pruned: Result, unpruned: Result) -> dict:
    """Tables 3.4-3.6 counterparts of one pair, with the dead-class evidence and the wall times."""
    p, u = epoch_rows(pruned), epoch_rows(unpruned)
    ps, us = pruned.tables["summary"][0], unpruned.tables["summary"][0]
    if p[0]["test_accuracy"] != u[0]["test_accuracy"]:
        raise ValueError(f"seed {seed}: the arms differ after epoch 1 before any pruning "
                         f"({p[0]['test_accuracy']} vs {u[0]['test_accuracy']}): not a pair")
    cpu = time_basis(p) == time_basis(u) == "cpu"   # wall time would count a shared machine's other jobs
    t_pruned = _cumulative_time(p)[-1]
    u_times = _cumulative_time(u)
    within = [i for i, t in enumerate(u_times) if t <= t_pruned]
    plateau = [u[i]["test_accuracy"] for i in within[-PLATEAU_EPOCHS:]]
    unpruned_same_time = mean_of(plateau) if cpu and len(plateau) == PLATEAU_EPOCHS else None
    rounds = removing_rounds(p, pruned.tables.get("events", []))
    return {
        "seed": seed, "epochs_pruned": len(p), "epochs_unpruned": len(u),
        "test_accuracy_pruned": _final(p, "test_accuracy"), "test_accuracy_unpruned": _final(u, "test_accuracy"),
        "gap": _final(p, "test_accuracy") - _final(u, "test_accuracy"),
        "best_test_accuracy_pruned": ps["best_test_accuracy"], "best_test_accuracy_unpruned": us["best_test_accuracy"],
        "train_accuracy_pruned": p[-1]["train_accuracy"], "train_accuracy_unpruned": u[-1]["train_accuracy"],
        "train_loss_pruned": p[-1]["train_loss"], "train_loss_unpruned": u[-1]["train_loss"],
        "test_loss_sum_pruned": _final(p, "test_loss_sum_batches"),
        "test_loss_sum_unpruned": _final(u, "test_loss_sum_batches"),
        "parameters_initial": ps["initial_parameters"], "parameters_final": ps["final_parameters"],
        "removed_fraction": 1 - ps["final_parameters"] / ps["initial_parameters"],
        "never_predicted_pruned": _final(p, "classes_never_predicted"),
        "never_predicted_unpruned": _final(u, "classes_never_predicted"),
        "dead_hidden_pruned": _dead_hidden(p[-1]), "dead_hidden_unpruned": _dead_hidden(u[-1]),
        "rounds": sum("test_accuracy_after_callbacks" in r for r in p), "rounds_removing": len(rounds),
        "largest_round_drop": max((r["test_accuracy"] - r["test_accuracy_after_callbacks"] for r in rounds),
                                  default=None),
        "mean_round_change": mean_of([r["test_accuracy_after_callbacks"] - r["test_accuracy"] for r in rounds]),
        "time_pruned_s": t_pruned, "time_unpruned_s": u_times[-1],
        "time_basis": "cpu" if cpu else "wall",
        "unpruned_epochs_within_time": len(within),
        "unpruned_ended_within_time": bool(within) and len(within) == len(u),
        "unpruned_accuracy_same_time": unpruned_same_time,
        "equal_time_gap": None if unpruned_same_time is None else _final(p, "test_accuracy") - unpruned_same_time,
        "wall_time_pruned_s": ps["wall_time_s"], "wall_time_unpruned_s": us["wall_time_s"],
        "device": ps["device"], "torch_threads": ps["torch_threads"],
    }


def curve_rows(seed: int, pruned: Result, unpruned: Result) -> list[dict]:
    """Per epoch and arm: accuracies, losses, parameters, dead classes and units, cumulative time."""
    rows = []
    for arm, result in (("pruned", pruned), ("unpruned", unpruned)):
        epochs = epoch_rows(result)
        for r, t in zip(epochs, _cumulative_time(epochs)):
            rows.append({"seed": seed, "arm": arm, "epoch": r["epoch"], "test_accuracy": r["test_accuracy"],
                         "test_accuracy_after_round": r.get("test_accuracy_after_callbacks"),
                         "train_accuracy": r["train_accuracy"], "train_loss": r["train_loss"],
                         "test_loss_sum_batches": r["test_loss_sum_batches"], "parameters": r["parameters"],
                         "classes_never_predicted": r["classes_never_predicted"],
                         "dead_hidden_units": _dead_hidden(r), "cumulative_time_s": t,
                         "time_basis": time_basis(epochs)})
    return rows
