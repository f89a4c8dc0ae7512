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
writes the Result to ``--json`` (CSV beside it), and prints the short summary: a table of the
verdicts as wide as the terminal (``terminal_width``; ``SUMMARY_WIDTH`` in logs), the fields that
tell rows apart first, long cells wrapped between words, never cut; the long table goes to
``--verbose``.  A ``--quick`` run marks every verdict ``(quick)`` and points to the committed Result.

Shared behaviour of every parser built here: ``--version``; every output path option (``--json``,
``--out``, ``--cache`` by name, ``OUTPUT_NAMES``, and any option whose type is ``output_file`` or
``output_dir``) is checked once parsing is done, defaults included: its parent folder is created,
or the command exits 2 with one line naming the option (``check_output_path``); the
Monte Carlo commands (``sims.*``) all take ``--device`` and ``--threads`` (a CPU-only command
accepts ``--device cpu|auto`` and refuses ``cuda`` with one line).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Callable, Iterable, Sequence

from core.result import Result, Verdict, write_result
from core.validate import InvalidArgument

SUMMARY_WIDTH = 120  # width of tables when stdout is not a terminal (logs, CI) and COLUMNS is unset
MIN_WIDTH = 40
DEVICE_CHOICES = ("auto", "cpu", "cuda")
CPU_DEVICE_CHOICES = ("auto", "cpu")
DEFAULT_DEVICE = "auto"
SHARED_OPTIONS = ("seed", "device", "json", "out", "quick", "threads", "jobs", "verbose")
# Every command of the Monte Carlo layer takes these, whether or not it lists them.
MONTE_CARLO_PREFIX = "sims."
MONTE_CARLO_OPTIONS = ("device", "threads")


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


def output_file(text: str) -> Path:
    """``type=`` of an option naming a file the command writes.  After parsing, its folder is
    created (or the command exits 2 naming the option): see ``check_output_path``."""
    return Path(text)


def output_dir(text: str) -> Path:
    """``type=`` of an option naming a folder the command writes into (created by the command;
    its parent is created after parsing, or the command exits 2 naming the option)."""
    return Path(text)


OUTPUT_TYPES = {output_file: "file", output_dir: "folder"}
# Options that are outputs by their name, whatever their type (e.g. a typed experiment's str field).
OUTPUT_NAMES = {"json": "file", "out": "folder", "cache": "folder"}


def check_output_path(path: Path, kind: str = "file") -> None:
    """Make ``path`` writable as a ``kind`` ("file" or "folder"): create its parent folder.

    Raises ``InvalidArgument`` with one line saying what is in the way (a file where a folder is
    needed, a folder where a file is needed, no permission, a read-only file system)."""
    path = Path(path)
    if path.is_dir() and kind == "file":
        raise InvalidArgument(f"{path} is a folder; give a file name")
    if path.exists() and not path.is_dir() and kind == "folder":
        raise InvalidArgument(f"{path} is a file, not a folder")
    parent = path.parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise InvalidArgument(f"{existing} is a file, not a folder" if existing == parent
                              else f"cannot create {parent}: {existing} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidArgument(f"cannot create the folder {parent} "
                              f"({exc.strerror or type(exc).__name__})") from None
    target = path if path.exists() else parent
    if not os.access(target, os.W_OK):
        raise InvalidArgument(f"cannot write {'into ' if target.is_dir() else ''}{target} "
                              f"(permission denied or read-only)")


def cpu_device(text: str) -> str:
    """``--device`` of a command that computes on the CPU only: auto and cpu are accepted, cuda is
    refused (never silently ignored)."""
    if text == "cuda":
        raise argparse.ArgumentTypeError("this command computes on the CPU only; "
                                         "choose auto or cpu, got 'cuda'")
    if text not in CPU_DEVICE_CHOICES:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(CPU_DEVICE_CHOICES)}, "
                                         f"got {text!r}")
    return text


def package_version() -> str:
    """The installed version of rmt-pruning (``unknown`` when the package is not installed)."""
    from core.result import installed_version
    return installed_version("rmt-pruning") or "unknown (not installed: pip install -e .)"


