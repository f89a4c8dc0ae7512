"""The one Result format: every experiment of sims/ and nets/ returns a ``Result`` and writes it here.

A Result (schema version ``SCHEMA_VERSION``) holds

- ``experiment``: the module that produced it, e.g. ``"sims.spiked_model"``;
- ``config``: every setting of the run (JSON-safe), enough to rerun it;
- ``provenance``: package version, git commit and dirty flag, Python/numpy/scipy/torch versions,
  device, thread count, the command line (``argv``, as ``python -m <module> ...``), seed, start time,
  wall and CPU seconds (``Provenance``);
- ``records``: the measured rows (a list of flat dicts: written as CSV beside the JSON as well);
- ``tables``: optional further named tables (each a list of flat dicts, each written as CSV);
- ``verdicts``: one ``Verdict`` per claim and setting checked.

A ``Verdict`` carries the registry id of the claim (``core.claims``, ``<paper>:<kind>:<number>``,
e.g. ``000:lemma:4.2``), the setting, the measured value with its interval, the paper's bound or
prediction, the verdict (holds / vacuous / fails / inconclusive), the corrected statement and a note.

NaN convention: a non-finite float (NaN, +-inf) is written as JSON ``null`` and read back as
``None``; "not measured" and "undefined" are both ``null``.  JSON files are written with sorted
keys and a trailing newline so that reruns diff cleanly.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from core.claims import CLAIM_ID, check_at_birth, not_at_birth

SCHEMA_VERSION = 1
VERDICTS = ("holds", "vacuous", "fails", "inconclusive")
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Verdict:
    """One claim checked in one setting.

    ``interval`` is the confidence interval of ``measured`` (``[lo, hi]``, 95% unless the note says
    otherwise); ``bound`` is the paper's bound or predicted value in that setting; ``corrected`` is
    the statement that does hold, where one was derived (only with ``fails``)."""
    claim: str
    setting: str
    verdict: str
    measured: float | None = None
    interval: list[float] | None = None
    bound: float | None = None
    corrected: str = ""
    note: str = ""
    N: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # the declaration (endpoint, rule, alpha, scale, family) and the rule's statistics (reason, raw
    # and Holm-adjusted p, n, seeds needed) of ``core.protocol``, which makes every verdict
    protocol: dict[str, Any] | None = None

    def __post_init__(self):
        if not isinstance(self.claim, str) or not CLAIM_ID.match(self.claim):
            raise ValueError(f"claim must be a registry id '<paper>:<kind>:<number>' "
                             f"(e.g. '000:lemma:4.2'), got {self.claim!r}")
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.interval is not None:
            iv = [None if v is None else float(v) for v in self.interval]
            if len(iv) != 2:
                raise ValueError(f"interval must be [lo, hi], got {self.interval!r}")
            self.interval = iv
        check_at_birth(self.claim)  # in a running experiment: registered and declared (core.claims)


@dataclass
class Provenance:
    """Where a result came from.  ``Provenance.start(...)`` at the beginning of a run, ``.stop()`` at
    the end (fills wall and CPU seconds)."""
    package_version: str
    git_commit: str | None
    git_dirty: bool | None
    python: str
    numpy: str | None
    scipy: str | None
    torch: str | None
    platform: str
    device: str
    threads: int | None
    argv: list[str]
    seed: int | None
    started: str
    wall_s: float | None = None
    cpu_s: float | None = None
    # float32 training is not bit-portable across CPUs (BLAS picks kernels by instruction set), so a
    # Result says on which CPU it was made (docs/reproducibility.md); None in Results made before
    cpu: str | None = None
    cpu_capability: str | None = None
    _t0: float = field(default=0.0, repr=False, compare=False)
    _c0: float = field(default=0.0, repr=False, compare=False)

    @classmethod
    def start(cls, *, argv: list[str] | None = None, seed: int | None = None, device: str = "cpu",
              threads: int | None = None, module: str | None = None) -> "Provenance":
        """Record the environment now.  ``argv`` defaults to this process's command line; with
        ``module`` it is stored as ``["python", "-m", module, *args]`` so it can be rerun."""
        if argv is None:
            argv = list(sys.argv[1:])
        argv = [str(a) for a in argv]
        if module is not None:
            argv = ["python", "-m", module, *argv]
        commit, dirty = git_state()
        if threads is None:
            threads = _thread_count()
        return cls(package_version=installed_version("rmt-pruning") or "unknown", git_commit=commit,
                   git_dirty=dirty, python=platform.python_version(), numpy=np.__version__,
                   scipy=installed_version("scipy"), torch=installed_version("torch"),
                   platform=f"{platform.system()} {platform.machine()}", device=str(device),
                   threads=threads, argv=argv, seed=seed,
                   started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   cpu=cpu_model(), cpu_capability=_cpu_capability(),
                   _t0=time.perf_counter(), _c0=time.process_time())

    def stop(self) -> "Provenance":
        self.wall_s = round(time.perf_counter() - self._t0, 3)
        self.cpu_s = round(time.process_time() - self._c0, 3)
        return self

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if not f.name.startswith("_")}


@dataclass
class Result:
    experiment: str
    config: dict[str, Any]
    provenance: Provenance
    records: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict:
        return {"schema_version": self.schema_version, "experiment": self.experiment,
                "config": plain(self.config), "provenance": plain(self.provenance.to_dict()),
                "records": plain(self.records), "tables": plain(self.tables),
                "verdicts": [plain(asdict(v)) for v in self.verdicts]}

    def verdicts_for(self, claim: str) -> list[Verdict]:
        return [v for v in self.verdicts if v.claim == claim]


def redecided(result: "Result", by: str, verdicts: list) -> "Result":
    """``result`` with ``verdicts`` made again from its stored measurements (measurements and the
    provenance of the run that measured them unchanged) and the re-decision recorded in
    ``config["verdicts_redecided"]``: the code's commit (and dirty flag), the function that did it,
    when, and the words before.  The report prints it beside the source line."""
    commit, dirty = git_state()
    record = {"commit": commit, "dirty": dirty, "by": by,
              "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "verdicts_before": [{"claim": v.claim, "setting": v.setting, "verdict": v.verdict}
                                  for v in result.verdicts]}
    previous = result.config.get("verdicts_redecided")
    if previous:  # the words before the first re-decision are the ones the run itself made
        record["verdicts_before"] = previous["verdicts_before"]
    return dataclasses.replace(result, config={**result.config, "verdicts_redecided": record},
                               verdicts=list(verdicts))


def load_stored(path: str, experiment: str) -> dict:
    """A stored Result (JSON) to re-decide from its own tables (the ``--redecide-from PATH`` mode of
    an experiment, see :func:`redecided_from`): refused with a one-line error naming
    ``redecide_from`` when it is missing or is another experiment's."""
    from core.validate import InvalidArgument
    src = Path(path)
    if not src.is_file():
        raise InvalidArgument(f"redecide_from: {path} is not a file")
    try:
        stored = json.loads(src.read_text())
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument(f"redecide_from: {path} is not a stored Result (not JSON)") from None
    if not isinstance(stored, dict) or "verdicts" not in stored or "provenance" not in stored:
        raise InvalidArgument(f"redecide_from: {path} is not a stored Result (no verdicts/provenance)")
    if stored.get("experiment") != experiment:
        raise InvalidArgument(f"redecide_from: {path} is a Result of {stored.get('experiment')!r}, not {experiment!r}")
    return stored


