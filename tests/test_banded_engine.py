"""The banded engine's linear algebra and its use in the sweeps.

* ``BlockTridiagonal``: products, the band of B_j^T B_j and the Cholesky norm test against dense
  numpy (exact identities up to rounding);
* ``block_krylov.top_triplets``: the certified triplets agree with numpy's SVD within the
  certificate (deterministic: a failure is a wrong certificate, not bad luck), also when the
  edge triplets of a below-threshold spike are refined by shift-invert (sims.shift_invert);
* ``_block_sizes``: the closed form equals the step-by-step reduction it shortcuts;
* ``lemma_trial`` (Approximation Lemma in banded form, fixed z's by their head and tail) against
  the dense engine in distribution: two-sample KS of ||W'-S||_2 and ||(W'-S) z|| for z = v_r, a
  random unit z and their mix, 4 tests at alpha = 1e-4 / 4 each (Bonferroni: family-wise false
  alarm <= 1e-4 under any seed).  Power: 300 + 300 trials give a KS critical distance of
  sqrt(ln(2/alpha) 600 / (2 * 300^2)) = 0.20, so a tail handled wrongly (e.g. the random z's tail
  dropped: ||(W'-S) z|| then loses its O(1) bulk part and its law moves by ~1 in sup-cdf distance)
  is caught;
* the sweeps: --engine banded with non-Gaussian noise is a usage error (exit 2); N up to 10^6 is
  accepted with banded and refused with dense; a small banded sweep is bitwise identical on loky
  (2 jobs), in process and on a dask LocalCluster (127.0.0.1).
"""
import numpy as np
import pytest
from scipy import stats

from core.validate import InvalidArgument
from sims import approximation_lemma as al
from sims import banded, block_krylov, spiked_model
from sims.block_tridiagonal import BlockTridiagonal


def _random_blocks(K, r, seed):
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((K, r, r))
    L = np.tril(rng.standard_normal((K - 1, r, r)))
    T = np.triu(rng.standard_normal((K - 1, r, r)))
    return BlockTridiagonal(D, L, T, triangular=True)


@pytest.mark.parametrize("K,r", [(1, 3), (2, 1), (7, 3), (12, 5)])
def test_products_and_gram_band_match_dense(K, r):
    B = _random_blocks(K, r, seed=K * 10 + r)
    A = B.toarray()
    X = np.random.default_rng(0).standard_normal((A.shape[1], 4))
    assert np.allclose(B.matmat(X), A @ X, rtol=1e-13, atol=1e-12)
    assert np.allclose(B.rmatmat(X), A.T @ X, rtol=1e-13, atol=1e-12)
    assert np.allclose(B.matmat(X[:, 0]), A @ X[:, 0], rtol=1e-13, atol=1e-12)
    for skip in (0, r):
        Aj = A.copy()
        Aj[:skip] = 0.0
        G = Aj.T @ Aj
        ab, kd = B.gram_band(skip), B.bandwidth
        assert np.allclose(np.triu(G, kd + 1), 0.0)
        for off in range(kd + 1):
            assert np.allclose(ab[kd - off, off:], np.diagonal(G, off), rtol=1e-13, atol=1e-12)
        norm = np.linalg.norm(Aj, 2)
        if norm == 0:
            continue
        assert B.schur_bound(skip) >= norm * (1 - 1e-12)             # an upper bound
        assert B.norm_below(norm * (1 + 1e-6), skip)
        assert not B.norm_below(norm * (1 - 1e-6), skip)


@pytest.mark.parametrize("shape", [(300, 300), (400, 200), (200, 400)])
@pytest.mark.parametrize("theta", [(30.0, 20.0, 10.0), (3.0, 2.0, 1.5)])
def test_certified_triplets_agree_with_dense_svd(shape, theta):
    th = np.array(theta)
    B = banded.banded_spiked(th, *shape, np.random.default_rng(1))
    U0, s0, Vt0 = np.linalg.svd(B.toarray())
    s, U, V, info = banded.top_triplets(B, 3, tol=1e-6, edge=1 + np.sqrt(shape[1] / shape[0]))
    # the certificate must be right whenever it is given; whether it is given is random where the
    # weakest outlier sits near the edge (theta 1.5 at M/N = 2: limit 2.48 against edge 2.41, a
    # gap of the order of the fluctuations at N = 200; the triplet is then refined by
    # shift-invert instead).  For theta >= 10 the outliers are > 7 above the edge and
    # P(||R|| > edge + 7) <= exp(-N 7^2 / 2) (Gaussian concentration of a 1-Lipschitz function of
    # the N(0, 1/N) entries): the Krylov certificate is always reached.
    assert np.all(info.vector_bound <= 1e-6)
    if min(theta) >= 10:
        assert info.gap_certified
    if info.gap_certified:
        assert info.sigma_next_upper > s0[3]                      # a true upper bound on sigma_4
    assert np.all(np.abs(s - s0[:3]) <= info.value_bound + 1e-12 * s0[0])
    sin_u = np.sqrt(np.maximum(0, 1 - np.sum(U * U0[:, :3], 0) ** 2))
    sin_v = np.sqrt(np.maximum(0, 1 - np.sum(V * Vt0[:3].T, 0) ** 2))
    assert np.all(sin_u <= info.vector_bound + 1e-7) and np.all(sin_v <= info.vector_bound + 1e-7)


