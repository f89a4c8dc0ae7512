"""Lemma 4.1 of paper 000 (Section 4.2), checked exactly on random networks (part 1. of
``sims.pruning_theorem``): the bound (4.4) on every input, the bias-free form (4.5) of Remark 4.1,
a hand-built network where (4.4) holds with equality (sqrt 2 is sharp), and every layer pruned at
once as Algorithm 1 does (the sum of the single-layer bounds is the valid bound).
"""
from __future__ import annotations

import math

import numpy as np

from core import protocol as P
from core.result import Verdict
from sims.pruning_theorem_common import LEMMA_4_1, REMARK_4_1, TOL, fallback, trial_rng
from theory import pruning_bounds as pb


def random_network(rng: np.random.Generator) -> tuple[pb.Network, int, float, bool]:
    depth = int(rng.integers(1, 5))
    widths = [int(rng.integers(2, 31)) for _ in range(depth)] + [int(rng.integers(2, 7))]
    widths = widths[: depth + 1]
    widths[-1] = int(rng.integers(2, 7))  # number of classes
    scale = float(rng.uniform(0.5, 3.0))
    weights = [scale * rng.standard_normal((widths[i + 1], widths[i])) / np.sqrt(widths[i])
               for i in range(depth)]
    biases = None
    if rng.random() < 0.5:
        biases = [rng.standard_normal(w.shape[0]) * float(rng.uniform(0, 2)) for w in weights]
    act = "abs" if rng.random() < 0.5 else "relu"
    net = pb.Network(tuple(weights), biases, act, bool(rng.random() < 0.5))
    b = int(rng.integers(1, depth + 1))
    sv = np.linalg.svd(net.weights[b - 1], compute_uv=False)
    at_value = bool(rng.random() < 0.25)
    if at_value:  # threshold equal to a singular value, removed too (inclusive, as in (B.4))
        tau = float(sv[int(rng.integers(0, sv.size))])
    else:
        tau = float(rng.uniform(0, 1.05) * sv[0])
    return net, b, tau, at_value


def lemma_4_1_check(n_networks: int, n_inputs: int, seed: int) -> dict:
    ratios, violations, configs = [], 0, []
    no_sqrt2_violations = 0
    no_bias = dict(pairs=0, violations=0, ratios=[])   # Remark 4.1's form (4.5)
    for i in range(n_networks):
        rng = trial_rng(seed, 41, i)
        net, b, tau, at_value = random_network(rng)
        Wp, removed = pb.truncate_singular_values(net.weights[b - 1], tau, inclusive=at_value)
        pruned = net.with_layer(b, Wp)
        s = rng.standard_normal((n_inputs, net.n_inputs)) * float(rng.uniform(0.1, 3))
        K = net.weights[-1].shape[0]
        labels = rng.integers(0, K, n_inputs)
        actual = np.abs(pb.classification_confidence(net.forward(s), labels)
                        - pb.classification_confidence(pruned.forward(s), labels))
        bound = pb.lemma_4_1_bound(net, s, b, tau)
        violations += int(np.sum(actual > bound * (1 + TOL) + 1e-12))
        no_sqrt2_violations += int(np.sum(actual > bound / math.sqrt(2) * (1 + TOL) + 1e-12))
        nz = actual > 1e-12
        ratios.extend((bound[nz] / actual[nz]).tolist())
        if not net.has_biases:
            no_bias["pairs"] += n_inputs
            no_bias["violations"] += int(np.sum(actual > bound * (1 + TOL) + 1e-12))
            no_bias["ratios"].extend((bound[nz] / actual[nz]).tolist())
        configs.append(dict(depth=net.depth, b=b, activation=net.activation,
                            biases=net.has_biases, final=net.final_activation))
    ratios = np.asarray(ratios)
    return dict(n_networks=n_networks, n_pairs=n_networks * n_inputs, violations=violations,
                without_sqrt2_violations=no_sqrt2_violations, ratios=ratios,
                ratio_quantiles={q: float(np.quantile(ratios, q)) for q in (0.0, 0.1, 0.5, 0.9)},
                activations=sorted({c["activation"] for c in configs}),
                depths=sorted({c["depth"] for c in configs}),
                no_bias_networks=sum(not c["biases"] for c in configs),
                no_bias_pairs=no_bias["pairs"], no_bias_violations=no_bias["violations"],
                no_bias_median_ratio=float(np.median(no_bias["ratios"])) if no_bias["ratios"]
                else None)


