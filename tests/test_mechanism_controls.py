"""The mechanism controls of nets.controls (issue 23 item 3) and the promise that they leave
Algorithm 1 itself as it was.

* Algorithm 1's arm (``ex3.2a``, default variant) equals, bit for bit, a run whose callback is the
  bare ``nets.algorithms.algorithm1_round`` with f(epoch) of (3.6) at every l-th epoch;
* (a) ``hidden_only``: the output layer is untouched, the hidden layers get exactly Algorithm 1's
  events and weights on the same state;
* (b) ``random_output_projection``: the output layer has MP's rank and parameter count, is W
  projected onto an r-dimensional subspace of R^in, and that subspace is not the top-r right
  singular subspace;
* (c) ``revive_dead_outputs``: a planted dead row is re-drawn N(0, 1/N) with bias 0, every other
  parameter is untouched, no layer is factorised;
* each control's "unpruned" arm is ex3.2a's unpruned arm, and a control run resumed from its
  checkpoint equals the uninterrupted run.

Toy scale (widths / 50, 300 toy Fashion-MNIST images, 8 or 15 epochs): the numbers mean nothing,
the mechanics are checked. The only random assertions are stated with their false-alarm
probability (a principal angle, a chi-square bound).
"""
from __future__ import annotations

import copy
import math

import pytest
import torch
from scipy import stats
from torch import nn

from nets.configs import get_config
from nets.controls import (
    ReviveEvent,
    control_generator,
    dead_output_units,
    haar_orthonormal,
    never_predicted_units,
    output_layer_name,
    revive_dead_outputs_round,
)
from nets.layers import FACTORIZED_TYPES, count_parameters, weight_matrix
from nets.models import FullyConnectedNet
from nets.algorithms import MPPruningCallback, algorithm1_round, prunable_layers, random_output_projection_round
from nets.schedules import resolve_schedule
from nets.train import Run, load_data_for, train_runs
from tests.planted import spiked_matrix

SEED = 3
TIMING = ("train_time_s", "callback_time_s", "cpu_time_s")
ALWAYS = 1.0  # the MP fit statistic is a sup of cdf differences, <= 1: tau = 1 accepts every fit


def toy(name: str = "ex3.2a", epochs: int = 8):
    cfg = get_config(name, "cpu", width_divisor=50, n_train=300, n_test=300)
    cfg.epochs = epochs  # one pruning round (every 7) at 8 epochs, two (recombination) at 15
    return cfg


@pytest.fixture(scope="module")
def data():
    return load_data_for(toy(), seed=SEED)


def _metrics(run):
    return [{k: v for k, v in m.items() if k not in TIMING} for m in run.metrics]


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)


def _arms(cfg, data, **kw):
    runs = train_runs(cfg, seed=SEED, side_by_side=True, data=data, progress=False, **kw)
    return {r.label: r for r in runs}


@pytest.fixture(scope="module")
def trained_state(data):
    """The toy ex3.2a net after 7 epochs without pruning: the state Algorithm 1's first round sees."""
    cfg = toy(epochs=7)
    run = train_runs(cfg, seed=SEED, prune=False, data=data, progress=False)[0]
    return cfg, run.model


def _callback(cfg, variant, **extra):
    p = {k: v for k, v in cfg.pruning.items() if k not in ("schedule", "schedule_horizon", "variant")}
    return MPPruningCallback(schedule=cfg.pruning["schedule"], variant=variant, **p, **extra)


# -- Algorithm 1 itself -------------------------------------------------------------------------

class BareAlgorithm1:
    """Algorithm 1 as the paper writes it, without MPPruningCallback: every l = 7 epochs a round
    with f = (3.6) at that epoch, recombination from the second round on (step 1, steps 21-27)."""

    def __init__(self, pruning):
        self.p, self.f = pruning, resolve_schedule(pruning["schedule"])

    def on_epoch_end(self, model, epoch):
        if epoch % self.p["every"]:
            return []
        return algorithm1_round(model, float(self.f(epoch)), self.p["tau"], alpha=self.p["alpha"],
                                beta=self.p["beta"], recombine_first=epoch > self.p["every"])