def redecided_from(path: str, stored: dict) -> dict:
    """The record a Result made by ``--redecide-from PATH`` keeps under ``config["redecided_from"]``:
    the stored Result's path, the provenance of the run that measured (its command and commit) and
    its words before.  Re-deciding a re-decided Result keeps the first record, so a rerun of the
    re-decision's own argv reproduces it.

    The two ways of re-deciding, both recorded here: :func:`redecided` rewrites a stored Result's
    words in place (its provenance stays the measuring run's; ``config["verdicts_redecided"]``
    says which code re-decided); ``--redecide-from`` makes a new Result whose provenance is the
    re-decision's command (this record points back at the measuring run).  The report prints either
    beside the source line (``redecision_note``)."""
    if "redecided_from" in stored.get("config", {}):
        return stored["config"]["redecided_from"]
    return {"path": str(path), "provenance": stored["provenance"],
            "verdicts_before": [{k: v.get(k) for k in ("claim", "setting", "verdict")} for v in stored["verdicts"]]}


def redecision_note(config: dict) -> str:
    """One clause for the report on how a Result's words were re-decided ("" when they were not)."""
    again = config.get("verdicts_redecided")
    if again:
        return (f"verdicts re-decided from its stored measurements at commit {(again['commit'] or 'unknown')[:10]}"
                f"{'+dirty' if again.get('dirty') else ''} by `{again['by']}`")
    source = config.get("redecided_from")
    if source:
        prov = source.get("provenance") or {}
        commit = (prov.get("git_commit") or "unknown")[:10] + ("+dirty" if prov.get("git_dirty") else "")
        return (f"verdicts re-decided from the stored tables of `{source['path']}`, measured by "
                f"`{' '.join(prov.get('argv') or [])}` at commit {commit}")
    return ""


def installed_version(dist: str) -> str | None:
    """The installed version of distribution ``dist`` (None when it is not installed)."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str | None:
    """The CPU's model name (/proc/cpuinfo on Linux, else platform.processor()), or None."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _cpu_capability() -> str | None:
    torch = sys.modules.get("torch")  # the instruction set torch's CPU kernels use, if torch is loaded
    try:
        return None if torch is None else str(torch.backends.cpu.get_cpu_capability())
    except AttributeError:
        return None


def _thread_count() -> int | None:
    torch = sys.modules.get("torch")  # only if the experiment already imported it
    if torch is not None:
        return int(torch.get_num_threads())
    env = os.environ.get("OMP_NUM_THREADS")
    return int(env) if env and env.isdigit() else None


