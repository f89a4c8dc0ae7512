"""figures.report: FINDINGS.md is rebuilt from stored Results; --check catches drift; coverage."""
import json

import pytest

from core import claims as claims_mod
from core.result import Provenance, Result, Verdict, write_result
from figures import report


def _claims(tmp_path):
    entries = [
        {"id": "000:lemma:4.1", "paper": "000", "kind": "lemma", "number": "4.1", "section": "4.2",
         "statement": "dX changes by at most the bound.", "checked_by": ["sims.x"],
         "not_checked": None},
        {"id": "000:lemma:4.2", "paper": "000", "kind": "lemma", "number": "4.2", "section": "4.2",
         "statement": "Second bound.", "checked_by": ["sims.y"], "not_checked": None},
        {"id": "000:figure:3.1", "paper": "000", "kind": "figure", "number": "3.1",
         "section": "3.2", "statement": "MNIST accuracy.", "checked_by": [],
         "not_checked": {"reason": "data_unavailable", "detail": "MNIST"}},
    ]
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(entries))
    return claims_mod.load_registry(path)


def _store(tmp_path, measured=1.5, claim="000:lemma:4.1"):
    d = tmp_path / "results"
    prov = Provenance.start(argv=["--seed", "0"], module="sims.x", seed=0).stop()
    r = Result("sims.x", {}, prov, [], [Verdict(claim, "N=10", "holds", measured, [1.0, 2.0], 3.0)])
    write_result(r, d / "x.json")
    return d


def test_coverage_counts_verdicts_from_results_not_from_the_registry(tmp_path):
    claims = _claims(tmp_path)
    stored = report.load_results(_store(tmp_path))
    cov = report.coverage(claims, report.verdicts_by_claim(stored))["000"]
    assert cov["total"] == 3 and cov["with_verdict"] == 1
    assert cov["assigned_no_verdict"] == 1          # lemma 4.2: assigned, but nothing stored
    assert cov["not_checked"]["data_unavailable"] == 1


def test_findings_carry_the_stored_numbers_and_change_with_them(tmp_path):
    claims = _claims(tmp_path)
    a = report.render_findings(claims, report.load_results(_store(tmp_path / "a", 1.5)))
    b = report.render_findings(claims, report.load_results(_store(tmp_path / "b", 1.6)))
    assert "| N=10 | 1.5 [1, 2] | 3 | holds (undeclared) | - |" in a
    assert a != b


def test_protocol_verdicts_print_their_declaration_scoped_word_and_p(tmp_path):
    from core import protocol
    claims = _claims(tmp_path)
    d = tmp_path / "results"
    prov = Provenance.start(argv=[], module="sims.x", seed=0).stop()
    decl = protocol.declare("000:lemma:4.1", "paired gap", "paired_sign", scale="widths/10")
    decision = protocol.paired_sign(decl, [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0])
    write_result(Result("sims.x", {}, prov, [], [protocol.verdict(decl, decision, setting="N=10")]), d / "x.json")
    text = report.render_findings(claims, report.load_results(d))
    assert "Declared: rule `paired_sign` on paired gap; alpha 0.05; scale: widths/10" in text
    assert "| **fails at reduced scale** | 0.03125 |" in text  # 2 of 64 sign patterns
    assert "(fails at reduced scale 1)" in text


def test_each_sign_flip_word_is_set_beside_the_sign_test_and_counted(tmp_path):
    """Six of six seeds on one side: the sign test agrees (2/64); six large gains among fifteen
    seeds: the mean test holds but the sign test does not (p = 1), and the row and the count say so;
    a Result made before the companion is counted as not recorded."""
    from core import protocol
    claims = _claims(tmp_path)
    d = tmp_path / "results"
    prov = Provenance.start(argv=[], module="sims.x", seed=0).stop()
    decl = protocol.declare("000:lemma:4.1", "paired gap", "paired_sign", scale="widths/10")
    agree = protocol.verdict(decl, protocol.paired_sign(decl, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), setting="A")
    carried = protocol.verdict(decl, protocol.paired_sign(decl, [4.0] * 6 + [-0.2] * 9), setting="B")
    old = protocol.verdict(decl, protocol.paired_sign(decl, [1.0] * 6), setting="C")
    for key in ("sign_test_p",):
        old.protocol.pop(key)
    write_result(Result("sims.x", {}, prov, [], [agree, carried, old]), d / "x.json")
    stored = report.load_results(d)
    assert [report.symmetry_status(v) for v in stored[0].result.verdicts] == \
        ["signs agree", "sizes decide", "not recorded"]
    text = report.render_findings(claims, stored)
    assert "Sign test: Holm p = 0.03125; the signs alone also reach alpha" in text
    assert "Sign test: Holm p = 1; the signs alone do not reach alpha: the word depends on the sizes" in text
    assert ("Of the 3 holds/fails words made by the sign-flip rules, the signs alone also reach alpha for 1 "
            "and not for 1 (their rows say so); all 3 remain words of a mean test") in text
    assert "; 1 come from Results made before the sign test was recorded" in text


