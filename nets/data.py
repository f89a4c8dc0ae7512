"""Datasets of paper 000 (Berlyand et al. 2024) Section 3 and Appendix E, as in-memory tensors.

Image data (Section 3.2: standard partitions 60,000/10,000 for MNIST and Fashion-MNIST,
50,000/10,000 for CIFAR-10) is read from files already on disk:

* Fashion-MNIST: Debian's ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist/``, IDX,
  gzipped or not); ``data_dir`` points elsewhere.
* MNIST: any directory holding the four IDX files (same names as Fashion-MNIST's).
* CIFAR-10: the python batches (``data_batch_1..5``, ``test_batch``; the directory
  ``cifar-10-batches-py`` or its parent).
* torchvision is used only when it is installed *and* ``download=True`` is asked for; nothing here
  depends on it.

A missing dataset raises :class:`DatasetNotFoundError` naming every place looked at and how to
install the data.

Two environment variables steer where image data is looked for (they reach subprocesses too):

* ``RMT_FASHION_MNIST_DIR``, ``RMT_MNIST_DIR``, ``RMT_CIFAR10_DIR``: a directory looked at first
  (before the default locations) when no ``data_dir`` is given.
* ``RMT_HIDE_SYSTEM_DATASETS=1``: the default locations (``/usr/share/datasets/...``, ``data/...``)
  are not looked at, as on a fresh machine without Debian's package.  ``.ci/run`` runs the test
  suite this way, so a CI machine that has the dataset still proves that a machine without it
  passes; the tests write their own small IDX files (tests/toy_idx.py) and point
  ``RMT_FASHION_MNIST_DIR`` at them.

Normalisation.  The paper does not state one.  The public refactor of the authors' notebook
(github.com/b-d-e/rmt_pruning, ``FashionMNISTDataModule``, a refactor of
yspennstate/RMT_pruning_2 cited in footnote 1 of the paper) uses torchvision's
``ToTensor()`` followed by ``Normalize((0.5,), (0.5,))``, i.e. ``x = 2 * pixel / 255 - 1`` in
[-1, 1].  That is our default (``normalisation="half"``), applied channel-wise to CIFAR-10 too (the
refactor covers Fashion-MNIST only, so for CIFAR-10 this is our choice).  ``"meanstd"`` (pixel/255,
then the training set's per-channel mean and standard deviation) and ``"unit"`` (pixel/255) are the
alternatives.

Synthetic problems, seeded:

* :func:`regression_e3` -- Appendix E.3 exactly: 2000 training points ``x_i = 2i/1999``, labels
  ``0.5 cos 20x + 2 cos 5x + 0.5 sin 10x + 0.5 * U(-1, 1)``; 500 noiseless test points
  ``x_i = 2i/499``.
* :func:`polynomial_classification_e4` -- Appendix E.4: a random polynomial boundary of a given
  degree, points offset above (label 1, "blue") or below (label 0, "red") it, Gaussian noise on
  the y-coordinate after labelling (so a few points cross the boundary).

Everything returns :class:`DataSplits` holding two :class:`torch.utils.data.TensorDataset`;
:func:`make_loader` builds a :class:`~torch.utils.data.DataLoader` whose order is fixed by a seeded
generator (one permutation per (seed, epoch), so pruned and unpruned runs see identical batches and
a resumed run sees the same batches as an uninterrupted one).
"""
from __future__ import annotations

import gzip
import os
import pickle
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from core.validate import InvalidArgument

