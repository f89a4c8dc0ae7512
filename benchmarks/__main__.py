"""`python -m benchmarks [NAME ...] [--quick] [--json PATH]`: run the benchmarks, print ratios.

Each ``benchmarks/bench_<NAME>.py`` measures speed against a baseline timed in the same run and
returns rows (``name``, ``value``, ``unit``, optional ``ratio`` and ``target``).  With ``--json``
the rows are written as a Result (experiment ``benchmarks``, one record per row, no verdicts).
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

from core.cli import SUMMARY_WIDTH, make_parser, run as cli_run
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
            rows.append(row)
            extra = ""
            if row.get("ratio") is not None:
                extra = f"  ratio {row['ratio']:.3g}"
            if row.get("target"):
                extra += f"  (target {row['target']})"
            print(f"  {row['name']:<60} {row['value']:>12.4g} {row['unit']}{extra}"[:SUMMARY_WIDTH])
    return Result(experiment=MODULE, config=dict(names=names, quick=quick), provenance=prov.stop(),
                  records=rows)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = make_parser(MODULE, __doc__, options=("json", "quick"))
    p.add_argument("names", nargs="*", help=f"subset of {sorted(modules())} (default all)")
    return cli_run(p, argv, lambda args: experiment(args.names, args.quick, argv=argv))


if __name__ == "__main__":
    sys.exit(main())
