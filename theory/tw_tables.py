"""Piecewise-polynomial tables of Tracy-Widom F_1, F_2, F_4 built from Bornemann's quadrature.

``python -m theory.tw_tables --write`` regenerates ``theory/_tw_tables.npz`` (about a minute);
``python -m theory.tw_tables`` rebuilds in memory and prints how far the stored tables are from the
rebuild and from the quadrature at points between the nodes. tests/test_tracy_widom.py rebuilds a few
panels and compares them with the stored ones.

What is tabulated, for each beta on [LEFT, UPPER[beta]] (uniform panels of width WIDTH), from the
left-tail series of theory._tw_asymptotics on [LEFT, SWITCH[beta]] (more accurate there than the
double-precision quadrature) and from the quadrature on [SWITCH[beta], UPPER[beta]]:

- g(s) = log(-log F(s)): smooth, O(1) to O(100) in size, and exp(-exp(g)) gives F with the relative
  accuracy of -log F, i.e. 1 - F = -expm1(-exp(g)) keeps relative accuracy in the right tail;
- h(s) = log(d/ds log F(s)) = log(pdf / F): the pdf is exp(h - exp(g)), no differentiation of an
  interpolant (which would lose digits);
- the inverse s(y) of g, y = log(-log p), on the image panels g([edge_k, edge_k+1]): the quantile.

Each panel holds the degree-DEGREE polynomial interpolating the quadrature at the DEGREE + 1
Chebyshev-Lobatto points (shared end points: the pieces join continuously), converted to the local
power basis in (x - left end) exactly (rational arithmetic) so that scipy's compiled PPoly evaluates
it; the conversion is rounded once per coefficient. The inverse nodes are solved from the forward
table itself (Newton on g), so ppf and cdf agree to rounding.

Left of LEFT (F < 1e-70) theory.tracy_widom evaluates the series directly; right of UPPER, where
1 - F < 1e-17 so F rounds to 1, the quadrature itself.
"""
from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.interpolate import PPoly

from theory import _tw_asymptotics, _tw_quadrature

PATH = Path(__file__).with_name("_tw_tables.npz")
BETAS = (1, 2, 4)
# Left end: where the series error (~size of its 9th-10th terms) meets the quadrature's rounding floor
# (both ~1e-9 to 1e-10 relative in F there; see theory._tw_asymptotics).
SWITCH = {1: -6.25, 2: -6.75, 4: -5.25}
LEFT = -20.0  # F_beta(-20) < 1e-70 for beta = 1, 2, 4
# Right end: 1 - F(UPPER) < 1e-17, so every p < 1 (p <= 1 - 2^-53) has its quantile inside.
UPPER = {1: 15.75, 2: 10.25, 4: 7.75}
WIDTH = 0.25
DEGREE = 12
FORMAT_VERSION = 1


def _edges(beta: int) -> np.ndarray:
    n = int(round((UPPER[beta] - LEFT) / WIDTH))
    return LEFT + WIDTH * np.arange(n + 1)


def _lobatto(a, b) -> np.ndarray:
    """DEGREE + 1 Chebyshev-Lobatto points of each panel [a, b] (rows), ascending."""
    theta = np.pi * np.arange(DEGREE, -1, -1) / DEGREE
    a = np.asarray(a, dtype=float)[:, None]
    b = np.asarray(b, dtype=float)[:, None]
    return 0.5 * (a + b) + 0.5 * (b - a) * np.cos(theta)[None, :]


def _chebyshev_coefficients(values: np.ndarray) -> np.ndarray:
    """Chebyshev coefficients of the interpolant through values at the ascending Lobatto points."""
    n = DEGREE
    v = values[..., ::-1]  # to x_j = cos(pi j / n), j = 0..n
    j = np.arange(n + 1)
    w = np.ones(n + 1)
    w[0] = w[-1] = 0.5
    basis = np.cos(np.pi * np.outer(j, j) / n)  # T_k(x_j)
    c = (v * w) @ basis * (2.0 / n)
    c[..., 0] /= 2.0
    c[..., -1] /= 2.0
    return c


