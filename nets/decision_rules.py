"""Decision rules that turn a 95% interval into a verdict word (holds / fails / inconclusive), for
claims of paper 000's Section 3 and Appendix E.2 measured at a reduced (CPU) scale.

A reduced scale (narrower layers, fewer training images) lowers what a net reaches, so an absolute
accuracy level is decided asymmetrically: reaching a claimed level even at the reduced scale
supports a "reaches X%" claim, and exceeding a claimed ceiling at the reduced scale refutes a
"never exceeds X%" claim, while the opposite observations are explained by the scale and leave the
claim open (inconclusive, the paper-scale run decides).  Comparisons between two arms at the same
scale (signs, equivalence) are decided symmetrically.
"""
from __future__ import annotations

import math

WORDS = ("holds", "fails", "inconclusive")


def _finite(*xs) -> bool:
    return all(x is not None and math.isfinite(x) for x in xs)


def sign(lo: float, hi: float, want_positive: bool = True) -> str:
    """holds when the interval excludes 0 on the claimed side, fails when it excludes 0 on the other."""
    if not _finite(lo, hi):
        return "inconclusive"
    if want_positive:
        return "holds" if lo > 0 else ("fails" if hi < 0 else "inconclusive")
    return "holds" if hi < 0 else ("fails" if lo > 0 else "inconclusive")


def level_reached_at_reduced_scale(lo: float, hi: float, level: float) -> str:
    """A claim "reaches ``level``" measured at a reduced scale: holds when the whole interval is at or
    above the level; otherwise inconclusive (a shortfall at reduced scale does not refute it)."""
    if not _finite(lo, hi):
        return "inconclusive"
    return "holds" if lo >= level else "inconclusive"


def ceiling_at_reduced_scale(lo: float, hi: float, ceiling: float) -> str:
    """A claim "never exceeds ``ceiling``" measured at a reduced scale: fails when the whole interval
    lies above the ceiling (exceeded even with less capacity and data); otherwise inconclusive
    (staying below at reduced scale does not show it stays below at the paper's scale)."""
    if not _finite(lo, hi):
        return "inconclusive"
    return "fails" if lo > ceiling else "inconclusive"


def equivalent(lo: float, hi: float, margin: float) -> str:
    """"Comparable": holds when the interval of the difference lies inside [-margin, margin], fails
    when it lies wholly outside it, inconclusive otherwise."""
    if not _finite(lo, hi) or margin < 0:
        return "inconclusive"
    if -margin <= lo and hi <= margin:
        return "holds"
    if hi < -margin or lo > margin:
        return "fails"
    return "inconclusive"


def all_parts(words) -> str:
    """A claim made of several parts: holds when every part holds, fails when any part fails."""
    words = list(words)
    if any(w not in WORDS for w in words):
        raise ValueError(f"verdict words must be among {WORDS}, got {words}")
    if words and all(w == "holds" for w in words):
        return "holds"
    return "fails" if "fails" in words else "inconclusive"


def every_seed(values, predicate) -> bool:
    """True when ``values`` is non-empty and ``predicate`` holds for each (a one-seed rule that
    says so in its note)."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    return bool(values) and all(predicate(v) for v in values)