class _VersionAction(argparse.Action):
    """``--version``: the package version and the git commit of the checkout (computed only when
    asked, so that parsing never runs git)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="print the package version and git commit, then exit"):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0,
                         help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from core.result import git_state
        commit, dirty = git_state()
        where = "" if commit is None else f", git {commit[:10]}{' (modified)' if dirty else ''}"
        print(f"{parser.prog} (rmt-pruning {package_version()}{where}, "
              f"Python {sys.version.split()[0]})")
        parser.exit(0)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (``prog: error: message``) and exit 2:
    the usage block is what ``--help`` is for.  Once parsed, every output path option is checked
    (``check_output_path``): its folder is created, or exit 2 with one line naming the option."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        for action in self._actions:
            kind = OUTPUT_TYPES.get(action.type) or OUTPUT_NAMES.get(action.dest)
            value = getattr(namespace, action.dest, None) if kind else None
            if value is None or value is argparse.SUPPRESS:
                continue
            for path in value if isinstance(value, list) else [value]:
                try:
                    check_output_path(Path(path), kind)
                except InvalidArgument as exc:
                    self.error(f"{'/'.join(action.option_strings) or action.dest} {path}: {exc}")
        return namespace, extras


def _prog(module: str) -> str:
    """``python -m <module>``, or the console script's name when run as one (``rmt-theory``)."""
    script = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return script if script in CONSOLE_SCRIPTS and CONSOLE_SCRIPTS[script] == module \
        else f"python -m {module}"


# The console scripts of pyproject.toml ([project.scripts]): name -> module whose main() runs.
CONSOLE_SCRIPTS = {
    "rmt-theory": "theory",
    "rmt-spiked-model": "sims.spiked_model",
    "rmt-approximation-lemma": "sims.approximation_lemma",
    "rmt-pruning-theorem": "sims.pruning_theorem",
    "rmt-bema-checks": "sims.bema_checks",
    "rmt-train": "nets.train",
    "rmt-spectral-report": "nets.spectral_report",
    "rmt-figures": "figures",
    "rmt-report": "figures.report",
    "rmt-bench": "benchmarks",
}


def make_parser(module: str, doc: str | None, *, options: Iterable[str] = ("seed", "json"),
                jobs_default: int = 1, verbose: bool = True) -> argparse.ArgumentParser:
    """A parser for ``python -m <module>`` with the chosen shared options, defined once here.

    The description is the module docstring (its first paragraph shows in ``--help``'s header;
    the rest after the options).  Every parser has ``--version``; a Monte Carlo command
    (``sims.*``) always has ``--device`` and ``--threads`` (``MONTE_CARLO_OPTIONS``): where it does
    not list ``device``, it computes on the CPU only and its ``--device`` refuses ``cuda``."""
    options = tuple(options)
    unknown = set(options) - set(SHARED_OPTIONS)
    if unknown:
        raise ValueError(f"unknown shared options {sorted(unknown)}; choose from {SHARED_OPTIONS}")
    cpu_only = False
    if module.startswith(MONTE_CARLO_PREFIX):
        cpu_only = "device" not in options
        options += tuple(o for o in MONTE_CARLO_OPTIONS if o not in options)
    doc = (doc or "").strip()
    head, _, rest = doc.partition("\n\n")
    p = OneLineParser(prog=_prog(module), description=head or None,
                                epilog=rest or None,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(_module=module, _options=options)
    p.add_argument("--version", action=_VersionAction)
    if "seed" in options:
        p.add_argument("--seed", type=nonnegative_int, default=0,
                       help="base seed; every trial's generator derives from it (default 0)")
    if "device" in options and cpu_only:
        p.add_argument("--device", default=DEFAULT_DEVICE, type=cpu_device, metavar="{auto,cpu}",
                       help="this command computes on the CPU only; cuda is refused "
                            "(default auto = cpu)")
    elif "device" in options:
        p.add_argument("--device", default=DEFAULT_DEVICE, choices=DEVICE_CHOICES,
                       help="torch device; auto takes a GPU when there is one (default auto)")
    if "json" in options:
        p.add_argument("--json", type=output_file, default=None, metavar="PATH",
                       help="write the Result here (JSON; CSV tables beside it); its folder is "
                            "created")
    if "out" in options:
        p.add_argument("--out", type=output_dir, default=None, metavar="DIR",
                       help="folder for further outputs (figures, checkpoints)")
    if "quick" in options:
        p.add_argument("--quick", action="store_true", help="small sizes, seconds to a minute")
    if "threads" in options:
        p.add_argument("--threads", type=positive_int, default=1,
                       help="torch/BLAS threads in this process (default 1)")
    if "jobs" in options:
        p.add_argument("--jobs", type=positive_int, default=jobs_default,
                       help=f"worker processes for sweeps (default {jobs_default})")
    if verbose:  # a command that prints no Result (figures) has no records to show
        p.add_argument("--verbose", action="store_true", help="print the full table of records")
    return p


def apply_threads(n: int | None) -> None:
    """Set the thread count of torch (never imports torch itself: a command that has not loaded it
    yet gets ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``, which torch reads when it loads)."""
    if n is None:
        return
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(int(n))
    else:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(int(n))


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
        body: Callable[[argparse.Namespace], Result | None]) -> int:
    """Parse ``argv``, run ``body(args)``, write and summarise its Result; bad input -> exit 2.

    Output into a closed pipe (``python -m theory | head``) ends the command quietly, as ``cat``
    does, instead of a traceback."""
    try:
        return _run(parser, argv, body)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit must not raise again
        return 0