def _power_basis(cheb: np.ndarray, a: float, b: float) -> np.ndarray:
    """Coefficients (highest degree first, PPoly's order) in u = x - a of sum c_k T_k(2u/(b-a) - 1),
    computed exactly in rationals and rounded once."""
    n = len(cheb) - 1
    # T_k in powers of t, exactly
    T = [[Fraction(1)], [Fraction(0), Fraction(1)]]
    for k in range(2, n + 1):
        nxt = [Fraction(0)] + [2 * x for x in T[k - 1]]
        for i, x in enumerate(T[k - 2]):
            nxt[i] -= x
        T.append(nxt)
    poly_t = [Fraction(0)] * (n + 1)
    for k in range(n + 1):
        ck = Fraction(float(cheb[k]))
        for i, x in enumerate(T[k]):
            poly_t[i] += ck * x
    alpha = 2 / (Fraction(b) - Fraction(a))  # t = alpha u - 1
    poly_u = [Fraction(0)] * (n + 1)
    binom = [[Fraction(1)]]
    for i in range(1, n + 1):
        row = [Fraction(1)] + [binom[i - 1][j - 1] + binom[i - 1][j] for j in range(1, i)] + [Fraction(1)]
        binom.append(row)
    for i, p in enumerate(poly_t):  # p (alpha u - 1)^i
        if p == 0:
            continue
        for j in range(i + 1):
            poly_u[j] += p * binom[i][j] * alpha**j * (-1) ** (i - j)
    return np.array([float(x) for x in poly_u[::-1]])


