"""Every committed Result made by an experiment that moved out of nets/ still reruns from its
``provenance.argv``: the old ``python -m nets.<name> ...`` line parses, validates and reaches the
experiment's run context with the same recorded command line and the same Result name.

Nothing is trained: the run context (``sims.experiment.ExperimentRun``) is stopped at its entry,
where the experiment, its config and the command line it would record are known.  The numbers
themselves were compared old code against new code at toy size when the modules moved (issue 19).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sims.experiment import ExperimentRun

ROOT = Path(__file__).resolve().parent.parent
MOVED = [(p, json.loads(p.read_text())) for p in sorted((ROOT / "results").rglob("*.json"))]
MOVED = [(p, d) for p, d in MOVED if isinstance(d, dict) and "provenance" in d
         and d["provenance"]["argv"][:2] == ["python", "-m"] and d["provenance"]["argv"][2].startswith("nets.")
         and d["provenance"]["argv"][2] != "nets.train"]


class Reached(Exception):
    """The run context was entered: parsing and validation are done."""


def test_the_moved_experiments_have_committed_results():
    assert {d["provenance"]["argv"][2] for _, d in MOVED} >= {
        "nets.section3", "nets.remove_all", "nets.paper001", "nets.appendix_e3", "nets.paper003",
        "nets.weightwatcher_compare", "nets.posttraining"}


@pytest.mark.parametrize("path, result", MOVED, ids=[str(p.relative_to(ROOT / "results")) for p, _ in MOVED])
def test_a_committed_argv_reaches_the_experiment_under_its_old_name(path, result, tmp_path, monkeypatch):
    import importlib

    argv = result["provenance"]["argv"]
    seen = {}

    def enter(self):
        seen.update(experiment=self.experiment, module=self.module, argv=self.argv)
        raise Reached

    monkeypatch.setattr(ExperimentRun, "__enter__", enter)
    monkeypatch.setattr(ExperimentRun, "start", enter)
    monkeypatch.chdir(tmp_path)  # the --json parent folder is created here, never in results/
    for k in range(3):  # the ViT runs paper003's argv names (trained by python -m nets.vit)
        (tmp_path / "runs" / "vit" / f"seed{k}").mkdir(parents=True)
        (tmp_path / "runs" / "vit" / f"seed{k}" / "checkpoint.pt").touch()
    main = importlib.import_module(argv[2]).main
    with pytest.raises(Reached):
        main(argv[3:])
    assert seen["experiment"] == result["experiment"]
    assert ["python", "-m", seen["module"], *seen["argv"]] == argv
