"""``load(name, split)``: one entry point for every data set fnnet reads.

A local folder is inspected before any fallback: its files are read when present; a
folder without them falls back to a TFDS data set prepared there, and when there is
none either, the error lists the missing files by name and where to get them.
:func:`load_train_test` gives both splits at once, and trains on a fixed split of the
files a folder does hold (MNIST's test set alone, as ``fnnet compare`` does).
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

import numpy as np

from fnnet.data import cifar, idx, paths
from fnnet.data.cifar import find_cifar10_folder, load_cifar10
from fnnet.data.dataset import check_images_dtype, convert_images
from fnnet.data.digits import load_digits, train_test_split
from fnnet.data.idx import find_idx_files, load_mnist_idx
from fnnet.data.tfds_source import DatasetNotPreparedError, from_tfds

DIGITS_TEST_FRACTION = 0.2
# The held-out share when a folder holds one split only (MNIST's test set alone).
HELD_OUT_FRACTION = 0.2
LOCAL = ("digits", "mnist", "fashion_mnist", "cifar10")
IDX = ("mnist", "fashion_mnist")

Split = tuple[np.ndarray, np.ndarray]


def _local_folder(name: str, data_dir: str | os.PathLike[str] | None) -> pathlib.Path | None:
    return pathlib.Path(data_dir) if data_dir is not None else paths.default_directory(name)


def _has_split(name: str, folder: pathlib.Path, split: str) -> bool:
    """Whether ``folder`` holds the local files of ``split`` of data set ``name``."""
    if name in IDX:
        return find_idx_files(folder, split, name) is not None
    found = find_cifar10_folder(folder)
    names = cifar.TRAIN_FILES if split == "train" else cifar.TEST_FILES
    return found is not None and all((found / n).is_file() for n in names)


def _has_any_file(name: str, folder: pathlib.Path, split: str) -> bool:
    """Whether ``folder`` holds any of the local files of ``split`` (all of them or not)."""
    if name in IDX:
        return any((place / file).is_file() for place in idx.idx_folders(folder, name)
                   for what in ("images", "labels")
                   for file in idx.idx_file_names(split, what))
    found = find_cifar10_folder(folder)
    names = cifar.TRAIN_FILES if split == "train" else cifar.TEST_FILES
    return found is not None and any((found / n).is_file() for n in names)


def expected_files(name: str, split: str | None = None) -> tuple[list[str], str]:
    """The local files of data set ``name`` (both splits when ``split`` is None) and
    where to get them.

    Args:
        name: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.
        split: ``"train"``, ``"test"`` or None.

    Returns:
        ``(file names, a sentence saying where to download them)``.
    """
    splits = ("train", "test") if split is None else (split,)
    if name in IDX:
        names = [idx.idx_file_names(s, what)[0] for s in splits for what in ("images", "labels")]
        return names, (f"Download them from {idx.SOURCES[name]}; they may also be "
                       "uncompressed (no .gz)")
    names = [f"{cifar.FOLDER}/{n}" for s in splits
             for n in (cifar.TRAIN_FILES if s == "train" else cifar.TEST_FILES)]
    return names, f"Download and extract {cifar.URL}"


def _missing_message(name: str, folder: pathlib.Path | None, split: str | None) -> str:
    """Why ``name`` could not be read: the local files absent from ``folder`` (of
    ``split``, or of both splits when None), and the TFDS alternative."""
    splits: tuple[str, ...] = ("train", "test") if split is None else (split,)
    if folder is None:
        where = f": no folder given ({paths.how_to_point(name)});"
    else:
        splits = tuple(s for s in splits if not _has_split(name, folder, s)) or splits
        where = f" files not found in {folder}:"
    names = [n for s in splits for n in expected_files(name, s)[0]]
    return (f"{name}{where} expected {', '.join(names)}. {expected_files(name)[1]}. Or "
            f"prepare the tfds dataset {name!r} (tfds build {name} "
            "--file_format=array_record) and pass its data directory.")


def _from_tfds_or_missing(name: str, split: str, folder: pathlib.Path | None,
                          data_dir: str | os.PathLike[str] | None, dtype: Any) -> Split:
    """The TFDS fallback of a local data set whose files are absent."""
    try:
        images, labels = from_tfds(name, split, data_dir).arrays()
    except DatasetNotPreparedError:
        raise DatasetNotPreparedError(_missing_message(name, folder, split)) from None
    return convert_images(images, dtype), labels


def load(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
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
        TypeError: ``name`` or ``split`` is not a str, or ``data_dir`` not a path.
        ValueError: unknown name or split.
        DatasetNotPreparedError: (a FileNotFoundError) no local files and no prepared
            TFDS data set; the message lists the missing files and where to get them.
    """
    paths.check_source("load", name, data_dir, split)
    check_images_dtype(dtype)
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
    if name in IDX and split in ("train", "test") and folder \
            and find_idx_files(folder, split, name):
        return load_mnist_idx(folder, split, name, dtype=dtype)
    if name == "cifar10" and folder and find_cifar10_folder(folder):
        return load_cifar10(folder, split, dtype=dtype)
    if name in LOCAL and split in ("train", "test"):
        return _from_tfds_or_missing(name, split, folder, data_dir, dtype)
    images, labels = from_tfds(name, split, data_dir).arrays()
    return convert_images(images, dtype), labels


