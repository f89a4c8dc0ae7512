"""sims.posttraining_truncation's verdicts through core.protocol: the declared ``bound`` rule, and the
scale it states (a Fashion-MNIST run is not the papers' MNIST Example D.3)."""
from sims import posttraining_truncation as ptr


def _data(acc_mp, dataset, width=1000):
    rows = [dict(rank=5, accuracy=acc_mp, is_mp_rank=True), dict(rank=784, accuracy=0.98, is_mp_rank=False)]
    return dict(rows=rows, full_rank_accuracy=0.98, dataset=dataset, layer="layers.fc1", shape=[width, 784],
                n_train=1, n_test=1, mp_rank=5, sv_threshold=1.0, lambda_plus=1.0, sigma2=1.0, fit_statistic=0.0,
                accepted=True, train_seconds=0.0, dx_at_mp_rank={}, train_metrics=[])


def test_bound_rule_and_scale():
    held = ptr._net_rows(_data(0.971, "mnist"), 0, "relu")[3]
    assert [v.verdict for v in held] == ["holds", "holds"] and held[0].protocol["scale"] == "paper"
    assert held[0].protocol["rule"] == "bound" and held[0].bound == 0.98 - ptr.ACCURACY_TOLERANCE
    missed = ptr._net_rows(_data(0.969, "fashion_mnist"), 1, "none")[3]
    assert [v.verdict for v in missed] == ["fails", "fails"]
    assert all("the papers: MNIST" in v.protocol["scale"] for v in missed)
    assert "paper" != ptr._net_rows(_data(0.98, "mnist", width=200), 0, "relu")[3][0].protocol["scale"]
