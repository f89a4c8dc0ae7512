"""Where figures and the report find their data: committed Results under ``results/``.

A committed Result is ``results/<name>.json`` (CSV tables beside it), written by the command in its
provenance (``provenance.argv``), e.g. ``python -m sims.spiked_model --json
results/spiked_model.json``.  Figures never run experiments: when the file is missing they raise
``MissingResult``, which names the command that makes it.
"""
from __future__ import annotations

from pathlib import Path

from core.result import PACKAGE_ROOT, Result, read_result

RESULTS_DIR = PACKAGE_ROOT / "results"


class MissingResult(FileNotFoundError):
    def __init__(self, path: Path, command: str):
        super().__init__(f"{path} is missing; make it with: {command}")
        self.path, self.command = path, command


def results_dir(args) -> Path | None:
    """The ``--results`` folder of a figure call (``args.results``; ``args.results_dir`` is the
    older spelling), None for the default ``results/``."""
    return getattr(args, "results", None) or getattr(args, "results_dir", None)


def load_result(name: str, command: str, results_dir: Path | None = None) -> Result:
    """Read ``<results_dir>/<name>.json``; ``command`` is what makes it (said when it is missing)."""
    path = Path(results_dir or RESULTS_DIR) / f"{name}.json"
    if not path.exists():
        raise MissingResult(path, command)
    return read_result(path)
