"""What every experiment of the package shares: a typed config whose fields are its CLI flags, and
one run context (device, threads, provenance, command line, run cache, declared claims).

An experiment module (see ``sims.registry`` for how one joins the registry) defines

* ``Config``: a frozen dataclass; each field made with :func:`option`, which states its help text
  and valid range once: :func:`validate_config` checks a config against those ranges with the one
  validation helper (``core.validate``: ``InvalidArgument`` naming the field, exit 2 on the command
  line), and :func:`cli_main` turns the fields into flags (``seeds`` -> ``--seeds``);
* ``run(config, *, context=None) -> core.result.Result``: opens an :class:`ExperimentRun`, trains or
  reads back what it needs, and returns the Result;
* ``toy_config()``: a config that runs end to end in seconds (the registry's parametrized test).

:class:`ExperimentRun` is the one preamble: it validates the config, resolves the device (no silent
fallback from CUDA to the CPU), sets the torch threads, starts the ``core.result.Provenance`` with
the command line that reruns it, and, while open, checks every verdict's claim id at birth against
the experiment's declaration (``core.claims.checking_claims_of``).
"""
from __future__ import annotations

import dataclasses
import sys
import typing
from dataclasses import field
from pathlib import Path

from core import claims as claims_registry
from core.result import Provenance, Result
from core.validate import InvalidArgument, check_choice, check_float, check_int

RUNS_DIR = Path("runs/section3")  # the run cache of the paired training runs (resumable)
DEVICE_CHOICES = ("auto", "cpu", "cuda")


def option(default, help: str, *, lo=None, hi=None, choices=None, optional: bool = False,
           lo_open: bool = False, hi_open: bool = False):
    """A config field with its help text and valid range: ``lo``/``hi`` for numbers (each element
    of a tuple; ``lo_open``/``hi_open``: that end excluded, e.g. ``lo=0, lo_open=True`` for > 0),
    ``choices`` for strings (each element of a tuple); ``optional``: None allowed.  ``--help``
    shows the range and the default after ``help`` (:func:`flag_help`)."""
    meta = {"help": help, "lo": lo, "hi": hi, "choices": choices, "optional": optional,
            "lo_open": lo_open, "hi_open": hi_open}
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


def _base_type(cls, f: dataclasses.Field):
    """(scalar type, is a tuple) of a field from its annotation."""
    hint = typing.get_type_hints(cls)[f.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        hint = args[0]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (tuple, list):
        return (args[0] if args else str), True
    return hint, False


def validate_config(config) -> None:
    """Check every field against its :func:`option` range (``InvalidArgument`` naming the field)."""
    for f in dataclasses.fields(config):
        value, meta = getattr(config, f.name), f.metadata
        if value is None and meta.get("optional"):
            continue
        kind, many = _base_type(type(config), f)
        for v in (value if many else (value,)):
            if meta.get("choices") is not None:
                check_choice(f.name, v, meta["choices"])
            elif kind is int:
                check_int(f.name, v, meta.get("lo"), meta.get("hi"))
            elif kind is float and (meta.get("lo") is None and meta.get("hi") is None):
                try:  # NaN/inf refused; no range declared here (the run checks it), so none is claimed
                    check_float(f.name, v)
                except InvalidArgument:
                    raise InvalidArgument(f"{f.name} must be a finite real number, got {v!r}") from None
            elif kind is float:
                check_float(f.name, v, meta.get("lo"), meta.get("hi"),
                            lo_open=bool(meta.get("lo_open")), hi_open=bool(meta.get("hi_open")))


def range_text(meta) -> str:
    """The valid range of an :func:`option` as ``--help`` and a bad flag's message say it:
    ``[2, 1000]``, ``(0, 1]``, ``>= 0``, ``> 0``, ``<= 10``; "" when none is declared."""
    lo, hi = (None if v is None else str(v) if isinstance(v, int) else format(v, "g")
              for v in (meta.get("lo"), meta.get("hi")))
    lo_open, hi_open = bool(meta.get("lo_open")), bool(meta.get("hi_open"))
    if lo is not None and hi is not None:
        return f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi}"
    return ""


def _shown(value) -> str:
    """A default as one types it on the command line (a tuple as its values, none for empty)."""
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value)) if value else "none"
    return str(value)


