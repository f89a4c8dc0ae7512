"""`python -m benchmarks [NAME ...] [--quick] [--json PATH]`: run the benchmarks, print ratios.

Each ``benchmarks/bench_<NAME>.py`` measures speed against a baseline timed in the same run and
returns rows (``name``, ``value``, ``unit``, optional ``ratio`` and ``target``).  With ``--json``
the rows are written as a Result (experiment ``benchmarks``, one record per row, no verdicts).
"""
from __future__ import annotations

import importlib
import pkgutil
import re
import sys

from core.cli import fit_columns, make_parser, run as cli_run, terminal_width, wrap_rows
from core.result import Provenance, Result
from core.validate import InvalidArgument

import benchmarks

MODULE = "benchmarks"


def modules() -> dict:
    return {
        info.name[len("bench_"):]: info.name
        for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name)
        if info.name.startswith("bench_")
    }


def experiment(names: list[str] | None = None, quick: bool = False, *,
               argv: list[str] | None = None) -> Result:
    """Run the named benchmarks (all when None) and return their rows as one Result."""
    mods = modules()
    names = list(names) if names else list(mods)
    unknown = [n for n in names if n not in mods]
    if unknown:
        raise InvalidArgument(f"names must be among {sorted(mods)}, got {unknown}")
    prov = Provenance.start(module=MODULE if argv is not None else None,
                            argv=list(argv) if argv is not None else [], device="cpu")
    rows = []
    for name in names:
        print(f"== {name}")
        for row in importlib.import_module(f"benchmarks.{mods[name]}").main(quick=quick):
            row = {"table": "benchmarks", "benchmark": name, **row}
            met = target_met(row)
            if met is not None:
                row["target_met"] = met
            rows.append(row)
            print(row_text(row))
    marks = [MARKS[r.get("target_met")] for r in rows if r.get("target")]
    if marks:
        print(f"targets: {marks.count('PASS')} pass, {marks.count('FAIL')} fail"
              + (f", {marks.count('info')} approximate (~, no pass/fail)" if "info" in marks else ""))
    return Result(experiment=MODULE, config=dict(names=names, quick=quick), provenance=prov.stop(),
                  records=rows)


TARGET = re.compile(r"^\s*(>=|<=|>|<|~)\s*([0-9.]+(?:e[+-]?[0-9]+)?)\s*([A-Za-z%]*)")
MARKS = {True: "PASS", False: "FAIL", None: "info"}


def target_met(row: dict) -> bool | None:
    """Whether ``row`` meets its ``target`` (e.g. ``">= 1"``, ``"<= 10 ms"``); None when it has no
    target or an approximate one (``"~2000"``).  The target is on the ``ratio`` when the row has
    one and the target names no unit; otherwise on the ``value`` (in the row's ``unit``)."""
    m = TARGET.match(str(row.get("target") or ""))
    if not m or m.group(1) == "~":
        return None
    op, bound, unit = m.group(1), float(m.group(2)), m.group(3)
    x = row.get("ratio") if row.get("ratio") is not None and not unit else row.get("value")
    if x is None:
        return None
    return {">=": x >= bound, "<=": x <= bound, ">": x > bound, "<": x < bound}[op]


def row_text(row: dict, width: int | None = None) -> str:
    """``PASS|FAIL|info  name  value unit  ratio r  (target t)`` as wide as the terminal; the name
    wraps between words, nothing is cut."""
    width = terminal_width() if width is None else width
    right = f"{row['value']:.4g} {row['unit']}"
    if row.get("ratio") is not None:
        right += f"  ratio {row['ratio']:.3g}"
    if row.get("target"):
        right += f"  (target {row['target']})"
    mark = MARKS[row.get("target_met")] if row.get("target") else ""
    cells = [[mark.ljust(4), row["name"], right]]
    widths = fit_columns(cells, width)
    widths[1] = max(widths[1], width - 4 - widths[0] - widths[2])  # the values flush right
    return "\n".join(wrap_rows(cells, widths))


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = make_parser(MODULE, __doc__, options=("json", "quick"))
    p.add_argument("names", nargs="*", help=f"subset of {sorted(modules())} (default all)")
    return cli_run(p, argv, lambda args: experiment(args.names, args.quick, argv=argv))


if __name__ == "__main__":
    sys.exit(main())
