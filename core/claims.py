"""The registry of every checkable claim of papers 000, 001, 003 (its abstract) and 004.

Data live in ``core/claims.json`` (a list of objects); this module loads and validates them.
Each claim has

- ``id``: ``<paper>:<kind>:<number>``, e.g. ``000:lemma:4.2``, ``000:figure:3.6``,
  ``004:lemma:5``, ``000:eq:C.13``; unnumbered sentences get ``<paper>:text:<section>.<k>``
  (k-th quantitative sentence of that section, e.g. ``000:text:3.2.1.1``);
- ``paper``, ``kind``, ``number``, ``section``: where it stands in the paper;
- ``statement``: one line, in the paper's terms;
- ``checked_by``: the experiments (module names) whose Results carry verdicts on it;
- ``not_checked``: ``null`` when ``checked_by`` is non-empty, else ``{"reason": R, "detail": ...}``
  with R one of ``NOT_CHECKED_REASONS`` and a detail saying what would check it (for
  ``data_unavailable``: the command and the counterpart we do run, if any);
- ``extra`` (optional): ``same_as`` (the id of a claim with the identical statement in another
  paper, e.g. paper 001's Example 3.3 is paper 000's Example D.1: its verdicts count for both),
  ``partial`` (which part of a claim its checks cover) and ``paper_issues``
  (loose steps, typos and numbering errors of the paper found while registering the claim).

Conventions: a numbered equation that is itself the claim gets kind ``eq`` (``000:eq:C.13``); an
algorithm the paper states in a subsection without a number is ``<paper>:algorithm:<subsection>``
(``001:algorithm:4.4``); the claims of an abstract are ``<paper>:abstract:<k>``.  Definitions are not
registered (they claim nothing).

Whether a claim *has a verdict* is not stored here: the report (``figures.report``) reads it from
the committed Results, so the registry cannot claim a check that no result backs.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# The shape of a claim id (``core.result.Verdict`` checks it too; defined here, below core.result,
# so that the registry imports nothing of the package).
CLAIM_ID = re.compile(r"^(000|001|003|004):[a-z]+:[A-Za-z0-9.\-_]+$")

PAPERS = {
    "000": "Berlyand, Sandier, Shmalo, Zhang: Enhancing accuracy in deep learning using random "
           "matrix theory (2024)",
    "001": "Shmalo, Jenkins, Krupchytskyi: Deep learning weight pruning with RMT-SVD (2023)",
    "003": "Shmalo et al.: Pruning deep neural networks via a combination of the Marchenko-Pastur "
           "distribution and regularization (2025), abstract only",
    "004": "Qian, Klabjan: A probabilistic approach to neural network pruning (ICML 2021)",
}
KINDS = ("theorem", "lemma", "corollary", "proposition", "remark", "example", "algorithm",
         "figure", "table", "eq", "assumption", "text", "abstract")
NOT_CHECKED_REASONS = {
    "data_unavailable": "needs a data set not reachable here (MNIST, CIFAR-10, ImageNet)",
    "needs_gpu": "needs a GPU at paper scale, and no GPU was lent",
    "textbook_result": "a known theorem quoted with a reference, not a claim of the paper",
    "no_numerical_content": "a definition or qualitative statement with nothing to measure",
    "not_yet_checked": "checkable here, but no experiment checks it yet",
}
REGISTRY_PATH = Path(__file__).with_name("claims.json")


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    kind: str
    number: str
    section: str
    statement: str
    checked_by: tuple[str, ...] = ()
    not_checked: dict | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)


EXPERIMENT_NAME = re.compile(r"^(theory|(sims|nets)\.[a-z_][a-z0-9_]*)$")


def _parse(entry: dict, where: str) -> Claim:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: an entry must be a JSON object, got {type(entry).__name__}")
    known = {"id", "paper", "kind", "number", "section", "statement", "checked_by", "not_checked",
             "extra"}
    unknown = set(entry) - known
    if unknown:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)}")
    cid = entry.get("id", "")
    if not isinstance(cid, str) or not CLAIM_ID.match(cid):
        raise ValueError(f"{where}: id {cid!r} is not '<paper>:<kind>:<number>'")
    paper, kind, number = cid.split(":", 2)
    if paper not in PAPERS or kind not in KINDS:
        raise ValueError(f"{where}: id {cid!r}: paper must be one of {sorted(PAPERS)}, kind one "
                         f"of {KINDS}")
    if (entry.get("paper"), entry.get("kind"), entry.get("number")) != (paper, kind, number):
        raise ValueError(f"{where}: paper/kind/number fields disagree with id {cid!r}")
    section = entry.get("section")
    if not isinstance(section, str) or not section.strip():
        raise ValueError(f"{where}: {cid} has no section (where the claim stands in the paper)")
    statement = entry.get("statement")
    if not isinstance(statement, str) or not statement.strip() or "\n" in statement.strip():
        raise ValueError(f"{where}: {cid} needs a one-line statement")
    raw_checked_by = entry.get("checked_by") or []
    if not isinstance(raw_checked_by, list) or not all(isinstance(m, str) for m in raw_checked_by):
        raise ValueError(f"{where}: {cid}: checked_by must be a list of module names")
    checked_by = tuple(raw_checked_by)
    bad = [m for m in checked_by if not EXPERIMENT_NAME.match(m)]
    if bad or len(set(checked_by)) != len(checked_by):
        raise ValueError(f"{where}: {cid}: checked_by {list(checked_by)} must be distinct experiment "
                         f"modules ('theory', 'sims.<name>' or 'nets.<name>')")
    nc = entry.get("not_checked")
    if checked_by and nc is not None:
        raise ValueError(f"{where}: {cid} is both checked_by {checked_by} and not_checked")
    if not checked_by:
        if not isinstance(nc, dict) or nc.get("reason") not in NOT_CHECKED_REASONS:
            raise ValueError(f"{where}: {cid} has no checked_by, so not_checked.reason must be "
                             f"one of {sorted(NOT_CHECKED_REASONS)}")
        if set(nc) != {"reason", "detail"} or not isinstance(nc["detail"], str) \
                or not nc["detail"].strip():
            raise ValueError(f"{where}: {cid}: not_checked must be {{'reason': R, 'detail': text}} with "
                             f"a non-empty detail (what would check it, or why nothing can)")
    extra = entry.get("extra") or {}
    if not isinstance(extra, dict) or set(extra) - {"partial", "paper_issues", "same_as"} \
            or not isinstance(extra.get("partial", ""), str) \
            or not isinstance(extra.get("same_as", ""), str) \
            or not isinstance(extra.get("paper_issues", []), list) \
            or not all(isinstance(x, str) and x.strip() for x in extra.get("paper_issues", [])):
        raise ValueError(f"{where}: {cid}: extra may hold only 'partial' (text), 'paper_issues' "
                         f"(a list of texts) and 'same_as' (the id of the identical claim)")
    return Claim(id=cid, paper=paper, kind=kind, number=number, section=section.strip(),
                 statement=statement.strip(), checked_by=checked_by, not_checked=nc, extra=extra)


def load_registry(path: str | Path = REGISTRY_PATH) -> dict[str, Claim]:
    """All claims by id, in file order; ValueError on a malformed or duplicated entry."""
    path = Path(path)
    entries = json.loads(path.read_text())
    if not isinstance(entries, list):
        raise ValueError(f"{path.name}: the registry must be a JSON list of claims")
    out: dict[str, Claim] = {}
    for i, e in enumerate(entries):
        c = _parse(e, f"{path.name}[{i}]")
        if c.id in out:
            raise ValueError(f"{path.name}[{i}]: duplicate id {c.id}")
        out[c.id] = c
    for c in out.values():
        target = c.extra.get("same_as")
        if target is not None and (target not in out or target == c.id
                                   or "same_as" in out[target].extra):
            raise ValueError(f"{path.name}: {c.id}: same_as {target!r} must name another claim of "
                             f"the registry that is not itself a same_as")
    return out


@lru_cache(maxsize=1)
def registry() -> dict[str, Claim]:
    """The package's registry (cached)."""
    return load_registry()


