"""`python -m sims.qk_theorems`: Theorems 1 and 2 of paper 004 (Qian & Klabjan, ICML 2021) measured.

Target networks as in eq. (1): F(x) = W_l sigma(W_{l-1} ... sigma(W_1 x)), ReLU (L_k = 1, sigma(0) = 0),
no biases, depth l = 4, widths d_0 = d_l = ``io`` and d_1 = d_2 = d_3 = d (assumption (ii)).  Weights:
- Theorem 1 (iii): iid U[-K/sqrt(max(d_k, d_{k-1})), +K/...] (K = sqrt 3, variance 1/max);
- Theorem 2 (iii): iid N(0, K_1 / max(d_k, d_{k-1})) with K_1 = 1, K_2 = 3.
The first and last layers are never pruned; each hidden layer 1 < k < l loses floor(D_k^(1-alpha))
entries (D_k = d_k d_{k-1}) by magnitude (Theorem 1) or at random with replacement (Theorem 2 as
written, Section 4) or without replacement (Appendix E.2).

Measured, per (weights, method, alpha, d) over ``nets`` target networks:
- ||W_k - W_k^*||_2 for the pruned layers, its rate in d (``sims.stats.loglog_fit`` slope with a 95%
  interval) against the rate each proof uses: Theorem 1 (proof in B.2) E||W_k - W_k^*||_2 <= c_2 d^(-2 alpha)
  and the event ||W_k - W_k^*||_2 <= d^(-alpha); Theorem 2 ((19) in B.1) E[...|A] <= c_2 d^(-alpha/2) and
  the event <= d^(-alpha/4);
- sup_{||x|| <= 1} ||f(x) - F(x)||_2, estimated FROM BELOW by projected gradient ascent on the unit
  sphere from many starts (f - F is positively 1-homogeneous for ReLU nets without biases, so the sup
  over the ball is attained on the sphere), beside an upper bound: the proof's chain (21)-(22) evaluated
  with the measured norms (deterministic given the matrices), and beside the theorem's own bound
  epsilon = (2^(l-2) - 1) d^(-alpha) L^(l-1) c_0^(l-1) (Theorem 1, (29)) or (2^(l-2) - 1) d^(-alpha/4)
  L^(l-1) N_{1:l} (Theorem 2, (15)).
- the probability each theorem guarantees, p_0(d), with c_2 built from the smallest Latala constant
  measured in Table 3 (the most favourable value; the true universal C can only be larger).
- Theorem 2's conditions (3)-(4) as printed against the requirement floor(D^(1-alpha)) >= d log d that
  the proof says they guarantee, and Lemma 6's event A measured on the masks.

The committed result is ``results/qk_theorems.json`` (one record per (weights, d, network, method,
alpha); the fitted rates as the table ``rates``).
"""
from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch import nn

from core.cli import DEVICE_CHOICES, make_parser, progress as progress_bar, run as cli_run
from core.result import Result, Verdict
from core.validate import InvalidArgument, check_choice, check_float, check_int
from nets import baselines
from sims.qian_klabjan import spectral_norm
from sims.device import trial_generator
from sims.experiment import ExperimentRun
from sims.noise import sample_noise
from sims.stats import loglog_fit, proportion_ci
from theory import norm_predictions as npred

METHODS = ("magnitude", "random_with_replacement", "random_without_replacement")
WEIGHTS = ("uniform", "gaussian")
DEPTH = 4
K_UNIFORM = math.sqrt(3.0)      # Theorem 1 (iii): variance K^2 / (3 max) = 1 / max
LATALA_C_FAVOURABLE = 0.6       # about the smallest C of Table 3 for iid rows; the universal C is >= this
MODULE = "sims.qk_theorems"
# claim ids (core.claims registry)
THEOREM_1, THEOREM_2, EQ_19 = "004:theorem:1", "004:theorem:2", "004:eq:19"
LEMMA_6, EQ_3, EQ_4 = "004:lemma:6", "004:eq:3", "004:eq:4"
PROOF_B2 = "004:text:B.2.1"     # Theorem 1's proof: E||W - W*||_2 <= c_2 d^(-2 alpha)


