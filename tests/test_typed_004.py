"""The typed experiments of papers 000 (shrinkage) and 004 (issue 19): every committed Result's
provenance argv still MEANS what it meant, i.e. gives, through the module's Config and its preset
expansion, the very config the Result recorded (tests/test_registry.py checks that it parses and
round-trips; this checks the values), and the cross-field refusals of ``sims.shrinkage``."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from sims.experiment import parse_config

ROOT = Path(__file__).resolve().parent.parent
NOT_FROM_ARGV = {"verdicts_redecided", "redecided_from"}   # added when a Result is re-decided


def _recorded_shrinkage(c):
    from sims import shrinkage
    return shrinkage.config_record(shrinkage.lemma_config(c))


def _recorded_shrinkage_pruning(c):
    from sims import shrinkage_pruning
    return asdict(shrinkage_pruning.pruning_config(c))


def _recorded_shrinkage_training(c):
    # train_config (nets.configs' own record of the training config) is left out: it follows nets.configs
    from sims import shrinkage_training
    return {**asdict(shrinkage_training.training_config(c)), "train_config": None}


def _recorded_paper004_lemmas(c):
    from sims import paper004_lemmas
    return asdict(paper004_lemmas.lemmas_config(c))


def _recorded_paper004_theorems(c):
    from sims import paper004_theorems as m
    # the committed Results recorded the --device flag ("auto"); runs now record the resolved type
    return dict(asdict(m.theorems_config(c, "auto").validate()), depth=m.DEPTH, q=0.99,
                latala_c_favourable=m.LATALA_C_FAVOURABLE)


def _recorded_paper004_side_by_side(c):
    from sims import paper004_side_by_side as m
    return asdict(m.side_by_side_config(c, "auto").validate())


def _recorded_qian_klabjan(c):
    from sims import qian_klabjan as m
    cfg = m.tables_config(c, "auto").validate()
    return dict(asdict(cfg), lemma4_trials=max(20, cfg.trials // 2), quantiles=m.QUANTILES,
                lemma3_Ks=m.LEMMA3_KS, lemma4_alphas=m.LEMMA4_ALPHAS)


RECORDED = {"sims.shrinkage": _recorded_shrinkage, "sims.shrinkage_pruning": _recorded_shrinkage_pruning,
            "sims.shrinkage_training": _recorded_shrinkage_training,
            "sims.paper004_lemmas": _recorded_paper004_lemmas,
            "sims.paper004_theorems": _recorded_paper004_theorems,
            "sims.paper004_side_by_side": _recorded_paper004_side_by_side,
            "sims.qian_klabjan": _recorded_qian_klabjan}


def _committed():
    out = []
    for path in sorted(ROOT.glob("results/**/*.json")):
        try:
            d = json.loads(path.read_text())
        except ValueError:
            continue
        argv = (d.get("provenance") or {}).get("argv") or []
        if len(argv) >= 3 and argv[1] == "-m" and argv[2] in RECORDED:
            out.append(pytest.param(argv[2], argv[3:], d["config"], id=path.relative_to(ROOT).as_posix()))
    return out


def test_every_module_has_a_committed_result():
    assert {p.values[0] for p in _committed()} == set(RECORDED)


@pytest.mark.parametrize("module,flags,stored", _committed())
def test_committed_argv_gives_the_config_the_result_recorded(module, flags, stored):
    got = json.loads(json.dumps(RECORDED[module](parse_config(module, flags))))
    want = {k: v for k, v in stored.items() if k not in NOT_FROM_ARGV}
    if "train_config" in got:
        want["train_config"] = None
    assert got == want


@pytest.mark.parametrize("argv,text", [
    (["--trials", "3", "4"], "trials needs sizes"),
    (["--sizes", "100", "200", "--trials", "3"], "trials needs one count per sizes entry"),
    (["--sizes", "10"], "sizes must be an integer in [50, 20000], got 10"),
])
def test_shrinkage_refuses_inconsistent_sizes_with_one_line(argv, text, capsys):
    from sims import shrinkage
    with pytest.raises(SystemExit) as info:
        shrinkage.main(["--quick", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and text in err[0]
