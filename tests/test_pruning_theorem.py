"""sims.pruning_theorem: each verdict of the table at small N with fixed seeds.

Where the paper's statement fails, the tests assert what is true instead (the counterexample, the
corrected inequality).  Tolerances: see the comment at each assertion.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.result import read_result
from sims import pruning_settings as ps
from sims import pruning_theorem as pt
from sims.stats import loglog_fit
from theory import pruning_bounds as pb


# ---------------------------------------------------------------------------------------------
# Lemma 4.2 fails: the pooling network
# ---------------------------------------------------------------------------------------------
def test_lemma_4_2_counterexample_pooling():
    N, trials = 128, 40
    res = pt.spiked_trials("pooling", N, trials, seed=0)
    kappa, theta = 0.1, 3.0
    # under S_2 the network is deterministic: X = (0, kappa theta), so delta X(S) = -0.3
    np.testing.assert_allclose(res["dS"], [-kappa * theta], rtol=1e-12)
    # E = a(N) ||e_1||_1 ||W_3||_1 = a(N) max(kappa, 1/sqrt(N-1)) (hand formula)
    assert res["E"][0] == pytest.approx(pb.a_N(N) * max(kappa, 1 / math.sqrt(N - 1)), rel=1e-12)
    # delta X(W) = sum_{i>=2} |R_i1| / sqrt(N-1) - kappa |theta + R_11| has mean
    # sqrt(2/pi) sqrt((N-1)/N) - 0.3 = 0.494 and sd sqrt(1-2/pi)/sqrt(N) + kappa/sqrt(N) = 0.062;
    # E = 0.071 sits 6.8 sd below the mean, so every one of 40 trials meets the condition
    # (P(miss) < 40 * 1e-11).
    assert np.all(res["dW"] >= res["E"])
    # hence P(delta X(S) >= 0 | delta X(W) >= E) = 0 < 1 - D(N): (4.14) fails ...
    rows = {v.extra["check"]: v for v in pt.spiked_verdicts(res)}
    assert rows["lemma_4_2"].claim == "000:lemma:4.2"
    assert rows["lemma_4_2"].measured == 0.0 and rows["lemma_4_2"].verdict == "fails"
    assert rows["lemma_4_2"].interval[1] < 1 - pb.D_N(N)
    # ... and so does (4.16): |delta X(S) - delta X(W)| ~ 0.79 never falls below E ~ 0.07
    assert rows["remark_4_2"].verdict == "fails"
    # Theorem 4.1 is not contradicted: its threshold E' (~1.8, driven by g_phi) is never reached
    assert np.all(res["dW"] < res["Ep"]) and rows["theorem_4_1"].verdict == "vacuous"
    # and Lemma 4.1 holds on W -> W'
    assert rows["lemma_4_1_spiked"].verdict == "holds"


def test_remark_4_2_fails_in_the_aligned_network():
    """In the 'trained-looking' network, the change from dropping R_2 concentrates near 0.48
    (the noise |R z| read by the other class's readout) while E = a(N) h_phi ~ 0.43 at N = 512."""
    N = 512
    res = pt.spiked_trials("aligned", N, 20, seed=0, prune=False)
    delta = np.abs(res["dS"] - res["dW"])
    est, ci = pt.cluster_ratio(delta <= res["E"], np.ones_like(delta, bool))
    # (4.16) claims >= 1 - D(512) = 0.815; the cluster-bootstrap interval lies far below
    assert ci[1] < 1 - pb.D_N(N)
    # (4.14) itself is not contradicted here: delta X(S) = theta_k (v_k . z) > 0 for every input
    assert np.all(res["dS"] > 0)


def test_random_network_lemma_4_2_and_theorem_4_1_are_vacuous():
    """Standard initialisation: the conditions dX(W) >= E, dX(W) >= E' of (4.14), (4.19) are never
    met, so both statements are vacuous.

    Deterministic part: with |.| after every layer and two classes, X_i = |<w_i, z>| >= 0 for the
    layer-3 input z, so |dX| <= max_i X_i <= max|W_3| ||z||_1 <= ||W_3||_1 ||z||_1 = h_phi, hence
    E = a(N) h_phi + b(N) >= a(N) |dX| for every input (checked below).  Probabilistic part: W_3
    (N(0, 1/N) entries) is independent of z, so <w_i, z> ~ N(0, ||z||_2^2 / N) given z, while
    E >= a(N) ||z||_1 mean_j(|W_1j| + |W_2j|) with mean_j(...) -> 2 sqrt(2/pi) / sqrt(N) and
    ||z||_1 / ||z||_2 -> sqrt(2N/pi) (z = |S y| has delocalised, Gaussian-like entries); at N = 128
    the condition needs |<w_i, z>| beyond ~10 standard deviations: P <= 4 Phi(-10) < 1e-22 per
    input, so over the 10 x 50 inputs the condition rate reaches VACUOUS_RATE = 1% with
    probability far below 1e-4 (concentration slack included: even at half these factors, 5 sd)."""
    N = 128
    res = pt.spiked_trials("random", N, 10, seed=0)
    dW = np.abs(res["dW"])
    for key in ("E", "Ep"):
        E = np.broadcast_to(res[key], dW.shape)
        assert np.all(E >= pb.a_N(N) * dW * (1 - 1e-12)), key        # derived, deterministic
        assert np.mean(res["dW"] >= E) < pt.VACUOUS_RATE
    rows = {v.extra["check"]: v for v in pt.spiked_verdicts(res)}
    assert rows["lemma_4_2"].verdict == "vacuous" and rows["theorem_4_1"].verdict == "vacuous"


def test_vacuity_rule():
    """probability_decision / limit_decision on synthetic rates: vacuous below VACUOUS_RATE whatever
    the interval says; otherwise the interval against the bound decides; a limit claim (C(N)
    unspecified) is never failed at finite N (issue 23), only reached (holds) or not (inconclusive)."""
    from sims.pruning_theorem_spiked import DECLARATIONS as D
    below = pt.VACUOUS_RATE / 2

    def prob(*a):
        return pt.probability_decision(D["lemma_4_2"], *a).word

    def lim(*a):
        return pt.limit_decision(D["theorem_4_1"], *a).word
    assert prob(0.99, [0.98, 1.0], 0.9, below) == "vacuous"
    assert prob(None, None, 0.9, 1.0) == "vacuous"
    assert prob(0.99, [0.98, 1.0], 0.9, 0.5) == "holds"
    assert prob(0.5, [0.4, 0.6], 0.9, 0.5) == "fails"
    assert prob(0.9, [0.85, 0.95], 0.9, 0.5) == "inconclusive"
    assert lim(0.99, [0.97, 1.0], below) == "vacuous"
    assert lim(0.99, [0.97, 1.0], 0.5) == "holds"
    assert lim(0.3, [0.2, 0.4], 0.5) == "inconclusive"      # was "fails" (below 1/2): a limit claim


def test_remark_4_5_h_phi_grows_under_standard_init():
    """h_phi(s, 2) = ||z||_1 ||W_3||_1 with z = |W_1 s| (O(1) entries: ||z||_1 ~ N) and ||W_3||_1
    the largest column sum of a 2 x N matrix with N(0, 1/N) entries (~ sqrt(log N / N)): h_phi ~
    sqrt(N log N), log-log slope ~ 0.5-0.6.  Remark 4.5 needs h_phi bounded (slope <= 0).

    The networks, not the inputs, are the independent units (all inputs of a network share W_3,
    whose column maximum fluctuates from network to network): 20 networks per N, the mean h_phi of
    each, and the t interval of the slope at two-sided level 2e-4, so slope_low > 0 fails with
    probability <= 1e-4 if h_phi did not grow (and the slope ~0.5 sits ~10 standard errors above
    0: power ~1).  (Before: all 150 inputs of three networks as independent points, slope_low >
    0.3 measured at one seed; it failed at other seeds.)"""
    Ns, hs = [], []
    for N in (64, 256, 1024):
        for net in range(20):
            st = ps.random_setting(N, pt._rng(0, 1, N, 10**6 + net))
            Ns.append(N)
            hs.append(float(np.mean(pb.h_phi(st.net_S, st.inputs, 2))))
    fit = loglog_fit(Ns, hs, level=1 - 2e-4)
    assert fit.slope_low > 0, fit


def test_remark_4_5_verdict_rule():
    """scaling_verdict on synthetic records (at test size the pooled-input slope interval cannot
    decide reliably): growing h_phi -> vacuous (Remark 4.5's hypothesis fails), bounded -> holds."""
    def records(exponent):
        out = []
        for N in (64, 128, 256, 512):
            g = np.random.default_rng(N)
            h = N ** exponent * np.exp(0.01 * g.standard_normal(50))
            out.append({"N": N, "name": "random", "h": h, "E": pb.a_N(N) * h,
                        "dW": 0.5 + 0.01 * g.standard_normal((3, 50))})
        return out
    assert pt.scaling_verdict(records(0.5)).verdict == "vacuous"
    assert pt.scaling_verdict(records(0.0)).verdict == "holds"


# ---------------------------------------------------------------------------------------------
# (C.12)-(C.13)
# ---------------------------------------------------------------------------------------------
def test_c13_is_false_and_the_column_sum_bound_holds():
    # deterministic counterexample: R = r * (all ones), z = e_1: ||R z||_1 = N r > r = max|R| ||z||_1
    N, r = 5, 0.3
    R, z = np.full((N, N), r), np.eye(N)[0]
    assert np.abs(R @ z).sum() == pytest.approx(N * r)
    assert np.abs(R @ z).sum() > np.abs(R).max() * np.abs(z).sum()
    res = pt.spiked_trials("random", 64, 10, seed=1)
    v = pt.c13_verdict(res)
    assert v.claim == "000:eq:C.13" and v.measured == 0.0 and v.verdict == "fails"
    assert v.extra["corrected_holds"] == 1.0 and v.extra["c12_holds"] == 1.0


def test_rz_l1_concentrates_at_sqrt_2N_over_pi():
    # ||R z||_1 = (||z||_2 / sqrt N) sum_i |g_i|: mean exactly sqrt(2N/pi) ||z||_2; the ratio has
    # sd sqrt(1 - 2/pi) / (sqrt(2/pi) sqrt N) = 0.0378 at N = 400; the mean of 200 draws has sd
    # 0.0027, tolerance 4 sd = 0.011.
    N, rng = 400, np.random.default_rng(3)
    z = rng.standard_normal(N)
    ratios = [np.abs(rng.standard_normal((N, N)) @ z / math.sqrt(N)).sum()
              / (math.sqrt(2 * N / math.pi) * np.linalg.norm(z)) for _ in range(200)]
    assert abs(np.mean(ratios) - 1) < 0.011


# ---------------------------------------------------------------------------------------------
# Theorem 4.1 holds where its condition is met
# ---------------------------------------------------------------------------------------------
def test_theorem_4_1_holds_in_the_aligned_network():
    res = pt.spiked_trials("aligned", 128, 20, seed=0)
    cond = res["dW"] >= res["Ep"]
    # the condition is met: its rate over the 20 x 50 pairs was 0.535 +- 0.058 (mean +- sd over 30
    # seeds, for issue 23; 0.44 at seed 0), so 0.1 sits 7.4 sd below: false alarm far below 1e-4
    assert cond.mean() > 0.1
    assert np.all(res["dP"][cond] >= 0)            # no well-classified input flips
    # (4.21): measured margin E' / |Delta| ~ 80, so every pair is inside
    assert np.all(np.abs(res["dP"] - res["dW"]) <= res["Ep"])
    assert np.all(res["kept"] == 2)                # W' keeps exactly the two spikes
    assert not np.any(np.abs(res["dP"] - res["dW"]) > res["lemma41"] * (1 + 1e-9))


# ---------------------------------------------------------------------------------------------
# Theorem 4.2 / Remark 4.11
# ---------------------------------------------------------------------------------------------
def test_theorem_4_2_paper_threshold_is_vacuous_and_E_prime_variant_is_not():
    rec = pt.theorem_4_2_trials("aligned", 128, 6, seed=0)
    # (4.29) multiplies f_W sigma_max(W_3) by ||W_1 s||_1 ~ ||v_k||_1 = sqrt(64) = 8, so every
    # t_s >= 1.1 sqrt(2) * 1.05 * 8 = 13 exceeds every delta X (<= theta = 3.5): G is empty,
    # the bound (4.27) is 0 and E = F(E) has no solution (Remark 4.11 fails).
    assert np.all(rec["bound"] == 0) and not np.any(rec["exact_exists"])
    # with Theorem 4.1's own E'(s) the good set is non-empty and the accuracy bound holds.  Its
    # size |G|/|T'| was >= 0.445 in 180 of 180 trials (30 seeds) and 0.005 once in a seed-shift
    # run: a rare mode with per-trial probability p <= 0.061 (Clopper-Pearson, 1 in 186, level
    # 1 - 1e-4), so all 6 trials fall into it with probability <= p^6 = 5e-8 (not "every trial
    # above 0.2", which that one trial broke).
    assert np.max(rec["bound_41"]) > 0.2
    assert np.all(rec["acc_pruned"] >= rec["bound_41"])


# ---------------------------------------------------------------------------------------------
# Example 4.2
# ---------------------------------------------------------------------------------------------
def test_example_4_2_threshold_is_not_better_than_lemma_4_1():
    rec = pt.example_4_2(200, 1, seed=0)
    # dense hidden activations: a(N) ||W_1 s||_1 ||W_3||_1 ~ a(N) sqrt(2N/pi) ||z||_2 exceeds
    # Lemma 4.1's sqrt(2) (2 + eps) ||z||_2 (a(200) sqrt(400/pi) = 6.9 > 3): ratio measured ~ 4
    ratio = rec["threshold"] / rec["lemma41"][0]
    assert np.all(ratio > 1)
    rows = {v.extra["check"]: v for v in pt.example_4_2_verdicts(rec)}
    assert rows["example_4_2_vs_lemma_4_1"].verdict == "fails"
    assert rows["example_4_2_vs_lemma_4_1"].claim == "000:example:4.2"
    # The (4.23) condition is rare (delta X ~ tens, threshold ~ 10^2) but not impossible: over 40
    # seeds x 200 inputs it held for 16 of 8000 inputs, so its per-input probability p is below
    # 0.0046 (Clopper-Pearson, level 1 - 1e-4).  The condition rate of 200 inputs then exceeds 5%
    # (10 or more) with probability <= P(Bin(200, 0.0046) >= 10) = 4e-8.  Whether the rate falls
    # below VACUOUS_RATE (1%, the "vacuous" verdict) is a 6%-per-seed event at this size, so the
    # verdict itself is not asserted here: its rule is tested on synthetic rates (test_vacuity_rule).
    assert rec["cond"].mean() < 0.05


def test_simultaneous_pruning_sum_bound_and_sharpness_rows():
    sim = pt.simultaneous_pruning_check(20, 10, seed=0)
    assert sim["sum_violations"] == 0 and sim["worst_actual_over_sum"] <= 1 + 1e-9
    sharp = pt.sharp_example()
    assert sharp["ratio"] == pytest.approx(1.0, rel=1e-12)
    # the sharpness decision follows the ratio: attained -> holds, bound below actual -> fails
    assert pt.sharpness_decision(sharp["ratio"]).word == "holds"
    assert pt.sharpness_decision(0.9).word == "fails" and pt.sharpness_decision(1.5).word == "inconclusive"


# ---------------------------------------------------------------------------------------------
# helpers and CLI
# ---------------------------------------------------------------------------------------------
def test_truncate_top_matches_full_svd():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((60, 60)) / math.sqrt(60)
    W[0, 0] += 4.0
    Wp, kept, removed, left, right = pt.truncate_top(W, 2.1)
    Wf, removed_f = pb.truncate_singular_values(W, 2.1, inclusive=True)
    np.testing.assert_allclose(Wp, Wf, atol=1e-10)
    assert removed == pytest.approx(removed_f, rel=1e-10) and kept == 1
    np.testing.assert_allclose(left @ right.T, Wp, atol=1e-12)


def test_low_rank_difference_norm():
    rng = np.random.default_rng(1)
    A, B, C, D = (rng.standard_normal((30, 3)) for _ in range(4))
    assert pt.low_rank_difference_norm(A, B, C, D) == pytest.approx(
        np.linalg.norm(A @ B.T - C @ D.T, 2), rel=1e-10)


def test_cli_quick_writes_a_result_with_registry_ids(tmp_path, capsys):
    path = tmp_path / "v.json"
    argv = ["--quick", "--n", "32", "48", "64", "--trials", "6", "--json", str(path)]
    assert pt.main(argv) == 0
    res = read_result(path)
    assert res.experiment == "sims.pruning_theorem"
    assert res.provenance.argv == ["python", "-m", "sims.pruning_theorem", *argv]
    assert res.config["n"] == [32, 48, 64] and res.config["trials"] == 6
    claims = {v.claim for v in res.verdicts}
    assert {"000:lemma:4.1", "000:remark:4.1", "000:lemma:4.2", "000:theorem:4.1", "000:theorem:4.2", "000:eq:C.13",
            "000:remark:4.11", "000:example:4.2"} <= claims
    assert all(v.verdict == "holds" for v in res.verdicts
               if v.claim in ("000:lemma:4.1", "000:remark:4.1"))
    assert {r["network"] for r in res.records} == set(ps.SETTINGS)
    assert (tmp_path / "v.csv").exists() and (tmp_path / "v.lemma_4_1_ratios.csv").exists()
    # the summary ends the output: the verdict counts, then (a --quick run) the pointer to the
    # committed Result; every line fits 120 characters
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-2].startswith(f"{len(res.verdicts)} verdicts on ")
    assert out[-2].split("(quick): ")[1].startswith(("fails", "holds", "inconclusive", "vacuous"))
    assert out[-1].startswith("(quick) = reduced sizes") and "results/pruning_theorem.json" in out[-1]
    assert max(len(line) for line in out) <= 120


