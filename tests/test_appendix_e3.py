"""sims.appendix_e3 (paper 000 Appendix E.3 regression, Figs E.3/E.4): the parameter-count rule on
synthetic inputs, the experiment end to end at toy size (widths / 100, 8 epochs), and its old name
``python -m nets.appendix_e3`` (the committed Result's argv)."""

import pytest


def _rows(train_gap, test_gap, reduction, seeds):
    rows = []
    for s in seeds:
        base = 0.01 * (s + 1)
        rows += [{"seed": s, "run": "pruned", "final_train_loss": base, "final_test_loss": base,
                  "parameter_reduction": reduction},
                 {"seed": s, "run": "unpruned", "final_train_loss": base + train_gap * (1 + 0.1 * s),
                  "final_test_loss": base + test_gap * (1 + 0.1 * s), "parameter_reduction": 0.0}]
    return rows


def test_declared_rows_on_planted_data():
    """Known answers: 6 seeds all with unpruned > pruned give two-sided p = 2/64 <= 0.05 (holds);
    all the other way fails; 5 seeds cannot go below 2/32 (inconclusive, with the seeds needed);
    the reduction is 'approximately 50%' within 10 points (0.41 holds, 0.39 and 0.61 fail)."""
    from sims.appendix_e3 import e3_decisions
    d, diffs, _ = e3_decisions(_rows(0.02, -0.03, 0.45, range(6)), "planted")
    assert (d["train"].word, d["test"].word, d["reduction"].word) == ("holds", "fails", "holds")
    assert d["train"].p == 2 / 64 and len(diffs["train"]) == 6
    d, _, _ = e3_decisions(_rows(0.02, 0.02, 0.39, range(5)), "planted")
    assert (d["train"].word, d["reduction"].word) == ("inconclusive", "fails")
    assert d["train"].pairs_needed is not None and d["train"].pairs_needed >= 6
    assert e3_decisions(_rows(0.02, 0.02, 0.61, range(6)), "planted")[0]["reduction"].word == "fails"
    assert e3_decisions(_rows(0.02, 0.02, 0.41, range(6)), "planted")[0]["reduction"].word == "holds"


def test_appendix_e3_end_to_end_at_toy_size(tmp_path):
    from sims.appendix_e3 import Config, run
    res = run(Config(seeds=2, width_divisor=100, epochs=8, runs_dir=str(tmp_path)))
    assert [v.claim for v in res.verdicts] == ["000:figure:E.3", "000:figure:E.3", "000:figure:E.4"]
    assert all(v.verdict in ("holds", "fails", "inconclusive") for v in res.verdicts)
    assert [v.protocol["rule"] for v in res.verdicts] == ["paired_sign", "approximately", "paired_sign"]
    runs = res.tables["runs"]
    assert {(r["seed"], r["run"]) for r in runs} == {(s, k) for s in (0, 1) for k in ("pruned", "unpruned")}
    by = {(r["seed"], r["run"]): r for r in runs}
    d = [by[(s, "unpruned")]["final_test_loss"] - by[(s, "pruned")]["final_test_loss"] for s in (0, 1)]
    assert res.verdicts[2].measured == pytest.approx(sum(d) / 2)
    assert {r["run"] for r in res.records} == {"pruned", "unpruned"} and max(r["epoch"] for r in res.records) == 8
    assert res.config["scale"]["topology"] == [1, 16, 16, 16, 16, 1]
    assert run(Config(seeds=2, width_divisor=100, epochs=8, runs_dir=str(tmp_path))).tables["runs"] == runs


def test_the_old_command_line_reruns_the_committed_argv_shape(tmp_path, capsys):
    """``python -m nets.appendix_e3 ...`` (the committed Result's provenance argv) runs sims.appendix_e3
    under the old name: same flags, the old module in the recorded argv, the old Result name."""
    import json

    from nets.appendix_e3 import main
    out = tmp_path / "e3.json"
    assert main(["--seeds", "2", "--width-divisor", "100", "--epochs", "3", "--runs-dir", str(tmp_path),
                 "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["experiment"] == "nets.appendix_e3"
    assert d["provenance"]["argv"][:5] == ["python", "-m", "nets.appendix_e3", "--seeds", "2"]


@pytest.mark.parametrize("args", [["--seeds", "1"], ["--width-divisor", "0"], ["--epochs", "-3"]])
def test_appendix_e3_bad_input_exits_2(args, capsys):
    from sims.appendix_e3 import MODULE
    from sims.experiment import cli_main
    with pytest.raises(SystemExit) as exc:
        cli_main(MODULE, args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err and err.strip()


def test_figures_e3_e4_read_the_result(tmp_path):
    from types import SimpleNamespace

    import matplotlib
    matplotlib.use("Agg")
    from core.result import write_result
    from figures._results import MissingResult
    from figures.fig_appendix_e3 import FIGURES
    from sims.appendix_e3 import Config, run
    args = SimpleNamespace(results_dir=tmp_path / "results")
    with pytest.raises(MissingResult, match="nets.appendix_e3"):
        FIGURES["E.3"](tmp_path, args)
    write_result(run(Config(seeds=2, width_divisor=100, epochs=3, runs_dir=str(tmp_path / "runs"))),
                 tmp_path / "results" / "nets" / "appendix_e3.json")
    for name in ("E.3", "E.4"):
        paths = FIGURES[name](tmp_path, args)
        assert all(p.exists() and p.stat().st_size > 0 for p in paths), name


def test_the_committed_result_is_its_own_tables_redecided():
    import json
    from pathlib import Path

    from sims.appendix_e3 import Config, run
    path = Path(__file__).resolve().parent.parent / "results" / "nets" / "appendix_e3.json"
    stored = json.loads(path.read_text())
    res = run(Config(redecide_from=str(path)))
    assert [(v.claim, v.setting, v.verdict) for v in res.verdicts] == [
        (v["claim"], v["setting"], v["verdict"]) for v in stored["verdicts"]]
