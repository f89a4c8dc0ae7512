"""Spiked (deformed) model W = R + S: limits of outlier singular values and singular-vector overlaps.

Paper 000 (Berlyand et al. 2024), Section 4.3 (Assumptions 4.1-4.5, eqs. (4.6)-(4.8)) and Appendix A.1
(D-transform (A.1), threshold (A.2), Theorems A.1-A.4, Example A.1); symmetric case: Example 4.3 and
Appendix B.2. Source of the theorems: Benaych-Georges & Nadakuditi (BGN), "The singular values and
vectors of low rank perturbations of large rectangular random matrices", J. Multivariate Anal. 111
(2012) 120-135 (paper's ref. [8]); the symmetric case: BGN, Adv. Math. 227 (2011) 494-521 (ref. [7]).

Convention (project-wide): R is N x M (n_rows = N, n_cols = M) with iid entries of mean 0 and variance
var/N (Assumption 4.1 is var = 1); ratio c = M / N; S = sum_i theta_i u_i v_i^T with u_i in R^N (left),
v_i in R^M (right). The singular values of R fill [sqrt(var)|1 - sqrt c|, sqrt(var)(1 + sqrt c)]; the
edge sqrt(lambda_+) = sqrt(var) (1 + sqrt c) (= 2 for the square case of Example A.1).

Mapping to BGN 2012. BGN take X n x m with n <= m, entries of variance 1/m, and c_B = n/m in (0, 1].
- If N <= M (c >= 1): n = N, m = M, c_B = 1/c, and R = sqrt(var c) X (variance var/N = var c / M).
  Hence sigma'(theta) = s f_B(theta / s; c_B) with s = sqrt(var c), left vectors are BGN's u.
- If N > M (c < 1): apply BGN to R^T (M x N): n = M, m = N, c_B = c, R^T = sqrt(var) X; BGN's left
  (n-side) vector is our v and BGN's right vector is our u.
BGN Section 3.1 (Gaussian X): theta_bar = c_B^{1/4}, sigma' = sqrt((1 + theta^2)(c_B + theta^2))/theta,
|<u~, u>|^2 = 1 - c_B (1 + theta^2) / (theta^2 (theta^2 + c_B)),
|<v~, v>|^2 = 1 - (c_B + theta^2) / (theta^2 (theta^2 + 1)).
Substituting either case gives the SAME formulas in our convention (derivation checked symbolically in
theory.symbolic.rectangular_mapping_is_consistent), with x = theta^2 / var:
    threshold          theta_bar = sqrt(var) c^{1/4}
    singular value     sigma'    = sqrt(var) sqrt((1 + x)(c + x) / x)                   (x > sqrt c)
    left overlap       |<u,u'>|^2 = 1 - (c + x) / (x (1 + x))
    right overlap      |<v,v'>|^2 = 1 - c (1 + x) / (x (c + x))
At c = 1 these are Theorems A.3/A.4: (1 + theta^2)/theta and 1 - 1/theta^2 for both vectors.

General D-transform (A.1). With phi_N(z) = (1/N) tr z (z^2 - R R^T)^{-1} (left side, N x N) and
phi_M(z) = (1/M) tr z (z^2 - R^T R)^{-1} (right side), BGN's D_mu(z) = phi_mu(z) [c_B phi_mu(z) +
(1 - c_B)/z] is exactly D(z) = phi_N(z) phi_M(z), symmetric in the two sides (the bracket is the
transform of mu~ = c_B mu + (1 - c_B) delta_0, the m-side spectrum padded with zeros). Then
theta_bar = D(edge^+)^{-1/2}, sigma' -> D^{-1}(1/theta^2) (Theorem A.1 / BGN Thm 2.8), and BGN Thm 2.9:
    |<u,u'>|^2 -> -2 phi_N(rho) / (theta^2 D'(rho)),  |<v,v'>|^2 -> -2 phi_M(rho) / (theta^2 D'(rho)),
rho = D^{-1}(1/theta^2): each overlap uses the transform of ITS OWN side.

Findings on the paper's printing of Theorem A.2 (checked numerically in tests/test_spiked.py, the MP
closed form and Monte Carlo decide): (A.5) writes mu~_R = c mu_R + (1 + c) delta_0 (must be (1 - c), a
probability measure) and puts mu~ in D' of the denominator instead of in phi of the numerator
(correct: -2 phi_{mu~}(rho) / (theta^2 D'_{mu}(rho))). Also (A.1)-(A.2) use c as BGN's n/m <= 1,
whereas Assumption 4.3 defines c = N/M for any N, M; with the symmetric form above no case split is needed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from core.validate import InvalidArgument, check_float, check_int, check_real_array

__all__ = [
    "edge",
    "threshold",
    "singular_value_limit",
    "overlap_limits",
    "theta_from_singular_value",
    "theorem_a3_singular_value_limit",
    "theorem_a4_overlap_limit",
    "DTransform",
    "wigner_edge",
    "wigner_threshold",
    "wigner_eigenvalue_limit",
    "wigner_overlap_limit",
    "self_check",
]


# ----------------------------------------------------------------------------- validation
def _check_ratio(ratio) -> float:
    """c = n_cols / n_rows, a finite number > 0 (strings, None, NaN refused, not converted)."""
    return check_float("ratio", ratio, 0.0, None, lo_open=True)


def _check_positive(value, name: str) -> float:
    return check_float(name, value, 0.0, None, lo_open=True)


def _check_theta(theta, name: str = "theta") -> np.ndarray:
    arr = check_real_array(name, theta)
    if np.any(arr < 0):
        raise InvalidArgument(f"{name} (a singular value) must be >= 0, got {arr[arr < 0].flat[0]!r}")
    return arr


def _scalar(arr: np.ndarray):
    return float(arr) if np.ndim(arr) == 0 else arr


# ----------------------------------------------------------------------------- Gaussian closed forms
def edge(ratio, var: float = 1.0) -> float:
    """sqrt(lambda_+) = sqrt(var) (1 + sqrt c): top edge of the singular values of R (Assumption 4.1)."""
    return float(np.sqrt(_check_positive(var, "var")) * (1 + np.sqrt(_check_ratio(ratio))))


def threshold(ratio, var: float = 1.0) -> float:
    """Phase-transition point theta_bar = sqrt(var) c^{1/4} ((A.2) for the MP law; = 1 in Example A.1)."""
    return float(np.sqrt(_check_positive(var, "var")) * _check_ratio(ratio) ** 0.25)


def singular_value_limit(theta, ratio, var: float = 1.0):
    """a.s. limit of the outlier singular value of W = R + theta u v^T ((A.3), Theorem A.3 at c = 1).

    sqrt(var) sqrt((1 + x)(c + x)/x), x = theta^2/var, above the threshold; the edge sqrt(var)(1 + sqrt c)
    at or below it (continuous at theta_bar).
    """
    c = _check_ratio(ratio)
    v = _check_positive(var, "var")
    th = _check_theta(theta)
    x = th**2 / v
    with np.errstate(divide="ignore", invalid="ignore"):
        above = np.sqrt(v * (1 + x) * (c + x) / x)
    out = np.where(x > np.sqrt(c), above, np.sqrt(v) * (1 + np.sqrt(c)))
    return _scalar(out)


def overlap_limits(theta, ratio, var: float = 1.0):
    """(|<u,u'>|^2, |<v,v'>|^2) limits ((A.4)-(A.5), Theorem A.4 at c = 1); 0 at or below the threshold.

    u: left (N-dim) singular vectors, v: right (M-dim). With x = theta^2/var:
    u: 1 - (c + x)/(x (1 + x));  v: 1 - c (1 + x)/(x (c + x)).
    """
    c = _check_ratio(ratio)
    v = _check_positive(var, "var")
    th = _check_theta(theta)
    x = th**2 / v
    above = x > np.sqrt(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        u_ov = np.where(above, 1 - (c + x) / (x * (1 + x)), 0.0)
        v_ov = np.where(above, 1 - c * (1 + x) / (x * (c + x)), 0.0)
    return _scalar(u_ov), _scalar(v_ov)


def theta_from_singular_value(sv, ratio, var: float = 1.0):
    """Inverse of ``singular_value_limit`` on the outlier branch: theta of S from an outlier sigma' of W.

    Solves (1 + x)(c + x)/x = s^2, s = sigma'/sqrt(var), for the root x >= sqrt c:
    x = (s^2 - 1 - c + sqrt((s^2 - 1 - c)^2 - 4c))/2, theta = sqrt(var x). sigma' equal to the edge maps to
    the threshold. A value below the edge is not an outlier (every theta <= theta_bar maps to the edge):
    ValueError.
    """
    c = _check_ratio(ratio)
    v = _check_positive(var, "var")
    s = _check_theta(sv, "sv") / np.sqrt(v)
    bulk_edge = 1 + np.sqrt(c)
    # tolerate rounding at the edge itself (e.g. sv computed as edge(...) in a different order)
    if np.any(s < bulk_edge * (1 - 1e-13)):
        raise InvalidArgument(
            f"sv below the bulk edge sqrt(var)(1 + sqrt c) = {np.sqrt(v) * bulk_edge:.6g}: not an outlier, "
            "theta is not identifiable (any theta <= threshold gives the edge)"
        )
    b = np.maximum(s**2 - 1 - c, 2 * np.sqrt(c))
    x = (b + np.sqrt(np.maximum(b**2 - 4 * c, 0.0))) / 2
    return _scalar(np.sqrt(v * x))


def theorem_a3_singular_value_limit(theta):
    """Theorem A.3 exactly as printed (Example A.1: N x N, N(0, 1/N)): (1 + theta^2)/theta if theta > 1,
    else 2. (The paper leaves theta = 1 unassigned; both branches give 2 there.)"""
    th = _check_theta(theta)
    with np.errstate(divide="ignore"):
        return _scalar(np.where(th > 1, (1 + th**2) / np.where(th > 0, th, 1.0), 2.0))


def theorem_a4_overlap_limit(theta):
    """Theorem A.4 as printed: |<u,u'>|^2 and |<v,v'>|^2 -> 1 - 1/theta^2 if theta > 1, else 0."""
    th = _check_theta(theta)
    return _scalar(np.where(th > 1, 1 - 1 / np.where(th > 0, th, 1.0) ** 2, 0.0))


# ----------------------------------------------------------------------------- general D-transform
@dataclass(frozen=True)
class DTransform:
    """D-transform (A.1) of a noise matrix R (N x M), in the side-symmetric form D = phi_N * phi_M.

    Build with ``DTransform.marchenko_pastur(ratio, var)`` (the limit law, closed form) or
    ``DTransform.from_singular_values(sv, n_rows, n_cols)`` (an empirical noise spectrum, e.g. an
    observed R, or the bulk of W). Methods are vectorised over z / theta.

    ``edge``: the point above which D is used (top of the noise support). For an empirical spectrum
    D has a pole at the largest noise singular value, so D(edge+) = inf there and the threshold
    (A.2) is not estimable from the empirical transform alone: ``threshold`` then raises unless an
    ``edge`` strictly above max(sv) was given (e.g. the MP edge from a BEMA fit).
    """

    kind: str
    n_rows: float
    n_cols: float
    edge: float
    var: float = 1.0
    sv2: np.ndarray | None = None  # squared singular values (empirical kind)
    top_sv: float = 0.0  # largest noise singular value (empirical kind): the pole of D

    # ---- constructors
    @classmethod
    def marchenko_pastur(cls, ratio, var: float = 1.0) -> "DTransform":
        c = _check_ratio(ratio)
        v = _check_positive(var, "var")
        # Only the ratio matters in the limit; store N = 1, M = c.
        return cls("mp", 1.0, c, float(np.sqrt(v) * (1 + np.sqrt(c))), v, None)

    @classmethod
    def from_singular_values(cls, sv, n_rows: int, n_cols: int, edge: float | None = None) -> "DTransform":
        # An empirical D-transform averages over the noise spectrum of each side: a 1 x M (or
        # N x 1) matrix has a single singular value and no bulk, so D is a lone pole, not (A.1).
        n_rows, n_cols = check_int("n_rows", n_rows, 2, None), check_int("n_cols", n_cols, 2, None)
        sv = check_real_array("sv", sv).ravel()
        if sv.size != min(n_rows, n_cols):
            raise InvalidArgument(
                f"sv: an {n_rows} x {n_cols} matrix has min(N, M) = {min(n_rows, n_cols)} singular values, "
                f"got {sv.size}"
            )
        if np.any(sv < 0):
            raise InvalidArgument(f"sv (singular values) must be >= 0, got {sv[sv < 0][0]!r}")
        top = float(sv.max())
        if edge is None:
            edge = top
        else:
            edge = check_float("edge", edge, top, None)
        return cls("empirical", float(n_rows), float(n_cols), float(edge), 1.0, sv**2, top)

    @classmethod
    def from_noise_matrix(cls, R, edge: float | None = None) -> "DTransform":
        R = check_real_array("R", R, ndim=2)
        if min(R.shape) < 2:
            raise InvalidArgument(f"R must be at least 2 x 2 (an empirical D-transform needs a noise "
                                  f"spectrum, not a single singular value), got shape {R.shape}")
        return cls.from_singular_values(np.linalg.svd(R, compute_uv=False), R.shape[0], R.shape[1], edge)

    @property
    def ratio(self) -> float:
        return self.n_cols / self.n_rows

    # ---- Cauchy transforms of the Gram spectra at w = z^2
    def _g_cols(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """G_M(w) = (1/M) tr (w - R^T R)^{-1} and its w-derivative."""
        if self.kind == "mp":
            return _mp_cauchy(w, self.ratio, self.var)
        diff = w[..., None] - self.sv2
        k = self.sv2.size
        zeros = self.n_cols - k
        g = (np.sum(1 / diff, axis=-1) + zeros / w) / self.n_cols
        dg = (-np.sum(1 / diff**2, axis=-1) - zeros / w**2) / self.n_cols
        return g, dg

    def _g_rows(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """G_N(w) = (1/N) tr (w - R R^T)^{-1} = c G_M(w) + (1 - c)/w (same nonzero spectrum)."""
        c = self.ratio
        g, dg = self._g_cols(w)
        return c * g + (1 - c) / w, c * dg - (1 - c) / w**2

    def _check_z(self, z) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        if np.any(~np.isfinite(z)) or np.any(z <= self.edge):
            raise ValueError(f"D-transform is defined for z > edge = {self.edge:.6g}")
        return z

    def phi_rows(self, z):
        """phi_N(z) = z G_N(z^2): (1/N) tr z (z^2 - R R^T)^{-1} (left side)."""
        z = self._check_z(z)
        return _scalar(z * self._g_rows(z**2)[0])

    def phi_cols(self, z):
        """phi_M(z) = z G_M(z^2): (1/M) tr z (z^2 - R^T R)^{-1} (right side)."""
        z = self._check_z(z)
        return _scalar(z * self._g_cols(z**2)[0])

    def _parts(self, z: np.ndarray):
        w = z**2
        gN, dgN = self._g_rows(w)
        gM, dgM = self._g_cols(w)
        pN, pM = z * gN, z * gM
        dpN, dpM = gN + 2 * w * dgN, gM + 2 * w * dgM  # d/dz [z G(z^2)]
        return pN, pM, pN * pM, dpN * pM + pN * dpM

    def __call__(self, z):
        """D(z) = phi_N(z) phi_M(z), eq. (A.1) (symmetric form; see module docstring)."""
        z = self._check_z(z)
        return _scalar(self._parts(z)[2])

    def derivative(self, z):
        """D'(z) (negative on (edge, inf): D decreases from D(edge+) to 0)."""
        z = self._check_z(z)
        return _scalar(self._parts(z)[3])

    def at_edge(self) -> float:
        """D(edge+): finite for the MP law (= 1/(var sqrt c)), +inf for an empirical spectrum at its max."""
        if self.kind == "mp":
            w = np.array(self.edge**2)
            gN = self._g_rows(w)[0]
            gM = self._g_cols(w)[0]
            return float(self.edge**2 * gN * gM)
        if self.edge <= self.top_sv:
            return np.inf
        return float(self._parts(np.array(self.edge))[2])

    def threshold(self) -> float:
        """theta_bar = D(edge+)^{-1/2}, eq. (A.2)."""
        d_edge = self.at_edge()
        if not np.isfinite(d_edge):
            raise ValueError(
                "empirical D-transform diverges at the largest singular value, so (A.2) gives 0; "
                "pass edge > max(sv) (e.g. the MP edge of a BEMA fit) to from_singular_values"
            )
        return float(d_edge**-0.5)

    def inverse(self, y):
        """D^{-1}(y) on (edge, inf) for y in (0, D(edge+)); vectorised (one brentq per value)."""
        y = np.asarray(y, dtype=float)
        if np.any(~np.isfinite(y)) or np.any(y <= 0):
            raise ValueError("D^{-1} needs finite y > 0")
        d_edge = self.at_edge()
        if np.any(y >= d_edge):
            raise ValueError(f"y must be below D(edge+) = {d_edge:.6g} (theta above the threshold)")
        out = np.empty(y.shape)
        flat_out = out.reshape(-1)
        for i, yi in enumerate(y.reshape(-1)):
            flat_out[i] = self._solve(float(yi))
        return _scalar(out)

    def _solve(self, y: float) -> float:
        f = lambda z: float(self._parts(np.array(z))[2]) - y  # noqa: E731 (decreasing in z)
        lo = self.edge * (1 + 1e-14) + 1e-300
        if self.kind == "empirical" and self.edge <= self.top_sv:
            # pole at the edge: step out until D is finite and above y
            gap = 1e-12 * self.edge
            while not np.isfinite(f(self.edge + gap)) or f(self.edge + gap) < 0:
                gap /= 10
                if gap < 1e-300:
                    raise ValueError("could not bracket D^{-1} next to the pole")
            lo = self.edge + gap
        hi = max(2 * self.edge, 2 / np.sqrt(y))  # D(z) ~ 1/z^2 at infinity
        while f(hi) > 0:
            hi *= 2
        return brentq(f, lo, hi, xtol=1e-15 * hi, rtol=4 * np.finfo(float).eps, maxiter=200)

    def singular_value_limit(self, theta):
        """Theorem A.1 (A.3): D^{-1}(1/theta^2) above the threshold, the edge otherwise."""
        th = _check_theta(theta)
        d_edge = self.at_edge()
        out = np.full(th.shape, self.edge)
        flat = out.reshape(-1)
        for i, t in enumerate(th.reshape(-1)):
            if t > 0 and 1 / t**2 < d_edge:
                flat[i] = self._solve(1 / t**2)
        return _scalar(out)

    def theta_from_singular_value(self, sv):
        """Inverse map of Theorem A.1: theta = D(sigma')^{-1/2} for an outlier sigma' > edge (vectorised).

        With an empirical noise spectrum this is the plug-in estimator of BGN 2012 / OptShrink.
        """
        z = self._check_z(_check_theta(sv, "sv"))
        return _scalar(self._parts(z)[2] ** -0.5)

    def overlap_limits(self, theta):
        """Theorem A.2 (BGN Thm 2.9, corrected form): (-2 phi_N(rho), -2 phi_M(rho)) / (theta^2 D'(rho))."""
        th = _check_theta(theta)
        d_edge = self.at_edge()
        u_ov = np.zeros(th.shape)
        v_ov = np.zeros(th.shape)
        fu, fv = u_ov.reshape(-1), v_ov.reshape(-1)
        for i, t in enumerate(th.reshape(-1)):
            if t > 0 and 1 / t**2 < d_edge:
                rho = np.array(self._solve(1 / t**2))
                pN, pM, _, dD = self._parts(rho)
                fu[i] = float(-2 * pN / (t**2 * dD))
                fv[i] = float(-2 * pM / (t**2 * dD))
        return _scalar(u_ov), _scalar(v_ov)


