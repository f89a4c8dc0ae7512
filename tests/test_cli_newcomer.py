"""The command line of every registered experiment as a newcomer meets it (issue 19: flags made
from the typed ``Config`` by ``sims.experiment.cli_parser``): ``--help`` names every flag with its
range and a default a user can type (no ``(default None)`` where a preset applies, no tuple repr);
bad input is one line on stderr naming the parameter and its valid range, exit status 2, before the
experiment's ``run`` is called.  Parametrized over the registry, so a new experiment is covered
without editing this file."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import typing

import pytest

from core.result import PACKAGE_ROOT
from sims import registry
from sims.experiment import cli_main, parse_config, range_text

MODULES = [e.module for e in registry.EXPERIMENTS]


def _flag(f: dataclasses.Field) -> str:
    return "--" + f.name.replace("_", "-")


def _help(module: str, capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        cli_main(module, ["--help"])
    assert exc.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # line wrapping depends on the terminal


def _refusal(module: str, argv: list[str], capsys, monkeypatch) -> str:
    """The one stderr line of ``python -m module argv``, which must exit 2 before ``run``."""
    mod = registry.entries()[module].load()

    def must_not_run(*a, **k):
        raise AssertionError(f"{module}.run was called for bad input {argv}")
    monkeypatch.setattr(mod, "run", must_not_run)
    with pytest.raises(SystemExit) as exc:
        cli_main(module, argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1, err
    assert err[0].startswith(f"python -m {module}: error: ")
    return err[0]


def _scalar(cls, f: dataclasses.Field):
    """The number type of a field: ``int`` for ``int``, ``int | None``, ``tuple[int, ...]``."""
    t = typing.get_type_hints(cls)[f.name]
    while typing.get_args(t):
        t = next(a for a in typing.get_args(t) if a is not type(None))
    return t


def _first_field(module: str, kind, bound: str):
    cls = registry.entries()[module].load().Config
    for f in dataclasses.fields(cls):
        if _scalar(cls, f) is kind and f.metadata.get(bound) is not None \
                and not f.metadata.get("choices"):
            return f
    return None


@pytest.mark.parametrize("module", MODULES)
def test_help_names_every_flag_with_its_range_and_a_typable_default(module, capsys):
    out = _help(module, capsys)
    assert "(default None)" not in out and "default ()" not in out
    assert "(default (" not in out and "(default [" not in out  # tuples as one types them
    assert "--no-quick" not in out  # a switch that is off by default has no --no- form
    cls = registry.entries()[module].load().Config
    for f in dataclasses.fields(cls):
        assert _flag(f) in out, f.name
        rng = range_text(f.metadata)
        if rng and not f.metadata.get("choices"):
            assert rng in out, (f.name, rng)


WITH_LO = [m for m in MODULES if _first_field(m, int, "lo") is not None]
WITH_HI = [m for m in MODULES if _first_field(m, int, "hi") is not None]


def test_most_experiments_have_a_bounded_int_flag():
    assert len(WITH_LO) >= 25 and len(WITH_HI) >= 25  # the two tests below see them


@pytest.mark.parametrize("module", WITH_LO)
def test_first_int_field_below_its_range_is_one_line_naming_the_field(module, capsys, monkeypatch):
    f = _first_field(module, int, "lo")
    line = _refusal(module, [_flag(f), str(f.metadata["lo"] - 1)], capsys, monkeypatch)
    assert f"error: {f.name} must be an integer in [{f.metadata['lo']}, " in line


@pytest.mark.parametrize("module", WITH_HI)
def test_first_int_field_above_its_range_is_one_line_naming_the_field(module, capsys, monkeypatch):
    f = _first_field(module, int, "hi")
    line = _refusal(module, [_flag(f), str(f.metadata["hi"] + 1)], capsys, monkeypatch)
    assert f"error: {f.name} must be an integer in [" in line and f"{f.metadata['hi']}], got" in line


@pytest.mark.parametrize("module", WITH_LO)
def test_a_word_for_a_number_states_the_range(module, capsys, monkeypatch):
    f = _first_field(module, int, "lo")
    line = _refusal(module, [_flag(f), "x1"], capsys, monkeypatch)
    assert f"argument {_flag(f)}: invalid int value: 'x1'; expected an integer " in line
    assert line.endswith(range_text(f.metadata))


@pytest.mark.parametrize("module", MODULES)
def test_an_unknown_flag_is_one_line(module, capsys, monkeypatch):
    line = _refusal(module, ["--no-such-flag"], capsys, monkeypatch)
    assert "unrecognized arguments: --no-such-flag" in line


def test_nan_for_a_float_without_a_declared_range_claims_no_range(capsys, monkeypatch):
    # wigner's spikes must exceed --sigma: no fixed range to declare, so none is claimed
    line = _refusal("sims.wigner", ["--spikes", "nan"], capsys, monkeypatch)
    assert line.endswith("error: spikes must be a finite real number, got nan")
    assert "[-inf, inf]" not in line


def test_open_ranges_declared_once_give_one_message(capsys, monkeypatch):
    # alphas in (0, 1): the declared range and the run's own check say the same thing
    line = _refusal("sims.paper004_theorems", ["--alphas", "0"], capsys, monkeypatch)
    assert line.endswith("error: alphas must be in (0.0, 1.0), got 0.0")
    line = _refusal("sims.spiked_model", ["--ratio", "nan"], capsys, monkeypatch)
    assert line.endswith("error: ratio must be a finite real number in (0.0, 1000.0], got nan")


def test_a_switch_off_by_default_has_no_negative_and_one_on_by_default_has():
    from sims import paper001_examples, spiked_model
    assert parse_config("sims.spiked_model", ["--quick"]) == spiked_model.Config(quick=True)
    with pytest.raises(SystemExit) as exc:
        parse_config("sims.spiked_model", ["--no-quick"])
    assert exc.value.code == 2
    assert parse_config("sims.paper001_examples", ["--no-train"]) == paper001_examples.Config(train=False)


def test_a_missing_dataset_is_one_line_not_a_traceback(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main("sims.posttraining_truncation", ["--data-dir", str(tmp_path), "--quick"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1, err
    assert "error: dataset: fashion_mnist not found" in err[0] and str(tmp_path) in err[0]


@pytest.mark.parametrize("module", [m for m in MODULES
                                    if {"paper", "quick"} <= {f.name for f in dataclasses.fields(
                                        registry.entries()[m].load().Config)}])
def test_paper_and_quick_together_are_refused_at_once(module):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", module, "--paper", "--quick"], capture_output=True,
                       text=True, cwd=PACKAGE_ROOT, env=env, timeout=120)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert "--paper" in lines[0] and "--quick" in lines[0] and not r.stdout.strip()


@pytest.mark.parametrize("module,argv,message", [
    ("sims.shrinkage", ["--sizes"], "sizes must hold at least one value, got ()"),
    ("sims.shrinkage", ["--sizes", "100", "--trials"], "trials must hold at least one value, got ()"),
    ("sims.shrinkage_training", ["--rules"], "rules must be distinct and include 'mp'"),
])
def test_an_empty_list_is_refused_not_taken_as_the_default(module, argv, message):
    # these ran the full default sweep before (an empty list read as "not given"); neither writes
    # a file without --cache, so a regression here costs the timeout, nothing else
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", module, *argv], capture_output=True, text=True,
                       cwd=PACKAGE_ROOT, env=env, timeout=120)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and message in lines[0], r.stderr


def test_the_old_section3_command_says_what_each_subcommand_runs(capsys):
    from sims.section3_commands import SUBCOMMANDS, main
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert exc.value.code == 0
    for name, mod in SUBCOMMANDS.items():
        assert f"{name}: python -m {mod.__name__}" in out


def test_kept_with_only_lemma3_is_a_conflict_not_ignored():
    from core.validate import InvalidArgument
    from sims.qian_klabjan import Config, tables_config
    with pytest.raises(InvalidArgument, match="^kept adds rows to Table 3"):
        tables_config(Config(only="lemma3", kept=True))
    assert tables_config(Config(only="lemma4", kept=True)).kept  # where it applies, it is kept
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "sims.qian_klabjan", "--only", "lemma3", "--kept"],
                       capture_output=True, text=True, cwd=PACKAGE_ROOT, env=env, timeout=120)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "kept" in lines[0] and "lemma3" in lines[0], r.stderr


def test_large_with_the_dense_engine_names_the_conflict_not_an_n_never_given():
    from core.validate import InvalidArgument
    from sims.approximation_lemma import Config, sweep_of
    with pytest.raises(InvalidArgument, match="^engine 'dense' takes N <= 100000, --large's N go to"):
        sweep_of(Config(large=True, engine="dense"))
    assert max(sweep_of(Config(large=True, engine="dense", n=(1000, 2000), trials=(2,))).n) == 2000
