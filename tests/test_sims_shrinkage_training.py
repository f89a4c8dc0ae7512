"""sims.shrinkage_training: the per-round dX / Lemma 4.1 probe against theory.pruning_bounds, the
verdict rule on constructed summaries, a tiny resumable run, bad input."""
import numpy as np
import pytest

from core.claims import registry
from core.result import read_result, write_result
from sims import shrinkage_training as st
from theory.pruning_bounds import Network, classification_confidence, lemma_4_1_bound, spectral_norm


def _net(seed):
    rng = np.random.default_rng(seed)
    ws = (rng.standard_normal((30, 20)) / 5, rng.standard_normal((25, 30)) / 6, rng.standard_normal((4, 25)) / 5)
    bs = tuple(rng.standard_normal(w.shape[0]) / 10 for w in ws)
    return Network(ws, bs, activation="relu", final_activation=True)


def _truncate(W, k):
    U, s, Vh = np.linalg.svd(W, full_matrices=False)
    return (U[:, :k] * s[:k]) @ Vh[:k]


def test_round_change_one_layer_is_lemma_4_1():
    net = _net(0)
    x = np.random.default_rng(1).standard_normal((300, 20))
    y = np.random.default_rng(2).integers(0, 4, 300)
    after = net.with_layer(2, _truncate(net.weights[1], 5))
    got = st.round_change(net, after, x, y)
    delta = after.weights[1] - net.weights[1]
    bound = lemma_4_1_bound(net, x, 2, spectral_norm(delta))
    change = np.abs(classification_confidence(after.forward(x), y) - classification_confidence(net.forward(x), y))
    assert got["layers_changed"] == [2]
    assert got["lemma41_bound_mean"] == pytest.approx(bound.mean(), rel=1e-12)
    assert got["dX_change_mean"] == pytest.approx(change.mean(), rel=1e-12)
    assert got["lemma41_holds_fraction"] == 1.0


def test_round_change_several_layers_bound_holds_and_adds_up():
    net = _net(3)
    x = np.random.default_rng(4).standard_normal((300, 20))
    y = np.random.default_rng(5).integers(0, 4, 300)
    after = net.with_layer(1, _truncate(net.weights[0], 3)).with_layer(3, 0.5 * net.weights[2])
    got = st.round_change(net, after, x, y)
    assert got["layers_changed"] == [1, 3]
    assert got["lemma41_holds_fraction"] == 1.0
    # telescoping: layer 3 pruned on the unpruned prefix, then layer 1 under the pruned suffix
    b3 = lemma_4_1_bound(net, x, 3, spectral_norm(after.weights[2] - net.weights[2]))
    hybrid = Network((net.weights[0], after.weights[1], after.weights[2]), net.biases, "relu", True)
    b1 = lemma_4_1_bound(hybrid, x, 1, spectral_norm(after.weights[0] - net.weights[0]))
    assert got["lemma41_bound_mean"] == pytest.approx((b1 + b3).mean(), rel=1e-12)


def _runs(acc_diffs, par_diffs):
    """Planted per-seed runs: mp at 0.85 / 100,000 parameters, the rule shifted by the differences."""
    rows = []
    for seed, (da, dp) in enumerate(zip(acc_diffs, par_diffs)):
        rows.append({"rule": "mp", "seed": seed, "final_test_accuracy": 0.85, "final_parameters": 100000})
        rows.append({"rule": "frobenius", "seed": seed, "final_test_accuracy": 0.85 + da,
                     "final_parameters": 100000 + dp})
    return rows


_J = [0.001, -0.001, 0.0005, -0.0005, 0.0002, -0.0002, 0.0008, -0.0008, 0.0003, -0.0003]  # symmetric jitter


@pytest.mark.parametrize("acc, par, expect", [
    ([0.02 + j for j in _J], [0] * 10, "fails"),                       # more accurate, same size
    (_J, [-5000 + 100 * j for j in _J], "fails"),                      # smaller, accuracy within the margin
    ([-0.05 + j for j in _J], [0] * 10, "holds"),                      # less accurate, same size
    ([-0.05 + j for j in _J], [-5000 + 100 * j for j in _J], "holds"),  # smaller but clearly worse
    (_J, [100 * j for j in _J], "holds"),                              # equivalent in both (TOST)
    ([0.03, -0.03, 0.02, -0.01, 0.01], [0] * 5, "inconclusive"),       # 5 seeds: p >= 0.0625 always
])
def test_verdict_rule(acc, par, expect):
    """Planted paired differences with known answers: 10 seeds give exact sign-flip p = 2/1024
    when every difference has one sign (Holm over the two tests: 0.004 < 0.05); 5 seeds cannot
    reach 0.05."""
    cfg = st.TrainingConfig()
    (v,) = st.verdicts(_runs(acc, par), [], cfg, "test")
    assert v.claim == "000:algorithm:1" and v.verdict == expect
    assert v.protocol["rule"] == "paired_sign"


