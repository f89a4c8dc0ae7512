"""nets.data: IDX / CIFAR readers on files written here, missing-data errors, the synthetic problems
of Appendix E.3 / E.4 (paper 000) and the seeded loaders."""
from __future__ import annotations

import gzip
import math
import pickle
import struct

import numpy as np
import pytest
import torch
from scipy import stats

from nets.data import (DatasetNotFoundError, epoch_generator, load_dataset, load_image_dataset, make_loader,
                       polynomial_classification_e4, read_idx, regression_e3, regression_target)
from sims.stats import proportion_ci


def _write_idx(path, array: np.ndarray, compress: bool):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(raw)
    else:
        path.write_bytes(raw)


def _write_mnist_dir(directory, n_train=12, n_test=5, compress=True, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test)}
    for name, arr in arrays.items():
        _write_idx(directory / name, arr, compress)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_idx_round_trip_and_half_normalisation(tmp_path, compress):
    arrays = _write_mnist_dir(tmp_path, compress=compress)
    data = load_image_dataset("mnist", tmp_path)
    x, y = data.train.tensors
    assert x.shape == (12, 1, 28, 28) and data.input_shape == (1, 28, 28) and data.n_outputs == 10
    # ToTensor + Normalize(0.5, 0.5): pixel p -> 2 p / 255 - 1, elementwise.
    expected = torch.from_numpy(arrays["train-images-idx3-ubyte"].astype(np.float64) * 2 / 255 - 1)
    assert torch.allclose(x[:, 0].double(), expected, atol=1e-6)
    assert torch.equal(y, torch.from_numpy(arrays["train-labels-idx1-ubyte"]).long())
    assert torch.equal(data.test.tensors[1], torch.from_numpy(arrays["t10k-labels-idx1-ubyte"]).long())


def test_meanstd_normalisation_standardises_training_set(tmp_path):
    _write_mnist_dir(tmp_path, n_train=40)
    x = load_image_dataset("fashion_mnist", tmp_path, normalisation="meanstd").train.tensors[0]
    # Standardising by the set's own mean and (unbiased) std gives exactly mean 0, std 1 up to rounding.
    assert abs(x.mean().item()) < 1e-5 and abs(x.std().item() - 1) < 1e-5


def test_subset_is_seeded_and_drawn_from_the_data(tmp_path):
    _write_mnist_dir(tmp_path, n_train=30)
    full = load_image_dataset("mnist", tmp_path).train.tensors[0]
    a = load_image_dataset("mnist", tmp_path, n_train=7, subset_seed=3).train.tensors[0]
    b = load_image_dataset("mnist", tmp_path, n_train=7, subset_seed=3).train.tensors[0]
    c = load_image_dataset("mnist", tmp_path, n_train=7, subset_seed=4).train.tensors[0]
    assert torch.equal(a, b) and not torch.equal(a, c) and len(a) == 7
    rows = {tuple(r.flatten().tolist()) for r in full}
    assert all(tuple(r.flatten().tolist()) in rows for r in a)
    assert len({tuple(r.flatten().tolist()) for r in a}) == 7  # without replacement
    with pytest.raises(ValueError, match="exceeds the 30 samples"):
        load_image_dataset("mnist", tmp_path, n_train=31)


def test_corrupt_idx_is_refused(tmp_path):
    path = tmp_path / "bad-idx"
    path.write_bytes(struct.pack(">HBB", 0, 0x08, 1) + struct.pack(">I", 10) + b"\x00" * 3)
    with pytest.raises(ValueError, match="promises 10 bytes"):
        read_idx(path)
    path.write_bytes(struct.pack(">HBB", 0, 0x0D, 1) + struct.pack(">I", 1) + b"\x00" * 4)
    with pytest.raises(ValueError, match="unsigned-byte"):
        read_idx(path)


def test_cifar_batches_layout(tmp_path):
    rng = np.random.default_rng(1)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (3, 3072)).astype(np.uint8)
        labels = rng.integers(0, 10, 3).tolist()
        batches[name] = (data, labels)
        with open(tmp_path / name, "wb") as fh:
            pickle.dump({b"data": data, b"labels": labels}, fh)
    d = load_image_dataset("cifar10", tmp_path, normalisation="unit")
    x, y = d.train.tensors
    assert x.shape == (15, 3, 32, 32) and d.input_shape == (3, 32, 32)
    # CIFAR-10 rows are 1024 red, 1024 green, 1024 blue values, each row-major 32 x 32.
    data2, labels2 = batches["data_batch_2"]
    i, c, r, s = 1, 2, 5, 7
    assert math.isclose(x[3 + i, c, r, s].item(), data2[i, c * 1024 + r * 32 + s] / 255, rel_tol=1e-6)
    assert y[3 + i].item() == labels2[i]
    assert torch.equal(d.test.tensors[1], torch.tensor(batches["test_batch"][1]))
    # the parent directory of cifar-10-batches-py works too
    nested = tmp_path / "parent" / "cifar-10-batches-py"
    nested.mkdir(parents=True)
    for name in batches:
        (nested / name).write_bytes((tmp_path / name).read_bytes())
    assert len(load_image_dataset("cifar10", tmp_path / "parent").train) == 15


