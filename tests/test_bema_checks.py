"""Fast checks of sims/bema_checks.py (seconds); its figures are tested in test_figures.py."""
import math

import numpy as np
import pytest

from core.validate import InvalidArgument
from sims import bema_checks as bc
from tests.tolerances import binom_band
from theory import bema


def test_spectra_do_not_depend_on_batch_size():
    a = bc.noise_spectra(30, 20, range(5, 12), seed=3, device="cpu", batch=7)
    b = bc.noise_spectra(30, 20, range(5, 12), seed=3, device="cpu", batch=2)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (7, 20) and np.all(np.diff(a, axis=1) >= 0)


def test_spectrum_appends_structural_zeros_for_wide_matrices():
    ev = bc.noise_spectra(10, 25, [0], seed=0, device="cpu")[0]
    assert np.count_nonzero(ev == 0.0) == 15
    assert np.all(ev[15:] > 0)


def test_calibration_small_setting_contains_beta():
    # 300 pure-noise 100 x 100 matrices, midpoint reading: hits ~ Bin(300, p_N) exactly, p_N -> beta =
    # 0.1.  At N = 100 p_N ~ 0.08 (the oracle sigma^2 = 1 gives the same: the Tracy-Widom
    # approximation's finite-N error; 0.085 over 1500 draws at 5 other seeds, for issue 23).
    # Allowance |p_N - beta| <= 0.03 (as in tests/test_bema.py); tolerance at false alarm <= 1e-4:
    # hits in [lower 5e-5 quantile of Bin(300, 0.07), upper 5e-5 quantile of Bin(300, 0.13)] = [6, 63]
    # (exact binomial, tests/tolerances.binom_band).  It was "the 99.9% Wilson interval contains 0.1":
    # a 1.7e-3 false alarm at p_N = 0.085.  Power: only gross miscalibration (p <= 0.01 or >= 0.25)
    # fails with probability > 0.9.
    recs = bc.calibration(ns=(100,), ratios=(1.0,), trials=300, betas=(0.1,), seed=1, progress=False)
    mid = next(r for r in recs if r["reading"] == "midpoint")
    hits = round(mid["exceed"] * mid["trials"])
    lo, hi = binom_band(mid["trials"], 0.1 - 0.03)[0], binom_band(mid["trials"], 0.1 + 0.03)[1]
    assert lo <= hits <= hi, (hits, lo, hi)
    readings = {r["reading"] for r in recs}
    assert readings == {"oracle sigma2=1", "lower", "midpoint", "upper"}
    # the three readings are ordered as their quantile levels: k/n < (k-1/2)/n < (k-1)/n in sigma^2
    s2 = {r["reading"]: r["sigma2_mean"] for r in recs}
    assert s2["lower"] < s2["midpoint"] < s2["upper"]


def test_strong_spikes_are_all_counted():
    # theta = 3 x threshold at c = 1: spike eigenvalue -> (1 + 9)^2 / 9 = 11.1 against the edge 4,
    # a gap of ~100 Tracy-Widom units at N = 60, so every trial must count exactly 3.
    recs = bc.spike_counts(ns=(60,), ratios=(1.0,), factors=(3.0,), trials=8, seed=2, progress=False)
    (rec,) = recs
    assert rec["truth"] == 3 and rec["n_spikes_mean"] == 3.0 and rec["exact_rate"] == 1.0
    assert rec["spike_eigenvalue_limit"] == pytest.approx((1 + 9.0) ** 2 / 9.0, rel=1e-12)


def test_example_d1_claim_records():
    (rec,) = bc.example_d1_claim(ns=(120,), trials=1, progress=False)
    assert rec["tw_margin"] == pytest.approx(2 ** (4 / 3) * bema.tw_quantile(0.1) * 120 ** (-2 / 3))
    assert rec["lambda_plus_mean"] > 0 and rec["n_spikes_mean"] >= 1


@pytest.mark.parametrize("kwargs,match", [
    ({"trials": 1}, "trials"),
    ({"calibration_n": (5,)}, "calibration_n"),
    ({"spike_ratios": (0.0,)}, "spike_ratios"),
    ({"spike_factors": (-1.0,)}, "spike_factors"),
    ({"fig_n": 0}, "fig_n"),
    ({"d1_n": ()}, "d1_n"),
    ({"device": "tpu"}, "device"),
])
def test_bad_config(kwargs, match):
    with pytest.raises(InvalidArgument, match=match):
        bc.Config.quick(**kwargs)