@pytest.mark.parametrize("argv,option", [
    (["--n", "1", "64"], "n must be an integer in [16, 4096], got 1"),
    (["--n", "-5", "64"], "n must be an integer in [16, 4096], got -5"),
    (["--n", "64"], "n must hold at least 2 distinct values"),
    (["--trials", "0"], "trials must be an integer in [2, 100000], got 0"),
    (["--trials", "abc"], "argument --trials: invalid int value: 'abc'"),
    (["--jobs", "0"], "jobs must be an integer in [1, 256], got 0"),
    (["--seed", "-1"], "seed must be an integer in [0, "),
    (["--n"], "n must hold at least 2 distinct values"),
])
def test_cli_bad_input_exits_2_with_one_line(argv, option, capsys):
    with pytest.raises(SystemExit) as info:
        pt.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert option in err[-1]


def test_config_validation_before_work():
    with pytest.raises(ValueError, match="example_n"):
        pt.run(pt.Config(example_n=3))
    from sims.experiment import validate_config
    with pytest.raises(ValueError, match="trials"):
        validate_config(pt.Config(trials=1.5))


def test_help_prints_the_description(capsys):
    with pytest.raises(SystemExit) as info:
        pt.main(["--help"])
    assert info.value.code == 0
    assert "Lemma 4.1" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# pipeline