def test_algorithm1_arm_equals_the_bare_algorithm1_round_bit_for_bit(data):
    cfg = toy(epochs=15)  # two rounds: the second recombines and re-splits
    pruned = _arms(cfg, data)["pruned"]
    bare = Run(cfg, data, seed=SEED, callbacks=[BareAlgorithm1(cfg.pruning)], label="pruned", progress=False)
    for _ in range(cfg.epochs):
        bare.train_epoch()
    assert _same_weights(pruned.model, bare.model)
    mine, ref = _metrics(pruned), _metrics(bare)
    for m in mine + ref:  # the callback stamps epoch/variant/model counts on its events; compare decisions
        m["events"] = [{k: v for k, v in e.items() if k not in ("epoch", "variant", "model_params_before",
                                                               "model_params_after")} for e in m["events"]]
    assert mine == ref
    actions = [e["action"] for m in mine for e in m["events"]]
    assert "recombined" in actions and "split" in actions  # both paths of the round were exercised


# -- (a) hidden layers only ---------------------------------------------------------------------

def test_hidden_only_leaves_the_output_layer_and_matches_algorithm1_elsewhere(trained_state):
    cfg, model = trained_state
    control, mp = copy.deepcopy(model), copy.deepcopy(model)
    out = output_layer_name(model)
    assert out == f"layers.fc{len(cfg.model['topology']) - 1}"
    ev_control = _callback(cfg, "hidden_only").on_epoch_end(control, 7)
    ev_mp = _callback(cfg, "algorithm1").on_epoch_end(mp, 7)
    # the output layer: untouched by the control, pruned by Algorithm 1 (else the test means nothing)
    assert torch.equal(control.get_submodule(out).weight, model.get_submodule(out).weight)
    assert torch.equal(control.get_submodule(out).bias, model.get_submodule(out).bias)
    mp_out = [e for e in ev_mp if e.layer == out]
    assert mp_out and mp_out[0].rank_after < mp_out[0].rank_before
    assert all(e.layer != out for e in ev_control)
    # the hidden layers: Algorithm 1's events and weights on the same state
    strip = lambda e: {k: v for k, v in e.to_dict().items() if k not in ("variant", "model_params_before",
                                                                         "model_params_after")}
    assert [strip(e) for e in ev_control] == [strip(e) for e in ev_mp if e.layer != out]
    assert all(e.variant == "hidden_only" for e in ev_control)
    assert any(e.rank_after < e.rank_before for e in ev_control)  # hidden layers are pruned
    for name in prunable_layers(mp):
        if name != out:
            assert _same_weights(control.get_submodule(name), mp.get_submodule(name))


def test_hidden_only_run_never_touches_the_output_layer(data):
    arms = _arms(toy("ex3.2a-hidden-only", epochs=15), data)
    pruned = arms["pruned"]
    out = output_layer_name(pruned.model)
    events = [e for m in pruned.metrics for e in m["events"]]
    assert events and all(e["layer"] != out for e in events)
    assert type(pruned.model.get_submodule(out)) is nn.Linear
    assert all(r == 0.0 for m in pruned.metrics if m["events"] for r in m["output_rows_removed"])
    assert pruned.metrics[-1]["parameters"] < pruned.initial_parameters


# -- (b) random projection of the output layer ----------------------------------------------------

def _row_projector(matrix: torch.Tensor, rank: int) -> torch.Tensor:
    _, _, vh = torch.linalg.svd(matrix.to(torch.float64), full_matrices=False)
    return vh[:rank].T @ vh[:rank]


def _sin_largest_angle(p: torch.Tensor, q: torch.Tensor) -> float:
    """sin of the largest principal angle between the ranges of two projectors of equal rank."""
    return float(torch.linalg.matrix_norm(p - q, ord=2))


