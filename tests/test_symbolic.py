"""Symbolic identities of theory.symbolic (sympy decides each exactly)."""
import pytest
import sympy as sp

from theory import symbolic as S


@pytest.mark.parametrize("name,exprs", list(S.all_checks().items()))
def test_identity_simplifies_to_zero(name, exprs):
    for e in exprs:
        assert sp.simplify(e) == 0, f"{name}: residual {e}"


def test_checks_can_fail():
    # The machinery must detect a wrong identity: the operator-precedence slip (1 + sqrt g)**4/3 that a
    # public BEMA implementation uses is NOT the Johnstone scaling (1 + sqrt g)^(4/3) g^(-1/6) (g = 1: 16/3 vs 2^(4/3)).
    wrong = (1 + sp.sqrt(S.g)) ** 4 / 3 - (1 + sp.sqrt(S.g)) ** sp.Rational(4, 3) * S.g ** sp.Rational(-1, 6)
    assert sp.simplify(wrong.subs(S.g, 1)) != 0
    # and the paper's square formula is not the rectangular one at c = 1/2
    assert sp.simplify(S.singular_value_sq(S.x, sp.Rational(1, 2)) - (1 + S.x) ** 2 / S.x) != 0


def test_self_check_rows_all_ok():
    rows = S.self_check()
    assert rows and all(r["ok"] for r in rows)