@pytest.mark.parametrize("shape", [(400, 400), (300, 600)])
def test_edge_triplets_refined_by_shift_invert_agree_with_dense_svd(shape):
    # a spike below the threshold (0.8) makes s_5 a bulk edge value; 3 Krylov steps leave the
    # trailing triplets unconverged, so the shift-invert refinement does the work
    th = np.array([3.0, 2.0, 1.5, 1.2, 0.8])
    B = banded.banded_spiked(th, *shape, np.random.default_rng(4))
    U0, s0, Vt0 = np.linalg.svd(B.toarray())
    s, U, V, info = banded.top_triplets(B, 5, tol=1e-6, krylov_steps=3)
    assert not info.gap_certified and np.all(info.vector_bound <= 1e-6)
    true_gap = np.minimum(np.concatenate([[np.inf], s0[:4] - s0[1:5]]), s0[:5] - s0[1:6])
    assert np.all(info.gap <= true_gap * 1.05 + 1e-12)   # the estimated gap is not optimistic
    assert np.all(np.abs(s - s0[:5]) <= info.value_bound + 1e-12 * s0[0])
    sin_u = np.sqrt(np.maximum(0, 1 - np.sum(U * U0[:, :5], 0) ** 2))
    sin_v = np.sqrt(np.maximum(0, 1 - np.sum(V * Vt0[:5].T, 0) ** 2))
    assert np.all(sin_u <= info.vector_bound + 1e-7) and np.all(sin_v <= info.vector_bound + 1e-7)


def test_refinement_polishes_inaccurate_locked_vectors():
    # locked (already converged) vectors carrying an error of 1e-4 along the wanted eigenvector
    # leave it a residual floor of about 1e-4 * |lambda_locked - lambda_j| >= 1e-5, far above
    # tol * gap_j <= 1e-6 * 2 (every gap of singular values near 2 is below 2): without polishing
    # the locked vectors the refinement cannot converge, whatever the matrix (found by the seed
    # shift: Krylov-converged outliers at eta ~ tol * gap above a Tracy-Widom spacing)
    from sims.shift_invert import refine_trailing
    th = np.array([3.0, 2.0, 0.8])
    B = banded.banded_spiked(th, 300, 300, np.random.default_rng(5))
    lam, E = np.linalg.eigh(B.toarray().T @ B.toarray())
    lam, E = lam[::-1], E[:, ::-1]
    n_done, r = 2, 3
    V0 = E[:, :r + 5].copy()
    V0[:, :n_done] += 1e-4 * E[:, [n_done]]
    V0[:, :n_done] /= np.linalg.norm(V0[:, :n_done], axis=0)
    lam0 = np.einsum("ij,ij->j", V0, B.rmatmat(B.matmat(V0)))
    lam_r, V_r, eta, gap, _ = refine_trailing(B, lam0, V0, n_done, r, tol=1e-6)
    assert np.all(eta <= 1e-6 * gap)
    assert np.allclose(lam_r, lam[:r], rtol=1e-10)
    assert np.all(np.abs(np.sum(V_r * E[:, :r], 0)) >= 1 - 1e-10)


def test_lemma_trial_computes_the_top_r_when_nothing_above_the_threshold_is_proven():
    # the caller expects no outlier (k = 0) but a spike of 5 has one at 5.2 > threshold 2.1: the
    # trial must find and keep it (W' as the dense engine defines it), not assume it away
    th = np.array([5.0, 0.5])
    out = banded.lemma_trial(th, 200, 200, seed=3, trial=0, threshold=2.1, z_parts={"_k": 0})
    B = banded.banded_spiked(th, 200, 200, np.random.default_rng([3, 0]))
    s0 = np.linalg.svd(B.toarray(), compute_uv=False)
    kept = s0[:2][s0[:2] > 2.1]
    assert out["n_kept"] == kept.size >= 1
    assert np.allclose(out["sv"], kept, rtol=1e-8)


