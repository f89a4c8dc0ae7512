"""Checkpoint files: durable writes, early path checks, and reads that fail with a clear message.

* :func:`durable_write_bytes` / :func:`durable_save`: write to ``NAME.tmp``, flush and ``fsync`` the
  file, ``rename`` it over ``NAME`` (atomic on POSIX), then ``fsync`` the directory so that the
  rename itself survives a power cut.  A kill at any instant leaves either the old or the new file,
  never half of one, and a file whose rename returned is on disk.
* :func:`check_output_dir`: every path problem (the directory is a file, the checkpoint name is a
  directory, the directory cannot be written) found before any training starts, not after an epoch.
* :func:`read_checkpoint`: ``torch.load(weights_only=True)`` (tensors and plain containers only:
  no code runs while loading), with a missing file, a directory, text, random bytes or a truncated
  file reported as ``InvalidArgument`` naming the path instead of ``KeyError: 101`` or
  ``IsADirectoryError``.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from core.validate import InvalidArgument


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms without directory file descriptors (Windows): nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def durable_write_bytes(data: bytes, path: str | Path) -> None:
    """Write ``data`` to ``path`` atomically and durably (see the module docstring)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def durable_save(obj: Any, path: str | Path) -> None:
    """``torch.save(obj)`` to ``path`` atomically and durably."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    durable_write_bytes(buffer.getvalue(), path)


def check_output_dir(directory: str | Path, *files: str) -> Path:
    """Create ``directory`` if needed and check that it is a writable directory in which each of
    ``files`` (and its ``.tmp`` sibling) is not a directory.  Raises InvalidArgument naming the
    path; call it before any expensive work."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InvalidArgument(f"output directory {directory} exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidArgument(f"output directory {directory} cannot be created: {exc.strerror or exc}") from None
    for name in files:
        for candidate in (directory / name, directory / (name + ".tmp")):
            if candidate.is_dir():
                raise InvalidArgument(f"{candidate} is a directory; it must be a file (or absent) "
                                      "to hold the checkpoint")
    probe = directory / ".write-probe.tmp"
    try:
        with open(probe, "wb") as fh:
            fh.write(b"")
        probe.unlink()
    except OSError as exc:
        raise InvalidArgument(f"output directory {directory} is not writable: {exc.strerror or exc}") from None
    return directory


def read_checkpoint(path: str | Path, what: str = "checkpoint") -> Any:
    """The object stored at ``path`` by ``torch.save``, loaded with ``weights_only=True``."""
    path = Path(path)
    if not path.exists():
        raise InvalidArgument(f"{what} {path} does not exist")
    if path.is_dir():
        raise InvalidArgument(f"{what} {path} is a directory, not a file written by torch.save")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  (the reader's errors are many: KeyError, RuntimeError, UnpicklingError...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise InvalidArgument(f"{what} {path} is not a readable torch.save file with tensors and plain "
                              f"data only ({type(exc).__name__}: {first[:200]})") from None