def _synthetic_data(cfg, *, seed=0, data_dir=None):
    # stands in for Fashion-MNIST (loading it takes seconds): 784 features, 10 classes, a planted
    # linear rule, drawn from the seed alone as nets.data's subsets are
    import torch
    from torch.utils.data import TensorDataset
    from nets.data import DataSplits
    g = torch.Generator().manual_seed(1000 + seed)
    proj = torch.randn(784, 10, generator=g)
    def split(n):
        x = torch.rand(n, 1, 28, 28, generator=g) - 0.5
        return TensorDataset(x, (x.flatten(1) @ proj).argmax(1))
    return DataSplits(split(cfg.n_train), split(cfg.n_test), (1, 28, 28), 10, "classification")


def test_tiny_run_resumes_and_is_registered(tmp_path, monkeypatch):
    import nets.train
    monkeypatch.setattr(nets.train, "load_data_for", _synthetic_data)
    cfg = st.TrainingConfig(rules=("mp", "gd_threshold"), seeds=2, epochs=2, every=1, n_train=300,
                            n_test=100, probe=50)
    res = st.run_training(cfg, cache=tmp_path / "cache", log=lambda *_: None)
    assert [r["rule"] for r in res.records] == ["mp", "gd_threshold"]
    assert len(res.tables["runs"]) == 4 and len(res.tables["rounds"]) == 8
    assert all(r["epochs"] == 2 and r["made_by"] for r in res.tables["runs"])
    # ranks: a split layer's rank, else the numerical rank of the (float32) weight
    import torch
    from nets.train import CHECKPOINT, Run, make_callbacks
    for row in res.tables["runs"]:
        tc = st.train_config(cfg, row["rule"])
        run = Run(tc, _synthetic_data(tc, seed=row["seed"]), seed=row["seed"], callbacks=make_callbacks(tc),
                  progress=False)
        run.load(tmp_path / "cache" / f"ex3.2a-cpu-{row['rule']}-seed{row['seed']}" / CHECKPOINT)
        for name, rank in row["ranks"].items():
            layer = run.model.get_submodule(name)
            W = (layer.second.weight @ layer.first.weight) if hasattr(layer, "first") else layer.weight
            assert rank == int(torch.linalg.matrix_rank(W.detach(), rtol=1e-4)), (row["rule"], name)
    checked = registry()
    assert all(res.experiment in checked[v.claim].checked_by for v in res.verdicts)
    # same seed, same first epoch: the rules differ only from the first round on
    first = {r["rule"]: r for r in res.tables["rounds"] if r["seed"] == 0 and r["epoch"] == 1}
    assert first["mp"]["accuracy_before_round"] == first["gd_threshold"]["accuracy_before_round"]
    again = st.run_training(cfg, cache=tmp_path / "cache", log=lambda *_: None)   # read back, no training
    assert [r["final_test_accuracy"] for r in again.tables["runs"]] == [r["final_test_accuracy"] for r in res.tables["runs"]]
    assert again.tables["rounds"] == res.tables["rounds"]
    write_result(res, tmp_path / "shrinkage_training.json")
    assert read_result(tmp_path / "shrinkage_training.json").records[1]["rule"] == "gd_threshold"
    # the figure reads it (and only it)
    import figures._results as fr
    from figures import fig_shrinkage as fs
    monkeypatch.setattr(fr, "RESULTS_DIR", tmp_path)
    paths = fs.fig_training(tmp_path / "fig", None)
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    monkeypatch.setattr(fr, "RESULTS_DIR", tmp_path / "empty")
    with pytest.raises(fr.MissingResult, match="sims.shrinkage_training"):
        fs.fig_training(tmp_path / "fig", None)


@pytest.mark.parametrize("argv, word", [(["--rules", "soft", "mp"], "rule"), (["--rules", "frobenius"], "mp"),
                                        (["--config", "nope"], "config"), (["--config", "e4-classification"], "pruning")])
def test_cli_bad_input_exits_2(argv, word, capsys):
    with pytest.raises(SystemExit) as exc:
        st.main(["--quick", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert word in err and len(err.strip().splitlines()) == 1