def test_krylov_raises_when_not_converged():
    B = banded.banded_spiked(np.array([1.05, 1.02]), 400, 400, np.random.default_rng(2))
    with pytest.raises(RuntimeError, match="not converged"):
        block_krylov.top_triplets(B, 2, tol=1e-6, max_iter=3)


def _block_sizes_stepwise(r, n_rows, n_cols):
    rho, col, n_free, m_free = [r], [r], [], []
    rows_left, cols_left = n_rows - r, n_cols - r
    while True:
        c_next, r_next = min(rho[-1], cols_left), min(col[-1], rows_left)
        m_free.append(cols_left)
        n_free.append(rows_left)
        if c_next == 0 and r_next == 0:
            break
        cols_left -= c_next
        rows_left -= r_next
        rho.append(r_next)
        col.append(c_next)
    return rho, col, n_free, m_free


@pytest.mark.parametrize("r", [1, 2, 3, 5])
def test_block_sizes_closed_form(r):
    for n in range(r + 1, 40, 3):
        for m in range(r + 1, 40, 5):
            got = banded._block_sizes(r, n, m)
            want = _block_sizes_stepwise(r, n, m)
            assert all(np.array_equal(a, b) for a, b in zip(got, want)), (r, n, m)


LEMMA_SPIKES = np.array([5.0, 3.0, 2.0])
LEMMA_N, LEMMA_TRIALS = 60, 300
LEMMA_ALPHA = 1e-4 / 4


def _lemma_rows(engine, seed):
    return [al._trial_task(LEMMA_N, LEMMA_N, LEMMA_SPIKES, "gaussian", seed, t, "cpu", 0.1, engine)
            for t in range(LEMMA_TRIALS)]


def test_lemma_trial_law_matches_dense_engine():
    # the same seed fixes the same test vectors z in both engines (the law of ||(W'-S) z|| depends
    # on <v_i, z>); the matrices are independent (torch vs numpy generators)
    fast, dense = _lemma_rows("banded", seed=21), _lemma_rows("dense", seed=21)
    for key in ("opnorm", "z_v3", "z_random", "z_mix_vr_random"):
        p = stats.ks_2samp([r[key] for r in fast], [r[key] for r in dense]).pvalue
        assert p > LEMMA_ALPHA, (key, p)


@pytest.mark.parametrize("module", [spiked_model, al])
def test_banded_needs_gaussian_noise(module):
    with pytest.raises(InvalidArgument, match="gaussian"):
        module.Sweep(n=(100,), trials=2, engine="banded", noise="rademacher")


def test_n_limits_per_engine():
    assert spiked_model.Sweep(n=(10**6,), trials=2, engine="banded").n == (10**6,)
    assert al.Sweep(n=(10**6,), trials=2, engine="banded").n == (10**6,)
    with pytest.raises(InvalidArgument, match="n must be"):
        spiked_model.Sweep(n=(10**6,), trials=2)
    with pytest.raises(InvalidArgument, match="n must be"):
        al.Sweep(n=(10**6 + 1,), trials=2, engine="banded")


@pytest.mark.parametrize("module, argv", [
    (spiked_model, ["--engine", "banded", "--noise", "uniform", "--n", "100"]),
    (al, ["--engine", "banded", "--noise", "rademacher", "--n", "100"]),
    (al, ["--backend", "loky", "--scheduler", "tcp://127.0.0.1:1", "--n", "100"]),
])
def test_cli_usage_errors(module, argv, capsys):
    with pytest.raises(SystemExit) as exc:
        module.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err


def _records(**kw):
    cfg = al.Sweep(n=(80, 120), trials=4, spike_sets=((3.0, 2.0),), engine="banded", device="cpu",
                    **kw)
    return al.run_sweep(cfg).records


def test_sweep_bitwise_identical_across_backends_and_jobs():
    serial = _records()
    assert _records(jobs=2) == serial
    assert _records(backend="dask", jobs=2) == serial


def test_spiked_model_banded_sweep_same_on_any_job_count():
    cfg = dict(n=(60, 90), trials=4, spike_groups=((3.0, 2.0),), engine="banded", device="cpu")
    def records(jobs):   # every measured field (the per-group CPU time is not a measurement)
        return [{k: v for k, v in r.items() if k != "cpu_seconds_group"}
                for r in spiked_model.run_sweep(spiked_model.Sweep(jobs=jobs, **cfg)).records]
    assert records(2) == records(1)