def test_cli_trials_0_exits_2_with_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        bc.main(["--quick", "--trials", "0"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.splitlines()
    errors = [ln for ln in err if "error:" in ln]
    assert errors == [err[-1]] and "trials must be an integer in [2, 1000000], got 0" in err[-1]


def test_run_returns_a_result_with_claim_ids_and_figure_tables():
    cfg = bc.Config.quick(calibration_n=(40,), calibration_ratios=(0.5,), trials=20, d1_n=(40,),
                          d1_trials=1, fig_n=40, fig_trials=1, spike_n=(40,), spike_trials=4,
                          device="cpu")
    res = bc.run(cfg)
    assert res.provenance.argv[:3] == ["python", "-m", "sims.bema_checks"]
    assert {v.claim for v in res.verdicts} <= {"000:remark:D.1", "000:algorithm:2", "000:algorithm:4",
                                               "000:example:D.1", "000:figure:D.1", "000:figure:D.2"}
    assert {"000:figure:D.1", "000:figure:D.2"} <= {v.claim for v in res.verdicts}
    assert {"fig_d1_alpha", "fig_d1_beta", "fig_d2_fit", "fig_d2_histogram", "fig_d2_mp"} <= set(res.tables)
    (fit,) = res.tables["fig_d2_fit"]
    # the stored histogram is a density of the spectrum: it integrates to the bulk fraction
    mass = sum(h["density"] * (h["bin_high"] - h["bin_low"]) for h in res.tables["fig_d2_histogram"])
    assert mass == pytest.approx(1 - fit["n_outliers_beyond_axis"] / fit["N"], abs=1e-12)
    assert math.isfinite(fit["lambda_plus"])


def _calib_row(reading, hits, trials=1000, n=400, m=400, beta=0.1):
    from sims.stats import proportion_ci
    ci = proportion_ci(hits, trials)
    return {"N": n, "M": m, "ratio": m / n, "beta": beta, "trials": trials, "reading": reading,
            "exceed": hits / trials, "exceed_ci": ci.as_list(), "beta_in_ci": ci.contains(beta)}


def test_calibration_verdicts_follow_the_intervals():
    # Wilson 95% at 1000 trials: 150 hits -> [0.129, 0.174] excludes 0.1 (fails); 95 -> [0.078, 0.115]
    # contains it (holds).  The midpoint/oracle pair: 95 vs 150 hits do not overlap -> "fails".
    rows = [_calib_row("lower", 150), _calib_row("midpoint", 95), _calib_row("upper", 40),
            _calib_row("oracle sigma2=1", 150)]
    verdicts = bc.calibration_verdicts(rows)
    by = {x.extra["reading"]: x.verdict for x in verdicts if x.extra["check"] == "calibration"}
    assert by == {"lower": "fails", "midpoint": "holds", "upper": "fails", "oracle sigma2=1": "fails"}
    assert all(x.claim == "000:remark:D.1" for x in verdicts if x.extra["check"] == "calibration")
    (pair,) = [x for x in verdicts if x.extra["check"] == "midpoint_vs_oracle"]
    assert pair.verdict == "fails" and pair.claim == "000:algorithm:2"


def test_near_threshold_spike_verdict_and_correction_follow_the_rates():
    def row(exact, trials=100):
        from sims.stats import proportion_ci
        ci = proportion_ci(exact, trials)
        return {"N": 100, "ratio": 1.0, "theta_over_threshold": 1.5, "trials": trials,
                "exact_rate": exact / trials, "exact_ci": ci.as_list(), "gap_tw_units": 6.0,
                "overcount_rate": 0.0}
    bad = next(v for v in bc.spike_verdicts([row(50)]) if v.extra["check"] == "near_threshold")
    good = next(v for v in bc.spike_verdicts([row(99)]) if v.extra["check"] == "near_threshold")
    assert bad.verdict == "fails" and bad.corrected            # CI upper ~0.6 < 0.9
    assert good.verdict == "holds" and good.corrected == ""
