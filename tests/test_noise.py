"""sims.noise: moments of the three ensembles against their known values, reproducibility, spikes.

Moment tolerances: for n iid entries with variance v and kurtosis k = E x^4 / v^2 the sample mean
has standard error sqrt(v / n), the sample second moment v sqrt((k - 1) / n), and the sample fourth
moment (over v^2) sqrt(m8 / v^4 - k^2) / sqrt(n) with m8 / v^4 = 105 (Gaussian), 1 (Rademacher),
81/9 = 9 (uniform on [-sqrt(3v), sqrt(3v)]: E x^8 = (3v)^4 / 9).  We allow 5 standard errors
(two-sided probability 6e-7 per check under the CLT).
"""
import numpy as np
import pytest
import torch

from sims.device import trial_generator
from sims.noise import FOURTH_MOMENT, sample_noise, sample_trials, spiked_matrix



EIGHTH = {"gaussian": 105.0, "rademacher": 1.0, "uniform": 9.0}


@pytest.mark.parametrize("kind", ["gaussian", "rademacher", "uniform"])
def test_moments(kind):
    n_rows, n_cols, batch, var_scale = 200, 300, 4, 2.0
    x = sample_trials(kind, 1, range(batch), n_rows, n_cols, var_scale).numpy().ravel()
    n, v, k = x.size, var_scale / n_rows, FOURTH_MOMENT[kind]
    assert abs(x.mean()) <= 5 * np.sqrt(v / n)
    assert abs(np.mean(x**2) - v) <= 5 * v * np.sqrt((k - 1) / n) + 1e-12 * v  # mean 0 is known
    m4 = np.mean(x**4) / v**2
    assert abs(m4 - k) <= 5 * np.sqrt(EIGHTH[kind] - k**2) / np.sqrt(n) + 1e-12


def test_support():
    v = 1.0 / 50
    rad = sample_trials("rademacher", 0, [0], 50, 40).numpy()
    assert set(np.unique(np.round(rad / np.sqrt(v), 12))) == {-1.0, 1.0}
    uni = sample_trials("uniform", 0, [0], 50, 40).numpy()
    assert np.abs(uni).max() <= np.sqrt(3 * v)


def test_trials_do_not_depend_on_batch():
    full = sample_trials("gaussian", 9, range(5), 30, 20)
    part = sample_trials("gaussian", 9, [3, 1], 30, 20)
    assert torch.equal(full[3], part[0]) and torch.equal(full[1], part[1])
    assert not torch.equal(full[0], sample_trials("gaussian", 10, [0], 30, 20)[0])
    # the generator route of the public signature gives the same numbers
    gens = [trial_generator(9, t, torch.device("cpu")) for t in (3, 1)]
    assert torch.equal(sample_noise("gaussian", 2, 30, 20, 1.0, gens), part)


def test_spiked_matrix_diagonal_and_random():
    theta = [1.5, 4.0, 2.0]
    R = sample_trials("gaussian", 4, [0, 1], 40, 60)
    d = spiked_matrix(theta, 40, 60, seed=4, trials=[0, 1])
    assert d.theta.tolist() == [4.0, 2.0, 1.5]
    S = d.W - R
    expect = torch.zeros(40, 60, dtype=torch.float64)
    expect[0, 0], expect[1, 1], expect[2, 2] = 4.0, 2.0, 1.5
    assert torch.allclose(S, expect.expand(2, 40, 60), atol=1e-14)
    rnd = spiked_matrix(theta, 40, 60, seed=4, trials=[0, 1], vectors="random")
    assert torch.allclose(rnd.W - R, (rnd.U_S * rnd.theta) @ rnd.V_S.transpose(-1, -2), atol=1e-13)
    eye = torch.eye(3, dtype=torch.float64)
    assert torch.allclose(rnd.U_S.transpose(-1, -2) @ rnd.U_S, eye.expand(2, 3, 3), atol=1e-13)
    assert torch.allclose(rnd.V_S.transpose(-1, -2) @ rnd.V_S, eye.expand(2, 3, 3), atol=1e-13)
    # S has exactly the singular values theta (independent dense SVD)
    s = np.linalg.svd((rnd.W - R)[0].numpy(), compute_uv=False)[:4]
    assert np.allclose(s, [4.0, 2.0, 1.5, 0.0], atol=1e-12)


@pytest.mark.parametrize("call,match", [
    (lambda: sample_noise("cauchy", 1, 5, 5, 1.0, torch.Generator()), "unknown noise"),
    (lambda: sample_noise("gaussian", 1, 5, 5, -1.0, torch.Generator()), "var_scale"),
    (lambda: sample_noise("gaussian", 1, 5, 5, float("nan"), torch.Generator()), "var_scale"),
    (lambda: sample_noise("gaussian", 0, 5, 5, 1.0, torch.Generator()), "batch"),
    (lambda: sample_noise("gaussian", 2, 5, 5, 1.0, [torch.Generator()]), "generators"),
    (lambda: sample_noise("gaussian", 1, 5, 5, 1.0, None), "generator"),
    (lambda: spiked_matrix([2.0, 2.0], 10, 10, seed=0, trials=[0]), "distinct"),
    (lambda: spiked_matrix([2.0, -1.0], 10, 10, seed=0, trials=[0]), "finite and > 0"),
    (lambda: spiked_matrix([2.0], 10, 10, seed=0, trials=[0], vectors="sparse"), "vectors"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
