"""The Approximation Lemma (paper 000, Lemma B.2 and (B.14)) for every shrinkage rule: derived limits.

Setting (``theory.approximation_symbolic``).  W = R + S, S = sum_i theta_i u_i v_i^T with spikes above
the threshold c^{1/4}.  A rule eta replaces each outlier singular value sigma'_i of W by eta(sigma'_i)
and every other singular value by 0:  W_eta = sum_i eta_i u'_i v'_i^T.  Exactly as for (B.14),
W_eta - S is (up to o(1)) a direct sum of one 2 x 2 block per spike, on span{v_i, y_i} ->
span{u_i, x_i}:

    M_i = [[eta a b - theta,  eta a b_perp],
           [eta a_perp b,     eta a_perp b_perp]],     a^2 -> g_u, b^2 -> g_v  (A.4),

(the block of ``approximation_symbolic.block_matrix`` with sigma' replaced by eta).  Hence, almost
surely,

    ||W_eta - S||_2 -> max_i s_max(M_i),        ||W_eta - S||_F^2 -> sum_i ||M_i||_F^2,

    ||M||_F^2 = eta^2 + theta^2 - 2 eta theta a b,   |det M| = eta theta a_perp b_perp,
    s_max(M)^2 = (||M||_F^2 + sqrt(||M||_F^4 - 4 det^2)) / 2,

and a spike the rule drops (eta = 0, or theta at or below the threshold) contributes theta_i to both
(the block is -theta e_1 e_1^T).  The functions below redo each step in sympy in the papers' units
(``theory.shrinkage``: x, beta, cosines c (small side), c~ (large side)), then map to the package's
units (R ~ N(0, 1/N), c = M/N): eta_pkg = unit eta(s/unit), unit = sqrt(max(1, c)).

Results (square, package units, per spike theta > 1; each asserted in ``self_check`` and the tests):

* truncation at the edge (paper 000, Algorithm 3; eta = sigma'):  F^2 = 2 + 3/theta^2 (sup 5 at
  theta -> 1: GD14's "TSVD guarantee 5 n r sigma^2"), s_max as in approximation_symbolic
  (~ 1 + 1/(2 theta));
* GD14 hard threshold 4/sqrt 3: F^2 = 2 + 3/theta^2 above theta* = sqrt 3, theta^2 below
  (sup 3: GD14's "3 n r sigma^2");
* Frobenius shrinker: F^2 = theta^2 (1 - g_u g_v) = 2 - 1/theta^2 (sup 2: GD17's "2 n r sigma^2");
* operator shrinker (corrected, ``theory.shrinkage``): s_max = theta sqrt(1 - min(g_u, g_v)) for any
  ratio, = 1 EXACTLY in the square case; in general sqrt((theta^2 + c)/(theta^2 + 1)) for c <= 1 and
  sqrt(c (theta^2 + 1)/(theta^2 + c)) for c >= 1.  This is the smallest operator-norm limit any
  shrinker of the outlier singular values can reach (lower bound x max(s, s~) of ``theory.
  shrinkage``), and it is the value f_W ~ 1 that paper 000 intended in (B.14) and Fig 4.3.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp

from core.validate import InvalidArgument, check_choice, check_float, check_real_array
from theory import shrinkage as sh
from theory import spiked
from theory._selfcheck import check_row

__all__ = ["LIMIT_RULES", "NORMS", "per_spike_limits", "shrunk_error_limit", "rule_eta",
           "papers_block", "frobenius_optimum", "nuclear_optimum", "operator_optimum",
           "square_closed_forms", "self_check"]

LIMIT_RULES = ("truncate", "gd_threshold", "frobenius", "operator", "nuclear", "debias", "optshrink")
NORMS = ("operator", "frobenius")

X, BETA, ETA = sp.symbols("x beta eta", positive=True)


# ----------------------------------------------------------------------------- sympy derivation
@lru_cache(maxsize=None)
def papers_block():
    """(c, c~, s, s~, y, F^2(eta), det(eta)) in the papers' units: the block
    eta a' b'^T - x e_1 e_1^T with a' = (c, s) (small side), b' = (c~, s~) (large side)."""
    c = sp.sqrt((X**4 - BETA) / (X**4 + BETA * X**2))
    ct = sp.sqrt((X**4 - BETA) / (X**4 + X**2))
    s = sp.sqrt(BETA * (X**2 + 1) / (X**2 * (X**2 + BETA)))     # = sqrt(1 - c^2)
    st = sp.sqrt((X**2 + BETA) / (X**2 * (X**2 + 1)))           # = sqrt(1 - c~^2)
    y = sp.sqrt((1 + X**2) * (BETA + X**2)) / X
    A = sp.Matrix([[ETA * c * ct - X, ETA * c * st], [ETA * s * ct, ETA * s * st]])
    F2 = sp.expand((A.T * A).trace())
    det = sp.simplify(A.det())
    return c, ct, s, st, y, F2, det


@lru_cache(maxsize=None)
def frobenius_optimum():
    """argmin_eta F^2 = x c c~, its closed form in y, and the minimal F^2 = x^2 (1 - c^2 c~^2)."""
    c, ct, s, st, y, F2, _ = papers_block()
    eta = sp.solve(sp.diff(F2, ETA), ETA)[0]
    closed = sp.sqrt((y**2 - BETA - 1) ** 2 - 4 * BETA) / y
    return sp.simplify(eta), closed, sp.simplify(F2.subs(ETA, eta))


@lru_cache(maxsize=None)
def nuclear_optimum():
    """argmin_eta (F^2 + 2 |det|) = x (c c~ - s s~) (eta >= 0) and GD17's closed form in (x, y)."""
    c, ct, s, st, y, F2, det = papers_block()
    nuc2 = F2 + 2 * X * ETA * s * st           # |det| = x eta s s~ for eta >= 0
    eta = sp.solve(sp.diff(nuc2, ETA), ETA)[0]
    closed = (X**4 - BETA - sp.sqrt(BETA) * X * y) / (X**2 * y)
    return sp.simplify(eta), closed


