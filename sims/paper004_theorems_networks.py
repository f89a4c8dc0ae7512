"""The networks of ``sims.paper004_theorems`` (paper 004, Theorems 1-2): depth-4 targets of width d,
their pruned copies (magnitude, random with and without replacement, through ``nets.baselines``), and
the two sides of sup over the unit ball of |f(x) - F(x)|: a lower bound by projected gradient ascent
and the layer-by-layer chain upper bound.
"""
from __future__ import annotations

import torch
from torch import nn

from nets import baselines
from sims.qian_klabjan import spectral_norm
from sims.device import trial_generator
from sims.noise import sample_noise

METHODS = ("magnitude", "random_with_replacement", "random_without_replacement")
WEIGHTS = ("uniform", "gaussian")
DEPTH = 4


def widths(d: int, io: int, depth: int = DEPTH) -> list[int]:
    if d < io:
        raise ValueError(f"assumption (ii) needs d >= d_0, d_l; got d={d}, io={io}")
    return [io] + [d] * (depth - 1) + [io]


def sample_target(d: int, io: int, weights: str, seed: int, trial: int, device: torch.device,
                  depth: int = DEPTH) -> list[torch.Tensor]:
    """Weight matrices W_1..W_l (W_k is d_k x d_{k-1}) with entry variance 1/max(d_k, d_{k-1})."""
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
    gen = trial_generator(seed, trial, device)
    w = widths(d, io, depth)
    out = []
    for k in range(1, len(w)):
        rows, cols = w[k], w[k - 1]
        var = 1.0 / max(rows, cols)
        # sample_noise draws entries of variance var_scale / n_rows.
        out.append(sample_noise(weights, 1, rows, cols, var * rows, gen, device, torch.float64)[0])
    return out


def forward(ws: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """eq. (1) on a batch x (b, d_0): ReLU after every layer but the last."""
    h = x
    for w in ws[:-1]:
        h = torch.relu(h @ w.T)
    return h @ ws[-1].T


def n_pruned(rows: int, cols: int, alpha: float) -> int:
    """floor(D^(1-alpha)) with D = rows * cols (Theorems 1 and 2), as nets.baselines counts it."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    return baselines.count_to_prune(rows * cols, alpha=alpha)


def as_model(ws: list[torch.Tensor]) -> nn.Sequential:
    """The network of eq. (1) as Linear layers without bias and ReLU between them."""
    layers = []
    for i, w in enumerate(ws):
        lin = nn.Linear(w.shape[1], w.shape[0], bias=False, dtype=w.dtype, device=w.device)
        with torch.no_grad():
            lin.weight.copy_(w)
        layers.append(lin)
        if i < len(ws) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def prune_network(ws: list[torch.Tensor], method: str, alpha: float, seed: int) -> list[torch.Tensor]:
    """Prune each hidden layer (1 < k < l) with ``nets.baselines`` (first and last layers are kept)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    model = as_model(ws)
    if method == "magnitude":
        baselines.magnitude_prune(model, alpha=alpha)
    else:
        baselines.random_prune(model, alpha=alpha, replacement=method == "random_with_replacement", seed=seed)
    return [m.weight.detach().clone() for _, m in baselines.weight_layers(model)]


def sup_ball_error(ws_f, ws_F, starts: int = 64, steps: int = 150, lr: float = 0.05, seed: int = 0) -> float:
    """Lower estimate of sup_{||x||<=1} ||f(x) - F(x)||_2 by projected gradient ascent.

    Normalised-gradient steps on the sphere from ``starts`` random points plus the top right singular
    vectors of W_1; every iterate is a feasible point, so the best value seen is a lower bound."""
    d0 = ws_F[0].shape[1]
    dev, dt = ws_F[0].device, ws_F[0].dtype
    g = torch.Generator(device="cpu").manual_seed(seed)
    x0 = torch.randn(starts, d0, generator=g, dtype=dt).to(dev)
    _, _, vh = torch.linalg.svd(ws_F[0], full_matrices=False)
    x0 = torch.cat([x0, vh[: min(8, vh.shape[0])], -vh[: min(8, vh.shape[0])]])
    x = (x0 / x0.norm(dim=1, keepdim=True)).requires_grad_(True)
    best = 0.0
    for step in range(steps):
        err = (forward(ws_f, x) - forward(ws_F, x)).norm(dim=1)
        best = max(best, float(err.detach().max()))
        (grad,) = torch.autograd.grad(err.sum(), x)
        with torch.no_grad():
            step_size = lr * (1 - step / steps)
            x += step_size * grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-30)
            x /= x.norm(dim=1, keepdim=True)
    with torch.no_grad():
        best = max(best, float((forward(ws_f, x) - forward(ws_F, x)).norm(dim=1).max()))
    return best


def chain_bound(ws_f, ws_F) -> float:
    """Upper bound on the sup over the unit ball: the proof's recursion (21)-(22) with measured norms.

    e_1 = 0, n_1 = ||W_1||;  e_{k+1} = ||W_{k+1}|| e_k + ||W_{k+1} - W*_{k+1}|| n_k,  n_{k+1} = ||W*_{k+1}|| n_k;
    sup ||f - F|| <= ||W_l|| e_{l-1}  (L = 1).  Uses ||W_{k+1}|| directly instead of ||W*|| + ||Delta||."""
    op = spectral_norm
    e, n = 0.0, op(ws_F[0])
    for wf, wF in zip(ws_f[1:-1], ws_F[1:-1]):
        e = op(wf) * e + op(wf - wF) * n
        n = op(wF) * n
    return op(ws_F[-1]) * e
