"""theory.pruning_bounds: the gaps a mutation run found (issue 24).  Values computed by hand on
small integer networks (independent of the module), exact where the arithmetic is exact."""
import math

import numpy as np
import pytest

from theory import pruning_bounds as pb

W1 = [[1.0, -2.0], [0.0, 3.0]]
W2 = [[2.0, 0.0], [0.0, 1.0]]
W3 = [[1.0, 1.0]]
S = [[1.0, 1.0], [2.0, 0.0]]  # two inputs: |W1 s| = (1, 3) and (2, 0)


def net3(**kw):
    return pb.Network((W1, W2, W3), **kw)


# --- Network ----------------------------------------------------------------------------------

def test_network_from_plain_lists():
    net = pb.Network([W1, W2])
    assert net.depth == 2 and net.n_inputs == 2 and not net.has_biases
    assert all(isinstance(w, np.ndarray) and w.dtype == np.float64 for w in net.weights)
    assert net.biases == (None, None)
    withb = pb.Network([W1, W2], biases=[None, [1.0, -1.0]])
    assert withb.has_biases and withb.biases[0] is None and withb.biases[1].tolist() == [1.0, -1.0]
    assert pb.Network([W1, W2], biases=[None, None]).has_biases is False


def test_network_refuses_bad_shapes():
    with pytest.raises(ValueError, match="at least one weight matrix"):
        pb.Network([])
    with pytest.raises(ValueError, match="W_2 has 3 columns but W_1 has 2 rows"):
        pb.Network([W1, np.ones((2, 3))])
    with pytest.raises(ValueError, match="W_1 must have 2 dimension"):
        pb.Network([[1.0, 2.0]])
    with pytest.raises(ValueError, match="got 1 biases for 2 layers"):
        pb.Network([W1, W2], biases=[None])
    with pytest.raises(ValueError, match="beta_2 has length 3, W_2 has 2 rows"):
        pb.Network([W1, W2], biases=[None, [1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="beta_1 must have 1 dimension"):
        pb.Network([W1, W2], biases=[[[1.0, 2.0]], None])
    with pytest.raises(ValueError, match="activation"):
        pb.Network([W1], activation="tanh")


def test_forward_and_layer_input_by_hand():
    net = net3()
    # s = (1, 1): |W1 s| = (1, 3); |W2 (1, 3)| = (2, 3); |W3 (2, 3)| = 5
    # s = (2, 0): |W1 s| = (2, 0); (4, 0); 4
    assert net.forward(S).tolist() == [[5.0], [4.0]]
    assert net.forward([1.0, 1.0]).tolist() == [[5.0]]
    assert net.layer_input(S, 1).tolist() == S
    assert net.layer_input(S, 2).tolist() == [[1.0, 3.0], [2.0, 0.0]]
    assert net.layer_input(S, 3).tolist() == [[2.0, 3.0], [4.0, 0.0]]
    # the last activation only with final_activation: W3 (-2, 3) = 1 either way; use a sign flip
    neg = pb.Network((W1, W2, [[-1.0, -1.0]]), final_activation=False)
    assert neg.forward(S).tolist() == [[-5.0], [-4.0]]
    assert pb.Network((W1, W2, [[-1.0, -1.0]])).forward(S).tolist() == [[5.0], [4.0]]
    relu = pb.Network((W1, W2), activation="relu", biases=[[0.0, -1.0], None])
    # W1 s + beta = (-1, 2) -> relu (0, 2) -> W2 -> (0, 2)
    assert relu.forward([1.0, 1.0]).tolist() == [[0.0, 2.0]]
    ident = pb.Network((W1,), activation="identity")
    assert ident.forward([1.0, 1.0]).tolist() == [[-1.0, 3.0]]
    with pytest.raises(ValueError, match="inputs must have 2 features"):
        net.forward([1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="layer index"):
        net.layer_input(S, 4)
    with pytest.raises(ValueError, match="layer index"):
        net.layer_input(S, 0)


def test_with_layer_replaces_exactly_one_layer():
    net = net3(activation="relu", final_activation=False)
    new = net.with_layer(2, [[0.0, 0.0], [0.0, 0.0]])
    assert new.weights[1].tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert new.weights[0] is net.weights[0] and new.weights[2] is net.weights[2]
    assert (new.activation, new.final_activation) == ("relu", False)
    with pytest.raises(ValueError, match=r"replacement for W_2 has shape \(3, 2\), expected \(2, 2\)"):
        net.with_layer(2, np.zeros((3, 2)))


# --- Section 4.1 ------------------------------------------------------------------------------

def test_classification_confidence_and_accuracy():
    X = [[3.0, 1.0, 2.0], [0.0, 5.0, 5.0], [1.0, 0.0, 4.0]]
    assert pb.classification_confidence(X, [0, 1, 0]).tolist() == [1.0, 0.0, -3.0]
    # (4.2) counts delta X > 0 only: a tie (0) is not a correct classification
    assert pb.accuracy([1.0, 0.0, -3.0]) == 1 / 3
    assert pb.accuracy([1.0, 2.0]) == 1.0 and pb.accuracy([0.0]) == 0.0
    with pytest.raises(ValueError, match="empty test set"):
        pb.accuracy([])
    with pytest.raises(ValueError, match="1 dimension"):
        pb.accuracy([[1.0]])
    with pytest.raises(ValueError, match="at least 2 classes"):
        pb.classification_confidence([[1.0]], [0])
    with pytest.raises(ValueError, match="labels must be 2 integers"):
        pb.classification_confidence([[1.0, 2.0], [3.0, 4.0]], [0.0, 1.0])
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        pb.classification_confidence([[1.0, 2.0]], [2])
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        pb.classification_confidence([[1.0, 2.0]], [-1])
    assert pb.classification_confidence([[1.0, 2.0]], [1]).tolist() == [1.0]
    assert pb.classification_confidence(np.zeros((0, 2)), np.zeros(0, dtype=int)).size == 0


# --- norms and truncation ---------------------------------------------------------------------

def test_norms_by_hand_and_dimension_checks():
    assert pb.matrix_l1_norm([[1.0, -2.0], [3.0, 4.0]]) == 6.0  # max column sum (4, 6)
    assert pb.matrix_l1_norm([[1.0, -7.0]]) == 7.0
    assert pb.spectral_norm([[3.0, 0.0], [0.0, -4.0]]) == pytest.approx(4.0, rel=1e-15, abs=0)
    for f in (pb.matrix_l1_norm, pb.spectral_norm):
        with pytest.raises(ValueError, match="W must have 2 dimension"):
            f([1.0, 2.0])


def test_truncation_below_at_and_without_threshold():
    W = np.diag([3.0, 2.0, 1.0])
    Wp, largest = pb.truncate_singular_values(W, 2.0)
    assert np.allclose(Wp, np.diag([3.0, 2.0, 0.0]), rtol=0, atol=1e-14) and largest == pytest.approx(1.0, abs=1e-15)
    Wp, largest = pb.truncate_singular_values(W, 2.0, inclusive=True)
    assert np.allclose(Wp, np.diag([3.0, 0.0, 0.0]), rtol=0, atol=1e-14) and largest == pytest.approx(2.0, abs=1e-15)
    Wp, largest = pb.truncate_singular_values(W, 0.0)
    assert np.allclose(Wp, W, rtol=0, atol=1e-14) and largest == 0.0
    with pytest.raises(ValueError, match="threshold"):
        pb.truncate_singular_values(W, -1.0)
    with pytest.raises(ValueError, match="W must have 2 dimension"):
        pb.truncate_singular_values([1.0, 2.0], 1.0)


# --- Lemma 4.1 --------------------------------------------------------------------------------

def test_g_phi_and_h_phi_by_hand_for_two_inputs():
    net = net3()
    r2 = math.sqrt(2.0)
    # suffix after layer 1: sigma_max(W2) = 2, sigma_max(W3) = sqrt 2; l1 norms 2 and 1
    assert pb.g_phi(net, S, 1) == pytest.approx([r2 * 2 * r2, 2 * 2 * r2], rel=1e-15, abs=0)
    assert pb.h_phi(net, S, 1).tolist() == [2.0 * 2 * 1, 2.0 * 2 * 1]
    # after layer 2: |W1 s| = (1, 3), (2, 0)
    assert pb.g_phi(net, S, 2) == pytest.approx([math.sqrt(10) * r2, 2 * r2], rel=1e-15, abs=0)
    assert pb.h_phi(net, S, 2).tolist() == [4.0, 2.0]
    # last layer: empty suffix product = 1; |W2 |W1 s|| = (2, 3), (4, 0)
    assert pb.g_phi(net, S, 3) == pytest.approx([math.sqrt(13), 4.0], rel=1e-15, abs=0)
    assert pb.h_phi(net, S, 3).tolist() == [5.0, 4.0]


def test_lemma_4_1_bound_and_the_sum_over_pruned_layers():
    net = net3()
    one = pb.lemma_4_1_bound(net, S, 2, 0.5)
    assert one == pytest.approx(math.sqrt(2) * 0.5 * pb.g_phi(net, S, 2), rel=1e-15, abs=0)
    assert pb.lemma_4_1_bound(net, S, 2, 0.0).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="sqrt_lambda_plus"):
        pb.lemma_4_1_bound(net, S, 2, -0.1)
    both = pb.lemma_4_1_bound_all_layers(net, S, {1: 0.25, 2: 0.5})
    assert both.tolist() == (pb.lemma_4_1_bound(net, S, 1, 0.25) + one).tolist()
    assert pb.lemma_4_1_bound_all_layers(net, S, {3: 0.1}).tolist() == pb.lemma_4_1_bound(net, S, 3, 0.1).tolist()
    with pytest.raises(ValueError, match="at least one pruned layer"):
        pb.lemma_4_1_bound_all_layers(net, S, {})


# --- Lemma 4.2, Theorem 4.1, Example 4.2 ------------------------------------------------------

def test_lemma_4_2_constants():
    assert pb.a_N(16) == pytest.approx(2 / 16 ** 0.375 + math.sqrt(2 * math.log(256) / 16), rel=1e-15, abs=0)
    assert pb.a_N(16.0) == pb.a_N(16) and pb.a_N(np.float64(16.0)) == pb.a_N(16)
    assert pb.D_N(16) == pytest.approx(2 * math.exp(-1), rel=1e-15, abs=0)
    assert pb.b_N(2) == 0.0 and pb.a_N(2) > 0
    for f in (pb.a_N, pb.b_N, pb.D_N):
        for bad in (1, 2.5, True, math.inf):
            with pytest.raises(ValueError, match="N"):
                f(bad)


def test_threshold_E_and_E_prime_by_their_formulas():
    net, N = net3(), 100
    a, h2, g2 = pb.a_N(N), pb.h_phi(net, S, 2), pb.g_phi(net, S, 2)
    assert pb.threshold_E(net, S, 2, N).tolist() == (a * h2).tolist()
    for eps in (0.0, 0.1):
        for f_W, t in ((0.3, 0.5), (0.5, 0.3)):  # min{f_W, sqrt(lambda+)} either way
            got = pb.threshold_E_prime(net, S, 2, N, f_W, t, eps)
            ref = (1 + eps) * (math.sqrt(2) * (1 + eps) * 0.3 * g2 + a * h2)
            assert got == pytest.approx(ref, rel=1e-14, abs=0)
    for kw, name in ((dict(f_W=0.0), "f_W"), (dict(sqrt_lambda_plus=0.0), "sqrt_lambda_plus"),
                     (dict(eps=-1e-3), "eps")):
        args = dict(f_W=0.3, sqrt_lambda_plus=0.5, eps=0.1)
        args.update(kw)
        with pytest.raises(ValueError, match=name):
            pb.threshold_E_prime(net, S, 2, N, **args)


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_example_4_2_threshold_for_several_inputs(eps):
    net, N, f_W = net3(), 64, 0.7
    a = pb.a_N(N)
    # ||W1 s||_1 = 4, 2; ||W1 s||_2 = sqrt 10, 2; ||W3||_1 = 1; sigma_max(W3) = sqrt 2
    ref = [(1 + eps) * math.sqrt(2) * (a * 4 * 1 + f_W * math.sqrt(10) * math.sqrt(2)),
           (1 + eps) * math.sqrt(2) * (a * 2 * 1 + f_W * 2 * math.sqrt(2))]
    assert pb.threshold_example_4_2(net, S, N, f_W, eps) == pytest.approx(ref, rel=1e-14, abs=0)
    with pytest.raises(ValueError, match="three layers, got 2"):
        pb.threshold_example_4_2(pb.Network((W1, W2)), S, N, f_W, eps)
    with pytest.raises(ValueError, match="absolute value and no biases"):
        pb.threshold_example_4_2(net3(activation="relu"), S, N, f_W, eps)
    with pytest.raises(ValueError, match="absolute value and no biases"):
        pb.threshold_example_4_2(net3(biases=[None, [0.0, 1.0], None]), S, N, f_W, eps)
    with pytest.raises(ValueError, match="eps"):
        pb.threshold_example_4_2(net, S, N, f_W, -0.1)


# --- Theorem 4.2 ------------------------------------------------------------------------------

def test_good_set_is_strict():
    assert pb.good_set([0.5, 1.0, 1.5], 1.0).tolist() == [False, False, True]
    assert pb.good_set([0.5, 1.0], -1.0).tolist() == [True, True]
    with pytest.raises(ValueError, match="eta"):
        pb.good_set([1.0], math.nan)


def test_eacc_map_from_plain_lists_and_its_steps():
    F = pb.EaccMap([1.0, 2.0, 3.0], [0.9, 0.5, 0.4], 0.1)
    assert isinstance(F.dX, np.ndarray) and F.dX.dtype == np.float64
    # F(eta) = max{t_s : dX_s > eta}, empty -> 0.1
    assert F([0.0, 1.0, 1.5, 2.0, 3.0, 10.0]).tolist() == [0.9, 0.5, 0.5, 0.4, 0.1, 0.1]
    assert F.pieces() == [(-math.inf, 1.0, 0.9), (1.0, 2.0, 0.5), (2.0, 3.0, 0.4), (3.0, math.inf, 0.1)]
    # 0.9 lies in the first piece (-inf, 1), where F = 0.9: an exact fixed point, and E_acc
    assert pb.e_acc(F) == 0.9 and pb.e_acc_exact_fixed_point(F) == 0.9
    # F = 1.5 on (-inf, 1), 0.5 on [1, 2), 0.1 after: F jumps over the diagonal at 1, no exact fixed
    # point (Remark 4.11); the smallest E >= 0 with F(E) <= E is 1
    G = pb.EaccMap([1.0, 2.0], [1.5, 0.5], 0.1)
    assert pb.e_acc(G) == 1.0 and pb.e_acc_exact_fixed_point(G) is None
    # F = 1 on (-inf, 1) and 0 from 1 on: F(1) = 0, so 1 is not a fixed point (pieces are half-open)
    K = pb.EaccMap([1.0], [1.0], 0.0)
    assert pb.e_acc_exact_fixed_point(K) is None and pb.e_acc(K) == 1.0
    H = pb.EaccMap([1.0, 2.0], [0.5, 0.5], 0.0)  # F = 0.5 on (-inf, 2): exact fixed point 0.5
    assert pb.e_acc(H) == 0.5 and pb.e_acc_exact_fixed_point(H) == 0.5
    empty_first = pb.EaccMap([-1.0], [0.0], 0.0)  # F = 0 on [-1, inf): E = 0
    assert pb.e_acc(empty_first) == 0.0 and pb.e_acc_exact_fixed_point(empty_first) == 0.0


def test_eacc_map_refuses_bad_input():
    with pytest.raises(ValueError, match="dX has 2 entries but thresholds has 1"):
        pb.EaccMap([1.0, 2.0], [0.5])
    with pytest.raises(ValueError, match="thresholds must be >= empty_value"):
        pb.EaccMap([1.0], [0.05], 0.1)
    assert pb.EaccMap([1.0], [0.1], 0.1)(0.0).tolist() == [0.1]  # equal is allowed
    with pytest.raises(ValueError, match="dX must have 1 dimension"):
        pb.EaccMap([[1.0]], [0.5])


def test_e_acc_map_slope_by_hand():
    net, N, f_W, eps = net3(), 64, 0.7, 0.1
    dX = [3.0, 1.0]
    F = pb.e_acc_map(net, S, dX, N, f_W, eps)
    slope = (1 + eps) * math.sqrt(2) * (f_W * math.sqrt(2) + pb.a_N(N) * 1.0)
    assert F.thresholds == pytest.approx([slope * 4, slope * 2], rel=1e-14, abs=0)
    assert F.empty_value == 0.0
    with pytest.raises(ValueError, match="dX has 3 entries for 2 inputs"):
        pb.e_acc_map(net, S, [1.0, 2.0, 3.0], N, f_W, eps)
    with pytest.raises(ValueError, match="non-empty test set"):
        pb.e_acc_map(net, S, [], N, f_W, eps)
    with pytest.raises(ValueError, match="three weight layers, got 2"):
        pb.e_acc_map(pb.Network((W1, W2)), S, dX, N, f_W, eps)
    G = pb.e_acc_map_from_theorem_4_1(net, S, dX, N, f_W, 0.5, eps)
    assert G.thresholds.tolist() == pb.threshold_E_prime(net, S, 2, N, f_W, 0.5, eps).tolist()
    with pytest.raises(ValueError, match="dX has 1 entries for 2 inputs"):
        pb.e_acc_map_from_theorem_4_1(net, S, [1.0], N, f_W, 0.5, eps)


def test_accuracy_bound_is_the_strict_good_set_share():
    assert pb.accuracy_bound([0.5, 1.0, 2.0, 3.0], 1.0) == 0.5
    with pytest.raises(ValueError, match="empty test set"):
        pb.accuracy_bound([], 1.0)


def test_accuracy_bound_probability_at_both_ends_of_C():
    assert pb.accuracy_bound_probability(0.25, 3) == {"paper_product": 0.421875, "union_bound": 0.25}
    assert pb.accuracy_bound_probability(0.25, 5)["union_bound"] == 0.0  # clipped, not -0.25
    assert pb.accuracy_bound_probability(0.0, 4) == {"paper_product": 1.0, "union_bound": 1.0}
    assert pb.accuracy_bound_probability(1.0, 2) == {"paper_product": 0.0, "union_bound": 0.0}
    assert pb.accuracy_bound_probability(0.3, 0) == {"paper_product": 1.0, "union_bound": 1.0}
    for C in (-0.1, 1.1):
        with pytest.raises(ValueError, match=r"C must be in \[0.0, 1.0\]"):
            pb.accuracy_bound_probability(C, 3)
    with pytest.raises(ValueError, match="good_set_size"):
        pb.accuracy_bound_probability(0.1, -1)


# --- second mutation run (the full run of theory/pruning_bounds.py) ---------------------------
# Messages are matched from their start ("^f_W must"): a bare match="f_W" also matches a mutant
# that passes the name "XXf_WXX" or drops it, so the parameter named in the error was never pinned.

def _a(N):
    return 2 / N ** 0.375 + math.sqrt(2 * math.log(N * N) / N)


@pytest.mark.parametrize("call, message", [
    (lambda: pb.threshold_example_4_2(net3(), S, 64, 0.0, 0.1), r"^f_W must be in \(0\.0, "),
    (lambda: pb.threshold_example_4_2(net3(), S, 64, 0.7, -0.1), r"^eps must be in \[0\.0, "),
    (lambda: pb.e_acc_map(net3(), S, [3.0, 1.0], 64, 0.0, 0.1), r"^f_W must be in \(0\.0, "),
    (lambda: pb.e_acc_map(net3(), S, [3.0, 1.0], 64, 0.7, -0.1), r"^eps must be in \[0\.0, "),
    (lambda: pb.e_acc_map(net3(), S, [[3.0, 1.0]], 64, 0.7, 0.1), r"^dX must have 1 dimension"),
    (lambda: pb.e_acc_map_from_theorem_4_1(net3(), S, [[3.0, 1.0]], 64, 0.7, 0.5, 0.1),
     r"^dX must have 1 dimension"),
    (lambda: pb.accuracy_bound_probability(0.1, -1), r"^good_set_size must be an integer"),
    (lambda: pb.accuracy([[1.0, 2.0]]), r"^dX must have 1 dimension"),
    (lambda: pb.accuracy([1.0, math.nan]), r"^dX must "),
    (lambda: pb.good_set([[0.5, 2.0]], 1.0), r"^dX must have 1 dimension"),
    (lambda: pb.accuracy_bound([[0.5, 2.0]], 1.0), r"^dX must have 1 dimension"),
    (lambda: pb.good_set([1.0], math.nan), r"^eta must be a finite real number"),
    (lambda: pb.EaccMap([1.0, 2.0], [[0.5, 0.6]]), r"^thresholds must have 1 dimension"),
    (lambda: pb.EaccMap([1.0], [math.nan]), r"^thresholds must "),
    (lambda: pb.EaccMap([1.0], [0.5], math.nan), r"^empty_value must be a finite real number"),
    (lambda: pb.threshold_E_prime(net3(), S, 2, 100, 0.3, 0.0, 0.1), r"^sqrt_lambda_plus must be in \(0\.0, "),
    (lambda: pb.threshold_E_prime(net3(), S, 2, 100, 0.0, 0.5, 0.1), r"^f_W must be in \(0\.0, "),
    (lambda: pb.threshold_E_prime(net3(), S, 2, 100, 0.3, 0.5, -0.1), r"^eps must be in \[0\.0, "),
    (lambda: pb.a_N(1), r"^N must be an integer"),
])
def test_errors_name_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_e_acc_map_accepts_eps_zero():
    # eps = 0 is allowed (eps >= 0 in Theorem 4.2): t_s = sqrt 2 (f_W sigma_max(W3) + a(N) ||W3||_1) ||W1 s||_1
    F = pb.e_acc_map(net3(), S, [3.0, 1.0], 64, 0.7, 0.0)
    slope = math.sqrt(2) * (0.7 * math.sqrt(2) + _a(64) * 1.0)
    assert F.thresholds == pytest.approx([slope * 4, slope * 2], rel=1e-14, abs=0)


def test_e_acc_is_never_negative():
    # EaccMap accepts a negative empty value (only t_s >= empty_value is required); F = -0.5
    # everywhere, and E_acc is the smallest E >= 0 with F(E) <= E: 0, not -0.5
    F = pb.EaccMap([1.0], [-0.5], -0.5)
    assert pb.e_acc(F) == 0.0
    assert pb.e_acc_exact_fixed_point(F) is None  # F(E) = -0.5 != E for every E >= 0


def test_eacc_map_stores_the_validated_empty_value():
    # the dataclass keeps what __post_init__ checked: a Python float, not the int passed in
    F = pb.EaccMap([1.0], [0.5], 0)
    assert type(F.empty_value) is float and F.empty_value == 0.0


# --- third mutation run: the refusals' own words, from their start (case included) ------------

@pytest.mark.parametrize("call, message", [
    (lambda: pb.accuracy([]), r"^accuracy of an empty test set is undefined$"),
    (lambda: pb.accuracy_bound([], 1.0), r"^empty test set$"),
    (lambda: pb.lemma_4_1_bound_all_layers(net3(), S, {}), r"^thresholds must name at least one pruned layer$"),
    (lambda: pb.threshold_example_4_2(net3(activation="relu"), S, 64, 0.7, 0.1),
     r"^Example 4\.2 is stated for the absolute value and no biases$"),
    (lambda: pb.e_acc_map(net3(), S, [], 64, 0.7, 0.1), r"^Theorem 4\.2 needs a non-empty test set$"),
])
def test_refusals_say_what_is_wrong_in_their_own_words(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_with_layer_checks_the_replacement_by_its_name():
    net = net3()
    with pytest.raises(ValueError, match=r"^replacement matrix must have 2 dimension"):
        net.with_layer(2, np.zeros((2, 2, 1)))
    with pytest.raises(ValueError, match=r"^replacement matrix must "):
        net.with_layer(2, [[1.0, math.nan], [0.0, 0.0]])
    # the expected shape is the replaced layer's own (W_3: 1 x 2), not a neighbour's
    with pytest.raises(ValueError, match=r"^replacement for W_3 has shape \(2, 2\), expected \(1, 2\)$"):
        net.with_layer(3, np.zeros((2, 2)))


# --- fourth mutation run (pruning_bounds in full): non-square layers, so that rows and columns,
# a layer and its neighbour, cannot stand in for each other -----------------------------------
W1N = [[1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]  # 3 x 2: three outputs, two inputs
W2N = [[1.0, 1.0, -1.0]]                      # 1 x 3


def test_non_square_network_by_hand():
    net = pb.Network((W1N, W2N))
    assert (net.depth, net.n_inputs) == (2, 2)
    # s = (1, 2): W1 s = (1, -2, 3) -> |.| = (1, 2, 3) -> W2 = 1 + 2 - 3 = 0; s = (2, -1): (2, 1, 1) -> 2
    assert net.forward([[1.0, 2.0], [2.0, -1.0]]).tolist() == [[0.0], [2.0]]
    assert net.layer_input([[1.0, 2.0]], 2).tolist() == [[1.0, 2.0, 3.0]]
    with pytest.raises(ValueError, match=r"^s: inputs must have 2 features, got shape \(3,\)$"):
        net.forward([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^W_2 has 2 columns but W_1 has 3 rows$"):
        pb.Network((W1N, np.ones((1, 2))))
    with pytest.raises(ValueError, match=r"^beta_1 has length 2, W_1 has 3 rows$"):
        pb.Network((W1N, W2N), biases=[[1.0, 2.0], None])
    # biases on a non-square layer: W1 s + beta = (1, -2, 3) + (0, 1, -4) = (1, -1, -1) -> (1, 1, 1)
    withb = pb.Network((W1N, W2N), biases=[[0.0, 1.0, -4.0], None])
    assert withb.layer_input([[1.0, 2.0]], 2).tolist() == [[1.0, 1.0, 1.0]]
    assert withb.forward([[1.0, 2.0]]).tolist() == [[1.0]]


def test_inputs_are_one_or_two_dimensional():
    net = pb.Network((W1N, W2N))
    with pytest.raises(ValueError, match=r"^s must have 1 or 2 dimension"):
        net.forward(np.zeros((1, 1, 2)))
    with pytest.raises(ValueError, match=r"^s must have 1 or 2 dimension"):
        net.layer_input(np.zeros((1, 1, 2)), 1)
    with pytest.raises(ValueError, match=r"^s must "):
        net.forward([1.0, math.inf])


def test_the_activation_follows_every_layer_but_the_last_one():
    # final_activation=False: lambda after layers 1 and 2, not after 3.  s = (1, 1): |W1 s| = (1, 3);
    # W2 (1, 3) = (-1, 3) -> |.| = (1, 3); W3 (1, 3) = 4 (without the middle lambda it would be 2)
    net = pb.Network((W1, [[-1.0, 0.0], [0.0, 1.0]], W3), final_activation=False)
    assert net.forward([1.0, 1.0]).tolist() == [[4.0]]
    assert net.layer_input([1.0, 1.0], 3).tolist() == [[1.0, 3.0]]


def test_network_refusals_name_the_parameter():
    with pytest.raises(ValueError, match=r"^a network needs at least one weight matrix$"):
        pb.Network(())
    with pytest.raises(ValueError, match=r"^activation must be one of \('abs', 'identity', 'relu'\), got 'tanh'$"):
        pb.Network([W1], activation="tanh")
    with pytest.raises(ValueError, match=r"^b \(layer index\) must be an integer in \[1, 3\]"):
        net3().layer_input(S, 4)
    with pytest.raises(ValueError, match=r"^b \(layer index\) must be an integer in \[1, 3\]"):
        pb.g_phi(net3(), S, 0)
    with pytest.raises(ValueError, match=r"^W_2 must have 2 dimension"):
        pb.Network([W1, [1.0, 2.0]])
    with pytest.raises(ValueError, match=r"^threshold must be in \[0\.0, "):
        pb.truncate_singular_values(np.eye(2), -1.0)
    with pytest.raises(ValueError, match=r"^sqrt_lambda_plus must be in \[0\.0, "):
        pb.lemma_4_1_bound(net3(), S, 2, -0.1)
    with pytest.raises(ValueError, match=r"^W must have 2 dimension"):
        pb.spectral_norm([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^X must have 2 dimension"):
        pb.classification_confidence([1.0, 2.0], [0])


def test_classification_confidence_labels_of_the_wrong_length():
    X = [[3.0, 1.0], [0.0, 5.0]]
    with pytest.raises(ValueError, match=r"^labels must be 2 integers, got \(3,\) int"):
        pb.classification_confidence(X, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"^labels must be 2 integers, got \(1,\) int"):
        pb.classification_confidence(X, np.array([0]))
    # a non-square X: 1 row, 3 classes; rows and columns cannot stand in for each other
    with pytest.raises(ValueError, match=r"^labels must be 1 integers, got \(2,\) int"):
        pb.classification_confidence([[1.0, 4.0, 2.0]], np.array([0, 1]))
    assert pb.classification_confidence([[1.0, 4.0, 2.0]], [1]).tolist() == [2.0]
    assert pb.classification_confidence([[1.0, 4.0, 2.0], [0.0, 0.0, 1.0]], [2, 2]).tolist() == [-2.0, 1.0]


def test_truncation_of_a_non_square_matrix():
    W = np.array([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # 2 x 3, singular values 3 and 1
    Wp, largest = pb.truncate_singular_values(W, 2.0)
    assert Wp.shape == (2, 3) and largest == pytest.approx(1.0, rel=1e-15, abs=0)
    assert np.allclose(Wp, [[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]], rtol=0, atol=1e-14)
    Wp, largest = pb.truncate_singular_values(W.T, 1.0, inclusive=True)  # 3 x 2
    assert Wp.shape == (3, 2) and largest == pytest.approx(1.0, rel=1e-15, abs=0)
    assert np.allclose(Wp, [[3.0, 0.0], [0.0, 0.0], [0.0, 0.0]], rtol=0, atol=1e-14)
    assert pb.spectral_norm(W) == pytest.approx(3.0, rel=1e-15, abs=0)
