"""sims.remove_all_ablation (the f = 0 ablation of 000:text:3.1.3.1 / 001:text:4.4.1) and the per-example
verdicts of sims.paper001_examples: decision rules on synthetic inputs, both experiments end to end at toy
size (widths / 100, 200 images, a few epochs: the numbers mean nothing, the plumbing is checked)."""

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

def _rows(kept_minus_removed, removed_minus_kept, identical=False):
    return [{"test_accuracy_kept_minus_removed": a, "train_loss_removed_minus_kept": b,
             "test_accuracy_removed_minus_reference": 0.0, "arms_identical": identical,
             "identical_until_first_round": True, "kept_diverged": None, "removed_diverged": None,
             "removed_first_round_ranks": [], "kept_first_round_ranks": [], "removed_rank_zero_layers": 0,
             **{f"{arm}_{k}": 0.5 for arm in ("kept", "removed", "reference")
                for k in ("final_test_accuracy", "final_train_loss", "final_parameters", "final_train_accuracy")}}
            for a, b in zip(kept_minus_removed, removed_minus_kept)]


def test_ablation_family_on_planted_data():
    """Known answers of the declared family (exact two-sided sign-flip, Holm over two endpoints):
    7 seeds all positive give p = 2/128 each, Holm 4/128 <= 0.05: both hold; 7 seeds all negative
    performance: fails; 6 seeds can reach at best 2/64 * 2 = 0.0625 > 0.05: inconclusive (so the
    committed 3- and 5-seed settings cannot decide); arms that never differed: vacuous."""
    from sims.remove_all_ablation import ablation_verdicts
    claim = "000:text:3.1.3.1"
    up = [0.01 * (k + 1) for k in range(7)]
    v = ablation_verdicts(claim, "toy", _rows(up, up), "kept", scale="toy")
    assert [x.verdict for x in v] == ["holds", "holds"]
    assert [x.protocol["p_adjusted"] for x in v] == [4 / 128, 4 / 128]
    assert v[0].protocol["family"] == claim and v[0].protocol["scale"] == "toy"
    v = ablation_verdicts(claim, "toy", _rows([-x for x in up], up), "kept", scale="toy")
    assert [x.verdict for x in v] == ["fails", "holds"]
    v = ablation_verdicts(claim, "toy", _rows(up[:6], up[:6]), "kept", scale="toy")
    assert [x.verdict for x in v] == ["inconclusive", "inconclusive"] and v[0].protocol["pairs_needed"]
    v = ablation_verdicts(claim, "toy", _rows([0.0] * 3, [0.0] * 3, identical=True), "kept", scale="toy")
    assert [x.verdict for x in v] == ["vacuous", "vacuous"]


def test_run_commits_lists_the_code_of_each_epoch():
    from sims.remove_all_ablation import run_commits
    ms = [{"git_commit": "0b0e40a6cf", "git_dirty": False}] * 3 + [{"git_commit": "f576196aa", "git_dirty": True},
                                                                    {}]
    assert run_commits(ms) == "0b0e40a x3 f576196+dirty x1 unrecorded x1"


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


def test_paper001_collapse():
    from sims.paper001_examples import collapse
    assert collapse({"best_test_accuracy": 0.95, "final_test_accuracy": 0.20}) == pytest.approx(0.75)


