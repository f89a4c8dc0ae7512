"""The typed Monte Carlo units of the theory side (sims.spiked_model, sims.approximation_lemma,
sims.wigner, sims.paper_claims): a committed Result's command line, parsed into the unit's Config
and expanded (presets included), gives exactly the settings that Result recorded, so rerunning its
``provenance.argv`` reruns what was run; presets that exclude each other are refused."""
from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from core.result import PACKAGE_ROOT
from core.validate import InvalidArgument
from sims import approximation_lemma, paper_claims, spiked_model, wigner
from sims.experiment import parse_config

EXPAND = {"sims.spiked_model": spiked_model.sweep_of,
          "sims.approximation_lemma": approximation_lemma.sweep_of,
          "sims.wigner": wigner.sweep_of, "sims.paper_claims": paper_claims.settings_of}


def _committed():
    out = []
    for path in sorted((PACKAGE_ROOT / "results").glob("**/*.json")):
        data = json.loads(path.read_text())
        argv = (data.get("provenance") or {}).get("argv") or []
        if len(argv) >= 3 and argv[2] in EXPAND:
            out.append(pytest.param(argv[2], argv[3:], data["config"], id=path.name))
    return out


@pytest.mark.parametrize("module,flags,recorded", _committed())
def test_committed_argv_expands_to_the_recorded_settings(module, flags, recorded):
    config = parse_config(module, flags)
    # the old command lines recorded the requested device ("auto"); it is the run's device now
    expand = EXPAND[module]
    settings = expand(config) if module == "sims.paper_claims" else expand(config, recorded.get("device"))
    assert json.loads(json.dumps(asdict(settings))) == recorded


def test_the_committed_results_are_all_found():
    # one per committed Result of these units (3 spiked model + the quick smoke, 3 lemma, 2 wigner, 1)
    assert len(_committed()) >= 10


@pytest.mark.parametrize("module,config", [
    (spiked_model, spiked_model.Config(paper=True, quick=True)),
    (approximation_lemma, approximation_lemma.Config(paper=True, large=True)),
])
def test_presets_exclude_each_other(module, config):
    with pytest.raises(InvalidArgument, match="exclude each other"):
        module.sweep_of(config)


def test_cli_refuses_two_presets_with_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        spiked_model.main(["--paper", "--quick"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--paper and --quick exclude each other" in err[0]
