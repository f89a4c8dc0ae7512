"""theory.approximation (f_W as printed) and theory.approximation_symbolic (derived limits).

Independent references: hand-simplified closed forms, (B.6) fed with the A.3/A.4 and B.2 limits,
sympy limits of the printed expressions rebuilt symbolically here, and numpy SVD/eigh of the
explicit 2x2 blocks."""
import numpy as np
import pytest
import sympy as sp

from theory import approximation as ap
from theory import approximation_symbolic as sym

GRID = np.concatenate([np.linspace(1.001, 5, 60), np.linspace(5, 500, 60)])


def cancellation_rtol(sigma: float) -> float:
    """The printed radicands subtract terms of size ~3 sigma^2 to leave ~1: rounding error
    ~ 3 sigma^2 * 2^-52 on the radicand, halved by the square root; 4x safety."""
    return max(1e-13, 4 * 1.5 * sigma**2 * np.finfo(float).eps)


def test_4_24_equals_B6_with_A3_A4():
    for s in GRID:
        g_sigma, g = (1 + s**2) / s, 1 - 1 / s**2
        assert ap.f_W_example_A1([s]) == pytest.approx(
            ap.f_W_general_B6([g_sigma], [g], [g], [s]), rel=cancellation_rtol(s))


def test_4_24_hand_simplified():
    # radicand = [s^3 + (1+s)^2 (s-1) - 2 s (s^2-1)] / s^2 = (s^2 + s - 1)/s^2 with s = sigma^2
    for s in GRID:
        assert ap.f_W_example_A1([s]) == pytest.approx(np.sqrt(1 + 1 / s**2 - 1 / s**4),
                                                       rel=cancellation_rtol(s))


def test_4_24_is_max_over_spikes_and_B7_is_same():
    spikes = [30.0, 40, 50, 60, 70]
    assert ap.f_W_example_A1(spikes) == pytest.approx(np.sqrt(1 + 1 / 900 - 1 / 810000), rel=1e-13)
    terms = np.sqrt(ap.f_W_terms_example_A1(spikes))
    assert ap.f_W_example_A1(spikes) == terms.max() == terms[0]


def test_f_W_tends_to_one_sympy_limit():
    """Remark after (4.24), from the printed expression rebuilt in sympy (not the module's code)."""
    s = sp.symbols("sigma", positive=True)
    printed = sp.sqrt((s**2 + ((1 + s**2) / s) ** 2 * (1 - 1 / s**2)) - 2 * (1 + s**2) * (1 - 1 / s**2))
    assert sp.limit(printed, s, sp.oo) == 1
    # and the derived operator-norm limit also tends to 1, but as 1 + 1/(2 sigma), not 1 + 1/(2 sigma^2)
    th, _, top = sym.square_closed_forms()
    assert sp.limit(sp.sqrt(top), th, sp.oo) == 1
    assert sp.limit((sp.sqrt(top) - 1) * th, th, sp.oo) == sp.Rational(1, 2)
    assert sp.limit((printed - 1) * s**2, s, sp.oo) == sp.Rational(1, 2)


def test_remark_003_for_sigma_at_least_5():
    vals = np.array([ap.f_W_example_A1([x]) for x in np.linspace(5, 1000, 400)])
    assert np.all(np.abs(vals - 1) <= 0.03)
    assert abs(ap.f_W_example_A1([5.0]) - 1) == pytest.approx(np.sqrt(1 + 1 / 25 - 1 / 625) - 1)


def test_4_25_closed_form_and_B6_with_B2():
    for sigma in (0.3, 1.0, 2.5, -4.0):
        for th in np.abs(sigma) * np.array([1.01, 1.5, 3, 10, 100]):
            q = sigma**2
            # (B.6) with B.2's limits: g_sigma = th + q/th, g_u = g_v = 1 - q/th^2
            g = 1 - q / th**2
            b6 = ap.f_W_general_B6([th + q / th], [g], [g], [th])
            closed = abs(sigma) * np.sqrt(1 + q / th**2 - q**2 / th**4)
            assert ap.f_W_symmetric_4_25([th], sigma) == pytest.approx(b6, rel=1e-12)
            assert ap.f_W_symmetric_4_25([th], sigma) == pytest.approx(closed, rel=1e-12)


