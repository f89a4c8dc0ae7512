"""Paper 004's bounds and the verdicts of ``sims.paper004_theorems``: the epsilons and probabilities of
Theorems 1 and 2, the admissible alpha of condition (3), Lemma 6's event, the rates the proofs derive
against the sharp RMT rates, and the verdicts on each.

Every verdict is made by ``core.protocol`` from a family declared here, before the runs
(``DECLARATIONS``; the probability families take the theorem's own closed-form bound as their
margin, ``probability_declaration``), with Holm's adjustment within each family of exact binomial
tests:

* ``004:text:B.2.1`` / ``004:eq:19`` (rates in the proofs of Theorems 1 and 2, B.2 and (19)):
  ``bound`` on the far (lower) end of the 95% interval of the fitted log-log slope of mean
  ||W_k - W_k*||_2 in d against the rate the proof derives;
* ``004:theorem:1`` / ``004:theorem:2`` ((29) and (15)-(6)): ``condition`` (vacuous) where the
  guaranteed probability p0(d, alpha) is <= 0, else ``proportion``: the networks whose chain upper
  bound certifies sup ||f - F|| <= epsilon, exact binomial test of "P >= p0";
* ``004:eq:3`` / ``004:eq:4``: ``bound``, exact arithmetic: floor(D^(1-alpha)) at the printed limit
  of (3) (and D^(1-alpha) for (4)) against the d log d that B.1 says they guarantee; and a second
  family of ``004:eq:3``, the measured consequence: at an alpha that printed (3)-(4) allow but where
  floor(D^(1-alpha)) < d log d (Lemma 6 does not apply), the fraction of masks with B.1's event A
  against (1 - d^(-1/3))^(2(l-2)) (exact binomial; these rows were filed under Lemma 6 before:
  they test what (3)-(4) are for, B.1 "Note that (3) and (4) guarantee ... Thus by Lemma 6");
* ``004:lemma:6`` as B.1 uses it (premise floor(D^(1-alpha)) >= d log d met): the same fraction
  against the same bound.  Rows where neither Lemma 6 applies nor printed (3) allows alpha test no
  claim and make no verdict (their counts stay in the records).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from core import protocol as P
from core.result import Verdict
from sims.paper004_theorems_networks import DEPTH, n_pruned
from sims.stats import loglog_fit, proportion_ci
from theory import norm_predictions as npred

K_UNIFORM = math.sqrt(3.0)      # Theorem 1 (iii): variance K^2 / (3 max) = 1 / max
LATALA_C_FAVOURABLE = 0.6       # about the smallest C of Table 3 for iid rows; the universal C is >= this
# claim ids (core.claims registry)
THEOREM_1, THEOREM_2, EQ_19 = "004:theorem:1", "004:theorem:2", "004:eq:19"
LEMMA_6, EQ_3, EQ_4 = "004:lemma:6", "004:eq:3", "004:eq:4"
PROOF_B2 = "004:text:B.2.1"     # Theorem 1's proof: E||W - W*||_2 <= c_2 d^(-2 alpha)
ALPHA = 0.05
SCALE_NETS = ("hidden widths d = 64-512, 3 target networks per (weights, d), depth 4, d_0 = d_l = 16 "
              "(the claims are for every d meeting their conditions)")
EXACT = P.PAPER   # exact arithmetic of the claim itself: no reduction
DECLARATIONS = {
    "rate_B2": P.declare(PROOF_B2, "fitted log-log slope in d of mean ||W_k - W_k*||_2 (magnitude "
                         "pruning), lower end of its 95% interval, against the proof's -2 alpha",
                         "bound", alpha=ALPHA, scale=SCALE_NETS),
    "rate_19": P.declare(EQ_19, "fitted log-log slope in d of mean ||W_k - W_k*||_2 (random pruning), "
                         "lower end of its 95% interval, against (19)'s -alpha/2", "bound", alpha=ALPHA,
                         scale=SCALE_NETS),
    "theorem_1_p0": P.declare(THEOREM_1, "guaranteed probability p0(d, alpha) of Theorem 1 (its proof, "
                              "B.2) > 0", "condition", alpha=ALPHA, scale=SCALE_NETS,
                              family="004:theorem:1 p0 > 0"),
    "theorem_2_p0": P.declare(THEOREM_2, "guaranteed probability p0(d, alpha) of Theorem 2 ((15), "
                              "deltas = 0) > 0", "condition", alpha=ALPHA, scale=SCALE_NETS,
                              family="004:theorem:2 p0 > 0"),
    "eq_3": P.declare(EQ_3, "floor(D^(1-alpha)) at the printed limit of (3), square layers, against "
                      "d log d (exact)", "bound", alpha=ALPHA, scale=EXACT),
    "eq_4": P.declare(EQ_4, "D^(1-alpha) at the printed limit of (4), square layers, against d log d "
                      "(exact)", "bound", alpha=ALPHA, scale=EXACT),
}
PROBABILITY_ENDPOINTS = {
    THEOREM_1: "networks whose chain upper bound certifies sup_ball ||f - F|| <= epsilon (29), out of "
               "those drawn; exact binomial test of P >= p0(d, alpha)",
    THEOREM_2: "networks whose chain upper bound certifies sup_ball ||f - F|| <= epsilon (15), out of "
               "those drawn; exact binomial test of P >= p0(d, alpha)",
    EQ_3: "masks with B.1's event A (every row and column of both pruned layers holds <= 3 m/d zeros) "
          "at alpha allowed by printed (3)-(4) with floor(D^(1-alpha)) < d log d; exact binomial test "
          "of P(A) >= (1 - d^(-1/3))^(2(l-2))",
    LEMMA_6: "masks with B.1's event A where floor(D^(1-alpha)) >= d log d (Lemma 6 applies); exact "
             "binomial test of P(A) >= (1 - d^(-1/3))^(2(l-2))",
}


def probability_declaration(claim: str, bound: float) -> P.Declaration:
    """The declared family of a "probability at least ``bound``" claim: ``bound`` is the paper's
    closed form at (d, alpha) (p0 of Theorem 1/2, or (1 - d^(-1/3))^(2(l-2)) of B.1), known
    before any network is drawn."""
    return P.declare(claim, PROBABILITY_ENDPOINTS[claim], "proportion", alpha=ALPHA, scale=SCALE_NETS,
                     margin=bound, family=f"{claim} probability")


def networks_needed(bound: float, successes: int, trials: int, alpha: float = ALPHA) -> int | None:
    """What would decide an inconclusive row of "P >= bound" at the observed outcome: the number of
    networks, all successes (or all failures), for which the exact one-sided binomial test rejects at
    ``alpha`` before Holm (bound^n <= alpha, or (1 - bound)^n <= alpha); None for a mixed outcome."""
    p = bound if successes == trials else 1 - bound if successes == 0 else None
    if p is None or not 0 < p < 1:
        return None
    return math.ceil(math.log(alpha) / math.log(p))


def _proportion_at_least(decl: P.Declaration, certain: int, possible: int, n: int,
                         uncertain: str) -> P.Decision:
    """Exact binomial test of "P >= margin" when ``certain`` of ``n`` trials certainly succeed and
    ``possible`` (>= certain) may: the word both counts agree on, else the undecided trials
    (``uncertain``) are the missing data."""
    low = P.proportion(decl, certain, n, at_most=False)
    if certain == possible:
        decision = low
    else:
        high = P.proportion(decl, possible, n, at_most=False)
        decision = low if low.word == high.word else P.withheld(decl, uncertain)
    decision.extra["networks_needed"] = networks_needed(decl.margin, certain, n, decl.alpha)
    return decision


def theorem1_epsilon(d: int, alpha: float, c0: float, depth: int = DEPTH) -> float:
    """(2^(l-2) - 1) d^(-alpha) L^(l-1) c_0^(l-1), L = 1: the bound of (29) that Theorem 1 delivers."""
    return (2 ** (depth - 2) - 1) * d ** (-alpha) * c0 ** (depth - 1)


def theorem1_probability(d: int, alpha: float, q: float, latala_c: float, K: float = K_UNIFORM,
                         depth: int = DEPTH) -> float:
    """p_0 = (1 - 2e^{-4 delta_0 d}) (1 - (l-2) c_2 d^(-alpha) - (l+1)(l-2) e^{-4 delta_0 d}) (proof of
    Theorem 1), c_2 = C K (2 sqrt 2 + 24^(1/4)), with (c_0, delta_0) taken from Lemma 3 at level q for
    n = d, so that 2 e^{-4 delta_0 d} = 1 - q.  May be negative: then the guarantee is vacuous."""
    c2 = latala_c * K * (2 * math.sqrt(2) + 24 ** 0.25)
    e = (1 - q) / 2
    return (1 - 2 * e) * (1 - (depth - 2) * c2 * d ** (-alpha) - (depth + 1) * (depth - 2) * e)


def theorem2_epsilon(d: int, alpha: float, norms_product: float, depth: int = DEPTH) -> float:
    """(2^(l-2) - 1) d^(-alpha/4) L^(l-1) N_{1:l}: the bound of (15)."""
    return (2 ** (depth - 2) - 1) * d ** (-alpha / 4) * norms_product


def theorem2_probability(d: int, alpha: float, latala_c: float, deltas: float = 0.0, K1: float = 1.0,
                         K2: float = 3.0, depth: int = DEPTH) -> float:
    """(1 - d^(-1/3))^(2(l-2)) (1 - delta_l) [1 - (l-2) c_2 d^(-alpha/4) - sum (l-i) delta_i] with
    c_2 = C (2 sqrt(3 K_1) + K_2^(1/4)) ((19)); ``deltas`` lumps the delta terms."""
    c2 = latala_c * (2 * math.sqrt(3 * K1) + K2 ** 0.25)
    return (1 - d ** (-1 / 3)) ** (2 * (depth - 2)) * (1 - (depth - 2) * c2 * d ** (-alpha / 4) - deltas)


def theorem2_alpha_max(d_next: int, d_k: int, printed: bool = True) -> float:
    """Upper limit on alpha of condition (3).  Printed: 1 - (log(d+1) - log log d) / (log d_{k+1} + log d_k);
    corrected (what floor(D^(1-alpha)) >= d log d needs): the same with + log log d."""
    sign = -1.0 if printed else 1.0
    return 1 - (math.log(d_next + 1) + sign * math.log(math.log(d_next))) / (math.log(d_next) + math.log(d_k))


def lemma6_event(mask_zero: torch.Tensor, m: int) -> bool:
    """Event A^(k) of B.1: every row and column has at most 3 m / d zero entries."""
    rows, cols = mask_zero.shape
    return bool(mask_zero.sum(1).max() <= 3 * m / rows and mask_zero.sum(0).max() <= 3 * m / cols)


def _claimed_slope(method: str, alpha: float) -> tuple[float, float, str]:
    """(rate of E||Delta|| the proof derives, rate of the event it uses, source)."""
    if method == "magnitude":
        return -2 * alpha, -alpha, "Theorem 1 proof (B.2): E||W-W*|| <= c2 d^-2a, event <= d^-a"
    return -alpha / 2, -alpha / 4, "Theorem 2 proof (19): E[||W-W*|| | A] <= c2 d^-a/2, event <= d^-a/4"


def sharp_slope(method: str, alpha: float) -> float:
    """Rate of ||W - W*||_2 in d that RMT for sparse matrices predicts (up to logarithms).

    W - W* has p = d^(-2 alpha) of its d^2 entries nonzero.  While d p = d^(1-2 alpha) >> log d its
    norm is ~ 2 sqrt(d p v) with v the variance of a nonzero entry; below that, the largest entry.
    Magnitude: the nonzero entries are U[-tau, tau], tau ~ d^(-1/2) d^(-2 alpha), v = tau^2 / 3, so
    the norm is ~ (2K/sqrt 3) d^(-3 alpha) (alpha < 1/2), ~ tau = d^(-1/2 - 2 alpha) beyond.  Random: v = 1/d,
    norm ~ 2 d^(-alpha) (alpha < 1/2), ~ sqrt(2 log(d^2 p) / d) beyond."""
    if method == "magnitude":
        return -3 * alpha if alpha < 0.5 else -(0.5 + 2 * alpha)
    return -alpha if alpha < 0.5 else -0.5


def rate_verdicts(rows: list[dict]) -> tuple[list[dict], list[Verdict]]:
    """loglog slope of mean ||W - W*|| (and of the sup error) in d per (weights, method, alpha); the
    verdict (``bound`` rule): the measured decay is at least as fast as the proof's rate when the
    lower end of the slope's 95% interval reaches it."""
    summary, verdicts = [], []
    keys = sorted({(r["weights"], r["method"], r["alpha"]) for r in rows})
    for wt, method, alpha in keys:
        sel = [r for r in rows if (r["weights"], r["method"], r["alpha"]) == (wt, method, alpha)]
        ds = sorted({r["d"] for r in sel})
        dn = [np.mean([x for r in sel if r["d"] == d for x in r["delta_norms"]]) for d in ds]
        sup = [np.mean([r["sup_error_lower"] for r in sel if r["d"] == d]) for d in ds]
        claimed, event_rate, source = _claimed_slope(method, alpha)
        rec = dict(table="rate", weights=wt, method=method, alpha=alpha, d=ds, delta_norm=dn, sup_error=sup,
                   claimed_slope=claimed, event_slope=event_rate, sharp_slope=sharp_slope(method, alpha))
        if len(ds) >= 3 and min(dn) > 0:
            fit = loglog_fit(ds, dn)
            rec.update(delta_slope=fit.slope, delta_slope_ci=[fit.slope_low, fit.slope_high])
            if min(sup) > 0:
                sfit = loglog_fit(ds, sup)
                rec.update(sup_slope=sfit.slope, sup_slope_ci=[sfit.slope_low, sfit.slope_high])
            decl = DECLARATIONS["rate_B2" if method == "magnitude" else "rate_19"]
            decision = P.bound(decl, fit.slope_low, claimed, side="<=")
            interval = f"slope {fit.slope:.3f} [{fit.slope_low:.3f}, {fit.slope_high:.3f}]"
            if fit.slope_high < claimed:
                margin = f"decays faster than claimed: {interval} < {claimed:.3f}"
            elif fit.slope_low <= claimed:
                margin = f"rate matches claim: {interval} contains {claimed:.3f}"
            else:
                margin = f"decays slower than claimed: {interval} > {claimed:.3f}"
            verdicts.append(P.verdict(
                decl, decision,
                setting=f"{wt} weights, {method}, alpha={alpha}, d in {ds}: E||W_k - W_k*||_2 = "
                        f"O(d^{claimed:.3g}) ({source})", N=max(ds),
                measured=fit.slope, bound=claimed, interval=[fit.slope_low, fit.slope_high], note=margin,
                corrected=("" if fit.slope_low <= claimed else f"fitted rate d^{fit.slope:.3f}"),
                extra=dict(check="rate", weights=wt, method=method, alpha=alpha)))
        summary.append(rec)
    return summary, verdicts


