"""f_W of the Approximation Lemma B.2, exactly as Berlyand et al. (2024) print it.

Every function here transcribes one printed equation of paper 000 (Appendix B, Section 4.6),
typos included; none of them is claimed to be the right limit.  Whether they are is decided by
``theory.approximation_symbolic`` (the derived almost-sure limits) and by the Monte Carlo in
``sims.approximation_lemma``.  In short (see those modules for the derivation and the numbers):

* the per-spike term of (B.6) is the a.s. limit of ``||(W'-S) v_i||`` for the right singular
  vector ``v_i`` of S, so (B.5) holds for every fixed ``z`` independent of R;
* it is *not* the limit of the operator norm ``||W'-S||_2`` claimed in (B.14): that limit is
  the top singular value of a 2x2 block per spike and is strictly larger.

Conventions: ``sigma`` (the paper's sigma_i) are the non-zero singular values of S; the noise R is
N x N with iid N(0, 1/N) entries in Example A.1 (edge sqrt(lambda+) = 2, threshold 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.validate import InvalidArgument, check_float, check_real_array

from theory._selfcheck import check_row


def positive_array(values, name: str) -> np.ndarray:
    """``values`` as a 1-D float array of positive reals (a scalar becomes one element); one-line
    ``InvalidArgument`` naming ``name`` otherwise.  Shared with ``theory.approximation_symbolic``."""
    arr = np.atleast_1d(check_real_array(name, values, ndim=(0, 1), min_size=1))
    if np.any(arr <= 0):
        raise InvalidArgument(f"{name} must be positive, got {arr}")
    return arr


def _above(values: np.ndarray, threshold: float, name: str, where: str) -> None:
    if np.any(values <= threshold):
        raise InvalidArgument(f"{name} must exceed {threshold:g} ({where}), got {values}")


def _max_sqrt(radicand: np.ndarray, equation: str) -> float:
    if np.any(radicand < 0):
        raise ValueError(f"{equation} as printed has a negative radicand {radicand}: "
                         "the printed formula is undefined here")
    return float(np.sqrt(radicand).max())


# ---------------------------------------------------------------------------------------------
# (B.6): general form, in terms of the limits g of Assumption 4.3 (4.6)-(4.8)
# ---------------------------------------------------------------------------------------------
def f_W_terms_B6(g_sigma, g_u, g_v, sigma) -> np.ndarray:
    """Per-spike radicands of (B.6): ``(g_{v_i} g_{sigma_i}^2 + sigma_i^2)
    - 2 g_{sigma_i} sigma_i sqrt(g_{v_i}) sqrt(g_{u_i})``.

    g_sigma: limits of the outlier singular values (4.6); g_u, g_v: limits of |<u_i,u'_i>|^2 and
    |<v_i,v'_i>|^2 (4.7)-(4.8); sigma: singular values of S.  All arrays of one length r.
    """
    g_sigma = positive_array(g_sigma, "g_sigma")
    sigma = positive_array(sigma, "sigma")
    g_u = np.atleast_1d(check_real_array("g_u", g_u, ndim=(0, 1)))
    g_v = np.atleast_1d(check_real_array("g_v", g_v, ndim=(0, 1)))
    if not (g_sigma.shape == sigma.shape == g_u.shape == g_v.shape):
        raise InvalidArgument("g_sigma, g_u, g_v and sigma must have one common length, got "
                         f"{g_sigma.shape}, {g_u.shape}, {g_v.shape}, {sigma.shape}")
    for name, g in (("g_u", g_u), ("g_v", g_v)):
        if np.any((g < 0) | (g > 1)):
            raise InvalidArgument(f"{name} are squared overlaps and must lie in [0, 1], got {g}")
    return (g_v * g_sigma**2 + sigma**2) - 2 * g_sigma * sigma * np.sqrt(g_v) * np.sqrt(g_u)


def f_W_general_B6(g_sigma, g_u, g_v, sigma) -> float:
    """(B.6): ``f_W = max_i sqrt((g_{v_i} g_{sigma_i}^2 + sigma_i^2)
    - 2 g_{sigma_i} sigma_i sqrt(g_{v_i}) sqrt(g_{u_i}))``."""
    return _max_sqrt(f_W_terms_B6(g_sigma, g_u, g_v, sigma), "(B.6)")


# ---------------------------------------------------------------------------------------------
# (4.24) = (B.7): Example A.1 (square N x N, iid N(0, 1/N) noise)
# ---------------------------------------------------------------------------------------------
def f_W_terms_example_A1(sigma) -> np.ndarray:
    """Per-spike radicands of (4.24) = (B.7):
    ``(sigma_i^2 + ((1 + sigma_i^2)/sigma_i)^2 (1 - 1/sigma_i^2)) - 2 (1 + sigma_i^2)(1 - 1/sigma_i^2)``.

    Example 4.2 requires the singular values of S to exceed 1 (the threshold of Theorem A.3).
    """
    sigma = positive_array(sigma, "sigma")
    _above(sigma, 1.0, "sigma", "Example 4.2: singular values of S bigger than 1")
    s2 = sigma**2
    return (s2 + ((1 + s2) / sigma) ** 2 * (1 - 1 / s2)) - 2 * (1 + s2) * (1 - 1 / s2)


def f_W_example_A1(sigma) -> float:
    """(4.24) = (B.7): ``f_W = max_i { sqrt((sigma_i^2 + ((1+sigma_i^2)/sigma_i)^2 (1-1/sigma_i^2))
    - 2 (1+sigma_i^2)(1-1/sigma_i^2)) }``.

    Paper remark after (4.24): f_W -> 1 as sigma_r -> infinity, and |f_W - 1| <= 0.03 for
    sigma_r >= 5 (Fig. 4.2).  Algebraically (``theory.approximation_symbolic``) each term equals
    sqrt(1 + 1/sigma_i^2 - 1/sigma_i^4)."""
    return _max_sqrt(f_W_terms_example_A1(sigma), "(4.24)")


# ---------------------------------------------------------------------------------------------
# (4.25): Example 4.3, symmetric (Wigner) noise of scale sigma, S = sum sigma_i u_i u_i^T
# ---------------------------------------------------------------------------------------------
def f_W_terms_symmetric_4_25(sigma_i, sigma) -> np.ndarray:
    """Per-spike radicands of (4.25):
    ``(sigma_i^2 + (1 - sigma^2/sigma_i^2)(sigma_i + sigma^2/sigma_i)^2)
    - 2 sigma_i ((sigma_i + sigma^2/sigma_i)(1 - sigma^2/sigma_i^2))``.

    sigma is the noise scale of Example 4.3 (edge 2 sigma in Appendix B.2); the paper assumes
    sigma_i > sigma.  Fig. 4.4 lets sigma range over [-25, 25]; (4.25) depends on sigma^2 only,
    so a negative sigma is accepted and means |sigma|."""
    sigma_i = positive_array(sigma_i, "sigma_i")
    sigma = check_float("sigma", sigma)
    if sigma == 0:
        raise InvalidArgument(f"sigma (noise scale) must be finite and non-zero, got {sigma}")
    _above(sigma_i, abs(sigma), "sigma_i", "Example 4.3 assumes sigma_i > sigma")
    q = sigma**2
    lam = sigma_i + q / sigma_i
    overlap = 1 - q / sigma_i**2
    return (sigma_i**2 + overlap * lam**2) - 2 * sigma_i * (lam * overlap)


def f_W_symmetric_4_25(sigma_i, sigma) -> float:
    """(4.25): ``f_W = max_i sqrt((sigma_i^2 + (1 - sigma^2/sigma_i^2)(sigma_i + sigma^2/sigma_i)^2)
    - 2 sigma_i ((sigma_i + sigma^2/sigma_i)(1 - sigma^2/sigma_i^2)))``."""
    return _max_sqrt(f_W_terms_symmetric_4_25(sigma_i, sigma), "(4.25)")


# ---------------------------------------------------------------------------------------------
# Example B.2: (B.6) written with the D-transform of Theorems A.1/A.2
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DTransform:
    """The transforms of a noise singular-value law mu_R used in (A.1)-(A.5):
    phi(z) = int z/(z^2 - t^2) dmu_R(t), D(z) of (A.1), its derivative and its inverse."""

    phi: Callable[[np.ndarray], np.ndarray]
    D: Callable[[np.ndarray], np.ndarray]
    D_prime: Callable[[np.ndarray], np.ndarray]
    D_inverse: Callable[[np.ndarray], np.ndarray]


def gaussian_square_transform() -> DTransform:
    """Closed forms for Example A.1 (square, iid N(0, 1/N)): mu_R is the quarter-circle law on
    [0, 2], phi(z) = (z - sqrt(z^2 - 4))/2 for z > 2 (from the Stieltjes transform s(w) of the
    MP law with ratio 1, w s^2 + w s + 1 = 0, phi(z) = -z s(z^2)), D = phi^2 (c = 1 in (A.1)),
    so D^{-1}(1/theta^2) = theta + 1/theta, which is Theorem A.3."""
    def phi(z):
        z = np.asarray(z, dtype=float)
        return (z - np.sqrt(z**2 - 4)) / 2

    def phi_prime(z):
        z = np.asarray(z, dtype=float)
        return (1 - z / np.sqrt(z**2 - 4)) / 2

    def D(z):
        return phi(z) ** 2

    def D_prime(z):
        return 2 * phi(z) * phi_prime(z)

    def D_inverse(y):
        y = np.asarray(y, dtype=float)
        theta = 1 / np.sqrt(y)          # y = 1/theta^2, phi(rho) = 1/theta
        return theta + 1 / theta

    return DTransform(phi=phi, D=D, D_prime=D_prime, D_inverse=D_inverse)


def transform_from_spiked(dt) -> DTransform:
    """Example B.2's transforms from a ``theory.spiked.DTransform`` (any mu_R: MP of any ratio, or
    an empirical noise spectrum).  phi is the left-side phi_{mu_R} (rows), as in (A.4)."""
    return DTransform(phi=dt.phi_rows, D=dt, D_prime=dt.derivative, D_inverse=dt.inverse)


def f_W_terms_example_B2(sigma, transform: DTransform | None = None) -> np.ndarray:
    """Per-spike radicands of Example B.2, as printed:
    ``(g D^{-1}(1/sigma_i^2) + sigma_i^2) - 2 sigma_i D^{-1}(1/sigma_i^2) sqrt(g) sqrt(g)`` with
    ``g = -2 phi(rho) / (sigma_r^2 D'(rho))`` and rho = D^{-1}(1/sigma_i^2) (Theorem A.2).

    Read against (B.6) the printed example has three slips: D^{-1} (= g_sigma) is not squared in
    the first term, sigma_r (the smallest singular value of S) replaces sigma_i in the overlap,
    and the u-overlap (A.4) appears twice where (B.6) has the u- and the v-overlap.  The first
    makes the radicand negative for large sigma_i (e.g. sigma_i = 30 in Example 4.2).
    Default transform: Example A.1's (``gaussian_square_transform``)."""
    sigma = positive_array(sigma, "sigma")
    t = gaussian_square_transform() if transform is None else transform
    sigma_r = sigma.min()
    rho = np.asarray(t.D_inverse(1 / sigma**2), dtype=float)
    g = -2 * np.asarray(t.phi(rho)) / (sigma_r**2 * np.asarray(t.D_prime(rho)))
    return (g * rho + sigma**2) - 2 * sigma * rho * np.sqrt(g) * np.sqrt(g)


def f_W_example_B2(sigma, transform: DTransform | None = None) -> float:
    """Example B.2 as printed (max over spikes of the square root); raises ValueError where the
    printed radicand is negative (see ``f_W_terms_example_B2``)."""
    return _max_sqrt(f_W_terms_example_B2(sigma, transform), "Example B.2")


def f_W_terms_example_B2_restored(sigma, transform: DTransform | None = None) -> np.ndarray:
    """Per-spike radicands of Example B.2 with its slips undone, as (B.6) has it:
    ``(g_i D^{-1}(1/sigma_i^2)^2 + sigma_i^2) - 2 sigma_i D^{-1}(1/sigma_i^2) g_i`` with
    ``g_i = -2 phi(rho_i) / (sigma_i^2 D'(rho_i))`` (Theorem A.2's overlap at spike i; the u- and
    v-overlaps agree for Example A.1).  Both fixes are needed: restoring the square alone leaves
    sigma_r in g_i, which makes g_i > 1 and the radicand negative for every spike but the smallest.
    With Example A.1's transform this is (B.7) = (4.24) term by term."""
    sigma = positive_array(sigma, "sigma")
    t = gaussian_square_transform() if transform is None else transform
    rho = np.asarray(t.D_inverse(1 / sigma**2), dtype=float)
    g = -2 * np.asarray(t.phi(rho)) / (sigma**2 * np.asarray(t.D_prime(rho)))
    return (g * rho**2 + sigma**2) - 2 * sigma * rho * g


# ---------------------------------------------------------------------------------------------
def self_check() -> list[dict]:
    """Each printed formula against an independent evaluation of the same printed text."""
    rows = []

    def row(*args, **kwargs):
        rows.append(check_row(*args, **kwargs))

    # (4.24) against (B.6) fed with Theorems A.3/A.4 (g_sigma = (1+s^2)/s, g_u = g_v = 1-1/s^2).
    s = np.array([30.0, 40, 50, 60, 70])
    g_sig, g_ov = (1 + s**2) / s, 1 - 1 / s**2
    row("(4.24) vs (B.6) with A.3/A.4, Example 4.2 spikes", f_W_example_A1(s),
        f_W_general_B6(g_sig, g_ov, g_ov, s))
    # (4.24) against the exact rational value at sigma = 2: radicand = 1 + 1/4 - 1/16 = 19/16.
    row("(4.24) at sigma=2 vs sqrt(19/16) (hand algebra)", f_W_example_A1([2.0]),
        np.sqrt(19 / 16))
    # Paper remark: |f_W - 1| <= 0.03 once sigma_r >= 5 (Fig 4.2). Value: f_W(5) - 1.
    row("(4.24) remark: f_W(5) - 1 <= 0.03 (value=f_W(5)-1)", f_W_example_A1([5.0]) - 1,
        min(f_W_example_A1([5.0]) - 1, 0.03))
    # (4.25) with sigma = 1 is (4.24) (B.2 limits reduce to A.3/A.4).
    row("(4.25) at noise sigma=1 vs (4.24)", f_W_symmetric_4_25(s, 1.0), f_W_example_A1(s))
    # (4.25) scaling: f_W(sigma_i, sigma) = |sigma| f_W(sigma_i/|sigma|, 1).
    row("(4.25) scale: f(60, 3) vs 3 f(20, 1)", f_W_symmetric_4_25([60.0], 3.0),
        3 * f_W_symmetric_4_25([20.0], 1.0))
    # Example B.2 transform reproduces A.3/A.4 (D^{-1}(1/s^2) and the overlap -2phi/(s^2 D')).
    t = gaussian_square_transform()
    rho = t.D_inverse(1 / 30.0**2)
    row("B.2 transform: D^{-1}(1/30^2) vs A.3 (1+30^2)/30", rho, (1 + 900) / 30)
    row("B.2 transform: -2phi/(30^2 D') vs A.4 1-1/30^2",
        -2 * t.phi(rho) / (900 * t.D_prime(rho)), 1 - 1 / 900)
    # Example B.2 as printed is undefined (negative radicand) at sigma_i = 30: report its radicand.
    radicand = float(f_W_terms_example_B2([30.0])[0])
    g = 1 - 1 / 900
    row("Example B.2 printed radicand at sigma=30 (<0: typo)", radicand,
        g * 901 / 30 + 900 - 2 * 30 * (901 / 30) * g)
    # Example B.2 with the square on D^{-1} and sigma_i in the overlap restored is (B.7): the
    # radicands are O(sigma^2) and cancel to O(1), so rounding is ~ sigma^2 eps (tolerance 1e-9).
    row("Example B.2 restored (D^{-1} squared, sigma_i) vs (B.7), Example 4.2 spikes",
        _max_sqrt(f_W_terms_example_B2_restored(s), "Example B.2 restored"), f_W_example_A1(s),
        tol=1e-9)
    return rows