def _check_projection(new: torch.Tensor, old: torch.Tensor, rank: int) -> None:
    """``new`` has rank ``rank`` and equals ``old`` times the projector onto ``new``'s row space,
    and that row space is not ``old``'s top-r right singular subspace. For Q Haar on the Stiefel
    manifold the sine of the largest angle to a fixed r-subspace is < 1e-3 with probability below
    1e-3^(r (n - r)) (r, n - r >= 1): a false alarm at most 1e-3 per assertion, and far less here."""
    s = torch.linalg.svdvals(new.to(torch.float64))
    assert int((s > 1e-6 * s[0]).sum()) == rank
    p_new = _row_projector(new, rank)
    assert torch.allclose(old.to(torch.float64) @ p_new, new.to(torch.float64), atol=1e-5, rtol=0)
    assert _sin_largest_angle(p_new, _row_projector(old, rank)) > 1e-3


def test_random_projection_dense_case_has_mps_rank_and_parameters(trained_state):
    cfg, model = trained_state
    control, mp = copy.deepcopy(model), copy.deepcopy(model)
    out = output_layer_name(model)
    cb = _callback(cfg, "random_output_projection")
    cb.bind(SEED)
    ev_control = cb.on_epoch_end(control, 7)
    ev_mp = _callback(cfg, "algorithm1").on_epoch_end(mp, 7)
    (e_mp,) = [e for e in ev_mp if e.layer == out]
    (e_c,) = [e for e in ev_control if e.layer == out]
    assert e_mp.action == "dense" and e_mp.rank_after < e_mp.rank_before  # Algorithm 1 truncates it in place
    assert (e_c.action, e_c.rank_after, e_c.params_after) == (e_mp.action, e_mp.rank_after, e_mp.params_after)
    assert count_parameters(control) == count_parameters(mp)
    _check_projection(weight_matrix(control.get_submodule(out)), weight_matrix(model.get_submodule(out)),
                      e_mp.rank_after)
    assert not torch.allclose(weight_matrix(control.get_submodule(out)), weight_matrix(mp.get_submodule(out)))
    for name in prunable_layers(mp):  # hidden layers: Algorithm 1's
        if name != out:
            assert _same_weights(control.get_submodule(name), mp.get_submodule(name))


def _planted_net(seed: int = 5) -> nn.Module:
    """[30, 100, 20] ReLU net whose 20 x 100 output layer is a spiked matrix (3 spikes), so MP keeps
    rank 3 + floor(f n_small) < 100 * 20 / 120 and Algorithm 1 splits it (step 12)."""
    g = torch.Generator().manual_seed(seed)
    model = FullyConnectedNet([30, 100, 20])
    with torch.no_grad():
        model.layers.fc1.weight.copy_(torch.randn(100, 30, generator=g) / math.sqrt(30))
        model.layers.fc2.weight.copy_(torch.from_numpy(spiked_matrix(20, 100, [6.0, 5.0, 4.0], seed=seed)))
        model.layers.fc2.bias.copy_(torch.linspace(-0.5, 0.5, 20))
    return model


@pytest.mark.parametrize("space", ["input", "row"])
def test_random_projection_split_case_has_mps_rank_and_parameters(space):
    model = _planted_net()
    control, mp = copy.deepcopy(model), copy.deepcopy(model)
    W = weight_matrix(model.layers.fc2).to(torch.float64)
    ev_c = random_output_projection_round(control, 0.5, ALWAYS, seed=SEED, epoch=7, space=space,
                                          recombine_first=False)
    ev_mp = algorithm1_round(mp, 0.5, ALWAYS, recombine_first=False)
    (e_mp,) = [e for e in ev_mp if e.layer == "layers.fc2"]
    (e_c,) = [e for e in ev_c if e.layer == "layers.fc2"]
    assert e_mp.action == e_c.action == "split" and e_c.rank_after == e_mp.rank_after < 20
    assert isinstance(control.layers.fc2, FACTORIZED_TYPES) and control.layers.fc2.rank == e_mp.rank_after
    assert count_parameters(control.layers.fc2) == count_parameters(mp.layers.fc2) == e_mp.params_after
    assert count_parameters(control) == count_parameters(mp)
    assert torch.equal(control.layers.fc2.bias, model.layers.fc2.bias)
    new = weight_matrix(control.layers.fc2)
    _check_projection(new, W, e_mp.rank_after)
    first = control.layers.fc2.first.weight.detach().to(torch.float64)  # Q^T, orthonormal rows
    assert torch.allclose(first @ first.T, torch.eye(e_mp.rank_after, dtype=torch.float64), atol=1e-5)
    if space == "row":  # inside W's own row space (here rank 20 = min(out, in))
        assert torch.allclose(new.to(torch.float64) @ _row_projector(W, 20), new.to(torch.float64), atol=1e-5)
    # same (seed, epoch): the same draw; another epoch: another one
    again = copy.deepcopy(model)
    random_output_projection_round(again, 0.5, ALWAYS, seed=SEED, epoch=7, space=space, recombine_first=False)
    assert torch.equal(weight_matrix(again.layers.fc2), new)
    other = copy.deepcopy(model)
    random_output_projection_round(other, 0.5, ALWAYS, seed=SEED, epoch=14, space=space, recombine_first=False)
    assert not torch.allclose(weight_matrix(other.layers.fc2), new)