def theorem_bound_verdicts(rows: list[dict], q: float = 0.99) -> list[Verdict]:
    """epsilon(d) of each theorem against the measured sup error, and the probability p0(d).

    The claim is P(sup <= eps) >= p0.  Per network the chain bound (upper) certifies sup <= eps and
    the ascent (lower) certifies sup > eps.  p0 <= 0 guarantees nothing: vacuous whatever the sup
    (``condition``).  Otherwise an exact binomial test of "P >= p0" on the certified networks
    (``proportion``), Holm within each theorem's family; networks neither certified inside nor
    outside leave the row inconclusive unless both counts give the same word."""
    out, tested = [], {THEOREM_1: [], THEOREM_2: []}
    keys = sorted({(r["weights"], r["method"], r["alpha"], r["d"]) for r in rows})
    for wt, method, alpha, d in keys:
        if method == "magnitude" and wt != "uniform":
            continue  # Theorem 1 (iii) assumes uniform weights: its epsilon and p0 say nothing here
        sel = [r for r in rows if (r["weights"], r["method"], r["alpha"], r["d"]) == (wt, method, alpha, d)]
        sup_hi = max(r["sup_error_chain_upper"] for r in sel)
        sup_lo = max(r["sup_error_lower"] for r in sel)
        if method == "magnitude":
            c0 = float(npred.lemma3_law(d, d, K_UNIFORM).ppf(q))  # Lemma 3's c0 at level q (RMT, Table 2)
            eps = theorem1_epsilon(d, alpha, c0)
            p0 = theorem1_probability(d, alpha, q, LATALA_C_FAVOURABLE)
            claim, what, key = THEOREM_1, "sup ||f-F|| <= (2^(l-2)-1) d^-a c0^(l-1) with prob >= p0", "theorem_1_p0"
        else:
            prod = max(float(np.prod(r["target_norms"])) for r in sel)
            eps = theorem2_epsilon(d, alpha, prod)
            p0 = theorem2_probability(d, alpha, LATALA_C_FAVOURABLE)
            claim, what, key = THEOREM_2, "sup ||f-F|| <= (2^(l-2)-1) d^-a/4 N_1:l with prob >= p0", "theorem_2_p0"
        n_nets = len(sel)
        within = sum(r["sup_error_chain_upper"] <= eps for r in sel)
        outside = sum(r["sup_error_lower"] > eps for r in sel)
        if p0 <= 0:
            decl = DECLARATIONS[key]
            decision = P.condition(decl, False, f"a positive guaranteed probability (p0 = {p0:.3g})")
        else:
            decl = probability_declaration(claim, p0)
            decision = _proportion_at_least(
                decl, within, n_nets - outside, n_nets,
                f"{n_nets - outside - within} network(s) with the sup error between the ascent and the chain bound")
            tested[claim].append(decision)
        out.append((decl, decision, dict(
            setting=f"{wt}, {method}, alpha={alpha}, d={d}, {len(sel)} nets: {what}", N=d,
            measured=sup_hi, bound=eps, interval=[sup_lo, sup_hi],
            extra=dict(check="theorem_bound", weights=wt, method=method, alpha=alpha, p0=p0,
                       networks_within=within, networks_outside=outside),
            note=(f"sup error in [{sup_lo:.3g} (ascent), {sup_hi:.3g} (chain)] vs eps {eps:.3g} "
                  f"(ratio {sup_hi / eps:.2g}); guaranteed probability p0 = {p0:.3g}"
                  + (" <= 0: vacuous" if p0 <= 0 else
                     f"; {within}/{n_nets} networks certified within eps")))))
    for decisions in tested.values():
        P.adjust(decisions, ALPHA)
    return [P.verdict(decl, decision, **kw) for decl, decision, kw in out]