@dataclass(frozen=True)
class Config:
    """``nets``: target networks per (weights, d); ``io``: d_0 = d_l; ``starts`` / ``steps``: the
    projected gradient ascent of ``sup_ball_error``."""
    sizes: tuple[int, ...] = (64, 128, 256, 512)
    alphas: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75)
    nets: int = 3
    io: int = 16
    seed: int = 0
    device: str = "auto"
    starts: int = 48
    steps: int = 160

    @classmethod
    def quick(cls, **overrides) -> "Config":
        return replace(cls(sizes=(32, 64, 128), alphas=(0.25, 0.5), nets=2, io=8, starts=16,
                           steps=40), **overrides)

    def validate(self) -> "Config":
        io = check_int("io", self.io, 2, 4096)
        sizes = tuple(check_int("size", d, io, 8192) for d in self.sizes)
        alphas = tuple(check_float("alpha", a, 0.0, 1.0, lo_open=True, hi_open=True)
                       for a in self.alphas)
        if not sizes or not alphas:
            raise InvalidArgument(f"sizes and alphas must be non-empty, got {sizes} and {alphas}")
        return replace(self, sizes=sizes, alphas=alphas, io=io,
                       nets=check_int("nets", self.nets, 1, 10_000),
                       seed=check_int("seed", self.seed, 0, None),
                       device=check_choice("device", self.device, DEVICE_CHOICES),
                       starts=check_int("starts", self.starts, 1, 10_000),
                       steps=check_int("steps", self.steps, 1, 100_000))


# ----------------------------------------------------------------------------------------------
# networks


def widths(d: int, io: int, depth: int = DEPTH) -> list[int]:
    if d < io:
        raise ValueError(f"assumption (ii) needs d >= d_0, d_l; got d={d}, io={io}")
    return [io] + [d] * (depth - 1) + [io]


def sample_target(d: int, io: int, weights: str, seed: int, trial: int, device: torch.device,
                  depth: int = DEPTH) -> list[torch.Tensor]:
    """Weight matrices W_1..W_l (W_k is d_k x d_{k-1}) with entry variance 1/max(d_k, d_{k-1})."""
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
    gen = trial_generator(seed, trial, device)
    w = widths(d, io, depth)
    out = []
    for k in range(1, len(w)):
        rows, cols = w[k], w[k - 1]
        var = 1.0 / max(rows, cols)
        # sample_noise draws entries of variance var_scale / n_rows.
        out.append(sample_noise(weights, 1, rows, cols, var * rows, gen, device, torch.float64)[0])
    return out


def forward(ws: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """eq. (1) on a batch x (b, d_0): ReLU after every layer but the last."""
    h = x
    for w in ws[:-1]:
        h = torch.relu(h @ w.T)
    return h @ ws[-1].T


def n_pruned(rows: int, cols: int, alpha: float) -> int:
    """floor(D^(1-alpha)) with D = rows * cols (Theorems 1 and 2), as nets.baselines counts it."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    return baselines.count_to_prune(rows * cols, alpha=alpha)


def as_model(ws: list[torch.Tensor]) -> nn.Sequential:
    """The network of eq. (1) as Linear layers without bias and ReLU between them."""
    layers = []
    for i, w in enumerate(ws):
        lin = nn.Linear(w.shape[1], w.shape[0], bias=False, dtype=w.dtype, device=w.device)
        with torch.no_grad():
            lin.weight.copy_(w)
        layers.append(lin)
        if i < len(ws) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def prune_network(ws: list[torch.Tensor], method: str, alpha: float, seed: int) -> list[torch.Tensor]:
    """Prune each hidden layer (1 < k < l) with ``nets.baselines`` (first and last layers are kept)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    model = as_model(ws)
    if method == "magnitude":
        baselines.magnitude_prune(model, alpha=alpha)
    else:
        baselines.random_prune(model, alpha=alpha, replacement=method == "random_with_replacement", seed=seed)
    return [m.weight.detach().clone() for _, m in baselines.weight_layers(model)]


# ----------------------------------------------------------------------------------------------
# sup over the unit ball


def sup_ball_error(ws_f, ws_F, starts: int = 64, steps: int = 150, lr: float = 0.05, seed: int = 0) -> float:
    """Lower estimate of sup_{||x||<=1} ||f(x) - F(x)||_2 by projected gradient ascent.

    Normalised-gradient steps on the sphere from ``starts`` random points plus the top right singular
    vectors of W_1; every iterate is a feasible point, so the best value seen is a lower bound."""
    d0 = ws_F[0].shape[1]
    dev, dt = ws_F[0].device, ws_F[0].dtype
    g = torch.Generator(device="cpu").manual_seed(seed)
    x0 = torch.randn(starts, d0, generator=g, dtype=dt).to(dev)
    _, _, vh = torch.linalg.svd(ws_F[0], full_matrices=False)
    x0 = torch.cat([x0, vh[: min(8, vh.shape[0])], -vh[: min(8, vh.shape[0])]])
    x = (x0 / x0.norm(dim=1, keepdim=True)).requires_grad_(True)
    best = 0.0
    for step in range(steps):
        err = (forward(ws_f, x) - forward(ws_F, x)).norm(dim=1)
        best = max(best, float(err.detach().max()))
        (grad,) = torch.autograd.grad(err.sum(), x)
        with torch.no_grad():
            step_size = lr * (1 - step / steps)
            x += step_size * grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-30)
            x /= x.norm(dim=1, keepdim=True)
    with torch.no_grad():
        best = max(best, float((forward(ws_f, x) - forward(ws_F, x)).norm(dim=1).max()))
    return best