@lru_cache(maxsize=None)
def operator_optimum():
    """(eta* = x c~/c, s_max(eta*)^2, the lower bound x^2 s~^2, s~^2 - s^2): s_max(eta)^2 >= x^2 max(s,
    s~)^2 for every eta (the unit vectors orthogonal to a' and b' are mapped to -x s e_1 and -x s~ e_1),
    and eta* attains it."""
    c, ct, s, st, y, F2, det = papers_block()
    eta = X * ct / c
    F2s = sp.simplify(F2.subs(ETA, eta))
    det2 = sp.simplify((det**2).subs(ETA, eta))
    disc = sp.simplify(F2s**2 - 4 * det2)
    top2 = (F2s + sp.sqrt(sp.factor(disc))) / 2
    return sp.simplify(eta), top2, X**2 * st**2, sp.simplify(st**2 - s**2)


@lru_cache(maxsize=None)
def square_closed_forms():
    """Per-spike limits in the square case (beta = 1, package units = papers' units, theta = x):
    dict rule -> (F^2, s_max^2) as sympy expressions in theta (theta > 1)."""
    th = sp.symbols("theta", positive=True)
    c, ct, s, st, y, F2, det = papers_block()
    sub = {BETA: 1, X: th}

    def invariants(eta):
        f2 = sp.simplify(F2.subs(ETA, eta).subs(sub))
        d2 = sp.simplify((det**2).subs(ETA, eta).subs(sub))
        return f2, sp.simplify((f2 + sp.sqrt(sp.expand(f2**2 - 4 * d2))) / 2)

    ys = sp.simplify(y.subs(sub))
    eta_f, _, _ = frobenius_optimum()
    out = {"truncate": invariants(ys), "frobenius": invariants(sp.simplify(eta_f.subs(sub))),
           "operator": invariants(sp.simplify((X * ct / c).subs(sub)))}
    return th, out


# ----------------------------------------------------------------------------- numeric limits
def rule_eta(y, beta, rule: str):
    """The rule on a papers'-units singular value y >= 0 (0 at or below its threshold)."""
    rule = check_choice("rule", rule, LIMIT_RULES)
    y = np.asarray(y, dtype=float)
    edge = 1 + math.sqrt(beta)
    if rule == "truncate":
        return np.where(y > edge, y, 0.0)
    if rule == "gd_threshold":
        return np.where(y > sh.gd_threshold_coefficient(beta), y, 0.0)
    if rule == "debias":
        return np.asarray(sh.debias_shrinker(y, beta))
    # OptShrink estimates the Frobenius-optimal weights consistently (N14, Theorem on -2D/D')
    return np.asarray(sh.optimal_shrinker(y, beta, "frobenius" if rule == "optshrink" else rule))