def test_gof_verdict_pairs_examples_4_4_and_4_5():
    """Seven paired seeds with a larger fall under the weaker fit: two-sided exact p = 2/128 (holds);
    the reverse fails; three seeds cannot decide; a 4.5 that never split is vacuous."""
    from sims.paper001_examples import gof_verdict

    def pair(best, final, params=100, diverged=None, splits=2):
        return ({"best_test_accuracy": best, "final_test_accuracy": final, "final_parameters": params,
                 "diverged": diverged, "splits": splits}, {})
    p44 = [pair(0.90, 0.89 - 0.001 * k) for k in range(7)]
    falls = [pair(0.90, 0.30 + 0.01 * k, diverged="stopped after epoch 9: pruned: training loss became nan in epoch 10"
                  if k == 0 else None) for k in range(7)]
    v = gof_verdict(p44, falls, 7)
    assert v.claim == "001:text:4.5.8" and v.verdict == "holds" and v.protocol["p"] == 2 / 128
    assert v.measured == pytest.approx(sum((0.60 - 0.01 * k) - (0.01 + 0.001 * k) for k in range(7)) / 7)
    assert "{'4.4': 0, '4.5': 1}" in v.note
    assert gof_verdict(falls, p44, 7).verdict == "fails"
    assert gof_verdict(p44[:3], falls[:3], 3).verdict == "inconclusive"
    # the weaker fit never split: the 4.5 split runs are plain training, nothing was tested
    never = [pair(0.90, 0.30, splits=0) for _ in range(7)]
    assert gof_verdict(p44, never, 7).verdict == "vacuous"


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


def test_kept_arm_equals_the_ex3_2a_pruned_arm_bit_for_bit(tmp_path, tiny):
    """Issue 23 item 6: the kept-some arm of the ablation and sims.example_3_2's pruned arm of the same
    seed and config, each trained in its own run cache, are the same run: equal metrics (all but the
    wall-clock times) and equal weights, bit for bit.  (The committed Results of 2026-12-02 differed
    because each read a cache trained by different code: see sims.remove_all_ablation.)"""
    import json

    import torch

    from sims import example_3_2, remove_all_ablation
    a, b = tmp_path / "ex3_2", tmp_path / "remove_all"
    ex = example_3_2.run(example_3_2.Config(seeds=2, controls=(), control_seeds=(2,), runs_dir=str(a)))
    ab = remove_all_ablation.run(remove_all_ablation.Config(seeds=2, p001_seeds=0, runs_dir=str(b)))
    pruned = {r["seed"]: r for r in ex.tables["runs"] if r["config"] == "ex3.2a" and r["run"] == "pruned"}
    assert len(ab.records) == 2 and set(pruned) == {0, 1}
    for row in ab.records:
        ref = pruned[row["seed"]]
        for key in ("final_test_accuracy", "best_test_accuracy", "final_train_loss", "final_parameters"):
            assert row[f"kept_{key}"] == ref[key], key
    timing = ("train_time_s", "callback_time_s", "cpu_time_s", "wall_time_s")
    for seed in (0, 1):
        (da,) = a.glob(f"ex3.2a-*/seed{seed}/pruned")
        (db,) = b.glob(f"ex3.2a-*/seed{seed}/pruned")
        ma, mb = (json.loads((d / "metrics.json").read_text())["epochs"] for d in (da, db))
        strip = [[{k: v for k, v in m.items() if k not in timing} for m in ms] for ms in (ma, mb)]
        assert strip[0] == strip[1]
        sa, sb = (torch.load(d / "checkpoint.pt", map_location="cpu", weights_only=False) for d in (da, db))
        wa, wb = sa["model_state"], sb["model_state"]
        assert sa["structure"] == sb["structure"] and sa["epoch"] == sb["epoch"]
        assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


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
    # one row for the printed chains, two unbiased contrasts (peak, final) per trained example
    assert "001:text:4.5.8" in claims and claims.count("001:algorithm:4.4") == 1 + 2 * 2
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
        assert len(mine) == 2 and all((v.verdict == "vacuous") == (row["splits"] == 0) for v in mine)
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


def test_the_committed_result_is_its_own_records_redecided():
    import json
    from pathlib import Path

    from sims.remove_all_ablation import Config, run
    path = Path(__file__).resolve().parent.parent / "results" / "nets" / "remove_all.json"
    stored = json.loads(path.read_text())
    res = run(Config(redecide_from=str(path)))
    assert [(v.claim, v.setting, v.verdict) for v in res.verdicts] == [
        (v["claim"], v["setting"], v["verdict"]) for v in stored["verdicts"]]