def _mp_cauchy(w: np.ndarray, c: float, var: float) -> tuple[np.ndarray, np.ndarray]:
    """G(w) = int dmu(x)/(w - x) for MP(ratio c, var) (atom at 0 included when c > 1), and G'(w), w > edge.

    Unit variance: G1(w) = (w + c - 1 - S)/(2 c w), S = sqrt((w - a)(w - b)), a, b = (1 -+ sqrt c)^2
    (the branch with G1 ~ 1/w at infinity); G(w) = G1(w/var)/var.
    """
    w1 = w / var
    a, b = (1 - np.sqrt(c)) ** 2, (1 + np.sqrt(c)) ** 2
    # clip: at the edge itself (w1 = b) rounding can make the product a tiny negative number
    S = np.sqrt(np.maximum((w1 - a) * (w1 - b), 0.0))
    g1 = (w1 + c - 1 - S) / (2 * c * w1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dS = np.where(S > 0, (w1 - 1 - c) / S, np.inf)
    dg1 = ((1 - dS) * w1 - (w1 + c - 1 - S)) / (2 * c * w1**2)
    return g1 / var, dg1 / var**2


# ----------------------------------------------------------------------------- symmetric (Wigner) case
def wigner_edge(sigma: float = 1.0) -> float:
    """Top of the semicircle, 2 sigma (Example 4.3: sqrt(lambda_+) = 2 sigma)."""
    return 2 * _check_positive(sigma, "sigma")


def wigner_threshold(sigma: float = 1.0) -> float:
    """Phase transition of the symmetric spiked model R + theta u u^T: theta_bar = sigma (Appendix B.2)."""
    return _check_positive(sigma, "sigma")


def wigner_eigenvalue_limit(theta, sigma: float = 1.0):
    """Appendix B.2 (from BGN 2011): lambda_1(R + theta u u^T) -> theta + sigma^2/theta if theta > sigma,
    else 2 sigma.

    sigma is defined by n * Var(off-diagonal entry) = sigma^2 (semicircle on [-2 sigma, 2 sigma]).
    FINDING: paper Example 4.3 specifies off-diagonal variance sigma^2/(2n) for a real symmetric R; then
    the semicircle edge is sqrt(2) sigma, not 2 sigma, and these formulas hold with sigma/sqrt(2) in place
    of sigma (tests/test_spiked.py::test_paper_example_4_3_variance_gives_sqrt2_sigma). The paper's
    statement is right for complex Hermitian R if sigma^2/(2n) is the variance of the real and of the
    imaginary part separately.
    """
    s = _check_positive(sigma, "sigma")
    th = _check_theta(theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar(np.where(th > s, th + s**2 / th, 2 * s))


def wigner_overlap_limit(theta, sigma: float = 1.0):
    """Appendix B.2: |<u, u'>|^2 -> 1 - sigma^2/theta^2 if theta > sigma, else 0 (sigma as above)."""
    s = _check_positive(sigma, "sigma")
    th = _check_theta(theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar(np.where(th > s, 1 - s**2 / th**2, 0.0))


# ----------------------------------------------------------------------------- self check
def self_check() -> list[dict]:
    """Closed forms against the general D-transform built from the MP law (independent route)."""
    rows = []
    for c in (0.25, 1.0, 3.0):
        d = DTransform.marchenko_pastur(c)
        rows.append(
            {
                "check": f"theta_bar: D_MP(edge)^(-1/2) vs c^(1/4), c={c}",
                "value": d.threshold(),
                "reference": threshold(c),
                "error": abs(d.threshold() - threshold(c)),
                "ok": abs(d.threshold() - threshold(c)) < 1e-10,
            }
        )
        theta = 2.0
        sv = d.singular_value_limit(theta)
        ref = singular_value_limit(theta, c)
        rows.append(
            {
                "check": f"D_MP^-1(1/theta^2) vs closed form, c={c}, theta=2",
                "value": sv,
                "reference": ref,
                "error": abs(sv - ref),
                "ok": abs(sv - ref) < 1e-10,
            }
        )
        u_gen, v_gen = d.overlap_limits(theta)
        u_ref, v_ref = overlap_limits(theta, c)
        err = max(abs(u_gen - u_ref), abs(v_gen - v_ref))
        rows.append(
            {
                "check": f"A.2 overlaps from D, D' vs closed form, c={c}",
                "value": u_gen,
                "reference": u_ref,
                "error": err,
                "ok": err < 1e-9,
            }
        )
    return rows
