"""Verdict records and their output as tables, JSON and CSV.

A verdict is one of:
- ``holds``: the claim holds numerically, with the margin reported;
- ``vacuous``: it holds but its condition is never met (or its bound is trivial) at realistic N;
- ``fails``: a counterexample was measured; ``corrected`` states what does hold, where derivable;
- ``inconclusive``: the measurement cannot decide at the sizes run (the note says why).
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

VERDICTS = ("holds", "vacuous", "fails", "inconclusive")


@dataclass
class Verdict:
    claim: str
    setting: str
    N: int | None
    measured: float | None
    bound: float | None
    verdict: str
    ci: list[float] | None = None
    corrected: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def _plain(value):
    """JSON-safe copy: numpy scalars/arrays to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "__dataclass_fields__"):
        return _plain(asdict(value))
    return value


def write_json(records: Iterable, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(list(records)), indent=2))
    return path


def write_csv(records: Iterable[dict], path: str | Path) -> Path:
    rows = [_plain(r) for r in records]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    for r in rows:
        keys.extend(k for k in r if k not in keys)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v
                             for k, v in r.items()})
    return path


def format_table(rows: list[dict], columns: list[str], floatfmt: str = ".4g") -> str:
    """Fixed-width text table of the given columns."""
    def fmt(v):
        if isinstance(v, float):
            return format(v, floatfmt)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return "" if v is None else str(v)

    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
