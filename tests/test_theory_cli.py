"""python -m theory: help, the self-check as a Result, verdicts only for rows that check a claim."""
import pytest

from core.result import read_result
from theory import __main__ as theory_main


def test_help_prints_help_and_does_not_run_the_check(capsys, monkeypatch):
    monkeypatch.setattr(theory_main, "collect_rows", lambda: pytest.fail("check ran on --help"))
    with pytest.raises(SystemExit) as info:
        theory_main.main(["--help"])
    assert info.value.code == 0
    assert "self-check" in capsys.readouterr().out


def test_unknown_option_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        theory_main.main(["--bogus"])
    assert info.value.code == 2


def test_every_paper_claim_row_exists():
    """A renamed self-check row would silently drop its verdict: every key must match a row."""
    rows = {(r["module"], r["check"]) for r in theory_main.collect_rows()}
    assert set(theory_main.PAPER_CLAIMS) <= rows


def test_result_written_and_verdicts_follow_rows(tmp_path):
    path = tmp_path / "theory.json"
    assert theory_main.main(["--json", str(path)]) == 0
    res = read_result(path)
    assert res.experiment == "theory" and res.provenance.argv == ["python", "-m", "theory", "--json",
                                                                  str(path)]
    assert res.records and all(r["table"] == "self_check" for r in res.records)
    expected = sum(len(v) for k, v in theory_main.PAPER_CLAIMS.items())
    assert len(res.verdicts) == expected
    # a row that is not ok never yields holds/fails: the check broke, the claim is undecided
    broken = [dict(r, ok=False) for r in res.records]
    assert {v.verdict for v in theory_main.verdicts_from_rows(broken)} == {"inconclusive"}


def test_exit_status_1_when_a_row_fails(monkeypatch, capsys):
    rows = [dict(table="self_check", module="m", check="c", value=1.0, reference=2.0, error=1.0,
                 ok=False)]
    monkeypatch.setattr(theory_main, "collect_rows", lambda: rows)
    assert theory_main.main([]) == 1
    assert "NOT OK" in capsys.readouterr().out


def test_paper_claim_ids_are_in_the_registry():
    from core.claims import registry
    ids = {claim for rows in theory_main.PAPER_CLAIMS.values() for claim, *_ in rows}
    assert ids <= set(registry())