def test_random_projection_needs_the_runs_seed(trained_state):
    cfg, model = trained_state
    with pytest.raises(ValueError, match="seed"):
        _callback(cfg, "random_output_projection").on_epoch_end(copy.deepcopy(model), 7)
    with pytest.raises(ValueError, match="projection_space"):
        _callback(cfg, "random_output_projection", projection_space="output")


def test_haar_orthonormal_is_orthonormal_and_sign_free():
    q = haar_orthonormal(12, 5, control_generator(0, 7, "t"))
    assert torch.allclose(q.T @ q, torch.eye(5, dtype=torch.float64), atol=1e-12)
    with pytest.raises(ValueError, match="rank"):
        haar_orthonormal(3, 4, control_generator(0, 7, "t"))


# -- (c) dead output rows re-initialised -------------------------------------------------------------

def test_revive_redraws_a_planted_dead_row_and_nothing_else(data, trained_state):
    _, model = trained_state
    net = copy.deepcopy(model)
    out = output_layer_name(net)
    layer = net.get_submodule(out)
    dead = 4
    with torch.no_grad():  # hidden ReLU outputs are >= 0: a negative row with bias -1 is never active
        layer.weight[dead] = -layer.weight[dead].abs() - 0.01
        layer.bias[dead] = -1.0
    before = copy.deepcopy(net)
    (ev,) = revive_dead_outputs_round(net, data.train, seed=SEED, epoch=7)
    assert isinstance(ev, ReviveEvent) and dead in ev.revived_units and ev.rows_revived == len(ev.revived_units)
    assert ev.params_before == ev.params_after == count_parameters(layer)
    assert not any(isinstance(m, FACTORIZED_TYPES) for m in net.modules())
    assert count_parameters(net) == count_parameters(before)
    w_new, w_old = layer.weight.detach(), before.get_submodule(out).weight.detach()
    revived = list(ev.revived_units)
    live = [j for j in range(w_new.shape[0]) if j not in revived]
    assert torch.equal(w_new[live], w_old[live])
    assert torch.equal(layer.bias[live], before.get_submodule(out).bias[live])
    assert torch.all(layer.bias[revived] == 0) and not torch.equal(w_new[dead], w_old[dead])
    for name, p in net.named_parameters():  # every other layer untouched
        if not name.startswith(out + "."):
            assert torch.equal(p, dict(before.named_parameters())[name])
    # N(0, 1/N): N * ||row||^2 ~ chi2(N); two-sided bound with false-alarm probability 1e-6
    n = w_new.shape[1]
    stat = float(n * w_new[dead].double().pow(2).sum())
    assert stats.chi2.ppf(5e-7, n) < stat < stats.chi2.isf(5e-7, n)


def test_revive_without_dead_outputs_changes_nothing(data, trained_state):
    _, model = trained_state
    net = copy.deepcopy(model)
    out = net.get_submodule(output_layer_name(net))
    with torch.no_grad():  # every output alive: a positive bias keeps every pre-activation > 0 somewhere
        out.bias.fill_(1.0)
    before = copy.deepcopy(net)
    (ev,) = revive_dead_outputs_round(net, data.train, seed=SEED, epoch=7)
    assert ev.action == "none" and ev.rows_revived == 0
    assert _same_weights(net, before)


