"""`python -m figures --list` / `python -m figures NAME [NAME ...] [--out DIR]`."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import figures  # noqa: E402


def registry() -> dict:
    found = {}
    for info in sorted(pkgutil.iter_modules(figures.__path__), key=lambda m: m.name):
        if not info.name.startswith("fig_"):
            continue
        module = importlib.import_module(f"figures.{info.name}")
        for name, fn in getattr(module, "FIGURES", {}).items():
            if name in found:
                raise RuntimeError(f"figure {name!r} defined twice")
            found[name] = fn
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m figures", description=__doc__)
    parser.add_argument("names", nargs="*", help="figure names, e.g. 4.3 D.1 (see --list)")
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    parser.add_argument("--out", type=Path, default=Path("results/figures"))
    parser.add_argument("--quick", action="store_true", help="small sizes, for smoke tests")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    reg = registry()
    if args.list or not args.names:
        for name, fn in reg.items():
            doc = (fn.__doc__ or "").strip().splitlines()
            print(f"{name:<12} {doc[0] if doc else ''}")
        return 0
    unknown = [n for n in args.names if n not in reg]
    if unknown:
        parser.error(f"unknown figure(s) {unknown}; known: {sorted(reg)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names:
        for path in reg[name](args.out, args):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
