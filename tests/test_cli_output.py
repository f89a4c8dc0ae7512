"""What the commands print (core.cli): verdict tables as wide as the terminal with the rows'
distinguishing text first and nothing cut, "(quick)" on every verdict of a --quick run with a
pointer to the committed Result, the record table of --verbose, progress bars on a terminal only,
theory's two counts said apart, benchmarks' pass/fail marks, nets.train --dry-run's topology."""
from __future__ import annotations

import io
import json
import re

import pytest

from core import cli
from core.result import Provenance, Result, Verdict

SETTINGS = ["theta=1.5, |<u_i,u'_i>|^2, c=1, gaussian, N=100,200,400",
            "theta=1.5, |<v_i,v'_i>|^2, c=1, gaussian, N=100,200,400",
            "theta=0.8, sigma'_i, c=1, gaussian, N=100,200,400"]


def _verdicts() -> list[Verdict]:
    return [Verdict(claim="000:theorem:A.4", setting=s, verdict=w, measured=0.5265,
                    interval=[0.4907, 0.5624], bound=0.5556)
            for s, w in zip(SETTINGS, ("holds", "inconclusive", "fails"))]


def _result(verdicts=None, experiment="sims.example") -> Result:
    prov = Provenance.start(argv=[], module=experiment).stop()
    return Result(experiment=experiment, config={}, provenance=prov,
                  records=[{"N": 100, "theta": 1.5, "mean": 0.5}],
                  verdicts=_verdicts() if verdicts is None else verdicts)


def _words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("width", [60, 80, 100, 120, 200])
def test_verdict_table_fits_the_width_and_cuts_no_word(width):
    lines = cli.verdict_table(_verdicts(), width=width)
    assert max(len(ln) for ln in lines) <= width
    text = "\n".join(lines)
    # every word of every setting and number is printed whole (wrapped, never cut or elided)
    for v in _verdicts():
        for word in _words(v.setting) + ["0.5265", "[0.4907,", "0.5624]", "0.5556"]:
            assert word in _words(text), (word, text)
    assert "..." not in text


def test_distinguishing_text_comes_before_the_numbers():
    for width in (60, 80, 120, 200):
        for v in _verdicts():
            # the setting's distinguishing head (theta and the quantity) precedes the numbers
            text = "\n".join(cli.verdict_table([v], width=width, header=False))
            head = v.setting.split(", c=1")[0]
            assert text.startswith("000:theorem:A.4  " + head.split(", ")[0])
            assert text.index(head.split(", ")[1]) < text.index("0.5265")


def test_wide_terminal_gives_one_line_per_verdict_each_starting_with_its_claim():
    lines = cli.verdict_table(_verdicts(), width=160, header=False)
    assert len(lines) == 3 and all(ln.startswith("000:theorem:A.4  theta=") for ln in lines)


def test_narrow_terminal_stacks_setting_over_verdict_and_numbers():
    lines = cli.verdict_table(_verdicts(), width=76, header=False)
    assert len(lines) == 6
    assert lines[0] == "000:theorem:A.4  theta=1.5, |<u_i,u'_i>|^2, c=1, gaussian, N=100,200,400"
    assert lines[1] == " " * 17 + "holds         0.5265 [0.4907, 0.5624] vs 0.5556"
    assert max(len(ln) for ln in lines) <= 76


def test_a_word_longer_than_the_screen_is_wrapped_not_cut():
    v = Verdict(claim="000:lemma:4.2", setting="x" * 300, verdict="holds")
    text = "\n".join(cli.verdict_table([v], width=80))
    assert text.count("x") == 300 and max(len(ln) for ln in text.splitlines()) <= 80


def test_summary_uses_the_terminal_width_from_columns(monkeypatch):
    for cols in ("80", "132"):
        monkeypatch.setenv("COLUMNS", cols)
        assert cli.terminal_width() == int(cols)
        assert max(len(ln) for ln in cli.summary(_result()).splitlines()) <= int(cols)
    monkeypatch.setenv("COLUMNS", "10")
    assert cli.terminal_width() == cli.MIN_WIDTH


def test_quick_marks_every_verdict_and_points_to_the_committed_result(tmp_path, monkeypatch):
    committed = tmp_path / "results" / "example.json"
    committed.parent.mkdir()
    committed.write_text(json.dumps({"config": {}, "experiment": "sims.example"}, indent=1,
                                    sort_keys=True))
    smoke = tmp_path / "results" / "smoke" / "example_quick.json"
    smoke.parent.mkdir()
    smoke.write_text(committed.read_text())
    other = tmp_path / "results" / "other.json"
    other.write_text(json.dumps({"experiment": "sims.other"}, indent=1))
    assert cli.committed_results("sims.example", tmp_path / "results") == [committed]
    monkeypatch.setattr(cli, "committed_results", lambda exp, d=None: [committed])
    text = cli.summary(_result(), quick=True, width=120)
    rows = [ln for ln in text.splitlines() if ln.startswith("000:")]
    assert len(rows) == 3 and all("(quick)" in ln for ln in rows)
    for word in ("holds", "inconclusive", "fails"):
        assert f"{word} (quick)" in text
    pointer = text[text.index("(quick) = reduced sizes"):]
    assert str(committed) in pointer.replace("\n  ", " ")
    assert "(quick)" not in cli.summary(_result(), quick=False, width=120)


def test_quick_pointer_names_the_real_committed_result_of_the_main_job():
    line = cli.quick_pointer("sims.spiked_model")
    assert "results/spiked_model.json" in line
    assert "no committed Result" in cli.quick_pointer("sims.no_such_experiment")