# ---------------------------------------------------------------------------------------------
def test_pipeline_event_analysis_on_a_hand_pruned_model():
    from nets.models import FullyConnectedNet
    from sims import pruning_pipeline_check as pc
    torch.manual_seed(0)
    model = FullyConnectedNet([2, 40, 40, 2], final_activation="none").double()
    before = pc.network_from_model(model)
    x = torch.randn(50, 2, dtype=torch.float64)
    # the numpy network reproduces the torch forward
    np.testing.assert_allclose(before.forward(x.numpy()), model(x).detach().numpy(), atol=1e-12)
    W = before.weights[1]
    tau = float(np.median(np.linalg.svd(W, compute_uv=False)))
    Wp, _ = pb.truncate_singular_values(W, tau)
    with torch.no_grad():
        model.layers.fc2.weight.copy_(torch.from_numpy(Wp))
    after = pc.network_from_model(model)
    labels = np.random.default_rng(0).integers(0, 2, 50)
    from nets.prune import PruneEvent
    ev = [PruneEvent(layer="layers.fc2", tensor="weight", kind="linear", shape=(40, 40), rule="mp",
                     step="prune", action="dense", accepted=None, tau=None, params_before=1640,
                     params_after=1640, sv_threshold=tau, sigma2=float(W.var()))]
    rec = pc.analyse_event(before, after, ev, x.numpy(), labels, epoch=1)
    assert rec["changed"] and rec["violations"] == 0 and rec["premise_ok"]
    assert [l["b"] for l in rec["layers"]] == [2]


