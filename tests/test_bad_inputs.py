"""The bad-input table (issue 10, item 3): every public entry point refuses malformed input at once
with ``core.validate.InvalidArgument`` (a ValueError) whose message names the parameter, and every
CLI answers bad options with exit status 2 and one ``error:`` line naming the option, no traceback.

Each API row is ``(id, callable, args, kwargs, name)``: the call must raise InvalidArgument whose
message contains ``name``, within ``FAST`` seconds (no heavy work, no allocation before the check).
Each CLI row is ``(module, argv, text)``: ``python -m module argv`` in-process must exit 2 with
``text`` in its one error line.
"""
from __future__ import annotations

import contextlib
import gzip
import importlib
import pickle
import signal
import struct

import numpy as np
import pytest
import torch
from torch import nn

from core.validate import InvalidArgument

# seconds: a check that takes longer did work (or allocated) before refusing.  Generous, because
# the shared CI machine is often loaded and a first import (torch._dynamo, scipy) can take seconds;
# the work it guards against (rvs(size=10**9), an 80 GB fit) takes minutes or exhausts memory.
FAST = 30.0


def _mp(*args, **kw):
    from theory.marchenko_pastur import MarchenkoPastur
    return MarchenkoPastur(*args, **kw)


def _law():
    return _mp(0.5)


def _sv(n=20, m=10):
    return np.linspace(0.5, 1.5, min(n, m))


def _ev(n=40, m=20):
    return np.random.default_rng(0).chisquare(n, m) / n


def _net():
    from theory.pruning_bounds import Network
    rng = np.random.default_rng(0)
    return Network([rng.normal(size=(4, 3)), rng.normal(size=(4, 4)), rng.normal(size=(2, 4))])


def _model():
    return nn.Sequential(nn.Linear(30, 20), nn.ReLU(), nn.Linear(20, 2))


def _module(name):
    return importlib.import_module(name)


def _attr(module, name):
    return lambda *a, **k: getattr(_module(module), name)(*a, **k)


def _method(factory, name):
    return lambda *a, **k: getattr(factory(), name)(*a, **k)


MP = "theory.marchenko_pastur"
SP = "theory.spiked"
BE = "theory.bema"
PB = "theory.pruning_bounds"
AP = "theory.approximation"
NP = "theory.norm_predictions"
NAN, INF = float("nan"), float("inf")

API_ROWS = [
    # --- theory.marchenko_pastur
    ("mp ratio 0", _mp, (0,), {}, "ratio"),
    ("mp ratio string", _mp, ("2",), {}, "ratio"),
    ("mp ratio None", _mp, (None,), {}, "ratio"),
    ("mp ratio nan", _mp, (NAN,), {}, "ratio"),
    ("mp sigma2 negative", _mp, (1.0,), {"sigma2": -1.0}, "sigma2"),
    ("mp sigma2 complex", _mp, (1.0,), {"sigma2": 1j}, "sigma2"),
    ("mp pdf nan", _method(_law, "pdf"), ([NAN],), {}, "x"),
    ("mp pdf string", _method(_law, "pdf"), (["a"],), {}, "x"),
    ("mp pdf complex", _method(_law, "pdf"), ([1 + 1j],), {}, "x"),
    ("mp cdf nan", _method(_law, "cdf"), ([0.5, NAN],), {}, "x"),
    ("mp cdf complex", _method(_law, "cdf"), (1j,), {}, "x"),
    ("mp sf nan", _method(_law, "sf"), (NAN,), {}, "x"),
    ("mp ppf above 1", _method(_law, "ppf"), ([1.5],), {}, "q"),
    ("mp ppf nan", _method(_law, "ppf"), (NAN,), {}, "q"),
    ("mp moment negative", _method(_law, "moment"), (-1,), {}, "k"),
    ("mp moment fraction", _method(_law, "moment"), (1.5,), {}, "k"),
    ("mp rvs 1e9", _method(_law, "rvs"), (), {"size": 10**9}, "size"),
    ("mp rvs 1e5 x 1e5", _method(_law, "rvs"), (), {"size": (10**5, 10**5)}, "size"),
    ("mp rvs -1", _method(_law, "rvs"), (), {"size": -1}, "size"),
    ("mp wishart_spectra 0", _method(_law, "wishart_spectra"), (), {"size": 0}, "size"),
    ("mp rvs string", _method(_law, "rvs"), (), {"size": "10"}, "size"),
    ("mp wishart_spectra n_rows 0", _method(_law, "wishart_spectra"), (), {"size": 5, "n_rows": 0}, "n_rows"),
    ("mp wishart_spectra n_rows huge", _method(_law, "wishart_spectra"), (), {"size": 5, "n_rows": 10**30},
     "n_rows"),
    # --- theory.tracy_widom (validation by the tracy_widom work merged in main)
    ("tw ppf tol 0", _attr("theory.tracy_widom", "ppf"), (0.3,), {"tol": 0}, "tol"),
    ("tw ppf tol -1", _attr("theory.tracy_widom", "ppf"), (0.3,), {"tol": -1}, "tol"),
    ("tw ppf tol nan", _attr("theory.tracy_widom", "ppf"), (0.3,), {"tol": NAN}, "tol"),
    ("tw ppf p nan", _attr("theory.tracy_widom", "ppf"), (NAN,), {}, "p"),
    ("tw ppf p 1.5", _attr("theory.tracy_widom", "ppf"), (1.5,), {}, "p"),
    ("tw cdf beta 3", _attr("theory.tracy_widom", "cdf"), (0.0,), {"beta": 3}, "beta"),
    ("tw cdf nan", _attr("theory.tracy_widom", "cdf"), ([NAN],), {}, "s"),
    # --- theory.spiked
    ("spiked threshold None", _attr(SP, "threshold"), (None,), {}, "ratio"),
    ("spiked threshold string", _attr(SP, "threshold"), ("one",), {}, "ratio"),
    ("spiked threshold 0", _attr(SP, "threshold"), (0.0,), {}, "ratio"),
    ("spiked edge var 0", _attr(SP, "edge"), (1.0,), {"var": 0.0}, "var"),
    ("spiked limit theta nan", _attr(SP, "singular_value_limit"), (NAN, 1.0), {}, "theta"),
    ("spiked limit theta string", _attr(SP, "singular_value_limit"), (["a"], 1.0), {}, "theta"),
    ("spiked limit theta complex", _attr(SP, "singular_value_limit"), (1 + 1j, 1.0), {}, "theta"),
    ("spiked limit theta negative", _attr(SP, "singular_value_limit"), (-1.0, 1.0), {}, "theta"),
    ("spiked overlaps ratio inf", _attr(SP, "overlap_limits"), (2.0, INF), {}, "ratio"),
    ("spiked theta_from sv nan", _attr(SP, "theta_from_singular_value"), (NAN, 1.0), {}, "sv"),
    ("spiked D noise 1xN", lambda R: _module(SP).DTransform.from_noise_matrix(R),
     (np.ones((1, 5)),), {}, "R"),
    ("spiked D noise Nx1", lambda R: _module(SP).DTransform.from_noise_matrix(R),
     (np.ones((5, 1)),), {}, "R"),
    ("spiked D noise nan", lambda R: _module(SP).DTransform.from_noise_matrix(R),
     (np.full((3, 3), NAN),), {}, "R"),
    ("spiked D noise complex", lambda R: _module(SP).DTransform.from_noise_matrix(R),
     (np.ones((3, 3)) * 1j,), {}, "R"),
    ("spiked D noise 1-D", lambda R: _module(SP).DTransform.from_noise_matrix(R), (np.ones(5),), {}, "R"),
    ("spiked D sv n_rows 0", lambda *a: _module(SP).DTransform.from_singular_values(*a),
     (_sv(), 0, 10), {}, "n_rows"),
    ("spiked D sv n_cols float", lambda *a: _module(SP).DTransform.from_singular_values(*a),
     (_sv(), 20, 10.5), {}, "n_cols"),
    ("spiked D sv negative", lambda *a: _module(SP).DTransform.from_singular_values(*a),
     (-_sv(), 20, 10), {}, "sv"),
    ("spiked D mp ratio", lambda *a: _module(SP).DTransform.marchenko_pastur(*a), (-1.0,), {}, "ratio"),
    ("spiked wigner sigma", _attr(SP, "wigner_threshold"), (-1.0,), {}, "sigma"),
    ("spiked wigner theta", _attr(SP, "wigner_eigenvalue_limit"), (NAN,), {}, "theta"),
    # --- theory.bema
    ("bema n_cols 1e10", _attr(BE, "fit"), (_ev(40, 20), 40, 10**10), {}, "n_cols"),
    ("bema n_rows 0", _attr(BE, "fit"), (_ev(), 0, 20), {}, "n_rows"),
    ("bema n_rows string", _attr(BE, "fit"), (_ev(), "40", 20), {}, "n_rows"),
    ("bema n_cols float", _attr(BE, "fit"), (_ev(), 40, 20.5), {}, "n_cols"),
    ("bema alpha 0.7", _attr(BE, "fit"), (_ev(), 40, 20), {"alpha": 0.7}, "alpha"),
    ("bema alpha string", _attr(BE, "fit"), (_ev(), 40, 20), {"alpha": "0.1"}, "alpha"),
    ("bema tw_level 0", _attr(BE, "fit"), (_ev(), 40, 20), {"tw_level": 0.0}, "tw_level"),
    ("bema tw_level 1", _attr(BE, "fit"), (_ev(), 40, 20), {"tw_level": 1.0}, "tw_level"),
    ("bema tw_level nan", _attr(BE, "fit"), (_ev(), 40, 20), {"tw_level": NAN}, "tw_level"),
    ("bema levels", _attr(BE, "fit"), (_ev(), 40, 20), {"levels": "bogus"}, "levels"),
    ("bema eigenvalues nan", _attr(BE, "fit"), (np.full(20, NAN), 40, 20), {}, "eigenvalues"),
    ("bema eigenvalues complex", _attr(BE, "fit"), (_ev() + 0j, 40, 20), {}, "eigenvalues"),
    ("bema eigenvalues 2-D", _attr(BE, "fit"), (np.ones((4, 5)), 40, 20), {}, "eigenvalues"),
    ("bema eigenvalues count", _attr(BE, "fit"), (_ev()[:7], 40, 20), {}, "eigenvalues"),
    ("bema eigenvalues negative", _attr(BE, "fit"), (-_ev(), 40, 20), {}, "eigenvalues"),
    ("bema fit_matrix 1-D", _attr(BE, "fit_matrix"), (np.ones(5),), {}, "W"),
    ("bema fit_matrix complex", _attr(BE, "fit_matrix"), (np.ones((8, 6)) * 1j,), {}, "W"),
    ("bema fit_matrix nan", _attr(BE, "fit_matrix"), (np.full((8, 6), NAN),), {}, "W"),
    ("bema tw_quantile", _attr(BE, "tw_quantile"), (1.5,), {}, "tw_level"),
    ("bema accepts tau", lambda tau: _module(BE).fit_matrix(
        np.random.default_rng(0).normal(size=(60, 40))).accepts(tau), (-1.0,), {}, "tau"),
    # --- theory.pruning_bounds
    ("bounds truncate threshold", _attr(PB, "truncate_singular_values"), (np.eye(3), -1.0), {}, "threshold"),
    ("bounds truncate threshold str", _attr(PB, "truncate_singular_values"), (np.eye(3), "1"), {},
     "threshold"),
    ("bounds truncate W nan", _attr(PB, "truncate_singular_values"), (np.full((3, 3), NAN), 1.0), {}, "W"),
    ("bounds truncate W complex", _attr(PB, "truncate_singular_values"), (np.eye(3) * 1j, 1.0), {}, "W"),
    ("bounds spectral W 1-D", _attr(PB, "spectral_norm"), (np.ones(3),), {}, "W"),
    ("bounds network activation", lambda: _module(PB).Network([np.eye(2)], activation="tanh"), (), {},
     "activation"),
    ("bounds network shapes", lambda: _module(PB).Network([np.eye(2), np.ones((2, 3))]), (), {}, "W_2"),
    ("bounds a_N 1", _attr(PB, "a_N"), (1,), {}, "N"),
    ("bounds a_N string", _attr(PB, "a_N"), ("100",), {}, "N"),
    ("bounds D_N fraction", _attr(PB, "D_N"), (10.5,), {}, "N"),
    ("bounds g_phi layer", lambda: _module(PB).g_phi(_net(), np.ones(3), 4), (), {}, "b"),
    ("bounds g_phi inputs", lambda: _module(PB).g_phi(_net(), np.ones(5), 1), (), {}, "s"),
    ("bounds good_set eta", _attr(PB, "good_set"), (np.ones(3), NAN), {}, "eta"),
    ("bounds accuracy dX nan", _attr(PB, "accuracy_bound"), (np.array([NAN]), 0.1), {}, "dX"),
    ("bounds probability C", _attr(PB, "accuracy_bound_probability"), (1.5, 3), {}, "C"),
    ("bounds probability size", _attr(PB, "accuracy_bound_probability"), (0.1, -3), {}, "good_set_size"),
    ("bounds E' eps", lambda: _module(PB).threshold_E_prime(_net(), np.ones(3), 2, 100, 1.0, 1.0, -0.1),
     (), {}, "eps"),
    # --- theory.approximation
    ("approx A1 sigma negative", _attr(AP, "f_W_example_A1"), ([-1.0],), {}, "sigma"),
    ("approx A1 sigma nan", _attr(AP, "f_W_example_A1"), ([NAN],), {}, "sigma"),
    ("approx A1 sigma string", _attr(AP, "f_W_example_A1"), (["x"],), {}, "sigma"),
    ("approx A1 sigma complex", _attr(AP, "f_W_example_A1"), ([2 + 1j],), {}, "sigma"),
    ("approx A1 sigma empty", _attr(AP, "f_W_example_A1"), ([],), {}, "sigma"),
    ("approx 4.25 sigma_i", _attr(AP, "f_W_symmetric_4_25"), ([0.0], [2.0]), {}, "sigma_i"),
    ("approx B6 g_u", _attr(AP, "f_W_general_B6"), ([2.0], [NAN], [1.0], [2.0]), {}, "g_u"),
    # --- theory.norm_predictions
    ("norms edge n_rows", _attr(NP, "edge"), (1, 10), {}, "n_rows"),
    ("norms law var", lambda: _module(NP).SpectralNormLaw(10, 10, var=-1.0), (), {}, "var"),
    ("norms law centering", lambda: _module(NP).SpectralNormLaw(10, 10, centering="x"), (), {}, "centering"),
    ("norms ppf", lambda q: _module(NP).SpectralNormLaw(10, 10).ppf(q), (1.5,), {}, "q"),
    ("norms delta0 q", _attr(NP, "lemma3_delta0"), (1.5, 10), {}, "q"),
]


# --- nets
def _write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _mnist_dir(tmp_path, train_labels=None, bad_gzip=False):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 6) if train_labels is None else np.asarray(train_labels)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (6, 28, 28)),
              "train-labels-idx1-ubyte": labels,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (3, 28, 28)),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, 3)}
    for name, arr in arrays.items():
        _write_idx(tmp_path / name, arr)
    if bad_gzip:
        (tmp_path / "train-images-idx3-ubyte").unlink()
        (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"this is not gzip data at all")
    return tmp_path


def _cifar_dir(tmp_path, first_batch: bytes):
    for i, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        content = first_batch if i == 0 else pickle.dumps({b"data": np.zeros((2, 3072), np.uint8),
                                                             b"labels": [0, 1]})
        (tmp_path / name).write_bytes(content)
    return tmp_path


def _tiny_cfg():
    from nets.configs import TrainConfig
    return TrainConfig(name="tiny", description="test", paper_ref="-", dataset="polynomial_e4",
                       model={"kind": "mlp", "topology": [2, 8, 2]}, epochs=2, batch_size=32, lr=0.05,
                       momentum=0.9, lr_decay=0.9, l1=0.0, l2=0.0, n_train=64, n_test=32)


def _load_checkpoint(tmp_path, content):
    """Setup (a Run, the bad file) now; the returned call is the one that must refuse."""
    from nets.data import polynomial_classification_e4
    from nets.train import Run
    path = tmp_path / "checkpoint.pt"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    run = Run(_tiny_cfg(), polynomial_classification_e4(seed=0, n_train=64, n_test=32), progress=False)
    return lambda: run.load(path)