def git_state(root: Path = PACKAGE_ROOT) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the package checkout; (None, None) outside a git work tree.  Dirty means
    tracked files outside ``results/`` differ from the commit: untracked files and rewritten
    Results (the outputs, not the code) do not count."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                 ".", ":(exclude)results"], cwd=root,
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, bool(status.strip())


def plain(value):
    """JSON-safe copy: numpy scalars/arrays to Python, tuples to lists, non-finite floats to None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    return value


# JSON Schema (draft 2020-12) of a written Result; ``validate_result_dict`` enforces the same rules.
RESULT_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "rmt-pruning Result",
    "type": "object",
    "required": ["schema_version", "experiment", "config", "provenance", "records", "tables",
                 "verdicts"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "experiment": {"type": "string"},
        "config": {"type": "object"},
        "provenance": {
            "type": "object",
            "required": ["package_version", "git_commit", "git_dirty", "python", "numpy", "scipy",
                         "torch", "platform", "device", "threads", "argv", "seed", "started",
                         "wall_s", "cpu_s"],
            "properties": {"argv": {"type": "array", "items": {"type": "string"}},
                           "seed": {"type": ["integer", "null"]},
                           "git_dirty": {"type": ["boolean", "null"]}},
        },
        "records": {"type": "array", "items": {"type": "object"}},
        "tables": {"type": "object",
                   "additionalProperties": {"type": "array", "items": {"type": "object"}}},
        "verdicts": {"type": "array", "items": {
            "type": "object",
            "required": ["claim", "setting", "verdict", "measured", "interval", "bound",
                         "corrected", "note", "N", "extra"],
            "properties": {"claim": {"type": "string", "pattern": CLAIM_ID.pattern},
                           "verdict": {"enum": list(VERDICTS)},
                           "measured": {"type": ["number", "null"]},
                           "bound": {"type": ["number", "null"]},
                           "interval": {"type": ["array", "null"], "minItems": 2, "maxItems": 2}}}},
    },
}


def validate_result_dict(d: dict, where: str = "result") -> None:
    """Raise ValueError naming the first field that breaks ``RESULT_SCHEMA``."""
    if not isinstance(d, dict):
        raise ValueError(f"{where}: a Result must be a JSON object, got {type(d).__name__}")
    for key in RESULT_SCHEMA["required"]:
        if key not in d:
            raise ValueError(f"{where}: missing field {key!r}")
    if d["schema_version"] != SCHEMA_VERSION:
        raise ValueError(f"{where}: schema_version {d['schema_version']!r}, this package reads "
                         f"{SCHEMA_VERSION}")
    for key in RESULT_SCHEMA["properties"]["provenance"]["required"]:
        if key not in d["provenance"]:
            raise ValueError(f"{where}: provenance lacks {key!r}")
    if not isinstance(d["records"], list) or not all(isinstance(r, dict) for r in d["records"]):
        raise ValueError(f"{where}: records must be a list of objects")
    for i, v in enumerate(d["verdicts"]):
        for key in RESULT_SCHEMA["properties"]["verdicts"]["items"]["required"]:
            if key not in v:
                raise ValueError(f"{where}: verdict {i} lacks {key!r}")
        Verdict(**v)  # checks the claim id pattern and the verdict word


def write_result(result: Result, path: str | Path, *, csv_tables: bool = True) -> list[Path]:
    """Write ``result`` as JSON at ``path`` (``.json`` added if missing) and, when ``csv_tables``,
    its records as ``<stem>.csv`` and each table as ``<stem>.<name>.csv`` beside it.  Returns the
    paths written."""
    path = Path(path)
    if path.suffix != ".json":
        path = path.with_name(path.name + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    d = result.to_dict()
    validate_result_dict(d, str(path))
    path.write_text(json.dumps(d, indent=1, sort_keys=True, allow_nan=False) + "\n")
    written = [path]
    if csv_tables:
        stem = path.with_suffix("")
        if d["records"]:
            written.append(write_csv(d["records"], stem.with_name(stem.name + ".csv")))
        for name, rows in d["tables"].items():
            if rows:
                written.append(write_csv(rows, stem.with_name(f"{stem.name}.{name}.csv")))
    return written


def read_result(path: str | Path) -> Result:
    """Read and validate a Result written by ``write_result``."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable Result JSON file ({exc})") from None
    with not_at_birth():  # read back, not born: the report joins the ids with the registry
        validate_result_dict(d, str(path))
        verdicts = [Verdict(**v) for v in d["verdicts"]]
    prov = Provenance(**d["provenance"])
    return Result(experiment=d["experiment"], config=d["config"], provenance=prov,
                  records=d["records"], verdicts=verdicts,
                  tables=d["tables"], schema_version=d["schema_version"])


def write_csv(rows: Iterable[dict], path: str | Path) -> Path:
    """Rows as CSV; the header is the union of keys in first-seen order; lists/dicts as JSON;
    None as an empty cell."""
    rows = [plain(r) for r in rows]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    for r in rows:
        keys.extend(k for k in r if k not in keys)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v
                             for k, v in r.items()})
    return path
