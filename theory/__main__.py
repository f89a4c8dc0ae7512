"""`python -m theory`: every formula of theory/ against an independent check (the self-check).

Each theory module may define ``self_check() -> list[dict]`` with keys ``check`` (what is
compared), ``value``, ``reference``, ``error`` and ``ok``.  The rows become the records of one
Result (experiment ``theory``); a row that checks a claim of a paper (``PAPER_CLAIMS``) also gives
a verdict on that claim, by the rule its claim family declares in ``DECLARATIONS`` (core.protocol:
``approximately`` within EXACT for an identity of closed forms, ``bound`` for the 0.03 of Fig 4.2).
Example B.2 is decided as intended (its printed slips restored, as (B.6) has them) with the paper
issue in the note; its printed form stays a self-check row.  Exit status 1 when a row is not ok.  The committed result is
``results/theory.json``.  The registry's typed unit of this same check is ``sims.theory_self_check``
(theory/ may not import the experiment layer, so the command line stays here, on core.cli).
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

from core import protocol
from core.cli import make_parser, prose, run as cli_run
from core.result import Provenance, Result, Verdict

import theory

MODULE = "theory"

# Exact formulas: no N and no reduction, so every claim here is checked as the paper states it
# (scale "paper").  EXACT is the tolerance of an identity between two closed forms evaluated in
# float64 (the self-check rows' own relative tolerance is 1e-12; cancelling radicands need 1e-9).
EXACT = 1e-9
DECLARATIONS = {
    "000:theorem:3.1": protocol.declare(
        "000:theorem:3.1", "variance of the MP density (3.2) on the edges (3.3) by quadrature against "
        "sigma^4 c", "approximately", margin=EXACT),
    "000:example:B.1": protocol.declare(
        "000:example:B.1", "(4.24) = (B.7) against (B.6) fed with Theorems A.3/A.4's limits",
        "approximately", margin=EXACT),
    "000:figure:4.2": protocol.declare(
        "000:figure:4.2", "f_W(5) - 1 of (4.24) against the text's 0.03 (Sec. 4.6 on Fig 4.2)", "bound",
        margin=0.03),
    "000:theorem:A.1": protocol.declare(
        "000:theorem:A.1", "D^{-1}(1/theta^2) of (A.1)-(A.3) against the closed forms of Theorem A.3 / "
        "the rectangular model", "approximately", margin=EXACT),
    "000:example:B.2": protocol.declare(
        "000:example:B.2", "Example B.2 read as intended (square on D^{-1} and sigma_i in the overlap "
        "restored, as (B.6) has them) against (B.7), Example 4.2 spikes", "approximately",
        margin=EXACT),
    "000:lemma:B.2": protocol.declare(
        "000:lemma:B.2", "f_W of (4.24) against the derived limit of ||(W'-S) v_r|| ((B.5) attained)",
        "approximately", margin=EXACT),
    "000:eq:B.14": protocol.declare(
        "000:eq:B.14", "f_W of (4.24) against the derived a.s. limit of ||W'-S||_2", "approximately",
        margin=EXACT),
    "000:theorem:A.3": protocol.declare(
        "000:theorem:A.3", "sympy difference of BGN's rectangular formula at c = 1 and Theorem A.3",
        "approximately", margin=EXACT),
    "000:theorem:A.4": protocol.declare(
        "000:theorem:A.4", "sympy difference of BGN's rectangular formula at c = 1 and Theorem A.4",
        "approximately", margin=EXACT),
}

# Paper issues found by these rows (a printed typo whose intended statement is evident from the
# paper's own equations gets the verdict of the intended statement, plus this note).
EXAMPLE_B2_ISSUE = ("paper issue: Example B.2 as printed has D^{-1}(1/sigma_i^2) unsquared in the first "
                    "term and sigma_r for sigma_i in the overlap (and the u-overlap twice; equal to "
                    "the v-overlap for Example A.1); as printed its radicand is negative at sigma_i = "
                    "30 (row 'Example B.2 printed radicand'); restored as (B.6) has it, it is (B.7)")

# (module, check) -> [(claim id, how the row decides it: "equal" (value = reference within the
# declared tolerance) or "at_most" (value <= the declared margin), what the row shows)].
PAPER_CLAIMS: dict[tuple[str, str], list[tuple]] = {
    ("marchenko_pastur", "MP variance var^2 c vs quad, c=0.25"): [
        ("000:theorem:3.1", "equal", "the density (3.2) on the edges (3.3) integrates to the MP law's "
                                     "variance sigma^4 c (c = 0.25)")],
    ("marchenko_pastur", "MP variance var^2 c vs quad, c=1.0"): [
        ("000:theorem:3.1", "equal", "the density (3.2) on the edges (3.3) integrates to the MP law's "
                                     "variance sigma^4 c (c = 1)")],
    ("approximation", "(4.24) vs (B.6) with A.3/A.4, Example 4.2 spikes"): [
        ("000:example:B.1", "equal", "(B.6) fed with Theorems A.3/A.4's limits equals (4.24) = (B.7) "
                                     "at the Example 4.2 spikes")],
    ("approximation", "(4.24) remark: f_W(5) - 1 <= 0.03 (value=f_W(5)-1)"): [
        ("000:figure:4.2", "at_most", "|f_W - 1| <= 0.03 at sigma_r = 5 (Sec. 4.6 text on Fig. 4.2)")],
    ("approximation", "B.2 transform: D^{-1}(1/30^2) vs A.3 (1+30^2)/30"): [
        ("000:theorem:A.1", "equal", "A.1's limit D^{-1}(1/sigma^2) of the square Gaussian model is "
                                     "Theorem A.3's (1 + sigma^2)/sigma at sigma = 30")],
    ("approximation", "Example B.2 restored (D^{-1} squared, sigma_i) vs (B.7), Example 4.2 spikes"): [
        ("000:example:B.2", "equal", "Example B.2 read as intended equals (B.7) at the Example 4.2 "
                                     "spikes; " + EXAMPLE_B2_ISSUE)],
    ("approximation_symbolic", "(B.5) f_W (4.24) == derived lim ||(W'-S)v_r||, Ex 4.2"): [
        ("000:lemma:B.2", "equal", "(B.5) is attained: f_W of (4.24) equals the derived limit of "
                                   "||(W'-S) v_r|| (Example 4.2 spikes)")],
    ("approximation_symbolic", "(B.14) FINDING f_W(4.24) != lim||W'-S||_2 (Ex 4.2)"): [
        ("000:eq:B.14", "equal", "f_W of (4.24) against the derived operator-norm limit of "
                                 "||W'-S||_2 (Example 4.2 spikes)")],
    ("approximation_symbolic", "(B.14) FINDING f_W(4.24) != lim||W'-S||_2 (theta=2)"): [
        ("000:eq:B.14", "equal", "f_W of (4.24) against the derived operator-norm limit of "
                                 "||W'-S||_2 (theta = 2)")],
    **{("spiked", f"D_MP^-1(1/theta^2) vs closed form, c={c}, theta=2"): [
        ("000:theorem:A.1", "equal", f"A.1's limit D^{{-1}}(1/theta^2) with the MP D-transform equals "
                                     f"the rectangular closed form (c = {c}, theta = 2)")]
       for c in (0.25, 1.0, 3.0)},
    ("symbolic", "sympy: rectangular -> Theorems A.3/A.4 at c = 1"): [
        ("000:theorem:A.3", "equal", "Benaych-Georges-Nadakuditi's rectangular formulas reduce "
                                     "to Theorem A.3 at c = 1 (sympy)"),
        ("000:theorem:A.4", "equal", "Benaych-Georges-Nadakuditi's rectangular formulas reduce "
                                     "to Theorem A.4 at c = 1 (sympy)")],
}


def collect_rows() -> list[dict]:
    rows = []
    for info in sorted(pkgutil.iter_modules(theory.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"theory.{info.name}")
        check = getattr(module, "self_check", None)
        if check is None:
            continue
        for row in check():
            rows.append({"table": "self_check", "module": info.name, **row})
    return rows


def decide(row: dict, claim: str, how: str) -> protocol.Decision:
    """The protocol's decision on ``claim`` from one self-check row.  A row that is not ok means the
    formula's independent check broke: the deciding computation is missing, so the claim is left
    undecided (``protocol.withheld``) until it is repaired."""
    decl = DECLARATIONS[claim]
    if not row["ok"]:
        return protocol.withheld(decl, f"self-check row not ok ({row['check']}): the check itself broke")
    if how == "at_most":
        return protocol.bound(decl, row["value"], decl.margin)
    if how == "equal":
        return protocol.approximately(decl, row["value"], row["reference"])
    raise ValueError(f"how must be 'equal' or 'at_most', got {how!r}")


def verdicts_from_rows(rows: list[dict]) -> list[Verdict]:
    """One verdict per (row, claim) of ``PAPER_CLAIMS``, each by the rule its claim declares."""
    out = []
    for r in rows:
        for claim, how, what in PAPER_CLAIMS.get((r["module"], r["check"]), ()):
            decision = decide(r, claim, how)
            bound = DECLARATIONS[claim].margin if how == "at_most" else r["reference"]
            out.append(protocol.verdict(
                DECLARATIONS[claim], decision, setting=f"theory.{r['module']}: {r['check']}",
                measured=r["value"], bound=bound, note=what if r["ok"] else f"self-check row not ok: {what}",
                extra=dict(check=r["check"], module=r["module"], error=r["error"])))
    return out


def experiment(*, argv: list[str] | None = None) -> Result:
    """The self-check as a Result.  ``argv``: the command-line arguments when called from the
    CLI (kept in the provenance); None from Python."""
    prov = Provenance.start(module=MODULE if argv is not None else None,
                            argv=list(argv) if argv is not None else [], device="cpu")
    rows = collect_rows()
    return Result(experiment=MODULE, config={}, provenance=prov.stop(), records=rows,
                  verdicts=verdicts_from_rows(rows))


def self_check_line(rows: int, failed: int) -> str:
    """What the first count of ``python -m theory`` is: rows of the formulas' self-check (each
    formula against an independent computation), not verdicts on the papers' claims (the table
    and its count line after it)."""
    return (f"self-check of the formulas: {rows - failed} of {rows} rows agree with an independent "
            f"computation{'' if not failed else f' ({failed} NOT OK)'}; the verdicts on paper "
            f"claims follow")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = make_parser(MODULE, __doc__, options=("json",))
    failed: list[dict] = []

    def body(args) -> Result:
        result = experiment(argv=argv)
        failed.extend(r for r in result.records if not r["ok"])
        for r in failed:
            print(prose(f"NOT OK  theory.{r['module']}: {r['check']} (value {r['value']:.10g}, "
                        f"reference {r['reference']:.10g}, error {r['error']:.1e})"))
        print(prose(self_check_line(len(result.records), len(failed))))
        return result

    status = cli_run(p, argv, body)
    return 1 if failed else status


if __name__ == "__main__":
    sys.exit(main())
