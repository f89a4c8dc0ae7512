"""nets.vit (the small ViT), nets.randomness and sims.paper003_abstract and sims.budget_pruning: pruning-at-a-budget and verdict
logic. Verdict logic is checked on synthetic rows whose answer is known by construction; the
pruning helpers against counts written out by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import nets
from core.validate import InvalidArgument
from sims import paper003_abstract as p3
from nets.randomness import model_randomness, randomness
from nets.vit import VisionTransformer, ViTConfig, block_weight_layers
from tests.planted import spiked_matrix


def _small_vit(seed=0):
    torch.manual_seed(seed)
    return VisionTransformer(ViTConfig(width=32, depth=2, heads=2, patch=7)).eval()


def test_patches_are_the_non_overlapping_blocks():
    model = _small_vit()
    x = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 1, 28, 28)
    p = model.patches(x)
    assert p.shape == (2, 16, 49)
    # patch (row 1, column 2) of image 1 is x[1, 0, 7:14, 14:21], flattened row-major
    assert torch.equal(p[1, 1 * 4 + 2], x[1, 0, 7:14, 14:21].reshape(-1))


def test_vit_config_rejects_bad_shapes():
    with pytest.raises(InvalidArgument, match="patch"):
        ViTConfig(patch=5)
    with pytest.raises(InvalidArgument, match="heads"):
        ViTConfig(width=30, heads=4)


def test_mp_pruning_a_vit_and_loading_it_back():
    model = _small_vit(1)
    x = torch.randn(4, 1, 28, 28)
    layers = block_weight_layers(model)
    assert layers == ["blocks.layers.0.self_attn", "blocks.layers.0.self_attn.out_proj", "blocks.layers.0.linear1",
                      "blocks.layers.0.linear2", "blocks.layers.1.self_attn", "blocks.layers.1.self_attn.out_proj",
                      "blocks.layers.1.linear1", "blocks.layers.1.linear2"]
    decisions = nets.decide_model(model, tau=None, layers=layers, keep_fraction=0.5, allow_rank_zero=True)
    assert sum(len(d) for d in decisions) == 2 * (3 + 3)   # Q, K, V, out_proj, linear1, linear2 per block
    for decision in decisions:
        decision.apply()
    with torch.no_grad():
        want = model(x)
    fresh = VisionTransformer(model.config).eval()
    nets.load_pruned_state_dict(fresh, model.state_dict(), dense=True)
    with torch.no_grad():
        np.testing.assert_allclose(fresh(x).numpy(), want.numpy(), atol=2e-5)


def test_randomness_measures_on_planted_spikes():
    W = torch.from_numpy(spiked_matrix(100, 200, [8.0, 6.0], seed=3))
    r = randomness(W)
    # two spikes far above BBP are always out of the bulk; noise above the TW margin is rare
    assert r["n_above"] >= 2 and r["bulk_fraction"] == pytest.approx(1 - r["n_above"] / 100)
    s = np.linalg.svd(W.numpy(), compute_uv=False)
    assert r["spike_norm"] == pytest.approx(float(np.sqrt((s[:r["n_above"]] ** 2).sum())), rel=1e-9)
    assert r["bulk_energy_fraction"] == pytest.approx(float((s[r["n_above"]:] ** 2).sum() / (s ** 2).sum()), rel=1e-9)
    rows = model_randomness(nn.Sequential(nn.Linear(20, 30), nn.Linear(30, 2)))
    assert [row["matrix"] for row in rows] == ["0", "1"] and math.isnan(rows[1]["sigma2"])   # 2 outputs: no fit


def test_t_interval_is_the_protocols_bootstrap():
    from core.protocol import bootstrap_mean_interval
    v = [1.0, 2.0, 4.0]
    m, lo, hi = p3.t_interval(v)
    assert m == pytest.approx(7 / 3) and [lo, hi] == bootstrap_mean_interval(v) and 1.0 <= lo < hi <= 4.0
    assert math.isnan(p3.t_interval([1.0])[1])


def test_budget_helpers_count_what_they_remove():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(120, 80), nn.ReLU(), nn.Linear(80, 60))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(spiked_matrix(80, 120, [6.0, 5.0], seed=1)))
        model[2].weight.copy_(torch.from_numpy(spiked_matrix(60, 80, [6.0], seed=2)))
    pruned, saved, events = p3.mp_prune_level(model, ["0", "2"], 1.0, allow_rank_zero=True)
    r0, r2 = events[0].rank_after, events[1].rank_after
    expected = (80 * 120 - r0 * 200 if r0 * 200 < 80 * 120 else 0) + (60 * 80 - r2 * 140 if r2 * 140 < 60 * 80 else 0)
    assert saved == expected > 0
    for method in ("magnitude", "random"):
        other = p3.unstructured_prune(model, ["0", "2"], 1234, method, seed=5)
        zeros = int((other[0].weight == 0).sum() + (other[2].weight == 0).sum())
        assert zeros == 1234
    assert int((model[0].weight == 0).sum()) == 0     # the original is untouched


def _removal_rows(curves):
    rows = []
    for seed, curve in enumerate(curves):
        for q, loss in zip(p3.LEVELS, curve):
            rows.append(dict(net="n", seed=seed, l2=0.0, level=q, train_loss=loss, test_loss=loss))
    return rows


def test_removal_verdicts_follow_the_curves():
    """Seven seeds (Holm over the train and test rows: 2 * 2/128 <= 0.05); the loss falls from q = 0 to
    q = 1 on every seed: holds; rises on every seed: fails; three seeds cannot decide."""
    down = [[1.0 + 0.01 * k, 0.9, 0.8, 0.7, 0.6 - 0.01 * k] for k in range(7)]
    v = p3.removal_verdicts(_removal_rows(down))
    assert {x.verdict for x in v} == {"holds"} and v[0].protocol["p_adjusted"] == 4 / 128
    up = [[c[0], c[1], c[2], c[3], c[4] + 2.0] for c in down]     # the last step rises in every seed
    assert {x.verdict for x in p3.removal_verdicts(_removal_rows(up))} == {"fails"}
    assert {x.verdict for x in p3.removal_verdicts(_removal_rows(down[:3]))} == {"inconclusive"}


def test_randomness_verdicts_follow_the_trajectories():
    """Eight seeds (Holm over the decided measures); sigma^2 is reported, never decided."""
    def traj(sign):
        rows = []
        for seed in range(8):
            for epoch in range(4):
                for k, matrix in enumerate(("a", "b")):
                    bf = 0.9 + sign * 0.02 * epoch + 0.001 * seed + 0.003 * k
                    rows.append(dict(net="n", seed=seed, l2=0.0, epoch=epoch, matrix=matrix, bulk_fraction=bf,
                                     sigma2=1.0, fit_statistic=0.1, spike_norm=1.0))
        return rows
    V = p3.randomness_verdicts(traj(-1))
    down = {v.extra["measure"]: v.verdict for v in V}
    assert down["bulk_fraction"] == "holds" and down["fit_statistic"] == "inconclusive"   # constant: no change
    assert "sigma2" not in down and "BEMA sigma^2 (descriptive" in V[0].note
    assert {v.extra["measure"]: v.verdict for v in p3.randomness_verdicts(traj(+1))}["bulk_fraction"] == "fails"


def test_vit_verdict_reads_reduction_within_one_point():
    def rows(drop_at_40):
        out = []
        for seed in range(3):
            for q, red, drop in ((0.0, 0.0, 0.0), (0.5, 0.4, drop_at_40 + 0.0005 * seed)):
                out.append(dict(seed=seed, method="mp", level=q, reduction=red, accuracy_drop=drop,
                                test_accuracy=0.9 - drop, matched_to=None))
        return out
    held = p3.vit_verdicts(rows(0.002))[0]
    assert held.verdict == "holds" and held.measured == pytest.approx(0.4)
    failed = p3.vit_verdicts(rows(0.05))[0]
    # plain rank truncation is not 003's method: a miss cannot refute the claim (sims.paper003_frontier)
    assert failed.verdict == "inconclusive" and failed.measured == 0.0
    assert "low-rank analogue" in failed.setting and failed.note.startswith("NOT a test of 003's method")
    assert p3.vit_verdicts(rows(0.05))[1].verdict == "inconclusive"   # ViT-B/16 on ImageNet: withheld


def test_the_committed_result_is_its_own_tables_redecided():
    """results/nets/paper003.json (its ViT checkpoints are gone) carries exactly the verdicts the
    declared rules give from its stored records and tables."""
    import json
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "results" / "nets" / "paper003.json"
    stored = json.loads(path.read_text())
    res = p3.run(p3.Config(redecide_from=str(path), parts=("theorems",), mlp_seeds=(0,)))
    assert [(v.claim, v.setting, v.verdict) for v in res.verdicts] == [
        (v["claim"], v["setting"], v["verdict"]) for v in stored["verdicts"]]
    assert res.config["redecided_from"]["provenance"]["argv"][2] == "nets.paper003"


def test_one_seed_is_untested_not_a_crash():
    """One seed per (net, L2) is no test: inconclusive, with no Holm step in the note (the rows of
    a one-seed run used to raise on formatting the missing adjusted p)."""
    down = [[1.0, 0.9, 0.8, 0.7, 0.6]]
    v = p3.removal_verdicts(_removal_rows(down))
    assert {x.verdict for x in v} == {"inconclusive"}
    assert all(x.protocol["p"] is None and "Holm" not in x.note for x in v)