def _run(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
         body: Callable[[argparse.Namespace], Result | None]) -> int:
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
    print(summary(result, quick=bool(getattr(args, "quick", False))))
    return 0


def terminal_width() -> int:
    """Columns of the terminal (``COLUMNS`` first); ``SUMMARY_WIDTH`` when stdout is not a terminal
    (a log, CI); never below ``MIN_WIDTH``."""
    return max(MIN_WIDTH, shutil.get_terminal_size((SUMMARY_WIDTH, 24)).columns)


def fit_columns(cells: list[list[str]], width: int, sep: int = 2, longest_word: int = 24) -> list[int]:
    """Column widths for ``cells`` (rows of strings) in ``width`` characters: the widest column
    gives up a character at a time, never below its longest word (capped at ``longest_word``,
    so that one very long word is wrapped instead of the table)."""
    n = len(cells[0]) if cells else 0
    natural = [max(len(row[i]) for row in cells) for i in range(n)]
    floor = [min(natural[i], max(4, min(longest_word, max((len(w) for row in cells
                                                         for w in row[i].split()), default=0))))
             for i in range(n)]
    widths = list(natural)
    room = width - sep * (n - 1)
    while sum(widths) > room:
        shrinkable = [i for i in range(n) if widths[i] > floor[i]]
        if not shrinkable:
            break  # the words do not fit: the lines run long rather than cut a word
        widths[max(shrinkable, key=lambda i: widths[i])] -= 1
    return widths


def wrap_rows(cells: list[list[str]], widths: list[int], sep: int = 2) -> list[str]:
    """Each row of ``cells`` as one or more lines: a cell longer than its column wraps between
    words onto the next line of the same column (a word is split only where it alone is wider
    than its column); nothing is cut."""
    out = []
    for row in cells:
        parts = [textwrap.wrap(c, w, break_on_hyphens=False) or [""] for c, w in zip(row, widths)]
        for k in range(max(len(p) for p in parts)):
            line = (" " * sep).join((p[k] if k < len(p) else "").ljust(w)
                                    for p, w in zip(parts, widths))
            out.append(line.rstrip())
    return out


QUICK_MARK = "(quick)"
SETTING_MIN = 28  # narrowest setting column of the one-line-per-verdict table