def flag_help(f: dataclasses.Field, many: bool = False) -> str:
    """The ``--help`` text of a config field (``many``: a tuple, its range is each value's): its
    help, then its range and its default.  The
    default is left out where it is None (the help says what then applies: a preset, the paper's
    value) or where the help states it already; a bool flag's default is its help's business."""
    meta = f.metadata
    text = meta.get("help", "")
    default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    extra, rng = [], range_text(meta)
    if meta.get("choices") is None and rng and rng not in text:  # not where the help says it
        extra.append(f"{'each ' if many else ''}"
                     f"{'in ' if rng[0] in '[(' else ''}{rng}")
    if default is not None and not isinstance(default, bool) and "default" not in text.lower():
        extra.append(f"default {_shown(default)}")
    return f"{text} ({'; '.join(extra)})" if extra else text


def _flag_type(kind, meta):
    """``type=`` of a number flag: its parse error states the valid range (the range itself is
    checked after parsing by :func:`validate_config`, the one place that checks it)."""
    import argparse
    what = {int: "an integer", float: "a real number"}[kind]
    rng = range_text(meta)
    rng = f"in {rng}" if rng[:1] in ("[", "(") else rng

    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            expected = f"{what} {rng}" if rng else what  # after argparse's own words
            raise argparse.ArgumentTypeError(
                f"invalid {kind.__name__} value: {text!r}; expected {expected}") from None
    parse.__name__ = what
    return parse


def config_argv(config) -> list[str]:
    """The flags that reproduce ``config`` (the fields that differ from their defaults)."""
    out = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if value == default:
            continue
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            out.append(flag if value else "--no-" + f.name.replace("_", "-"))
        elif isinstance(value, (list, tuple)):
            out += [flag, *map(str, value)]
        else:
            out += [flag, str(value)]
    return out


class ExperimentRun:
    """The run context of one experiment::

        with ExperimentRun("sims.example_3_2", config, argv=argv, device="cpu") as ctx:
            ...train on ctx.device, cache runs under ctx.runs_dir, make verdicts with core.protocol...
            return ctx.result(config=..., records=..., verdicts=..., tables=...)

    ``argv``: the command line to record (None from Python: nothing recorded); ``module``: the
    module the recorded command line names (default ``name``; the old names keep their argv);
    ``experiment``: the Result's ``experiment`` field (default ``name``); ``seed``: recorded in the
    provenance; ``threads``: torch threads (None: unchanged)."""

    def __init__(self, name: str, config=None, *, argv: list[str] | None = None,
                 device="cpu", threads: int | None = None, seed: int = 0,
                 runs_dir: Path | str | None = None, module: str | None = None,
                 experiment: str | None = None):
        if config is not None:
            validate_config(config)
        self.name = name
        self.config = config
        self.experiment = experiment or name
        self.module = module or name
        self.argv = None if argv is None else [str(a) for a in argv]
        self.device = resolve_device(device)
        self.threads = threads
        self.seed = seed
        self.runs_dir = None if runs_dir is None else Path(runs_dir)
        self.provenance: Provenance | None = None
        self._claims = None

    def __enter__(self) -> "ExperimentRun":
        self.start()
        self._claims = claims_registry.checking_claims_of(self.name)
        self._claims.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._claims.__exit__(*exc)

    def start(self):
        """(device, provenance) without the ``with`` block, for the older modules whose body is one
        long function (their verdicts are checked at birth by ``core.cli.run`` on the command line)."""
        from sims.registry import declare_all
        declare_all()
        if claims_registry.declared_claims(self.name) is None:
            raise ValueError(f"{self.name} is not a registered experiment: add it to "
                             f"sims.registry.EXPERIMENTS (its docstring says how)")
        if self.threads is not None:
            import torch
            torch.set_num_threads(int(self.threads))
        self.provenance = Provenance.start(module=self.module if self.argv is not None else None,
                                           argv=self.argv or [], seed=self.seed,
                                           device=str(self.device))
        return self.device, self.provenance

    def result(self, *, config: dict, records=(), verdicts=(), tables=None) -> Result:
        """The Result of this run, its provenance stopped now."""
        return Result(experiment=self.experiment, config=config, provenance=self.provenance.stop(),
                      records=list(records), verdicts=list(verdicts), tables=dict(tables or {}))


def run_swept(module: str, config, context: "ExperimentRun | None", sweep_of, judged) -> Result:
    """``run(config, context=...)`` of an experiment whose command-line ``config`` expands into a
    sweep (``sweep_of(config, device_type)``: presets, sizes) that ``judged(sweep, context,
    progress=...)`` simulates and judges inside the open run: the run context (device "auto" from
    Python, the config's seed recorded), and a progress bar only when run from the command line."""
    context = context or ExperimentRun(module, config, device="auto")
    context.seed = config.seed
    with context:
        return judged(sweep_of(config, context.device.type), context, progress=context.argv is not None)


