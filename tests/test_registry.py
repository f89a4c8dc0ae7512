"""sims.registry: checked_by in core/claims.json is the experiments' declarations; claim ids are
checked when a verdict is born; every typed experiment runs at toy size into a valid Result."""
from __future__ import annotations

import json

import pytest

from core import claims as claims_mod
from core.result import Provenance, Result, Verdict, read_result, validate_result_dict, write_result
from sims import registry

TYPED = [e.module for e in registry.EXPERIMENTS]


def test_checked_by_is_exactly_the_declarations():
    claims = claims_mod.registry()
    declared: dict[str, set[str]] = {}
    for e in registry.EXPERIMENTS:
        declared.setdefault(e.checked_by, set()).update(e.claims)
    listed: dict[str, set[str]] = {}
    for c in claims.values():
        for name in c.checked_by:
            listed.setdefault(name, set()).add(c.id)
    problems = []
    for name in sorted(set(declared) | set(listed)):
        missing = sorted(declared.get(name, set()) - listed.get(name, set()))
        extra = sorted(listed.get(name, set()) - declared.get(name, set()))
        if name not in declared:
            problems.append(f"core/claims.json names {name} in checked_by, but no registered experiment "
                            f"is listed under that name (sims/registry.py)")
        elif missing or extra:
            problems.append(f"{name}: declared but not in checked_by {missing}; in checked_by but not "
                            f"declared {extra}")
    assert not problems, "\n".join(problems)


def test_registry_modules_are_unique_and_declare_registered_ids():
    modules = [e.module for e in registry.EXPERIMENTS]
    assert len(modules) == len(set(modules))
    known = set(claims_mod.registry())
    for e in registry.EXPERIMENTS:
        assert set(e.claims) <= known, e.module
        assert len(set(e.claims)) == len(e.claims), e.module


def test_a_verdict_on_an_undeclared_or_unknown_claim_fails_at_birth():
    registry.declare_all()
    with claims_mod.checking_claims_of("sims.wigner"):
        Verdict("000:eq:4.25", "s", "holds")                         # declared: fine
        with pytest.raises(ValueError, match="did not declare"):
            Verdict("000:lemma:4.1", "s", "holds")                   # in the registry, not declared
        with pytest.raises(ValueError, match="not in the registry"):
            Verdict("000:lemma:9.9", "s", "holds")                   # well formed, not registered
    Verdict("000:lemma:9.9", "s", "holds")  # outside a run: only the shape is checked


def test_a_verdict_mutated_after_birth_is_caught_when_written(tmp_path):
    registry.declare_all()
    with claims_mod.checking_claims_of("sims.wigner"):
        v = Verdict("000:eq:4.25", "s", "holds")
        v.claim = "000:lemma:4.1"
        r = Result("sims.wigner", {}, Provenance.start(argv=[]).stop(), [], [v])
        with pytest.raises(ValueError, match="did not declare"):
            write_result(r, tmp_path / "x.json")


def test_stored_results_read_back_inside_a_run_are_not_reborn(tmp_path):
    r = Result("sims.x", {}, Provenance.start(argv=[]).stop(), [], [Verdict("000:lemma:4.1", "s", "holds")])
    write_result(r, tmp_path / "x.json")
    registry.declare_all()
    with claims_mod.checking_claims_of("sims.wigner"):
        assert read_result(tmp_path / "x.json").verdicts[0].claim == "000:lemma:4.1"


def test_an_unregistered_experiment_cannot_open_a_run():
    from sims.experiment import ExperimentRun
    with pytest.raises(ValueError, match="not a registered experiment"):
        with ExperimentRun("sims.not_registered", device="cpu"):
            pass


def test_list_names_every_experiment_and_its_claims(capsys):
    from sims.__main__ import main
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for e in registry.EXPERIMENTS:
        assert e.module in out
        assert all(c in out for c in e.claims)


