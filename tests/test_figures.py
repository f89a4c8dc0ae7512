"""figures/: every figure of fig_spiked, fig_approximation and fig_bema draws from a Result it
reads (here: small Results written into a scratch results folder), writes PNG + JSON + CSV, runs
no simulation; ``python -m figures`` lists them and names the command behind a missing Result."""
import json
from types import SimpleNamespace

import pytest

from core.result import write_result
from figures import __main__ as figures_main
from figures._results import MissingResult
from sims import approximation_lemma as al
from sims import bema_checks as bc
from sims import spiked_model as sm
from sims import wigner

NAMES = ("spiked", "4.2", "4.3", "4.4", "B.1", "D.1", "D.2")


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("results")
    write_result(sm.run(sm.Config(n=(40, 60, 90), trials=3, spike_groups=((5.0, 0.5),), device="cpu",
                                  jobs=1)), d / "spiked_model.json")
    write_result(al.run(al.Config(n=(40, 60), trials=2, spike_sets=(al.PAPER_SPIKES,), device="cpu")),
                 d / "approximation_lemma_paper.json")
    write_result(wigner.run(wigner.Config(n=(30,), trials=2, device="cpu")), d / "wigner.json")
    write_result(bc.run(bc.Config.quick(calibration_n=(30,), calibration_ratios=(1.0,), trials=10,
                                        d1_n=(30,), d1_trials=1, fig_n=40, fig_trials=1, spike_n=(30,),
                                        spike_trials=3, device="cpu")), d / "bema_checks.json")
    return d


@pytest.mark.parametrize("name", NAMES)
def test_figure_from_result(name, results_dir, tmp_path):
    fn = figures_main.registry()[name]
    paths = fn(tmp_path, SimpleNamespace(results=results_dir))
    assert sorted(p.suffix for p in paths) == [".csv", ".json", ".png"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    data = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert data["rows"] and data["meta"]["argv"][:2] == ["python", "-m"]


def test_figure_data_follow_the_result(results_dir, tmp_path):
    args = SimpleNamespace(results=results_dir)
    reg = figures_main.registry()
    b1 = json.loads(reg["B.1"](tmp_path, args)[1].read_text())["rows"]
    assert [r["sigma"] for r in b1] == [70.0, 60.0, 50.0, 40.0, 30.0]
    rows = json.loads(reg["4.2"](tmp_path, args)[1].read_text())["rows"]
    assert all(r["opnorm_limit"] > r["f_W_4_24"] for r in rows)
    d2 = json.loads(reg["D.2"](tmp_path, args)[1].read_text())["meta"]
    assert d2["bulk_mass"] == pytest.approx(1 - d2["fit"]["n_outliers_beyond_axis"] / d2["fit"]["N"],
                                            abs=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_missing_result_names_its_command(name, tmp_path):
    with pytest.raises(MissingResult, match="make it with: python -m sims."):
        figures_main.registry()[name](tmp_path, SimpleNamespace(results=tmp_path / "empty"))


def test_cli_missing_result_exits_2_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        figures_main.main(["D.1", "--results", str(tmp_path), "--out", str(tmp_path / "figs")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert [ln for ln in err if "error:" in ln] == [err[-1]]
    assert "python -m sims.bema_checks --json results/bema_checks.json" in err[-1]


def test_cli_list_and_draw(results_dir, tmp_path, capsys):
    assert figures_main.main(["--list"]) == 0
    listed = {ln.split()[0] for ln in capsys.readouterr().out.splitlines()}
    assert set(NAMES) <= listed
    assert figures_main.main(["4.4", "--results", str(results_dir), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "fig_4_4.png").is_file()
    with pytest.raises(SystemExit) as exc:
        figures_main.main(["no-such-figure"])
    assert exc.value.code == 2


def test_figures_run_no_simulation():
    """figures/ reads Results: no fig module of this set imports sims, nets or torch."""
    import ast
    from pathlib import Path

    import figures
    root = Path(figures.__file__).parent
    for name in ("fig_spiked.py", "fig_approximation.py", "fig_bema.py", "__main__.py", "_results.py",
                 "_output.py"):
        tree = ast.parse((root / name).read_text())
        mods = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        mods |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        bad = {m for m in mods if m.split(".")[0] in ("sims", "nets", "torch")}
        assert not bad, (name, bad)


def test_out_folder_is_created(tmp_path):
    # a figure of the committed Results, drawn into a folder that does not exist yet
    out = tmp_path / "new" / "figures"
    assert figures_main.main(["3.3", "--out", str(out)]) == 0
    assert (out / "fig_3.3.png").is_file() and (out / "fig_3.3.csv").is_file()