def _fit(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PPoly coefficient array (DEGREE + 1, panels) and the Chebyshev coefficients (panels, DEGREE + 1)."""
    cheb = _chebyshev_coefficients(values)
    coefs = np.column_stack([_power_basis(cheb[i], edges[i], edges[i + 1]) for i in range(len(cheb))])
    return coefs, cheb


def forward_values(beta: int, points: np.ndarray, series: np.ndarray | None = None):
    """(g, h) = (log(-log F), log(d/ds log F)) at the points: from the series where ``series`` (a mask;
    default: points < SWITCH), else from the quadrature."""
    points = np.asarray(points, dtype=float)
    if series is None:
        series = points < SWITCH[beta]
    neg_log = np.empty_like(points)
    dlog = np.empty_like(points)
    if series.any():
        neg_log[series], dlog[series] = _tw_asymptotics.left_tail(points[series], beta)
    if (~series).any():
        neg_log[~series], dlog[~series] = _tw_quadrature.neg_log_cdf(points[~series], beta, with_derivative=True)
    return np.log(neg_log), np.log(dlog)


def _panel_nodes(beta: int, panels) -> tuple[np.ndarray, np.ndarray]:
    """Lobatto nodes of the given panels and the mask of nodes taken from the series (whole panels:
    the node at SWITCH belongs to the series on the panel left of it)."""
    edges = _edges(beta)
    panels = np.asarray(panels)
    nodes = _lobatto(edges[panels], edges[panels + 1])
    series = np.broadcast_to((edges[panels + 1] <= SWITCH[beta])[:, None], nodes.shape)
    return nodes, series


def _solve_inverse(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, g: PPoly, h: PPoly) -> np.ndarray:
    """s in [lo, hi] with g(s) = y (g decreasing), by safeguarded Newton on the forward table."""
    a, b = lo.copy(), hi.copy()
    ga, gb = g(a), g(b)
    s = a + (b - a) * np.clip((y - ga) / (gb - ga), 0.0, 1.0)
    for _ in range(100):
        gs = g(s)
        resid = gs - y
        a = np.where(resid > 0, s, a)  # g decreasing: g(s) > y means s is left of the root
        b = np.where(resid < 0, s, b)
        slope = -np.exp(h(s) - gs)
        step = s - resid / slope
        inside = (step > a) & (step < b)
        new = np.where(resid == 0, s, np.where(inside, step, 0.5 * (a + b)))
        if np.all(np.abs(new - s) <= 2e-16 * np.maximum(1.0, np.abs(s))):
            return new
        s = new
    return s


def build(beta: int) -> dict:
    """All tables of one beta (dict of arrays, the .npz layout)."""
    edges = _edges(beta)
    nodes, series = _panel_nodes(beta, np.arange(len(edges) - 1))
    g_vals, h_vals = forward_values(beta, nodes.ravel(), series.ravel())
    g_coefs, _ = _fit(g_vals.reshape(nodes.shape), edges)
    h_coefs, _ = _fit(h_vals.reshape(nodes.shape), edges)
    g = PPoly(g_coefs, edges, extrapolate=True)
    h = PPoly(h_coefs, edges, extrapolate=True)
    # inverse: the image panels of g, ascending in y (g decreases)
    y_edges = g(edges)[::-1].copy()
    s_edges = edges[::-1].copy()
    y_nodes = _lobatto(y_edges[:-1], y_edges[1:])
    lo = np.repeat(s_edges[1:], DEGREE + 1).reshape(y_nodes.shape)
    hi = np.repeat(s_edges[:-1], DEGREE + 1).reshape(y_nodes.shape)
    s_nodes = _solve_inverse(y_nodes.ravel(), lo.ravel(), hi.ravel(), g, h).reshape(y_nodes.shape)
    s_nodes[:, 0], s_nodes[:, -1] = s_edges[:-1], s_edges[1:]  # exact at panel ends (s decreases in y)
    inv_coefs, _ = _fit(s_nodes, y_edges)
    return {f"b{beta}_edges": edges, f"b{beta}_g": g_coefs, f"b{beta}_h": h_coefs,
            f"b{beta}_inv_edges": y_edges, f"b{beta}_inv": inv_coefs}


def build_panels(beta: int, panels) -> tuple[np.ndarray, np.ndarray]:
    """Rebuild the g and h coefficient columns of the given forward panels (for the tests)."""
    edges = _edges(beta)
    panels = np.asarray(panels)
    nodes, series = _panel_nodes(beta, panels)
    g_vals, h_vals = forward_values(beta, nodes.ravel(), series.ravel())
    cheb_g = _chebyshev_coefficients(g_vals.reshape(nodes.shape))
    cheb_h = _chebyshev_coefficients(h_vals.reshape(nodes.shape))
    g = np.column_stack([_power_basis(cheb_g[i], edges[p], edges[p + 1]) for i, p in enumerate(panels)])
    h = np.column_stack([_power_basis(cheb_h[i], edges[p], edges[p + 1]) for i, p in enumerate(panels)])
    return g, h


def build_all() -> dict:
    data = {"format_version": np.array(FORMAT_VERSION), "degree": np.array(DEGREE),
            "width": np.array(WIDTH)}
    for beta in BETAS:
        data.update(build(beta))
    return data


@lru_cache(maxsize=1)
def load() -> dict:
    """The stored tables as PPoly objects: {beta: dict(g=, h=, g_ext=, h_ext=, inv=, left=, upper=,
    y_low=, y_high=)}."""
    with np.load(PATH, allow_pickle=False) as raw:
        data = {k: raw[k] for k in raw.files}
    if int(data["format_version"]) != FORMAT_VERSION:
        raise RuntimeError(f"{PATH} has format {int(data['format_version'])}, expected {FORMAT_VERSION}: "
                           "regenerate it with `python -m theory.tw_tables --write`")
    out = {}
    for beta in BETAS:
        edges = data[f"b{beta}_edges"]
        out[beta] = dict(
            g=PPoly(data[f"b{beta}_g"], edges, extrapolate=False),
            h=PPoly(data[f"b{beta}_h"], edges, extrapolate=False),
            # for the Newton polish of ppf: the inverse may land an ulp outside the table
            g_ext=PPoly(data[f"b{beta}_g"], edges, extrapolate=True),
            h_ext=PPoly(data[f"b{beta}_h"], edges, extrapolate=True),
            inv=PPoly(data[f"b{beta}_inv"], data[f"b{beta}_inv_edges"], extrapolate=False),
            left=float(edges[0]), upper=float(edges[-1]),
            y_low=float(data[f"b{beta}_inv_edges"][0]), y_high=float(data[f"b{beta}_inv_edges"][-1]),
        )
    return out


def compare_with_quadrature(beta: int, points: np.ndarray) -> dict:
    """Max errors of the stored tables against the quadrature at the points (inside the table)."""
    tab = load()[beta]
    g_ref, h_ref = forward_values(beta, points, np.zeros(np.shape(points), dtype=bool))
    g, h = tab["g"](points), tab["h"](points)
    F_ref, F = np.exp(-np.exp(g_ref)), np.exp(-np.exp(g))
    pdf_ref, pdf = np.exp(h_ref - np.exp(g_ref)), np.exp(h - np.exp(g))
    return dict(g=float(np.max(np.abs(g - g_ref))), h=float(np.max(np.abs(h - h_ref))),
                cdf=float(np.max(np.abs(F - F_ref))), pdf=float(np.max(np.abs(pdf - pdf_ref))))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m theory.tw_tables", description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {PATH.name}")
    args = parser.parse_args(argv)
    data = build_all()
    if args.write:
        np.savez_compressed(PATH, **data)
        load.cache_clear()
        print(f"wrote {PATH}")
    elif PATH.exists():
        stored = np.load(PATH, allow_pickle=False)
        for key in data:
            diff = np.max(np.abs(np.asarray(data[key], float) - stored[key]))
            print(f"{key:<16} max |rebuilt - stored| = {diff:.3g}")
    rng = np.random.default_rng(0)
    for beta in BETAS:
        tab = load()[beta]
        pts = rng.uniform(SWITCH[beta], tab["upper"], 2000)
        print(f"beta={beta}: table vs quadrature at 2000 random points: {compare_with_quadrature(beta, pts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
