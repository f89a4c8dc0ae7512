"""sims.paper003_frontier's declared verdict rule on hand-made rows (no training): the endpoint is the
first cycle reaching 30% / 50% removed, the interval a 97.5% t interval over seeds, holds below 1
point, fails above, inconclusive across or when the endpoint is never reached."""
import pytest

from sims import paper003_frontier as pf

CFG = pf.Config(nets=("fc",), seeds=(0, 1, 2))
UNITS = {("fc", s): {"pretrain": {"epochs": 1, "curve": []}} for s in range(3)}


def rows(drops_at_cycle2, removed=(0.2, 0.35, 0.55)):
    out = []
    for seed, drop in enumerate(drops_at_cycle2):
        for cycle, rem in enumerate(removed, start=1):
            d = drop if cycle == 2 else 0.0
            out.append(dict(net="fc", seed=seed, method="003", level=cycle, removed_nonzero=rem,
                            removed_stored=0.0, accuracy_drop_points=d, test_accuracy=0.9 - d / 100,
                            base_accuracy=0.9))
    return out


def test_small_consistent_drops_hold_at_30_percent():
    v = pf.verdicts(rows([0.1, 0.2, 0.15]), UNITS, CFG)
    at30 = next(x for x in v if x.extra.get("endpoint") == 0.30)
    assert at30.verdict == "holds" and at30.extra["cycle"] == 2
    assert at30.interval[1] < 1.0 and at30.measured == pytest.approx(0.15)


def test_large_drops_fail_and_spread_drops_are_inconclusive():
    at30 = next(x for x in pf.verdicts(rows([3.0, 3.2, 3.1]), UNITS, CFG) if x.extra.get("endpoint") == 0.30)
    assert at30.verdict == "fails" and at30.interval[0] > 1.0
    at30 = next(x for x in pf.verdicts(rows([0.0, 2.0, 1.0]), UNITS, CFG) if x.extra.get("endpoint") == 0.30)
    assert at30.verdict == "inconclusive"


def test_an_endpoint_never_reached_is_inconclusive():
    v = pf.verdicts(rows([0.1, 0.1, 0.1], removed=(0.1, 0.2, 0.25)), UNITS, CFG)
    assert [x.verdict for x in v] == ["inconclusive", "inconclusive"]
    assert all("not reached" in x.note for x in v)


def test_the_frontier_table_averages_over_seeds():
    table = pf.frontier(rows([0.3, 0.6, 0.9]))
    row = next(r for r in table if r["level"] == 2)
    assert row["seeds"] == 3 and row["drop_points"] == pytest.approx(0.6)
    assert row["removed_nonzero"] == pytest.approx(0.35)


def test_the_fine_tuned_control_can_only_make_the_verdict_stricter():
    base = rows([-1.5, -1.6, -1.4])        # pruned nets beat the pre-trained one by ~1.5 points
    control = [dict(net="fc", seed=sd, method="finetune_only", level=2, removed_nonzero=0.0,
                    removed_stored=0.0, accuracy_drop_points=-3.0, test_accuracy=0.93, base_accuracy=0.9)
               for sd in range(3)]     # ... but fine-tuning alone gains 3 points: pruning costs ~1.5
    at30 = next(x for x in pf.verdicts(base + control, UNITS, CFG) if x.extra.get("endpoint") == 0.30)
    # holds against the pre-trained net, fails against the control: the two must agree
    assert at30.verdict == "inconclusive" and at30.measured == pytest.approx(-1.5)
    assert "against the control" in at30.note and "1.50 [" in at30.note
    both_fail = rows([3.0, 3.2, 3.1]) + [dict(c, test_accuracy=0.9) for c in control]
    at30 = next(x for x in pf.verdicts(both_fail, UNITS, CFG) if x.extra.get("endpoint") == 0.30)
    assert at30.verdict == "fails"
