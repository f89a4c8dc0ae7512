"""`python -m theory`: every formula of theory/ against an independent check (the self-check).

Each theory module may define ``self_check() -> list[dict]`` with keys ``check`` (what is
compared), ``value``, ``reference``, ``error`` and ``ok``.  The rows become the records of one
Result (experiment ``theory``); a row that checks a claim of a paper (``PAPER_CLAIMS``) also gives
a verdict on that claim.  Exit status 1 when a row is not ok.  The committed result is
``results/theory.json``.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

from core.cli import make_parser, prose, run as cli_run
from core.result import Provenance, Result, Verdict

import theory

MODULE = "theory"

# (module, check) -> [(claim id, verdict when the row is ok, what the row shows about the claim,
# the paper's bound when it is not the row's reference)].  A row marked FINDING is ok when the
# paper's statement is contradicted, hence "fails".
PAPER_CLAIMS: dict[tuple[str, str], list[tuple]] = {
    ("marchenko_pastur", "MP variance var^2 c vs quad, c=0.25"): [
        ("000:theorem:3.1", "holds", "the density (3.2) on the edges (3.3) integrates to the MP law's "
                                     "variance sigma^4 c (c = 0.25)")],
    ("marchenko_pastur", "MP variance var^2 c vs quad, c=1.0"): [
        ("000:theorem:3.1", "holds", "the density (3.2) on the edges (3.3) integrates to the MP law's "
                                     "variance sigma^4 c (c = 1)")],
    ("approximation", "(4.24) vs (B.6) with A.3/A.4, Example 4.2 spikes"): [
        ("000:example:B.1", "holds", "(B.6) fed with Theorems A.3/A.4's limits equals (4.24) = (B.7) "
                                     "at the Example 4.2 spikes")],
    ("approximation", "(4.24) remark: f_W(5) - 1 <= 0.03 (value=f_W(5)-1)"): [
        ("000:figure:4.2", "holds", "|f_W - 1| <= 0.03 at sigma_r = 5 (Sec. 4.6 text on Fig. 4.2)",
         0.03)],
    ("approximation", "B.2 transform: D^{-1}(1/30^2) vs A.3 (1+30^2)/30"): [
        ("000:theorem:A.1", "holds", "A.1's limit D^{-1}(1/sigma^2) of the square Gaussian model is "
                                     "Theorem A.3's (1 + sigma^2)/sigma at sigma = 30")],
    ("approximation", "Example B.2 printed radicand at sigma=30 (<0: typo)"): [
        ("000:example:B.2", "fails", "Example B.2's f_W as printed has a negative radicand at "
                                     "sigma_i = 30 (the spikes of Example 4.2)", 0.0)],
    ("approximation_symbolic", "(B.5) f_W (4.24) == derived lim ||(W'-S)v_r||, Ex 4.2"): [
        ("000:lemma:B.2", "holds", "(B.5) is attained: f_W of (4.24) equals the derived limit of "
                                   "||(W'-S) v_r|| (Example 4.2 spikes)")],
    ("approximation_symbolic", "(B.14) FINDING f_W(4.24) != lim||W'-S||_2 (Ex 4.2)"): [
        ("000:eq:B.14", "fails", "f_W of (4.24) is below the derived operator-norm limit of "
                                 "||W'-S||_2 (Example 4.2 spikes)")],
    ("approximation_symbolic", "(B.14) FINDING f_W(4.24) != lim||W'-S||_2 (theta=2)"): [
        ("000:eq:B.14", "fails", "f_W of (4.24) is below the derived operator-norm limit of "
                                 "||W'-S||_2 (theta = 2)")],
    **{("spiked", f"D_MP^-1(1/theta^2) vs closed form, c={c}, theta=2"): [
        ("000:theorem:A.1", "holds", f"A.1's limit D^{{-1}}(1/theta^2) with the MP D-transform equals "
                                     f"the rectangular closed form (c = {c}, theta = 2)")]
       for c in (0.25, 1.0, 3.0)},
    ("symbolic", "sympy: rectangular -> Theorems A.3/A.4 at c = 1"): [
        ("000:theorem:A.3", "holds", "Benaych-Georges-Nadakuditi's rectangular formulas reduce "
                                     "to Theorem A.3 at c = 1 (sympy)"),
        ("000:theorem:A.4", "holds", "Benaych-Georges-Nadakuditi's rectangular formulas reduce "
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


def verdicts_from_rows(rows: list[dict]) -> list[Verdict]:
    """One verdict per (row, claim) of ``PAPER_CLAIMS``; a row that is not ok gives
    ``inconclusive`` (the check itself broke: investigate before reading it either way)."""
    out = []
    for r in rows:
        for claim, when_ok, what, *bound in PAPER_CLAIMS.get((r["module"], r["check"]), ()):
            out.append(Verdict(claim=claim, setting=f"theory.{r['module']}: {r['check']}",
                               verdict=when_ok if r["ok"] else "inconclusive",
                               measured=r["value"], bound=bound[0] if bound else r["reference"],
                               note=what if r["ok"] else f"self-check row not ok: {what}",
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
