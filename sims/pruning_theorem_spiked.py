"""Lemma 4.2 (4.14), Remark 4.2 (4.16), Theorem 4.1 (4.19), Remark 4.6 (4.21), Remark 4.5 and the
proof step (C.13) of paper 000 (Section 4.4, Appendix C), on the three-layer spiked settings of
``sims.pruning_settings`` (part 2. of ``sims.pruning_theorem``): W_2 = S_2 + R_2 with R_2 fresh per
trial, W' = its truncation at sqrt(lambda+) + eps.
"""
from __future__ import annotations

import math

import numpy as np

from core import protocol as P
from core.result import Verdict
from sims import pruning_settings as ps
from sims.pruning_theorem_common import (EPS, EQ_C13, LEMMA_4_1, LEMMA_4_2, LIMIT_LEVEL, REMARK_4_2,
                                         REMARK_4_5, REMARK_4_6, SQRT_LAMBDA_PLUS, THEOREM_4_1, TOL,
                                         cluster_ratio, f_W_square, fallback, limit_decision,
                                         probability_decision, setting_id, trial_rng, truncate_top)
from sims.stats import loglog_fit, proportion_ci
from theory import approximation_symbolic as approx_sym
from theory import pruning_bounds as pb


def spiked_trials(name: str, N: int, trials: int, seed: int, eps: float = EPS,
                  prune: bool = True) -> dict:
    """Per (trial, input) confidences under W = S + R, S and (if ``prune``) W' = truncation at
    sqrt(lambda+) + eps, with the bounds E, E' and the (C.12)/(C.13) quantities.  ``prune=False``
    skips the SVD (Lemma 4.2 needs only W and S); dP and the W -> W' columns are then NaN."""
    setting = ps.build(name, N, trial_rng(seed, setting_id(name), N, 10**6))
    f_W = f_W_square(setting.theta)
    net_S = setting.net_S
    s, b = setting.inputs, setting.b
    E = pb.threshold_E(net_S, s, b, N)
    Ep = pb.threshold_E_prime(net_S, s, b, N, f_W, SQRT_LAMBDA_PLUS, eps)
    z = net_S.layer_input(s, b)
    g = pb.g_phi(net_S, s, b)
    h = pb.h_phi(net_S, s, b)
    dS = ps.confidences(net_S, setting)
    out = {k: np.empty((trials, len(s))) for k in
           ("dW", "dP", "Rz1", "c13_paper", "c13_correct", "c12_lhs", "lemma41", "lemma41_thr")}
    kept = np.empty(trials, int)
    for t in range(trials):
        rng = trial_rng(seed, setting_id(name), N, t)
        R = rng.standard_normal((N, N)) / math.sqrt(N)
        W = setting.S + R
        net_W = net_S.with_layer(b, W)
        out["dW"][t] = ps.confidences(net_W, setting)
        if prune:
            Wp, kept[t], removed, _, _ = truncate_top(W, SQRT_LAMBDA_PLUS + eps)
            out["dP"][t] = ps.confidences(net_S.with_layer(b, Wp), setting)
            out["lemma41"][t] = pb.lemma_4_1_bound(net_W, s, b, removed)
            out["lemma41_thr"][t] = pb.lemma_4_1_bound(net_W, s, b, SQRT_LAMBDA_PLUS + eps)
        else:
            kept[t] = -1
            for key in ("dP", "lemma41", "lemma41_thr"):
                out[key][t] = np.nan
        Rz = z @ R.T
        out["Rz1"][t] = np.abs(Rz).sum(axis=1)
        out["c13_paper"][t] = np.abs(R).max() * np.abs(z).sum(axis=1)
        out["c13_correct"][t] = pb.matrix_l1_norm(R) * np.abs(z).sum(axis=1)
        out["c12_lhs"][t] = np.abs(np.abs(z @ W.T) - np.abs(z @ setting.S.T)).sum(axis=1)
    out.update(dict(name=name, N=N, trials=trials, E=E, Ep=Ep, g=g, h=h, dS=dS, f_W=f_W,
                    f_W_opnorm=approx_sym.opnorm_limit(setting.theta, 1.0, 1.0, eps),
                    z2=np.linalg.norm(z, axis=1), kept=kept, rank=setting.theta.size,
                    info=setting.info))
    return out


_SPIKED = ("three-layer spiked networks of sims.pruning_settings, N = 64-512 (reduced; the paper "
           "gives no N for these statements)")
