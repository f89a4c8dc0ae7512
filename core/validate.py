"""The one validation helper.

Every public entry point (API and CLI) checks its arguments with these functions before any heavy
work.  Each raises ``ValueError`` whose message names the parameter, the value it got and the valid
range, e.g. ``n must be an integer in [2, 1000000], got 0``.  The CLI layer (``core.cli``) turns
that message into argparse's one-line error with exit status 2.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Sequence

import numpy as np


class InvalidArgument(ValueError):
    """Bad input to a public entry point.  A ``ValueError``, so callers catch it as one; the CLI
    layer turns it (and only it) into a one-line usage error with exit status 2, while any other
    exception keeps its traceback, because it is a bug, not bad input."""


def _range_text(lo, hi, lo_open: bool, hi_open: bool) -> str:
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    lo_s = "-inf" if lo is None else repr(lo)
    hi_s = "inf" if hi is None else repr(hi)
    return f"{left}{lo_s}, {hi_s}{right}"


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """An integer (bools and floats refused, numpy integers accepted) in [lo, hi]."""
    rng = _range_text(lo, hi, False, False)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidArgument(f"{name} must be an integer in {rng}, got {value!r}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise InvalidArgument(f"{name} must be an integer in {rng}, got {value}")
    return value


def check_float(name: str, value: Any, lo: float | None = None, hi: float | None = None, *,
                lo_open: bool = False, hi_open: bool = False, allow_inf: bool = False) -> float:
    """A finite real number (strings, complex, None and NaN refused) in the given interval."""
    rng = _range_text(lo, hi, lo_open, hi_open)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidArgument(f"{name} must be a real number in {rng}, got {value!r}")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise InvalidArgument(f"{name} must be a finite real number in {rng}, got {value}")
    bad_lo = lo is not None and (value <= lo if lo_open else value < lo)
    bad_hi = hi is not None and (value >= hi if hi_open else value > hi)
    if bad_lo or bad_hi:
        raise InvalidArgument(f"{name} must be in {rng}, got {value!r}")
    return value


def check_positive(name: str, value: Any) -> float:
    """A finite real number > 0."""
    return check_float(name, value, 0.0, None, lo_open=True)


def check_probability(name: str, value: Any, *, open_ends: bool = True) -> float:
    """A probability in (0, 1) (or [0, 1] with ``open_ends=False``)."""
    return check_float(name, value, 0.0, 1.0, lo_open=open_ends, hi_open=open_ends)


def check_choice(name: str, value: Any, choices: Iterable) -> Any:
    """One of a fixed set of values."""
    choices = tuple(choices)
    if value not in choices:
        raise InvalidArgument(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_real_array(name: str, value: Any, *, ndim: int | Sequence[int] | None = None,
                     min_size: int = 0, finite: bool = True) -> np.ndarray:
    """A real float64 array: complex input is refused (not cast with a warning), NaN/inf refused
    unless ``finite=False``, and the number of dimensions and size checked."""
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise InvalidArgument(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise InvalidArgument(f"{name} must be real, got a complex array")
    arr = arr.astype(np.float64, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise InvalidArgument(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), "
                             f"got shape {arr.shape}")
    if arr.size < min_size:
        raise InvalidArgument(f"{name} must hold at least {min_size} values, got {arr.size}")
    if finite and not np.all(np.isfinite(arr)):
        raise InvalidArgument(f"{name} must be finite (no NaN or inf)")
    return arr


def check_allocation(name: str, n_elements: float, bytes_per_element: int = 8,
                     limit_bytes: int = 4 * 2**30) -> None:
    """Refuse an allocation that would exceed ``limit_bytes`` before it is attempted."""
    need = float(n_elements) * bytes_per_element
    if not math.isfinite(need) or need > limit_bytes:
        raise InvalidArgument(f"{name} would need {need / 2**30:.3g} GiB (limit "
                         f"{limit_bytes / 2**30:.3g} GiB); ask for fewer elements or chunk the call")
