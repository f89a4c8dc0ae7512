"""`python -m sims.paper004_side_by_side`: magnitude, random (paper 004) and MP-based SVD pruning (paper 000,
Algorithm 3) on the same target networks at matched parameter budgets.

Targets: the depth-4 ReLU nets of ``sims.paper004_theorems`` (d_0 = d_4 = ``io``, hidden width d, no biases).
Two families for the hidden layers W_2, W_3:
- ``iid``: iid U[-sqrt(3/max), sqrt(3/max)] weights: paper 004's Theorem 1 (iii) with K = sqrt 3, which
  also meets Theorem 2 (iii);
- ``spiked``: W* = R + S, S = sum_i theta_i u_i v_i^T with theta = ``thetas`` (above the BBP threshold
  theta_bar = 1 for square R of entry variance 1/d), the signal directions chained through the layers
  (``spiked_target``): paper 000's Assumptions 4.1-4.3, with the information in S.
First and last layers are never pruned (both papers).  For each hidden layer, Algorithm 3 (all
singular values below the MP threshold sqrt(lambda_+ N) removed) gives a rank r; stored as factors it
keeps r (d + d) weights, so the *budget* is: magnitude and random pruning zero d^2 - 2 r d entries
(all of them when r = 0), i.e. every method keeps the same number of weights.  Random pruning is
drawn without replacement here (Appendix E.2) so that the count zeroed is exact.

Reported per (family, d, seed, method):
- sup over the unit ball of ||f(x) - F(x)||_2: lower estimate by projected gradient ascent
  (``paper004_theorems.sup_ball_error``) and the chain upper bound with measured norms;
- on data: inputs x uniform on the unit sphere of R^{d_0}, labels y = argmax F(x) (the target's own
  decisions), dX of (4.1) (paper 000) before and after pruning: mean |change of dX|, fraction of
  labels that flip;
- the a-priori bound each theory gives for that budget: Theorem 1's epsilon (magnitude, with alpha
  solving d^2 - 2rd = floor(D^(1 - alpha))), Theorem 2's epsilon (random), and for MP the chain of
  paper 000 Lemma 4.1 / (4.5) over the two pruned layers with ||W - W'||_2 <= threshold (every
  removed singular value lies below it).  All bounds are on sup ||f - F||; for dX multiply by sqrt 2
  (|Delta(X_i - X_j)| <= sqrt 2 ||Delta X||, as in (4.4)).

No verdicts: this compares methods, it checks no single claim.  The committed result is
``results/paper004_side_by_side.json`` (one record per (family, d, network, budget, method); the means
over networks as the table ``summary``).
"""
from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from nets import baselines
from nets.confidence import confidence_from_outputs
from nets.algorithms import algorithm3
from sims import paper004_theorems as qt
from sims.qian_klabjan import spectral_norm
from core.cli import DEVICE_CHOICES, format_table, progress as progress_bar
from core.result import Result
from core.validate import InvalidArgument, check_choice, check_float, check_int
from sims.device import trial_generator
from sims.experiment import ExperimentRun, option
from theory import norm_predictions as npred

FAMILIES = ("iid", "spiked")
METHODS = ("svd", "magnitude", "random_without_replacement")
BUDGETS = ("mp", "alpha=0.5")
MODULE = "sims.paper004_side_by_side"


@dataclass(frozen=True)
class SideBySideConfig:
    """The sizes of a run (``Config`` is its command line).  ``sizes``: hidden widths d; ``nets``:
    target networks per (family, d); ``thetas``: the spikes of the ``spiked`` family; ``n_data``:
    inputs on the unit sphere for dX and flips; ``device``: the torch device's type (recorded)."""
    sizes: tuple[int, ...] = (128, 256)
    nets: int = 3
    io: int = 10
    thetas: tuple[float, ...] = (2.0, 3.0, 4.0, 5.0)
    n_data: int = 2000
    seed: int = 0
    device: str = "auto"
    starts: int = 48
    steps: int = 120

    @classmethod
    def quick(cls, **overrides) -> "SideBySideConfig":
        return replace(cls(sizes=(64,), nets=1, n_data=500, starts=16, steps=40), **overrides)

    def validate(self) -> "SideBySideConfig":
        io = check_int("io", self.io, 2, 4096)
        sizes = tuple(check_int("size", d, max(io, 2 * len(self.thetas)), 8192) for d in self.sizes)
        thetas = tuple(check_float("theta", t, 0.0, 1e6, lo_open=True) for t in self.thetas)
        if not sizes or not thetas:
            raise InvalidArgument(f"sizes and thetas must be non-empty, got {sizes} and {thetas}")
        if len(thetas) > io:
            raise InvalidArgument(f"thetas: at most io = {io} spikes, got {len(thetas)}")
        return replace(self, sizes=sizes, thetas=thetas, io=io,
                       nets=check_int("nets", self.nets, 1, 10_000),
                       n_data=check_int("n_data", self.n_data, 1, 10**6),
                       seed=check_int("seed", self.seed, 0, None),
                       device=check_choice("device", self.device, DEVICE_CHOICES),
                       starts=check_int("starts", self.starts, 1, 10_000),
                       steps=check_int("steps", self.steps, 1, 100_000))