DECLARATIONS = {
    # Lemma 4.2 (4.14), paper 000 Sec. 4.4: P(dX(S) >= 0 | dX(W) >= E) >= 1 - D(N), D(N) explicit
    # (theory.pruning_bounds.D_N): a statement at each N, decided on the cluster-bootstrap interval.
    "lemma_4_2": P.declare(LEMMA_4_2, "P(dX(S) >= 0 | dX(W) >= E), cluster bootstrap over trials, "
                           "against 1 - D(N)", "bound", scale=_SPIKED),
    # Remark 4.2 (4.16): P(|dX(S) - dX(W)| <= E) >= 1 - D(N).
    "remark_4_2": P.declare(REMARK_4_2, "P(|dX(S) - dX(W)| <= E) against 1 - D(N)", "bound", scale=_SPIKED),
    # Theorem 4.1 (4.19) and Remark 4.6 (4.21): probabilities >= 1 - C_eps(N), C_eps(N) -> 0
    # unspecified: limit claims; the level LIMIT_LEVEL reached holds, a shortfall is inconclusive.
    "theorem_4_1": P.declare(THEOREM_4_1, "P(dX(W') >= 0 | dX(W) >= E'), interval's lower end against "
                             f"{LIMIT_LEVEL}", "level_at_reduced_scale", margin=LIMIT_LEVEL, scale=_SPIKED),
    "remark_4_6": P.declare(REMARK_4_6, "P(|dX(W') - dX(W)| <= E'), interval's lower end against "
                            f"{LIMIT_LEVEL}", "level_at_reduced_scale", margin=LIMIT_LEVEL, scale=_SPIKED),
    # Lemma 4.1 on W -> W': deterministic, no violation allowed.
    "lemma_4_1_spiked": P.declare(LEMMA_4_1, "violations of (4.4) for W -> W' over (trial, input) pairs",
                                  "bound", scale=_SPIKED, family="000:lemma:4.1 spiked networks"),
    # (C.13), Appendix C: ||R z||_1 <= max|R_ij| ||z||_1 for every pair (a deterministic proof step).
    "c13": P.declare(EQ_C13, "fraction of (trial, input) pairs where (C.13) holds, against 1", "bound",
                     scale=_SPIKED),
    # Remark 4.5: E -> 0 provided h_phi <= C: vacuous when h_phi grows (CI of its log-log slope above
    # 0), holds when the slope's CI lies below 0.05, else inconclusive.
    "remark_4_5": P.declare(REMARK_4_5, "95% CI of the log-log slope of h_phi in N (premise h_phi <= C)",
                            "condition", scale=_SPIKED),
}


def spiked_setting(res: dict) -> str:
    return (f"{res['name']} net, 3-layer abs, W_2 = S_2 + R_2 (rank {res['rank']}), N={res['N']}, "
            f"{res['trials']} trials")