def test_quick_run_of_a_real_command_marks_its_verdicts(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "100")
    from core.result import read_result
    from sims import paper_claims
    assert paper_claims.main(["--quick", "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    verdicts = read_result(tmp_path / "r.json").verdicts
    assert verdicts
    marked = sum(out.count(f"{w} (quick)") for w in ("holds", "vacuous", "fails", "inconclusive"))
    assert marked == len(verdicts)
    assert "(quick) = reduced sizes" in out and "results/paper_claims.json" in out
    assert max(len(ln) for ln in out.splitlines()) <= 100


def test_verbose_table_fits_the_width_and_repeats_the_distinguishing_columns():
    rows = [{"N": n, "noise": "gaussian", "theta": t, "sv_mean": 1.23456 * n, "sv_ci": [0.1 * n, 0.2],
             "u_overlap_mean": 0.5, "v_overlap_mean": 0.25 + n, "long_column_name_here": 3.0 * t}
            for n in (100, 200) for t in (1.5, 2.0)]
    text = cli.format_table(rows, width=60)
    lines = text.splitlines()
    assert lines[0] == "same in every row: noise=gaussian, u_overlap_mean=0.5"
    assert max(len(ln) for ln in lines) <= 60
    headers = [ln for ln in lines if ln.startswith("N ")]
    assert len(headers) >= 2  # blocks, each led by the distinguishing column N
    for col in ("theta", "sv_mean", "sv_ci", "v_overlap_mean", "long_column_name_here"):
        assert col in text


def test_progress_bar_on_a_terminal_only(monkeypatch):
    class Stream(io.StringIO):
        def __init__(self, tty):
            super().__init__()
            self.tty = tty

        def isatty(self):
            return self.tty

    for tty in (False, True):
        stream = Stream(tty)
        monkeypatch.setattr("sys.stderr", stream)
        assert list(cli.progress(range(3), desc="trials", file=stream, mininterval=0)) == [0, 1, 2]
        assert ("trials" in stream.getvalue()) is tty


def test_map_tasks_progress_counts_finished_tasks(monkeypatch):
    from sims.parallel import map_tasks
    seen = []

    def bar(results, **kw):
        seen.append(kw)
        return results
    monkeypatch.setattr(cli, "progress", bar)
    assert map_tasks(pow, [(2, 3), (3, 2)], progress="powers") == [8, 9]
    assert seen == [dict(total=2, desc="powers", unit="task")]
    assert map_tasks(pow, [(2, 3), (3, 2)], jobs=2, progress="powers") == [8, 9]


def test_theory_says_which_count_is_which(capsys):
    from theory import __main__ as theory_main
    assert theory_main.main([]) == 0
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"self-check of the formulas: (\d+) of \1 rows agree with an independent "
                        r"computation; the verdicts on paper claims follow", out[0])
    assert re.fullmatch(r"\d+ verdicts on \d+ paper claims: (\w+ \d+(, )?)+", out[-1])
    assert not any(re.fullmatch(r"\d+ of \d+ checks ok", ln) for ln in out)


@pytest.mark.parametrize("row,mark", [
    (dict(name="x", value=1.0, unit="ms", ratio=0.892, target=">= 1"), "FAIL"),
    (dict(name="x", value=1.0, unit="ms", ratio=1.2, target=">= 1"), "PASS"),
    (dict(name="x", value=12.0, unit="CPU s", target="<= 10"), "FAIL"),
    (dict(name="x", value=3.0, unit="ms", ratio=50.0, target="<= 10 ms"), "PASS"),
    (dict(name="x", value=8e-16, unit="abs", target="<= 1e-12"), "PASS"),
    (dict(name="x", value=1.0, unit="ms", ratio=1.04, target="<= 1.05"), "PASS"),
    (dict(name="x", value=1.0, unit="ms", ratio=130.0, target="~2000"), "info"),
    (dict(name="x", value=1.0, unit="ms", ratio=130.0, target=">= 1 (tracywidom time / ours)"), "PASS"),
])
def test_benchmark_rows_carry_a_pass_fail_mark(row, mark):
    from benchmarks import __main__ as bench
    met = bench.target_met(row)
    assert bench.MARKS[met] == mark
    text = bench.row_text(dict(row, target_met=met), width=80)
    assert text.startswith(mark) and max(len(ln) for ln in text.splitlines()) <= 80


def test_benchmark_row_without_target_has_no_mark():
    from benchmarks import __main__ as bench
    text = bench.row_text(dict(name="baseline " * 12, value=2.0, unit="ms"), width=80)
    assert text.startswith("    ") and max(len(ln) for ln in text.splitlines()) <= 80
    assert text.count("baseline") == 12


def test_dry_run_at_cpu_scale_says_which_topology_it_builds(capsys):
    from nets import train
    assert train.main(["ex3.2a", "--scale", "cpu", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert ("built at scale cpu: topology [784, 200, 400, 200, 50, 10] "
            "(paper: [784, 2000, 4000, 2000, 500, 10])") in out
    assert "weight 200x784" in out and "weight 2000x784" not in out
    assert train.main(["ex3.2a", "--dry-run"]) == 0
    paper = capsys.readouterr().out
    assert "built at scale" not in paper


def test_shrinkage_cells_show_a_bar_over_their_matrices(monkeypatch, tmp_path):
    from sims import shrinkage
    seen = []

    def bar(iterable, **kw):
        seen.append(kw["desc"])
        return iterable
    monkeypatch.setattr(shrinkage, "progress", bar)
    assert shrinkage._cell(None, "cell", 3, lambda t: {"trial": t}) == [{"trial": t} for t in range(3)]
    assert shrinkage._cell(tmp_path, "cached", 2, lambda t: {"trial": t}) == [{"trial": 0}, {"trial": 1}]
    assert seen == ["cell", "cached"]
