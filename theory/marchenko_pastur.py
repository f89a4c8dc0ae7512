"""The Marchenko-Pastur law, paper 000 Theorem 3.1, eqs. (3.2)-(3.3), for any aspect ratio.

Matrix convention (used by the whole package)
---------------------------------------------
W is an N x M matrix (``n_rows = N``, ``n_cols = M``) with iid entries of mean 0 and variance
sigma^2.  The ratio is ``c = M / N`` ("ratio of columns to rows", Theorem 3.1).
``MarchenkoPastur(ratio=c, sigma2=sigma^2)`` is the limit of the empirical spectral distribution of the
M x M matrix

    X = W^T W / N,

with density (3.2) ``sqrt((l+ - x)(x - l-)) / (2 pi sigma^2 c x)`` on ``[l-, l+]``,
``l+- = sigma^2 (1 +- sqrt c)^2`` (3.3), and, when ``c > 1``, an atom of mass ``1 - 1/c`` at 0
(X has rank N < M).  Theorem 3.1 states ``M <= N`` but then lets ``c`` range over ``(0, inf)``; for
``c > 1`` the density (3.2) carries mass ``1/c`` only, and the missing ``1 - 1/c`` is the atom.

How the paper's other conventions map onto this one
---------------------------------------------------
* Theorem 3.1, Example D.1, Algorithms 2-4: ``X = W^T W / N`` with entry variance sigma^2: exactly
  ``MarchenkoPastur(M/N, sigma2=sigma^2)``.
* Section 3.1.2 and Assumption 4.1: ``B = R^T R`` *without* 1/N, entries of R of variance ``1/N``.
  Then ``R^T R = (sqrt(N) R)^T (sqrt(N) R) / N`` with ``sqrt(N) R`` of entry variance 1, so the ESD
  of B is ``MarchenkoPastur(M/N, 1)`` and the singular values of R have edge
  ``sqrt(lambda+) = 1 + sqrt(c)`` (= 2 for square R).
* Algorithm 3 step 6: threshold ``sqrt(lambda+ N)`` on the singular values of the *unnormalised*
  W (entry variance sigma^2): a singular value s of W gives eigenvalue ``s^2 / N`` of X, so
  ``s > sqrt(lambda+ N)`` iff ``s^2/N > lambda+``: the same edge, expressed for W itself.
* Algorithm 4 step 6 writes the MP parameter as ``lambda = N/M``; for X = W^T W / N the ratio is
  ``M/N`` (Theorem 3.1).  The two agree only for square W; see ``theory.bema``.

Numerics
--------
The cdf is in closed form in the angle ``phi`` defined by ``x = sigma^2 (1 + c - 2 sqrt(c) cos phi)``,
``phi in [0, pi]``: the density becomes ``(2/pi) sin^2(phi) / (1 + c - 2 sqrt(c) cos phi) dphi`` and
integrates to (for the continuous part)

    F(phi) = (1/pi) [ sin(phi)/sqrt(c) + (1 + c) phi / (2c)
                      - (|1 - c| / c) arctan( (1+sqrt c)/|1-sqrt c| tan(phi/2) ) ].

``ppf`` inverts this on a precomputed monotone grid in phi (clustered at both edges, where
``F ~ phi^3``) and polishes with safeguarded Newton steps in phi, where the problem is well
conditioned up to the edges.
"""
from __future__ import annotations

import math
import warnings
from functools import cached_property

import numpy as np
from scipy import linalg

from core.validate import (InvalidArgument, check_allocation, check_int, check_positive,
                           check_real_array)

__all__ = ["MarchenkoPastur", "self_check"]

_GRID_SIZE = 1025
_NEWTON_STEPS = 6
_UPPER_SWITCH = 1.0  # near phi = pi the integrand's poles are >= 2 away: quadrature is exact
_GL = np.polynomial.legendre.leggauss(16)


def _positive_finite(name: str, value) -> float:
    return check_positive(name, value)


def _points(name: str, value) -> np.ndarray:
    """Real evaluation points: +-inf allowed (cdf(inf) = 1), NaN and complex refused, so that pdf,
    cdf and sf agree on what they accept."""
    arr = check_real_array(name, value, finite=False)
    if np.isnan(arr).any():
        raise InvalidArgument(f"{name} must not contain NaN (got {int(np.isnan(arr).sum())} NaN of {arr.size})")
    return arr


