"""Monte Carlo checks of the derived limits and of the verdicts on Lemma B.2 / Example 4.3.

Tolerances (issue 23 item 5: every statistical assertion fails with probability <= 1e-4 when the
code is right, under any seed shift).  Each check compares a mean over T independent matrices with
an a.s. limit.  Two errors add up: the sampling error and the finite-N bias.  The sampling part is
the two-sided 1e-4 quantile of the mean's law: for statistics with Gaussian N^{-1/2} fluctuations
(outlier singular values and eigenvalues, overlaps, ||W'-S||_2, ||(W'-S) v_i||) the t_{T-1}
quantile times the standard error recovered from the record's 95% t interval (``_strict_tol``,
tests/tolerances.mean_tol); for the random-z norm, whose per-trial law is a skewed function of one
Gaussian, an exact Chernoff bound (test_random_z_vanishes_at_the_frobenius_rate).  The bias part is
O(N^{-1/2}): the outlier singular vectors and values fluctuate at that rate, and ||U'^T R|| over the
r kept directions exceeds 1 by about sqrt(r/N) (the top singular value of an r x N Gaussian block
with variance 1/N).  We allow 1.5 sqrt(r/N) for it; the levels hold if the true bias is within that
allowance.  (Before issue 23 the sampling part was the record's 95% half-width: a 5% false alarm
per assertion.)
"""
import numpy as np
import pytest
import torch
from scipy import stats

from core.validate import InvalidArgument
from sims import approximation_lemma as al
from sims import wigner
from theory import approximation as ap
from theory import approximation_symbolic as sym
from tests.tolerances import chernoff_interval, mean_tol

N = 300
# 24 matrices: at 6 the two-sided 1e-4 quantile of t_5 (11.2 standard errors) plus the bias
# allowance reached 0.26 against the 0.306 gap between the derived limit and the paper's f_W, so
# the exclusion assertions had no power; t_23's quantile is 4.7.
TRIALS = 24
SINGLE_SEED = 3




def _config(**kw):
    return al.Sweep(**{"n": (N,), "trials": TRIALS, "device": "cpu", **kw})


def _strict_tol(ci, trials, r, n):
    """Tolerance with false-alarm probability <= 1e-4 per assertion: the sampling part is the
    two-sided 1e-4 t quantile of the mean (standard error recovered from the record's 95% t
    interval: tests/tolerances.mean_tol), the bias part the O(sqrt(r/N)) allowance of the module
    docstring.  If the true finite-N bias is within the allowance, |mean - limit| exceeds this with
    probability <= 1e-4."""
    return mean_tol(ci, trials, bias=1.5 * np.sqrt(r / n))


@pytest.fixture(scope="module")
def single_spike():
    return al.measure(_config(spike_sets=((2.0,),), seed=SINGLE_SEED))[0]


def test_opnorm_matches_derived_limit_not_paper(single_spike):
    r = single_spike
    t = _strict_tol(r["opnorm_ci"], TRIALS, 1, N)     # P(false alarm) <= 1e-4
    assert abs(r["opnorm_mean"] - sym.opnorm_limit([2.0])) <= t
    # the verdict: the paper's f_W ((4.24) = 1.0897) is far outside, the corrected 1.3956 inside
    assert abs(r["opnorm_mean"] - ap.f_W_example_A1([2.0])) > t
    assert r["f_W_paper"] == pytest.approx(ap.f_W_example_A1([2.0]))


def test_fixed_z_matches_B6_term(single_spike):
    r = single_spike
    # z = v_1: the paper's per-spike term of (B.6) is the right limit, (B.5) is sharp there;
    # ||(W'-S) v_1|| converges a.s. with Gaussian N^{-1/2} fluctuations: t quantile, level 1e-4
    assert abs(r["fixed_z_mean"] - ap.f_W_example_A1([2.0])) <= _strict_tol(r["fixed_z_ci"], TRIALS, 1, N)


