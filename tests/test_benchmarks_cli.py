"""python -m benchmarks: the CLI through core.cli (help, unknown name -> exit 2)."""
import pytest

from benchmarks import __main__ as bench


def test_help_lists_the_benchmarks(capsys):
    with pytest.raises(SystemExit) as info:
        bench.main(["--help"])
    assert info.value.code == 0
    assert "training" in capsys.readouterr().out


def test_unknown_benchmark_exits_2_naming_the_known_ones(capsys):
    with pytest.raises(SystemExit) as info:
        bench.main(["nosuch"])
    assert info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "names must be among [" in last and "'training'" in last and last.endswith("['nosuch']")
