"""The claims registry (core/claims.json) loads, is complete where it must be, and its loader is strict."""
import json
from collections import Counter

import pytest

from core.claims import (KINDS, NOT_CHECKED_REASONS, PAPERS, REGISTRY_PATH, claim, load_registry,
                         registry)

# Ids other modules rely on, one per numbered object of the papers that an experiment checks or that
# the issue names (paper 000 Sections 3-4 and Appendices A-D, paper 001's examples, paper 004's
# theorems and lemmas, paper 003's abstract).
MUST_EXIST = (
    ["000:theorem:3.1", "000:lemma:4.1", "000:lemma:4.2", "000:theorem:4.1", "000:theorem:4.2",
     "000:theorem:A.1", "000:theorem:A.2", "000:theorem:A.3", "000:theorem:A.4", "000:theorem:A.5",
     "000:lemma:B.2", "000:eq:B.14", "000:eq:C.13", "000:eq:C.28", "000:example:D.1", "000:example:D.2",
     "000:example:D.3", "000:example:3.2", "000:example:4.2", "000:example:4.3", "000:remark:4.11",
     "000:table:3.2", "000:table:3.4", "000:table:3.5", "000:figure:3.6", "000:figure:4.3",
     "000:figure:B.1", "000:text:3.2.1.1", "000:text:4.6.1"]
    + [f"000:algorithm:{k}" for k in (1, 2, 3, 4)]
    + [f"000:assumption:4.{k}" for k in range(1, 6)]
    + [f"000:remark:4.{k}" for k in range(1, 12)]
    + [f"001:example:4.{k}" for k in (1, 3, 4, 5, 6, 7)] + ["001:theorem:3.2", "001:algorithm:4.4"]
    + [f"004:theorem:{k}" for k in (1, 2, 3)] + [f"004:lemma:{k}" for k in range(1, 8)]
    + [f"004:table:{k}" for k in (1, 2, 3)] + ["004:figure:1", "004:figure:2", "004:eq:3", "004:eq:4"]
    + [f"003:abstract:{k}" for k in range(1, 5)]
)

# The independent inventory of issue 9 counted 75 / 24 / 17 checkable claims in papers 000 / 001 /
# 004; the registry also holds unnumbered quantitative sentences, so it can only have more.
INVENTORY = {"000": 75, "001": 24, "004": 17}

GOOD = {"id": "000:lemma:4.1", "paper": "000", "kind": "lemma", "number": "4.1", "section": "4.2",
        "statement": "a statement", "checked_by": ["sims.pruning_theorem"], "not_checked": None}
UNCHECKED = {"id": "000:remark:4.4", "paper": "000", "kind": "remark", "number": "4.4", "section": "4.4",
             "statement": "an analogy", "checked_by": [],
             "not_checked": {"reason": "no_numerical_content", "detail": "an illustration"}}


def _write(tmp_path, entries):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(entries))
    return path


def test_package_registry_loads_and_every_paper_has_claims():
    reg = registry()
    assert set(c.paper for c in reg.values()) == set(PAPERS)
    counts = Counter(c.paper for c in reg.values())
    for paper, n in INVENTORY.items():
        assert counts[paper] >= n, (paper, counts[paper], n)


def test_ids_in_the_file_are_unique():
    ids = [e["id"] for e in json.loads(REGISTRY_PATH.read_text())]
    duplicated = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicated


@pytest.mark.parametrize("cid", MUST_EXIST)
def test_spot_ids_exist(cid):
    assert claim(cid).id == cid


def test_every_claim_is_checked_or_says_why_not():
    for c in registry().values():
        if c.checked_by:
            assert c.not_checked is None, c.id
        else:
            assert c.not_checked["reason"] in NOT_CHECKED_REASONS, c.id
            assert c.not_checked["detail"].strip(), c.id


def test_unknown_id_is_a_clear_error():
    with pytest.raises(ValueError, match="not in the registry"):
        claim("000:lemma:9.9")


def test_loader_accepts_a_minimal_good_file(tmp_path):
    reg = load_registry(_write(tmp_path, [GOOD, UNCHECKED]))
    assert list(reg) == ["000:lemma:4.1", "000:remark:4.4"]
    assert reg["000:lemma:4.1"].checked_by == ("sims.pruning_theorem",)


BAD_ENTRIES = {
    "bad id (no kind)": dict(GOOD, id="000:4.1"),
    "bad id (unknown paper)": dict(GOOD, id="002:lemma:4.1", paper="002"),
    "bad id (unknown kind)": dict(GOOD, id="000:definition:3.1", kind="definition", number="3.1"),
    "id disagrees with fields": dict(GOOD, number="4.2"),
    "checked and not_checked": dict(GOOD, not_checked={"reason": "not_yet_checked", "detail": "x"}),
    "unknown reason": dict(UNCHECKED, not_checked={"reason": "too_hard", "detail": "x"}),
    "reason without detail": dict(UNCHECKED, not_checked={"reason": "not_yet_checked", "detail": " "}),
    "neither checked nor reason": dict(UNCHECKED, not_checked=None),
    "checked_by not a module": dict(GOOD, checked_by=["run the notebook"]),
    "checked_by a string": dict(GOOD, checked_by="sims.pruning_theorem"),
    "checked_by repeated": dict(GOOD, checked_by=["theory", "theory"]),
    "multi-line statement": dict(GOOD, statement="line one\nline two"),
    "empty statement": dict(GOOD, statement="  "),
    "no section": dict(GOOD, section=""),
    "unknown field": dict(GOOD, verdict="holds"),
    "unknown extra": dict(GOOD, extra={"measured": 1.0}),
    "paper_issues not a list": dict(GOOD, extra={"paper_issues": "a typo"}),
}


@pytest.mark.parametrize("name", sorted(BAD_ENTRIES))
def test_loader_rejects_malformed_entries(tmp_path, name):
    with pytest.raises(ValueError):
        load_registry(_write(tmp_path, [BAD_ENTRIES[name]]))


def test_loader_rejects_a_duplicated_id(tmp_path):
    with pytest.raises(ValueError, match="duplicate id 000:lemma:4.1"):
        load_registry(_write(tmp_path, [GOOD, UNCHECKED, dict(GOOD, statement="again")]))


@pytest.mark.parametrize("payload", [{"id": "000:lemma:4.1"}, ["000:lemma:4.1"]])
def test_loader_rejects_a_file_that_is_not_a_list_of_objects(tmp_path, payload):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(ValueError):
        load_registry(path)


def test_kinds_in_use_are_declared():
    assert {c.kind for c in registry().values()} <= set(KINDS)
