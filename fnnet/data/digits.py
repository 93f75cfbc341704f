"""scikit-learn's bundled 8x8 digits (1,797 images, no download) and a seeded split."""

from __future__ import annotations

from typing import Any

import numpy as np

from fnnet.data.dataset import check_lengths


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 handwritten digits that ship with scikit-learn.

    The pixel values are counts ``0..16`` (each pixel sums a 4x4 block of a 32x32
    bitmap); they are divided by 16.

    Returns:
        ``images [1797, 1, 8, 8]`` float32 in ``[0, 1]`` and ``labels [1797]`` int32.

    PyTorch equivalent: none (``sklearn.datasets.load_digits`` reshaped to NCHW).
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = (bunch.images.astype(np.float32) / np.float32(16.0))[:, None]
    return images, bunch.target.astype(np.int32)


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
        ValueError: lengths differ, ``test_fraction`` outside ``(0, 1)``, or a part
            would be empty.

    PyTorch equivalent: ``torch.utils.data.random_split`` with a seeded generator.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    check_lengths(images, labels)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    n = len(labels)
    n_test = int(round(n * test_fraction))
    if n_test == 0 or n_test == n:
        raise ValueError(f"test_fraction={test_fraction} of N={n} examples leaves "
                         f"{n - n_test} to train on and {n_test} to test on")
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return (images[train], labels[train]), (images[test], labels[test])
