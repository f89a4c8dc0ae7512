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
    assert "| N=10 | 1.5 [1, 2] | 3 | holds |" in a
    assert a != b


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
