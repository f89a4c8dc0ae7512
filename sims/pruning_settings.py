"""Networks on which ``sims.pruning_theorem`` checks Lemma 4.2 and Theorems 4.1 / 4.2 of paper 000.

Every setting is a three-layer absolute-value network (4.22)/(4.28) ``X = |W_3 |W_2 |W_1 s|||``
(no biases) whose middle layer is ``W_2 = S_2 + R_2``: S_2 deterministic of rank r with distinct
singular values above the threshold (Assumption 4.2, theta > 1 for square R), R_2 iid N(0, 1/N)
(Assumption 4.1), drawn fresh per trial by the caller.  Layer matrices act on column vectors and
are (n_out, n_in); W_2 is N x N, so ``sqrt(lambda+) = 2``.

* ``random``: standard initialisation everywhere (W_1 entries N(0, 1/n_in), W_3 entries
  N(0, 1/N)), S_2 with random singular vectors, Gaussian inputs, random labels (two classes).
* ``aligned``: a "trained-looking" network: S_2 = sum_k theta_k u_k v_k^T with u_k = v_k the
  normalised indicator of block k of the hidden units, W_1 = identity, the readout rows are the
  u_k, and input s of class k is v_k plus small noise.  Classes are well separated (delta X of
  order theta), so the conditions of the theorems are met.
* ``pooling``: the counterexample to Lemma 4.2.  S_2 = theta e_1 e_1^T, W_1 = identity, input
  s = e_1 of class 0; the readout of class 0 averages hidden units 2..N (whose activations
  |(R_2 s)_i| carry only noise), that of class 1 reads unit 1 with weight kappa.  Under S_2,
  delta X = -kappa theta < 0; under W_2, delta X ~ sqrt(2/pi) - kappa theta > 0 for every N,
  while E = a(N) h_phi -> 0 (h_phi stays bounded, as Remark 4.5 assumes).
* ``example_4_2``: Example 4.2 / Fig. 4.3: S_2 = diag(30, 40, 50, 60, 70, 0, ...), random W_1,
  readout W_3 = [I_5 0] (five classes read off the five spike coordinates), Gaussian inputs
  labelled by the noiseless network.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from theory.pruning_bounds import Network, classification_confidence

SETTINGS = ("random", "aligned", "pooling")


@dataclass
class SpikedSetting:
    name: str
    net_S: Network            # the network with W_2 = S_2 (the "ultimate pruning" of Lemma 4.2)
    theta: np.ndarray         # singular values of S_2
    inputs: np.ndarray        # (n_inputs, n_in)
    labels: np.ndarray        # i(s)
    b: int = 2
    info: dict = field(default_factory=dict)

    @property
    def S(self) -> np.ndarray:
        return self.net_S.weights[self.b - 1]

    @property
    def N(self) -> int:
        return self.S.shape[0]

    def with_noise(self, R: np.ndarray) -> Network:
        return self.net_S.with_layer(self.b, self.S + R)


def _orthonormal(rng: np.random.Generator, n: int, r: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, r)))
    return q


def random_setting(N: int, rng: np.random.Generator, n_in: int = 16, n_classes: int = 2,
                   n_inputs: int = 50, theta=(3.0, 4.0, 5.0)) -> SpikedSetting:
    theta = np.asarray(theta, dtype=float)
    U, V = _orthonormal(rng, N, theta.size), _orthonormal(rng, N, theta.size)
    S = (U * theta) @ V.T
    W1 = rng.standard_normal((N, n_in)) / np.sqrt(n_in)
    W3 = rng.standard_normal((n_classes, N)) / np.sqrt(N)
    inputs = rng.standard_normal((n_inputs, n_in))
    labels = rng.integers(0, n_classes, n_inputs)
    return SpikedSetting("random", Network((W1, S, W3)), theta, inputs, labels)


def aligned_setting(N: int, rng: np.random.Generator, n_inputs: int = 50,
                    theta=(3.0, 3.5), input_noise: float = 0.05) -> SpikedSetting:
    theta = np.asarray(theta, dtype=float)
    K = theta.size
    block = N // K
    if block < 2:
        raise ValueError(f"N={N} too small for {K} blocks")
    U = np.zeros((N, K))
    for k in range(K):
        U[k * block:(k + 1) * block, k] = 1.0 / np.sqrt(block)
    S = (U * theta) @ U.T
    labels = rng.integers(0, K, n_inputs)
    # noise of total norm ~ input_noise, spread over all N coordinates
    inputs = U[:, labels].T + input_noise * rng.standard_normal((n_inputs, N)) / np.sqrt(N)
    return SpikedSetting("aligned", Network((np.eye(N), S, U.T.copy())), theta, inputs, labels,
                         info={"block": block})


def pooling_setting(N: int, theta: float = 3.0, kappa: float = 0.1) -> SpikedSetting:
    S = np.zeros((N, N))
    S[0, 0] = theta
    W3 = np.zeros((2, N))
    W3[0, 1:] = 1.0 / np.sqrt(N - 1)
    W3[1, 0] = kappa
    inputs = np.zeros((1, N))
    inputs[0, 0] = 1.0
    return SpikedSetting("pooling", Network((np.eye(N), S, W3)), np.array([theta]), inputs,
                         np.array([0]), info={"kappa": kappa,
                                              "dX_S": -kappa * theta,
                                              "dX_W_limit": float(np.sqrt(2 / np.pi)) - kappa * theta})


def example_4_2_setting(N: int, rng: np.random.Generator, n_in: int = 16, n_inputs: int = 200,
                        theta=(30.0, 40.0, 50.0, 60.0, 70.0)) -> SpikedSetting:
    theta = np.asarray(theta, dtype=float)
    r = theta.size
    S = np.zeros((N, N))
    S[np.arange(r), np.arange(r)] = theta
    W1 = rng.standard_normal((N, n_in)) / np.sqrt(n_in)
    W3 = np.zeros((r, N))
    W3[np.arange(r), np.arange(r)] = 1.0
    net_S = Network((W1, S, W3))
    inputs = rng.standard_normal((n_inputs, n_in))
    labels = np.argmax(net_S.forward(inputs), axis=1)
    return SpikedSetting("example_4_2", net_S, theta, inputs, labels)


def build(name: str, N: int, rng: np.random.Generator, **kwargs) -> SpikedSetting:
    if name == "random":
        return random_setting(N, rng, **kwargs)
    if name == "aligned":
        return aligned_setting(N, rng, **kwargs)
    if name == "pooling":
        return pooling_setting(N, **kwargs)
    if name == "example_4_2":
        return example_4_2_setting(N, rng, **kwargs)
    raise ValueError(f"unknown setting {name!r}; choose one of {SETTINGS + ('example_4_2',)}")


def confidences(net: Network, setting: SpikedSetting) -> np.ndarray:
    return classification_confidence(net.forward(setting.inputs), setting.labels)
