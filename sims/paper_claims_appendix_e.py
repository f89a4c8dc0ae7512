"""Appendix E of paper 000 in ``sims.paper_claims``: E.2's statement that the MP law does not hold for
a 90%-sparse initialisation, and the regression data of E.3 drawn in Fig E.2.
"""
from __future__ import annotations

import math

import numpy as np

from core import protocol
from core.result import Verdict
from sims.paper_claims_config import PaperClaimsConfig

DECLARATIONS = {
    "000:text:E.2.4": protocol.declare(
        "000:text:E.2.4", "Kolmogorov distance of the ESD of W^T W / N to MP(1, 0.1) at the largest N "
        "against the 95% KS critical value 1.358/sqrt(N) of N iid points: 'MP does not hold' needs the "
        "distance at least there (eigenvalues are more rigid than iid points, so a distance below it "
        "refutes the claim); the rate in N is reported", "bound",
        scale="N = 200-3200 square, iid Bernoulli(0.1) mask on N(0, 1) entries (E.2's initialisation, "
              "not its training)"),
}


# -- E.2: sparse initialisation ---------------------------------------------------------------------
def text_e2_4(cfg: PaperClaimsConfig, rng_for, density: float = 0.1):
    """E.2 says the MP theorem does not hold for weights initialised with 90% of the entries set to
    zero.  With an iid Bernoulli(0.1) mask the entries stay iid with mean 0 and variance 0.1 sigma^2,
    so Theorem 3.1 applies with that variance; the Kolmogorov distance of the ESD of W^T W / N to
    MP(ratio, 0.1 sigma^2) should shrink with N."""
    from theory.marchenko_pastur import MarchenkoPastur
    rows, dists = [], []
    for n in (200, 800, 3200) if max(cfg.ns) >= 400 else (100, 400):
        rng = rng_for("sparse_init", n, 0)
        w = rng.standard_normal((n, n)) * (rng.random((n, n)) < density)
        ev = np.sort(np.linalg.eigvalsh(w.T @ w / n))
        law = MarchenkoPastur(ratio=1.0, sigma2=density)
        ecdf_hi = np.arange(1, n + 1) / n
        model = law.cdf(ev)
        ks = float(max(np.max(ecdf_hi - model), np.max(model - (ecdf_hi - 1 / n))))
        dists.append(ks)
        rows.append({"table": "text_E2_4", "N": n, "density": density, "ks_to_MP": ks,
                     "ks_95_iid_reference": 1.358 / math.sqrt(n)})
    decl = DECLARATIONS["000:text:E.2.4"]
    d = protocol.bound(decl, dists[-1], rows[-1]["ks_95_iid_reference"], side=">=")
    rate = protocol.asymptotic(decl, [r["N"] for r in rows], dists, noisy=True)
    verdict = protocol.verdict(
        decl, d, setting=f"N x N, iid Bernoulli({density}) mask on N(0, 1) entries, N up to {rows[-1]['N']}",
        measured=dists[-1], bound=rows[-1]["ks_95_iid_reference"], N=rows[-1]["N"],
        corrected=(f"the MP law holds with variance {density} sigma^2 (iid entries); the Kolmogorov "
                   f"distance falls with N ({rate.reason})") if d.word == "fails" else "",
        note=f"{d.reason}; Kolmogorov distance of the ESD of W^T W / N to MP(1, 0.1): " +
             ", ".join(f"{r['ks_to_MP']:.3g} (N={r['N']})" for r in rows) + f"; {rate.reason}",
        extra={"rate_exponent": rate.extra.get("rate_exponent")})
    return rows, [verdict]


# -- Fig E.2: the regression data of E.3 -------------------------------------------------------------
def figure_e2_tables(seed: int) -> dict[str, list[dict]]:
    """The E.3 data (nets.data.regression_e3, the paper's 2000/500 points and noise 0.5)."""
    from nets.data import regression_e3
    data = regression_e3(seed)
    (xtr, ytr), (xte, yte) = data.train.tensors, data.test.tensors
    return {"fig_e2_train": [{"x": float(a), "y": float(b)} for a, b in zip(xtr[:, 0], ytr[:, 0])],
            "fig_e2_test": [{"x": float(a), "y_true": float(b)} for a, b in zip(xte[:, 0], yte[:, 0])]}
