"""Paper 000 Section 3 (Example 3.2 and the Fashion-MNIST claims of Section 3.2.1, Example 3.4,
Appendix E.2) at CPU scale: every run pruned and unpruned side by side (same seed, same initial
weights, same batches), per-epoch mechanism metrics (``nets.mechanism``), a ``core.result.Result``
with verdicts.

Runs are cached and resumable: each (config, scale, seed) trains in
``<runs_dir>/<config>-<scale tag>/seed<S>/{pruned,unpruned}`` through ``nets.train.train_runs``
(checkpoint after every epoch); a finished run is read back from its checkpoint, so rerunning an
experiment after an interruption trains only what is missing.
"""
from __future__ import annotations

import math
from pathlib import Path

from nets.configs import TrainConfig, get_config

RUNS_DIR = Path("runs/section3")


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


def flat_epoch_rows(cfg: TrainConfig, seed: int, label: str, metrics: list[dict]) -> list[dict]:
    """Per-epoch metric rows of one run as flat dicts (dead units per layer as ``dead_<act>``)."""
    rows, elapsed = [], 0.0
    for m in metrics:
        elapsed += m["train_time_s"] + m["callback_time_s"]
        row = {"config": cfg.name, "scale": scale_tag(cfg), "seed": seed, "run": label,
               "cumulative_time_s": elapsed}
        for key, value in m.items():
            if key in ("events", "units", "units_after_callbacks"):
                continue
            if isinstance(value, dict):
                for k, v in value.items():
                    row[f"{key.replace('_units', '')}_{k}"] = v
            else:
                row[key] = value
        row["n_events"] = len(m.get("events", []))
        rows.append(row)
    return rows


def train_pair(cfg: TrainConfig, seed: int, *, runs_dir: Path = RUNS_DIR, device="cpu",
               progress: bool = False):
    """Pruned and unpruned runs of ``cfg`` with ``seed`` (resumed from their checkpoints)."""
    from nets.train import train_runs
    return train_runs(cfg, seed=seed, device=device, out_dir=run_dir(cfg, seed, runs_dir),
                      side_by_side=True, resume=True, progress=progress)


def cpu_config(name: str, **scale) -> TrainConfig:
    return get_config(name, "cpu", **scale)