FASHION_MNIST_DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
MNIST_DEFAULT_DIRS = (Path("/usr/share/datasets/mnist"), Path("data/mnist"))
CIFAR10_DEFAULT_DIRS = (Path("data/cifar-10-batches-py"), Path("/usr/share/datasets/cifar-10-batches-py"))

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
NORMALISATIONS = ("half", "meanstd", "unit")
N_IMAGE_CLASSES = 10  # MNIST, Fashion-MNIST and CIFAR-10
DATASETS = ("fashion_mnist", "mnist", "cifar10", "regression_e3", "polynomial_e4")
DATA_DIR_ENV = {"fashion_mnist": "RMT_FASHION_MNIST_DIR", "mnist": "RMT_MNIST_DIR", "cifar10": "RMT_CIFAR10_DIR"}
HIDE_SYSTEM_DATASETS_ENV = "RMT_HIDE_SYSTEM_DATASETS"


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not where we looked; the message says where and how to get them."""


@dataclass
class DataSplits:
    """Train and test sets of one problem.

    ``input_shape`` excludes the batch dimension; ``n_outputs`` is the number of classes for a
    classification task and the output dimension for a regression task."""
    train: TensorDataset
    test: TensorDataset
    input_shape: tuple
    n_outputs: int
    task: str  # "classification" | "regression"
    info: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# file formats

def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (LeCun's MNIST format; ``.gz`` or plain) into a numpy array.

    Only the unsigned-byte type (code 0x08) occurs in (Fashion-)MNIST; other types are refused."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile, truncated stream, a directory
        raise InvalidArgument(f"{path}: cannot read as an IDX file{' (gzip)' if opener is gzip.open else ''}: "
                              f"{type(exc).__name__}: {exc}") from None
    if len(raw) < 4:
        raise InvalidArgument(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise InvalidArgument(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    header = 4 + 4 * ndim
    if ndim < 1 or len(raw) < header:
        raise InvalidArgument(f"{path}: IDX header of {ndim} dimensions does not fit in {len(raw)} bytes")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=object))
    if len(raw) - header != expected:
        raise InvalidArgument(f"{path}: header promises {expected} bytes of data, file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find_idx(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (directory / name).is_file():
            return directory / name
    return None


def load_idx_dir(directory: Path) -> dict[str, np.ndarray]:
    """The four IDX arrays of an MNIST-format directory, or DatasetNotFoundError."""
    found = {key: _find_idx(directory, stem) for key, stem in IDX_FILES.items()}
    missing = [IDX_FILES[k] for k, p in found.items() if p is None]
    if missing:
        raise DatasetNotFoundError(f"{directory}: missing {missing}")
    arrays = {key: read_idx(p) for key, p in found.items()}
    for split in ("train", "test"):
        n_img, n_lab = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
        if n_img != n_lab or arrays[f"{split}_images"].ndim != 3 or arrays[f"{split}_labels"].ndim != 1:
            raise InvalidArgument(f"{directory}: {split} images {arrays[f'{split}_images'].shape} do not "
                                  f"match labels {arrays[f'{split}_labels'].shape}")
        _check_labels(arrays[f"{split}_labels"], found[f"{split}_labels"])
    return arrays


def _check_labels(labels: np.ndarray, where) -> None:
    """Class labels must lie in [0, N_IMAGE_CLASSES): refused at load, not an index error (or a
    silently wrong loss) deep in training."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= N_IMAGE_CLASSES):
        bad = labels[(labels < 0) | (labels >= N_IMAGE_CLASSES)]
        raise InvalidArgument(f"{where}: labels must be in [0, {N_IMAGE_CLASSES - 1}], got "
                              f"{bad.size} outside (e.g. {int(bad[0])})")


# CIFAR-10's python batches are pickles.  pickle.load runs whatever callables a file names, so they
# are read by an unpickler that resolves only the globals those files hold: numpy's array
# reconstruction (the ndarray class and the non-object dtype it is made of) and, for files written
# by Python 3 with protocol 2, the latin-1 encoding of bytes.  Every other global is refused.
_RECONSTRUCT = np.zeros(1).__reduce_ex__(2)[0]
_FROMBUFFER = np.zeros(1).__reduce_ex__(5)[0]


def _plain_dtype(*args):
    dt = np.dtype(*args)
    if dt.hasobject:
        raise pickle.UnpicklingError(f"refusing an object dtype {dt}")
    return dt


def _reconstruct(subtype, *args):
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"refusing to reconstruct a {subtype!r}")
    return _RECONSTRUCT(subtype, *args)


def _frombuffer(buffer, dtype, *args):
    return _FROMBUFFER(buffer, _plain_dtype(dtype), *args)