def test_random_z_vanishes_at_the_frobenius_rate(single_spike):
    """||(W'-S) z|| for the record's random unit z (drawn once, independently of R, the SAME z for
    every matrix: sims.approximation_lemma.test_vectors) -> 0 like ||W'-S||_F / sqrt(M).

    Law of one trial, conditional on z (derivation).  One spike theta e_1 e_1^T (c = M/N = 1):
    W' - S = s u' v'^T - theta e_1 e_1^T with v' = b e_1 + b' w, u' = a e_1 + a' w_u
    (a^2, b^2 = g_u, g_v, a' = sqrt(1 - a^2), ...).  R -> R O for any rotation O fixing e_1 leaves W
    in law and (s, a, b) unchanged and maps w to O^T w, so w is uniform on the unit sphere of e_1^perp,
    independent of the rest.  With zeta = sqrt(M) z_1 (fixed by the seed) and gamma = sqrt(M) <w, z>
    (~ N(0, M |z_perp|^2 / (M - 1)) up to O(1/M): a sphere coordinate):
        sqrt(M) (W'-S) z = zeta m + gamma d,  m = (s a b - theta, s a' b),  d = s b' (a, a')
    in the orthonormal pair (e_1, w_u).  So the per-trial value is f(g) = |zeta m + sd_gamma g d|,
    g ~ N(0, 1): a skewed law of ONE Gaussian (not two coordinates averaged over z, which is what the
    old bound [sqrt(2/pi), 1] x ||W'-S||_F / sqrt(M) assumed; at small |zeta| the conditional mean
    sits below that bound, which is why the old test failed at a seed shift).  Averaged over zeta ~
    N(0, 1), E f^2 = |m|^2 + |d|^2 = s^2 + theta^2 - 2 s theta a b = ||W'-S||_F^2 -> 2 + 3/theta^2.

    Tolerance: the mean of the T trials lies in the Chernoff interval of f at two-sided level 1e-4
    (exact rate function of f(g) by quadrature: rigorous, no normal approximation; the t interval of
    6 skewed samples is not), widened by the module's 1.5 N^{-1/2} relative bias allowance for the
    finite-N fluctuation of (s, a, b) around their limits.

    Power: at T = 24 the interval is about [0.4, 1.8] x E f, so a random-z norm doubled or vanishing
    (z orthogonal to the kept directions) fails; a halved one does not (checked by mutation in a
    scratch copy), so the unit norm of z is asserted directly."""
    r, theta = single_spike, 2.0
    M = r["M"]
    z = al.test_vectors(M, 1, SINGLE_SEED)["random"].numpy()     # the record's own z (same seed)
    assert np.linalg.norm(z) == pytest.approx(1.0, rel=1e-12)
    zeta, sd_gamma = np.sqrt(M) * z[0], np.sqrt(M * (1 - z[0] ** 2) / (M - 1))
    (s,), (g_u,), (g_v,) = sym.spike_limits([theta], r["ratio"])
    a, b = np.sqrt(g_u), np.sqrt(g_v)
    a_, b_ = np.sqrt(1 - g_u), np.sqrt(1 - g_v)
    m_unit = np.array([s * a * b - theta, s * a_ * b])
    d_unit = s * b_ * np.array([a, a_])
    # the Frobenius identity behind the rate: E over zeta of E f^2 = ||W'-S||_F^2 -> 2 + 3/theta^2
    assert m_unit @ m_unit + d_unit @ d_unit == pytest.approx(2 + 3 / theta**2, rel=1e-12)
    m, d = zeta * m_unit, sd_gamma * d_unit
    kink = -(m @ d) / (d @ d)
    mean, lo, hi = chernoff_interval(lambda g: float(np.hypot(*(m + g * d))), r["trials"],
                                     kinks=(kink,), scale=np.sqrt(m @ m + d @ d))
    bias = 1.5 / np.sqrt(r["N"]) * np.sqrt(m @ m + d @ d)
    measured = np.sqrt(M) * r["fixed_z_all"]["random"]["mean"]
    assert lo - bias <= measured <= hi + bias, (lo - bias, measured, hi + bias, mean)


