"""Every registered claim is accounted for: a stored verdict in a committed Result (its own, or that
of the identical claim it is ``same_as``), or a not-checked reason in core/claims.json.

Read directly from the files (not through figures.report), so the report's coverage table and this
check are two independent readings of the same registry and Results."""
import json
from pathlib import Path

from core.claims import NOT_CHECKED_REASONS, load_registry
from core.result import PACKAGE_ROOT, read_result

RESULTS = PACKAGE_ROOT / "results"


def stored_verdict_claims(results_dir: Path = RESULTS) -> dict[str, set[str]]:
    """claim id -> the committed Results (paths below results/) holding a verdict on it; the
    reproduce-test fixtures under results/smoke/ are not evidence."""
    out: dict[str, set[str]] = {}
    for path in sorted(results_dir.rglob("*.json")):
        rel = path.relative_to(results_dir)
        if rel.parts[0] == "smoke":
            continue
        for v in read_result(path).verdicts:
            out.setdefault(v.claim, set()).add(rel.as_posix())
    return out


def unaccounted(claims: dict, stored: dict[str, set[str]]) -> list[str]:
    """Ids with neither a stored verdict (own or same_as) nor a not-checked reason, each with why."""
    problems = []
    for c in claims.values():
        if c.id in stored or c.extra.get("same_as", "") in stored:
            continue
        if c.checked_by:
            problems.append(f"{c.id}: assigned to {list(c.checked_by)} but no committed Result has a "
                            "verdict on it")
        elif not (c.not_checked and c.not_checked.get("reason") in NOT_CHECKED_REASONS
                  and c.not_checked.get("detail", "").strip()):
            problems.append(f"{c.id}: no verdict and no not-checked reason")
    return problems


def test_every_registered_claim_has_a_verdict_or_a_not_checked_reason():
    problems = unaccounted(load_registry(), stored_verdict_claims())
    assert not problems, "\n".join(problems)


def test_the_check_catches_an_assigned_claim_without_a_verdict(tmp_path):
    entries = [
        {"id": "000:lemma:4.1", "paper": "000", "kind": "lemma", "number": "4.1", "section": "4.2",
         "statement": "s", "checked_by": ["sims.pruning_theorem"], "not_checked": None},
        {"id": "000:lemma:4.2", "paper": "000", "kind": "lemma", "number": "4.2", "section": "4.4",
         "statement": "s", "checked_by": [], "not_checked": {"reason": "not_yet_checked",
                                                              "detail": "what would check it"}},
        {"id": "001:lemma:4.2", "paper": "001", "kind": "lemma", "number": "4.2", "section": "4",
         "statement": "s", "checked_by": ["sims.pruning_theorem"], "not_checked": None,
         "extra": {"same_as": "000:lemma:4.1"}},
    ]
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(entries))
    claims = load_registry(path)
    assert unaccounted(claims, {}) == [
        "000:lemma:4.1: assigned to ['sims.pruning_theorem'] but no committed Result has a verdict on it",
        "001:lemma:4.2: assigned to ['sims.pruning_theorem'] but no committed Result has a verdict on it"]
    # a verdict on the twin accounts for the same_as claim too; the not-checked one needs none
    assert unaccounted(claims, {"000:lemma:4.1": {"x.json"}}) == []
