"""`python -m figures --list` / `python -m figures NAME [NAME ...] [--out DIR] [--results DIR]`.

Draws the papers' figures from committed Results (``results/<name>.json``); a figure whose Result
is missing stops with one line naming the command that makes it (exit status 2).
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import figures  # noqa: E402
from figures._results import RESULTS_DIR, MissingResult  # noqa: E402


def registry() -> dict:
    """Every figure name of every ``figures/fig_*.py`` (its ``FIGURES`` dict) -> its function."""
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


def _parser() -> argparse.ArgumentParser:
    head, _, rest = (__doc__ or "").strip().partition("\n\n")
    p = argparse.ArgumentParser(prog="python -m figures", description=head, epilog=rest or None)
    p.add_argument("names", nargs="*", help="figure names, e.g. 4.3 D.1 (see --list)")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.add_argument("--out", type=Path, default=Path("runs/figures"), metavar="DIR",
                   help="where the PNGs and their data go (default runs/figures)")
    p.add_argument("--results", type=Path, default=RESULTS_DIR, metavar="DIR",
                   help=f"where the Results are read (default {RESULTS_DIR})")
    return p


def main(argv=None) -> int:
    parser = _parser()
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
    args.out.mkdir(parents=True, exist_ok=True)     # every figure writes into it
    for name in args.names:
        try:
            paths = reg[name](args.out, args)
        except MissingResult as exc:
            parser.error(f"figure {name}: {exc}")
        for path in paths:
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