# rows that need a temporary directory: prepare(tmp_path) writes the files and returns the call that
# must refuse them (set-up time is not counted against the deadline)
NETS_ROWS = [
    ("data gz not gzip", lambda t: (d := _mnist_dir(t, bad_gzip=True),
                                    lambda: _module("nets.data").load_image_dataset("mnist", d))[1],
     "train-images-idx3-ubyte.gz"),
    ("data idx label 200", lambda t: (d := _mnist_dir(t, train_labels=[0, 1, 200, 3, 4, 5]),
                                      lambda: _module("nets.data").load_image_dataset("mnist", d))[1],
     "labels"),
    ("data cifar corrupt", lambda t: (d := _cifar_dir(t, b"\x80\x04garbage"),
                                      lambda: _module("nets.data").load_image_dataset("cifar10", d))[1],
     "data_batch_1"),
    ("data cifar label 10", lambda t: (d := _cifar_dir(t, pickle.dumps(
        {b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]})),
        lambda: _module("nets.data").load_image_dataset("cifar10", d))[1], "labels"),
    ("data idx truncated gzip", lambda t: (
        (t / "x.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" + b"\x00" * 50)[:-12]),
        lambda: _module("nets.data").read_idx(t / "x.gz"))[1], "x.gz"),
    ("data idx directory", lambda t: lambda: _module("nets.data").read_idx(t), "pytest"),
    ("checkpoint text", lambda t: _load_checkpoint(t, b"just some text\n"), "checkpoint.pt"),
    ("checkpoint random bytes", lambda t: _load_checkpoint(t, bytes(np.random.default_rng(0).integers(
        0, 256, 4096, dtype=np.uint8))), "checkpoint.pt"),
    ("checkpoint directory", lambda t: _load_checkpoint(t, None), "checkpoint.pt"),
    ("checkpoint empty", lambda t: _load_checkpoint(t, b""), "checkpoint.pt"),
]

API_ROWS += [
    ("data n_train 0", lambda: _module("nets.data").regression_e3(0, n_train=0), (), {}, "n_train"),
    ("data normalisation", lambda: _module("nets.data")._normalise(
        np.zeros((1, 1, 2, 2), np.uint8), np.zeros((1, 1, 2, 2), np.uint8), "zscore"), (), {}, "normalisation"),
    ("data batch_size 0", lambda: _module("nets.data").make_loader(
        torch.utils.data.TensorDataset(torch.zeros(3)), 0, shuffle=False), (), {}, "batch_size"),
    ("data unknown dataset", lambda: _module("nets.data").load_dataset("imagenet"), (), {}, "dataset"),
    ("pruning alpha 0.7", lambda: _module("nets.algorithms").layer_spectrum(torch.randn(50, 30), alpha=0.7), (), {},
     "alpha"),
    ("pruning alpha 0", lambda: _module("nets.algorithms").layer_spectrum(torch.randn(50, 30), alpha=0.0), (), {},
     "alpha"),
    ("pruning beta 1", lambda: _module("nets.algorithms").layer_spectrum(torch.randn(50, 30), beta=1.0), (), {},
     "beta"),
    ("pruning complex weights", lambda: _module("nets.algorithms").layer_spectrum(
        torch.randn(50, 30, dtype=torch.complex64)), (), {}, "weights"),
    ("sparsify threshold", lambda: _module("nets.sparsify").sparsify(_model(), -1.0), (), {}, "threshold"),
    ("sparsify threshold nan", lambda: _module("nets.sparsify").sparsify(_model(), NAN), (), {}, "threshold"),
    ("confidence bins 0", lambda: _module("nets.confidence").confidence_summary(np.ones(5), bins=0), (), {},
     "bins"),
    ("confidence dX nan", lambda: _module("nets.confidence").accuracy_from_confidence([NAN]), (), {}, "dX"),
    ("spectral bins 0", lambda: _module("nets.spectral_report").spectral_report(_model(), bins=0), (), {}, "bins"),
    ("spectral alpha 0.9", lambda: _module("nets.spectral_report").spectral_report(_model(), alpha=0.9), (), {},
     "alpha"),
    ("spectral tw_level 2", lambda: _module("nets.spectral_report").spectral_report(_model(), tw_level=2), (), {},
     "tw_level"),
    ("models topology 0", lambda: _module("nets.models").build_model({"kind": "mlp", "topology": [3, 0]}), (), {},
     "topology"),
    ("models kind", lambda: _module("nets.models").build_model({"kind": "rnn"}), (), {}, "kind"),
    ("models dropout", lambda: _module("nets.models").build_model(
        {"kind": "cnn", "conv_channels": [1, 2], "fc_topology": [2 * 26 * 26, 10], "input_side": 28,
         "conv_dropout": 1.5}), (), {}, "dropout"),
]


@contextlib.contextmanager
def _deadline(seconds: float):
    """Fail (rather than hang the suite) when a refused call does heavy work first."""
    def alarm(signum, frame):
        raise TimeoutError(f"no refusal within {seconds} s: the input was not checked before heavy work")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("call, args, kwargs, name", [r[1:] for r in API_ROWS], ids=[r[0] for r in API_ROWS])
def test_api_refuses_bad_input(call, args, kwargs, name):
    with _deadline(FAST), pytest.raises(InvalidArgument) as err:
        call(*args, **kwargs)
    assert name in str(err.value), f"message does not name {name!r}: {err.value}"


