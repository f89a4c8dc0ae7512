"""Test matrices shared by several test modules."""
import numpy as np


def spiked_matrix(n_out, n_in, thetas, seed):
    """R (entries N(0, 1/N), N = max(n_out, n_in)) + sum theta_i u_i v_i^T, orthonormal u, v."""
    rng = np.random.default_rng(seed)
    N = max(n_out, n_in)
    R = rng.standard_normal((n_out, n_in)) / np.sqrt(N)
    u, _ = np.linalg.qr(rng.standard_normal((n_out, len(thetas))))
    v, _ = np.linalg.qr(rng.standard_normal((n_in, len(thetas))))
    return R + (u * np.asarray(thetas)) @ v.T
