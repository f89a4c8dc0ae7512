"""What the checks of ``sims.pruning_theorem`` share: constants, claim ids, per-trial generators,
the partial-SVD truncation (B.4), and the probability intervals and the decisions (through
``core.protocol``) of its docstring.

A probability "P(A | B) >= 1 - D(N)" is about one fixed input s, over R: (trial, input) pairs are
pooled and the interval is a cluster bootstrap over trials (``cluster_ratio``).
"""
from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import svds

from core import protocol as P
from sims.stats import proportion_ci
from theory import approximation as approx

SQRT_LAMBDA_PLUS = 2.0          # square N x N noise, iid N(0, 1/N): edge of the singular values
EPS = 0.1                       # truncation at sqrt(lambda+) + eps (Theorem 4.1, Remark 4.7)
VACUOUS_RATE = 0.01             # condition met in fewer pairs than this: the claim is vacuous
LIMIT_LEVEL = 0.95              # "P >= 1 - C(N)" with C(N) -> 0 unspecified: reached when the interval is above
TOL = 1e-9                      # relative float slack in deterministic inequalities

# claim ids (core.claims registry)
# claim ids (core.claims registry)
LEMMA_4_1, LEMMA_4_2, REMARK_4_2 = "000:lemma:4.1", "000:lemma:4.2", "000:remark:4.2"
REMARK_4_1 = "000:remark:4.1"
THEOREM_4_1, REMARK_4_5, REMARK_4_6 = "000:theorem:4.1", "000:remark:4.5", "000:remark:4.6"
THEOREM_4_2, REMARK_4_11 = "000:theorem:4.2", "000:remark:4.11"
EQ_C13, EXAMPLE_4_2, FIGURE_4_3 = "000:eq:C.13", "000:example:4.2", "000:figure:4.3"


def trial_rng(seed: int, *keys) -> np.random.Generator:
    """One generator per (seed, experiment, N, trial): a trial's draws do not depend on others."""
    return np.random.default_rng([seed, *[int(k) for k in keys]])


def setting_id(name: str) -> int:
    """The key of a setting in ``trial_rng``."""
    return {"random": 1, "aligned": 2, "pooling": 3, "example_4_2": 4, "theorem_4_2": 5}.get(name, 9)


def truncate_top(W: np.ndarray, tau: float, k0: int = 8):
    """W' = the singular triplets of W above tau (B.4), via a top-k partial SVD.

    Returns (W', n_kept, largest_removed, left, right) with largest_removed = ||W - W'||_2 =
    s_{n_kept+1} and W' = left @ right.T (thin factors)."""
    n = min(W.shape)
    k = min(k0, n - 1)
    while True:
        U, s, Vt = svds(W, k=k, v0=np.ones(min(W.shape)), tol=0)
        order = np.argsort(s)[::-1]
        U, s, Vt = U[:, order], s[order], Vt[order]
        kept = int(np.sum(s > tau))
        if kept < k:
            break
        if k >= n - 1:  # pragma: no cover - only when almost every singular value exceeds tau
            raise ValueError("truncate_top: nearly all singular values exceed tau; use a full SVD")
        k = min(2 * k, n - 1)
    left, right = U[:, :kept] * s[:kept], Vt[:kept].T
    return left @ right.T, kept, float(s[kept]), left, right


def low_rank_difference_norm(A_left, A_right, B_left, B_right) -> float:
    """||A_left A_right^T - B_left B_right^T||_2 for thin factors, via QR (no N x N SVD)."""
    X = np.hstack([A_left, -B_left])
    Y = np.hstack([A_right, B_right])
    _, RX = np.linalg.qr(X)
    _, RY = np.linalg.qr(Y)
    return float(np.linalg.norm(RX @ RY.T, 2))


def cluster_ratio(num: np.ndarray, den: np.ndarray, seed: int = 0, n_boot: int = 1000):
    """Pooled P(num | den) over a (trials, inputs) array with a cluster bootstrap over trials."""
    num, den = np.asarray(num, bool), np.asarray(den, bool)
    hits = (num & den).sum(axis=1).astype(float)
    tot = den.sum(axis=1).astype(float)
    if tot.sum() == 0:
        return None, None
    est = hits.sum() / tot.sum()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(tot), (n_boot, len(tot)))
    h, t = hits[idx].sum(axis=1), tot[idx].sum(axis=1)
    ratios = h[t > 0] / t[t > 0]
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    if lo == hi:  # all outcomes equal: Clopper-Pearson on the clusters that count
        m = int((tot > 0).sum())
        ci = proportion_ci(int(round(est * m)), m, method="exact")
        lo, hi = ci.low, ci.high
    return float(est), [float(lo), float(hi)]


def probability_decision(decl: "P.Declaration", est, ci, bound, condition_rate=1.0) -> "P.Decision":
    """A claim "P(A | B) >= bound" at one N with an explicit bound (1 - D(N)), through
    ``core.protocol.bound`` on the interval's ends: B met in fewer than ``VACUOUS_RATE`` of the pairs
    -> vacuous (``condition``); the whole interval below the bound -> fails; the whole interval at or
    above it -> holds; an interval straddling it -> inconclusive."""
    if est is None or condition_rate < VACUOUS_RATE:
        return P.condition(decl, False, f"the conditioning event in {condition_rate:.1%} of pairs "
                                        f"(< {VACUOUS_RATE:.0%})")
    upper = P.bound(decl, ci[1], bound, side=">=")
    if upper.word == "fails":
        return upper
    lower = P.bound(decl, ci[0], bound, side=">=")
    if lower.word == "holds":
        return lower
    return P.condition(decl, True, f"the interval [{ci[0]:.3g}, {ci[1]:.3g}] straddles {bound:.3g}")


def limit_decision(decl: "P.Declaration", est, ci, condition_rate=1.0) -> "P.Decision":
    """A claim "P >= 1 - C(N)" with C(N) -> 0 unspecified (a limit): vacuous as above; holds when the
    interval lies above ``LIMIT_LEVEL`` (``decl.margin``, rule ``level_at_reduced_scale``); otherwise
    inconclusive: a finite-N shortfall does not refute a limit (issue 23; it was "fails" below 1/2)."""
    if est is None or condition_rate < VACUOUS_RATE:
        return P.condition(decl, False, f"the conditioning event in {condition_rate:.1%} of pairs "
                                        f"(< {VACUOUS_RATE:.0%})")
    return P.level_at_reduced_scale(decl, ci[0], ci[1])


def fallback(decl: "P.Declaration", what: str) -> "P.Decision":
    """Undecided: the premise is met but no rule decides the conclusion (``protocol.condition``)."""
    return P.condition(decl, True, what)


def f_W_square(theta) -> float:
    """f_W of (4.24) for square Gaussian noise (Example A.1), via theory.approximation."""
    return approx.f_W_example_A1(theta)