# (ratio, N, theta): the smallest N at which the paper's value is excluded with power >= 1 - 1e-4.
# The gap |derived limit - f_W| must exceed two bias allowances plus (t_{1-5e-5,11} + z_{1-1e-4})
# standard errors.  c = 0.5: at theta = 2 the gap is 0.119 (< 2 x 1.5/sqrt(1000) + 9 se), so theta
# = 1.5 (gap 0.214) at N = 1000: allowance 0.047, opnorm sd ~0.03 so se ~0.009 over 12 matrices,
# and 0.214 - 2 x 0.047 = 0.12 >= 9.7 x 0.009 = 0.087.  c = 2: theta = 2, gap 0.670 at N = 300:
# 0.670 - 2 x 0.087 = 0.50 >> 9.7 se (sd ~0.05, se ~0.014).
RECTANGULAR = [(0.5, 1000, 1.5), (2.0, 300, 2.0)]
RECT_TRIALS = 12


@pytest.mark.parametrize("ratio, n, theta", RECTANGULAR)
def test_rectangular_limits(ratio, n, theta):
    r = al.measure(_config(n=(n,), trials=RECT_TRIALS, spike_sets=((theta,),), ratio=ratio, seed=5))[0]
    t_op = _strict_tol(r["opnorm_ci"], RECT_TRIALS, 1, n)
    t_z = _strict_tol(r["fixed_z_ci"], RECT_TRIALS, 1, n)
    assert abs(r["opnorm_mean"] - r["opnorm_limit"]) <= t_op            # derived limit: P(fail) <= 1e-4
    assert abs(r["fixed_z_mean"] - r["fixed_z_limit"]) <= t_z          # P(fail) <= 1e-4
    assert abs(r["opnorm_mean"] - r["f_W_paper"]) > t_op               # the paper's f_W excluded


@pytest.fixture(scope="module")
def moderate_record():
    """A real record of spikes (2, 3, 5) at a small N: its limits and f_W are exact (computed, not
    measured); the measured fields are overwritten below to exercise the decision rules."""
    return al.measure(_config(n=(40,), trials=2, spike_sets=((2.0, 3.0, 5.0),), seed=7))[0]


def _verdict_of(rec, claim, **fields):
    import copy
    r = copy.deepcopy(rec)
    r.update(fields)
    return {x.claim: x for x in al.verdicts([r])}[claim].verdict


def test_verdicts_moderate_spikes(moderate_record):
    """The verdict rules on synthetic measurements: at test size the 95% CI of 6 matrices at N = 300
    cannot decide (finite-N bias and a 5% miss rate per interval), so the rules are checked on
    intervals placed by hand around the exact limits of a real record."""
    rec = moderate_record
    f_W, lim = rec["f_W_paper"], rec["opnorm_limit"]
    assert lim - f_W > 0.3                                  # 1.3956 vs 1.0897: well separated
    ci = lambda c, h=0.05: {"opnorm_mean": c, "opnorm_ci": [c - h, c + h]}   # noqa: E731
    assert _verdict_of(rec, "000:eq:B.14", **ci(lim)) == "fails"       # CI holds the derived limit only
    assert _verdict_of(rec, "000:eq:B.14", **ci(f_W)) == "holds"       # CI holds f_W only
    assert _verdict_of(rec, "000:eq:B.14", **ci((lim + f_W) / 2, 0.2)) == "inconclusive"   # both
    assert _verdict_of(rec, "000:eq:B.14", **ci(lim + 0.3)) == "inconclusive"              # neither
    # Lemma B.2's (B.5): holds when the largest fixed-z limit is f_W (exact) and the exceedance
    # fraction's CI stays below 1/2; otherwise inconclusive; vacuous when a spike is not kept
    assert max(z["limit"] for z in rec["fixed_z_all"].values()) == pytest.approx(f_W, rel=1e-12)
    assert _verdict_of(rec, "000:lemma:B.2", b5_exceed_ci=[0.0, 0.3]) == "holds"
    assert _verdict_of(rec, "000:lemma:B.2", b5_exceed_ci=[0.2, 0.6]) == "inconclusive"
    assert _verdict_of(rec, "000:lemma:B.2", lemma_assumption_ok=False) == "vacuous"
    # Section 4.6's f_W < sqrt(lambda+): judged on the upper end of the CI against the edge 2
    assert _verdict_of(rec, "000:text:4.6.2", **ci(1.5)) == "holds"
    assert _verdict_of(rec, "000:text:4.6.2", **ci(2.1)) == "fails"


