"""nets.mechanism (dead units), sims.paired_runs / sims.seed_statistics (seed statistics, events, equal time),
sims.example_3_2 end to end at toy size, the old ``python -m nets.section3`` command line, and
sims.example_3_2_paper_scale (estimate, seed cutting, the --tiny path)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from torch.utils.data import TensorDataset

from nets.mechanism import evaluate_with_units, output_rows_removed
from nets.models import FullyConnectedNet
from sims.paired_runs import equal_time_row, event_rows
from sims.seed_statistics import linear_fit_ci, mean_ci, variance_ratio_ci


def _net_with_dead_parts():
    """[4, 3, 3] ReLU net: hidden unit 1 and output 2 can never fire (zero weights, bias -1)."""
    net = FullyConnectedNet([4, 3, 3])
    with torch.no_grad():
        net.layers.fc1.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 0, 0, 0], [0, 1.0, 0, 0]]))
        net.layers.fc1.bias.copy_(torch.tensor([0.0, -1.0, 0.0]))
        net.layers.fc2.weight.copy_(torch.tensor([[1.0, 0, 0], [0, 0, 1.0], [0, 0, 0]]))
        net.layers.fc2.bias.copy_(torch.tensor([0.0, 0.0, -1.0]))
    return net


def test_dead_units_and_live_class_accuracy_by_hand():
    net = _net_with_dead_parts()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(300, 4, generator=gen)
    y = torch.randint(0, 3, (300,), generator=gen)
    m = evaluate_with_units(net, TensorDataset(x, y), batch_size=64, loss_batch=128)
    assert m["dead_units"] == {"act1": 1, "act2": 1} and m["units"] == {"act1": 3, "act2": 3}
    assert m["dead_outputs"] == 1 and m["dead_output_classes"] == [2]
    with torch.no_grad():
        out = net(x)
    pred = out.argmax(1)
    live = y != 2
    assert m["accuracy"] == pytest.approx(float((pred == y).double().mean()), abs=1e-12)
    assert m["accuracy_live_classes"] == pytest.approx(float((pred[live] == y[live]).double().mean()), abs=1e-12)
    assert m["output_max_preactivation"][2] == pytest.approx(-1.0)
    losses = torch.nn.functional.cross_entropy(out, y, reduction="none").double()
    assert m["loss_sum_batches"] == pytest.approx(float(losses[:128].mean() + losses[128:256].mean()
                                                        + losses[256:].mean()), rel=1e-9)
    assert m["loss_batches"] == 3


def test_linear_output_has_no_dead_outputs():
    net = FullyConnectedNet([4, 3, 3], final_activation="none")
    with torch.no_grad():
        for p in net.parameters():
            p.normal_()
    x = torch.randn(50, 4)
    m = evaluate_with_units(net, TensorDataset(x, torch.zeros(50, dtype=torch.long)))
    assert m["dead_outputs"] == 0 and m["accuracy_live_classes"] == m["accuracy"]


def test_output_rows_removed_is_the_relative_row_change():
    before = torch.tensor([[3.0, 4.0], [1.0, 0.0]], dtype=torch.float64)
    after = torch.tensor([[3.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    assert output_rows_removed(before, after) == pytest.approx([0.8, 0.0])
    assert output_rows_removed(before, after[:1]) is None


def test_mean_ci_is_the_t_interval():
    x = [0.81, 0.84, 0.79, 0.86, 0.83]
    s = mean_ci(x)
    half = stats.t.ppf(0.975, 4) * np.std(x, ddof=1) / math.sqrt(5)
    assert s["mean"] == pytest.approx(np.mean(x)) and s["hi"] - s["mean"] == pytest.approx(half)
    assert math.isnan(mean_ci([1.0])["lo"]) and mean_ci([])["n"] == 0


def test_variance_ratio_interval_contains_the_ratio_and_is_the_f_interval():
    a, b = [1.0, 2.0, 4.0, 7.0], [1.0, 1.5, 2.5]
    r = variance_ratio_ci(a, b)
    ratio = np.var(a, ddof=1) / np.var(b, ddof=1)
    assert r["ratio"] == pytest.approx(ratio)
    assert r["lo"] == pytest.approx(ratio / stats.f.ppf(0.975, 3, 2))
    assert r["hi"] == pytest.approx(ratio / stats.f.ppf(0.025, 3, 2))


def test_linear_fit_recovers_an_exact_line():
    f = linear_fit_ci([0, 1, 2, 3], [0.02, 0.12, 0.22, 0.32])
    assert f["slope"] == pytest.approx(0.1) and f["intercept"] == pytest.approx(0.02)
    assert f["slope_hi"] - f["slope_lo"] == pytest.approx(0, abs=1e-9)
    assert math.isnan(linear_fit_ci([1, 1, 1], [0, 1, 2])["slope"])


class _FakeRun:
    def __init__(self, label, metrics):
        self.label, self.metrics = label, metrics


def _m(epoch, acc, t=1.0, **kw):
    return {"epoch": epoch, "test_accuracy": acc, "train_time_s": t, "callback_time_s": 0.0, **kw}


def test_event_rows_report_change_revival_and_the_unpruned_yardstick():
    from nets.configs import get_config
    cfg = get_config("ex3.2a", "cpu")
    pruned = _FakeRun("pruned", [_m(1, 0.5), _m(2, 0.6, events=[{"layer": "layers.fc5", "action": "split",
                                                                   "rank_before": 10, "rank_after": 8}],
                                                  test_accuracy_after_callbacks=0.7, dead_outputs=1,
                                                  dead_output_classes=[3], dead_outputs_after_callbacks=0,
                                                  dead_output_classes_after_callbacks=[],
                                                  parameters_before_callbacks=100, parameters=90,
                                                  output_rows_removed=[0.1] * 3 + [0.9] + [0.1] * 6)])
    unpruned = _FakeRun("unpruned", [_m(1, 0.5), _m(2, 0.52)])
    (row,) = event_rows(cfg, 0, pruned, unpruned)
    assert row["change"] == pytest.approx(0.1) and row["revived"] == 1 and row["killed"] == 0
    assert row["unpruned_change_same_epoch"] == pytest.approx(0.02)
    assert row["output_rows_removed_dead"] == [0.9] and row["output_rows_removed_mean_live"] == pytest.approx(0.1)
    assert row["output_layer_rank_after"] == 8


def test_equal_time_takes_the_unpruned_accuracy_within_the_pruned_time():
    from nets.configs import get_config
    cfg = get_config("ex3.2a", "cpu")
    pruned = _FakeRun("pruned", [_m(1, 0.7, 1.0), _m(2, 0.8, 1.0)])        # 2 s in all
    unpruned = _FakeRun("unpruned", [_m(1, 0.6, 0.9), _m(2, 0.65, 0.9), _m(3, 0.9, 0.9)])
    row = equal_time_row(cfg, 0, pruned, unpruned)
    assert row["unpruned_accuracy_at_pruned_time"] == 0.65 and row["unpruned_epochs_within_time"] == 2
    assert not row["unpruned_finished_first"]


def test_example_3_2_end_to_end_at_toy_size(tmp_path):
    """Two seeds, 8 epochs (one pruning round at epoch 7), widths / 50, 300 images: the Result has
    the tables the figures read, pruned and unpruned agree exactly before the first round, and a
    rerun reads everything back from the checkpoints."""
    from sims.example_3_2 import Config, run
    kw = dict(seeds=2, controls=("linear-output",), control_seeds=(2,), width_divisor=50, n_train=300,
              n_test=300, epochs=8, runs_dir=str(tmp_path))
    res = run(Config(topology="a", **kw))
    assert {"runs", "paired", "events", "equal_time", "mechanism", "identical_start"} <= set(res.tables)
    assert all(r["identical_until_first_pruning"] for r in res.tables["identical_start"])
    assert {e["epoch"] for e in res.tables["events"]} == {7}
    assert len(res.tables["runs"]) == 8  # 2 configs x 2 seeds x pruned/unpruned
    claims = {v.claim for v in res.verdicts}
    assert {"000:table:3.4", "000:table:3.5", "000:table:3.6", "000:example:3.2", "000:figure:3.5",
            "000:text:3.2.5", "000:text:3.2.1.2", "000:remark:3.5"} <= claims
    again = run(Config(topology="a", **kw))
    assert again.tables["runs"] == res.tables["runs"]


def test_section3_cli_bad_input_exits_2(capsys):
    """The old command line (committed Results' argv) refuses bad input in one line, exit 2."""
    from nets.section3 import main
    for args in (["example-3.2", "--seeds", "0"], ["example-3.2", "--topology", "d"],
                 ["example-3.2", "--seeds", "1"], ["example-3.2", "--topology", "b", "--controls", "he"]):
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 2, args
        assert "Traceback" not in capsys.readouterr().err


def test_paper_scale_estimate_counts_flops_and_cuts_seeds():
    from nets.models import count_parameters
    from sims.example_3_2_paper_scale import estimate, plan, weight_count
    net = FullyConnectedNet([784, 2000, 4000, 2000, 500, 10])
    biases = 2000 + 4000 + 2000 + 500 + 10
    assert weight_count(net.topology) == count_parameters(net) - biases == 18_581_510 - biases
    one = estimate(["a"], 1, tflops=1e9, step_ms=0, svd_tflops=1e9)
    # 2 runs (pruned, unpruned) x 6 FLOPs per weight per image x 60,000 images x 70 epochs, + eval
    assert one["train_eval_flops"] == pytest.approx(2 * (6 * (18_581_510 - biases) * 60000 * 70
                                                         + 2 * (18_581_510 - biases) * 10000 * 80))
    assert one["optimizer_steps"] == 2 * 469 * 70
    three = estimate(["a", "b", "c"], 3)
    cut = plan(["a", "b", "c"], 3, budget_s=three["estimated_s"] * 0.8)
    assert cut["seeds"] == 2 and cut["seeds_asked"] == 3
    assert plan(["a"], 3, budget_s=1e9)["seeds"] == 3


def test_paper_scale_tiny_runs_on_the_cpu(tmp_path, capsys):
    from core.result import read_result
    from sims.example_3_2_paper_scale import MODULE
    from sims.experiment import cli_main

    def main(argv):
        return cli_main(MODULE, argv)
    path = tmp_path / "ps.json"
    assert main(["--device", "cpu", "--tiny", "--topologies", "a", "--seeds", "2", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("estimated time ")
    res = read_result(path)
    assert res.config["tiny"] and res.config["estimate"]["seeds"] == 2
    assert len(res.tables["runs"]) == 4
    with pytest.raises(SystemExit) as exc:  # the real thing needs a GPU
        main(["--device", "cpu", "--topologies", "a"])
    assert exc.value.code == 2


def _synthetic_result(path):
    """A hand-made Example 3.2 Result with the columns the figures read (no training)."""
    from core.result import Provenance, Result, write_result
    records, runs, events = [], [], []
    for c in ("ex3.2a", "ex3.2a-linear-output"):
        for run in ("pruned", "unpruned"):
            for e in range(1, 9):
                r = {"config": c, "run": run, "epoch": e, "seeds": 2}
                for k in ("test_accuracy", "train_accuracy", "train_loss", "dead_outputs", "dead_hidden_units",
                          "parameters", "classes_never_predicted"):
                    r.update({f"{k}_mean": 0.5 + 0.01 * e, f"{k}_lo": 0.45, f"{k}_hi": None})
                records.append(r)
            for s in (0, 1):
                runs.append({"config": c, "seed": s, "run": run, "final_test_accuracy": 0.8 + 0.01 * s,
                             "final_dead_outputs": int(run == "unpruned" and s == 1),
                             "final_classes_never_predicted": int(run == "unpruned" and s == 1)})
        events += [{"config": c, "seed": s, "epoch": 7, "test_accuracy_before": 0.6, "test_accuracy_after": 0.58}
                   for s in (0, 1)]
    res = Result(experiment="test", config={"scale": {"topology": [784, 20, 10], "tag": "toy"}},
                 provenance=Provenance.start(argv=[]).stop(), records=records,
                 tables={"runs": runs, "events": events})
    write_result(res, path)


def test_section3_figures_read_results_and_name_the_missing_command(tmp_path):
    from types import SimpleNamespace
    import matplotlib
    matplotlib.use("Agg")
    from figures._results import MissingResult
    from figures.fig_section3 import FIGURES
    args = SimpleNamespace(results_dir=tmp_path)
    with pytest.raises(MissingResult, match="nets.section3 example-3.2"):
        FIGURES["3.3"](tmp_path, args)
    for name, command in (("3.6", "claims-3.2.1"), ("3.8", "example-3.4"), ("3.9", "example-3.4"),
                          ("ladder", "ladder")):
        with pytest.raises(MissingResult, match=command):
            FIGURES[name](tmp_path, args)
    _synthetic_result(tmp_path / "section3" / "ex3.2a.json")
    for name in ("3.3", "3.4", "3.5", "E.1", "mechanism"):
        paths = FIGURES[name](tmp_path, args)
        assert all(p.exists() and p.stat().st_size > 0 for p in paths), name


def test_sweep_summary_reads_removal_within_a_drop():
    from sims.sparsification_sweeps import sweep_summary as _sweep_summary
    sweep = [{"xi": 0.0, "fraction_kept": 1.0, "accuracy": 0.90},
             {"xi": 0.01, "fraction_kept": 0.5, "accuracy": 0.899},
             {"xi": 0.1, "fraction_kept": 0.004, "accuracy": 0.80}]
    s = _sweep_summary(sweep, drop=0.005, removed=0.995)
    assert s["max_removed_within_drop"] == pytest.approx(0.5)
    assert s["drop_at_removed"] == pytest.approx(0.10) and s["xi_at_removed"] == 0.1
    assert _sweep_summary(sweep[:2], 0.005, 0.995)["drop_at_removed"] is None
    for r, kept in zip(sweep, (1000, 500, 4)):
        r["parameters_kept"] = kept
    # against a 2,000-parameter unpruned net the same sweep removes 75% within the drop
    assert _sweep_summary(sweep, 0.005, 0.995, reference=2000)["max_removed_within_drop"] == pytest.approx(0.75)


def test_paper001_parameter_counts_and_chain_decomposition():
    from sims.paper001_chains import EXAMPLES, chain_check, chain_parameters, hops, splits
    # every printed count is reproduced by a plain chain of biased linear layers
    for topo, n_full, chain, n_split, _, _ in EXAMPLES.values():
        assert chain_parameters(topo) == n_full and chain_parameters(chain) == n_split
    # [784, 367, 176, 3000]: 367 was created first (largest), then 176 inside 367 -> 3000
    assert splits(784, 3000, [367, 176]) == [(784, 3000, 367), (367, 3000, 176)]
    assert hops([784, 3000, 10], [784, 367, 176, 3000, 10]) == [(784, 3000, [367, 176]), (3000, 10, [])]
    # a 45% removal keeps at least floor(0.55 * 784) = 431 of 784 singular values
    assert chain_check([784, 3000], [784, 431, 3000], 0.55)["too_small"] == []
    assert chain_check([784, 3000], [784, 430, 3000], 0.55)["too_small"] == [(784, 3000, 430)]
    # a split that saves nothing: r (x + y) >= x y
    assert chain_check([100, 100], [100, 50, 100], 0.45)["no_saving"] == [(100, 100, 50)]


def test_paper001_arithmetic_verdicts():
    from sims.paper001_chains import arithmetic_verdicts
    verdicts, rows = arithmetic_verdicts()
    assert all(r["parameters_counted"] == r["parameters_printed"] for r in rows)
    assert all(r["split_parameters_counted"] == r["split_parameters_printed"] for r in rows)
    # one row: the five printed chains are one text inconsistency of the paper (sims.paper001_chains)
    assert {v.claim for v in verdicts} == {"001:algorithm:4.4"} and len(verdicts) == 1
    assert all(r["splits_below_floor_045"] == 0 for r in rows)  # the printed chains fit keeping 45%


@pytest.fixture
def tiny_configs(monkeypatch):
    """sims.paired_runs.cpu_config shrunk to toy size (widths / 100, 200 images, 8 epochs) so the
    experiment functions run end to end in seconds; the numbers mean nothing."""
    import sims.paired_runs as s3
    from nets.configs import get_config

    def tiny(name, **kw):
        cfg = get_config(name, "cpu", width_divisor=100, n_train=200, n_test=200)
        cfg.epochs = 8 if cfg.model["kind"] == "mlp" else 2
        if cfg.model["kind"] == "cnn":
            cfg.model["conv_channels"] = [1, 2, 2, 2, 2]
            cfg.model["fc_topology"] = [2 * 81, 16, 16, 16, 10]
        if cfg.pruning:
            cfg.pruning["every"] = min(cfg.pruning["every"], 7)
        return cfg
    monkeypatch.setattr(s3, "cpu_config", tiny)
    return tiny


def test_claims_ladder_and_cnn_experiments_run_at_toy_size(tmp_path, tiny_configs):
    from sims import example_3_4, section_3_2_1
    res = section_3_2_1.run(section_3_2_1.Config(seeds=1, runs_dir=str(tmp_path)))
    claims = {v.claim for v in res.verdicts}
    assert {"000:text:3.2.1.3", "000:text:3.2.1.4", "000:figure:3.6", "000:text:3.2.1.5", "000:text:3.2.1.6",
            "000:text:3.2.3", "000:text:3.2.4", "000:text:3.2.6"} <= claims
    assert {r["config"] for r in res.tables["sparsification_sweep"]} == {"fmnist-mp-sparsify-after"}
    cnn = example_3_4.run(example_3_4.Config(seeds=1, runs_dir=str(tmp_path)))
    assert {"000:example:3.4", "000:text:3.2.2.3", "000:figure:3.9", "000:figure:3.8",
            "000:text:3.2.6"} <= {v.claim for v in cnn.verdicts}


def test_width_ladder_runs_and_extrapolates_at_toy_size(tmp_path, tiny_configs):
    from sims.example_3_2_widths import Config, run
    res = run(Config(widths=(20, 10), seeds=2, runs_dir=str(tmp_path)))
    assert [r["width_divisor"] for r in res.records] == [20, 10]
    (v,) = res.verdicts
    assert v.claim == "000:table:3.4" and "extrapolat" in v.note and v.interval[0] <= v.measured <= v.interval[1]


def test_common_class_gap_drops_classes_either_net_never_predicts():
    from sims.paired_runs import class_accuracies, common_class_gap
    p = {"final_class_accuracy": [0.9, 0.8, 0.7], "final_predicted_classes": [0, 1, 2]}
    u = {"final_class_accuracy": [0.8, 0.0, 0.7], "final_predicted_classes": [0, 2]}
    assert common_class_gap(p, u) == pytest.approx((0.9 + 0.7) / 2 - (0.8 + 0.7) / 2)
    net = _net_with_dead_parts()  # output 2 never fires: class 2 is never predicted
    x = torch.randn(400, 4, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 3, (400,), generator=torch.Generator().manual_seed(2))
    acc, predicted = class_accuracies(net, TensorDataset(x, y), "cpu")
    assert 2 not in predicted and acc[2] == 0.0
    with torch.no_grad():
        pred = net(x).argmax(1)
    assert acc[0] == pytest.approx(float((pred[y == 0] == 0).double().mean()))


def test_pruning_callback_loads_a_pre_pruneevent_history():
    """Checkpoints written before nets.prune.PruneEvent hold plain event dicts; they must still load
    (and save again), or no earlier run can be resumed or read back."""
    from nets.algorithms import MPPruningCallback
    legacy = {"layer": "layers.fc5", "kind": "linear", "shape": [10, 50], "action": "split", "rank_before": 10,
              "rank_after": 8, "kept_sv_min": 0.99, "removed_sv_max": 0.95, "removed_sv_sum_sq": 1.7, "epoch": 7}
    cb = MPPruningCallback()
    cb.load_state_dict({"history": [legacy]})
    assert cb.history == [legacy] and cb.state_dict() == {"history": [legacy]}


def test_claims_and_cnn_results_are_redecided_from_their_stored_tables(tmp_path, tiny_configs):
    """A stored Result re-decided from its own rows and sweeps (no training) gives the verdicts the
    run gave, and keeps the training provenance under config.redecided_from."""
    from core.result import write_result
    from sims import example_3_4, section_3_2_1
    for mod in (section_3_2_1, example_3_4):
        res = mod.run(mod.Config(seeds=1, runs_dir=str(tmp_path / "runs")))
        path = tmp_path / f"{mod.MODULE}.json"
        write_result(res, path)
        again = mod.run(mod.Config(seeds=1, runs_dir=None, redecide_from=str(path)))
        assert [(v.claim, v.verdict, v.measured) for v in again.verdicts] == \
               [(v.claim, v.verdict, v.measured) for v in res.verdicts]
        assert again.config["redecided_from"]["path"] == str(path)
