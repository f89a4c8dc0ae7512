"""What every command line gets from the one CLI layer (core.cli): --version, the output-path
check (create the folder or exit 2 with one line naming the option), --device/--threads on every
Monte Carlo command.  The commands are taken from the experiment registry, so a new or moved
experiment is covered without editing this file."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import cli
from core.result import PACKAGE_ROOT

EXTRA_COMMANDS = ("benchmarks", "nets.train")


def _main_of(module: str):
    """The ``main(argv)`` of a command: its module's, ``theory.__main__``'s, or the typed
    experiments' ``sims.experiment.cli_main``."""
    if module in ("theory", "benchmarks"):
        return importlib.import_module(f"{module}.__main__").main
    mod = importlib.import_module(module)
    if hasattr(mod, "main"):
        return mod.main
    from sims.experiment import cli_main
    return lambda argv: cli_main(module, argv)


def _commands() -> list[str]:
    from sims.registry import EXPERIMENTS
    return [e.module for e in EXPERIMENTS] + list(EXTRA_COMMANDS)


class _Parsed(Exception):
    pass


def _parser_of(module: str, monkeypatch):
    """The parser a command builds (caught when it starts parsing: nothing runs)."""
    def capture(self, args=None, namespace=None):
        raise _Parsed(self)
    monkeypatch.setattr(cli.OneLineParser, "parse_known_args", capture)
    with pytest.raises(_Parsed) as info:
        _main_of(module)([])
    return info.value.args[0]


def _options(parser) -> dict[str, object]:
    return {s: a for a in parser._actions for s in a.option_strings}


@pytest.mark.parametrize("module", _commands())
def test_every_command_has_version_and_checked_output_paths(module, monkeypatch):
    opts = _options(_parser_of(module, monkeypatch))
    assert "--version" in opts
    for name in ("--json", "--out", "--cache"):
        if name in opts:
            action = opts[name]
            assert action.type in cli.OUTPUT_TYPES or action.dest in cli.OUTPUT_NAMES, \
                f"{module} {name} is not checked"


@pytest.mark.parametrize("module", [m for m in _commands() if m.startswith("sims.")])
def test_every_monte_carlo_command_takes_device_and_threads(module, monkeypatch):
    opts = _options(_parser_of(module, monkeypatch))
    assert {"--device", "--threads"} <= set(opts)


def _one_line_exit_2(capsys, main, argv) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("module", _commands())
def test_json_under_a_file_exits_2_with_one_line_naming_the_option(module, tmp_path, capsys):
    a_file = tmp_path / "FILE"
    a_file.write_text("")
    line = _one_line_exit_2(capsys, _main_of(module), ["--json", str(a_file / "x.json")]) \
        if module != "nets.train" else \
        _one_line_exit_2(capsys, _main_of(module), ["--out", str(a_file / "run"), "ex3.2a"])
    option = "--out" if module == "nets.train" else "--json"
    assert f": error: {option} {a_file}" in line
    assert line.endswith(f"{a_file} is a file, not a folder")


def test_pruning_theorem_takes_device_cpu_and_refuses_cuda_in_one_line(capsys):
    """The README says Monte Carlo commands take --device: the CPU-only ones too (cuda refused,
    never silently ignored)."""
    from sims import pruning_theorem
    line = _one_line_exit_2(capsys, pruning_theorem.main, ["--device", "cuda"])
    assert line.startswith("python -m sims.pruning_theorem: error: argument --device:")
    assert "CPU only" in line and "'cuda'" in line
    assert cli.cpu_device("cpu") == "cpu" and cli.cpu_device("auto") == "auto"


# --------------------------------------------------------------------------------- subprocesses
def _python(*args, **kw):
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), COLUMNS="100")
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300,
                          cwd=kw.get("cwd", PACKAGE_ROOT), env=env)


def test_theory_json_into_a_file_or_an_uncreatable_folder_is_one_line_exit_2(tmp_path):
    a_file = tmp_path / "FILE"
    a_file.write_text("")
    # /proc refuses new folders even to root, so this holds for any user
    for target, reason in [(a_file / "x.json", f"{a_file} is a file, not a folder"),
                           (a_file / "deeper" / "x.json", f"{a_file} is a file, not a folder"),
                           (Path("/proc/rmt-no-such-dir/x.json"), "cannot create the folder"),
                           (tmp_path, "is a folder; give a file name")]:
        r = _python("-m", "theory", "--json", str(target))
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert lines[0].startswith(f"python -m theory: error: --json {target}: ")
        assert reason in lines[0]
        assert r.stdout == ""  # refused before anything ran


def test_version_names_the_package_and_exits_0():
    r = _python("-m", "sims.pruning_theorem", "--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("python -m sims.pruning_theorem (rmt-pruning ")
    assert len(r.stdout.strip().splitlines()) == 1


# --------------------------------------------------------------------------------- in process
def test_json_folder_is_created_and_out_dir_itself_is_left_to_the_command(tmp_path, capsys):
    p = cli.make_parser("example", "Example.", options=("json", "out"))
    target = tmp_path / "a" / "b" / "r.json"
    out = tmp_path / "c" / "d"
    args = p.parse_args(["--json", str(target), "--out", str(out)])
    assert target.parent.is_dir() and args.json == target
    # the folder of --out is the command's to create (nets.train --resume tells a new one apart)
    assert out.parent.is_dir() and not out.exists()


def test_output_check_reports_permission_errors_in_one_line(tmp_path, capsys, monkeypatch):
    def refuse(self, *a, **k):
        raise PermissionError(13, "Permission denied", str(self))
    monkeypatch.setattr(Path, "mkdir", refuse)
    p = cli.make_parser("example", "Example.", options=("json",))
    line = _one_line_exit_2(capsys, p.parse_args, ["--json", str(tmp_path / "new" / "r.json")])
    assert line == (f"python -m example: error: --json {tmp_path / 'new' / 'r.json'}: cannot create "
                    f"the folder {tmp_path / 'new'} (Permission denied)")


def test_threads_sets_torch_or_the_environment_before_torch_loads(monkeypatch):
    calls = []
    monkeypatch.setitem(sys.modules, "torch", type("FakeTorch", (), {
        "set_num_threads": staticmethod(calls.append)}))
    cli.apply_threads(2)
    assert calls == [2]
    monkeypatch.delitem(sys.modules, "torch")  # as if the command had not loaded torch yet
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.setenv("MKL_NUM_THREADS", "7")
    cli.apply_threads(3)
    assert os.environ["OMP_NUM_THREADS"] == "3" and os.environ["MKL_NUM_THREADS"] == "3"


def test_closed_pipe_ends_quietly():
    """``python -m theory | head -1``: no BrokenPipeError traceback."""
    r = subprocess.run(f"{sys.executable} -m theory | head -1", shell=True, capture_output=True,
                       text=True, timeout=300, cwd=PACKAGE_ROOT,
                       env=dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT)))
    assert r.stdout.startswith("self-check of the formulas:")
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr
