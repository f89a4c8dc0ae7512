"""The API as torch and scipy users expect it (issue 18 item 2 and 3): one return convention (the
module, as torch.nn.utils.prune; decisions from mp_decide / decide_model, which change nothing),
compact events, ranks in print(model), recursive is_mp_pruned, explicit tau, unambiguous names with
deprecated aliases, ``import theory`` exporting its modules, and checkpoints as users have them
(.safetensors beside torch files, weights only) in nets.spectral_report and load_pruned_state_dict.

Test matrices: planted spikes (tests/planted.py, theta >= 4: above the edge at any seed) and "all
noise" matrices with singular values exactly at MP quantiles (nothing clears the edge at any seed)."""
from __future__ import annotations

import csv
import re
import io
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import nets
from core.validate import InvalidArgument
from nets.layers import FactorizedLinear
from tests.planted import spiked_matrix
from theory.marchenko_pastur import MarchenkoPastur


def _set(param, matrix) -> None:
    with torch.no_grad():
        param.copy_(torch.as_tensor(matrix).reshape(param.shape))


def all_noise_matrix(n_out: int, n_in: int, seed: int) -> np.ndarray:
    """Singular values sqrt(N q_k), q_k the MP(c, 1) quantiles: BEMA fits sigma^2 = 1 and nothing
    clears the edge, at any seed (random singular vectors only)."""
    N, M = max(n_out, n_in), min(n_out, n_in)
    q = MarchenkoPastur(M / N, 1.0).ppf((np.arange(1, M + 1) - 0.5) / M)
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((n_out, M)))
    v, _ = np.linalg.qr(rng.standard_normal((n_in, M)))
    return (u * np.sqrt(N * q[::-1])) @ v.T


def _linear(seed=0, n_in=120, n_out=80):
    torch.manual_seed(seed)
    layer = nn.Linear(n_in, n_out)
    _set(layer.weight, spiked_matrix(n_out, n_in, [6.0, 5.0, 4.0], seed=seed))
    return layer


def _model(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(120, 80), nn.ReLU(), nn.Linear(80, 60))
    _set(model[0].weight, spiked_matrix(80, 120, [6.0, 5.0, 4.0], seed=seed))
    _set(model[2].weight, all_noise_matrix(60, 80, seed + 1))
    return model


def _attention(seed=0, embed=48):
    torch.manual_seed(seed)
    mha = nn.MultiheadAttention(embed, 4, batch_first=True)
    blocks = [spiked_matrix(embed, embed, [6.0, 5.0], seed=seed), all_noise_matrix(embed, embed, seed + 1),
              spiked_matrix(embed, embed, [7.0], seed=seed + 2)]
    _set(mha.in_proj_weight, np.concatenate(blocks))
    return mha


# ---------------------------------------------------------------- one return convention
def test_mp_prune_and_prune_model_return_the_module_as_torch_prune_does():
    layer = _linear()
    assert nets.mp_prune(layer, tau=0.7) is layer and nets.is_mp_pruned(layer)
    mha = _attention()
    with pytest.warns(nets.AllNoiseWarning):
        assert nets.mp_prune(mha, "in_proj_weight", tau=None) is mha
    assert nets.mp_pruned_ranks(mha)["in_proj_weight"][1] == -1          # K: all noise, passed through
    model = _model()
    with pytest.warns(nets.AllNoiseWarning):
        assert nets.prune_model(model, tau=0.7) is model
    assert list(nets.mp_pruned_ranks(model)) == ["0.weight"]


def test_decide_changes_nothing_and_apply_equals_mp_prune():
    a, b = _linear(1), _linear(1)
    before = a.weight.detach().clone()
    decision = nets.mp_decide(a, tau=0.7)
    assert not nets.is_mp_pruned(a) and torch.equal(a.weight.detach(), before)
    assert decision.changes and decision.event.action == "parametrized" and len(decision) == 1
    assert decision.apply() is a
    nets.mp_prune(b, tau=0.7)
    torch.testing.assert_close(a.weight, b.weight, rtol=0, atol=0)
    with pytest.raises(InvalidArgument, match="already applied"):
        decision.apply()


def test_a_stale_decision_is_refused():
    layer = _linear(2)
    decision = nets.mp_decide(layer, tau=None)
    with torch.no_grad():
        layer.weight.mul_(1.5)                                           # e.g. an optimizer step
    with pytest.raises(InvalidArgument, match="changed since the decision"):
        decision.apply()
    assert not nets.is_mp_pruned(layer)


def test_decide_model_lists_every_weight_and_its_events():
    model = _model(3)
    with pytest.warns(nets.AllNoiseWarning, match=r"^2\.weight: all 60 singular values"):
        decisions = nets.decide_model(model, tau=0.7)
    assert [(d.events[0].layer, d.name) for d in decisions] == [("0", "weight"), ("2", "weight")]
    assert [d.event.action for d in decisions] == ["parametrized", "kept"]   # rank 0 is never proposed
    assert not nets.is_mp_pruned(model)
    for d in decisions:
        d.apply()
    assert nets.mp_pruned_ranks(model) == {"0.weight": [decisions[0].event.rank_after]}
    with pytest.warns(nets.AllNoiseWarning):                          # K, and the untrained out_proj
        mha_decision = nets.decide_model(nn.Sequential(_attention(4)), tau=None)[0]
    with pytest.raises(InvalidArgument, match="3 blocks.*q, k, v"):
        mha_decision.event
    assert [e.block for e in mha_decision] == ["q", "k", "v"]


# ---------------------------------------------------------------- factorize, split
def test_factorize_in_place_by_name_or_returning_the_new_layer():
    model = _model(5)
    x = torch.randn(4, 120)
    nets.mp_prune(model[0], tau=None)
    want = model(x).detach()
    assert nets.factorize(model, "0") is model and isinstance(model[0], FactorizedLinear)
    torch.testing.assert_close(model(x), want, rtol=0, atol=2e-5)
    layer = _linear(6)
    nets.mp_prune(layer, tau=None)
    new = nets.factorize(layer)
    assert isinstance(new, FactorizedLinear) and nets.is_mp_pruned(layer)  # the layer itself unchanged
    with pytest.raises(InvalidArgument, match="no submodule 'nope'"):
        nets.factorize(model, "nope")


def test_split_keyword_and_its_deprecated_alias():
    a, b = _model(7), _model(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nets.AllNoiseWarning)
        nets.prune_model(a, tau=None, split=True)
        with pytest.warns(DeprecationWarning, match="'factorize' is renamed 'split'"):
            nets.prune_model(b, tau=None, factorize=True)
    assert isinstance(a[0], FactorizedLinear) and isinstance(b[0], FactorizedLinear)
    assert a[0].rank == b[0].rank and callable(nets.factorize)       # the function is not shadowed


# ---------------------------------------------------------------- explicit tau, names
@pytest.mark.parametrize("call", [lambda l: nets.mp_prune(l), lambda l: nets.mp_decide(l),
                                  lambda l: nets.prune_model(nn.Sequential(l)),
                                  lambda l: nets.decide_model(nn.Sequential(l))])
def test_omitting_tau_warns_that_algorithm_4_is_skipped(call):
    with pytest.warns(FutureWarning, match="tau not given.*Algorithm 4.*tau=None"):
        call(_linear(8))


def test_tau_none_skips_algorithm_4_explicitly_and_says_so():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decision = nets.mp_decide(_linear(9), tau=None)
    assert decision.event.accepted is None and "fit " in str(decision.event)
    assert "not run (tau=None)" in str(decision.event)
    assert "<= tau 0.7" in str(nets.mp_decide(_linear(9), tau=0.7).event)


def test_beta_is_a_deprecated_alias_of_tw_level():
    from theory import bema
    with pytest.warns(DeprecationWarning, match="'beta' is renamed 'tw_level'"):
        old = nets.mp_decide(_linear(10), tau=None, beta=0.05).event
    new = nets.mp_decide(_linear(10), tau=None, tw_level=0.05).event
    assert old == new and new.lambda_plus != nets.mp_decide(_linear(10), tau=None).event.lambda_plus
    with pytest.raises(InvalidArgument, match="not both"), pytest.warns(DeprecationWarning):
        nets.mp_decide(_linear(10), tau=None, tw_level=0.1, beta=0.05)
    ev = np.sort(np.linalg.svd(spiked_matrix(80, 120, [5.0], seed=1), compute_uv=False) ** 2 / 120)
    with pytest.warns(DeprecationWarning, match="tw_level"):
        fit_old = bema.fit(ev, 120, 80, beta=0.05)
    fit_new = bema.fit(ev, 120, 80, tw_level=0.05)
    assert fit_old.lambda_plus == fit_new.lambda_plus and fit_new.beta == fit_new.tw_level == 0.05


# ---------------------------------------------------------------- printing
def test_event_str_is_one_short_line_and_repr_is_compact():
    event = nets.mp_decide(_linear(11, n_in=600, n_out=400), tau=0.7).event
    line = str(event)
    assert "\n" not in line and len(line) < 200, line
    assert line.startswith("Linear.weight 400x600 mp: parametrized, rank 400 -> ")
    assert len(repr(event)) < 800 and re.search(r"removed_singular_values=<\d+ values>", repr(event))
    assert "block=" not in repr(event)                                 # defaults are left out


def test_print_model_shows_the_kept_ranks():
    model = _model(12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nets.AllNoiseWarning)
        nets.prune_model(model, tau=None)
    rank = nets.mp_pruned_ranks(model)["0.weight"][0]
    assert f"LowRankProjection(rank={rank}, rows=80)" in str(model)
    mha = _attention(13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nets.AllNoiseWarning)
        nets.mp_prune(mha, "in_proj_weight", tau=None)
    q, k, v = nets.mp_pruned_ranks(mha)["in_proj_weight"]
    assert f"LowRankProjection(ranks=[{q}, full, {v}], block_rows=[48, 48, 48])" in str(mha)


def test_a_single_layer_is_named_by_its_class_and_warnings_point_at_the_caller():
    layer = nn.Linear(80, 60)
    _set(layer.weight, all_noise_matrix(60, 80, 14))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decision = nets.mp_decide(layer, tau=None)
    assert decision.event.layer == "Linear" and str(decision.event).startswith("Linear.weight 60x80")
    (w,) = caught
    assert str(w.message).startswith("Linear.weight: all 60") and "Tensor" not in str(w.message)
    assert w.filename == __file__                                      # the user's line, not nets/prune.py


# ---------------------------------------------------------------- is_mp_pruned
def test_is_mp_pruned_recurses_as_torch_prune_is_pruned():
    outer = nn.Sequential(nn.Sequential(_linear(15)), nn.ReLU())
    assert not nets.is_mp_pruned(outer)
    nets.mp_prune(outer[0][0], tau=None)
    assert nets.is_mp_pruned(outer) and nets.is_mp_pruned(outer[0]) and nets.is_mp_pruned(outer[0][0], "weight")
    assert not nets.is_mp_pruned(outer[1])
    nets.remove(outer[0][0])
    assert not nets.is_mp_pruned(outer)


# ---------------------------------------------------------------- sizes (README "Sizes")
def _bytes(state) -> int:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return len(buffer.getvalue())


def test_params_after_counts_the_factorized_layer_not_the_parametrized_state_dict():
    layer = _linear(16, n_in=600, n_out=400)
    dense = _bytes(layer.state_dict())
    event = nets.mp_decide(layer, tau=None).event
    event_module = nets.mp_prune(layer, tau=None)
    r = event.rank_after
    assert event.params_after == r * (400 + 600) < event.params_before == 400 * 600
    parametrized = _bytes(event_module.state_dict())
    # the original weight plus U_r (400 x r) and V_r (600 x r) float32 buffers
    assert parametrized - dense >= 4 * r * (400 + 600)
    split = nets.factorize(layer)
    assert sum(p.numel() for p in split.parameters()) == event.params_after + 400     # + bias
    assert _bytes(split.state_dict()) < dense / 10
    nets.remove(layer)
    assert abs(_bytes(layer.state_dict()) - dense) < 200                              # dense W': same size


# ---------------------------------------------------------------- import theory
def test_import_theory_exports_its_modules_lazily_in_a_fresh_process():
    code = ("import sys, theory\n"
            "assert 'theory.bema' not in sys.modules and 'sympy' not in sys.modules\n"
            "print(theory.bema.fit.__name__, theory.tracy_widom.TracyWidom(1).beta, "
            "theory.MarchenkoPastur(0.25).upper, theory.BemaFit.__name__)\n"
            "assert 'torch' not in sys.modules\n"
            "assert {'bema', 'MarchenkoPastur', 'shrinkage'} <= set(dir(theory))\n"
            "try:\n    theory.nope\nexcept AttributeError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["fit 1 2.25 BemaFit", "module 'theory' has no attribute 'nope'"]


# ---------------------------------------------------------------- checkpoints: .safetensors, spectral_report
def _cli(capsys, *argv) -> tuple[int, str, str]:
    from nets.spectral_report import main
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def _save_safetensors(state: dict, path) -> None:
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))


def test_spectral_report_reads_safetensors_as_torch_files(tmp_path, capsys):
    state = _model(20).state_dict()
    torch.save(state, tmp_path / "m.pt")
    _save_safetensors(state, tmp_path / "m.safetensors")
    _save_safetensors(state, tmp_path / "m.bin")                     # found by its header, not its name
    outputs = []
    for name in ("m.pt", "m.safetensors", "m.bin"):
        code, out, err = _cli(capsys, str(tmp_path / name), "--csv")
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1] == outputs[2]