def spiked_verdicts(res: dict) -> list[Verdict]:
    """Lemma 4.2 (4.14), Remark 4.2 (4.16), Theorem 4.1 (4.19), Remark 4.6 (4.21) and Lemma 4.1 on
    W -> W' for one spiked setting (paper 000 Sec. 4.4-4.5), through ``DECLARATIONS``."""
    D = DECLARATIONS
    N, name = res["N"], res["name"]
    dW, dP, dS = res["dW"], res["dP"], np.broadcast_to(res["dS"], res["dW"].shape)
    E, Ep = np.broadcast_to(res["E"], dW.shape), np.broadcast_to(res["Ep"], dW.shape)
    bound = 1 - pb.D_N(N)
    setting = spiked_setting(res)
    rows = []
    cond = dW >= E
    rate = float(cond.mean())
    est, ci = cluster_ratio(dS >= 0, cond, seed=N)
    extra = dict(network=name, condition_rate=rate, median_E=float(np.median(E)),
                 median_abs_dX=float(np.median(np.abs(dW))),
                 median_delta=float(np.median(np.abs(dS - dW))))
    corrected = ""
    if name == "pooling":
        corrected = ("no threshold a(N) h_phi -> 0 can work: here h_phi is bounded, delta X(W) ~ "
                     f"{res['info']['dX_W_limit']:.3f} > 0 and delta X(S) = {res['info']['dX_S']:.3f} "
                     "for every N. A valid E must dominate ||W_3||_1 ||R z||_1 ~ sqrt(2N/pi) "
                     "||W_3||_1 ||z||_2 (the corrected (C.13)).")
    rows.append(P.verdict(D["lemma_4_2"], probability_decision(D["lemma_4_2"], est, ci, bound, rate),
                        setting=setting, N=N, measured=est, bound=bound, interval=ci,
                        corrected=corrected,
                        note=f"P(dX(S)>=0 | dX(W)>=E) vs 1-D(N), (4.14); condition met in "
                             f"{rate:.0%} of pairs",
                        extra=dict(extra, check="lemma_4_2")))
    est, ci = cluster_ratio(np.abs(dS - dW) <= E, np.ones_like(cond))
    rows.append(P.verdict(D["remark_4_2"], probability_decision(D["remark_4_2"], est, ci, bound),
                        setting=setting, N=N, measured=est, bound=bound, interval=ci,
                        corrected="" if est is None or ci[1] >= bound else
                        "|dX(S)-dX(W)| does not vanish: it concentrates at a positive constant "
                        f"(median {extra['median_delta']:.3g}) while E = a(N) h_phi -> 0",
                        note="P(|dX(S)-dX(W)| <= E) vs 1-D(N), (4.16)",
                        extra=dict(extra, check="remark_4_2")))
    condp = dW >= Ep
    ratep = float(condp.mean())
    est, ci = cluster_ratio(dP >= 0, condp, seed=N + 1)
    extra_p = dict(network=name, condition_rate=ratep, median_Eprime=float(np.median(Ep)),
                   median_abs_dX=float(np.median(np.abs(dW))),
                   median_delta=float(np.median(np.abs(dP - dW))), f_W=res["f_W"],
                   f_W_opnorm_limit=res["f_W_opnorm"],
                   kept_rank_fraction_correct=float(np.mean(res["kept"] == res["rank"])))
    rows.append(P.verdict(D["theorem_4_1"], limit_decision(D["theorem_4_1"], est, ci, ratep),
                        setting=setting, N=N, measured=est, interval=ci,
                        note=f"P(dX(W')>=0 | dX(W)>=E'), (4.19); condition met in {ratep:.0%} of "
                             f"pairs; C_eps(N) is unspecified: holds = CI above {LIMIT_LEVEL}, a "
                             "shortfall is inconclusive (a limit)",
                        extra=dict(extra_p, check="theorem_4_1")))
    est, ci = cluster_ratio(np.abs(dP - dW) <= Ep, np.ones_like(condp))
    rows.append(P.verdict(D["remark_4_6"], limit_decision(D["remark_4_6"], est, ci),
                        setting=setting, N=N, measured=est, interval=ci,
                        note="P(|dX(W')-dX(W)| <= E'), (4.21); extra.margin = median "
                             "E'/|dX(W')-dX(W)|",
                        extra=dict(extra_p, check="remark_4_6", margin=float(
                            np.median(Ep / np.maximum(np.abs(dP - dW), 1e-300))))))
    # Lemma 4.1 on W -> W' (deterministic, must never fail)
    actual = np.abs(dP - dW)
    viol = int(np.sum(actual > res["lemma41"] * (1 + TOL)))
    rows.append(P.verdict(D["lemma_4_1_spiked"], P.bound(D["lemma_4_1_spiked"], viol, 0),
                        setting=f"{setting}: W -> W' at 2+eps", N=N,
                        measured=float(np.median(res["lemma41_thr"] / np.maximum(actual, 1e-300))),
                        note=f"{viol} violations in {actual.size} pairs; measured = median "
                             "bound/actual",
                        extra=dict(network=name, check="lemma_4_1_spiked", violations=viol,
                                   pairs=int(actual.size))))
    return rows


def c13_verdict(res: dict) -> Verdict:
    paper_ok = res["Rz1"] <= res["c13_paper"] * (1 + TOL)
    correct_ok = res["Rz1"] <= res["c13_correct"] * (1 + TOL)
    c12_ok = res["c12_lhs"] <= res["Rz1"] * (1 + TOL)
    pred = math.sqrt(2 * res["N"] / math.pi) * res["z2"]
    ci = proportion_ci(int(paper_ok.sum()), paper_ok.size, method="exact")
    decl = DECLARATIONS["c13"]
    return P.verdict(decl, P.bound(decl, float(paper_ok.mean()), 1.0, side=">="),
                   setting=f"{res['name']} net, N={res['N']}: ||R z||_1 <= "
                   "max|R_ij| ||z||_1", N=res["N"], measured=float(paper_ok.mean()), bound=1.0,
                   interval=ci.as_list(),
                   corrected="||R z||_1 <= ||R||_1 ||z||_1 (max column sum, ~ sqrt(2N/pi)); for z "
                             "independent of R, ||R z||_1 ~ sqrt(2N/pi) ||z||_2",
                   note=f"measured = fraction of {paper_ok.size} (trial, input) pairs where (C.13) "
                        "holds",
                   extra=dict(check="C_13", network=res["name"],
                              median_ratio_to_paper=float(np.median(res["Rz1"] / res["c13_paper"])),
                              corrected_holds=float(correct_ok.mean()),
                              c12_holds=float(c12_ok.mean()),
                              median_ratio_to_sqrt_2N_over_pi=float(np.median(res["Rz1"][0] / pred))))


