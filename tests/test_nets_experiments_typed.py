"""sims.posttraining_truncation and sims.weightwatcher_compare as typed experiments reached through their
old names: each committed Result's provenance argv names the alias (``python -m nets.posttraining``,
``python -m nets.weightwatcher_compare``), which tests/test_registry.py's committed-argv check does not
pick, so it is parsed here into the typed module's Config (``sims.experiment.parse_config``), printed
back as flags and parsed again, and compared field by field with the config the Result recorded."""
from __future__ import annotations

import dataclasses
import importlib
import json
from pathlib import Path

import pytest

from sims.experiment import cli_main, config_argv, parse_config

ROOT = Path(__file__).resolve().parent.parent
ALIASED = [("results/posttraining.json", "nets.posttraining", "sims.posttraining_truncation"),
           ("results/nets/weightwatcher.json", "nets.weightwatcher_compare", "sims.weightwatcher_compare")]


def _recorded_fields(module: str, recorded: dict) -> dict:
    """The Config fields a Result's config recorded, under the fields' names."""
    if module == "sims.posttraining_truncation":
        # the Result keeps its old key for the flag --final-activation; device is the shared option,
        # ranks and the tolerance are the module's constants
        recorded = {("final_activation" if k == "final_activations" else k): v for k, v in recorded.items()
                    if k not in ("device", "ranks", "accuracy_tolerance")}
    return recorded


@pytest.mark.parametrize("path,alias,module", ALIASED, ids=[a for _, a, _ in ALIASED])
def test_an_aliased_committed_argv_parses_into_the_config_it_recorded(path, alias, module):
    result = json.loads((ROOT / path).read_text())
    argv = result["provenance"]["argv"]
    assert argv[:3] == ["python", "-m", alias]
    config = parse_config(module, argv[3:])
    assert parse_config(module, config_argv(config)) == config
    fields = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}
    assert fields == _recorded_fields(module, result["config"])


def test_the_posttraining_result_records_the_module_constants():
    from sims import posttraining_truncation as ptr
    recorded = json.loads((ROOT / "results/posttraining.json").read_text())["config"]
    assert recorded["ranks"] == list(ptr.DEFAULT_RANKS)
    assert recorded["accuracy_tolerance"] == ptr.ACCURACY_TOLERANCE


@pytest.mark.parametrize("alias,module", [(a, m) for _, a, m in ALIASED], ids=[a for _, a, _ in ALIASED])
def test_the_old_name_is_the_typed_command_line(alias, module, capsys):
    """``python -m <alias> --help`` shows every Config field as a flag under the old name."""
    with pytest.raises(SystemExit) as exc:
        importlib.import_module(alias).main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"python -m {alias}" in out
    for f in dataclasses.fields(importlib.import_module(module).Config):
        assert "--" + f.name.replace("_", "-") in out, f.name


@pytest.mark.parametrize("argv,message", [
    (["--mlp-epochs", "0"], "mlp_epochs must be an integer in [1, 1000], got 0"),
    (["--final-activation", "relu"], "unrecognized arguments: --final-activation relu"),
])
def test_weightwatcher_flags_are_checked_before_anything_runs(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main("sims.weightwatcher_compare", argv, recorded_as="nets.weightwatcher_compare")
    assert exc.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


def test_weightwatcher_compare_runs_or_refuses_in_one_line(tmp_path, capsys):
    """With the optional extra (``pip install 'rmt-pruning[weightwatcher]'``) the toy config gives a
    Result of the recorded name and config; without it the command refuses in one line, exit 2,
    before training anything."""
    from core.result import validate_result_dict
    from sims import weightwatcher_compare as wwc
    try:
        importlib.import_module("weightwatcher")
    except ImportError:
        with pytest.raises(SystemExit) as exc:
            cli_main(wwc.MODULE, ["--mlp-epochs", "1"])
        assert exc.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "weightwatcher is not installed" in err[0]
        return
    result = wwc.run(wwc.toy_config(tmp_path))
    validate_result_dict(json.loads(json.dumps(result.to_dict())), wwc.MODULE)
    assert result.experiment == wwc.RESULT_NAME and result.config == {"vit_dir": None, "mlp_epochs": 1}
    assert {r["model"].split()[0] for r in result.records} == {"mlp", "cnn"} and not result.verdicts