def test_load_pruned_state_dict_reads_a_path_torch_or_safetensors(tmp_path):
    model = _model(21)
    x = torch.randn(4, 120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nets.AllNoiseWarning)
        nets.prune_model(model, tau=0.7)
    want = model(x).detach()
    for name, save in (("p.pt", torch.save), ("p.safetensors", _save_safetensors)):
        save(model.state_dict(), tmp_path / name)
        fresh = _model(99)
        assert nets.load_pruned_state_dict(fresh, tmp_path / name) is fresh
        assert nets.is_mp_pruned(fresh[0], "weight")
        torch.testing.assert_close(fresh(x), want, rtol=0, atol=2e-5)
    torch.save({"not": "a state_dict"}, tmp_path / "bad.pt")
    with pytest.raises(InvalidArgument, match="not a state_dict"):
        nets.load_pruned_state_dict(_model(), tmp_path / "bad.pt")


def test_safetensors_without_the_extra_is_one_line_naming_it(tmp_path, capsys, monkeypatch):
    _save_safetensors(_model(22).state_dict(), tmp_path / "m.safetensors")
    monkeypatch.setitem(sys.modules, "safetensors", None)            # as if not installed
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)
    code, out, err = _cli(capsys, str(tmp_path / "m.safetensors"))
    errors = [line for line in err.splitlines() if "error:" in line]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err
    assert "pip install 'rmt-pruning[safetensors]'" in errors[0] and "m.safetensors" in errors[0]
    with pytest.raises(InvalidArgument, match=r"extra 'safetensors'"):
        nets.load_pruned_state_dict(_model(), tmp_path / "m.safetensors")


def test_a_whole_pickled_model_is_refused_in_one_plain_line(tmp_path, capsys):
    path = tmp_path / "whole.pt"
    torch.save(_model(23), path)                                     # torch.save(model), not its state_dict
    code, out, err = _cli(capsys, str(path))
    errors = [line for line in err.splitlines() if "error:" in line]
    assert code == 2 and len(errors) == 1 and "\x1b" not in err and "Traceback" not in err
    assert "whole pickled model" in errors[0] and "state_dict()" in errors[0]


def test_csv_goes_to_stdout_alone_and_the_table_explains_its_columns(tmp_path, capsys):
    torch.save(_model(24).state_dict(), tmp_path / "m.pt")
    code, out, err = _cli(capsys, str(tmp_path / "m.pt"), "--csv", "--tau", "0.7", "--json", str(tmp_path / "r.json"))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))                    # stdout is nothing but the CSV
    assert [r["layer"] for r in rows] == ["0", "2"] and rows[0]["accepted"] == "True"
    assert {"sv_threshold", "fit_statistic", "algorithm3_kept", "algorithm3_all_noise"} <= set(rows[0])
    assert (tmp_path / "r.json").exists() and "wrote" in err
    code, out, err = _cli(capsys, str(tmp_path / "m.pt"), "--tau", "0.7")
    header = out.splitlines()[0]
    assert "accept" in header and "acc " not in header
    prose = " ".join(out.split())                                     # the legend is wrapped to the terminal
    assert "accept: fit <= --tau" in prose and "rank 0 is never proposed" in prose
    assert all(len(line) <= 80 for line in format_report_at_80(tmp_path / "m.pt").splitlines())
    code, out, _ = _cli(capsys, "--help")
    assert "accept" in out and "Algorithm 4 keeps the MP hypothesis" in out


def format_report_at_80(path) -> str:
    from nets.spectral_report import format_report, load_source, spectral_report
    return format_report(spectral_report(load_source(str(path)), tau=0.7), width=80)


def test_spectral_report_follows_mp_prunes_rank_zero_policy():
    from nets.spectral_report import spectral_report
    model = _model(25)                                               # layer 2: all noise
    rows = {r["layer"]: r for r in spectral_report(model)}
    a3 = rows["2"]["algorithm3"]
    assert rows["2"]["n_spikes"] == 0 and a3["all_noise"] and a3["kept"] == 60 and a3["weights_saved"] == 0
    with pytest.warns(nets.AllNoiseWarning):
        assert nets.mp_decide(model[2], tau=None).event.action == "kept"        # what mp_prune does
    assert rows["0"]["algorithm3"]["kept"] == rows["0"]["n_spikes"] >= 3


def test_spectral_report_of_a_pruned_state_dict_reads_the_pruned_weights():
    from nets.spectral_report import spectral_report
    model = _model(26)
    nets.mp_prune(model[0], tau=None)
    rank = nets.mp_pruned_ranks(model)["0.weight"][0]
    rows = spectral_report(model.state_dict())
    # W' has rank r: its trailing singular values are exact zeros (known rank, as for a factorised
    # layer), so no bulk is left to fit: the row says so instead of fitting rounding noise
    assert [r["layer"] for r in rows] == ["0", "2"]
    assert f"{80 - rank} of 80 singular values are exactly 0" in rows[0]["error"]
    assert "error" not in rows[1] and rows[1]["n_spikes"] == 0