@pytest.mark.parametrize("call, name", [r[1:] for r in NETS_ROWS], ids=[r[0] for r in NETS_ROWS])
def test_files_refused_with_their_path(tmp_path, call, name):
    refused = call(tmp_path)
    with _deadline(FAST), pytest.raises(InvalidArgument) as err:
        refused()
    assert name in str(err.value), f"message does not name {name!r}: {err.value}"


# --- command lines: (module, argv, text the one error line must contain)
CLI_ROWS = [
    ("nets.spectral_report", ["/nonexistent/model.pt"], "/nonexistent/model.pt"),
    ("nets.spectral_report", ["nets.models:build_model"], "--allow-code-import"),
    ("nets.spectral_report", ["{ckpt}", "--alpha", "0.9"], "alpha"),
    ("nets.spectral_report", ["{ckpt}", "--tw-level", "2"], "tw_level"),
    ("nets.spectral_report", ["{ckpt}", "--bins", "0"], "--bins"),
    ("nets.spectral_report", ["{text}"], "{text}"),
    ("nets.train", ["e4-classification", "--scale", "cpu", "--stop-after", "0"], "--stop-after"),
    ("nets.train", ["e4-classification", "--scale", "cpu", "--stop-after", "-3"], "--stop-after"),
    ("nets.train", ["e4-classification", "--scale", "cpu", "--epochs", "0"], "--epochs"),
    ("nets.train", ["e4-classification", "--scale", "cpu", "--seed", "x"], "--seed"),
    ("nets.train", ["e4-classification", "--scale", "cpu", "--out", "{text}"], "{text}"),
    ("nets.train", ["e4-classification", "--scale", "cpu", "--out", "{textdir}", "--resume", "--quiet"],
     "checkpoint.pt"),
    # the rows below are the sims CLIs migrated to core.cli by miga / migb
    ("sims.spiked_model", ["--n", "0"], "n"),
    ("sims.spiked_model", ["--spikes", "-1"], "spikes"),
    ("sims.spiked_model", ["--ratio", "0"], "ratio"),
    ("sims.spiked_model", ["--trials", "0"], "trials"),
    ("sims.spiked_model", ["--jobs", "0"], "jobs"),
    ("sims.spiked_model", ["--n", "ten"], "--n"),
    ("sims.approximation_lemma", ["--n", "-5"], "n"),
    ("sims.approximation_lemma", ["--trials", "0"], "trials"),
    ("sims.approximation_lemma", ["--ratio", "nan"], "ratio"),
    ("sims.wigner", ["--sigma", "-1"], "sigma"),
    ("sims.wigner", ["--trials", "0"], "trials"),
    ("sims.bema_checks", ["--trials", "0"], "trials"),
    ("sims.pruning_theorem", ["--n", "1"], "n"),
    ("sims.pruning_theorem", ["--trials", "0"], "trials"),
    ("sims.pruning_theorem", ["--jobs", "0"], "jobs must be an integer"),
    ("sims.pruning_pipeline_check", ["--epochs", "0"], "epochs"),
    ("sims.pruning_pipeline_check", ["--hidden", "0"], "hidden"),
    ("sims.qian_klabjan", ["--trials", "0"], "trials"),
    ("sims.qian_klabjan", ["--threads", "0"], "--threads"),
    ("sims.paper004_theorems", ["--nets", "0"], "nets"),
    ("sims.paper004_side_by_side", ["--nets", "0"], "nets"),
    ("nets.posttraining", ["--epochs", "0"], "epochs"),
]


@pytest.fixture
def cli_files(tmp_path):
    ckpt = tmp_path / "model.pt"
    torch.save(_model().state_dict(), ckpt)
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    textdir = tmp_path / "run"
    textdir.mkdir()
    (textdir / "checkpoint.pt").write_text("not a checkpoint either\n")
    return {"ckpt": str(ckpt), "text": str(text), "textdir": str(textdir)}


@pytest.mark.parametrize("module, argv, text", CLI_ROWS,
                         ids=[f"{m} {' '.join(a)}" for m, a, _ in CLI_ROWS])
def test_cli_exits_2_with_one_line(module, argv, text, cli_files, capsys):
    argv = [a.format(**cli_files) for a in argv]
    text = text.format(**cli_files)
    main = _module(module).main
    with _deadline(4 * FAST), pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2, f"exit {exc.value.code}: {err[-500:]}"
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and text in errors[0], err
