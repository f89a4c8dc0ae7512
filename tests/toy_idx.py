"""A toy Fashion-MNIST written as real IDX files, so the end-to-end tests go through the real loader
(nets.data.read_idx / load_idx_dir) on a machine without Debian's dataset-fashion-mnist.

Each of the 10 classes has its own smooth 28 x 28 template (a few random Gaussian bumps, seeded);
an image is its class template at a random brightness plus pixel noise, clipped to uint8.  The
classes are learnable by a small fully connected net within a few epochs but not trivially
separable (templates overlap and the noise is large), so training curves move as on the real data.
Sizes: 1,200 training and 600 test images (the toy-size tests ask for at most 512 / 300).
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

N_TRAIN, N_TEST, SIDE, CLASSES = 1200, 600, 28, 10
FILES = {"train-images-idx3-ubyte": "train_images", "train-labels-idx1-ubyte": "train_labels",
         "t10k-images-idx3-ubyte": "test_images", "t10k-labels-idx1-ubyte": "test_labels"}


def write_idx(path: Path, array: np.ndarray) -> None:
    """One gzipped unsigned-byte IDX file (LeCun's format: magic 0x0000 08 ndim, big-endian sizes)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(f"{path}.gz", "wb") as fh:
        fh.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def toy_arrays(seed: int = 20261205) -> dict[str, np.ndarray]:
    # A fixed seed, not the suite's: the data set is a fixture, like Debian's files; tests that
    # draw from it draw with their own (shifted) seeds.
    rng = np.random.Generator(np.random.PCG64(seed))
    grid = np.stack(np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij"), -1).astype(float)
    templates = np.zeros((CLASSES, SIDE, SIDE))
    for c in range(CLASSES):
        for _ in range(4):
            centre, width = rng.uniform(4, SIDE - 4, 2), rng.uniform(2.5, 6.0)
            templates[c] += np.exp(-((grid - centre) ** 2).sum(-1) / (2 * width ** 2))
        templates[c] /= templates[c].max()

    def draw(n):
        labels = rng.integers(0, CLASSES, n)
        brightness = rng.uniform(120, 255, (n, 1, 1))
        images = templates[labels] * brightness + rng.normal(0, 60, (n, SIDE, SIDE))
        return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.uint8)

    train_images, train_labels = draw(N_TRAIN)
    test_images, test_labels = draw(N_TEST)
    return {"train_images": train_images, "train_labels": train_labels,
            "test_images": test_images, "test_labels": test_labels}


def write_toy_fashion_mnist(directory: Path) -> Path:
    """Write the four IDX files into ``directory`` (created) and return it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = toy_arrays()
    for stem, key in FILES.items():
        write_idx(directory / stem, arrays[key])
    return directory
