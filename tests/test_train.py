"""nets.train: the loss of (E.7), lr decay (3.7), optimizer rebuilds, identical data order for
side-by-side runs, checkpoints with weights_only=True, resume equality, and the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nets.configs import TrainConfig, config_names, get_config
from nets.data import DataSplits, polynomial_classification_e4
from nets.train import CHECKPOINT, Run, main, regularisation, train

ROOT = Path(__file__).resolve().parents[1]
TIMING = {"train_time_s", "callback_time_s", "cpu_time_s"}


def _tiny_cfg(**kw) -> TrainConfig:
    base = dict(name="tiny", description="test", paper_ref="-", dataset="polynomial_e4",
                model={"kind": "mlp", "topology": [2, 16, 12, 2]}, epochs=4, batch_size=32, lr=0.05,
                momentum=0.9, lr_decay=0.9, l1=1e-4, l2=1e-3, n_train=100, n_test=50)
    base.update(kw)
    return TrainConfig(**base)


def _tiny_data(n_train=100) -> DataSplits:
    return polynomial_classification_e4(seed=0, n_train=n_train, n_test=50)


class TruncateOnce:
    """Test callback: at epoch 2 replaces layers.fc2 by a rank-3 factorised layer (new Parameters)."""

    def on_epoch_end(self, model, epoch):
        if epoch != 2:
            return []
        from nets.layers import FactorizedLinear
        old = model.layers.fc2
        U, s, Vh = torch.linalg.svd(old.weight.detach(), full_matrices=False)
        new = FactorizedLinear(old.in_features, old.out_features, 3)
        with torch.no_grad():
            new.first.weight.copy_(s[:3, None].sqrt() * Vh[:3])
            new.second.weight.copy_(U[:, :3] * s[:3].sqrt())
            new.second.bias.copy_(old.bias)
        model.layers.fc2 = new
        return [{"action": "split", "layer": "layers.fc2", "rank": 3, "s": s}]


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def test_regularisation_is_e7_on_weights_only():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Conv2d(2, 2, 3), nn.BatchNorm1d(4))
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-1, 1)
    w1, w2 = model[0].weight, model[2].weight
    expected = 0.3 * (w1.abs().sum() + w2.abs().sum()) + 0.7 * (w1.pow(2).sum() + w2.pow(2).sum())
    assert torch.allclose(regularisation(model, 0.3, 0.7), expected)
    assert regularisation(model, 0.0, 0.0).item() == 0.0


def test_one_sgd_step_includes_l1_and_l2_gradients():
    # One batch, momentum 0: W_new = W - lr (dCE/dW + mu1 sign W + 2 mu2 W)  (gradient of (E.7)).
    cfg = _tiny_cfg(epochs=1, batch_size=1000, momentum=0.0, l1=0.01, l2=0.02, lr=0.1)
    data = _tiny_data()
    run = Run(cfg, data, seed=0, progress=False)
    w0 = {n: p.detach().clone() for n, p in run.model.named_parameters()}
    ref = Run(cfg, data, seed=0, progress=False).model
    x, y = data.train.tensors
    F.cross_entropy(ref(x), y).backward()
    run.train_epoch()
    for name, p in run.model.named_parameters():
        g = dict(ref.named_parameters())[name].grad
        if name.endswith("weight"):
            g = g + 0.01 * torch.sign(w0[name]) + 2 * 0.02 * w0[name]
        assert torch.allclose(p.detach(), w0[name] - 0.1 * g, atol=1e-6), name


def test_learning_rate_decays_geometrically():
    run = Run(_tiny_cfg(epochs=3), _tiny_data(), seed=0, progress=False)
    rows = [run.train_epoch() for _ in range(3)]
    assert [r["lr"] for r in rows] == pytest.approx([0.05, 0.05 * 0.9, 0.05 * 0.81])  # (3.7) with 0.9


def test_optimizer_rebuild_keeps_momentum_of_surviving_parameters():
    run = Run(_tiny_cfg(epochs=2), _tiny_data(), seed=0, callbacks=[TruncateOnce()], progress=False)
    run.train_epoch()
    row = run.train_epoch()
    # fc1, fc3 (weight + bias) survive; fc2's two factors and bias are new Parameters.
    assert row["momentum_buffers_kept"] == 4
    assert row["parameters"] == row["parameters_before_callbacks"] - (16 * 12) + 3 * (16 + 12)
    assert "test_accuracy_after_callbacks" in row and row["events"][0]["rank"] == 3
    params = set(map(id, run.model.parameters()))
    assert {id(p) for g in run.optimizer.param_groups for p in g["params"]} == params


def test_side_by_side_runs_share_initial_weights_and_batches(tmp_path):
    # Pruning every 50 epochs never fires in 3: both runs must then be identical, bit for bit.
    cfg = _tiny_cfg(epochs=3, pruning={"every": 50, "schedule": "3.6", "tau": 0.7, "alpha": 0.1, "beta": 0.1})
    res = train(cfg, seed=4, data=_tiny_data(), out_dir=tmp_path, side_by_side=True, progress=False)
    pruned = json.loads((tmp_path / "pruned" / "metrics.json").read_text())["epochs"]
    unpruned = json.loads((tmp_path / "unpruned" / "metrics.json").read_text())["epochs"]
    assert _strip(pruned) == _strip(unpruned)
    assert res["comparison"]["parameter_reduction"] == 0


def test_checkpoint_loads_with_weights_only_and_resume_reproduces_the_run(tmp_path):
    cfg, data = _tiny_cfg(epochs=4), _tiny_data()
    full = Run(cfg, data, seed=1, out_dir=tmp_path / "full", callbacks=[TruncateOnce()], progress=False)
    for _ in range(4):
        full.train_epoch()
    part = Run(cfg, data, seed=1, out_dir=tmp_path / "part", callbacks=[TruncateOnce()], progress=False)
    for _ in range(2):  # stop after the epoch that split fc2: the checkpoint must hold the split
        part.train_epoch()
    del part
    state = torch.load(tmp_path / "part" / CHECKPOINT, weights_only=True)
    assert state["structure"]["children"]["layers"]["children"]["fc2"]["type"] == "nets.layers:FactorizedLinear"
    resumed = Run(cfg, data, seed=1, out_dir=tmp_path / "part", callbacks=[TruncateOnce()], progress=False)
    resumed.load(tmp_path / "part" / CHECKPOINT)
    assert resumed.epoch == 2
    for _ in range(2):
        resumed.train_epoch()
    assert _strip(resumed.metrics) == _strip(full.metrics)
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="not for this run"):
        Run(cfg, data, seed=2, progress=False).load(tmp_path / "part" / CHECKPOINT)


class ReRegisterThenTruncate(TruncateOnce):
    """Test callback: at epoch 1 folds an all-ones torch prune mask into layers.fc1 (``prune.remove``
    re-registers its weight after its bias, as Algorithm 1's sparsification does), at epoch 2 splits
    fc2 (the optimizer is rebuilt over the reordered parameters)."""

    def on_epoch_end(self, model, epoch):
        if epoch == 1:
            from torch.nn.utils import prune
            prune.identity(model.layers.fc1, "weight")
            prune.remove(model.layers.fc1, "weight")
            return []
        return super().on_epoch_end(model, epoch)


def test_resume_after_weight_re_registration_reproduces_the_run(tmp_path):
    """The paper-scale ex3.2a pruned run failed to resume (momentum buffer of fc1.bias given to
    fc1.weight): the optimizer's positional state must be restored in the optimizer's own order."""
    cfg, data = _tiny_cfg(epochs=4), _tiny_data()
    full = Run(cfg, data, seed=3, out_dir=tmp_path / "full", callbacks=[ReRegisterThenTruncate()], progress=False)
    for _ in range(4):
        full.train_epoch()
    assert [n for n, _ in full.model.layers.fc1.named_parameters()] == ["bias", "weight"]
    part = Run(cfg, data, seed=3, out_dir=tmp_path / "part", callbacks=[ReRegisterThenTruncate()], progress=False)
    for _ in range(3):
        part.train_epoch()
    del part
    # the same checkpoint as one written before the names were saved (never resumed, so its
    # model_state's key order is its optimizer's order)
    state = torch.load(tmp_path / "part" / CHECKPOINT, weights_only=True)
    state.pop("optimizer_param_names")
    torch.save(state, tmp_path / "old.pt")
    resumed = Run(cfg, data, seed=3, out_dir=tmp_path / "part", callbacks=[ReRegisterThenTruncate()],
                  progress=False)
    resumed.load(tmp_path / "part" / CHECKPOINT)
    resumed.train_epoch()
    assert _strip(resumed.metrics) == _strip(full.metrics)
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert sorted(a) == sorted(b) and all(torch.equal(a[k], b[k]) for k in a)
    old = Run(cfg, data, seed=3, callbacks=[ReRegisterThenTruncate()], progress=False)
    old.load(tmp_path / "old.pt")
    old.train_epoch()
    assert _strip(old.metrics) == _strip(full.metrics)


def _cli(capsys, *args) -> tuple[int, str, str]:
    """``python -m nets.train ARGS`` in-process (the subprocess form is exercised by the slow test)."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_dry_run_prints_the_paper_count(capsys):
    code, out, err = _cli(capsys, "ex3.3", "--dry-run")
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "parameters: 1100323974"  # Example 3.3's unpruned CNN
    code, out, _ = _cli(capsys, "ex3.2a", "--dry-run", "--scale", "cpu")
    widths = get_config("ex3.2a", "cpu").model["topology"]
    expected = sum(a * b + b for a, b in zip(widths, widths[1:]))  # weights + biases of each layer
    assert out.strip().splitlines()[-1] == f"parameters: {expected}"
    _, listing, _ = _cli(capsys, "--list-configs")
    for name in ("ex3.1a", "ex3.2a", "ex3.3", "ex3.4", "ex3.5", "e2-he", "e3-regression", "e4-classification",
                 "fmnist-mp-sparsify-during"):
        assert name in listing and name in config_names()
    assert _cli(capsys, "nope", "--dry-run")[0] != 0


def test_cli_stop_and_resume_equals_uninterrupted_run(tmp_path, capsys):
    common = ["e4-classification", "--scale", "cpu", "--epochs", "3", "--device", "cpu", "--quiet"]
    assert _cli(capsys, *common, "--out", str(tmp_path / "a"))[0] == 0
    assert _cli(capsys, *common, "--out", str(tmp_path / "b"), "--stop-after", "1")[0] == 0
    code, _, err = _cli(capsys, *common, "--out", str(tmp_path / "b"), "--resume")
    assert code == 0 and "resumed from" in err
    a = json.loads((tmp_path / "a" / "metrics.json").read_text())["epochs"]
    b = json.loads((tmp_path / "b" / "metrics.json").read_text())["epochs"]
    assert len(a) == 3 and _strip(a) == _strip(b)


@pytest.mark.slow
def test_sigkilled_run_resumes_to_the_same_metrics(tmp_path):
    """A real kill: SIGKILL the process once its first checkpoint exists, then --resume."""
    import signal
    import time
    args = [sys.executable, "-m", "nets.train", "e4-classification", "--scale", "cpu", "--epochs", "40",
            "--device", "cpu", "--quiet"]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    subprocess.run(args + ["--out", "a"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=900)
    proc = subprocess.Popen(args + ["--out", "b"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    # metrics.json is written after the checkpoint: once it exists, both do
    while not (tmp_path / "b" / "metrics.json").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(json.loads((tmp_path / "b" / "metrics.json").read_text())["epochs"])
    assert 1 <= done < 40  # killed mid-way
    subprocess.run(args + ["--out", "b", "--resume"], cwd=tmp_path, env=env, check=True, capture_output=True,
                   timeout=900)
    a = json.loads((tmp_path / "a" / "metrics.json").read_text())["epochs"]
    b = json.loads((tmp_path / "b" / "metrics.json").read_text())["epochs"]
    assert _strip(a) == _strip(b)


def test_post_training_sparsification_sweep_runs_on_both_models(tmp_path):
    cfg = _tiny_cfg(epochs=2, sparsification={"kind": "after", "xi": [0.0, 1e6]},
                    pruning={"every": 50, "schedule": "3.6", "tau": 0.7, "alpha": 0.1, "beta": 0.1})
    res = train(cfg, seed=0, data=_tiny_data(), out_dir=tmp_path, side_by_side=True, progress=False)
    biases = 16 + 12 + 2
    for label in ("pruned", "unpruned"):
        rows = res[label]["sparsification_sweep"]
        # xi = 0 removes nothing (|w| < 0 never holds): the accuracy is the trained model's.
        assert rows[0]["parameters_kept"] == res[label]["final_parameters"]
        assert rows[0]["accuracy"] == res[label]["final_test_accuracy"]
        assert rows[1]["parameters_kept"] == biases  # every weight below 1e6: only biases remain
        assert (tmp_path / label / "sparsification_sweep.json").is_file()


def test_sparsification_during_training_zeroes_weights():
    cfg = _tiny_cfg(epochs=2, sparsification={"kind": "during", "zeta_start": 0.05, "zeta_end": 0.1, "every": 1})
    from nets.train import make_callbacks
    run = Run(cfg, _tiny_data(), seed=0, callbacks=make_callbacks(cfg), progress=False)
    row = run.train_epoch()
    weights = [m.weight for m in run.model.modules() if isinstance(m, nn.Linear)]
    assert all((w.abs() >= 0.05).logical_or(w == 0).all() for w in weights)  # nothing left below zeta(1)
    assert row["nonzero_parameters"] < row["parameters"]


def test_nan_weight_stops_training_with_a_clear_error(tmp_path):
    # A NaN weight makes every forward output NaN, so the epoch's summed loss is NaN: the run must
    # stop with an error naming the epoch, and must not checkpoint the broken state.
    run = Run(_tiny_cfg(epochs=2), _tiny_data(), seed=0, out_dir=tmp_path, progress=False)
    with torch.no_grad():
        run.model.layers.fc1.weight[0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="epoch 1"):
        run.train_epoch()
    assert not (tmp_path / CHECKPOINT).exists()


def test_mp_pruning_callback_refuses_nan_weights():
    from nets.algorithms import MPPruningCallback
    run = Run(_tiny_cfg(epochs=1), _tiny_data(), seed=0, progress=False)
    with torch.no_grad():
        run.model.layers.fc2.weight[1, 1] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        MPPruningCallback(every=1, tau=0.7).on_epoch_end(run.model, 1)


def test_resume_with_the_mp_pruning_callback_reproduces_the_run(tmp_path):
    # Real Algorithm 1 rounds at epochs 2 and 4 (f = max(0, 1 - epoch/2) = 0 at both: every small
    # singular value goes, so fc2 is split at epoch 2); a run stopped after the split and resumed
    # from its weights_only checkpoint must match the uninterrupted run, events included.
    pruning = {"every": 2, "schedule": "3.6", "schedule_horizon": 2, "tau": 1.0, "alpha": 0.1, "beta": 0.1}
    cfg = _tiny_cfg(epochs=4, model={"kind": "mlp", "topology": [2, 40, 30, 2]}, pruning=pruning)
    from nets.train import make_callbacks
    data = _tiny_data()
    full = Run(cfg, data, seed=3, out_dir=tmp_path / "full", callbacks=make_callbacks(cfg), progress=False)
    for _ in range(4):
        full.train_epoch()
    part = Run(cfg, data, seed=3, out_dir=tmp_path / "part", callbacks=make_callbacks(cfg), progress=False)
    for _ in range(2):
        part.train_epoch()
    assert any(e["action"] == "split" for e in part.metrics[1]["events"])   # the round did split
    del part
    resumed = Run(cfg, data, seed=3, out_dir=tmp_path / "part", callbacks=make_callbacks(cfg), progress=False)
    resumed.load(tmp_path / "part" / CHECKPOINT)
    for _ in range(2):
        resumed.train_epoch()
    assert _strip(resumed.metrics) == _strip(full.metrics)
    assert resumed.callbacks[0].history == full.callbacks[0].history
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("bad", [["--stop-after", "0"], ["--stop-after", "-3"], ["--epochs", "0"],
                                 ["--threads", "0"], ["--seed", "-1"]])
def test_cli_bad_numbers_exit_2_before_training(tmp_path, capsys, bad):
    out = tmp_path / "never"
    code, _, err = _cli(capsys, "e4-classification", "--scale", "cpu", "--out", str(out), *bad)
    assert code == 2 and bad[0] in err and "Traceback" not in err
    assert not out.exists()  # nothing was trained or written


def test_cli_bad_names_exit_2_with_one_line(tmp_path, capsys):
    for args in (["nope"], [], ["e4-classification", "--side-by-side", "--no-prune"],
                 ["ex3.2a", "--scale", "cpu", "--data-dir", str(tmp_path / "empty")],
                 ["e4-classification", "--resume", "--out", str(tmp_path / "missing")]):
        code, _, err = _cli(capsys, *args)
        assert code == 2, args
        lines = err.strip().splitlines()
        assert "Traceback" not in err and lines[-1].startswith("python -m nets.train: error: ")
        assert sum("error" in line for line in lines) == 1  # argparse's usage, then one error line


def test_cli_writes_a_result_with_scale_and_provenance(tmp_path, capsys):
    from core.result import read_result
    args = ["e4-classification", "--scale", "cpu", "--epochs", "2", "--quiet", "--out", str(tmp_path / "r"),
            "--json", str(tmp_path / "r.json")]
    code, _, err = _cli(capsys, *args)
    assert code == 0, err
    res = read_result(tmp_path / "r.json")
    assert res.provenance.argv == ["python", "-m", "nets.train", *args]
    assert res.config["scale"] == "cpu" and res.config["cpu_changes"]["epochs_override"] == [600, 2]
    assert [r["epoch"] for r in res.records] == [1, 2]
    assert res.tables["summary"][0]["epochs_completed"] == 2


def test_epoch_batches_match_the_loader_order():
    from torch.utils.data import TensorDataset
    from nets.data import epoch_generator, make_loader
    from nets.train import epoch_batches
    ds = TensorDataset(torch.randn(1000, 3), torch.arange(1000))
    a = [y for _, y in make_loader(ds, 128, generator=epoch_generator(3, 5))]
    b = [y for _, y in epoch_batches(ds, 128, epoch_generator(3, 5))]
    assert len(a) == len(b) == 8 and all(torch.equal(u, v) for u, v in zip(a, b))