def condition3_verdict(sizes=(64, 128, 256, 512, 1024, 4096)) -> list[Verdict]:
    """Printed (3) and (4) vs what Lemma 6 needs at their printed limit: floor(D_{k+1}^(1-alpha)) >=
    d_{k+1} log d_{k+1} for (3), D_{k+1}^(1-alpha) >= d_k log d_k for (4) (B.1: "Note that (3) and (4)
    guarantee that ...").  Square layers (d_k = d_{k+1} = d), where the two printed limits coincide.
    Exact arithmetic (``bound`` rule) at the d where the guarantee falls shortest."""
    out = []
    for claim, cond, floor, key in ((EQ_3, "(3)", True, "eq_3"), (EQ_4, "(4)", False, "eq_4")):
        worst = None
        for d in sizes:
            a = theorem2_alpha_max(d, d, printed=True)
            have = (d * d) ** (1 - a)
            have = math.floor(have) if floor else have
            need = d * math.log(d)
            if worst is None or have / need < worst[2]:
                worst = (d, a, have / need, have, need)
        d, a, ratio, have, need = worst
        lhs = "floor(D^(1-alpha))" if floor else "D^(1-alpha)"
        decision = P.bound(DECLARATIONS[key], float(have), float(need), side=">=")
        out.append(P.verdict(
            DECLARATIONS[key], decision,
            setting=f"square layers d in {list(sizes)}, alpha at the printed limit of {cond}: {cond} "
                    f"guarantees {lhs} >= d log d (proof of Theorem 2, B.1)", N=d,
            extra=dict(check="condition_" + cond.strip("()"), alpha_printed_limit=a),
            measured=float(have), bound=float(need),
            note=f"d={d}: printed limit alpha={a:.4f} gives {lhs}={have:.6g} "
                 f"{'<' if ratio < 1 else '>='} d log d={need:.1f}",
            corrected="" if ratio >= 1 else
            "alpha <= 1 - (log(d+1) + log log d) / (log d_{k+1} + log d_k) (sign of the "
            "log log term flipped; matches the form used in Theorem 3)"))
    return out


