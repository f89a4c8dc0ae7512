"""sims.remove_all_ablation (the f = 0 ablation of 000:text:3.1.3.1 / 001:text:4.4.1) and the per-example
verdicts of sims.paper001_examples: decision rules on synthetic inputs, both experiments end to end at toy
size (widths / 100, 200 images, a few epochs: the numbers mean nothing, the plumbing is checked)."""
import math

import pytest

from nets.configs import get_config


@pytest.fixture
def tiny(monkeypatch):
    import sims.paired_runs as s3

    def tiny_config(name, **kw):
        cfg = get_config(name, "cpu", width_divisor=100, n_train=200, n_test=200)
        cfg.epochs = 7  # one pruning round (every 7)
        return cfg
    monkeypatch.setattr(s3, "cpu_config", tiny_config)
    # decode the data once per seed for the whole test (sims.paired_runs keeps one seed at a time,
    # which here would decode Fashion-MNIST again for every config and rerun)
    loaded, original = {}, s3.load_data

    def data(cfg, seed, data_dir):
        key = (cfg.dataset, cfg.n_train, cfg.n_test, seed)
        if key not in loaded:
            loaded[key] = original(cfg, seed, data_dir)
        return loaded[key]
    monkeypatch.setattr(s3, "load_data", data)
    return tiny_config


# -- decision rules ---------------------------------------------------------------------------

def test_paired_verdict_reads_the_interval_on_the_claimed_side():
    from sims.statistics import paired_verdict
    assert paired_verdict([0.010, 0.012, 0.011])[0] == "holds"
    assert paired_verdict([-0.010, -0.012, -0.011])[0] == "fails"
    assert paired_verdict([0.02, -0.01, 0.005])[0] == "inconclusive"
    assert paired_verdict([0.05])[0] == "inconclusive"           # one seed: no interval
    assert paired_verdict([-0.010, -0.012, -0.011], want_positive=False)[0] == "holds"
    verdict, s = paired_verdict([0.0, 0.0, 0.0], identical=True)
    assert verdict == "vacuous" and s["mean"] == 0.0
    _, s = paired_verdict([0.01, 0.03])
    assert s["mean"] == pytest.approx(0.02) and s["lo"] < 0.01 and s["hi"] > 0.03


def test_arms_identical_compares_losses_and_parameters():
    from sims.remove_all_ablation import arms_identical
    a = [{"train_loss": 1.0, "parameters": 10}, {"train_loss": 0.5, "parameters": 10}]
    assert arms_identical(a, [dict(m) for m in a])
    assert not arms_identical(a, [a[0], {"train_loss": 0.5, "parameters": 8}])
    assert not arms_identical(a, a[:1])


def test_first_round_ranks_reads_the_first_round_only():
    from sims.remove_all_ablation import first_round_ranks
    ms = [{"events": []},
          {"events": [{"action": "split", "rank_after": 3}, {"action": "none", "rank_after": 9},
                      {"action": "dense", "rank_after": 0}]},
          {"events": [{"action": "split", "rank_after": 1}]}]
    assert first_round_ranks(ms) == [3, 0]
    assert first_round_ranks([{"events": []}]) == []


def test_remove_all_variant_keeps_no_small_singular_value():
    from nets.configs import schedule_callable
    from sims.remove_all_ablation import remove_all_variant
    cfg = get_config("ex3.2a", "cpu")
    out = remove_all_variant(cfg)
    assert out.name == "ex3.2a-remove-all" and cfg.pruning["schedule"] == "3.6"
    assert all(schedule_callable(out.pruning)(e) == 0.0 for e in (7, 14, 63))
    assert schedule_callable(cfg.pruning)(7) > 0.8
    p = remove_all_variant(get_config("p001-ex4.6", "cpu"))
    assert p.pruning["remove_fraction"] == 1.0 and p.pruning["variant"] == "paper001"
    with pytest.raises(ValueError, match="no MP pruning"):
        remove_all_variant(get_config("e4-classification", "cpu"))


def test_paper001_gain_and_collapse_rules():
    from sims.paper001_examples import collapse
    from sims.statistics import size as gain_verdict
    assert gain_verdict(0.02, 0.05, 0.115) == "fails"           # whole CI below the paper's gain
    assert gain_verdict(0.02, 0.20, 0.115) == "holds"
    assert gain_verdict(-0.02, 0.20, 0.115) == "inconclusive"
    assert gain_verdict(math.nan, math.nan, 0.115) == "inconclusive"
    assert collapse({"best_test_accuracy": 0.95, "final_test_accuracy": 0.20}) == pytest.approx(0.75)


