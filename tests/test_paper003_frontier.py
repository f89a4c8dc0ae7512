"""sims.paper003_frontier's declared rule (core.protocol) on hand-made rows (no training): the endpoint
is the first cycle reaching 30% / 50% removed; per seed 1 point minus the accuracy drop, exact
two-sided sign-flip test, Holm over the family (both endpoints), holds below 1 point, fails above,
inconclusive otherwise or when the endpoint is never reached; the fine-tuned control is its own row
and family.  Eight seeds: Holm over two tests needs 2 * 2^(1-n) <= 0.05 (n >= 7)."""
import pytest

from sims import paper003_frontier as pf

SEEDS = range(8)
CFG = pf.Config(nets=("fc",), seeds=tuple(SEEDS))
UNITS = {("fc", s): {"pretrain": {"epochs": 1, "curve": []}} for s in SEEDS}


def rows(drops_at_cycle2, removed=(0.2, 0.35, 0.55)):
    out = []
    for seed, drop in enumerate(drops_at_cycle2):
        for cycle, rem in enumerate(removed, start=1):
            d = drop if cycle == 2 else 0.0
            out.append(dict(net="fc", seed=seed, method="003", level=cycle, removed_nonzero=rem,
                            removed_stored=0.0, accuracy_drop_points=d, test_accuracy=0.9 - d / 100,
                            base_accuracy=0.9))
    return out


def spread(center, n=8, step=0.02):
    return [center + step * (k - (n - 1) / 2) for k in range(n)]


def at30(v, kind="literal"):
    fam = pf.CLAIM if kind == "literal" else pf.CLAIM + " finetune-only control"
    return next(x for x in v if x.extra.get("endpoint") == 0.30 and x.protocol["family"] == fam)


def test_small_consistent_drops_hold_at_30_percent():
    v = pf.verdicts(rows(spread(0.15)), UNITS, CFG)
    x = at30(v)
    assert x.verdict == "holds" and x.extra["cycle"] == 2 and x.measured == pytest.approx(0.15)
    assert x.protocol["p"] == 2 / 256 and x.protocol["p_adjusted"] == 4 / 256 and x.protocol["rule"] == "paired_sign"
    assert x.interval[0] > 0  # the interval of 1 point minus the drop


def test_large_drops_fail_and_spread_drops_are_inconclusive():
    assert at30(pf.verdicts(rows(spread(3.1)), UNITS, CFG)).verdict == "fails"
    mixed = [0.0, 2.0, 1.0, 0.5, 1.5, 0.2, 1.8, 1.0]
    x = at30(pf.verdicts(rows(mixed), UNITS, CFG))
    assert x.verdict == "inconclusive"
    # three seeds (the committed run) can never decide: the smallest two-sided p is 1/4
    three = pf.verdicts(rows([0.1, 0.2, 0.15]), {("fc", s): UNITS[("fc", s)] for s in range(3)}, CFG)
    assert all(v.verdict == "inconclusive" for v in three)


def test_an_endpoint_never_reached_is_inconclusive():
    v = pf.verdicts(rows(spread(0.1), removed=(0.1, 0.2, 0.25)), UNITS, CFG)
    assert [x.verdict for x in v] == ["inconclusive", "inconclusive"]
    assert all("not reached" in x.protocol["reason"] for x in v)


def test_the_frontier_table_averages_over_seeds():
    table = pf.frontier(rows([0.3, 0.6, 0.9]))
    row = next(r for r in table if r["level"] == 2)
    assert row["seeds"] == 3 and row["drop_points"] == pytest.approx(0.6)
    assert row["removed_nonzero"] == pytest.approx(0.35)


def test_the_fine_tuned_control_is_its_own_row():
    base = rows(spread(-1.5))              # pruned nets beat the pre-trained one by ~1.5 points
    control = [dict(net="fc", seed=sd, method="finetune_only", level=2, removed_nonzero=0.0,
                    removed_stored=0.0, accuracy_drop_points=-3.0, test_accuracy=0.93, base_accuracy=0.9)
               for sd in SEEDS]          # ... but fine-tuning alone gains 3 points: pruning costs ~1.5
    v = pf.verdicts(base + control, UNITS, CFG)
    # holds against the pre-trained net, fails against the control: two rows, two families
    assert at30(v).verdict == "holds" and at30(v).measured == pytest.approx(-1.5)
    c = at30(v, "control")
    # measured = mean of 100 (0.93 - (0.9 - d / 100)) = 3 + mean(d) = 1.5 exactly in real arithmetic;
    # the float differences of numbers near 0.9, times 100, carry ~1e-14 of rounding
    assert c.verdict == "fails" and c.measured == pytest.approx(1.5, rel=1e-12)
    assert all(x.protocol["scale"] != "paper" for x in v)


def test_one_seed_reaching_the_endpoint_is_untested_not_a_crash():
    """One seed is no test: inconclusive, with no Holm step in its note (it used to raise on
    formatting the missing adjusted p)."""
    v = pf.verdicts(rows([0.2]), {("fc", 0): UNITS[("fc", 0)]}, CFG)
    x = at30(v)
    assert x.verdict == "inconclusive" and x.protocol["p"] is None and "Holm" not in x.note
