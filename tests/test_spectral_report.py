"""Tests for nets.spectral_report: planted spikes counted, Algorithm 3 savings by hand, the BEMA
threshold equal to theory.bema.fit_matrix on the transposed (tall) matrix, state_dict and CLI
paths, clear errors."""
from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from torch import nn

from core.result import read_result
from core.validate import InvalidArgument
from nets.algorithms import split_layer
from nets.spectral_report import load_source, main, spectral_report, state_dict_matrices
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


def test_state_dict_path_matches_model_path_with_factorized_layer():
    model = make_model()
    split_layer(model, "2", 50)
    from_model = {r["layer"]: r for r in spectral_report(model)}
    from_state = {r["layer"]: r for r in spectral_report(model.state_dict())}
    assert set(from_model) == set(from_state)
    assert from_state["2"]["sigma2"] == pytest.approx(from_model["2"]["sigma2"], rel=1e-6)
    assert from_state["2"]["n_spikes"] == from_model["2"]["n_spikes"]
    kind, mat, rank = state_dict_matrices(model.state_dict())["2"]
    assert kind == "linear" and tuple(mat.shape) == (240, 160) and rank == 50


def _cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse / core.cli usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_checkpoint_writes_a_result(tmp_path, capsys):
    ckpt = tmp_path / "model.pt"
    torch.save({"model_state": make_model().state_dict()}, ckpt)
    out = tmp_path / "report.json"
    code, stdout, err = _cli(capsys, str(ckpt), "--json", str(out), "--tau", "0.7")
    assert code == 0, err
    assert "would save" in stdout
    result = read_result(out)
    assert result.experiment == "nets.spectral_report"
    assert [r["layer"] for r in result.records] == ["0", "2", "4"]
    assert result.records[1]["n_spikes"] == 3 and result.records[1]["algorithm3_kept"] == 3
    assert sum(r["count"] for r in result.tables["esd"] if r["layer"] == "2") == 160


def test_module_attribute_runs_code_only_behind_the_flag(tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(importlib, "import_module", lambda *a, **k: calls.append(a))
    code, _, err = _cli(capsys, "tests.test_spectral_report:make_model")
    assert code == 2 and "--allow-code-import" in err and "Traceback" not in err
    # argparse's style: the usage, then one line "prog: error: ..." (no traceback)
    assert err.strip().splitlines()[-1].startswith("python -m nets.spectral_report: error: source")
    assert calls == []                          # nothing imported
    with pytest.raises(InvalidArgument, match="allow_code_import"):
        load_source("os:system")
    monkeypatch.undo()
    code, _, err = _cli(capsys, "tests.test_spectral_report:make_model", "--allow-code-import")
    assert code == 0, err


@pytest.mark.parametrize("content", [None, b"", b"hello, I am a text file\n", bytes(range(256)) * 4,
                                     b"PK\x03\x04" + b"\x00" * 40])
def test_bad_checkpoint_files_exit_2_naming_the_path(tmp_path, capsys, content):
    path = tmp_path / "ckpt.pt"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    code, _, err = _cli(capsys, str(path))
    assert code == 2 and str(path) in err and "Traceback" not in err
    code, _, err = _cli(capsys, str(tmp_path / "missing.pt"))
    assert code == 2 and "missing.pt" in err


def test_a_pickle_that_runs_code_is_not_run(tmp_path, capsys):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    path = tmp_path / "evil.pt"
    torch.save({"model_state": {"w": torch.zeros(2, 2)}, "x": Evil()}, path)
    code, _, err = _cli(capsys, str(path))
    assert code == 2 and str(path) in err
    assert not marker.exists()


def test_bad_options_exit_2(tmp_path, capsys):
    ckpt = tmp_path / "model.pt"
    torch.save(make_model().state_dict(), ckpt)
    for opts, name in ((["--alpha", "0.9"], "alpha"), (["--tw-level", "2"], "tw_level"), (["--beta", "2"], "tw_level"), (["--tau", "-1"], "tau"),
                       (["--bins", "0"], "--bins"), (["--alpha", "nan"], "alpha")):
        code, _, err = _cli(capsys, str(ckpt), *opts)
        assert code == 2 and name in err and "Traceback" not in err, (opts, err)


def test_errors():
    model = make_model()
    with torch.no_grad():
        model[2].weight[0, 0] = float("inf")
    with pytest.raises(ValueError, match="non-finite"):
        spectral_report(model)
    with pytest.raises(InvalidArgument, match="not an existing file"):
        load_source("/nonexistent/file.pt")
    with pytest.raises(ValueError, match="no Linear/Conv2d"):
        spectral_report(nn.Sequential(nn.ReLU()))
    with pytest.raises(InvalidArgument, match="alpha"):
        spectral_report(make_model(), alpha=0.9)


def test_report_carries_the_power_law_alpha_of_each_layer():
    # The report's alpha is the Clauset-Shalizi-Newman fit (theory.powerlaw_alpha, tested on Pareto
    # samples in test_powerlaw_alpha) of the layer's ESD W^T W / N, N = max(out, in), computed here
    # independently from numpy's singular values.
    import numpy as np
    import torch
    from theory.powerlaw_alpha import fit_powerlaw_alpha
    g = torch.Generator().manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(120, 200))
    with torch.no_grad():
        model[0].weight.copy_(torch.randn(200, 120, generator=g) / 200 ** 0.5)
    (row,) = spectral_report(model)
    s = np.linalg.svd(model[0].weight.detach().double().numpy(), compute_uv=False)
    # same fit, singular values from two SVD routes (torch in the report, numpy here) that agree
    # to rounding: alpha agrees to ~1e-14 relative (exact equality failed at other seeds)
    assert row["powerlaw_alpha"] == pytest.approx(fit_powerlaw_alpha(np.sort(s ** 2 / 200)).alpha, rel=1e-9)