def test_gof_verdict_pairs_examples_4_4_and_4_5():
    from sims.paper001_examples import gof_verdict

    def pair(best, final, params=100, diverged=None, splits=2):
        return ({"best_test_accuracy": best, "final_test_accuracy": final, "final_parameters": params,
                 "diverged": diverged, "splits": splits}, {})
    p44 = [pair(0.90, 0.89), pair(0.91, 0.90), pair(0.90, 0.895)]
    falls = [pair(0.90, 0.30, diverged="stopped after epoch 9: pruned: training loss became nan in epoch 10"),
             pair(0.91, 0.40), pair(0.90, 0.35)]
    v = gof_verdict(p44, falls, 3)
    assert v.claim == "001:text:4.5.8" and v.verdict == "holds" and v.measured == pytest.approx((0.60 + 0.51 + 0.55 - 0.01 - 0.01 - 0.005) / 3)
    assert "{'4.4': 0, '4.5': 1}" in v.note
    assert gof_verdict(p44, [pair(0.90, 0.90), pair(0.91, 0.91), pair(0.90, 0.90)], 3).verdict == "fails"
    # the weaker fit never split: the 4.5 split runs are plain training, nothing was tested
    never = [pair(0.90, 0.30, splits=0), pair(0.91, 0.40, splits=0), pair(0.90, 0.35, splits=0)]
    assert gof_verdict(p44, never, 3).verdict == "vacuous"


# -- end to end at toy size ---------------------------------------------------------------------

def test_remove_all_end_to_end_at_toy_size(tmp_path, tiny):
    from sims.remove_all_ablation import Config, run

    def remove_all(**kw):
        return run(Config(**{**kw, "runs_dir": str(kw["runs_dir"])}))
    res = remove_all(seeds=2, p001_seeds=2, p001_epochs_cap=3, runs_dir=tmp_path)
    assert [v.claim for v in res.verdicts] == ["000:text:3.1.3.1"] * 2 + ["001:text:4.4.1"] * 2
    assert len(res.records) == 4
    assert all(r["identical_until_first_round"] for r in res.records)
    assert {r["config"] for r in res.records} == {"ex3.2a", "p001-ex4.6"}
    # the remove-all arm kept no small singular value at any round
    import json
    for name, key in (("ex3.2a-remove-all", "keep_fraction"), ("p001-ex4.6-remove-all", "keep_fraction")):
        (d,) = list(tmp_path.glob(f"{name}-*"))
        events = [ev for m in json.loads((d / "seed0" / "single" / "metrics.json").read_text())["epochs"]
                  for ev in m.get("events", [])]
        assert events and all(ev[key] == 0.0 for ev in events), name
    again = remove_all(seeds=2, p001_seeds=2, p001_epochs_cap=3, runs_dir=tmp_path)
    assert again.records == res.records


@pytest.mark.parametrize("args", [["--seeds", "0", "--p001-seeds", "0"], ["--p001-example", "4.9"],
                                  ["--seeds", "-1"], ["--width-divisor", "0"]])
def test_remove_all_bad_input_exits_2(args, capsys):
    from nets.remove_all import main
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err and err.strip()


def test_paper001_examples_4_4_and_4_5_at_toy_size(tmp_path, tiny):
    from sims.paper001_examples import Config, run
    res = run(Config(examples=("4.4", "4.5"), seeds=2, epochs_cap=4, runs_dir=str(tmp_path)))
    claims = [v.claim for v in res.verdicts]
    assert "001:text:4.5.8" in claims and claims.count("001:algorithm:4.4") == 5 + 2
    assert [r["example"] for r in res.tables["examples"]] == ["4.4", "4.5"]
    ex = res.tables["examples"][0]
    assert ex["parameters_counted"] == ex["parameters_printed"] == 4_435_010
    assert ex["epochs_run"] == 4 and ex["paper_epochs"] == 300
    assert {(c["config"], c["run"]) for c in res.tables["curves"]} == {
        (f"p001-ex{e}", a) for e in ("4.4", "4.5") for a in ("split", "non-split")}
    assert max(c["epoch"] for c in res.tables["curves"]) == 4
    # an example whose split runs never split is vacuous, not a measured gain
    for row in res.tables["examples"]:
        mine = [v for v in res.verdicts if v.claim == "001:algorithm:4.4" and f"Example {row['example']} counterpart"
                in v.setting]
        assert len(mine) == 1 and (mine[0].verdict == "vacuous") == (row["splits"] == 0)
    # the Figs 7 and 8 counterparts draw from the Result; Fig 6 (Example 4.3) is not in it
    from types import SimpleNamespace

    import matplotlib
    matplotlib.use("Agg")
    from core.result import write_result
    from figures._results import MissingResult
    from figures.fig_paper001 import FIGURES
    args = SimpleNamespace(results_dir=tmp_path / "results")
    with pytest.raises(MissingResult, match="nets.paper001"):
        FIGURES["001.7"](tmp_path, args)
    write_result(res, tmp_path / "results" / "paper001.json")
    for name in ("001.7", "001.8"):
        paths = FIGURES[name](tmp_path, args)
        assert all(p.exists() and p.stat().st_size > 0 for p in paths), name
    with pytest.raises(MissingResult, match="4.3"):
        FIGURES["001.6"](tmp_path, args)
