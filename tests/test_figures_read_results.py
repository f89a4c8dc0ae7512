"""figures.fig_pruning_theorem, fig_qian_klabjan, fig_nets: they read committed Results only."""
import importlib
import subprocess
import sys

import pytest

import figures._results as results_mod
from figures._results import MissingResult

MODULES = ("figures.fig_pruning_theorem", "figures.fig_qian_klabjan", "figures.fig_nets")


def test_importing_the_figures_imports_no_experiment():
    code = ("import sys, figures.fig_pruning_theorem, figures.fig_qian_klabjan, figures.fig_nets; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sims', 'nets', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", MODULES)
def test_missing_result_names_the_command(module, tmp_path, monkeypatch):
    monkeypatch.setattr(results_mod, "RESULTS_DIR", tmp_path / "empty")
    for name, fn in importlib.import_module(module).FIGURES.items():
        with pytest.raises(MissingResult, match=r"make it with: python -m (sims|nets)\."):
            fn(tmp_path / "out", None)


@pytest.mark.parametrize("module", MODULES)
def test_every_figure_renders_from_the_committed_results(module, tmp_path):
    for name, fn in importlib.import_module(module).FIGURES.items():
        paths = fn(tmp_path, None)
        assert paths[0].suffix == ".png" and paths[0].stat().st_size > 0
        assert any(p.suffix == ".json" for p in paths)