def claim(cid: str) -> Claim:
    try:
        return registry()[cid]
    except KeyError:
        raise ValueError(f"claim {cid!r} is not in the registry core/claims.json") from None


# ---------------------------------------------------------------------------------------------
# Claim ids checked at birth
#
# An experiment declares the claims it checks (``declare_experiment``, called for every registered
# experiment by ``sims.registry``).  While one runs (``checking_claims_of``: entered by the run
# context ``sims.experiment.ExperimentRun`` and by ``core.cli.run`` for the module's command line),
# every ``core.result.Verdict`` created checks its id: it must be in ``core/claims.json`` and among
# the running experiment's declared claims, else ``ValueError`` at once, before any compute is
# spent on the rest of the run.  Outside a run (reading stored Results, tests building a verdict by
# hand) a verdict's id is checked for its shape only; the report joins it with the registry.

_DECLARED: dict[str, frozenset[str]] = {}
_RUNNING: ContextVar[tuple[str, frozenset[str]] | None] = ContextVar("running_experiment",
                                                                       default=None)


def declare_experiment(name: str, claims) -> frozenset[str]:
    """Record that experiment ``name`` (its module, e.g. ``sims.example_3_2``) checks ``claims``;
    ValueError naming the first id that is not in the registry.  Declaring again replaces."""
    ids = frozenset(claims)
    unknown = sorted(ids - set(registry()))
    if unknown:
        raise ValueError(f"{name} declares {unknown}, not in the registry core/claims.json")
    _DECLARED[name] = ids
    return ids


def declared_claims(name: str) -> frozenset[str] | None:
    """The claims ``name`` declared, None when it declared none (not a registered experiment)."""
    return _DECLARED.get(name)


@contextmanager
def checking_claims_of(name: str | None):
    """While inside, every new Verdict must carry a claim that ``name`` declared.  A name that
    declared nothing (or None) checks nothing, so unregistered code keeps working."""
    ids = _DECLARED.get(name) if name else None
    token = _RUNNING.set(None if ids is None else (name, ids))
    try:
        yield
    finally:
        _RUNNING.reset(token)


@contextmanager
def not_at_birth():
    """Verdicts built inside are read back, not born (``core.result.read_result``): no check."""
    token = _RUNNING.set(None)
    try:
        yield
    finally:
        _RUNNING.reset(token)


def check_at_birth(cid: str) -> None:
    """Called by ``Verdict.__post_init__``: raise when a running experiment makes a verdict on a
    claim the registry does not hold or that the experiment did not declare."""
    running = _RUNNING.get()
    if running is None:
        return
    name, ids = running
    if cid not in registry():
        raise ValueError(f"{name}: verdict on {cid!r}, which is not in the registry core/claims.json")
    if cid not in ids:
        raise ValueError(f"{name}: verdict on {cid!r}, which {name} did not declare (its claims: "
                         f"{sorted(ids)}); add it to the declaration in sims/registry.py")