def test_4_25_fig_4_4_approx_abs_sigma():
    # Fig 4.4: f_W ~ |sigma| once sigma_r >> sigma; relative error q/(2 th^2) to first order
    for sigma in (-25.0, -3.0, 1.0, 25.0):
        val = ap.f_W_symmetric_4_25([1000.0], sigma)
        assert val == pytest.approx(abs(sigma), rel=sigma**2 / 1000.0**2)


def test_example_B2_general_transform_matches_closed_form():
    from theory import spiked
    general = ap.transform_from_spiked(spiked.DTransform.marchenko_pastur(1.0))
    spikes = [1.2, 2.0, 5.0]
    assert ap.f_W_terms_example_B2(spikes, general) == pytest.approx(
        ap.f_W_terms_example_B2(spikes), rel=1e-8)


def test_example_B2_as_printed():
    t = ap.gaussian_square_transform()
    for th in (1.5, 3.0, 30.0):
        rho = t.D_inverse(1 / th**2)
        assert rho == pytest.approx(th + 1 / th, rel=1e-12)                          # A.3
        assert t.D(rho) == pytest.approx(1 / th**2, rel=1e-10)                       # inverse
        assert -2 * t.phi(rho) / (th**2 * t.D_prime(rho)) == pytest.approx(1 - 1 / th**2, rel=1e-9)
    # single spike: printed radicand (g rho + th^2) - 2 th rho g with g = 1 - 1/th^2
    th = 1.2
    g, rho = 1 - 1 / th**2, th + 1 / th
    assert ap.f_W_terms_example_B2([th])[0] == pytest.approx(g * rho + th**2 - 2 * th * rho * g)
    # negative radicand at sigma_i = 30 (Example 4.2): the printed formula is undefined
    assert ap.f_W_terms_example_B2([30.0])[0] < 0
    with pytest.raises(ValueError, match="negative radicand"):
        ap.f_W_example_B2([30.0, 40.0])


@pytest.mark.parametrize("bad", [[np.nan], [np.inf], [0.5], [1.0], [], [[2.0, 3.0]]])
def test_bad_input(bad):
    with pytest.raises(ValueError):
        ap.f_W_example_A1(bad)


def test_bad_overlaps_and_shapes():
    with pytest.raises(ValueError, match="g_u"):
        ap.f_W_general_B6([2.5], [1.5], [0.5], [2.0])
    with pytest.raises(ValueError, match="common length"):
        ap.f_W_general_B6([2.5, 3.0], [0.5], [0.5], [2.0])
    with pytest.raises(ValueError, match="sigma_i > sigma"):
        ap.f_W_symmetric_4_25([1.0], 2.0)
    with pytest.raises(ValueError):
        sym.opnorm_limit([2.0], ratio=-1)


# ----------------------------------------------------------------------------------------------
# derived limits
# ----------------------------------------------------------------------------------------------
def test_block_invariants_symbolic():
    fixed_v_sq, frob_sq, det, _ = sym.block_invariants()
    SP, TH, A, B = sym.SP, sym.TH, sym.A, sym.B
    # ||M e1||^2 is the (B.6) radicand with g_u = a^2, g_v = b^2
    assert sp.simplify(fixed_v_sq - (B**2 * SP**2 + TH**2 - 2 * SP * TH * A * B)) == 0
    assert sp.simplify(frob_sq - (SP**2 + TH**2 - 2 * SP * TH * A * B)) == 0
    assert sp.simplify(det**2 - (TH * SP) ** 2 * (1 - A**2) * (1 - B**2)) == 0