def chain_bound(ws_f, ws_F) -> float:
    """Upper bound on the sup over the unit ball: the proof's recursion (21)-(22) with measured norms.

    e_1 = 0, n_1 = ||W_1||;  e_{k+1} = ||W_{k+1}|| e_k + ||W_{k+1} - W*_{k+1}|| n_k,  n_{k+1} = ||W*_{k+1}|| n_k;
    sup ||f - F|| <= ||W_l|| e_{l-1}  (L = 1).  Uses ||W_{k+1}|| directly instead of ||W*|| + ||Delta||."""
    op = spectral_norm
    e, n = 0.0, op(ws_F[0])
    for wf, wF in zip(ws_f[1:-1], ws_F[1:-1]):
        e = op(wf) * e + op(wf - wF) * n
        n = op(wF) * n
    return op(ws_F[-1]) * e


# ----------------------------------------------------------------------------------------------
# the paper's constants


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


# ----------------------------------------------------------------------------------------------
# experiment


def run(sizes=(64, 128, 256, 512), alphas=(0.1, 0.25, 0.5, 0.75), seeds: int = 3, io: int = 16,
        weights=WEIGHTS, methods=METHODS, seed: int = 0, device=None, starts: int = 48, steps: int = 160,
        progress: bool = True) -> list[dict]:
    device = device or torch.device("cpu")
    rows = []
    jobs = [(wt, d, s) for wt in weights for d in sizes for s in range(seeds)]
    bar = progress_bar(jobs, desc="Theorems 1-2", disable=not progress or not sys.stderr.isatty())
    for job, (wt, d, s) in enumerate(bar):
        target = sample_target(d, io, wt, seed, job, device)
        norms_F = [spectral_norm(w) for w in target]
        for method in methods:
            for alpha in alphas:
                mask_seed = (seed * 1_000_003 + job * 1000 + int(1000 * alpha)) % (2**62)
                pruned = prune_network(target, method, alpha, mask_seed)
                deltas = [spectral_norm(a - b) for a, b in zip(pruned[1:-1], target[1:-1])]
                m = n_pruned(d, d, alpha)
                events = [lemma6_event((a == 0) & (b != 0), m) for a, b in zip(pruned[1:-1], target[1:-1])]
                rows.append(dict(table="run", weights=wt, method=method, alpha=alpha, d=d, seed=s, n_pruned=m,
                                 delta_norms=deltas, delta_norm_mean=float(np.mean(deltas)),
                                 target_norms=norms_F,
                                 sup_error_lower=sup_ball_error(pruned, target, starts, steps, seed=job),
                                 sup_error_chain_upper=chain_bound(pruned, target),
                                 lemma6_event=all(events)))
    return rows


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
    """loglog slope of mean ||W - W*|| (and of the sup error) in d per (weights, method, alpha)."""
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
            # Holds when the measured decay is at least as fast as the claimed one.
            verdict = "holds" if fit.slope_low <= claimed or fit.slope_high <= claimed else "fails"
            if fit.slope_high < claimed:
                margin = f"decays faster than claimed: slope {fit.slope:.3f} [{fit.slope_low:.3f}, {fit.slope_high:.3f}] < {claimed:.3f}"
            elif verdict == "holds":
                margin = f"rate matches claim: slope {fit.slope:.3f} CI [{fit.slope_low:.3f}, {fit.slope_high:.3f}] contains {claimed:.3f}"
            else:
                margin = f"decays slower than claimed: slope {fit.slope:.3f} CI [{fit.slope_low:.3f}, {fit.slope_high:.3f}] > {claimed:.3f}"
            verdicts.append(Verdict(
                claim=PROOF_B2 if method == "magnitude" else EQ_19,
                setting=f"{wt} weights, {method}, alpha={alpha}, d in {ds}: E||W_k - W_k*||_2 = "
                        f"O(d^{claimed:.3g}) ({source})", N=max(ds),
                measured=fit.slope, bound=claimed, verdict=verdict,
                interval=[fit.slope_low, fit.slope_high], note=margin,
                corrected=("" if verdict == "holds" else f"fitted rate d^{fit.slope:.3f}"),
                extra=dict(check="rate", weights=wt, method=method, alpha=alpha)))
        summary.append(rec)
    return summary, verdicts


