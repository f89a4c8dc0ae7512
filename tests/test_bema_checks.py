"""Fast checks of sims/bema_checks.py and figures/fig_bema.py (seconds)."""
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from sims import bema_checks as bc
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
    # 300 pure-noise 100 x 100 matrices, midpoint reading: the 99.9% Wilson interval (half-width
    # ~0.06) must contain beta = 0.1.  At N = 100 the exceedance is ~0.08 (the oracle sigma^2 = 1
    # gives the same: the Tracy-Widom approximation's finite-N error), inside that interval.
    from sims.stats import proportion_ci

    recs = bc.calibration(ns=(100,), ratios=(1.0,), trials=300, betas=(0.1,), seed=1, progress=False)
    mid = next(r for r in recs if r["reading"] == "midpoint")
    ci = proportion_ci(round(mid["exceed"] * mid["trials"]), mid["trials"], level=0.999)
    assert ci.contains(0.1), ci
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


@pytest.mark.parametrize("name", ["D.1", "D.2"])
def test_figures_write_png_and_json(tmp_path, name):
    from figures.fig_bema import FIGURES

    args = SimpleNamespace(quick=True, seed=0, device="cpu")
    paths = FIGURES[name](tmp_path, args)
    assert {p.suffix for p in paths} == {".png", ".json"}
    for p in paths:
        assert p.is_file() and p.stat().st_size > 0
    data = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert data["quick"] is True
    if name == "D.2":
        # the plotted histogram is a density of the spectrum: it integrates to the bulk fraction
        widths = np.diff(data["bin_edges"])
        assert float(np.sum(np.array(data["esd_density"]) * widths)) == pytest.approx(
            1 - len(data["outliers"]) / data["N"], abs=1e-12)
        assert math.isfinite(data["lambda_plus"])


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
    v = {x.claim: x.verdict for x in bc.calibration_verdicts(rows)}
    by = {k.split("step 3 ")[-1].split(" ")[0]: val for k, val in v.items() if "step 3" in k}
    assert by == {"as": "fails", "midpoint": "holds", "Ke-Ma-Lin": "fails", "oracle": "fails"}
    assert v["BEMA (midpoint) adds no miscalibration beyond the TW_1 approximation"] == "fails"


def test_near_threshold_spike_verdict_and_correction_follow_the_rates():
    def row(exact, trials=100):
        from sims.stats import proportion_ci
        ci = proportion_ci(exact, trials)
        return {"N": 100, "ratio": 1.0, "theta_over_threshold": 1.5, "trials": trials,
                "exact_rate": exact / trials, "exact_ci": ci.as_list(), "gap_tw_units": 6.0,
                "overcount_rate": 0.0}
    bad = next(v for v in bc.spike_verdicts([row(50)]) if v.claim.startswith("Spikes just above"))
    good = next(v for v in bc.spike_verdicts([row(99)]) if v.claim.startswith("Spikes just above"))
    assert bad.verdict == "fails" and bad.corrected            # CI upper ~0.6 < 0.9
    assert good.verdict == "holds" and good.corrected == ""