def test_figure_4_3_rule_on_planted_samples():
    """Fig 4.3's "||S-W'||_2 very close to f_W ~ 1" against the declared tolerance 0.03 (the paper's
    own for "~ 1"), on the matrix farthest from f_W: planted samples 0.02 above f_W hold, one
    matrix 0.04 above fails (exact arithmetic, no draws decide)."""
    import copy
    rec = al.measure(_config(n=(60,), trials=2, spike_sets=(al.PAPER_SPIKES,), seed=3))[0]
    f_W = rec["f_W_paper"]

    def word(samples):
        r = copy.deepcopy(rec)
        r["opnorm_samples"] = samples
        return {x.claim: x for x in al.verdicts([r])}["000:figure:4.3"].verdict
    assert word([f_W + 0.02, f_W + 0.01]) == "holds"
    assert word([f_W + 0.02, f_W + 0.04]) == "fails"
    assert word([f_W - 0.031, f_W]) == "fails"


def test_low_rank_opnorm_vs_dense_svd():
    """The QR trick of one_trial against ||W'-S||_2 from a dense SVD of the same matrix."""
    thetas = np.array([5.0, 3.0])
    n, m = 120, 90
    zs = al.test_vectors(m, 2, 0)
    out = al.one_trial(n, m, thetas, "gaussian", 11, 0, torch.device("cpu"), 0.1, zs)
    gen = al.trial_generator(11, 0, torch.device("cpu"))
    W = al._noise("gaussian", n, m, gen, torch.device("cpu"), torch.float64).numpy()
    S = np.zeros((n, m))
    S[0, 0], S[1, 1] = thetas
    U, s, Vt = np.linalg.svd(W + S, full_matrices=False)
    keep = s > 1 + np.sqrt(m / n) + 0.1
    D = (U[:, keep] * s[keep]) @ Vt[keep] - S
    assert out["n_kept"] == keep.sum() == 2
    # sims.linalg certifies sin(angle) <= 1e-6 per singular vector (float64 default); a rank-one
    # term s u v^T then moves by <= 2 s 1e-6 in operator norm: tolerance 2 * 5 * 1e-6 per spike, x2.
    atol = 2 * 2 * thetas.max() * 1e-6
    assert out["opnorm"] == pytest.approx(np.linalg.norm(D, 2), abs=atol)
    assert out["z_v2"] == pytest.approx(np.linalg.norm(D[:, 1]), abs=atol)
    assert out["z_random"] == pytest.approx(np.linalg.norm(D @ zs["random"].numpy()), abs=atol)


@pytest.mark.parametrize("kwargs,match", [
    ({"trials": 1}, "trials"),
    ({"ratio": 0.0}, "ratio"),
    ({"spike_sets": ((np.nan,),)}, "spikes"),
    ({"spike_sets": ((2.0, -1.0),)}, "spikes"),
    ({"n": (5,)}, "n must"),
    ({"n": (-5,)}, "n must"),
    ({"eps": -0.1}, "eps"),
    ({"noise": "cauchy"}, "noise"),
])
def test_bad_config(kwargs, match):
    with pytest.raises(InvalidArgument, match=match):
        _config(**{"n": (100,), "trials": 3, **kwargs})


