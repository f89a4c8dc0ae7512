"""The Monte Carlo of ``sims.spiked_model``: one matrix ensemble (``Setting``), its trials with the
dense engine (``simulate``: certified top singular triplets) or the banded one (``simulate_banded``,
Gaussian noise, exact in distribution), and one record per spike (``summarize``: means with
t-intervals beside the limits of Theorems A.3/A.4); the spike sets and sizes the paper uses.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass

import numpy as np
import torch

from sims import banded
from sims.device import resolve_device
from sims.linalg import top_singular_triplets
from sims.noise import spiked_matrix
from sims.stats import mean_ci
from theory import spiked as theory


PAPER_SPIKES = (30.0, 40.0, 50.0, 60.0, 70.0)       # Example 4.2, Fig 4.3 / B.1
THRESHOLD_SPIKES = (3.0, 2.0, 1.5, 1.2, 0.8)       # around theta_bar = 1
# Geometric N grid (ratio ~1.6) for the log-log rate fits; fewer trials at large N, where the
# fluctuations are smaller and each trial costs ~N^2.3 (Krylov basis ~N^(1/3) for edge triplets).
DEFAULT_NS = (250, 400, 630, 1000, 1600)
DEFAULT_TRIALS = {250: 32, 400: 32, 630: 24, 1000: 16, 1600: 10}
QUICK_NS = (100, 200, 400)
QUICK_TRIALS = 12
PAPER_N, PAPER_TRIALS = 3000, 10
# Certified singular-vector accuracy: sin(angle) <= delta = 1e-6.  The squared overlap then errs by
# at most 2 delta sqrt(1 - overlap) + delta^2 (the error direction is orthogonal to the true u'),
# i.e. <= 7e-8 for theta = 30 and <= 2e-6 anywhere: far below every per-trial fluctuation.
ENGINE_TOL = 1e-6
MAX_BATCH_BYTES = 256 * 2**20

# Fig B.1 (paper, Section B.1): <u_5, u'_5> ~ 0.99943 for sigma_5 = 30 at N = 3000.
PAPER_FIG_B1 = {"theta": 30.0, "overlap": 0.99943}


@dataclass(frozen=True)
class Setting:
    """One matrix ensemble: N x M, noise kind, spike strengths (descending), spike vectors."""

    N: int
    M: int
    noise: str
    spikes: tuple
    vectors: str = "diagonal"

    @property
    def ratio(self) -> float:
        return self.M / self.N

    def stream(self, seed: int) -> int:
        """Seed of this setting's trial streams: distinct settings get independent trials, and a
        trial's matrix does not depend on which other settings or trials are run."""
        key = f"{self.N}x{self.M}|{self.noise}|{self.vectors}|{','.join(map(repr, self.spikes))}"
        return (int(seed) * 1_000_003 + zlib.crc32(key.encode())) % (2**62)