@pytest.mark.slow
def test_paper_scale_table():
    v = pt.run(pt.Config()).verdicts
    assert all(r.verdict == "holds" for r in v if r.claim == "000:lemma:4.1")
    assert all(r.verdict == "fails" for r in v
               if r.claim == "000:lemma:4.2" and r.extra["network"] == "pooling")
    assert all(r.verdict == "fails" for r in v if r.claim == "000:eq:C.13")
    assert [r.verdict for r in v if r.claim == "000:remark:4.2" and r.extra["network"] == "aligned"
            and r.N == 512] == ["fails"]


def test_pipeline_cli_bad_input_exits_2(capsys):
    from sims import pruning_pipeline_check as pc
    for argv, text in ((["--epochs", "0"], "epochs must be an integer in [1, 10000], got 0"),
                       (["--hidden", "-3"], "hidden must be an integer in [2, 20000], got -3"),
                       (["--config", "foo"], "argument --config: invalid choice: 'foo'"),
                       (["--config"], "argument --config: expected at least one argument"),
                       (["--threads", "0"], "argument --threads")):
        with pytest.raises(SystemExit) as info:
            pc.main(argv)
        assert info.value.code == 2
        assert text in capsys.readouterr().err.strip().splitlines()[-1]
    with pytest.raises(SystemExit) as info:
        pc.main(["--help"])
    assert info.value.code == 0 and "Lemma 4.1 and Theorem 4.1" in capsys.readouterr().out
    from core.validate import InvalidArgument
    with pytest.raises(InvalidArgument, match="^config must name at least one of"):
        pc.run(pc.Config(config=()))


