"""Tests for nets.spectral_report: planted spikes counted, Algorithm 3 savings by hand, the BEMA
threshold equal to theory.bema.fit_matrix on the transposed (tall) matrix, state_dict and CLI
paths, clear errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from nets.pruning import split_layer
from nets.spectral_report import main, spectral_report, state_dict_matrices
from tests.planted import spiked_matrix
from theory.bema import fit_matrix


def make_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Flatten(), nn.Linear(160, 240), nn.ReLU(),
                          nn.Linear(240, 2))
    with torch.no_grad():
        model[2].weight.copy_(torch.from_numpy(spiked_matrix(240, 160, [5.0, 4.0, 3.0], seed=1)))
    return model


def test_report_counts_spikes_and_algorithm3_saving():
    model = make_model()
    rows = {r["layer"]: r for r in spectral_report(model, tau=0.7)}
    lin = rows["2"]
    assert lin["shape"] == [240, 160] and lin["n_spikes"] == 3
    a3 = lin["algorithm3"]
    assert a3["kept"] == 3 and a3["removed"] == 157
    assert a3["weights_saved"] == 240 * 160 - 3 * (240 + 160)
    assert sum(lin["esd"]["counts"]) == 160
    # same threshold as BEMA on the tall matrix (N = 240 rows): sqrt(lambda+ N)
    ref = fit_matrix(model[2].weight.detach().double().numpy())   # already 240 x 160 (tall)
    assert lin["sv_threshold"] == pytest.approx(ref.singular_value_threshold, rel=1e-9)
    assert lin["lambda_plus_in_features"] * 160 == pytest.approx(lin["sv_threshold"] ** 2)
    assert rows["0"]["shape"] == [16, 27] and rows["0"]["kind"] == "conv"
    assert "error" in rows["4"]            # 2 x 240: BEMA has no bulk window to fit


def test_state_dict_path_matches_model_path_with_factorised_layer():
    model = make_model()
    split_layer(model, "2", 50)
    from_model = {r["layer"]: r for r in spectral_report(model)}
    from_state = {r["layer"]: r for r in spectral_report(model.state_dict())}
    assert set(from_model) == set(from_state)
    assert from_state["2"]["sigma2"] == pytest.approx(from_model["2"]["sigma2"], rel=1e-6)
    assert from_state["2"]["n_spikes"] == from_model["2"]["n_spikes"]
    kind, mat, rank = state_dict_matrices(model.state_dict())["2"]
    assert kind == "linear" and tuple(mat.shape) == (240, 160) and rank == 50


def test_cli_checkpoint_and_module(tmp_path, capsys):
    ckpt = tmp_path / "model.pt"
    torch.save({"model_state": make_model().state_dict()}, ckpt)
    out = tmp_path / "report.json"
    assert main([str(ckpt), "--json", str(out), "--tau", "0.7"]) == 0
    rows = json.loads(out.read_text())
    assert [r["layer"] for r in rows] == ["0", "2", "4"]
    assert "would save" in capsys.readouterr().out
    assert main(["tests.test_spectral_report:make_model"]) == 0


def test_errors():
    model = make_model()
    with torch.no_grad():
        model[2].weight[0, 0] = float("inf")
    with pytest.raises(ValueError, match="non-finite"):
        spectral_report(model)
    with pytest.raises(ValueError, match="not an existing file"):
        main(["/nonexistent/file.pt"])
    with pytest.raises(ValueError, match="no Linear/Conv2d"):
        spectral_report(nn.Sequential(nn.ReLU()))
