"""The one CLI layer: shared options, bad input as a one-line usage error (exit 2), summaries.

Every ``python -m <module>`` of the package builds its parser with ``make_parser`` and runs with
``run``::

    def main(argv=None) -> int:
        p = make_parser("sims.spiked_model", __doc__, options=("seed", "device", "json", "quick"))
        p.add_argument("--n", type=positive_int, nargs="+")
        return run(p, argv, _main)

    def _main(args) -> Result: ...

``run`` parses, calls the body, turns ``core.validate.InvalidArgument`` (and only it: any other
exception is a bug and keeps its traceback) into argparse's one-line error with exit status 2,
writes the Result to ``--json`` (CSV beside it), and prints the short summary: one line of at most
``SUMMARY_WIDTH`` characters per verdict; the long table goes to ``--verbose``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Iterable, Sequence

from core.result import Result, Verdict, write_result
from core.validate import InvalidArgument

SUMMARY_WIDTH = 120
DEVICE_CHOICES = ("auto", "cpu", "cuda")
DEFAULT_DEVICE = "auto"
SHARED_OPTIONS = ("seed", "device", "json", "out", "quick", "threads", "jobs", "verbose")


def _typed(conv, ok, what):
    def parse(text: str):
        try:
            value = conv(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    parse.__name__ = what
    return parse


positive_int = _typed(int, lambda v: v >= 1, "an integer >= 1")
nonnegative_int = _typed(int, lambda v: v >= 0, "an integer >= 0")
positive_float = _typed(float, lambda v: v > 0 and v < float("inf"), "a finite number > 0")
probability = _typed(float, lambda v: 0 < v < 1, "a number in (0, 1)")


def finite_float(text: str) -> float:
    return _typed(float, lambda v: abs(v) < float("inf"), "a finite number")(text)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (``prog: error: message``) and exit 2:
    the usage block is what ``--help`` is for."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def make_parser(module: str, doc: str | None, *, options: Iterable[str] = ("seed", "json"),
                jobs_default: int = 1) -> argparse.ArgumentParser:
    """A parser for ``python -m <module>`` with the chosen shared options, defined once here.

    The description is the module docstring (its first paragraph shows in ``--help``'s header;
    the rest after the options)."""
    options = tuple(options)
    unknown = set(options) - set(SHARED_OPTIONS)
    if unknown:
        raise ValueError(f"unknown shared options {sorted(unknown)}; choose from {SHARED_OPTIONS}")
    doc = (doc or "").strip()
    head, _, rest = doc.partition("\n\n")
    p = OneLineParser(prog=f"python -m {module}", description=head or None,
                                epilog=rest or None,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(_module=module, _options=options)
    if "seed" in options:
        p.add_argument("--seed", type=nonnegative_int, default=0,
                       help="base seed; every trial's generator derives from it (default 0)")
    if "device" in options:
        p.add_argument("--device", default=DEFAULT_DEVICE, choices=DEVICE_CHOICES,
                       help="torch device; auto takes a GPU when there is one (default auto)")
    if "json" in options:
        p.add_argument("--json", type=Path, default=None, metavar="PATH",
                       help="write the Result here (JSON; CSV tables beside it)")
    if "out" in options:
        p.add_argument("--out", type=Path, default=None, metavar="DIR",
                       help="folder for further outputs (figures, checkpoints)")
    if "quick" in options:
        p.add_argument("--quick", action="store_true", help="small sizes, seconds to a minute")
    if "threads" in options:
        p.add_argument("--threads", type=positive_int, default=1,
                       help="torch/BLAS threads in this process (default 1)")
    if "jobs" in options:
        p.add_argument("--jobs", type=positive_int, default=jobs_default,
                       help=f"worker processes for sweeps (default {jobs_default})")
    p.add_argument("--verbose", action="store_true", help="print the full table of records")
    return p


def apply_threads(n: int | None) -> None:
    """Set the thread count of torch when the experiment uses it (never imports torch itself)."""
    torch = sys.modules.get("torch")
    if n is not None and torch is not None:
        torch.set_num_threads(int(n))


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
        body: Callable[[argparse.Namespace], Result | None]) -> int:
    """Parse ``argv``, run ``body(args)``, write and summarise its Result; bad input -> exit 2."""
    args = parser.parse_args(argv)
    apply_threads(getattr(args, "threads", None))
    from core.claims import checking_claims_of  # verdicts on undeclared claims fail at birth
    try:
        with checking_claims_of(parser.get_default("_module")):
            result = body(args)
    except InvalidArgument as exc:
        parser.error(str(exc))  # one line on stderr, exit status 2
    if result is None:
        return 0
    if getattr(args, "json", None) is not None:
        for path in write_result(result, args.json):
            print(f"wrote {path}")
    if getattr(args, "verbose", False) and result.records:
        print(format_table(result.records))
    print(summary(result))
    return 0


def summary_line(v: Verdict) -> str:
    """``claim  verdict  measured [lo, hi] vs bound  setting``, cut to SUMMARY_WIDTH characters."""
    parts = [f"{v.claim:<18}", f"{v.verdict:<12}"]
    if v.measured is not None:
        m = f"{_fmt(v.measured)}"
        if v.interval is not None:
            m += f" [{_fmt(v.interval[0])}, {_fmt(v.interval[1])}]"
        if v.bound is not None:
            m += f" vs {_fmt(v.bound)}"
        parts.append(m)
    parts.append(v.setting)
    line = "  ".join(parts)
    return line if len(line) <= SUMMARY_WIDTH else line[: SUMMARY_WIDTH - 3] + "..."


def summary(result: Result) -> str:
    """Verdict lines and a count per verdict word."""
    lines = [f"{result.experiment}: {len(result.records)} records, "
             f"{len(result.verdicts)} verdicts"]
    lines += [summary_line(v) for v in result.verdicts]
    counts: dict[str, int] = {}
    for v in result.verdicts:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    if counts:
        lines.append(", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    return "\n".join(lines)


def _fmt(x) -> str:
    if x is None:
        return "nan"
    return format(x, ".4g") if isinstance(x, float) else str(x)


def format_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """Fixed-width text table (for ``--verbose``)."""
    if columns is None:
        columns = []
        for r in rows:
            columns.extend(k for k in r if k not in columns)
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(out)


def _cell(v) -> str:
    if isinstance(v, float):
        return format(v, ".4g")
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_cell(x) for x in v) + "]"
    return "" if v is None else str(v)


def progress(iterable=None, **kwargs):
    """tqdm progress bar on a terminal only (no carriage returns in logs)."""
    from tqdm import tqdm
    kwargs.setdefault("disable", not sys.stderr.isatty())
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)
