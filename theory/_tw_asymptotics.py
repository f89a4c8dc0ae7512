"""Left-tail asymptotic series of F_1, F_2, F_4 (used by theory.tracy_widom left of the tables).

Hastings-McLeod solution q of Painleve II, q'' = x q + 2 q^3, q(x) ~ Ai(x) as x -> +inf; for
x = -t -> -inf it has the asymptotic series (Hastings & McLeod 1980; coefficients obtained by
substituting the series into the equation, order by order; re-derived in tests/test_tracy_widom.py)

    q(-t) ~ sqrt(t / 2) (1 + sum_{n>=1} a_n t^{-3n}),  a = -1/8, -73/128, -10657/1024, ...

Tracy & Widom (1994, 1996): (log F_2)'' = -q^2, and log F_1 = (log F_2)/2 - (1/2) int_x^inf q,
log det(I + A) = (log F_2)/2 + (1/2) int_x^inf q. Integrating the series twice (once for int q) gives,
with L_2(t) = log F_2(-t), I(t) = int_{-t}^inf q:

    L_2(t) = -t^3/12 - (1/8) log t + c_2 + sum_{k>=2} -(b_k / 2) t^{3-3k} / ((2-3k)(3-3k)),
    I(t)   = (sqrt 2 / 3) t^{3/2} + (1/2) log 2 + sum_{n>=1} a_n t^{3/2-3n} / (sqrt 2 (3/2 - 3n)),

where b_k are the coefficients of (1 + sum a_n u^n)^2, c_2 = (1/24) log 2 + zeta'(-1) (Deift, Its &
Krasovsky, Ann. Math. 2008) and the constant (1/2) log 2 of I follows from the F_1 constant
-(11/48) log 2 + zeta'(-1)/2 (Baik, Buckingham & DiFranco, CMP 280 (2008)): c_1 = c_2/2 - (1/2) log 2/2.
The linear term of L_2 vanishes (no t term: Deift-Its-Krasovsky). F_4 in the Tracy-Widom 1996
scaling (theory._tw_quadrature): log F_4(t) = L_2(tau)/2 + log cosh(I(tau)/2), tau = -sqrt(2) t.

The series are asymptotic: the error after K = 10 terms is below ~1e-10 in log F for -s >= 6.5 and
below ~1e-12 for -s >= 9 (size of the next terms), so they are used only left of the tables, where
the double-precision quadrature is worse (its relative error grows like eps / (1 - lambda_max)).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

# a_1..a_10 of q(-t) ~ sqrt(t/2) (1 + sum a_n t^{-3n}).
Q_SERIES = tuple(Fraction(x) for x in (
    "-1/8", "-73/128", "-10657/1024", "-13912277/32768", "-8045883943/262144",
    "-14518451390349/4194304", "-18847128706420641/33554432",
    "-266287398541797779277/2147483648", "-614077537500104697967243/17179869184",
    "-3583820408994355704357070999/274877906944",
))
ZETA_PRIME_MINUS_1 = -0.16542114370045092  # zeta'(-1) = 1/12 - log(Glaisher's constant)
C2 = np.log(2.0) / 24.0 + ZETA_PRIME_MINUS_1
C_INT_Q = 0.5 * np.log(2.0)
SQRT2 = float(np.sqrt(2.0))


def _square_coefficients() -> tuple[float, ...]:
    a = (Fraction(1),) + Q_SERIES
    return tuple(float(sum((a[i] * a[k - i] for i in range(k + 1)), Fraction(0))) for k in range(len(a)))


_A = np.array([float(x) for x in Q_SERIES])
_B = np.array(_square_coefficients())
_K = np.arange(2, len(_B))  # k >= 2 terms of L_2: coefficient of t^{3-3k} = u^{k-1}, u = t^{-3}
_N = np.arange(1, len(_A) + 1)  # a_n multiplies u^n
_L2_COEF = -_B[_K] / 2.0 / ((2.0 - 3.0 * _K) * (3.0 - 3.0 * _K))
_DL2_COEF = _L2_COEF * (3.0 - 3.0 * _K)
_I_COEF = _A / (1.5 - 3.0 * _N) / SQRT2


def _powers(t):
    """u^1..u^10 of u = t^{-3}, one row per point (a cumulative product: no pow calls)."""
    u = t ** -3.0
    return np.cumprod(np.broadcast_to(u[:, None], (t.size, len(_A))), axis=1)


def _l2(t, V, with_derivative):
    """(L_2(t), dL_2/dt or None) for t > 0 (arrays), V = _powers(t)."""
    val = -t**3 / 12.0 - np.log(t) / 8.0 + C2 + V[:, : len(_K)] @ _L2_COEF
    if not with_derivative:
        return val, None
    return val, -t**2 / 4.0 - 1.0 / (8.0 * t) + (V[:, : len(_K)] @ _DL2_COEF) / t


def _int_q(t, V, with_derivative):
    """(I(t), dI/dt = q(-t) or None) for t > 0, V = _powers(t)."""
    val = SQRT2 / 3.0 * t**1.5 + C_INT_Q + t**1.5 * (V @ _I_COEF)
    if not with_derivative:
        return val, None
    return val, np.sqrt(t / 2.0) * (1.0 + V @ _A)


def left_tail(s, beta: int, with_derivative: bool = True):
    """(-log F_beta(s), d/ds log F_beta(s) or None) from the series, for s < 0 (1-d arrays)."""
    s = np.asarray(s, dtype=float)
    t = -SQRT2 * s if beta == 4 else -s
    V = _powers(t)
    l2, dl2 = _l2(t, V, with_derivative)
    if beta == 2:
        return -l2, (-dl2 if with_derivative else None)
    i, di = _int_q(t, V, with_derivative)
    if beta == 1:
        return -(l2 - i) / 2.0, (-(dl2 - di) / 2.0 if with_derivative else None)
    # beta = 4: log F_4 = L_2/2 + log cosh(I/2) at tau = t; d/ds = -sqrt(2) d/dtau
    neg_log = -(l2 / 2.0 + i / 2.0 + np.log1p(np.exp(-i)) - np.log(2.0))
    if not with_derivative:
        return neg_log, None
    return neg_log, -SQRT2 * (dl2 / 2.0 + np.tanh(i / 2.0) * di / 2.0)