@pytest.mark.parametrize("module,argv,message", [
    (al, ["--n", "-5"], "n must be an integer in [10, 100000], got -5"),
    (al, ["--trials", "0"], "trials must be an integer in [2, 1000000], got 0"),
    (al, ["--ratio", "0"], "ratio must be in (0.0, 1000.0], got 0.0"),
    (al, ["--spikes", "-1"], "spikes must be in (0.0, inf], got -1.0"),
    (wigner, ["--sigma", "-1"], "sigma must be in (0.0, 1000000.0], got -1.0"),
    (wigner, ["--trials", "0"], "trials must be an integer in [2, 1000000], got 0"),
    (wigner, ["--n", "0"], "n must be an integer in [10, 50000], got 0"),
    (wigner, ["--spikes", "0.5"], "spikes must be in (1.0, inf], got 0.5"),
])
def test_cli_bad_input_exits_2_with_one_line(module, argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        module.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.splitlines()
    errors = [ln for ln in err if "error:" in ln]
    assert len(errors) == 1 and errors[0] == err[-1] and message in errors[0], err


def test_result_carries_claim_ids_tables_and_provenance():
    res = al.run_sweep(_config(n=(40, 60, 80), trials=2, spike_sets=((5.0, 3.0),)))
    assert res.provenance.argv[:3] == ["python", "-m", "sims.approximation_lemma"]
    assert {v.claim for v in res.verdicts} == {"000:figure:4.2", "000:lemma:B.2", "000:eq:B.14",
                                               "000:text:4.6.2"}
    assert all("fixed_z_all" not in r for r in res.records)
    assert {row["z"] for row in res.tables["fixed_z"]} == {"v1", "v2", "random", "mix_vr_random",
                                                          "mix_all_v"}
    # Fig 4.2's companion curve (derived operator-norm limit) lies strictly above (4.24)
    assert all(r["opnorm_limit"] > r["f_W_4_24"] for r in res.tables["fig_4_2"])


# ----------------------------------------------------------------------------------------------
# Example 4.3
# ----------------------------------------------------------------------------------------------
def test_wigner_literal_variances_move_the_outlier():
    """Example 4.3's printed variances (off-diagonal sigma^2/(2n), real symmetric) give outliers at
    theta + sigma^2/(2 theta) = 3.1667, not B.2's theta + sigma^2/theta = 3.3333 (theta = 3).

    Tolerance at false-alarm 1e-4: the two-sided 1e-4 t quantile of the mean over 24 matrices plus
    the 1.5/sqrt(n) bias allowance of the module docstring (the outlier's bias is O(1/n), far
    inside it).  Power against B.2's value: the gap 0.167 minus the tolerance (~0.043 sampling +
    0.061 allowance at n = 600, eigenvalue sd ~0.04) leaves ~7 standard errors when the bias is
    O(1/n): missed with probability < 1e-4.  n = 600 rather than 300: at 300 the allowance alone
    (0.087) plus sampling left no room for the gap."""
    n, trials = 600, 24
    recs = wigner.measure(wigner.Sweep(n=(n,), trials=trials, spikes=(3.0,), sigma=1.0,
                                        models=("paper",), seed=2, device="cpu"))
    p = recs[0]["per_spike"][0]
    t = _strict_tol(p["eig_ci"], trials, 1, n)
    assert abs(p["eig_mean"] - (3 + 1 / 6)) <= t
    assert abs(p["eig_mean"] - (3 + 1 / 3)) > t


def test_wigner_gue_is_the_papers_reading():
    """Example 4.3 says "symmetric (or Hermitian)" with variances sigma^2/n (diagonal) and
    sigma^2/(2n) (off-diagonal): the Hermitian case (per real and imaginary part).  With exactly
    those variances the outlier is B.2's theta + sigma^2/theta = 3.3333 (theta = 3), not the real
    model's 3.1667.  Same tolerance and power as the test above (false alarm <= 1e-4 each; the
    GUE's eigenvalue fluctuations are smaller than the real model's)."""
    n, trials = 600, 24
    recs = wigner.measure(wigner.Sweep(n=(n,), trials=trials, spikes=(3.0,), sigma=1.0,
                                        models=("gue",), seed=2, device="cpu"))
    p = recs[0]["per_spike"][0]
    t = _strict_tol(p["eig_ci"], trials, 1, n)
    assert abs(p["eig_mean"] - (3 + 1 / 3)) <= t
    assert abs(p["eig_mean"] - (3 + 1 / 6)) > t
    assert recs[0]["effective_scale"] == 1.0 and p["eig_limit_true"] == p["eig_limit_B2"]


def test_wigner_verdict_rule():
    """wigner's B.2.1 rule on intervals placed by hand (the 95% interval of a run cannot decide
    reliably): on the paper's reading (gue) holds when the interval contains B.2's limit, else
    inconclusive; the real-symmetric control (printed variances as real entries) holds when it
    contains B.2 at the model's own scale, else inconclusive: no row of this claim says fails."""
    import copy
    recs = wigner.measure(wigner.Sweep(n=(40,), trials=2, spikes=(3.0,), sigma=1.0,
                                        models=("gue", "paper"), seed=2, device="cpu"))
    gue, real = (next(r for r in recs if r["model"] == m) for m in ("gue", "paper"))
    b2, true = real["per_spike"][0]["eig_limit_B2"], real["per_spike"][0]["eig_limit_true"]
    assert (b2, true) == (pytest.approx(3 + 1 / 3), pytest.approx(3 + 1 / 6))

    def verdict(rec, lo, hi):
        r = copy.deepcopy(rec)
        r["per_spike"][0]["eig_ci"] = [lo, hi]
        (v,) = [v for v in wigner.verdicts([r]) if v.claim == "000:text:B.2.1"]
        assert v.protocol["family"].startswith("000:text:B.2.1 [" + rec["model"])
        return v.verdict
    assert verdict(gue, b2 - 0.02, b2 + 0.02) == "holds"
    assert verdict(gue, true - 0.02, true + 0.02) == "inconclusive"
    assert verdict(real, true - 0.02, true + 0.02) == "holds"
    assert verdict(real, b2 - 0.02, b2 + 0.02) == "inconclusive"
    assert verdict(real, true + 0.05, b2 - 0.05) == "inconclusive"


def test_wigner_goe_B2_and_4_25():
    recs = wigner.measure(wigner.Sweep(n=(N,), trials=TRIALS, spikes=(2.0,), sigma=1.0,
                                        models=("goe",), seed=4, device="cpu"))
    r = recs[0]
    p = r["per_spike"][0]
    # every tolerance: t_{T-1} quantile at two-sided 1e-4 + the 1.5 N^{-1/2} bias allowance
    t_eig = _strict_tol(p["eig_ci"], TRIALS, 1, N)
    assert abs(p["eig_mean"] - 2.5) <= t_eig                                       # B.2
    t_ov = _strict_tol(p["overlap_sq_ci"], TRIALS, 1, N)
    assert abs(p["overlap_sq_mean"] - 0.75) <= t_ov
    t = _strict_tol(r["opnorm_ci"], TRIALS, 1, N)
    assert abs(r["opnorm_mean"] - sym.symmetric_limits([2.0], 1.0)[1][0]) <= t
    assert abs(r["opnorm_mean"] - ap.f_W_symmetric_4_25([2.0], 1.0)) > t           # (4.25) fails
    assert abs(r["fixed_z_mean"] - ap.f_W_symmetric_4_25([2.0], 1.0)) <= _strict_tol(r["fixed_z_ci"], TRIALS, 1, N)
    assert r["opnorm_mean"] + t < 2.0          # Fig 4.4: below sqrt(lambda+) = 2 (gap 0.6 >> 2 t)


@pytest.mark.slow
def test_paper_scale_fig_4_3():
    """Fig 4.3 at the paper's scale: ten 3000 x 3000 matrices, spikes 30..70."""
    r = al.measure(_config(n=(3000,), trials=10, spike_sets=(al.PAPER_SPIKES,), seed=0))[0]
    assert abs(r["opnorm_mean"] - r["opnorm_limit"]) <= _strict_tol(r["opnorm_ci"], 10, 5, 3000)
    assert min(r["opnorm_samples"]) > r["f_W_paper"]           # every matrix above f_W
    v = {x.claim: x for x in al.verdicts([r])}
    # "very close to f_W ~ 1" within the paper's own 0.03; the excess is (B.14)'s finding
    assert v["000:figure:4.3"].verdict == "holds" and v["000:lemma:B.2"].verdict == "holds"


@pytest.mark.slow
def test_B14_fails_by_extrapolation_moderate_spikes():
    recs = al.measure(_config(n=(500, 1000, 2000, 4000), trials=10, spike_sets=((2.0, 3.0, 5.0),),
                              seed=1))
    ext = al.extrapolate(recs)
    lo, hi = ext["limit_ci"]
    assert lo <= recs[0]["opnorm_limit"] <= hi
    assert not lo <= recs[0]["f_W_paper"] <= hi