def theorem_bound_verdicts(rows: list[dict], q: float = 0.99) -> list[Verdict]:
    """epsilon(d) of each theorem against the measured sup error, and the probability p_0(d)."""
    out = []
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
            claim, what = THEOREM_1, "sup ||f-F|| <= (2^(l-2)-1) d^-a c0^(l-1) with prob >= p0"
        else:
            prod = max(float(np.prod(r["target_norms"])) for r in sel)
            eps = theorem2_epsilon(d, alpha, prod)
            p0 = theorem2_probability(d, alpha, LATALA_C_FAVOURABLE)
            claim, what = THEOREM_2, "sup ||f-F|| <= (2^(l-2)-1) d^-a/4 N_1:l with prob >= p0"
        # The claim is P(sup <= eps) >= p0.  Per network the chain bound (upper) certifies sup <= eps and
        # the ascent (lower) certifies sup > eps.  p0 <= 0 guarantees nothing (vacuous whatever the sup);
        # otherwise it fails only when even the networks not certainly outside are too few: the
        # Clopper-Pearson upper end of P(sup <= eps) lies below p0.
        n_nets = len(sel)
        within = sum(r["sup_error_chain_upper"] <= eps for r in sel)
        outside = sum(r["sup_error_lower"] > eps for r in sel)
        if p0 <= 0:
            verdict = "vacuous"
        elif within == n_nets:
            verdict = "holds"
        elif proportion_ci(n_nets - outside, n_nets, method="exact").high < p0:
            verdict = "fails"
        else:
            verdict = "inconclusive"
        out.append(Verdict(claim=claim, setting=f"{wt}, {method}, alpha={alpha}, d={d}, {len(sel)} "
                                                f"nets: {what}", N=d,
                           measured=sup_hi, bound=eps, verdict=verdict, interval=[sup_lo, sup_hi],
                           extra=dict(check="theorem_bound", weights=wt, method=method, alpha=alpha,
                                      p0=p0),
                           note=(f"sup error in [{sup_lo:.3g} (ascent), {sup_hi:.3g} (chain)] vs eps {eps:.3g} "
                                 f"(ratio {sup_hi / eps:.2g}); guaranteed probability p0 = {p0:.3g}"
                                 + (" <= 0: vacuous" if p0 <= 0 else ""))))
    return out


