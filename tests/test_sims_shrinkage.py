"""sims.shrinkage, sims.shrinkage_pruning and figures.fig_shrinkage: exact identities on small inputs
(engine vs dense SVD, core-of-E norms vs explicit matrices), Result structure, bad input, figures."""
import math

import numpy as np
import pytest
import torch

from core.result import read_result, write_result
from sims import shrinkage as shs
from sims import shrinkage_pruning as shp
from theory import shrinkage_symbolic as ss

TINY = shs.LemmaConfig(ratios=(1.0, 0.5), multiples=(1.5, 3.0), sizes=(100, 150, 200),
                       trials={100: 3, 150: 3, 200: 3}, edge_sizes=(100,), edge_trials={100: 3})


def test_error_norms_match_explicit_matrix():
    rng = np.random.default_rng(0)
    N, M, r = 30, 20, 3
    U = np.linalg.qr(rng.standard_normal((N, r)))[0]
    V = np.linalg.qr(rng.standard_normal((M, r)))[0]
    eta, theta = np.array([2.0, 0.0, 0.7]), np.array([2.5, 1.5, 1.0])
    S = np.zeros((N, M))
    S[np.arange(r), np.arange(r)] = theta
    E = (U * eta) @ V.T - S
    op, fro = shs._error_norms(U, eta, V, theta, r)
    assert op == pytest.approx(np.linalg.norm(E, 2), rel=1e-12)
    assert fro == pytest.approx(np.linalg.norm(E, "fro"), rel=1e-12)


@pytest.mark.parametrize("N,M", [(300, 200), (150, 300)])
def test_lemma_trial_engine_matches_dense_svd(N, M):
    theta = np.array([4.0, 2.0])
    row = shs.lemma_trial(theta, N, M, seed=3, trial=1, device=torch.device("cpu"))
    from sims.noise import spiked_matrix
    W = spiked_matrix(theta, N, M, seed=3, trials=[1]).W[0].numpy()
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    unit, beta = math.sqrt(max(N, M) / N), min(N, M) / max(N, M)
    S = np.zeros((N, M))
    S[[0, 1], [0, 1]] = theta
    for rule in shs.RULES:
        eta = unit * np.asarray(ss.rule_eta(s[:2] / unit, beta, rule))
        E = (U[:, :2] * eta) @ Vt[:2] - S
        # the engine certifies the singular vectors to 1e-6 (sims.linalg): norms agree to ~1e-5
        assert row[rule]["operator"] == pytest.approx(np.linalg.norm(E, 2), abs=1e-5)
        assert row[rule]["frobenius"] == pytest.approx(np.linalg.norm(E, "fro"), abs=1e-5)


def test_edge_trial_gd_threshold_equals_outlier_rule():
    # the GD threshold sits far above the edge: applied to all singular values it keeps exactly the
    # outliers it keeps in lemma_trial, so both studies give the same norms on the same matrix
    theta = np.array([4.0, 2.5])
    a = shs.edge_trial(theta, 200, 200, seed=1, trial=0)
    b = shs.lemma_trial(theta, 200, 200, seed=1, trial=0, device=torch.device("cpu"))
    assert a["gd_threshold"]["bulk_kept"] == 0
    assert a["gd_threshold"]["operator"] == pytest.approx(b["gd_threshold"]["operator"], abs=1e-5)


def test_tiny_run_structure_and_roundtrip(tmp_path):
    res = shs.run_lemma(TINY, log=lambda *_: None)
    assert len(res.records) == 2 * 3 * len(shs.RULES) * 2
    assert {v.claim for v in res.verdicts} >= {"000:lemma:B.2", "000:eq:B.14"}
    assert len(res.tables["rates"]) == 2 * len(shs.RULES) * 2
    write_result(res, tmp_path / "s.json")
    back = read_result(tmp_path / "s.json")
    assert back.records[0]["limit"] == pytest.approx(res.records[0]["limit"])


def test_cli_bad_input_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        shs.main(["--sizes", "10", "--quick"])
    assert exc.value.code == 2
    assert "size" in capsys.readouterr().err