def test_missing_dataset_error_names_places_and_install(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        load_image_dataset("fashion_mnist", tmp_path / "nowhere")
    msg = str(err.value)
    assert str(tmp_path / "nowhere") in msg and "apt-get install dataset-fashion-mnist" in msg
    (tmp_path / "partial").mkdir()
    _write_idx(tmp_path / "partial" / "train-images-idx3-ubyte", np.zeros((1, 28, 28)), True)
    with pytest.raises(DatasetNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_image_dataset("mnist", tmp_path / "partial")
    with pytest.raises(DatasetNotFoundError, match="cifar-10-python"):
        load_image_dataset("cifar10", tmp_path)
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("imagenet")


def test_regression_e3_matches_appendix():
    d = regression_e3(seed=5)
    x, y = (t[:, 0].double() for t in d.train.tensors)
    xt, yt = (t[:, 0].double() for t in d.test.tensors)
    i = np.arange(2000)
    assert np.allclose(x.numpy(), 2 * i / 1999, atol=1e-7) and len(xt) == 500
    assert np.allclose(xt.numpy(), 2 * np.arange(500) / 499, atol=1e-7)
    f = lambda v: 0.5 * np.cos(20 * v) + 2 * np.cos(5 * v) + 0.5 * np.sin(10 * v)  # E.3, written out again
    # Labels are computed in float64 on the exact grid and stored as float32 (|y| <= 3: rounding < 2e-7).
    assert np.allclose(yt.numpy(), f(2 * np.arange(500) / 499), atol=1e-6)  # test labels: no noise
    noise = y.numpy() - f(2 * i / 1999)
    assert np.all(np.abs(noise) <= 0.5 + 1e-6)  # sigma * U(-1, 1), sigma = 0.5
    # sigma*U(-1,1): mean 0, variance sigma^2/3 = 1/12, fourth moment sigma^4/5.  n = 2000:
    # sd(mean) = sqrt(1/12/2000) = 0.00645, sd(var) ~ sqrt((1/80 - 1/144)/2000) = 0.00167; 4.5 sd each.
    assert abs(noise.mean()) < 4.5 * 0.00645
    assert abs(noise.var() - 1 / 12) < 4.5 * 0.00167
    # Kolmogorov-Smirnov against U(-0.5, 0.5) at level 1e-4 (exact null law of the KS statistic; it was
    # 1e-3).  The 4.5 sd bounds above: two-sided 6.8e-6 each under the CLT.
    assert stats.kstest(noise, stats.uniform(loc=-0.5, scale=1).cdf).pvalue > 1e-4
    assert torch.equal(d.train.tensors[1], regression_e3(seed=5).train.tensors[1])
    assert not torch.equal(d.train.tensors[1], regression_e3(seed=6).train.tensors[1])
    assert torch.allclose(regression_target(torch.tensor([0.0])), torch.tensor([2.5]))  # 0.5 + 2 + 0


def test_polynomial_e4_labels_sit_on_the_right_side():
    d = polynomial_classification_e4(seed=2, degree=4, n_train=500, n_test=10, noise_std=0.0, offset=0.3)
    (xy, labels), coeffs = d.train.tensors, np.array(d.info["coefficients"])
    gap = xy[:, 1].double().numpy() - np.polyval(coeffs, xy[:, 0].double().numpy())
    assert np.allclose(np.abs(gap), 0.3, atol=1e-5)  # offset exactly, above for label 1
    assert np.array_equal(gap > 0, labels.numpy() == 1)
    assert xy[:, 0].min() >= -1 and xy[:, 0].max() <= 1 and len(coeffs) == 5


def test_polynomial_e4_noise_flips_the_predicted_fraction():
    n = 20000
    d = polynomial_classification_e4(seed=9, n_train=n, n_test=1, offset=0.2, noise_std=0.1)
    (xy, labels), coeffs = d.train.tensors, np.array(d.info["coefficients"])
    above = xy[:, 1].double().numpy() > np.polyval(coeffs, xy[:, 0].double().numpy())
    flipped = int(np.sum(above != (labels.numpy() == 1)))
    # A point crosses iff its N(0, 0.1^2) noise exceeds the 0.2 offset the wrong way: Phi(-2), so
    # flipped ~ Bin(n, Phi(-2)) exactly.  The exact (Clopper-Pearson) interval at level 1 - 1e-4
    # misses Phi(-2) with probability <= 1e-4 (it was a 99.9% Wilson interval: 1e-3).  Power: half-width
    # ~0.004, so a noise sd 10% off (flip rate Phi(-1.82) = 0.034 or Phi(-2.22) = 0.013) fails.
    ci = proportion_ci(flipped, n, level=1 - 1e-4, method="exact")
    assert ci.low <= stats.norm.cdf(-2) <= ci.high


def test_synthetic_input_errors():
    with pytest.raises(ValueError, match="degree"):
        polynomial_classification_e4(degree=-1)
    with pytest.raises(ValueError, match="x_range"):
        polynomial_classification_e4(x_range=(1.0, 1.0))
    with pytest.raises(ValueError, match="noise_scale"):
        regression_e3(noise_scale=float("nan"))


def test_loader_order_is_a_seeded_permutation():
    ds = torch.utils.data.TensorDataset(torch.arange(50).float()[:, None], torch.arange(50))
    order = lambda g: torch.cat([y for _, y in make_loader(ds, 8, generator=g)])
    a, b = order(epoch_generator(1, 3)), order(epoch_generator(1, 3))
    assert torch.equal(a, b) and torch.equal(a.sort().values, torch.arange(50))
    assert not torch.equal(a, order(epoch_generator(1, 4)))
    assert [len(y) for _, y in make_loader(ds, 8, shuffle=False)] == [8] * 6 + [2]
    with pytest.raises(ValueError, match="seeded generator"):
        make_loader(ds, 8)


def test_hiding_the_system_datasets_makes_a_missing_dataset_an_error_naming_the_variables(monkeypatch):
    monkeypatch.setenv("RMT_HIDE_SYSTEM_DATASETS", "1")
    monkeypatch.delenv("RMT_FASHION_MNIST_DIR", raising=False)
    with pytest.raises(DatasetNotFoundError) as info:
        load_image_dataset("fashion_mnist")
    msg = str(info.value)
    assert "RMT_HIDE_SYSTEM_DATASETS=1" in msg and "RMT_FASHION_MNIST_DIR" in msg
    assert "apt-get install dataset-fashion-mnist" in msg


def test_default_locations_follow_the_environment(monkeypatch, tmp_path):
    from nets.data import FASHION_MNIST_DEFAULT_DIR, default_locations
    monkeypatch.delenv("RMT_HIDE_SYSTEM_DATASETS", raising=False)
    monkeypatch.delenv("RMT_FASHION_MNIST_DIR", raising=False)
    assert default_locations("fashion_mnist") == [FASHION_MNIST_DEFAULT_DIR]
    monkeypatch.setenv("RMT_FASHION_MNIST_DIR", str(tmp_path))
    assert default_locations("fashion_mnist") == [tmp_path, FASHION_MNIST_DEFAULT_DIR]
    monkeypatch.setenv("RMT_HIDE_SYSTEM_DATASETS", "1")
    assert default_locations("fashion_mnist") == [tmp_path]
    monkeypatch.setenv("RMT_HIDE_SYSTEM_DATASETS", "0")
    assert default_locations("fashion_mnist") == [tmp_path, FASHION_MNIST_DEFAULT_DIR]
    monkeypatch.setenv("RMT_HIDE_SYSTEM_DATASETS", "maybe")
    with pytest.raises(Exception, match="RMT_HIDE_SYSTEM_DATASETS must be 0/1"):
        default_locations("fashion_mnist")


def test_the_suite_reads_the_toy_idx_files_through_the_real_loader():
    """The session fixture of tests/conftest.py points the loader at tests/toy_idx.py's files: the
    default suite never depends on the machine's dataset."""
    import os
    from tests.toy_idx import N_TEST, N_TRAIN, toy_arrays
    data = load_image_dataset("fashion_mnist")
    assert data.info["source"] == os.environ["RMT_FASHION_MNIST_DIR"]
    assert len(data.train) == N_TRAIN and len(data.test) == N_TEST
    assert torch.equal(data.train.tensors[1], torch.from_numpy(toy_arrays()["train_labels"]).long())