def test_a_claim_measured_at_both_scales_is_listed_side_by_side(tmp_path):
    """The summary table pairs a claim's reduced-scale words with its paper-scale words, by each
    verdict's declared scale; a claim measured at one scale only is not listed."""
    from core import protocol
    claims = _claims(tmp_path)
    d = tmp_path / "results"
    prov = Provenance.start(argv=[], module="sims.x", seed=0).stop()
    low = protocol.declare("000:lemma:4.1", "paired gap", "paired_sign", scale="widths/10")
    high = protocol.declare("000:lemma:4.1", "paired gap", "paired_sign", scale=protocol.PAPER)
    gaps = [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0]
    verdicts = [protocol.verdict(low, protocol.paired_sign(low, gaps), setting="widths/10"),
                protocol.verdict(high, protocol.paired_sign(high, gaps[:2]), setting="paper scale, 2 pairs")]
    write_result(Result("sims.x", {}, prov, [], verdicts), d / "x.json")
    stored = report.load_results(d)
    rows = report.scale_comparison(claims, report.verdicts_by_claim(stored))
    assert rows == [("000:lemma:4.1", "fails at reduced scale 1", "inconclusive 1")]
    text = report.render_findings(claims, stored)
    assert "| `000:lemma:4.1` | fails at reduced scale 1 | inconclusive 1 |" in text
    only_low = tmp_path / "low"
    write_result(Result("sims.x", {}, prov, [], verdicts[:1]), only_low / "x.json")
    assert report.scale_comparison(claims, report.verdicts_by_claim(report.load_results(only_low))) == []


def test_unknown_claim_ids_are_refused(tmp_path):
    claims = _claims(tmp_path)
    stored = report.load_results(_store(tmp_path, claim="000:lemma:9.9"))
    with pytest.raises(ValueError, match="000:lemma:9.9"):
        report.render_findings(claims, stored)


def test_a_verdict_from_an_experiment_the_registry_does_not_name_is_refused(tmp_path):
    claims = _claims(tmp_path)
    stored = report.load_results(_store(tmp_path, claim="000:lemma:4.2"))   # checked_by sims.y
    with pytest.raises(ValueError, match="checked_by"):
        report.render_findings(claims, stored)


def test_check_exits_1_on_drift_and_0_when_equal(tmp_path, monkeypatch, capsys):
    claims = _claims(tmp_path)
    monkeypatch.setattr(report, "registry", lambda: claims)
    results = _store(tmp_path)
    findings = tmp_path / "FINDINGS.md"
    findings.write_text("hand-typed\n")
    argv = ["--results", str(results), "--findings", str(findings)]
    assert report.main(argv + ["--check"]) == 1
    assert report.main(argv + ["--no-html"]) == 0
    assert report.main(argv + ["--check"]) == 0



def test_same_as_claims_share_the_verdicts_of_their_twin(tmp_path):
    claims = _claims(tmp_path)
    twin = {"id": "001:example:3.3", "paper": "001", "kind": "example", "number": "3.3",
            "section": "3.2", "statement": "Same as lemma 4.1.", "checked_by": ["sims.x"],
            "not_checked": None, "extra": {"same_as": "000:lemma:4.1"}}
    path = tmp_path / "claims2.json"
    path.write_text(json.dumps([
        {"id": c.id, "paper": c.paper, "kind": c.kind, "number": c.number, "section": c.section,
         "statement": c.statement, "checked_by": list(c.checked_by), "not_checked": c.not_checked}
        for c in claims.values()] + [twin]))
    claims = claims_mod.load_registry(path)
    stored = report.load_results(_store(tmp_path))
    cov = report.coverage(claims, report.verdicts_by_claim(stored))
    assert cov["001"]["with_verdict"] == 1
    assert "The same statement as `000:lemma:4.1`" in report.render_findings(claims, stored)


