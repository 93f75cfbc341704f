"""scikit-learn's bundled 8x8 digits (1,797 images, no download) and a seeded split."""

from __future__ import annotations

import gzip
import importlib.util
import pathlib
from typing import Any

import numpy as np

from fnnet.data.dataset import check_lengths

#: Where scikit-learn keeps the digits inside its package: 1,797 rows of 64 pixel counts
#: and the label, comma-separated.
DIGITS_FILE = ("datasets", "data", "digits.csv.gz")
#: The file is 57 kB; a larger one is not scikit-learn's.
MAX_FILE_BYTES = 1 << 20


def digits_file() -> pathlib.Path:
    """The digits file of the installed scikit-learn, found without importing it.

    Raises:
        ModuleNotFoundError: scikit-learn is not installed.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "load_digits: the digits ship with scikit-learn, which is not installed "
            "(pip install scikit-learn)", name="sklearn")
    return pathlib.Path(next(iter(spec.submodule_search_locations)), *DIGITS_FILE)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 handwritten digits that ship with scikit-learn.

    The pixel values are counts ``0..16`` (each pixel sums a 4x4 block of a 32x32
    bitmap); they are divided by 16. The file is read from scikit-learn's package
    folder, so scikit-learn itself (a second of imports) is not imported.

    Returns:
        ``images [1797, 1, 8, 8]`` float32 in ``[0, 1]`` and ``labels [1797]`` int32.

    Raises:
        ModuleNotFoundError: scikit-learn is not installed.
        ValueError: its digits file is missing, too large or not 65 columns of counts
            (a damaged installation), naming the file.

    PyTorch equivalent: none (``sklearn.datasets.load_digits`` reshaped to NCHW).
    """
    path = digits_file()
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ValueError(f"load_digits: expected scikit-learn's digits file {path}, "
                         f"which cannot be read ({error.strerror})") from error
    if size > MAX_FILE_BYTES:
        raise ValueError(f"load_digits: {path} holds {size} bytes, expected at most "
                         f"{MAX_FILE_BYTES} (scikit-learn's file is 57 kB)")
    try:
        with gzip.open(path, "rt") as text:
            rows = np.loadtxt(text, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, EOFError, ValueError) as error:
        raise ValueError(f"load_digits: {path} is not scikit-learn's digits file "
                         f"(expected gzip-compressed rows of 65 numbers): {error}") from error
    counts, target = rows[:, :-1], rows[:, -1]
    if rows.shape[1] != 65 or not len(rows) or counts.min() < 0 or counts.max() > 16 \
            or target.min() < 0 or target.max() > 9 or np.any(rows != np.round(rows)):
        raise ValueError(f"load_digits: {path} is not scikit-learn's digits file: expected "
                         f"rows of 64 counts in 0..16 and a label in 0..9, got "
                         f"{rows.shape[1]} columns in {len(rows)} rows")
    images = (counts.astype(np.float32) / np.float32(16.0)).reshape(-1, 1, 8, 8)
    return images, target.astype(np.int32)


def train_test_split(
    images: Any, labels: Any, test_fraction: float = 0.2, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Splits a data set into a shuffled training part and a held-out part.

    The split is a pure function of ``(len(images), test_fraction, seed)``: the same
    arguments give the same split on every machine.

    Args:
        images: ``[N, ...]``.
        labels: ``[N]``.
        test_fraction: share of the examples held out, in ``(0, 1)``;
            ``round(N * test_fraction)`` of them.
        seed: seed of the shuffle.

    Returns:
        ``((train_images, train_labels), (test_images, test_labels))``.

    Raises:
        ValueError: lengths differ, ``test_fraction`` outside ``(0, 1)``, a part would
            be empty, or ``seed`` is not a non-negative int.

    PyTorch equivalent: ``torch.utils.data.random_split`` with a seeded generator.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    check_lengths(images, labels)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"train_test_split: seed must be a non-negative int, got {seed!r}")
    n = len(labels)
    n_test = int(round(n * test_fraction))
    if n_test == 0 or n_test == n:
        raise ValueError(f"test_fraction={test_fraction} of N={n} examples leaves "
                         f"{n - n_test} to train on and {n_test} to test on")
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return (images[train], labels[train]), (images[test], labels[test])