def sharp_example(a: float = 3.0, c: float = 1.0, beta: float = 5.0) -> dict:
    """A one-layer abs network with biases where (4.4) holds with equality, so the constant
    sqrt(2) cannot be lowered: W = a P_s + c d d^T (s = (1,1)/sqrt 2, d = (1,-1)/sqrt 2),
    bias (beta, beta), input d.  Pruning the singular value c (tau = c) moves X_1 down and X_2 up
    by c / sqrt 2 each (the bias keeps both positive), so delta X drops by sqrt(2) c ||d||."""
    u = np.array([1.0, 1.0]) / math.sqrt(2)
    d = np.array([1.0, -1.0]) / math.sqrt(2)
    W = a * np.outer(u, u) + c * np.outer(d, d)
    net = pb.Network((W,), (np.array([beta, beta]),), "abs")
    Wp, removed = pb.truncate_singular_values(W, c * (1 + 1e-9))  # removes c, keeps a
    x, labels = d[None, :], np.array([0])
    actual = abs(pb.classification_confidence(net.forward(x), labels)[0]
                 - pb.classification_confidence(net.with_layer(1, Wp).forward(x), labels)[0])
    bound = float(pb.lemma_4_1_bound(net, x, 1, removed)[0])
    return dict(actual=float(actual), bound=bound, ratio=bound / float(actual))


_INSTANCES = ("random instances (a deterministic inequality for every network and input: any instance "
              "can refute it; widths 4-24, depths in the setting)")
DECLARATIONS = {
    # Lemma 4.1 (4.4), paper 000 Sec. 4.2: |dX(W) - dX(W')| <= bound for every input.
    "lemma_4_1": P.declare(LEMMA_4_1, "violations of (4.4) over (network, input) pairs", "bound",
                           scale=_INSTANCES, family="000:lemma:4.1 random networks"),
    # Remark 4.1 (4.5): the bias-free form.
    "remark_4_1": P.declare(REMARK_4_1, "violations of (4.5) over the bias-free pairs", "bound", scale=_INSTANCES),
    # sqrt 2 in (4.4) is sharp: a hand-built network attains bound/actual = 1 (float slack 1e-9);
    # below 1 would violate the lemma itself.
    "lemma_4_1_sharpness": P.declare(LEMMA_4_1, "bound/actual on the hand-built 2 x 2 example, against 1",
                                     "bound", scale="one exact example", family="000:lemma:4.1 sharpness"),
    # Algorithm 1 prunes every layer at once: the sum of the single-layer bounds must hold.
    "lemma_4_1_all_layers": P.declare(LEMMA_4_1, "violations of the sum of (4.4) over the pruned layers",
                                      "bound", scale=_INSTANCES, family="000:lemma:4.1 all layers at once"),
}


def sharpness_decision(ratio: float) -> "P.Decision":
    """(4.4) is sharp when the hand-built example attains it (bound/actual = 1 up to float error);
    bound/actual < 1 would be a violation of Lemma 4.1 itself (fails); above 1 the example does not
    show sharpness (inconclusive)."""
    decl = DECLARATIONS["lemma_4_1_sharpness"]
    below = P.bound(decl, ratio, 1 - 1e-9, side=">=")
    if below.word == "fails":
        return below
    at = P.bound(decl, ratio, 1 + 1e-9)
    return at if at.word == "holds" else fallback(decl, f"bound/actual = {ratio:.6g} > 1: not attained")


