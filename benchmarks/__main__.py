"""`python -m benchmarks [NAME ...] [--quick] [--json PATH]`: run the benchmarks, print ratios."""
from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

import benchmarks


def modules() -> dict:
    return {
        info.name[len("bench_"):]: info.name
        for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name)
        if info.name.startswith("bench_")
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"subset of {sorted(modules())}")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--json", type=Path, help="write all rows here")
    args = parser.parse_args(argv)
    mods = modules()
    names = args.names or list(mods)
    unknown = [n for n in names if n not in mods]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {sorted(mods)}")
    rows = []
    for name in names:
        print(f"== {name}")
        for row in importlib.import_module(f"benchmarks.{mods[name]}").main(quick=args.quick):
            row = {"benchmark": name, **row}
            rows.append(row)
            extra = ""
            if row.get("ratio") is not None:
                extra = f"  ratio {row['ratio']:.3g}"
            if row.get("target"):
                extra += f"  (target {row['target']})"
            print(f"  {row['name']:<60} {row['value']:>12.4g} {row['unit']}{extra}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