def _latin1(text, encoding="latin1"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode({type(text).__name__}, {encoding!r})")
    return text.encode("latin1")


_CIFAR_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _plain_dtype,
    ("_codecs", "encode"): _latin1,
}


class _CifarUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return _CIFAR_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch "
                                         "(only numpy arrays, lists, dicts, bytes and numbers)") from None


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch -> uint8 images (n, 3, 32, 32) and int64 labels, through the
    restricted unpickler above (a file that names any other callable is refused, not run)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            d = _CifarUnpickler(fh, encoding="bytes").load()
    except FileNotFoundError:
        raise
    except (pickle.UnpicklingError, OSError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, MemoryError, OverflowError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"{path}: not a readable CIFAR-10 batch: {type(exc).__name__}: {exc}") from None
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        keys = sorted(d) if isinstance(d, dict) else type(d).__name__
        raise InvalidArgument(f"{path}: a CIFAR-10 batch is a dict with b'data' and b'labels', got {keys}")
    data, labels = d[b"data"], d[b"labels"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        what = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise InvalidArgument(f"{path}: data must be a uint8 array of shape (n, 3072), got {what}")
    if not isinstance(labels, (list, np.ndarray)) or len(labels) != len(data) \
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in labels):
        raise InvalidArgument(f"{path}: labels must be {len(data)} integers")
    labels = np.asarray(labels, dtype=np.int64)
    _check_labels(labels, path)
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10_dir(directory: Path) -> dict[str, np.ndarray]:
    """CIFAR-10 python batches -> uint8 arrays (N, 3, 32, 32) and int labels."""
    if (directory / "cifar-10-batches-py").is_dir():
        directory = directory / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    missing = [n for n in names if not (directory / n).is_file()]
    if missing:
        raise DatasetNotFoundError(f"{directory}: missing {missing}")

    train = [read_cifar_batch(directory / n) for n in names[:5]]
    test_x, test_y = read_cifar_batch(directory / "test_batch")
    return {"train_images": np.concatenate([b[0] for b in train]),
            "train_labels": np.concatenate([b[1] for b in train]),
            "test_images": test_x, "test_labels": test_y}


# ---------------------------------------------------------------------------------------------
# image datasets

def _normalise(train_u8: np.ndarray, test_u8: np.ndarray, how: str) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """uint8 (N, C, H, W) -> float32 tensors, normalised per the module docstring."""
    if how not in NORMALISATIONS:
        raise InvalidArgument(f"unknown normalisation {how!r}; choose one of {NORMALISATIONS}")
    train = torch.from_numpy(train_u8.astype(np.float32) / 255.0)
    test = torch.from_numpy(test_u8.astype(np.float32) / 255.0)
    channels = train.shape[1]
    if how == "unit":
        mean, std = [0.0] * channels, [1.0] * channels
    elif how == "half":
        mean, std = [0.5] * channels, [0.5] * channels
    else:
        mean = train.mean(dim=(0, 2, 3)).tolist()
        std = train.std(dim=(0, 2, 3)).tolist()
    m = torch.tensor(mean).view(1, -1, 1, 1)
    s = torch.tensor(std).view(1, -1, 1, 1)
    return (train - m) / s, (test - m) / s, {"normalisation": how, "mean": mean, "std": std}


def _subset(x: torch.Tensor, y: torch.Tensor, n: int | None, seed: int, what: str):
    """First ``n`` of a seeded permutation (a random, reproducible subset), or everything (None).
    Asking for more samples than the split holds is an error, not a silent smaller run."""
    if n is None:
        return x, y
    if n <= 0:
        raise InvalidArgument(f"{what} must be positive, got {n}")
    if n > len(x):
        raise InvalidArgument(f"{what}={n} exceeds the {len(x)} samples available")
    if n == len(x):
        return x, y
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(x), generator=gen)[:n]
    return x[idx], y[idx]


