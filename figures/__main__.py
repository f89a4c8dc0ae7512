"""`python -m figures --list` / `python -m figures NAME [NAME ...] [--out DIR] [--results DIR]`.

Draws the papers' figures from committed Results (``results/<name>.json``); a figure whose Result
is missing stops with one line naming the command that makes it (exit status 2).
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import shutil
import sys
import textwrap
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


def natural_key(name: str) -> tuple:
    """Sort key: paper 000's figures first, then those of 001, 003, ... (named ``001.6``); within a
    paper, digit runs read as numbers (3.3 < 3.10 < 4.1 < B.1 < mechanism)."""
    paper = name[:3] if re.match(r"\d{3}\.", name) else "000"
    rest = name[4:] if paper != "000" or name.startswith("000.") else name
    return (paper,) + tuple((0, int(t), "") if t.isdigit() else (1, 0, t.lower())
                            for t in re.findall(r"\d+|\D+", rest))


def description(fn) -> str:
    """The first paragraph of a figure function's docstring, on one line (never cut)."""
    doc = (fn.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(doc.split())


def format_list(reg: dict, width: int | None = None) -> str:
    """``--list``: the figures in natural order, each description whole, wrapped to ``width``."""
    width = width or shutil.get_terminal_size((100, 24)).columns
    col = min(max(map(len, reg)), 24)
    lines = []
    for name in sorted(reg, key=natural_key):
        desc = description(reg[name])
        if len(name) > col:
            lines.append(name)
            first = " " * (col + 2)
        else:
            first = f"{name:<{col}}  "
        lines += textwrap.wrap(desc, max(width - 1, col + 22), initial_indent=first,
                               subsequent_indent=" " * (col + 2), break_on_hyphens=False,
                               break_long_words=False) or [first.rstrip()]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    # The one CLI layer's parser: one-line usage errors (exit 2), --version, and the output-path
    # check of --out (its folder created, or one line naming the option).
    from core.cli import make_parser, output_dir
    p = make_parser("figures", __doc__, options=(), verbose=False)
    p.add_argument("names", nargs="*", help="figure names, e.g. 4.3 D.1 (see --list)")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.add_argument("--out", type=output_dir, default=Path("runs/figures"), metavar="DIR",
                   help="where the PNGs and their data go (default runs/figures)")
    p.add_argument("--results", type=Path, default=RESULTS_DIR, metavar="DIR",
                   help=f"where the Results are read (default {RESULTS_DIR})")
    return p


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    reg = registry()
    if args.list or not args.names:
        print(format_list(reg))
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
