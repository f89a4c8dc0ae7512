"""`python -m theory`: each formula against an independent check, as a table.

Every theory module may define ``self_check() -> list[dict]`` with keys
``check`` (what is compared), ``value``, ``reference``, ``error`` and ``ok``.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

import theory


def collect_rows() -> list[dict]:
    rows = []
    for info in sorted(pkgutil.iter_modules(theory.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"theory.{info.name}")
        check = getattr(module, "self_check", None)
        if check is None:
            continue
        for row in check():
            rows.append({"module": info.name, **row})
    return rows


def main() -> int:
    rows = collect_rows()
    header = f"{'module':<18} {'check':<58} {'value':>16} {'reference':>16} {'error':>9}  ok"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['module']:<18} {r['check'][:58]:<58} {r['value']:>16.10g} "
            f"{r['reference']:>16.10g} {r['error']:>9.1e}  {'yes' if r['ok'] else 'NO'}"
        )
    failed = [r for r in rows if not r["ok"]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} checks ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
