"""Bounds of the Pruning Theorems, paper 000 (Berlyand et al. 2024) Section 4, in numpy.

Networks
--------
A :class:`Network` is a list of weight matrices ``W_1, ..., W_L`` acting on column vectors
(``W_l`` has shape ``(n_out, n_in)``, the paper's ``W_l s``; for the random layer this is the
paper's ``N x M`` with ``N`` = rows = outputs, and Assumption 4.1's variance ``1/N``), optional
bias vectors ``beta_l`` (the paper's ``(W + beta) s := W s + beta``), and one activation
``lambda`` applied after every layer, *including the last one*, as in (4.22) and (4.28):
``X(s) = lambda(W_L ... lambda(W_1 s + beta_1) ... + beta_L)``.  ``final_activation=False`` drops
the last ``lambda`` (the usual classifier head; the E.4 network of the pipeline).  Activations:
``abs`` (the paper's), ``relu`` and ``identity``; all are 1-Lipschitz, which is all Lemma 4.1's
proof uses.  Layers are numbered from 1 as in the paper (``b`` is the pruned layer).

What the proofs give (derivations; the measured verdicts are in ``results/pruning_theorem.json``,
written by ``python -m sims.pruning_theorem``):

* Lemma 4.1 (4.4): its proof (E.1) only uses ``||W_b - W'_b||_2 <= sqrt(lambda+)`` and that the
  activation is 1-Lipschitz, so it covers every activation here, with or without biases and final
  activation; the constant sqrt(2) is attained (``tests/test_pruning_bounds.py``).  It bounds
  pruning *one* layer; when several layers are pruned at once (Algorithm 1) the sum of the
  single-layer bounds (:func:`lemma_4_1_bound_all_layers`) follows by the triangle inequality.
* Lemma 4.2's proof step (C.13), ``||R z||_1 <= max_ij |R_ij| ||z||_1``, does not follow: the
  valid factor is the max column sum ``||R||_1`` (about ``sqrt(2N/pi)`` for iid N(0, 1/N)
  entries); a matrix with equal entries is a counterexample.
* Remark 4.11's existence argument for a fixed point of (4.29) uses continuity that the step
  function on the right-hand side does not have; an exact fixed point can fail to exist.  The
  proof of Theorem 4.2 only needs ``E >= F(E)``; :func:`e_acc` returns the smallest such E.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.validate import InvalidArgument, check_choice, check_float, check_int, check_real_array
from theory._selfcheck import check_row

ACTIVATIONS = {
    "abs": np.abs,
    "relu": lambda x: np.maximum(x, 0.0),
    "identity": lambda x: x,
}


def _finite_array(x, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Real, finite float array (complex refused, not cast) with the allowed dimensions."""
    return check_real_array(name, x, ndim=ndim)


def _positive_scalar(x, name: str, allow_zero: bool = False) -> float:
    return check_float(name, x, 0.0, None, lo_open=not allow_zero)


