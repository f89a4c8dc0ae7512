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


def test_committed_result_argv_parses_in_both_command_lines(monkeypatch):
    """results/theory.json was made by ``python -m theory``; its flags still parse there and into
    the registered unit's Config (sims.theory_self_check, which the registry's argv test cannot
    reach: the Result's argv names ``theory``, not the unit)."""
    import json

    from core import cli
    from core.result import PACKAGE_ROOT
    from sims import theory_self_check
    from sims.experiment import config_argv, parse_config
    argv = json.loads((PACKAGE_ROOT / "results" / "theory.json").read_text())["provenance"]["argv"]
    assert argv[:3] == ["python", "-m", "theory"]
    config = parse_config("sims.theory_self_check", argv[3:])
    assert config == theory_self_check.Config() and config_argv(config) == []
    seen = {}

    def capture(self, args=None, namespace=None):
        seen["parser"] = self
        raise SystemExit(0)
    monkeypatch.setattr(cli.OneLineParser, "parse_known_args", capture)
    with pytest.raises(SystemExit):
        theory_main.main(argv[3:])
    monkeypatch.undo()
    args = seen["parser"].parse_args(argv[3:])
    assert str(args.json) == "results/theory.json"
    opts = {s for a in seen["parser"]._actions for s in a.option_strings}
    assert {"--version", "--json"} <= opts


def test_registered_unit_gives_the_command_lines_result():
    """sims.theory_self_check.run and ``python -m theory`` make the same rows and verdicts."""
    from sims import theory_self_check
    unit = theory_self_check.run(theory_self_check.toy_config())
    command = theory_main.experiment()
    assert unit.experiment == command.experiment == "theory"
    assert unit.records == command.records
    assert [(v.claim, v.verdict, v.setting, v.measured) for v in unit.verdicts] == \
        [(v.claim, v.verdict, v.setting, v.measured) for v in command.verdicts]