class MarchenkoPastur:
    """Frozen MP law of ``X = W^T W / N`` for W N x M, ratio ``c = M/N``, entry variance ``sigma2``.

    Methods mirror ``scipy.stats`` frozen distributions: ``pdf``, ``cdf``, ``sf``, ``ppf``,
    ``mean``, ``var``, ``std``, ``moment``, ``support``, ``rvs`` (iid draws from the law, as
    scipy's); ``wishart_spectra`` draws whole spectra of finite Wishart matrices.  ``pdf`` is the
    density (3.2) of the continuous part; for ``ratio > 1`` it integrates to ``1/ratio`` and ``cdf``
    includes the atom ``1 - 1/ratio`` at 0.

    Parameters
    ----------
    ratio : float > 0
        c = M / N (Theorem 3.1).
    sigma2 : float > 0, default 1
        The entries' variance sigma^2; the law scales with it (scipy's ``scale``, also readable as
        ``.scale``). ``.var()`` is the variance of the *law*, ``sigma2^2 * ratio``. ``var=`` is
        the deprecated name of ``sigma2``.

    Attributes: ``ratio``, ``sigma2`` (= ``scale``), ``lower``/``upper`` (eq. 3.3), ``atom``,
    ``continuous_mass``.

    Examples
    --------
    >>> law = MarchenkoPastur(ratio=0.25, sigma2=2.0)
    >>> law.edges                                     # sigma^2 (1 -+ sqrt c)^2, eq. (3.3)
    (0.5, 4.5)
    >>> law.mean(), law.var()                         # sigma^2 and sigma^4 c
    (2.0, 1.0)
    >>> float(law.cdf(law.upper))
    1.0
    >>> law.rvs(size=3, random_state=0).shape         # three iid draws, as scipy.stats
    (3,)
    >>> law.wishart_spectra(50, random_state=0).shape  # one spectrum of X, M = 50, N = 200
    (50,)
    """

    def __init__(self, ratio: float, sigma2: float | None = None, *, var: float | None = None):
        self.ratio = _positive_finite("ratio", ratio)
        if var is not None:
            warnings.warn("MarchenkoPastur: the entry variance 'var' is renamed 'sigma2' (.var() is the "
                          "law's variance, as in scipy); 'var' will be removed in the next release",
                          DeprecationWarning, stacklevel=2)
            if sigma2 is not None and sigma2 != var:
                raise InvalidArgument("MarchenkoPastur: give sigma2 or its old name var, not both")
            sigma2 = var
        self.scale = _positive_finite("sigma2", 1.0 if sigma2 is None else sigma2)
        c = self.ratio
        self._sqrt_c = math.sqrt(c)
        self.lower = self.scale * (1.0 - self._sqrt_c) ** 2
        self.upper = self.scale * (1.0 + self._sqrt_c) ** 2
        self.atom = max(0.0, 1.0 - 1.0 / c)
        self.continuous_mass = min(1.0, 1.0 / c)
        self._k = (1.0 + self._sqrt_c) / abs(1.0 - self._sqrt_c) if c != 1.0 else math.inf
        # half the distance of the phi-density's nearest complex pole, |1 - sqrt c| / c^(1/4)
        self._lower_switch = min(1.0, 0.5 * abs(1.0 - self._sqrt_c) / c ** 0.25) if c != 1.0 else 0.0

    @property
    def sigma2(self) -> float:
        """The entry variance sigma^2 (the law's scale)."""
        return self.scale

    def __repr__(self) -> str:
        return f"MarchenkoPastur(ratio={self.ratio!r}, sigma2={self.scale!r})"

    # --- support -------------------------------------------------------------------------------
    @property
    def edges(self) -> tuple[float, float]:
        """(lambda-, lambda+) of eq. (3.3): the continuous part's support."""
        return self.lower, self.upper

    def support(self) -> tuple[float, float]:
        """Smallest interval holding all the mass: ``(0, lambda+)`` when there is an atom."""
        return (0.0 if self.atom > 0 else self.lower), self.upper

    # --- density and cdf -----------------------------------------------------------------------
    def pdf(self, x):
        """Density (3.2) of the continuous part (the atom at 0 for ratio > 1 is not included)."""
        x = _points("x", x)
        inside = (x > self.lower) & (x < self.upper)
        xs = np.where(inside, x, 0.5 * (self.lower + self.upper))
        dens = np.sqrt((self.upper - xs) * (xs - self.lower)) / (2 * np.pi * self.scale * self.ratio * xs)
        return np.where(inside, dens, 0.0)

    def _phi(self, x):
        """Angle phi in [0, pi] with ``sin^2(phi/2) = (x - l-)/(l+ - l-)``; the arctan2 form keeps
        relative accuracy at both edges."""
        x = np.clip(x, self.lower, self.upper)
        return 2.0 * np.arctan2(np.sqrt(x - self.lower), np.sqrt(self.upper - x))

    def _x_of_phi(self, phi):
        width = self.upper - self.lower
        return np.where(phi <= 0.5 * np.pi,
                        self.lower + width * np.sin(0.5 * phi) ** 2,
                        self.upper - width * np.cos(0.5 * phi) ** 2)

    def _density_phi(self, phi):
        """d cdf / d phi = (2/pi) sin^2 phi / ((1 - sqrt c)^2 + 4 sqrt(c) sin^2(phi/2))."""
        s = self._sqrt_c
        return (2.0 / np.pi) * np.sin(phi) ** 2 / ((1.0 - s) ** 2 + 4.0 * s * np.sin(0.5 * phi) ** 2)

    def _closed_form_phi(self, phi):
        """Continuous-part cdf as a function of phi (closed form, see module docstring)."""
        c = self.ratio
        val = np.sin(phi) / self._sqrt_c + (1.0 + c) * phi / (2.0 * c)
        if c != 1.0:
            half = 0.5 * phi
            # arctan(k tan(phi/2)) written with arctan2 so that phi = pi gives pi/2 exactly
            val = val - abs(1.0 - c) / c * np.arctan2(self._k * np.sin(half), np.cos(half))
        return val / np.pi

    def _gauss_legendre(self, a, b):
        """Integral of the phi-density over [a, b] (arrays), by 16-point Gauss-Legendre: used near
        the edges, where the closed form cancels terms of order phi to leave order phi^3."""
        nodes, weights = _GL
        a = np.asarray(a, dtype=float)[..., None]
        b = np.asarray(b, dtype=float)[..., None]
        half = 0.5 * (b - a)
        return (half * weights * self._density_phi(a + half * (nodes + 1.0))).sum(axis=-1)

    def _cdf_fast(self, x):
        """Continuous-part cdf at x (clipped to the support) for ``cdf``: the closed form written in
        a = sqrt(x - l-) and b = sqrt(l+ - x) (phi = 2 arctan2(a, b), sin phi = 2ab / (l+ - l-),
        arctan(k tan(phi/2)) = arctan2(k a, b): no trigonometric calls), with quadrature only below
        the lower switch (relative accuracy at lambda-, where F ~ phi^3) and, for ratio < 1/3, near
        phi = pi, where the closed form's terms of size ~(1 + c)/(2c) cancel to O(1). For ratio >= 1/3
        the closed form is accurate to a few ulps near pi, so the quadrature that ``_cdf_phi`` runs
        there (relative accuracy of 1 - F, for ppf and sf) is not needed."""
        c = self.ratio
        xc = np.clip(x, self.lower, self.upper)
        a = np.sqrt(xc - self.lower)
        b = np.sqrt(self.upper - xc)
        phi = 2.0 * np.arctan2(a, b)
        out = (2.0 / (np.pi * (self.upper - self.lower) * self._sqrt_c)) * (a * b)
        out += ((1.0 + c) / (2.0 * c * np.pi)) * phi
        if c != 1.0:
            out -= (abs(1.0 - c) / (c * np.pi)) * np.arctan2(self._k * a, b)
        out = np.asarray(out, dtype=float)
        low = (phi < self._lower_switch) & (phi > 0.0)  # phi = 0: x <= lambda-, where cdf puts 0
        if low.any():
            out[low] = self._gauss_legendre(np.zeros(low.sum()), phi[low])
        if c < 1.0 / 3.0:
            high = (phi > np.pi - _UPPER_SWITCH) & (phi < np.pi)
            if high.any():
                out[high] = self.continuous_mass - self._gauss_legendre(phi[high], np.full(high.sum(), np.pi))
        return out

    def _cdf_phi(self, phi):
        """Continuous-part cdf at angle phi, with relative accuracy in both tails."""
        phi = np.asarray(phi, dtype=float)
        out = np.asarray(self._closed_form_phi(phi), dtype=float).copy()
        # The closed form loses relative accuracy below phi ~ |1 - sqrt c| / c^(1/4) (the
        # integrand's nearest complex pole), and near pi; quadrature there converges fast.
        low = phi < self._lower_switch
        if low.any():
            out[low] = self._gauss_legendre(np.zeros(low.sum()), phi[low])
        high = phi > np.pi - _UPPER_SWITCH
        if high.any():
            out[high] = self.continuous_mass - self._gauss_legendre(phi[high], np.full(high.sum(), np.pi))
        return out

    def cdf(self, x):
        """Closed-form cdf, including the atom ``1 - 1/ratio`` at 0 when ratio > 1."""
        x = _points("x", x)
        cont = np.where(x >= self.upper, self.continuous_mass,
                        np.where(x <= self.lower, 0.0, self._cdf_fast(x)))
        out = np.where(x >= 0.0, self.atom, 0.0) + cont
        return np.clip(out, 0.0, 1.0)

    def _upper_tail_psi(self, psi):
        """Continuous mass above angle ``pi - psi``: quadrature in psi = pi - phi, which keeps
        relative accuracy as psi -> 0 (the upper edge)."""
        nodes, weights = _GL
        psi = np.asarray(psi, dtype=float)[..., None]
        t = 0.5 * psi * (nodes + 1.0)
        s = self._sqrt_c
        dens = (2.0 / np.pi) * np.sin(t) ** 2 / ((1.0 - s) ** 2 + 4.0 * s * np.cos(0.5 * t) ** 2)
        return (0.5 * psi * weights * dens).sum(axis=-1)

    def sf(self, x):
        """``1 - cdf``, with relative accuracy near the upper edge lambda+."""
        x = _points("x", x)
        xc = np.clip(x, self.lower, self.upper)
        psi = 2.0 * np.arctan2(np.sqrt(self.upper - xc), np.sqrt(xc - self.lower))
        near_top = psi < _UPPER_SWITCH
        upper_tail = self._upper_tail_psi(np.where(near_top, psi, 0.0))
        return np.where(x >= self.upper, 0.0, np.where(near_top, upper_tail, 1.0 - self.cdf(x)))

    # --- quantiles -----------------------------------------------------------------------------
    @cached_property
    def _grid(self):
        # phi clustered at both ends (where F ~ phi^3) so linear inverse interpolation is a good
        # Newton start everywhere.
        t = np.linspace(0.0, 1.0, _GRID_SIZE)
        phi = 0.5 * np.pi * (1.0 - np.cos(np.pi * t))
        f = self._cdf_phi(phi)
        f[0], f[-1] = 0.0, self.continuous_mass
        f = np.maximum.accumulate(f)
        return phi, f

    def ppf(self, q):
        """Quantile function ``inf{x : cdf(x) >= q}``, vectorised.

        ``q`` in [0, 1]; ``ppf(q) = 0`` for ``q <= 1 - 1/ratio`` (the atom).  Newton in phi from a
        grid start; accurate to rounding in x, with relative accuracy of ``x - lambda-`` at the
        lower edge.
        """
        q = check_real_array("q", q, finite=False)
        if np.isnan(q).any() or ((q < 0) | (q > 1)).any():
            bad = float(q[np.isnan(q) | (q < 0) | (q > 1)].flat[0])
            raise InvalidArgument(f"q must be probabilities in [0, 1] (no NaN), got {bad}")
        target = np.clip(q - self.atom, 0.0, self.continuous_mass)
        phi_grid, f_grid = self._grid
        idx = np.clip(np.searchsorted(f_grid, target, side="left") - 1, 0, _GRID_SIZE - 2)
        lo, hi = phi_grid[idx], phi_grid[idx + 1]
        f_lo, f_hi = f_grid[idx], f_grid[idx + 1]
        width = np.where(f_hi > f_lo, f_hi - f_lo, 1.0)
        frac = np.clip((target - f_lo) / width, 0.0, 1.0)
        # in the end cells F ~ phi^3 (soft edges): a cube-root start keeps Newton in its basin; at
        # ratio 1 the lower edge is hard (density (2/pi) cos^2(phi/2) -> 2/pi): F ~ phi, linear start
        frac = np.where((idx == 0) & (self.ratio != 1.0), np.cbrt(frac), frac)
        frac = np.where(idx == _GRID_SIZE - 2, 1.0 - np.cbrt(1.0 - frac), frac)
        phi = lo + (hi - lo) * frac
        for _ in range(_NEWTON_STEPS):
            resid = self._cdf_phi(phi) - target
            # the bracket [lo, hi] shrinks with each sign: Newton steps that leave it are bisected
            lo = np.where(resid < 0, phi, lo)
            hi = np.where(resid > 0, phi, hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = phi - resid / self._density_phi(phi)
            ok = np.isfinite(step) & (step >= lo) & (step <= hi)
            phi = np.where(resid == 0, phi, np.where(ok, step, 0.5 * (lo + hi)))
        x = self._x_of_phi(phi)
        x = np.where(target >= self.continuous_mass, self.upper, np.where(target <= 0, self.lower, x))
        if self.atom > 0:
            x = np.where(q <= self.atom, 0.0, x)
        return x

    # --- moments -------------------------------------------------------------------------------
    def moment(self, k: int) -> float:
        """Raw moment ``E[x^k] = var^k sum_{r=0}^{k-1} c^r C(k,r) C(k-1,r) / (r+1)`` (Narayana
        polynomials; the atom at 0 contributes nothing for k >= 1)."""
        k = check_int("k", k, 0, 10_000)
        if k == 0:
            return 1.0
        try:
            total = sum(self.ratio ** r * math.comb(k, r) * math.comb(k - 1, r) / (r + 1) for r in range(k))
            return self.scale ** k * total
        except OverflowError:
            # For k beyond ~1000 a term C(k,r) C(k-1,r) exceeds the float range before the sum is
            # scaled by var^k: the same sum in logarithms (math.log of an exact integer is exact to
            # rounding), inf only where the moment itself exceeds the float range.
            logs = [r * math.log(self.ratio) + math.log(math.comb(k, r) * math.comb(k - 1, r)) - math.log(r + 1)
                    for r in range(k)]
            top = max(logs)
            log_moment = k * math.log(self.scale) + top + math.log(sum(math.exp(v - top) for v in logs))
            try:
                return math.exp(log_moment)
            except OverflowError:  # the moment itself is beyond the float range
                return math.inf

    def mean(self) -> float:
        return self.scale

    def var(self) -> float:
        """Variance of the law: ``var^2 * ratio``."""
        return self.scale ** 2 * self.ratio

    def std(self) -> float:
        return math.sqrt(self.var())

    # --- sampling ------------------------------------------------------------------------------
    def rvs(self, size=None, random_state=None, n_rows: int | None = None):
        """Independent draws from the law, as ``scipy.stats`` distributions: ``size`` None gives
        one float, an int or a shape gives an array of that many draws (inverse cdf of uniforms,
        so the atom at 0 for ratio > 1 is drawn with its mass). For the spectrum of one finite
        random matrix, see :meth:`wishart_spectra`.

        Examples
        --------
        >>> law = MarchenkoPastur(ratio=4.0)
        >>> x = law.rvs(size=10_000, random_state=1)
        >>> bool(abs((x == 0).mean() - law.atom) < 0.02)   # mass 1 - 1/c at 0
        True

        ``n_rows`` (deprecated): the old meaning, whole Wishart spectra, is ``wishart_spectra``.
        """
        if n_rows is not None:
            warnings.warn("MarchenkoPastur.rvs(size, n_rows=...) returned Wishart spectra; rvs now draws "
                          "iid from the law, as scipy.stats. Call wishart_spectra(size, random_state, "
                          "n_rows) for spectra; n_rows will be removed from rvs in the next release",
                          DeprecationWarning, stacklevel=2)
            return self.wishart_spectra(1 if size is None else size, random_state, n_rows)
        shape = () if size is None else ((size,) if np.ndim(size) == 0 else tuple(size))
        shape = tuple(check_int(f"size[{i}]" if len(shape) > 1 else "size", s, 0, None)
                      for i, s in enumerate(shape))
        check_allocation("size", math.prod(shape))
        rng = np.random.default_rng(random_state)
        draws = self.ppf(rng.random(shape))
        return float(draws) if size is None else np.asarray(draws, dtype=float).reshape(shape)

    def wishart_spectra(self, size=1, random_state=None, n_rows: int | None = None):
        """Eigenvalues of one real Gaussian Wishart matrix ``X = W^T W / N`` per row of the output
        (what ``rvs`` returned before it became scipy-like).

        ``size`` is M (an int) or a shape ``(..., M)``; N = ``n_rows`` (default
        ``round(M / ratio)``, so the finite matrix has ratio M/N close to ``ratio``).  Each spectrum
        is returned sorted ascending; for M > N it contains M - N exact zeros.

        Sampled without forming W: the nonzero spectrum of G^T G, G Gaussian m x n (m <= n), is
        that of B B^T with B lower bidiagonal, diagonal chi_{n}, chi_{n-1}, ..., chi_{n-m+1} and
        subdiagonal chi_{m-1}, ..., chi_1 (Dumitriu and Edelman 2002, beta = 1).
        """
        shape = (size,) if np.ndim(size) == 0 else tuple(size)
        if not shape:
            raise InvalidArgument(f"size must be a positive int or a shape of positive ints, got {size!r}")
        shape = tuple(check_int(f"size[{i}]" if len(shape) > 1 else "size", s, 1, None)
                      for i, s in enumerate(shape))
        # the output, and per spectrum O(min(N, M)) work: refuse what cannot fit before drawing
        check_allocation("size", math.prod(shape))
        m_cols = shape[-1]
        if n_rows is None:
            n_rows = max(1, round(m_cols / self.ratio))
        n_rows = check_int("n_rows", n_rows, 1, 2**62)
        rng = np.random.default_rng(random_state)
        m, n = min(n_rows, m_cols), max(n_rows, m_cols)
        batch = int(np.prod(shape[:-1], dtype=int))
        out = np.zeros((batch, m_cols))
        diag_df = n - np.arange(m)
        sub_df = np.arange(m - 1, 0, -1)
        for b in range(batch):
            d = np.sqrt(rng.chisquare(diag_df))
            e = np.sqrt(rng.chisquare(sub_df)) if m > 1 else np.zeros(0)
            main = d ** 2 + np.concatenate(([0.0], e ** 2))
            off = d[:-1] * e
            ev = linalg.eigvalsh_tridiagonal(main, off) if m > 1 else main
            out[b, m_cols - m:] = np.maximum(ev, 0.0) * self.scale / n_rows
        return out.reshape(shape)


def self_check() -> list[dict]:
    """Closed forms against independent numerics (quadrature of the pdf, moments)."""
    from scipy import integrate

    rows = []
    for c in (0.25, 1.0, 4.0):
        law = MarchenkoPastur(c, 2.0)
        a, b = law.edges
        mid = a + 0.37 * (b - a)
        quad_val = integrate.quad(law.pdf, a, mid, limit=200)[0] + law.atom
        cdf_val = float(law.cdf(mid))
        rows.append(dict(check=f"MP cdf vs quad of pdf, c={c}, var=2", value=cdf_val,
                         reference=quad_val, error=abs(cdf_val - quad_val),
                         ok=abs(cdf_val - quad_val) < 1e-9))
        p = np.array([1e-9, 0.3, 0.999999]) * law.continuous_mass + law.atom
        back = law.cdf(law.ppf(p))
        err = float(np.max(np.abs(back - p)))
        rows.append(dict(check=f"MP cdf(ppf(p)) = p, c={c}", value=float(back[1]),
                         reference=float(p[1]), error=err, ok=err < 1e-13))
        var_quad = integrate.quad(lambda x: (x - 2.0) ** 2 * law.pdf(x), a, b, limit=200)[0]
        var_quad += law.atom * 4.0
        rows.append(dict(check=f"MP variance var^2 c vs quad, c={c}", value=law.var(),
                         reference=var_quad, error=abs(law.var() - var_quad),
                         ok=abs(law.var() - var_quad) < 1e-8))
    return rows