def condition3_verdict(sizes=(64, 128, 256, 512, 1024, 4096)) -> list[Verdict]:
    """Printed (3) and (4) vs what Lemma 6 needs at their printed limit: floor(D_{k+1}^(1-alpha)) >=
    d_{k+1} log d_{k+1} for (3), D_{k+1}^(1-alpha) >= d_k log d_k for (4).  Square layers
    (d_k = d_{k+1} = d), where the two printed limits coincide."""
    out = []
    for claim, cond, floor in ((EQ_3, "(3)", True), (EQ_4, "(4)", False)):
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
        out.append(Verdict(
            claim=claim,
            setting=f"square layers d in {list(sizes)}, alpha at the printed limit of {cond}: {cond} "
                    f"guarantees {lhs} >= d log d (proof of Theorem 2, B.1)", N=d,
            extra=dict(check="condition_" + cond.strip("()"), alpha_printed_limit=a),
            measured=float(have), bound=float(need), verdict="fails" if ratio < 1 else "holds",
            note=f"d={d}: printed limit alpha={a:.4f} gives {lhs}={have:.6g} < d log d={need:.1f}",
            corrected="alpha <= 1 - (log(d+1) + log log d) / (log d_{k+1} + log d_k) (sign of the "
                      "log log term flipped; matches the form used in Theorem 3)"))
    return out


def lemma6_verdicts(rows: list[dict]) -> list[Verdict]:
    """P(A) >= (1 - d^(-1/3))^(2(l-2)) where the proof of Theorem 2 uses it: for every alpha that the
    printed conditions (3)-(4) allow.  When alpha is allowed but floor(D^(1-alpha)) < d log d, Lemma 6
    does not apply, and a measured P(A) below the bound is a counterexample to the proof as printed."""
    out = []
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
            if est.mean >= bound:
                verdict = "holds"
            elif est.high >= bound:
                verdict = "inconclusive"   # too few networks to exclude the bound
            elif lemma6_applies:
                verdict = "fails"
            else:
                verdict = "fails" if printed_allows else "inconclusive"
            note = (f"floor(D^(1-alpha)) = {n_pruned(d, d, alpha)} vs d log d = {d * math.log(d):.0f}; "
                    f"printed (3) allows alpha <= {theorem2_alpha_max(d, d, True):.3f}, "
                    f"corrected <= {theorem2_alpha_max(d, d, False):.3f}")
            out.append(Verdict(claim=LEMMA_6,
                               setting=f"random with replacement, alpha={alpha}, d={d}, {len(sel)} "
                                       "networks: P(A) >= (1 - d^(-1/3))^(2(l-2)) for alpha allowed "
                                       "by (3)-(4) (B.1)",
                               N=d, measured=est.mean, bound=bound, verdict=verdict,
                               interval=est.as_list(), note=note,
                               extra=dict(check="lemma_6_event", alpha=alpha,
                                          printed_allows=printed_allows, lemma6_applies=lemma6_applies),
                               corrected=("" if verdict != "fails" or lemma6_applies else
                                          "holds only for alpha <= corrected (3) (sign of log log d flipped)")))
    return out


def experiment(config: Config = Config(), *, argv: list[str] | None = None,
               progress: bool = True) -> Result:
    """Every measurement and verdict as one Result.  ``argv``: the command-line arguments when
    called from the CLI (kept in the provenance); None from Python."""
    cfg = config.validate()
    device, prov = ExperimentRun(MODULE, None, argv=argv, device=cfg.device, seed=cfg.seed).start()
    rows = run(sizes=cfg.sizes, alphas=cfg.alphas, seeds=cfg.nets, io=cfg.io, seed=cfg.seed,
               device=device, starts=cfg.starts, steps=cfg.steps, progress=progress)
    rates, verdicts = rate_verdicts(rows)
    verdicts += theorem_bound_verdicts(rows, q=0.99)
    verdicts += lemma6_verdicts(rows)
    verdicts += condition3_verdict()
    return Result(experiment=MODULE, config=dict(asdict(cfg), depth=DEPTH, q=0.99,
                                                 latala_c_favourable=LATALA_C_FAVOURABLE),
                  provenance=prov.stop(), records=rows, tables={"rates": rates}, verdicts=verdicts)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = make_parser(MODULE, __doc__, options=("seed", "device", "json", "quick", "threads"))
    p.add_argument("--nets", type=int, default=None,
                   help="target networks per (weights, d), in [1, 10000] (default 3; --quick 2)")

    def body(args) -> Result:
        base = Config.quick() if args.quick else Config()
        overrides = dict(seed=args.seed, device=args.device)
        if args.nets is not None:
            overrides["nets"] = args.nets
        return experiment(replace(base, **overrides), argv=argv)

    return cli_run(p, argv, body)


if __name__ == "__main__":
    sys.exit(main())