def test_square_closed_forms():
    th, L2, top = sym.square_closed_forms()
    assert sp.simplify(L2 - (1 + 1 / th**2 - 1 / th**4)) == 0
    for t in (1.1, 2.0, 30.0):
        expect = 1 + 1.5 / t**2 + np.sqrt(1 / t**2 + 1.25 / t**4)
        assert float(top.subs(th, t)) == pytest.approx(expect, rel=1e-12)


def test_opnorm_limit_vs_explicit_block_svd():
    rng = np.random.default_rng(1)
    for ratio in (0.3, 1.0, 2.5):
        for t in (1.6, 2.0, 4.0, 30.0):
            gs, gu, gv = (float(x[0]) for x in sym.spike_limits([t], ratio))
            a, b = np.sqrt(gu), np.sqrt(gv)
            M = np.array([[gs * a * b - t, gs * a * np.sqrt(1 - b**2)],
                          [gs * np.sqrt(1 - a**2) * b, gs * np.sqrt(1 - a**2) * np.sqrt(1 - b**2)]])
            sv = np.linalg.svd(M, compute_uv=False)
            assert sym.opnorm_limit([t], ratio) == pytest.approx(sv[0], rel=1e-10)
            assert sym.fixed_v_limits([t], ratio)[0] == pytest.approx(np.linalg.norm(M[:, 0]), rel=1e-10)
            # fixed z mixing v with directions outside the spikes: only <v,z> counts
            c = rng.uniform(-1, 1)
            assert sym.fixed_z_limit([t], [c], ratio) == pytest.approx(abs(c) * np.linalg.norm(M[:, 0]))


def test_opnorm_limit_strictly_above_f_W_and_between_1_and_2():
    ts = np.linspace(1.01, 200, 300)
    op = sym.block_opnorm_limits(ts)
    fw = np.array([ap.f_W_example_A1([t]) for t in ts])
    assert np.all(op > fw)
    assert np.all((op > 1) & (op < 2))
    assert np.all(np.diff(op) < 0)
    # near the threshold: t = 1/theta^2 -> 1 gives sqrt(1 + 3/2 + sqrt(9/4)) = 2
    assert sym.opnorm_limit([1.0001]) == pytest.approx(2.0, abs=1e-3)


def test_dropped_spikes_contribute_theta():
    # theta = 1.2: outlier 1.2 + 1/1.2 = 2.033 <= 2 + eps for eps = 0.1, so W' drops it
    assert sym.opnorm_limit([1.2], eps=0.1) == pytest.approx(1.2)
    assert sym.opnorm_limit([1.2], eps=0.0) < 2
    assert sym.opnorm_limit([0.8, 30.0]) == pytest.approx(max(0.8, sym.opnorm_limit([30.0])))


def test_symmetric_limits_vs_eigh_and_square_identity():
    for s in (0.5, 1.0, 3.0):
        for t in s * np.array([1.2, 2.0, 10.0]):
            lam, a2 = t + s**2 / t, 1 - s**2 / t**2
            off = lam * np.sqrt(a2 * (1 - a2))
            M = np.array([[lam * a2 - t, off], [off, lam * (1 - a2)]])
            fixed, top = sym.symmetric_limits([t], s)
            assert top[0] == pytest.approx(np.abs(np.linalg.eigvalsh(M)).max(), rel=1e-12)
            assert fixed[0] == pytest.approx(np.linalg.norm(M[:, 0]), rel=1e-12)
            assert fixed[0] == pytest.approx(ap.f_W_symmetric_4_25([t], s), rel=1e-12)
    # the symmetric operator-norm limit at s = 1 equals the square rectangular one
    for t in (1.3, 2.0, 7.0):
        assert sym.symmetric_limits([t], 1.0)[1][0] == pytest.approx(sym.opnorm_limit([t]), rel=1e-12)


def test_self_checks_ok():
    for rows in (ap.self_check(), sym.self_check()):
        assert rows and all(r["ok"] for r in rows), [r for r in rows if not r["ok"]]