def load_train_test(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    dtype: Any = np.uint8,
) -> tuple[Split, Split, str | None]:
    """Both splits of a data set, for training and then testing.

    As :func:`load`, but a local folder holding only one split's files (the usual case:
    MNIST's test set alone) is split the way ``fnnet compare`` splits it: a fixed 80/20
    shuffle with seed 0 (8,000 images to train on and 2,000 held out of MNIST's 10,000),
    and the returned note says so.

    Args:
        name: the data set (see :func:`load`).
        data_dir: folder of the local files, or the TFDS data directory.
        dtype: ``np.uint8`` or ``np.float32`` (scaled to [0, 1]); ignored by digits.

    Returns:
        ``((train_images, train_labels), (test_images, test_labels), note)``; ``note``
        is None, or a sentence saying which files were split.

    Raises:
        TypeError: ``name`` is not a str, or ``data_dir`` not a path.
        ValueError: unknown name.
        DatasetNotPreparedError: (a FileNotFoundError) neither split's files nor a
            prepared TFDS data set; the message lists the missing files.
    """
    paths.check_source("load_train_test", name, data_dir)
    folder = _local_folder(name, data_dir)
    if name in IDX or name == "cifar10":
        present = [s for s in ("train", "test") if folder and _has_split(name, folder, s)]
        partial = [s for s in ("train", "test") if folder and s not in present
                   and _has_any_file(name, folder, s)]
        if len(present) == 1 and not partial:
            images, labels = load(name, present[0], folder, dtype=dtype)
            train, test = train_test_split(images, labels, HELD_OUT_FRACTION, seed=0)
            absent = "training" if present[0] == "test" else "test"
            note = (f"{folder} holds only the {present[0]} files of {name} (no {absent} "
                    f"files), so its {len(labels):,} images are split: {len(train[1]):,} "
                    f"to train on and {len(test[1]):,} held out to test on (a fixed "
                    f"{1 - HELD_OUT_FRACTION:.0%}/{HELD_OUT_FRACTION:.0%} split, seed 0, "
                    "as fnnet compare uses)")
            return train, test, note
        if not present:
            try:
                train = load(name, "train", data_dir, dtype=dtype)
            except DatasetNotPreparedError:
                raise DatasetNotPreparedError(_missing_message(name, folder, None)) from None
            return train, load(name, "test", data_dir, dtype=dtype), None
    return load(name, "train", data_dir, dtype=dtype), load(name, "test", data_dir,
                                                             dtype=dtype), None