@pytest.mark.slow
def test_pipeline_quick_run_never_violates_lemma_4_1():
    from sims import pruning_pipeline_check as pc
    res = pc.run(pc.Config(quick=True, config=("e4-classification",)))
    changed = [r for r in res.records if r["changed"]]
    assert changed and all(r["violations"] == 0 for r in changed)
    assert [v.verdict for v in res.verdicts if v.claim == "000:lemma:4.1"] == ["holds"]


def test_results_do_not_depend_on_jobs():
    cfg = pt.toy_config()
    a, b = pt.run(cfg), pt.run(pt.Config(**{**cfg.__dict__, "jobs": 2}))
    assert a.records == b.records
    assert [(v.claim, v.measured, v.verdict) for v in a.verdicts] == \
        [(v.claim, v.measured, v.verdict) for v in b.verdicts]


def test_claim_ids_are_in_the_registry():
    from core.claims import registry
    from sims import posttraining_truncation as posttraining
    from sims import pruning_pipeline_check as pc
    ids = {pt.LEMMA_4_1, pt.REMARK_4_1, pt.LEMMA_4_2, pt.REMARK_4_2, pt.THEOREM_4_1, pt.REMARK_4_5, pt.REMARK_4_6,
           pt.THEOREM_4_2, pt.REMARK_4_11, pt.EQ_C13, pt.EXAMPLE_4_2, pt.FIGURE_4_3, pc.LEMMA_4_1,
           pc.THEOREM_4_1, posttraining.ALGORITHM_3, posttraining.PAPER_001_ALGORITHM}
    assert ids <= set(registry())


