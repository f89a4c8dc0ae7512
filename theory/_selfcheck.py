"""One row of a module's ``self_check()`` table (collected by ``python -m theory``)."""
from __future__ import annotations


def check_row(check: str, value, reference, tol: float = 1e-12, ok: bool | None = None) -> dict:
    """Compare ``value`` with an independent ``reference``; ok when the error is within ``tol``
    relative to max(1, |reference|), unless ``ok`` is given explicitly."""
    value, reference = float(value), float(reference)
    error = abs(value - reference)
    if ok is None:
        ok = error <= tol * max(1.0, abs(reference))
    return dict(check=check, value=value, reference=reference, error=error, ok=bool(ok))