def run_built_sweep(module: str, sweep, judged, to_argv, *, progress: bool = False) -> Result:
    """The Result of a sweep built in Python (its own device and seed); its provenance records the
    command line that reruns it where there is one (``to_argv(sweep)``)."""
    with ExperimentRun(module, None, argv=to_argv(sweep), device=sweep.device, seed=sweep.seed) as context:
        return judged(sweep, context, progress=progress)


def resolve_device(name):
    """``auto|cpu|cuda[:k]`` (or a torch.device) to a torch device; an unusable one is bad input."""
    if not isinstance(name, str):
        return name
    from nets.device import resolve_device as resolve
    try:
        return resolve(name)
    except ValueError as exc:
        raise InvalidArgument(f"device: {exc}") from None


# ---------------------------------------------------------------------------------------------
# the command line of a registered experiment, from its Config

def cli_parser(module: str, *, recorded_as: str | None = None):
    """The ``argparse`` parser of a registered experiment: the shared options (``core.cli``) and one
    flag per field of the module's ``Config`` (a tuple field takes several values, none for an
    optional one; a bool field is a switch ``--x`` when off by default, ``--x/--no-x`` when on),
    its help :func:`flag_help`'s, a word where a number belongs refused with the range."""
    import argparse
    import importlib

    from core.cli import make_parser
    mod = importlib.import_module(module)
    cls = mod.Config
    cpu_only = getattr(mod, "CPU_ONLY", False)  # computes on the CPU: no --device choice to offer
    p = make_parser(recorded_as or module, mod.__doc__,
                    options=("json", "threads", "verbose") + (() if cpu_only else ("device",)))
    for f in dataclasses.fields(cls):
        kind, many = _base_type(cls, f)
        flag = "--" + f.name.replace("_", "-")
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if kind is bool:  # off by default: a switch (--quick); on by default: --x/--no-x
            p.add_argument(flag, dest=f.name, default=default, help=flag_help(f, many),
                           action=argparse.BooleanOptionalAction if default else "store_true")
            continue
        conv = _flag_type(kind, f.metadata) if kind in (int, float) else str
        nargs = ("*" if f.metadata.get("optional") else "+") if many else None  # optional: empty allowed
        p.add_argument(flag, dest=f.name, type=conv, nargs=nargs, default=default,
                       choices=f.metadata.get("choices"), metavar=None if f.metadata.get("choices") else f.name.upper(),
                       help=flag_help(f, many))
    return p


def config_from_args(cls, args):
    """The ``Config`` of parsed command-line ``args`` (lists become tuples)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)}
    return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items()})


def parse_config(module: str, argv: list[str]):
    """The validated ``Config`` that the command line ``argv`` (the flags, without ``python -m
    module``) gives ``module``, without running anything: how a test checks that a committed
    Result's ``provenance.argv`` still means what it meant.  Bad flags raise ``SystemExit(2)``."""
    import importlib
    cls = importlib.import_module(module).Config
    config = config_from_args(cls, cli_parser(module).parse_args([str(a) for a in argv]))
    validate_config(config)
    return config


def cli_main(module: str, argv=None, *, recorded_as: str | None = None) -> int:
    """``python -m <module> [--field value ...]``: the flags of :func:`cli_parser`; runs
    ``run(config, context=...)`` and writes/prints its Result through ``core.cli.run``.
    ``recorded_as``: the old module name an alias runs it under (its ``python -m`` line is recorded,
    so committed Results regenerate from their argv).  Optional module attributes: ``RESULT_NAME``
    (the Result's ``experiment``, default the module), ``CPU_ONLY`` (no device choice: it runs on
    the CPU), ``PROVENANCE_SEED`` (recorded seed, default 0; None where seeds are per unit)."""
    import importlib

    from core.cli import run
    mod = importlib.import_module(module)
    cls = mod.Config
    shown = recorded_as or module
    cpu_only = getattr(mod, "CPU_ONLY", False)
    p = cli_parser(module, recorded_as=recorded_as)
    recorded = None if argv is None else [str(a) for a in argv]

    def body(args):
        from nets.data import DatasetNotFoundError
        config = config_from_args(cls, args)
        context = ExperimentRun(module, config, argv=sys.argv[1:] if recorded is None else recorded,
                                device="cpu" if cpu_only else args.device, threads=args.threads,
                                module=shown, experiment=getattr(mod, "RESULT_NAME", module),
                                seed=getattr(mod, "PROVENANCE_SEED", 0))
        try:
            return mod.run(config, context=context)
        except DatasetNotFoundError as exc:  # missing data is bad input (--data-dir), as in nets.train
            raise InvalidArgument(f"dataset: {exc}") from None
    return run(p, argv, body)