def test_pipeline_verdicts_on_planted_events():
    """Planted event records: Lemma 4.1 is a deterministic inequality, so a ratio above 1 anywhere
    fails it and every ratio <= 1 holds; Theorem 4.1 is vacuous when no input is certified, holds
    when certified inputs never flip, fails when one does."""
    from sims import pruning_pipeline_check as pc

    def ev(ratio, certified=0.0, cf=0, viol=0):
        return dict(changed=True, n_test=100, violations=viol, max_actual_over_bound=ratio,
                    violations_if_sqrt_lambda_plus_of_X=0, premise_ok=True, median_ratio=0.1,
                    certified_E_prime=certified, certified_but_flipped_E_prime=cf, flipped=cf)

    def words(*events):
        return [v.verdict for v in pc.verdicts(dict(config="planted", topology=[2, 4, 2], records=list(events)))]

    assert words(ev(0.3), ev(1.0)) == ["holds", "vacuous"]
    assert words(ev(0.3), ev(1.0 + 1e-9, viol=1)) == ["fails", "vacuous"]
    assert words(ev(0.3, certified=0.2), ev(0.5)) == ["holds", "holds"]
    assert words(ev(0.3, certified=0.2, cf=1)) == ["holds", "fails"]
    (none,) = pc.verdicts(dict(config="planted", topology=[2, 4, 2], records=[dict(changed=False)]))
    assert none.verdict == "inconclusive" and none.protocol["rule"] == "bound"