def spiked_target(d: int, io: int, thetas, seed: int, trial: int, device) -> list[torch.Tensor]:
    """paper004_theorems' Gaussian target plus a signal chain: W_k += sum_i theta_i u_i^(k) v_i^(k)T with
    v^(k) = u^(k-1) (so the signal of one layer feeds the next), v^(1) and u^(l) orthonormal in R^io.
    Without the alignment the spike would barely touch the data path and the function would be the
    iid part's, which MP pruning removes by design."""
    ws = qt.sample_target(d, io, "gaussian", seed, trial, device)
    gen = trial_generator(seed + 104729, trial, device)
    r = len(thetas)
    theta = torch.tensor(thetas, dtype=torch.float64)
    dims = [w.shape[1] for w in ws] + [ws[-1].shape[0]]
    bases = [torch.linalg.qr(torch.randn(n, r, generator=gen, dtype=torch.float64))[0] for n in dims]
    for k, w in enumerate(ws):
        ws[k] = w + ((bases[k + 1] * theta) @ bases[k].T).to(device)
    return ws


def mp_prune(ws: list[torch.Tensor]):
    """Algorithm 3 on each hidden layer; returns pruned weights, ranks and MP thresholds."""
    out, ranks, thresholds = [ws[0]], [], []
    for w in ws[1:-1]:
        res = algorithm3(w, remove_fraction=1.0)
        out.append(res.truncated.to(w))
        ranks.append(int(res.rank))
        thresholds.append(float(res.spectrum.fit.singular_value_threshold))
    out.append(ws[-1])
    return out, ranks, thresholds


def budget_prune(ws, method: str, counts: list[int], seed: int) -> list[torch.Tensor]:
    """Magnitude or random pruning of the hidden layers with the given entry counts (nets.baselines)."""
    model = qt.as_model(ws)
    names = [n for n, _ in baselines.weight_layers(model)][1:-1]
    counts = dict(zip(names, counts))
    if method == "magnitude":
        baselines.magnitude_prune(model, counts=counts)
    else:
        baselines.random_prune(model, counts=counts, replacement=method == "random_with_replacement", seed=seed)
    return [m.weight.detach().clone() for _, m in baselines.weight_layers(model)]


def alpha_for_count(count: int, D: int) -> float:
    """alpha with floor(D^(1 - alpha)) = count (approximately: 1 - log count / log D)."""
    return 1.0 - math.log(max(count, 1)) / math.log(D)


def mp_apriori_bound(ws_F, thresholds) -> float:
    """Lemma 4.1 / (4.5) of paper 000 chained over the pruned layers with ||W - W'|| <= threshold,
    ||W'|| <= ||W||, L = 1: same recursion as paper004_theorems.chain_bound."""
    op = spectral_norm
    e, n = 0.0, op(ws_F[0])
    for w, thr in zip(ws_F[1:-1], thresholds):
        e = op(w) * e + thr * n
        n = op(w) * n
    return op(ws_F[-1]) * e


def svd_truncate(ws: list[torch.Tensor], ranks: list[int]) -> list[torch.Tensor]:
    """Hidden layers replaced by their best rank-r approximation (Eckart-Young)."""
    out = [ws[0]]
    for w, r in zip(ws[1:-1], ranks):
        u, sv, vh = torch.linalg.svd(w, full_matrices=False)
        out.append((u[:, :r] * sv[:r]) @ vh[:r])
    out.append(ws[-1])
    return out


