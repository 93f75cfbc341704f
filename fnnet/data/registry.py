"""``load(name, split)``: one entry point for every data set fnnet reads."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import numpy as np

from fnnet.data import paths
from fnnet.data.cifar import find_cifar10_folder, load_cifar10
from fnnet.data.dataset import convert_images
from fnnet.data.digits import load_digits, train_test_split
from fnnet.data.idx import find_idx_files, load_mnist_idx
from fnnet.data.tfds_source import from_tfds

DIGITS_TEST_FRACTION = 0.2
LOCAL = ("digits", "mnist", "fashion_mnist", "cifar10")


def _local_folder(name: str, data_dir: str | os.PathLike | None) -> pathlib.Path | None:
    return pathlib.Path(data_dir) if data_dir is not None else paths.default_directory(name)


def load(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    dtype: Any = np.uint8,
) -> tuple[np.ndarray, np.ndarray]:
    """Loads a whole split into memory as ``(images [N, C, H, W], labels [N] int32)``.

    - ``"digits"``: scikit-learn's 8x8 digits, always float32 in [0, 1]; ``"train"`` and
      ``"test"`` are a fixed 80/20 split (seed 0), ``"all"`` is all 1,797.
    - ``"mnist"``, ``"fashion_mnist"``: the IDX files if ``data_dir`` (or
      ``$FNNET_MNIST_DIR``, ``$FNNET_FASHION_MNIST_DIR``, ``$FNNET_DATA_DIR/<name>``)
      holds them, else TFDS.
    - ``"cifar10"``: the official python batches if found there, else TFDS.
    - any other name: TFDS (``data_dir`` is then the TFDS data directory).

    For data sets larger than memory use :func:`~fnnet.data.from_tfds`, which reads by
    index.

    Args:
        name: the data set.
        split: ``"train"`` or ``"test"`` (TFDS names take any TFDS split string).
        data_dir: folder of the local files, or the TFDS data directory.
        dtype: ``np.uint8`` or ``np.float32`` (scaled to [0, 1]); ignored by digits.

    Returns:
        ``(images, labels)``.

    Raises:
        ValueError: unknown name or split.
        FileNotFoundError: no local files and no prepared TFDS data set (the message
            says how to get them).
    """
    if name == "digits":
        images, labels = load_digits()
        if split == "all":
            return images, labels
        if split not in ("train", "test"):
            raise ValueError(f"split must be one of ['all', 'test', 'train'] for digits, "
                             f"got {split!r}")
        train, test = train_test_split(images, labels, DIGITS_TEST_FRACTION, seed=0)
        return train if split == "train" else test
    folder = _local_folder(name, data_dir)
    if name in ("mnist", "fashion_mnist") and split in ("train", "test") and folder \
            and find_idx_files(folder, split, name):
        return load_mnist_idx(folder, split, name, dtype=dtype)
    if name == "cifar10" and folder and find_cifar10_folder(folder):
        return load_cifar10(folder, split, dtype=dtype)
    images, labels = from_tfds(name, split, data_dir).arrays()
    return convert_images(images, dtype), labels