def _measured_text(v: Verdict) -> str:
    if v.measured is None:
        return "" if v.bound is None else f"bound {_fmt(v.bound)}"
    m = _fmt(v.measured)
    if v.interval is not None:
        m += f" [{_fmt(v.interval[0])}, {_fmt(v.interval[1])}]"
    if v.bound is not None:
        m += f" vs {_fmt(v.bound)}"
    return m


def verdict_table(verdicts: Sequence[Verdict], *, quick: bool = False, width: int | None = None,
                  header: bool = True) -> list[str]:
    """The verdicts as a table as wide as the terminal, the fields that tell rows apart first:
    ``claim  setting  verdict  measured [interval] vs bound``.  The setting (what distinguishes
    rows of one claim) wraps between words inside its column; where the terminal is too narrow
    for a column of at least ``SETTING_MIN`` characters, each verdict takes two lines (claim and
    setting, then verdict and numbers under it).  Nothing is cut.  With ``quick`` every verdict
    reads ``<verdict> (quick)``."""
    if not verdicts:
        return []
    width = terminal_width() if width is None else width
    rows = [[v.claim, v.setting, f"{v.verdict} {QUICK_MARK}" if quick else v.verdict,
             _measured_text(v)] for v in verdicts]
    head = ["claim", "setting", "verdict", "measured [interval] vs bound"]
    cells = [head] + rows if header else rows
    natural = [max(len(r[i]) for r in cells) for i in range(4)]
    room = width - 6 - natural[0] - natural[2] - natural[3]
    if room >= min(natural[1], SETTING_MIN):
        widths = [natural[0], min(natural[1], room), natural[2], natural[3]]
        lines = wrap_rows(cells, widths)
        if header:
            lines.insert(1, "-" * max(len(ln) for ln in lines))
        return lines
    # narrow terminal: two lines per verdict, the distinguishing text on the first
    indent = natural[0] + 2
    top = [natural[0], max(width - indent, 12)]
    under = fit_columns([[r[2], r[3]] for r in cells], max(width - indent, 24))
    lines = []
    for r in cells:
        lines += wrap_rows([[r[0], r[1]]], top)
        lines += [" " * indent + ln for ln in wrap_rows([[r[2], r[3]]], under)]
        if r is head:
            lines.append("-" * min(width, max(len(ln) for ln in lines)))
    return lines


def summary_line(v: Verdict, *, quick: bool = False, width: int | None = None) -> str:
    """One verdict as its table row (several lines when a cell wraps), without the header."""
    return "\n".join(verdict_table([v], quick=quick, width=width, header=False))


def committed_results(experiment: str, results_dir: Path | None = None) -> list[Path]:
    """The committed Results of ``experiment`` (``results/**/*.json`` whose ``experiment`` field is
    it; ``results/smoke/`` excluded), shortest path first: where a quick run's full-size verdicts
    are."""
    from core.result import PACKAGE_ROOT
    root = Path(results_dir) if results_dir is not None else PACKAGE_ROOT / "results"
    if not root.is_dir():
        return []
    field = re.compile(r'^ "experiment": "([^"]*)",?$', re.M)
    found = []
    for path in root.rglob("*.json"):
        if "smoke" in path.relative_to(root).parts:
            continue
        try:
            m = field.search(path.read_text(errors="replace"))
        except OSError:
            continue
        if m and m.group(1) == experiment:
            found.append(path)
    found.sort(key=lambda q: (len(q.parts), len(str(q)), str(q)))
    try:
        return [q.relative_to(PACKAGE_ROOT) for q in found] if results_dir is None else found
    except ValueError:
        return found


def quick_pointer(experiment: str, results_dir: Path | None = None) -> str:
    """One line after a ``--quick`` run: its verdicts are at reduced size, and where the committed
    ones are."""
    paths = committed_results(experiment, results_dir)
    head = f"{QUICK_MARK} = reduced sizes, not evidence for or against a claim; "
    if not paths:
        return head + f"no committed Result of {experiment} found (run without --quick)"
    more = f" (+{len(paths) - 1} more)" if len(paths) > 1 else ""
    return head + f"committed verdicts: {paths[0]}{more}"


