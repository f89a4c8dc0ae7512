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


def test_theory_package_imports_no_torch_sims_or_nets():
    # theory/__init__ promises a pure numpy/scipy/sympy package, and the layering is sims -> nets ->
    # theory: a static scan of every import statement (including ones inside functions) checks both
    # without paying for a subprocess (torch is already loaded in this test session by conftest).
    import ast
    from pathlib import Path

    import theory

    banned = {"torch", "sims", "nets"}
    offenders = []
    for path in sorted(Path(theory.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] in banned]
    assert not offenders, offenders