def test_apply_rule_matched_rank_is_eckart_young():
    g = torch.Generator().manual_seed(0)
    W = torch.randn(40, 60, generator=g, dtype=torch.float64) / math.sqrt(60)
    W += 3.0 * torch.outer(torch.ones(40), torch.ones(60)) / math.sqrt(2400)
    Wp, k, ch = shp.apply_rule(W, "truncate", rank=3)
    U, s, Vh = torch.linalg.svd(W, full_matrices=False)
    assert k == 3
    torch.testing.assert_close(Wp, (U[:, :3] * s[:3]) @ Vh[:3])
    assert ch == pytest.approx(float(torch.linalg.matrix_norm(W - Wp, 2)), rel=1e-10)
    Wf, kf, chf = shp.apply_rule(W, "frobenius")
    assert chf == pytest.approx(float(torch.linalg.matrix_norm(W - Wf, 2)), rel=1e-10)


def test_figures_read_results(tmp_path, monkeypatch):
    import figures._results as fr
    from figures import fig_shrinkage as fs
    write_result(shs.run_lemma(TINY, log=lambda *_: None), tmp_path / "shrinkage.json")
    cfg = shp.PruningConfig(parts=("spiked",), seeds=2, sizes=(32,), n_data=50, starts=2, steps=3)
    write_result(shp.run_pruning(cfg, log=lambda *_: None), tmp_path / "shrinkage_pruning.json")
    monkeypatch.setattr(fr, "RESULTS_DIR", tmp_path)
    for name, fn in fs.FIGURES.items():
        if name == "shrinkage.training":     # reads sims.shrinkage_training's Result: tested there
            continue
        paths = fn(tmp_path / "out", None)
        assert all(p.exists() for p in paths), name


def test_missing_result_names_the_command(tmp_path, monkeypatch):
    import figures._results as fr
    from figures import fig_shrinkage as fs
    monkeypatch.setattr(fr, "RESULTS_DIR", tmp_path)
    with pytest.raises(fr.MissingResult, match="sims.shrinkage"):
        fs.fig_denoising(tmp_path, None)


# ------------------------------------------------------------------ verdict logic (review)
def _edge_row(p_kept, ci, limit=2.0, trials=40):
    return {"rule": "truncate", "norm": "operator", "ratio": 1.0, "N": 100, "M": 100, "trials": trials,
            "paired_trials": trials, "p_bulk_kept": p_kept, "p_bulk_kept_ci": [0.0, 0.1],
            "minus_outlier_only": None if ci is None else sum(ci) / 2, "minus_outlier_only_ci": ci,
            "max_abs_minus_outlier_only": 0.0 if ci is None else max(map(abs, ci)), "limit": limit}


@pytest.mark.parametrize("p_kept,ci,expected", [
    (0.0, None, "vacuous"),                      # no bulk value kept: the comparison never arose
    (0.125, [0.003, 0.04], "fails"),             # kept values change the error
    (0.025, [-0.008, 0.024], "inconclusive"),    # one kept value, interval >> 1e-3 x limit
    (0.025, [-2e-5, 7e-5], "holds"),             # interval within +-1e-3 x limit
])
def test_edge_verdicts_separate_vacuous_inconclusive_and_holds(p_kept, ci, expected):
    assert shs._edge_verdict(_edge_row(p_kept, ci), 0.17).verdict == expected


_UP = [0.01, 0.02, 0.015, 0.03, 0.012, 0.025, 0.018, 0.011]     # 8 positive differences: p = 2/256
_MIXED = [0.01, -0.02, 0.015, -0.01, 0.005, -0.012, 0.002, -0.004]


@pytest.mark.parametrize("rule,diffs,better,expected", [
    ("gd_threshold", [0.0] * 8, "higher", "vacuous"),                 # hard threshold at rank k IS truncate@k
    ("frobenius", [-d for d in _UP], "higher", "holds"),              # accuracy: truncation better
    ("operator", _MIXED, "higher", "inconclusive"),
    ("operator", _UP, "higher", "fails"),                             # the shrinker gains accuracy
    ("operator", _MIXED, "lower", "inconclusive"),                    # sup error: no sign
    ("frobenius", _UP, "lower", "holds"),
    ("frobenius", [-d for d in _UP], "lower", "fails"),
    ("frobenius", _UP[:5], "lower", "inconclusive"),                  # 5 seeds: p >= 0.0625 always
])
def test_pruning_decisions_three_way(rule, diffs, better, expected):
    """Planted paired differences: one sign on 8 seeds gives exact sign-flip p = 2/256 < 0.05."""
    assert shp.paired_decision(shp.DECLARATIONS["fashion"], rule, diffs, better).word == expected