def test_revive_never_predicted_redraws_a_live_class_that_never_wins(data, trained_state):
    _, model = trained_state
    net = copy.deepcopy(model)
    layer = net.get_submodule(output_layer_name(net))
    weak = 2
    with torch.no_grad():  # output `weak` is 1e-6 > 0 on every input (alive), every other output >= 1
        layer.bias.add_(1.0)
        layer.weight[weak] = 0.0
        layer.bias[weak] = 1e-6
    assert weak not in dead_output_units(net, data.train)
    never = never_predicted_units(net, data.train)
    assert weak in never
    strict = copy.deepcopy(net)
    (ev_dead,) = revive_dead_outputs_round(strict, data.train, seed=SEED, epoch=7)
    assert ev_dead.rows_revived == 0 and _same_weights(strict, net)  # the strict criterion leaves it
    before = copy.deepcopy(net)
    (ev,) = revive_dead_outputs_round(net, data.train, seed=SEED, epoch=7, criterion="never_predicted")
    assert list(ev.revived_units) == never and ev.criterion == "never_predicted"
    w_new, w_old = layer.weight.detach(), before.get_submodule(output_layer_name(net)).weight.detach()
    kept = [j for j in range(w_new.shape[0]) if j not in never]
    assert torch.equal(w_new[kept], w_old[kept]) and torch.all(layer.bias[never] == 0)
    assert not torch.equal(w_new[weak], w_old[weak])
    with pytest.raises(ValueError, match="criterion"):
        revive_dead_outputs_round(net, data.train, seed=SEED, epoch=7, criterion="weak")


def test_revive_needs_the_training_set(trained_state):
    cfg, model = trained_state
    cb = _callback(cfg, "revive_dead_outputs")
    cb.bind(SEED)
    with pytest.raises(ValueError, match="training set"):
        cb.on_epoch_end(copy.deepcopy(model), 7)


# -- the controls through the training loop -----------------------------------------------------------

CONTROLS = ("ex3.2a-hidden-only", "ex3.2a-random-output-projection", "ex3.2a-random-output-projection-rowspace",
            "ex3.2a-revive-dead-outputs", "ex3.2a-revive-never-predicted")


def test_controls_unpruned_arm_is_ex32a_unpruned_arm(data):
    reference = _arms(toy(), data)
    for name in CONTROLS:
        arms = _arms(toy(name), data)
        assert _same_weights(arms["unpruned"].model, reference["unpruned"].model), name
        assert _metrics(arms["unpruned"]) == _metrics(reference["unpruned"]), name
        # identical until the first round (epoch 7), then the control acts
        assert _metrics(arms["pruned"])[:6] == _metrics(reference["pruned"])[:6], name
        events = arms["pruned"].metrics[6]["events"]
        assert events, name
        if name.startswith("ex3.2a-revive"):
            assert [(e["step"], e["layer"]) for e in events] == [("revive", "layers.fc5")]
            assert events[0]["rows_revived"] == len(events[0]["revived_units"])
            assert all(m["parameters"] == arms["pruned"].initial_parameters for m in arms["pruned"].metrics)
        else:
            assert all(e["variant"] == arms["pruned"].cfg.pruning["variant"] for e in events)


@pytest.mark.parametrize("name", ["ex3.2a-random-output-projection", "ex3.2a-revive-dead-outputs"])
def test_control_run_resumes_to_the_uninterrupted_run(tmp_path, data, name):
    cfg = toy(name, epochs=9)
    whole = _arms(cfg, data)
    _arms(cfg, data, out_dir=tmp_path, stop_after=6)  # the round at epoch 7 runs after the resume
    resumed = _arms(cfg, data, out_dir=tmp_path, resume=True)
    for label in ("pruned", "unpruned"):
        assert _same_weights(whole[label].model, resumed[label].model)
        assert _metrics(whole[label]) == _metrics(resumed[label])