def _image_splits(arrays, name, source, normalisation, n_train, n_test, subset_seed) -> DataSplits:
    train_u8, test_u8 = arrays["train_images"], arrays["test_images"]
    if train_u8.ndim == 3:  # IDX: (N, H, W) -> (N, 1, H, W)
        train_u8, test_u8 = train_u8[:, None], test_u8[:, None]
    train_x, test_x, norm = _normalise(train_u8, test_u8, normalisation)
    train_y = torch.as_tensor(np.asarray(arrays["train_labels"], dtype=np.int64))
    test_y = torch.as_tensor(np.asarray(arrays["test_labels"], dtype=np.int64))
    train_x, train_y = _subset(train_x, train_y, n_train, subset_seed, "n_train")
    test_x, test_y = _subset(test_x, test_y, n_test, subset_seed + 1, "n_test")
    # MNIST, Fashion-MNIST and CIFAR-10 all have 10 classes, whatever a subset happens to contain.
    return DataSplits(TensorDataset(train_x, train_y), TensorDataset(test_x, test_y),
                      tuple(train_x.shape[1:]), 10, "classification",
                      {"dataset": name, "source": str(source), **norm,
                       "n_train": len(train_x), "n_test": len(test_x)})


def _try_torchvision(name: str, root: Path) -> dict[str, np.ndarray] | None:
    """Download with torchvision when it is installed; None when it is not."""
    try:
        import torchvision  # noqa: F401  (optional; absent in this project's environment)
        from torchvision import datasets as tvd
    except ImportError:
        return None
    cls = {"fashion_mnist": tvd.FashionMNIST, "mnist": tvd.MNIST, "cifar10": tvd.CIFAR10}[name]
    tr, te = cls(str(root), train=True, download=True), cls(str(root), train=False, download=True)

    def arr(ds, attr):
        v = getattr(ds, attr)
        return v.numpy() if hasattr(v, "numpy") else np.asarray(v)
    if name == "cifar10":
        return {"train_images": arr(tr, "data").transpose(0, 3, 1, 2), "train_labels": arr(tr, "targets"),
                "test_images": arr(te, "data").transpose(0, 3, 1, 2), "test_labels": arr(te, "targets")}
    return {"train_images": arr(tr, "data"), "train_labels": arr(tr, "targets"),
            "test_images": arr(te, "data"), "test_labels": arr(te, "targets")}


_INSTALL_HINT = {
    "fashion_mnist": "install Debian's package (`apt-get install dataset-fashion-mnist`, files land in "
                     "/usr/share/datasets/fashion-mnist/) or pass data_dir / --data-dir to a directory with "
                     "the four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
                     "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])",
    "mnist": "download the four IDX files of MNIST (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
             "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) into a directory and pass it as "
             "data_dir / --data-dir",
    "cifar10": "download and unpack cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) and "
               "pass the cifar-10-batches-py directory (or its parent) as data_dir / --data-dir",
}


def default_locations(name: str) -> list[Path]:
    """Where ``name`` is looked for when no ``data_dir`` is given: ``$RMT_<NAME>_DIR`` first, then the
    built-in default directories unless ``RMT_HIDE_SYSTEM_DATASETS`` is set to a true value."""
    found = []
    env_dir = os.environ.get(DATA_DIR_ENV[name], "").strip()
    if env_dir:
        found.append(Path(env_dir).expanduser())
    if not _env_true(HIDE_SYSTEM_DATASETS_ENV):
        found += {"fashion_mnist": [FASHION_MNIST_DEFAULT_DIR], "mnist": list(MNIST_DEFAULT_DIRS),
                  "cifar10": list(CIFAR10_DEFAULT_DIRS)}[name]
    return found


