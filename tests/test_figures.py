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
    write_result(sm.run_sweep(sm.Sweep(n=(40, 60, 90), trials=3, spike_groups=((5.0, 0.5),),
                                       device="cpu", jobs=1)), d / "spiked_model.json")
    write_result(al.run_sweep(al.Sweep(n=(40, 60), trials=2, spike_sets=(al.PAPER_SPIKES,),
                                       device="cpu")), d / "approximation_lemma_paper.json")
    write_result(wigner.run_sweep(wigner.Sweep(n=(30,), trials=2, device="cpu")), d / "wigner.json")
    write_result(bc.run(bc.Config(quick=True, calibration_n=(30,), calibration_ratios=(1.0,), trials=10,
                                  d1_n=(30,), d1_trials=1, fig_n=40, fig_trials=1, spike_n=(30,),
                                  spike_trials=3)), d / "bema_checks.json")
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
    assert (out / "fig_3_3.png").is_file() and (out / "fig_3_3.csv").is_file()


# ------------------------------------------------------------------ issue 18: names, list, readability
def test_figure_stem_is_one_convention():
    from figures._output import figure_stem
    assert [figure_stem(n) for n in ("4.3", "D.2", "B.1", "001.6", "shrinkage.denoising", "C_13",
                                     "003.vit_accuracy_vs_parameters")] == [
        "fig_4_3", "fig_D_2", "fig_B_1", "fig_001_6", "fig_shrinkage_denoising", "fig_C_13",
        "fig_003_vit_accuracy_vs_parameters"]


def test_list_is_sorted_and_every_description_is_whole(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert figures_main.main(["--list"]) == 0
    out = capsys.readouterr().out
    reg = figures_main.registry()
    names = [ln.split()[0] for ln in out.splitlines() if ln and not ln.startswith(" ")]
    assert sorted(names) == sorted(reg) and names == sorted(reg, key=figures_main.natural_key)
    assert names.index("3.3") < names.index("3.10" if "3.10" in names else "4.1") < names.index("B.1")
    assert names.index("001.9") < names.index("001.10")        # numbers, not strings
    assert max(map(len, out.splitlines())) <= 80
    flat = " ".join(out.split())
    for name, fn in reg.items():                                # wrapped, never cut
        assert figures_main.description(fn) in flat, name
        assert not figures_main.description(fn).endswith((" and", " the", ",")), name


def test_every_figure_reads_the_results_folder_it_is_given(tmp_path):
    """--results DIR is honoured by every figure: with an empty folder each names its command."""
    for name, fn in figures_main.registry().items():
        with pytest.raises(MissingResult, match="make it with"):
            fn(tmp_path / "out", SimpleNamespace(results=tmp_path / "empty"))


def test_every_figure_of_the_committed_results_is_named_and_readable(tmp_path, monkeypatch):
    """Every registered figure, drawn from the committed Results: its files are named
    ``figure_stem(name)``, no text is below MIN_FONT_PT (~12 px at full width in the report), the
    figure is at most MAX_WIDTH_IN wide (the report shows it at >= 90%), and every panel with data
    has a y label (Fig B.1 had none)."""
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from figures._output import MAX_WIDTH_IN, MIN_FONT_PT, figure_stem
    seen = {}
    savefig = Figure.savefig

    def record(fig, fname, *a, **k):
        texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        unlabelled = [ax.get_title() or str(i) for i, ax in enumerate(fig.axes)
                      if ax.get_visible() and ax.axison and ax.get_subplotspec() is not None
                      and (ax.lines or ax.collections or ax.patches) and not any(
                          o.get_ylabel().strip() for o in ax.get_shared_y_axes().get_siblings(ax))]
        seen[fname] = dict(width=fig.get_size_inches()[0], unlabelled=unlabelled,
                           small={t.get_text()[:30] for t in texts if t.get_fontsize() < MIN_FONT_PT})
        return savefig(fig, fname, *a, **k)

    monkeypatch.setattr(Figure, "savefig", record)
    drawn = 0
    for name, fn in figures_main.registry().items():
        seen.clear()
        try:
            paths = fn(tmp_path, SimpleNamespace(results=None))
        except MissingResult:       # a figure whose Result is not committed (yet): nothing to draw
            continue
        drawn += 1
        assert paths and all(p.stem == figure_stem(name) for p in paths), (name, paths)
        assert len(seen) == 1, name
        (info,) = seen.values()
        assert info["width"] <= MAX_WIDTH_IN + 1e-9, (name, info["width"])
        assert not info["small"], (name, sorted(info["small"])[:5])
        assert not info["unlabelled"], (name, info["unlabelled"])
    assert drawn >= 30


def test_figures_cli_is_the_one_cli_layer(tmp_path, capsys):
    """python -m figures: --version, one-line usage errors with exit 2, --out checked like every
    other output path (a file in the way is named), and no --verbose that would do nothing."""
    from figures.__main__ import main
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and "rmt-pruning" in capsys.readouterr().out
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as info:
        main(["4.3", "--out", str(blocker / "sub")])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and len(err.splitlines()) == 1 and "--out" in err and "is a file" in err
    with pytest.raises(SystemExit) as info:
        main(["--verbose"])
    assert info.value.code == 2
