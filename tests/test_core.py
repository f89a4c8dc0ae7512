"""core: the Result format round trip, the validation helper, the CLI layer's exit-2 contract."""
import json
import math

import pytest

from core import cli, result, validate


def _result(**kw):
    prov = result.Provenance.start(argv=["--seed", "3"], module="sims.example", seed=3).stop()
    verdicts = [result.Verdict("000:lemma:4.1", "N=10", "holds", 1.0, [0.5, 1.5], 2.0)]
    return result.Result("sims.example", {"n": 10}, prov,
                         [{"n": 10, "x": float("nan")}], verdicts, **kw)


def test_round_trip_keeps_everything_and_writes_nan_as_null(tmp_path):
    r = _result(tables={"extra": [{"a": 1}]})
    paths = result.write_result(r, tmp_path / "out.json")
    assert [p.name for p in paths] == ["out.json", "out.csv", "out.extra.csv"]
    raw = json.loads(paths[0].read_text())
    assert raw["records"][0]["x"] is None
    assert raw["provenance"]["argv"] == ["python", "-m", "sims.example", "--seed", "3"]
    back = result.read_result(paths[0])
    assert back.verdicts == r.verdicts and back.config == r.config
    assert back.provenance.seed == 3 and back.provenance.wall_s is not None


@pytest.mark.parametrize("bad", [{"claim": "Lemma 4.1"}, {"verdict": "ok"}, {"interval": [1]}])
def test_verdict_rejects_free_text_claims_and_unknown_words(bad):
    kw = dict(claim="000:lemma:4.1", setting="s", verdict="holds")
    kw.update(bad)
    with pytest.raises(ValueError):
        result.Verdict(**kw)


def test_read_rejects_missing_provenance(tmp_path):
    d = _result().to_dict()
    del d["provenance"]["argv"]
    (tmp_path / "x.json").write_text(json.dumps(d))
    with pytest.raises(ValueError, match="argv"):
        result.read_result(tmp_path / "x.json")


@pytest.mark.parametrize("call", [
    lambda: validate.check_int("n", 0, 1, 10),
    lambda: validate.check_int("n", 2.0, 1, 10),
    lambda: validate.check_int("n", True, 0, 10),
    lambda: validate.check_float("sigma", -1.0, 0, None, lo_open=True),
    lambda: validate.check_float("sigma", math.nan),
    lambda: validate.check_float("sigma", "1.0"),
    lambda: validate.check_real_array("x", [1 + 1j]),
    lambda: validate.check_allocation("size", 10**12),
])
def test_validation_names_the_parameter(call):
    with pytest.raises(validate.InvalidArgument) as info:
        call()
    assert info.value.args[0].split()[0] in {"n", "sigma", "x", "size"}


def test_cli_turns_invalid_argument_into_exit_2_and_keeps_bugs(capsys):
    p = cli.make_parser("sims.example", "Example.\n\nMore.", options=("seed", "json"))

    def bad_input(args):
        validate.check_int("n", 0, 1, 10)

    with pytest.raises(SystemExit) as info:
        cli.run(p, [], bad_input)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("n must be an integer in [1, 10], got 0")

    def bug(args):
        raise ValueError("internal")

    with pytest.raises(ValueError, match="internal"):
        cli.run(p, [], bug)


def test_summary_lines_fit_120_characters():
    r = _result()
    r.verdicts[0].setting = "x" * 300
    assert all(len(line) <= cli.SUMMARY_WIDTH for line in cli.summary(r).splitlines())