def simultaneous_pruning_check(n_networks: int, n_inputs: int, seed: int) -> dict:
    """Algorithm 1 prunes every layer at once.  Compare the change with the largest single-layer
    bound (the lemma read naively) and with the sum of the single-layer bounds (valid)."""
    naive_fail, sum_fail, pairs = 0, 0, 0
    worst, worst_sum = 0.0, 0.0
    for i in range(n_networks):
        rng = trial_rng(seed, 42, i)
        depth = int(rng.integers(2, 5))
        widths = [int(rng.integers(4, 25)) for _ in range(depth)] + [int(rng.integers(2, 5))]
        weights = [2.0 * rng.standard_normal((widths[j + 1], widths[j])) / np.sqrt(widths[j])
                   for j in range(depth)]
        net = pb.Network(tuple(weights), activation="abs")
        thresholds, pruned = {}, net
        for b in range(1, depth + 1):
            sv = np.linalg.svd(net.weights[b - 1], compute_uv=False)
            tau = float(rng.uniform(0.3, 1.0) * sv[0])
            Wp, _ = pb.truncate_singular_values(net.weights[b - 1], tau)
            pruned = pruned.with_layer(b, Wp)
            thresholds[b] = tau
        s = rng.standard_normal((n_inputs, net.n_inputs))
        labels = rng.integers(0, widths[-1], n_inputs)
        actual = np.abs(pb.classification_confidence(net.forward(s), labels)
                        - pb.classification_confidence(pruned.forward(s), labels))
        single = np.max([pb.lemma_4_1_bound(net, s, b, t) for b, t in thresholds.items()], axis=0)
        total = pb.lemma_4_1_bound_all_layers(net, s, thresholds)
        naive_fail += int(np.sum(actual > single * (1 + TOL)))
        sum_fail += int(np.sum(actual > total * (1 + TOL)))
        worst = max(worst, float(np.max(actual / single)))
        worst_sum = max(worst_sum, float(np.max(actual / total)))
        pairs += n_inputs
    return dict(pairs=pairs, naive_violations=naive_fail, sum_violations=sum_fail,
                worst_actual_over_naive=worst, worst_actual_over_sum=worst_sum)


def lemma_4_1_verdicts(l41: dict, sharp: dict, sim: dict) -> list[Verdict]:
    """Lemma 4.1 (4.4), Remark 4.1 (4.5), the sharpness of sqrt 2, and all layers at once (paper 000
    Sec. 4.2), through ``DECLARATIONS``."""
    q = l41["ratio_quantiles"]
    d = DECLARATIONS
    no_bias = (P.bound(d["remark_4_1"], l41["no_bias_violations"], 0) if l41["no_bias_pairs"] else
               P.withheld(d["remark_4_1"], "no bias-free network among the random networks"))
    return [
        P.verdict(d["lemma_4_1"], P.bound(d["lemma_4_1"], l41["violations"], 0),
                  setting=f"{l41['n_networks']} random networks, depths "
                  f"{l41['depths']}, {'/'.join(l41['activations'])}, biases on/off, final "
                  "activation on/off", measured=q[0.5], bound=1.0,
                  interval=[q[0.0], q[0.9]],
                  note=f"{l41['violations']} violations in {l41['n_pairs']} pairs; measured = median "
                       "bound/actual (interval: min and 90% quantile); without the factor sqrt 2: "
                       f"{l41['without_sqrt2_violations']} violations",
                  extra=dict(check="lemma_4_1", quantiles={str(k): v for k, v in q.items()},
                             violations=l41["violations"], pairs=l41["n_pairs"],
                             without_sqrt2_violations=l41["without_sqrt2_violations"])),
        P.verdict(d["remark_4_1"], no_bias, setting=f"(4.5), zero biases: the {l41['no_bias_networks']} "
                  "bias-free networks of the Lemma 4.1 check", measured=l41["no_bias_median_ratio"],
                  bound=1.0,
                  note=f"{l41['no_bias_violations']} violations of (4.5) in {l41['no_bias_pairs']} "
                       "pairs; measured = median bound/actual (the 'worst case' is far from typical)",
                  extra=dict(check="remark_4_1", violations=l41["no_bias_violations"],
                             pairs=l41["no_bias_pairs"])),
        P.verdict(d["lemma_4_1_sharpness"], sharpness_decision(sharp["ratio"]),
                  setting="sharpness of sqrt 2 in (4.4): 1 layer, 2x2, abs, biases, "
                  "pruning the (e1-e2) direction", measured=sharp["ratio"], bound=1.0,
                  note="bound/actual = 1: the constant sqrt(2) cannot be lowered",
                  extra=dict(sharp, check="lemma_4_1_sharpness")),
        P.verdict(d["lemma_4_1_all_layers"], P.bound(d["lemma_4_1_all_layers"], sim["sum_violations"], 0),
                  setting="every layer pruned at once (Algorithm 1), sum of the "
                  "single-layer bounds", measured=sim["worst_actual_over_sum"], bound=1.0,
                  note=f"measured = max actual / sum of (4.4) over the pruned layers "
                       f"({sim['sum_violations']} violations in {sim['pairs']} pairs). Lemma 4.1 is "
                       f"single-layer: the largest single-layer bound alone is exceeded in "
                       f"{sim['naive_violations']} pairs (max ratio "
                       f"{sim['worst_actual_over_naive']:.3g})",
                  extra=dict(sim, check="lemma_4_1_all_layers")),
    ]