def test_committed_findings_match_the_committed_results():
    """The CI gate of issue 9: FINDINGS.md is exactly what the stored Results give."""
    text = report.render_findings(claims_mod.registry(), report.load_results())
    assert report.FINDINGS_PATH.read_text() == text, "run: python -m figures.report"


# ------------------------------------------------------------------ issue 18: the command line
def _one_line_exit_2(capsys, argv, *words):
    with pytest.raises(SystemExit) as exc:
        report.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("python -m figures.report: error:"), err
    for w in words:
        assert w in err[0], (w, err[0])


def test_an_unwritable_findings_path_is_one_line_exit_2(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    _one_line_exit_2(capsys, ["--findings", str(blocker / "dir" / "F.md"), "--no-html"],
                     "--findings", str(blocker / "dir" / "F.md"))


def test_findings_into_a_new_folder_is_created(tmp_path, monkeypatch):
    claims = _claims(tmp_path)
    monkeypatch.setattr(report, "registry", lambda: claims)
    out = tmp_path / "new" / "dir" / "F.md"
    assert report.main(["--results", str(_store(tmp_path)), "--findings", str(out), "--no-html"]) == 0
    assert out.read_text().startswith("# Verdicts")


def test_a_missing_or_empty_results_folder_is_one_line_exit_2(tmp_path, capsys):
    _one_line_exit_2(capsys, ["--coverage", "--results", str(tmp_path / "nope")], "--results", "no such folder")
    (tmp_path / "empty").mkdir()
    _one_line_exit_2(capsys, ["--coverage", "--results", str(tmp_path / "empty")], "holds no Result")


def test_check_of_a_missing_findings_file_is_one_line_exit_2(tmp_path, capsys):
    _one_line_exit_2(capsys, ["--check", "--findings", str(tmp_path / "F.md")], "no such file")


def test_coverage_json_as_in_the_help(tmp_path, capsys, monkeypatch):
    """``--coverage --json`` (the example in --help) prints JSON; ``--json FILE`` writes it."""
    assert "--coverage --json" in report.__doc__
    claims = _claims(tmp_path)
    monkeypatch.setattr(report, "registry", lambda: claims)
    results = str(_store(tmp_path))
    assert report.main(["--coverage", "--json", "--results", results]) == 0
    cov = json.loads(capsys.readouterr().out)
    assert cov["000"]["with_verdict"] == 1 and cov["000"]["total"] == 3
    assert report.main(["--coverage", "--json", str(tmp_path / "c" / "cov.json"), "--results", results]) == 0
    assert json.loads((tmp_path / "c" / "cov.json").read_text()) == cov
    _one_line_exit_2(capsys, ["--json", "--results", results], "--coverage")


# ------------------------------------------------------------------ issue 18: the HTML page (static)
def _page(tmp_path, figures=()):
    claims = _claims(tmp_path)
    stored = report.load_results(_store(tmp_path))
    return report.render_html(claims, stored, list(figures), tmp_path)


def test_headline_claims_are_registered():
    reg = claims_mod.registry()
    for paper, ids in report.HEADLINES.items():
        assert paper in claims_mod.PAPERS
        assert all(cid in reg and reg[cid].paper == paper for cid in ids), paper


def test_html_has_summary_first_badges_reproduce_commands_and_no_pre(tmp_path):
    text = _page(tmp_path)
    main = text[text.index("<main>"):]
    assert main.index("id='summary'") < main.index("id='contents'") < main.index("id='paper-000'")
    assert "<pre" not in text and "base64" not in text
    assert "<td><span class='v holds'>holds (undeclared)</span>" in text
    # the command that made the Result, under the claim's table
    table_end = text.index("</table>", text.index("id='000:lemma:4.1'"))
    assert text.index("Reproduce: <code>python -m sims.x --seed 0</code>", table_end) < text.index("</article>", table_end)
    # the claim without a verdict is listed, filterable as such
    assert "data-verdict='none' data-paper='000'><td><code>000:lemma:4.2</code>" in text


def test_figures_attach_to_their_claim_or_to_further_figures(tmp_path):
    figs = [report.FigureFile("3.1", "Fig 3.1: accuracy.", tmp_path / "figures" / "fig_3_1.png",
                              (tmp_path / "figures" / "fig_3_1.csv",)),
            report.FigureFile("mechanism", "dead outputs.", tmp_path / "figures" / "fig_mechanism.png")]
    text = _page(tmp_path, figs)
    claim = text[text.index("id='000:figure:3.1'"):]
    assert claim.index("src='figures/fig_3_1.png'") < claim.index("</article>")
    assert "href='figures/fig_3_1.csv'>CSV</a>" in claim
    assert text.index("id='more-figures'") < text.index("src='figures/fig_mechanism.png'")
    assert report.figure_claim("001.6") == "001:figure:6" and report.figure_claim("D.2") == "000:figure:D.2"


def test_every_named_figure_home_is_a_registered_claim_and_figure():
    from figures.__main__ import registry as figure_registry
    reg, figs = claims_mod.registry(), figure_registry()
    for name, cid in report.FIGURE_HOMES.items():
        assert name in figs and cid in reg, (name, cid)


def test_a_re_decided_result_says_so_in_its_source_line(tmp_path):
    from core.result import read_result, redecided
    claims = _claims(tmp_path)
    d = _store(tmp_path)
    stored = read_result(d / "x.json")
    again = redecided(stored, "sims.x.redecide", [Verdict("000:lemma:4.1", "N=10", "fails", 1.5, [1.0, 2.0], 3.0)])
    write_result(again, d / "x.json")
    assert again.config["verdicts_redecided"]["verdicts_before"] == [
        {"claim": "000:lemma:4.1", "setting": "N=10", "verdict": "holds"}]
    twice = redecided(again, "sims.x.redecide", again.verdicts)
    assert twice.config["verdicts_redecided"]["verdicts_before"][0]["verdict"] == "holds"  # the run's own words
    text = report.render_findings(claims, report.load_results(d))
    assert "verdicts re-decided from its stored measurements at commit" in text and "`sims.x.redecide`" in text


def test_a_result_made_by_redecide_from_names_the_measuring_run(tmp_path):
    """The other way of re-deciding (``--redecide-from PATH``: a new Result whose provenance is the
    re-decision's command) keeps the measuring run's command and commit, and the report prints them."""
    import json as _json

    from core.result import Provenance, load_stored, redecided_from
    from core.validate import InvalidArgument
    d = _store(tmp_path)
    stored = load_stored(str(d / "x.json"), "sims.x")
    record = redecided_from(str(d / "x.json"), stored)
    assert record["provenance"]["argv"] == stored["provenance"]["argv"]
    assert record["verdicts_before"] == [{"claim": "000:lemma:4.1", "setting": "N=10", "verdict": "holds"}]
    prov = Provenance.start(argv=["--redecide-from", str(d / "x.json")], module="sims.x", seed=0).stop()
    again = Result("sims.x", {"redecided_from": record}, prov, [], [Verdict("000:lemma:4.1", "N=10", "fails", 1.5)])
    assert redecided_from("elsewhere", _json.loads(_json.dumps(again.to_dict())))["path"] == str(d / "x.json")
    write_result(again, d / "x.json")
    text = report.render_findings(_claims(tmp_path), report.load_results(d))
    assert f"verdicts re-decided from the stored tables of `{d / 'x.json'}`, measured by `" in text
    with pytest.raises(Exception, match="redecide_from"):
        load_stored(str(d / "x.json"), "sims.other")
    (d / "not.json").write_bytes(b"\xff\xfe not json")
    (d / "list.json").write_text("[1, 2]")
    for bad in ("not.json", "list.json"):
        with pytest.raises(InvalidArgument, match="is not a stored Result"):
            load_stored(str(d / bad), "sims.x")