@dataclass(frozen=True)
class Network:
    """A fully connected network as in (4.22): weights ``W_l`` of shape (n_out, n_in), biases
    (``None`` or one vector per layer, each may be ``None``), activation name, and whether the
    activation is also applied after the last layer (the paper's convention: True)."""

    weights: tuple
    biases: tuple | None = None
    activation: str = "abs"
    final_activation: bool = True

    def __post_init__(self):
        check_choice("activation", self.activation, sorted(ACTIVATIONS))
        ws = tuple(_finite_array(w, f"W_{i + 1}", 2) for i, w in enumerate(self.weights))
        if not ws:
            raise ValueError("a network needs at least one weight matrix")
        for i in range(1, len(ws)):
            if ws[i].shape[1] != ws[i - 1].shape[0]:
                raise InvalidArgument(f"W_{i + 1} has {ws[i].shape[1]} columns but W_{i} has "
                                 f"{ws[i - 1].shape[0]} rows")
        if self.biases is None:
            bs = (None,) * len(ws)
        else:
            if len(self.biases) != len(ws):
                raise ValueError(f"got {len(self.biases)} biases for {len(ws)} layers")
            bs = []
            for i, (w, beta) in enumerate(zip(ws, self.biases)):
                if beta is None:
                    bs.append(None)
                    continue
                beta = _finite_array(beta, f"beta_{i + 1}", 1)
                if beta.shape[0] != w.shape[0]:
                    raise ValueError(f"beta_{i + 1} has length {beta.shape[0]}, W_{i + 1} has "
                                     f"{w.shape[0]} rows")
                bs.append(beta)
            bs = tuple(bs)
        object.__setattr__(self, "weights", ws)
        object.__setattr__(self, "biases", bs)

    @property
    def depth(self) -> int:
        return len(self.weights)

    @property
    def n_inputs(self) -> int:
        return self.weights[0].shape[1]

    @property
    def has_biases(self) -> bool:
        return any(beta is not None for beta in self.biases)

    def _check_layer(self, b: int) -> int:
        return check_int("b (layer index)", b, 1, self.depth)

    def _inputs(self, s) -> np.ndarray:
        s = _finite_array(s, "s", (1, 2))
        s2 = np.atleast_2d(s)
        if s2.shape[1] != self.n_inputs:
            raise InvalidArgument(f"s: inputs must have {self.n_inputs} features, got shape {s.shape}")
        return s2

    def with_layer(self, b: int, W) -> "Network":
        """The same network with ``W_b`` replaced (pruned ``W'_b``, or ``S_b`` of Lemma 4.2)."""
        b = self._check_layer(b)
        W = _finite_array(W, "replacement matrix", 2)
        if W.shape != self.weights[b - 1].shape:
            raise ValueError(f"replacement for W_{b} has shape {W.shape}, expected "
                             f"{self.weights[b - 1].shape}")
        ws = list(self.weights)
        ws[b - 1] = W
        return Network(tuple(ws), self.biases, self.activation, self.final_activation)

    def layer_input(self, s, b: int) -> np.ndarray:
        """``lambda(W_{b-1} ... lambda(W_1 s + beta_1) ... + beta_{b-1})``, the input of layer b,
        one row per input (b = 1 gives the inputs themselves)."""
        b = self._check_layer(b)
        z = self._inputs(s)
        act = ACTIVATIONS[self.activation]
        for W, beta in zip(self.weights[: b - 1], self.biases[: b - 1]):
            z = z @ W.T
            if beta is not None:
                z = z + beta
            z = act(z)
        return z

    def forward(self, s) -> np.ndarray:
        """The output X(s) before softmax, shape (n_inputs, n_classes)."""
        act = ACTIVATIONS[self.activation]
        z = self._inputs(s)
        for i, (W, beta) in enumerate(zip(self.weights, self.biases)):
            z = z @ W.T
            if beta is not None:
                z = z + beta
            if i < self.depth - 1 or self.final_activation:
                z = act(z)
        return z