def scaling_verdict(results: list[dict]) -> Verdict:
    """Remark 4.5: E -> 0 provided h_phi stays bounded.  Fit log h_phi, log E and log |dX| against
    log N over all (N, input) pairs of the ``random`` setting (standard initialisation)."""
    Ns = np.array([r["N"] for r in results], float)
    extra = dict(check="remark_4_5", network=results[0]["name"], N=Ns.tolist(),
                 median_E=[float(np.median(r["E"])) for r in results],
                 median_abs_dX=[float(np.median(np.abs(r["dW"]))) for r in results],
                 median_h=[float(np.median(r["h"])) for r in results])
    slopes = {}
    for key, get in (("E", lambda r: r["E"]), ("abs_dX", lambda r: np.abs(r["dW"]).mean(axis=0)),
                     ("h_phi", lambda r: r["h"])):
        xs = np.concatenate([np.full(len(get(r)), r["N"]) for r in results])
        ys = np.concatenate([get(r) for r in results])
        fit = loglog_fit(xs, ys)
        slopes[key] = [fit.slope, fit.slope_low, fit.slope_high]
        extra[f"slope_{key}"] = slopes[key]
    sh = slopes["h_phi"]
    # Remark 4.5 is an implication (h_phi <= C => E -> 0), true since a(N) -> 0; when h_phi grows
    # its hypothesis (4.17) is not met, which makes the remark vacuous here, not false.
    decl = DECLARATIONS["remark_4_5"]
    if sh[1] > 0:
        decision = P.condition(decl, False, f"h_phi grows: log-log slope CI [{sh[1]:.2f}, {sh[2]:.2f}] above 0")
    else:
        below = P.bound(decl, sh[2], 0.05)
        decision = below if below.word == "holds" else fallback(
            decl, f"h_phi slope CI [{sh[1]:.2f}, {sh[2]:.2f}] neither above 0 nor below 0.05")
    return P.verdict(decl, decision, setting=f"{results[0]['name']} net: standard init (W_1 ~ "
                   "N(0,1/16), W_3 ~ N(0,1/N), s ~ N(0,I_16)), N in "
                   f"{[int(n) for n in Ns]}", N=int(Ns[-1]), measured=sh[0], bound=0.0,
                   interval=sh[1:],
                   corrected=f"h_phi grows (slope {sh[0]:.2f}; ||z||_1 ~ N, ||W_3||_1 ~ sqrt(log N "
                             f"/ N)), so E = a(N) h_phi grows (slope {slopes['E'][0]:.2f}) while "
                             f"|delta X| does not (slope {slopes['abs_dX'][0]:.2f}): the condition "
                             "dX >= E fails ever more often",
                   note="measured = log-log slope of h_phi in N (all inputs); Remark 4.5 assumes "
                        "h_phi <= C", extra=extra)


def spiked_record(res: dict) -> dict:
    dW = res["dW"]
    E, Ep = np.broadcast_to(res["E"], dW.shape), np.broadcast_to(res["Ep"], dW.shape)
    return dict(table="spiked", network=res["name"], N=res["N"], trials=res["trials"],
                n_inputs=int(dW.shape[1]), rank=res["rank"], f_W=res["f_W"],
                condition_rate_E=float(np.mean(dW >= E)),
                condition_rate_E_prime=float(np.mean(dW >= Ep)),
                median_E=float(np.median(res["E"])), median_E_prime=float(np.median(res["Ep"])),
                median_h_phi=float(np.median(res["h"])), median_g_phi=float(np.median(res["g"])),
                median_abs_dX_W=float(np.median(np.abs(dW))),
                median_abs_dX_S_minus_W=float(np.median(np.abs(res["dS"] - dW))),
                median_Rz1_over_c13=float(np.median(res["Rz1"] / res["c13_paper"])),
                kept_rank_fraction_correct=float(np.mean(res["kept"] == res["rank"])))