def sweep(sizes=(128, 256), seeds: int = 3, io: int = 10, thetas=(2.0, 3.0, 4.0, 5.0), n_data: int = 2000,
        seed: int = 0, device=None, starts: int = 48, steps: int = 120, progress: bool = True) -> list[dict]:
    """Budgets: ``mp`` = Algorithm 3's rank r per hidden layer (2rd weights kept; ``svd`` is Algorithm 3
    itself); ``alpha=0.5`` = Theorem 1/2's count floor(D^(1/2)) = d entries zeroed (``svd`` keeps the
    rank floor((d^2 - d) / (2d)) with the same number of weights as factors)."""
    device = device or torch.device("cpu")
    rows = []
    jobs = [(fam, d, s) for fam in FAMILIES for d in sizes for s in range(seeds)]
    bar = progress_bar(jobs, desc="side by side", disable=not progress or not sys.stderr.isatty())
    for job, (fam, d, s) in enumerate(bar):
        F = (qt.sample_target(d, io, "uniform", seed, 5000 + job, device) if fam == "iid"
             else spiked_target(d, io, thetas, seed, 5000 + job, device))
        g = torch.Generator().manual_seed(seed * 7 + job)
        x = torch.randn(n_data, io, generator=g, dtype=torch.float64).to(device)
        x = x / x.norm(dim=1, keepdim=True)
        with torch.no_grad():
            out_F = qt.forward(F, x)
        y = out_F.argmax(dim=1)
        dx_F = confidence_from_outputs(out_F, y)
        sup_F = qt.sup_ball_error([torch.zeros_like(F[0])] + F[1:], F, starts, steps, seed=job)  # f = 0
        norms_F = [spectral_norm(w) for w in F]
        f_mp, mp_ranks, thresholds = mp_prune(F)
        for budget in BUDGETS:
            if budget == "mp":
                ranks = mp_ranks
                counts = [max(0, d * d - 2 * r * d) for r in ranks]
            else:
                counts = [qt.n_pruned(d, d, 0.5)] * (len(F) - 2)
                ranks = [(d * d - c) // (2 * d) for c in counts]
            kept = sum(d * d - c for c in counts)
            alpha = alpha_for_count(max(counts), d * d)
            for method in METHODS:
                if method == "svd":
                    f = f_mp if budget == "mp" else svd_truncate(F, ranks)
                else:
                    f = budget_prune(F, method, counts, seed=job)
                with torch.no_grad():
                    out_f = qt.forward(f, x)
                dx_f = confidence_from_outputs(out_f, y)
                if method == "svd":
                    bound = mp_apriori_bound(F, thresholds) if budget == "mp" else float("nan")
                    src = "paper 000 Lemma 4.1 chained" if budget == "mp" else "none (not Algorithm 3)"
                elif method == "magnitude":
                    c0 = float(npred.lemma3_law(d, d, math.sqrt(3)).ppf(0.99))
                    bound, src = qt.theorem1_epsilon(d, alpha, c0), "paper 004 Theorem 1 epsilon"
                else:
                    bound, src = qt.theorem2_epsilon(d, alpha, float(np.prod(norms_F))), "paper 004 Theorem 2 epsilon"
                # Paper 004's bounds assume iid weights: they do not apply to the spiked family.
                applies = (method == "svd" and budget == "mp") or (method != "svd" and fam == "iid")
                rows.append(dict(table="run", family=fam, d=d, seed=s, budget=budget, method=method, ranks=ranks,
                                 weights_kept_hidden=kept, weights_hidden=2 * d * d, alpha_equivalent=alpha,
                                 sup_error_lower=qt.sup_ball_error(f, F, starts, steps, seed=job),
                                 sup_error_chain_upper=qt.chain_bound(f, F), sup_F_lower=sup_F,
                                 theory_bound=bound, theory_bound_source=src, bound_applies=applies,
                                 dX_change_mean=float(np.mean(np.abs(dx_f - dx_F))),
                                 dX_target_mean=float(np.mean(dx_F)),
                                 label_flip_rate=float(np.mean(out_f.argmax(dim=1).cpu().numpy() != y.cpu().numpy()))))
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    out = []
    mean = lambda sel, k: float(np.mean([r[k] for r in sel]))
    for fam in FAMILIES:
        for d in sorted({r["d"] for r in rows}):
            for budget in BUDGETS:
                for method in METHODS:
                    sel = [r for r in rows if (r["family"], r["d"], r["budget"], r["method"]) == (fam, d, budget, method)]
                    if not sel:
                        continue
                    out.append(dict(table="summary", family=fam, d=d, budget=budget, method=method,
                                    kept_fraction=float(np.mean([r["weights_kept_hidden"] / r["weights_hidden"] for r in sel])),
                                    sup_error_lower=mean(sel, "sup_error_lower"),
                                    sup_error_chain_upper=mean(sel, "sup_error_chain_upper"),
                                    sup_F=mean(sel, "sup_F_lower"), theory_bound=mean(sel, "theory_bound"),
                                    bound_applies=bool(sel[0]["bound_applies"]),
                                    dX_change_mean=mean(sel, "dX_change_mean"), dX_target_mean=mean(sel, "dX_target_mean"),
                                    label_flip_rate=mean(sel, "label_flip_rate")))
    return out


def short_table(summary: list[dict]) -> str:
    """The summary at the largest d, a few columns (the full tables are in the JSON/CSV)."""
    d = max(r["d"] for r in summary)
    rows = [dict(family=r["family"], budget=r["budget"], method=r["method"],
                 kept=r["kept_fraction"], sup_err_over_sup_F=r["sup_error_lower"] / r["sup_F"],
                 label_flips=r["label_flip_rate"], bound_applies=r["bound_applies"])
            for r in summary if r["d"] == d]
    return f"d = {d} (means over networks; sup error is the ascent's lower estimate)\n" + \
        format_table(rows)


def experiment(config: SideBySideConfig = SideBySideConfig(), *, progress: bool = True,
               context: ExperimentRun | None = None) -> Result:
    """The comparison as one Result (no verdicts), at any ``SideBySideConfig`` (``run`` is the
    registered experiment's entry, through here)."""
    cfg = config.validate()
    context = context or ExperimentRun(MODULE, device=cfg.device, seed=cfg.seed)
    with context:
        rows = sweep(sizes=cfg.sizes, seeds=cfg.nets, io=cfg.io, thetas=cfg.thetas, n_data=cfg.n_data,
                     seed=cfg.seed, device=context.device, starts=cfg.starts, steps=cfg.steps, progress=progress)
        return context.result(config=asdict(cfg), records=rows, tables={"summary": summarise(rows)})


# ----------------------------------------------------------------------------------------------
# the registered experiment: its command line
@dataclass(frozen=True)
class Config:
    """The command line of ``python -m sims.paper004_side_by_side``: a preset (default or
    ``--quick``) and any of its sizes overridden (None: the preset's)."""
    seed: int = option(0, "base seed of the target networks, data and masks", lo=0)
    quick: bool = option(False, "d = 64, one net, 500 inputs, 16 starts x 40 steps")
    nets: int | None = option(None, "target networks per (family, d) (default 3; --quick 1)", lo=1, hi=10_000,
                              optional=True)
    sizes: tuple[int, ...] | None = option(None, "hidden widths d (default 128 256)", lo=2, hi=8192, optional=True)
    io: int | None = option(None, "input and output width d_0 = d_4 (default 10)", lo=2, hi=4096, optional=True)
    thetas: tuple[float, ...] | None = option(None, "spikes of the spiked family, > 0 (default 2 3 4 5)", lo=0.0,
                                              hi=1e6, lo_open=True, optional=True)
    n_data: int | None = option(None, "inputs on the unit sphere for dX and flips (default 2000)", lo=1, hi=10**6,
                                optional=True)
    starts: int | None = option(None, "gradient-ascent starts of the sup over the unit ball (default 48)",
                                lo=1, hi=10_000, optional=True)
    steps: int | None = option(None, "gradient-ascent steps per start (default 120)", lo=1, hi=100_000,
                               optional=True)


def toy_config(tmp_path) -> Config:
    """d = 16, io 4, two spikes, 50 inputs, 2 starts x 2 steps: seconds."""
    return Config(quick=True, sizes=(16,), io=4, thetas=(2.0, 3.0), n_data=50, starts=2, steps=2)


def side_by_side_config(config: Config, device: str = "auto") -> SideBySideConfig:
    """The ``SideBySideConfig`` a command line means (``device``: the torch device's type)."""
    base = SideBySideConfig.quick() if config.quick else SideBySideConfig()
    chosen = {k: getattr(config, k) for k in ("nets", "sizes", "io", "thetas", "n_data", "starts", "steps")
              if getattr(config, k) is not None}
    return replace(base, seed=config.seed, device=device, **chosen)


def run(config: Config = Config(), *, context: ExperimentRun | None = None, progress: bool = True) -> Result:
    """The side-by-side comparison at the sizes ``config`` means; on the command line (a context
    that records an argv) the short summary table is printed before the Result's summary."""
    context = context or ExperimentRun(MODULE, config)
    context.seed = config.seed
    result = experiment(side_by_side_config(config, context.device.type), progress=progress, context=context)
    if context.argv is not None:
        print(short_table(result.tables["summary"]))
    return result


def main(argv=None) -> int:
    from sims.experiment import cli_main
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
