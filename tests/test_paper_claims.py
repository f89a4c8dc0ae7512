"""sims.paper_claims: the exact pieces against independent closed forms and Monte Carlo."""
import math

import numpy as np
import pytest

from sims import paper_claims as pc


def test_example_d2_counts_the_pipelines_split_and_finds_40_not_20():
    rows, (verdict, figure) = pc.example_d2()
    assert figure.claim == "000:figure:D.4" and figure.verdict == verdict.verdict
    assert rows[0]["parameters_before"] == 100
    assert rows[0]["parameters_after_split"] == 10 * 2 + 2 * 10
    assert verdict.verdict == "fails" and verdict.measured == 40 and verdict.bound == 20


def test_expected_max_matches_closed_forms():
    # E max of 2 and 3 iid N(0,1): 1/sqrt(pi) and 3/(2 sqrt(pi)) (order statistics).
    assert pc._expected_max(2) == pytest.approx(1 / math.sqrt(math.pi), abs=1e-9)
    assert pc._expected_max(3) == pytest.approx(1.5 / math.sqrt(math.pi), abs=1e-9)


def test_surviving_noise_fraction_formula_against_counting():
    # N = 500, zeta = 0.02: p = 2(1 - Phi(0.02 sqrt 500)) = 0.655; the count over 250,000 entries
    # has sd sqrt(p(1-p)/250000) < 0.001, so |count - p| > 0.005 has probability < 1e-6.
    cfg = pc.PaperClaimsConfig(widths=(500,), zetas=(0.02,))
    rows, _ = pc.remark_4_3(cfg)
    r = np.random.default_rng(11).standard_normal((500, 500)) / math.sqrt(500)
    assert abs(float((np.abs(r) >= 0.02).mean()) - rows[0]["noise_entries_surviving"]) < 0.005


def test_c14_left_side_is_the_exact_tail_of_the_max():
    # Against Monte Carlo at N = 30 (900 entries): P(max|R| > x) with x = N^-3/8 + sqrt(2 log N^2/N)
    # is ~0.08; 20,000 draws give sd 0.002, a 0.012 band is > 5 sd (false alarm < 1e-6).
    n = 30
    x = n ** (-3 / 8) + math.sqrt(2 * math.log(n * n) / n)
    exact = -math.expm1(n * n * math.log1p(-2 * (1 - 0.5 * (1 + math.erf(x * math.sqrt(n) / math.sqrt(2))))))
    rng = np.random.default_rng(5)
    hits = sum(int((np.abs(rng.standard_normal((1000, n * n))) / math.sqrt(n)).max(1).__gt__(x).sum())
               for _ in range(20))
    assert abs(hits / 20000 - exact) < 0.012


def test_bad_trials_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        pc.main(["--trials", "5"])
    assert info.value.code == 2
    assert "trials" in capsys.readouterr().err.strip().splitlines()[-1]


def test_c1_condition_probability_is_the_exact_gaussian_tail():
    # 4000 trials at N = 100: p ~ 0.006, count sd ~ 4.9; a band of 6 sd around 4000 p has false-
    # alarm probability < 1e-6 (normal approximation to a Binomial with mean 24 is adequate at 6 sd
    # only roughly, so the band uses the Chernoff-safe 8 sd: < 1e-7).
    cfg = pc.PaperClaimsConfig(ns=(100,))
    rows, (v,) = pc.eq_c1(cfg, lambda tag, n, k: np.random.default_rng([17, n, k]))
    r = rows[0]
    sd = math.sqrt(4000 * r["p_condition_exact"])
    assert abs(r["mc_condition"] * 4000 - 4000 * r["p_condition_exact"]) < 8 * sd
    assert v.verdict == "fails" and r["joint_worst_case"] <= r["joint_bound"]


def test_sparse_initialisation_follows_mp_with_thinned_variance():
    # Kolmogorov distance at N = 400 of a 10%-dense iid matrix to MP(1, 0.1): the iid-sample KS
    # 99.99% quantile 1.95/sqrt(N) = 0.098 bounds it loosely (eigenvalues are more rigid than iid
    # samples), while the wrong law MP(1, 1) is at distance > 0.5.
    cfg = pc.PaperClaimsConfig(ns=(100, 200))
    rows, _ = pc.text_e2_4(cfg, lambda tag, n, k: np.random.default_rng([23, n]))
    assert rows[-1]["N"] == 400 and rows[-1]["ks_to_MP"] < 1.95 / math.sqrt(400)