def _env_true(variable: str) -> bool:
    value = os.environ.get(variable, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise InvalidArgument(f"{variable} must be 0/1 (or true/false), got {os.environ[variable]!r}")


def load_image_dataset(name: str, data_dir: str | Path | None = None, *, normalisation: str = "half",
                       n_train: int | None = None, n_test: int | None = None, subset_seed: int = 0,
                       download: bool = False) -> DataSplits:
    """Fashion-MNIST, MNIST or CIFAR-10 from disk (see the module docstring for formats/locations).

    ``n_train`` / ``n_test`` keep a seeded random subset (for CPU-scale runs)."""
    if name not in _INSTALL_HINT:
        raise InvalidArgument(f"unknown image dataset {name!r}; choose one of {sorted(_INSTALL_HINT)}")
    candidates = [Path(data_dir).expanduser()] if data_dir is not None else default_locations(name)
    if not candidates:
        raise DatasetNotFoundError(f"{name} not found: the default locations are hidden by "
                                   f"{HIDE_SYSTEM_DATASETS_ENV}=1 and {DATA_DIR_ENV[name]} is not set. "
                                   f"To get it: {_INSTALL_HINT[name]}.")
    loader = load_cifar10_dir if name == "cifar10" else load_idx_dir
    problems = []
    for directory in candidates:
        try:
            arrays = loader(directory)
        except DatasetNotFoundError as err:
            problems.append(str(err))
            continue
        return _image_splits(arrays, name, directory, normalisation, n_train, n_test, subset_seed)
    if download:
        arrays = _try_torchvision(name, candidates[0])
        if arrays is not None:
            return _image_splits(arrays, name, f"torchvision:{candidates[0]}", normalisation,
                                 n_train, n_test, subset_seed)
        problems.append("download=True but torchvision is not installed")
    raise DatasetNotFoundError(f"{name} not found. Looked in: {'; '.join(problems)}. To get it: {_INSTALL_HINT[name]}.")


# ---------------------------------------------------------------------------------------------
# synthetic problems

def regression_target(x: torch.Tensor | np.ndarray):
    """Appendix E.3: 0.5 cos(20x) + 2 cos(5x) + 0.5 sin(10x)."""
    lib = torch if isinstance(x, torch.Tensor) else np
    return 0.5 * lib.cos(20 * x) + 2 * lib.cos(5 * x) + 0.5 * lib.sin(10 * x)


def regression_e3(seed: int = 0, *, n_train: int = 2000, n_test: int = 500, noise_scale: float = 0.5) -> DataSplits:
    """The regression problem of Appendix E.3 (defaults are the paper's: 2000/500 points, sigma 0.5).

    x_train = 2i/(n_train-1), y = target(x) + sigma * eps, eps ~ U(-1, 1) iid (seeded);
    x_test = 2i/(n_test-1), y = target(x) without noise.  Inputs and targets have shape (n, 1)."""
    if n_train < 2 or n_test < 2:
        raise InvalidArgument(f"need at least 2 points per split, got n_train={n_train}, n_test={n_test}")
    if not np.isfinite(noise_scale) or noise_scale < 0:
        raise InvalidArgument(f"noise_scale must be finite and >= 0, got {noise_scale}")
    gen = torch.Generator().manual_seed(seed)
    x_train = torch.arange(n_train, dtype=torch.float64) * 2 / (n_train - 1)
    eps = torch.rand(n_train, generator=gen, dtype=torch.float64) * 2 - 1
    y_train = regression_target(x_train) + noise_scale * eps
    x_test = torch.arange(n_test, dtype=torch.float64) * 2 / (n_test - 1)
    y_test = regression_target(x_test)
    f = torch.float32
    return DataSplits(TensorDataset(x_train[:, None].to(f), y_train[:, None].to(f)),
                      TensorDataset(x_test[:, None].to(f), y_test[:, None].to(f)),
                      (1,), 1, "regression",
                      {"dataset": "regression_e3", "seed": seed, "noise_scale": noise_scale,
                       "n_train": n_train, "n_test": n_test})


def polynomial_classification_e4(seed: int = 0, *, degree: int = 3, n_train: int = 1000, n_test: int = 1000,
                                 x_range: tuple[float, float] = (-1.0, 1.0), offset: float = 0.2,
                                 noise_std: float = 0.1) -> DataSplits:
    """The 2-D binary classification of Appendix E.4.

    A boundary polynomial p of the given degree with coefficients iid N(0, 1) (seeded); x ~ U(x_range);
    each point gets label 1 ("blue", above) or 0 ("red", below) with probability 1/2 and
    y = p(x) + offset (label 1) or p(x) - offset (label 0); then y += N(0, noise_std^2).  With
    noise the label is flipped relative to the true boundary exactly when the noise exceeds the
    offset in the wrong direction: probability Phi(-offset/noise_std) per point.  E.4 gives no
    numbers besides a 1000-point training set (Example 4.1); offset, noise, range and degree are
    our defaults.  ``info['coefficients']`` holds p (numpy.polyval order, highest power first)."""
    if degree < 0 or int(degree) != degree:
        raise InvalidArgument(f"degree must be a non-negative integer, got {degree}")
    if not (np.isfinite(offset) and offset >= 0 and np.isfinite(noise_std) and noise_std >= 0):
        raise InvalidArgument(f"offset and noise_std must be finite and >= 0, got {offset}, {noise_std}")
    lo, hi = x_range
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InvalidArgument(f"x_range must be finite with lo < hi, got {x_range}")
    if n_train < 1 or n_test < 1:
        raise InvalidArgument(f"n_train and n_test must be positive, got {n_train}, {n_test}")
    gen = torch.Generator().manual_seed(seed)
    coefficients = torch.randn(degree + 1, generator=gen, dtype=torch.float64)

    def draw(n):
        x = lo + (hi - lo) * torch.rand(n, generator=gen, dtype=torch.float64)
        labels = torch.randint(0, 2, (n,), generator=gen)
        boundary = sum(c * x ** (degree - k) for k, c in enumerate(coefficients))
        y = boundary + offset * (2 * labels - 1) + noise_std * torch.randn(n, generator=gen, dtype=torch.float64)
        return torch.stack([x, y], dim=1).to(torch.float32), labels

    train, test = draw(n_train), draw(n_test)
    return DataSplits(TensorDataset(*train), TensorDataset(*test), (2,), 2, "classification",
                      {"dataset": "polynomial_e4", "seed": seed, "degree": degree,
                       "coefficients": coefficients.tolist(), "offset": offset, "noise_std": noise_std,
                       "x_range": list(x_range), "n_train": n_train, "n_test": n_test})


def load_dataset(name: str, *, data_dir=None, seed: int = 0, n_train=None, n_test=None,
                 normalisation: str = "half", download: bool = False, **synthetic_kwargs) -> DataSplits:
    """Dispatch on a dataset name from :data:`DATASETS`."""
    if name in ("fashion_mnist", "mnist", "cifar10"):
        if synthetic_kwargs:
            raise InvalidArgument(f"{name}: unexpected options {sorted(synthetic_kwargs)}")
        return load_image_dataset(name, data_dir, normalisation=normalisation, n_train=n_train,
                                  n_test=n_test, subset_seed=seed, download=download)
    if name == "regression_e3":
        kw = {k: v for k, v in (("n_train", n_train), ("n_test", n_test)) if v is not None}
        return regression_e3(seed, **kw, **synthetic_kwargs)
    if name == "polynomial_e4":
        kw = {k: v for k, v in (("n_train", n_train), ("n_test", n_test)) if v is not None}
        return polynomial_classification_e4(seed, **kw, **synthetic_kwargs)
    raise InvalidArgument(f"unknown dataset {name!r}; choose one of {DATASETS}")


# ---------------------------------------------------------------------------------------------
# loaders

def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator that fixes the batch order of one epoch: a function of (seed, epoch) only."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch * 7919 + 17) % (2 ** 63))


def make_loader(dataset: TensorDataset, batch_size: int, *, shuffle: bool = True,
                generator: torch.Generator | None = None, drop_last: bool = False) -> DataLoader:
    """A DataLoader that draws whole batches by fancy indexing (fast for in-memory tensors).

    With ``shuffle`` the order comes from ``generator`` (required, so the order is reproducible)."""
    if batch_size < 1:
        raise InvalidArgument(f"batch_size must be >= 1, got {batch_size}")
    if shuffle:
        if generator is None:
            raise InvalidArgument("shuffle=True needs a seeded generator (see epoch_generator)")
        base = RandomSampler(dataset, generator=generator)
    else:
        base = SequentialSampler(dataset)
    # batch_size=None: the sampler yields index lists and TensorDataset indexes all of them at once.
    return DataLoader(dataset, sampler=BatchSampler(base, batch_size, drop_last), batch_size=None)
