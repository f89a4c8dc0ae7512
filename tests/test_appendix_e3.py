"""sims.appendix_e3 (paper 000 Appendix E.3 regression, Figs E.3/E.4): the parameter-count rule on
synthetic inputs, the experiment end to end at toy size (widths / 100, 8 epochs), and its old name
``python -m nets.appendix_e3`` (the committed Result's argv)."""
import math

import pytest


def test_reduction_verdict_reads_fifty_percent_within_ten_points():
    from sims.appendix_e3 import reduction_verdict
    assert reduction_verdict(0.5) == "holds" and reduction_verdict(0.41) == "holds"
    assert reduction_verdict(0.39) == "fails" and reduction_verdict(0.61) == "fails"
    assert reduction_verdict(math.nan) == "inconclusive"


def test_appendix_e3_end_to_end_at_toy_size(tmp_path):
    from sims.appendix_e3 import Config, run
    res = run(Config(seeds=2, width_divisor=100, epochs=8, runs_dir=str(tmp_path)))
    assert [v.claim for v in res.verdicts] == ["000:figure:E.3", "000:figure:E.3", "000:figure:E.4"]
    assert all(v.verdict in ("holds", "fails", "inconclusive") for v in res.verdicts)
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