def per_spike_limits(theta, ratio, rule: str):
    """Per spike (a.s. limit of s_max(M_i), of ||M_i||_F^2, of eta_i) in package units (R ~ N(0, 1/N),
    c = ratio = M/N).  Spikes at or below c^{1/4} or dropped by the rule give (theta, theta^2, 0)."""
    th = check_real_array("theta", theta, ndim=(0, 1), min_size=1)
    th = np.atleast_1d(th)
    if np.any(th <= 0):
        raise InvalidArgument(f"theta must be > 0 (singular values of S), got {th.tolist()}")
    c = check_float("ratio", ratio, 0.0, None, lo_open=True)
    rule = check_choice("rule", rule, LIMIT_RULES)
    beta = min(c, 1 / c)
    unit = math.sqrt(max(1.0, c))
    above = th > c**0.25
    y = np.asarray(spiked.singular_value_limit(th, c), dtype=float).reshape(th.shape)
    g_u, g_v = (np.asarray(g, dtype=float).reshape(th.shape) for g in spiked.overlap_limits(th, c))
    eta = np.where(above, unit * rule_eta(y / unit, beta, rule), 0.0)
    a, b = np.sqrt(g_u), np.sqrt(g_v)
    ap, bp = np.sqrt(np.maximum(1 - g_u, 0.0)), np.sqrt(np.maximum(1 - g_v, 0.0))
    f2 = eta**2 + th**2 - 2 * eta * th * a * b
    # s_max from LAPACK on the explicit blocks: (F^2 + sqrt(F^4 - 4 det^2))/2 loses half the digits
    # where the two singular values coincide (the square operator rule: both are 1)
    blocks = np.stack([np.stack([eta * a * b - th, eta * a * bp], -1),
                       np.stack([eta * ap * b, eta * ap * bp], -1)], -2)
    top = np.linalg.svd(blocks, compute_uv=False)[..., 0]
    return np.where(eta > 0, top, th), np.where(eta > 0, f2, th**2), eta


def shrunk_error_limit(theta, ratio, rule: str, norm: str) -> float:
    """Almost-sure limit of ||W_eta - S|| for W = R + S (R N x M, iid N(0, 1/N), c = ratio = M/N),
    S with singular values ``theta`` (a number or a vector), the rule ``rule`` (``LIMIT_RULES``;
    "optshrink" has the Frobenius shrinker's limit) and ``norm`` in {"operator", "frobenius"}:
    max_i s_max(M_i), resp. sqrt(sum_i ||M_i||_F^2) (module docstring).  Bulk singular values are
    assumed dropped (any fixed eps > 0 above the edge; see ``theory.shrinkage``)."""
    norm = check_choice("norm", norm, NORMS)
    top, f2, _ = per_spike_limits(theta, ratio, rule)
    return float(top.max()) if norm == "operator" else float(np.sqrt(f2.sum()))


# ----------------------------------------------------------------------------- self check
def self_check() -> list[dict]:
    rows = []

    def row(check, value, reference, tol=1e-10, ok=None):
        rows.append(check_row(check, value, reference, tol=tol, ok=ok))

    pts = {X: sp.Rational(17, 10), BETA: sp.Rational(3, 10)}
    eta_f, closed_f, _ = frobenius_optimum()
    row("sympy: Frobenius argmin x c c~ == sqrt((y^2-b-1)^2-4b)/y", float(eta_f.subs(pts)),
        float(closed_f.subs(pts)))
    eta_n, closed_n = nuclear_optimum()
    row("sympy: nuclear argmin x(cc~-ss~) == GD17 closed form", float(eta_n.subs(pts)),
        float(closed_n.subs(pts)))
    eta_o, top2, bound2, gap = operator_optimum()
    row("sympy: s_max(x c~/c)^2 == x^2 s~^2 (attains the lower bound)", float(top2.subs(pts)),
        float(bound2.subs(pts)))
    row("sympy: s~^2 - s^2 = c^2 - c~^2 >= 0 (beta <= 1)", float(gap.subs(pts)),
        float(gap.subs(pts)), ok=float(gap.subs(pts)) >= 0)
    th, forms = square_closed_forms()
    row("square truncate: F^2 == 2 + 3/theta^2 (theta=2)", float(forms["truncate"][0].subs(th, 2)),
        2 + 3 / 4)
    row("square frobenius: F^2 == 2 - 1/theta^2 (theta=2)", float(forms["frobenius"][0].subs(th, 2)),
        2 - 1 / 4)
    row("square operator: s_max^2 == 1 (theta=2)", float(forms["operator"][1].subs(th, 2)), 1.0)
    row("numeric vs sympy: truncate op limit, square theta=2",
        shrunk_error_limit(2.0, 1.0, "truncate", "operator"),
        math.sqrt(float(forms["truncate"][1].subs(th, 2))))
    return rows