def lemma6_verdicts(rows: list[dict]) -> list[Verdict]:
    """P(A) >= (1 - d^(-1/3))^(2(l-2)) where the proof of Theorem 2 (B.1) uses it, per (d, alpha),
    masks drawn with replacement (Section 4).  Filed under the claim each row tests:

    * floor(D^(1-alpha)) >= d log d: Lemma 6's premise holds, the row tests Lemma 6 as B.1 uses it
      (``004:lemma:6``);
    * alpha allowed by the printed (3)-(4) but floor(D^(1-alpha)) < d log d: Lemma 6 does not apply,
      and the row tests what (3)-(4) are for in B.1 (``004:eq:3``, the consequence family; for square
      layers (3) and (4) coincide);
    * neither: no claim speaks of that alpha; the counts stay in the records, no verdict.
    Exact binomial tests (``proportion``), Holm within each family."""
    out, families = [], {LEMMA_6: [], EQ_3: []}
    for d in sorted({r["d"] for r in rows}):
        for alpha in sorted({r["alpha"] for r in rows}):
            sel = [r for r in rows if r["d"] == d and r["alpha"] == alpha and r["method"] == "random_with_replacement"]
            if not sel:
                continue
            hits = sum(r["lemma6_event"] for r in sel)
            est = proportion_ci(hits, len(sel))
            bound = (1 - d ** (-1 / 3)) ** (2 * (DEPTH - 2))
            lemma6_applies = n_pruned(d, d, alpha) >= d * math.log(d)
            printed_allows = alpha <= theorem2_alpha_max(d, d, printed=True)
            if not lemma6_applies and not printed_allows:
                continue
            claim = LEMMA_6 if lemma6_applies else EQ_3
            decl = probability_declaration(claim, bound)
            decision = P.proportion(decl, hits, len(sel), at_most=False)
            decision.extra["networks_needed"] = networks_needed(bound, hits, len(sel), decl.alpha)
            families[claim].append(decision)
            note = (f"{hits}/{len(sel)} masks with event A (Wilson 95% interval); floor(D^(1-alpha)) = "
                    f"{n_pruned(d, d, alpha)} vs d log d = {d * math.log(d):.0f}; printed (3) allows alpha <= "
                    f"{theorem2_alpha_max(d, d, True):.3f}, corrected <= {theorem2_alpha_max(d, d, False):.3f}")
            setting = (f"random with replacement, alpha={alpha}, d={d}, {len(sel)} networks: "
                       + ("P(A) >= (1 - d^(-1/3))^(2(l-2)) by Lemma 6 (B.1)" if lemma6_applies else
                          "alpha allowed by printed (3)-(4), which B.1 says makes Lemma 6 give "
                          "P(A) >= (1 - d^(-1/3))^(2(l-2))"))
            out.append((decl, decision, dict(
                setting=setting, N=d, measured=est.mean, bound=bound, interval=est.as_list(), note=note,
                extra=dict(check="lemma_6_event", alpha=alpha, printed_allows=printed_allows,
                           lemma6_applies=lemma6_applies),
                )))
    for decisions in families.values():
        P.adjust(decisions, ALPHA)
    corrected = ("Lemma 6 needs floor(D^(1-alpha)) >= d log d: alpha <= corrected (3) (sign of log log d "
                 "flipped)")
    return [P.verdict(decl, decision, corrected=corrected if decision.word == "fails" else "", **kw)
            for decl, decision, kw in out]