# ---------------------------------------------------------------------------------------------
def simulate(setting: Setting, seed: int, trials, device="cpu", dtype=torch.float64,
             tol: float = ENGINE_TOL, threads: int | None = None) -> dict:
    """Per-trial measurements for the given trial indices: sv, u_overlap, v_overlap (T, r),
    cross_u, cross_v (T,): max off-diagonal squared overlaps, vector_bound (T,): engine certificate."""
    if threads is not None:
        torch.set_num_threads(threads)
    cpu0 = time.process_time()
    device = resolve_device(device) if isinstance(device, str) else device
    trials = list(trials)
    r = len(setting.spikes)
    per_matrix = setting.N * setting.M * torch.tensor([], dtype=dtype).element_size()
    chunk = max(1, MAX_BATCH_BYTES // per_matrix)
    out = {k: [] for k in ("sv", "u_overlap", "v_overlap", "cross_u", "cross_v", "vector_bound")}
    for start in range(0, len(trials), chunk):
        idx = trials[start:start + chunk]
        sample = spiked_matrix(setting.spikes, setting.N, setting.M, seed=setting.stream(seed),
                               trials=idx, noise=setting.noise, vectors=setting.vectors,
                               device=device, dtype=dtype)
        gen = torch.Generator().manual_seed(setting.stream(seed) + idx[0])
        U, s, V, info = top_singular_triplets(sample.W, r, tol=tol, generator=gen,
                                              max_iter=200, return_info=True)
        Ou = (sample.U_S.transpose(-1, -2) @ U) ** 2      # (B, r, r): |<u_i, u'_j>|^2
        Ov = (sample.V_S.transpose(-1, -2) @ V) ** 2
        eye = torch.eye(r, dtype=torch.bool, device=Ou.device)
        out["sv"].append(s.cpu())
        out["u_overlap"].append(torch.diagonal(Ou, dim1=-2, dim2=-1).cpu())
        out["v_overlap"].append(torch.diagonal(Ov, dim1=-2, dim2=-1).cpu())
        off = torch.zeros(len(idx), dtype=dtype) if r == 1 else None
        out["cross_u"].append(off if off is not None else Ou.masked_fill(eye, 0).amax((-2, -1)).cpu())
        out["cross_v"].append(off if off is not None else Ov.masked_fill(eye, 0).amax((-2, -1)).cpu())
        out["vector_bound"].append(info.vector_bound.amax(-1).cpu())
    res = {k: torch.cat(v).numpy() for k, v in out.items()}
    res["cpu_seconds"] = np.array([time.process_time() - cpu0])
    return res


def simulate_banded(setting: Setting, seed: int, trials, tol: float = ENGINE_TOL) -> dict:
    """``simulate`` through sims.banded's exact-in-distribution reduction (Gaussian noise): the same
    per-trial measurements, each trial's generator seeded by (setting stream, trial).  Spike
    vectors e_i or Haar-random give the same law here (R is orthogonally invariant), so both use
    the reduced form, whose spike vectors are e_1..e_r."""
    cpu0 = time.process_time()
    r = len(setting.spikes)
    out = {k: [] for k in ("sv", "u_overlap", "v_overlap", "cross_u", "cross_v", "vector_bound")}
    for t in trials:
        st = banded.one_trial(setting.spikes, setting.N, setting.M, seed=setting.stream(seed),
                              trial=t, tol=tol)
        Ou, Ov = st.U_head ** 2, st.V_head ** 2       # |<u_i, u'_j>|^2
        off = ~np.eye(r, dtype=bool)
        out["sv"].append(st.s)
        out["u_overlap"].append(np.diag(Ou))
        out["v_overlap"].append(np.diag(Ov))
        out["cross_u"].append(Ou[off].max() if r > 1 else 0.0)
        out["cross_v"].append(Ov[off].max() if r > 1 else 0.0)
        out["vector_bound"].append(st.info.vector_bound.max())
    res = {k: np.array(v) for k, v in out.items()}
    res["cpu_seconds"] = np.array([time.process_time() - cpu0])
    return res


def summarize(setting: Setting, data: dict) -> list[dict]:
    """One record per spike: means with t-intervals, limits, RMS errors."""
    c = setting.ratio
    theta_bar = theory.threshold(c)
    records = []
    for i, theta in enumerate(setting.spikes):
        sv_lim = float(theory.singular_value_limit(theta, c))
        u_lim, v_lim = (float(x) for x in theory.overlap_limits(theta, c))
        rec = {"N": setting.N, "M": setting.M, "ratio": c, "noise": setting.noise,
               "vectors": setting.vectors, "theta": float(theta), "index": i + 1,
               "theta_max_in_matrix": float(setting.spikes[0]),
               "threshold": theta_bar, "edge": theory.edge(c),
               "regime": "above" if theta > theta_bar else "below",
               "critical_window": float(setting.N ** (-1 / 3)),
               "trials": int(data["sv"].shape[0])}
        for key, lim in (("sv", sv_lim), ("u_overlap", u_lim), ("v_overlap", v_lim)):
            x = data[key][:, i]
            est = mean_ci(x)
            rec[f"{key}_mean"] = est.mean
            rec[f"{key}_ci"] = est.as_list()
            rec[f"{key}_limit"] = lim
            rec[f"{key}_sd"] = float(x.std(ddof=1))
            rec[f"{key}_rmse"] = float(np.sqrt(np.mean((x - lim) ** 2)))
            half = est.half_width
            rec[f"{key}_z"] = float((est.mean - lim) / (half / 1.96)) if half > 0 else float("inf")
            rec[f"{key}_limit_in_ci"] = bool(est.contains(lim))
            rec[f"{key}_samples"] = x.tolist()
        if setting.ratio == 1.0:
            rec["sv_limit_paper_A3"] = float(theory.theorem_a3_singular_value_limit(theta))
            rec["overlap_limit_paper_A4"] = float(theory.theorem_a4_overlap_limit(theta))
        rec["cross_overlap_max_mean"] = float(np.mean(np.maximum(data["cross_u"], data["cross_v"])))
        rec["engine_vector_bound_max"] = float(np.max(data["vector_bound"]))
        records.append(rec)
    return records