def summary(result: Result, *, quick: bool = False, width: int | None = None) -> str:
    """A header line, the verdict table and a count per verdict word; after a ``--quick`` run,
    every verdict is marked ``(quick)`` and one line points to the committed Result."""
    width = terminal_width() if width is None else width
    lines = [prose(f"{result.experiment}: {len(result.records)} records, "
                   f"{len(result.verdicts)} verdicts{' ' + QUICK_MARK if quick else ''}", width)]
    lines += verdict_table(result.verdicts, quick=quick, width=width)
    counts: dict[str, int] = {}
    for v in result.verdicts:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    if counts:
        claims = len({v.claim for v in result.verdicts})
        lines.append(prose(f"{len(result.verdicts)} verdict{'s' if len(result.verdicts) != 1 else ''}"
                           f" on {claims} paper claim{'s' if claims != 1 else ''}"
                           f"{' ' + QUICK_MARK if quick else ''}: "
                           + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())), width))
    if quick and result.verdicts:
        lines.append(prose(quick_pointer(result.experiment), width))
    return "\n".join(lines)


def prose(text: str, width: int | None = None) -> str:
    """A sentence for the terminal: wrapped between words at ``width`` (continuation indented)."""
    width = terminal_width() if width is None else width
    return textwrap.fill(text, width, subsequent_indent="  ", break_on_hyphens=False,
                         break_long_words=False)


def _fmt(x) -> str:
    if x is None:
        return "nan"
    return format(x, ".4g") if isinstance(x, float) else str(x)


def format_table(rows: list[dict], columns: list[str] | None = None, *,
                 width: int | None = None) -> str:
    """Text table of ``rows`` (for ``--verbose``) as wide as the terminal.

    Without ``columns``: columns equal in every row are said once above the table, the columns
    that tell rows apart (text, integers) come first and the measured values after; where the
    columns do not fit the width, further blocks repeat the distinguishing columns (as pandas
    does).  Cells wrap between words, nothing is cut."""
    width = terminal_width() if width is None else width
    lead = []
    if columns is None:
        columns = []
        for r in rows:
            columns.extend(k for k in r if k not in columns)
        if len(rows) > 1:
            same = [c for c in columns
                    if len({_cell(r.get(c)) for r in rows}) == 1]
            columns = [c for c in columns if c not in same]
            if same:
                lead.append(textwrap.fill(
                    "same in every row: " + ", ".join(f"{c}={_cell(rows[0].get(c))}" for c in same),
                    width, subsequent_indent="  ", break_on_hyphens=False))
        def keylike(c):  # text and integer labels (a bool is an outcome, not a label)
            return all(r.get(c) is None or (isinstance(r.get(c), (str, int))
                                            and not isinstance(r.get(c), bool)) for r in rows)
        keys = [c for c in columns if keylike(c)]
        columns = keys + [c for c in columns if c not in keys]
    else:
        keys = []
    if not columns:
        return "\n".join(lead)
    cells = {c: [c] + [_cell(r.get(c)) for r in rows] for c in columns}
    natural = {c: max(len(x) for x in cells[c]) for c in columns}
    while keys and sum(natural[c] + 2 for c in keys) > width // 2:
        keys = keys[:-1]  # repeat only the leading labels that fit half the screen
    key_width = sum(natural[c] + 2 for c in keys)
    rest = [c for c in columns if c not in keys]
    blocks, block, used = [], [], key_width
    for c in rest:
        if block and used + natural[c] > width:
            blocks.append(block)
            block, used = [], key_width
        block.append(c)
        used += natural[c] + 2
    blocks.append(block)
    out = list(lead)
    for b in blocks:
        cols = keys + b
        table = [[cells[c][i] for c in cols] for i in range(len(rows) + 1)]
        widths = fit_columns(table, width)
        lines = wrap_rows(table[:1], widths)
        lines.append("  ".join("-" * w for w in widths))
        lines += wrap_rows(table[1:], widths)
        if out:
            out.append("")
        out += lines
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