# ---------------------------------------------------------------------------------------------
# Section 4.1
# ---------------------------------------------------------------------------------------------
def classification_confidence(X, labels) -> np.ndarray:
    """(4.1): ``delta X(s) = X_{i(s)}(s) - max_{j != i(s)} X_j(s)``, one value per row of X."""
    X = _finite_array(X, "X", 2)
    labels = np.asarray(labels)
    if X.shape[1] < 2:
        raise ValueError(f"classification confidence needs at least 2 classes, got {X.shape[1]}")
    if labels.shape != (X.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be {X.shape[0]} integers, got {labels.shape} {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= X.shape[1]):
        raise ValueError(f"labels must lie in 0..{X.shape[1] - 1}")
    rows = np.arange(X.shape[0])
    own = X[rows, labels]
    others = X.copy()
    others[rows, labels] = -np.inf
    return own - others.max(axis=1)


def accuracy(dX) -> float:
    """(4.2): the fraction of inputs with ``delta X > 0``."""
    dX = _finite_array(dX, "dX", 1)
    if dX.size == 0:
        raise ValueError("accuracy of an empty test set is undefined")
    return float(np.mean(dX > 0))


# ---------------------------------------------------------------------------------------------
# Norms and pruning
# ---------------------------------------------------------------------------------------------
def matrix_l1_norm(W) -> float:
    """The matrix norm of (4.12): the maximum absolute column sum ``max_j sum_i |w_ij|``
    (the operator norm of W on l1)."""
    W = _finite_array(W, "W", 2)
    return float(np.abs(W).sum(axis=0).max())


def spectral_norm(W) -> float:
    """``sigma_max(W)``, the operator norm on l2."""
    W = _finite_array(W, "W", 2)
    return float(np.linalg.norm(W, 2))


def truncate_singular_values(W, threshold: float, inclusive: bool = False):
    """``W'``: W with singular values below ``threshold`` set to zero (Lemma 4.1: "removing
    singular values smaller than sqrt(lambda+)"); ``inclusive=True`` also removes those equal to
    it, as in (B.4) with ``threshold = sqrt(lambda+) + eps``.

    Returns ``(W', largest_removed)``, where ``largest_removed = ||W - W'||_2`` (0 if none)."""
    W = _finite_array(W, "W", 2)
    threshold = _positive_scalar(threshold, "threshold", allow_zero=True)
    U, sv, Vt = np.linalg.svd(W, full_matrices=False)
    removed = sv <= threshold if inclusive else sv < threshold
    kept = np.where(removed, 0.0, sv)
    largest_removed = float(sv[removed].max()) if removed.any() else 0.0
    return (U * kept) @ Vt, largest_removed


# ---------------------------------------------------------------------------------------------
# Lemma 4.1 and the functions (4.11), (4.12)
# ---------------------------------------------------------------------------------------------
def _suffix_product(net: Network, b: int, norm) -> float:
    return float(np.prod([norm(W) for W in net.weights[b:]])) if b < net.depth else 1.0


def g_phi(net: Network, s, b: int) -> np.ndarray:
    """(4.11): ``g_phi(s, b) = ||lambda W_{b-1} ... lambda W_1 s||_2 sigma_max(W_{b+1}) ...
    sigma_max(W_L)``, one value per input.  The prefix uses the network's biases when it has
    them, which is the factor of the Lemma 4.1 bound (4.4); without biases it is (4.11)."""
    b = net._check_layer(b)
    z = net.layer_input(s, b)
    return np.linalg.norm(z, axis=1) * _suffix_product(net, b, spectral_norm)


def h_phi(net: Network, s, b: int) -> np.ndarray:
    """(4.12): ``h_phi(s, b) = ||lambda W_{b-1} ... lambda W_1 s||_1 ||W_{b+1}||_1 ... ||W_L||_1``
    with the max-column-sum matrix norm (:func:`matrix_l1_norm`)."""
    b = net._check_layer(b)
    z = net.layer_input(s, b)
    return np.abs(z).sum(axis=1) * _suffix_product(net, b, matrix_l1_norm)


def lemma_4_1_bound(net: Network, s, b: int, sqrt_lambda_plus: float) -> np.ndarray:
    """(4.4) (with biases) / (4.5) (without): ``Delta(delta X) <= sqrt(2 lambda+)
    ||lambda (W_{b-1} + beta_{b-1}) ... lambda (W_1 + beta_1) s||_2 sigma_max(W_{b+1}) ...
    sigma_max(W_L)`` when ``W'_b`` removes singular values of ``W_b`` below ``sqrt(lambda+)``.

    ``sqrt_lambda_plus`` is the threshold on the singular values of ``W_b`` itself (for a layer
    with unnormalised entries that is ``sqrt(lambda+ N)`` of Algorithm 3, not ``sqrt(lambda+)``
    of ``X = W^T W / N``).  Any number >= ``||W_b - W'_b||_2`` may be passed; the proof (E.1)-(E.6)
    only uses ``||W_b - W'_b||_2 <= sqrt(lambda+)`` and that lambda is 1-Lipschitz."""
    t = _positive_scalar(sqrt_lambda_plus, "sqrt_lambda_plus", allow_zero=True)
    return math.sqrt(2.0) * t * g_phi(net, s, b)


def lemma_4_1_bound_all_layers(net: Network, s, thresholds: dict) -> np.ndarray:
    """Corollary of Lemma 4.1 for pruning several layers at once (Algorithm 1 prunes every layer
    at a pruning event; the lemma covers one): the sum over pruned layers b of the single-layer
    bound (4.4) on the *unpruned* network.  Valid because pruning from the last pruned layer down
    to the first keeps every prefix unpruned, truncation does not raise sigma_max of the suffix,
    and the changes add by the triangle inequality.  ``thresholds`` maps b -> threshold of b."""
    if not thresholds:
        raise ValueError("thresholds must name at least one pruned layer")
    total = 0.0
    for b, t in thresholds.items():
        total = total + lemma_4_1_bound(net, s, b, t)
    return total


# ---------------------------------------------------------------------------------------------
# Lemma 4.2 and Theorem 4.1
# ---------------------------------------------------------------------------------------------
def _check_N(N) -> float:
    """N >= 2, an integer (an integral float such as 100.0 is accepted: N enters as a real)."""
    if isinstance(N, (float, np.floating)) and math.isfinite(N) and N == int(N):
        N = int(N)
    return float(check_int("N", N, 2, None))


def a_N(N) -> float:
    """Lemma 4.2: ``a(N) = 2 / N^{1.5/4} + sqrt(2 log N^2 / N)`` for R_b iid N(0, 1/N)."""
    N = _check_N(N)
    return 2.0 / N ** (1.5 / 4) + math.sqrt(2.0 * math.log(N**2) / N)


def b_N(N) -> float:
    """Lemma 4.2: ``b(N) = 0`` for R_b iid N(0, 1/N)."""
    _check_N(N)
    return 0.0


def D_N(N) -> float:
    """Lemma 4.2: ``D(N) = 2 exp(-N^{1/4} / 2)``, the claimed failure probability in (4.14)."""
    N = _check_N(N)
    return 2.0 * math.exp(-N**0.25 / 2.0)


def threshold_E(net: Network, s, b: int, N) -> np.ndarray:
    """(4.13): ``E = a(N) h_phi(s, b) + b(N)``."""
    return a_N(N) * h_phi(net, s, b) + b_N(N)


def threshold_E_prime(net: Network, s, b: int, N, f_W: float, sqrt_lambda_plus: float,
                      eps: float) -> np.ndarray:
    """(4.18): ``E' = (1 + eps) (sqrt(2) (1 + eps) min{f_{W_b}, sqrt(lambda+)} g_phi(s, b)
    + a(N) h_phi(s, b) + b(N))``."""
    f_W = _positive_scalar(f_W, "f_W")
    t = _positive_scalar(sqrt_lambda_plus, "sqrt_lambda_plus")
    eps = _positive_scalar(eps, "eps", allow_zero=True)
    return (1 + eps) * (math.sqrt(2.0) * (1 + eps) * min(f_W, t) * g_phi(net, s, b)
                        + a_N(N) * h_phi(net, s, b) + b_N(N))


def threshold_example_4_2(net: Network, s, N, f_W: float, eps: float) -> np.ndarray:
    """(4.23), Example 4.2 (three layers, W_2 = S_2 + R_2 pruned): ``(1 + eps) sqrt(2)
    (a(N) ||W_1 s||_1 ||W_3||_1 + f_{W_2} ||W_1 s||_2 sigma_max(W_3) + b(N))``.

    As printed, (4.23) uses ``||W_1 s||`` where (4.11)/(4.12) use ``||lambda W_1 s||``; for the
    absolute value both norms coincide, which this function requires."""
    if net.depth != 3:
        raise ValueError(f"Example 4.2 has three layers, got {net.depth}")
    if net.activation != "abs" or net.has_biases:
        raise ValueError("Example 4.2 is stated for the absolute value and no biases")
    f_W = _positive_scalar(f_W, "f_W")
    eps = _positive_scalar(eps, "eps", allow_zero=True)
    z = net.layer_input(s, 2)
    W3 = net.weights[2]
    return (1 + eps) * math.sqrt(2.0) * (a_N(N) * np.abs(z).sum(axis=1) * matrix_l1_norm(W3)
                                         + f_W * np.linalg.norm(z, axis=1) * spectral_norm(W3)
                                         + b_N(N))


# ---------------------------------------------------------------------------------------------
# Theorem 4.2
# ---------------------------------------------------------------------------------------------
def good_set(dX, eta: float) -> np.ndarray:
    """(4.26): ``G_eta = {s in T' : delta X(s) > eta}``, as a boolean mask over the test set."""
    dX = _finite_array(dX, "dX", 1)
    eta = check_float("eta", eta)
    return dX > eta


@dataclass(frozen=True)
class EaccMap:
    """The right-hand side of (4.29) as a function of eta, ``F(eta) = max_{s in G_eta} t_s`` with
    per-input thresholds ``t_s`` and ``F = empty_value`` (= b(N)) when G_eta is empty
    (Remark 4.11: "for large enough eta ... = 0").

    For (4.29), ``t_s = (1 + eps) sqrt(2) (f_{W_2} sigma_max(W_3) + a(N) ||W_3||_1) ||W_1 s||_1
    + b(N)`` (:func:`e_acc_map`).  F is non-increasing and right-continuous in eta, constant
    between consecutive values of dX."""

    dX: np.ndarray
    thresholds: np.ndarray
    empty_value: float = 0.0

    def __post_init__(self):
        dX = _finite_array(self.dX, "dX", 1)
        t = _finite_array(self.thresholds, "thresholds", 1)
        if dX.shape != t.shape:
            raise ValueError(f"dX has {dX.size} entries but thresholds has {t.size}")
        empty = check_float("empty_value", self.empty_value)
        if t.size and t.min() < empty:
            # t_s = (...) ||W_1 s|| + b(N) >= b(N) = empty_value: with a smaller t_s, F would jump up
            # when G_eta empties, F would not be non-increasing, and e_acc's characterisation (the
            # smallest post-fixed point is the exact fixed point when one exists) would not hold
            raise InvalidArgument(f"thresholds must be >= empty_value = {empty} (t_s includes b(N)), "
                                  f"got min {t.min()!r}")
        object.__setattr__(self, "dX", dX)
        object.__setattr__(self, "thresholds", t)
        object.__setattr__(self, "empty_value", empty)

    def __call__(self, eta) -> np.ndarray:
        eta = np.atleast_1d(np.asarray(eta, dtype=float))
        inside = self.dX[None, :] > eta[:, None]
        best = np.where(inside, self.thresholds[None, :], -np.inf).max(axis=1)
        return np.where(np.isfinite(best), best, self.empty_value)

    def pieces(self) -> list[tuple[float, float, float]]:
        """``(lo, hi, value)``: F equals ``value`` on ``[lo, hi)`` (lo = -inf first)."""
        levels = np.unique(self.dX)
        edges = np.concatenate([[-np.inf], levels, [np.inf]])
        return [(float(lo), float(hi), float(self(lo if np.isfinite(lo) else levels[0] - 1.0)[0]))
                for lo, hi in zip(edges[:-1], edges[1:])]


def _three_layer_check(net: Network, dX) -> np.ndarray:
    if net.depth != 3:
        raise ValueError(f"Theorem 4.2 is stated for three weight layers, got {net.depth}")
    dX = _finite_array(dX, "dX", 1)
    if dX.size == 0:
        raise ValueError("Theorem 4.2 needs a non-empty test set")
    return dX


def e_acc_map(net: Network, s, dX, N, f_W: float, eps: float) -> EaccMap:
    """F of (4.29) for the three-layer network (4.28) (W_2 = S_2 + R_2 the pruned layer), test
    inputs s and their confidences dX under the unpruned network:
    ``t_s = (1 + eps) sqrt(2) (f_{W_2} sigma_max(W_3) + a(N) ||W_3||_1) ||W_1 s||_1 + b(N)``."""
    dX = _three_layer_check(net, dX)
    f_W = _positive_scalar(f_W, "f_W")
    eps = _positive_scalar(eps, "eps", allow_zero=True)
    w1s = np.abs(net._inputs(s) @ net.weights[0].T).sum(axis=1)
    if w1s.shape != dX.shape:
        raise ValueError(f"dX has {dX.size} entries for {w1s.size} inputs")
    W3 = net.weights[2]
    slope = (1 + eps) * math.sqrt(2.0) * (f_W * spectral_norm(W3) + a_N(N) * matrix_l1_norm(W3))
    return EaccMap(dX, slope * w1s + b_N(N), b_N(N))


def e_acc_map_from_theorem_4_1(net: Network, s, dX, N, f_W: float, sqrt_lambda_plus: float,
                               eps: float) -> EaccMap:
    """Variant of (4.29) with Theorem 4.1's own per-input threshold ``t_s = E'(s)`` of (4.18).

    (4.29) replaces ``g_phi = ||lambda W_1 s||_2 sigma_max(W_3)`` by ``||W_1 s||_1 sigma_max(W_3)``,
    a factor up to sqrt(width) larger; the proof (C.25)-(C.28) goes through with E'(s), since it
    only needs every s in G_{E_acc} to satisfy the condition of (4.19)."""
    dX = _three_layer_check(net, dX)
    t = threshold_E_prime(net, s, 2, N, f_W, sqrt_lambda_plus, eps)
    if t.shape != dX.shape:
        raise ValueError(f"dX has {dX.size} entries for {t.size} inputs")
    return EaccMap(dX, t, b_N(N))


def e_acc_exact_fixed_point(F: EaccMap) -> float | None:
    """The smallest ``E >= 0`` with ``E = F(E)`` exactly, as (4.29) and Remark 4.11 ask, or None
    when there is none (possible: F is a non-increasing step function and can jump over the
    diagonal, so Remark 4.11's intermediate-value argument does not apply)."""
    for lo, hi, value in F.pieces():
        if value >= 0 and lo <= value < hi:
            return float(value)
    return None


def e_acc(F: EaccMap) -> float:
    """E_acc of (4.29), corrected: the smallest ``E >= 0`` with ``F(E) <= E``.

    This set is ``[E*, inf)`` (F is non-increasing, so it is closed upwards; F is right-continuous,
    so the infimum belongs to it), and the proof (C.25)-(C.28) only uses ``E_acc >= F(E_acc)``:
    every s in G_{E_acc} then has ``delta X(s) > E_acc >= E'(s)``.  When (4.29) has an exact
    fixed point this is it (an exact fixed point satisfies F(E) <= E, and below E* none does)."""
    for lo, hi, value in F.pieces():
        start = max(lo, value, 0.0)
        if start < hi:
            return float(start)
    raise AssertionError("unreachable: F is constant = b(N) on the last piece")


def accuracy_bound(dX, E_acc: float) -> float:
    """(4.27): ``|G_{E_acc}| / |T'|``, the accuracy after pruning that (4.30) guarantees."""
    mask = good_set(dX, E_acc)
    if mask.size == 0:
        raise ValueError("empty test set")
    return float(mask.mean())


def accuracy_bound_probability(C: float, good_set_size: int) -> dict:
    """(4.30)'s right-hand side ``(1 - C)^{|G|}`` and the union bound ``1 - |G| C``.

    The product form treats the events {delta X(s, W') >= 0}, s in G, as independent; they all
    depend on the same R_2, so (C.28) needs the union bound, which is what holds in general."""
    C = check_float("C", C, 0.0, 1.0)
    good_set_size = check_int("good_set_size", good_set_size, 0, None)
    return {"paper_product": (1 - C) ** good_set_size,
            "union_bound": max(0.0, 1 - good_set_size * C)}


# ---------------------------------------------------------------------------------------------
def self_check() -> list[dict]:
    """Hand-computed values (independent of the functions above)."""
    rows = []

    def row(*args, **kwargs):
        rows.append(check_row(*args, **kwargs))

    # W1 = [[1, -2], [0, 3]], W2 = [[2, 0], [0, 1]], s = (1, 1): lambda W1 s = (|-1|, |3|) = (1, 3)
    net = Network(([[1.0, -2.0], [0.0, 3.0]], [[2.0, 0.0], [0.0, 1.0]]))
    row("g_phi(s, 2) = ||(1, 3)||_2", g_phi(net, [1.0, 1.0], 2)[0], math.sqrt(10))
    row("h_phi(s, 1) = ||s||_1 ||W2||_1 = 2 * 2", h_phi(net, [1.0, 1.0], 1)[0], 4.0)
    row("a(16) = 2/16^0.375 + sqrt(4 log 16 / 16)", a_N(16), 2 / 2**1.5 + math.sqrt(math.log(16) / 4))
    row("D(16) = 2 exp(-1)", D_N(16), 2 * math.exp(-1))
    return rows