def _tiny_config(name, **kw):
    """Every paired-run config at toy size (widths / 100, 200 images, 8 epochs, a pruning round at
    epoch 7): the numbers mean nothing, the plumbing is checked."""
    from nets.configs import get_config
    cfg = get_config(name, "cpu", width_divisor=100, n_train=200, n_test=200)
    cfg.epochs = 8 if cfg.model["kind"] == "mlp" else 2
    if cfg.model["kind"] == "cnn":
        cfg.model["conv_channels"] = [1, 2, 2, 2, 2]
        cfg.model["fc_topology"] = [2 * 81, 16, 16, 16, 10]
    if cfg.pruning:
        cfg.pruning["every"] = min(cfg.pruning["every"], 7)
    return cfg


@pytest.mark.parametrize("module", TYPED)
def test_every_typed_experiment_runs_at_toy_size(module, tmp_path, monkeypatch):
    """The experiment's toy config end to end: a Result that passes the schema, named for the
    experiment, whose verdicts carry only declared claims (the birth check would have raised)."""
    from sims import paired_runs
    monkeypatch.setattr(paired_runs, "cpu_config", _tiny_config)
    import importlib.util

    from core.validate import InvalidArgument
    entry = registry.entries()[module]
    mod = entry.load()
    config = mod.toy_config(tmp_path)
    if entry.extra and importlib.util.find_spec(entry.extra) is None:
        # without its optional extra the run must be refused in one line naming it, before any work
        with pytest.raises(InvalidArgument, match=f"{entry.extra} is not installed"):
            mod.run(config)
        return
    result = mod.run(config)
    d = json.loads(json.dumps(result.to_dict()))
    validate_result_dict(d, module)
    assert result.experiment == getattr(mod, "RESULT_NAME", module)
    assert result.experiment.startswith(entry.checked_by)  # the report joins it with checked_by
    assert {v.claim for v in result.verdicts} <= set(entry.claims)
    assert result.verdicts or not entry.claims


@pytest.mark.parametrize("module", TYPED)
def test_every_typed_config_field_is_a_flag(module, capsys):
    """The flags of ``python -m <module>`` are its Config's fields (one place to declare them)."""
    import dataclasses

    from sims.experiment import cli_main
    mod = registry.entries()[module].load()
    with pytest.raises(SystemExit) as exc:
        cli_main(module, ["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for f in dataclasses.fields(mod.Config):
        assert "--" + f.name.replace("_", "-") in out, f.name


def test_a_config_out_of_range_is_refused_with_the_field_name():
    from core.validate import InvalidArgument
    from sims import example_3_2
    from sims.experiment import validate_config
    with pytest.raises(InvalidArgument, match="^seeds must be an integer in \\[2, 1000\\], got 1"):
        validate_config(example_3_2.Config(seeds=1))
    with pytest.raises(InvalidArgument, match="^topology must be one of"):
        validate_config(example_3_2.Config(topology="d"))
    with pytest.raises(InvalidArgument, match="^control_seeds must be an integer"):
        validate_config(example_3_2.Config(control_seeds=(5, 0)))
    validate_config(example_3_2.Config(n_test=None))  # optional: None allowed


def _committed_commands():
    """(Result path, module, flags) of every committed Result whose provenance argv runs a typed
    registered experiment (``python -m <module> ...``)."""
    from pathlib import Path
    out = []
    for path in sorted(Path(__file__).resolve().parent.parent.glob("results/**/*.json")):
        try:
            argv = json.loads(path.read_text()).get("provenance", {}).get("argv") or []
        except (ValueError, AttributeError):
            continue
        if len(argv) >= 3 and argv[1] == "-m" and argv[2] in TYPED:
            out.append((path.name, argv[2], argv[3:]))
    return out


@pytest.mark.parametrize("name,module,flags", _committed_commands(),
                         ids=[c[0] for c in _committed_commands()])
def test_committed_results_argv_still_parses_into_the_config(name, module, flags):
    """A committed Result's provenance argv still names valid flags of its experiment's Config,
    and the config it gives prints back as flags that give the same config (so the Makefile's
    reproduce line reruns what was run).  Flags the shared parser owns (--json, --threads, ...)
    are dropped by the round trip, not by this test."""
    from sims.experiment import config_argv, parse_config
    config = parse_config(module, flags)
    assert parse_config(module, config_argv(config)) == config
