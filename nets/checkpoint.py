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
  ``IsADirectoryError``; a whole pickled model (``torch.save(model)``) is refused with one line
  saying to save its ``state_dict()``. A ``.safetensors`` file (the format model hubs ship; found
  by its header, whatever its name) is read with ``safetensors.torch.load_file``, which holds
  tensors only, so the same weights-only guarantee holds. It needs the optional extra
  ``safetensors`` (``pip install 'rmt-pruning[safetensors]'``).
"""
from __future__ import annotations

import io
import json
import os
import re
import struct
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


SAFETENSORS_EXTRA = "safetensors"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def is_safetensors(path: str | Path) -> bool:
    """Whether ``path`` holds a safetensors file: an 8-byte little-endian header length followed by
    a JSON object of that length (the format's definition), whatever the file is called."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(9)
            if len(head) < 9 or head[8:9] != b"{":
                return False
            (n,) = struct.unpack("<Q", head[:8])
            if n > 100_000_000 or n > os.path.getsize(path) - 8:
                return False
            fh.seek(8)
            json.loads(fh.read(n))
            return True
    except (OSError, ValueError):
        return False


def read_safetensors(path: str | Path, what: str = "checkpoint") -> dict[str, torch.Tensor]:
    """The tensors of a ``.safetensors`` file (names -> tensors, on the CPU). The format holds
    tensors and a string-to-string metadata table only, so nothing in it can run code."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise InvalidArgument(f"{what} {path} is a .safetensors file; reading it needs the optional extra "
                              f"{SAFETENSORS_EXTRA!r}: pip install 'rmt-pruning[{SAFETENSORS_EXTRA}]'") from None
    try:
        return load_file(str(path), device="cpu")
    except Exception as exc:  # noqa: BLE001  (SafetensorError, OSError)
        raise InvalidArgument(f"{what} {path} is not a readable .safetensors file "
                              f"({type(exc).__name__}: {_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = _ANSI.sub("", str(exc)).strip()
    return text.splitlines()[0][:200] if text else ""


def read_checkpoint(path: str | Path, what: str = "checkpoint") -> Any:
    """The object stored at ``path``: a ``torch.save`` file loaded with ``weights_only=True``, or
    a ``.safetensors`` file (a dict of tensors). Every failure is one ``InvalidArgument`` line
    naming the path."""
    path = Path(path)
    if not path.exists():
        raise InvalidArgument(f"{what} {path} does not exist")
    if path.is_dir():
        raise InvalidArgument(f"{what} {path} is a directory, not a file written by torch.save")
    if path.suffix == ".safetensors" or is_safetensors(path):
        return read_safetensors(path, what)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  (the reader's errors are many: KeyError, RuntimeError, UnpicklingError...)
        text = _ANSI.sub("", str(exc))
        if "Unsupported global" in text and "torch.nn.modules" in text:
            # torch.save(model): unpickling it would import and run the classes it names
            raise InvalidArgument(f"{what} {path} is a whole pickled model (torch.save(model)); loading it "
                                  "would run code, so it is refused: save model.state_dict() instead "
                                  "(or a .safetensors file)") from None
        raise InvalidArgument(f"{what} {path} is not a readable torch.save file with tensors and plain "
                              f"data only ({type(exc).__name__}: {_first_line(exc)})") from None
