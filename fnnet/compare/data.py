"""The data of the side-by-side examples: fixed batches that every version trains on.

Each example's three versions (PyTorch, fnnet, fnnet.torch) train on the very same
batches, drawn here once as numpy arrays, so that their loss curves can be compared
step by step. Everything is offline:

- MNIST: the real MNIST test set (IDX files from ``data_dir``, ``$FNNET_MNIST_DIR``,
  ``$FNNET_DATA_DIR/mnist`` or a ``shared/data/mnist`` folder beside the project),
  split 8,000 for training / 2,000 held out (seed 0). Where it is absent, scikit-learn's
  bundled 8x8 digits are upsampled 3x and padded to 28x28, and the description says so.
- CIFAR-10: the python batches from ``data_dir``/``$FNNET_CIFAR10_DIR``; absent, a clear
  error, or with ``synthetic=True`` class-dependent noise images that say they are
  synthetic.
"""

from __future__ import annotations

import functools
import os
import pathlib
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from fnnet.data.registry import HELD_OUT_FRACTION

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
# Where the project's offline data sets sit (beside the checkout): shared/data/<name>.
_SHARED = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data"

Batch = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class ExampleData:
    """What one example trains and evaluates on.

    Attributes:
        epochs: the training batches, epoch by epoch: ``epochs[e][i] = (x, y)`` numpy
            arrays (float32 inputs, int64 labels as PyTorch's DataLoader gives them,
            float32 targets for regression).
        test: ``(x, y)`` held-out data for the final accuracy.
        source: what the data is, printed by every version (e.g. "real MNIST ...").
    """

    epochs: list[list[Batch]]
    test: Batch
    source: str


def epoch_batches(x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, seed: int,
                  steps_per_epoch: int | None = None) -> list[list[Batch]]:
    """Shuffled batches for each epoch (a pure function of ``seed`` and the epoch).

    Args:
        x: ``[N, ...]`` inputs.
        y: ``[N]`` labels or targets.
        batch_size: examples per batch; the last incomplete batch is dropped.
        epochs: number of epochs.
        seed: the shuffling seed.
        steps_per_epoch: keep only the first this many batches of each epoch (None:
            all).

    Returns:
        ``epochs`` lists of ``(x, y)`` batches.

    PyTorch equivalent: ``DataLoader(TensorDataset(x, y), batch_size, shuffle=True,
    drop_last=True)`` with a seeded generator, materialised.
    """
    from fnnet.data import batches

    out = []
    for epoch in range(epochs):
        it = batches(x, y, batch_size, shuffle=True, seed=seed, epoch=epoch, drop_last=True)
        out.append([b for _, b in zip(range(steps_per_epoch or len(y)), it, strict=False)])
    return out


def find_mnist(data_dir: str | os.PathLike[str] | None = None) -> pathlib.Path | None:
    """The folder holding the MNIST test-set IDX files, or None.

    Raises:
        FileNotFoundError: ``data_dir`` is given but holds no MNIST test images (a
            mistyped folder must not train on the fallback data unnoticed).
    """
    from fnnet.data import paths

    if data_dir is not None:
        if not any(pathlib.Path(data_dir).glob("t10k-images-idx3-ubyte*")):
            given = pathlib.Path(data_dir)
            if not given.exists():
                what = "no such folder"
            elif not given.is_dir():
                what = "not a folder"
            else:
                what = "no MNIST test images (t10k-images-idx3-ubyte or .gz) in it"
            raise FileNotFoundError(f"data_dir {data_dir}: {what}")
        return pathlib.Path(data_dir)
    candidates = [paths.default_directory("mnist"), _SHARED / "mnist"]
    for folder in candidates:
        if folder is not None and any(pathlib.Path(folder).glob("t10k-images-idx3-ubyte*")):
            return pathlib.Path(folder)
    return None


@functools.lru_cache(maxsize=4)
def mnist_or_digits(data_dir: str | None = None, size: int = 28
                    ) -> tuple[Batch, Batch, str]:
    """Normalised ``[N, 1, size, size]`` float32 digits with int64 labels.

    Args:
        data_dir: folder of the MNIST IDX files (see the module docstring for the
            fallbacks).
        size: 28, or 32 (zero-padded by 2, for LeNet-5).

    Returns:
        ``(train, held_out, source)``: real MNIST 8,000/2,000 when found, else the
        bundled 8x8 digits upsampled to 24x24 and padded (1,438/359).
    """
    from fnnet import data

    if size not in (28, 32):
        raise ValueError(f"size must be 28 or 32, got {size}")
    folder = find_mnist(data_dir)
    if folder is not None:
        images, labels = data.load_mnist_idx(folder, "test", dtype=np.float32)
        train, test = data.train_test_split(images, labels, HELD_OUT_FRACTION, seed=0)
        source = (f"real MNIST (the 10,000-image test set from {folder.name}/, split "
                  f"{len(train[1]):,} train / {len(test[1]):,} held out)")
        pad = (size - 28) // 2
    else:
        train = data.load("digits", "train")
        test = data.load("digits", "test")
        train, test = ((x.repeat(3, -2).repeat(3, -1), y) for x, y in (train, test))
        source = (f"scikit-learn's 8x8 digits upsampled to 24x24 and padded to {size}x{size} "
                  f"({len(train[1]):,} train / {len(test[1]):,} held out): MNIST not found "
                  "(pass --data-dir or set FNNET_MNIST_DIR)")
        pad = (size - 24) // 2

    def prepare(x: np.ndarray, y: np.ndarray) -> Batch:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        return ((x - MNIST_MEAN) / MNIST_STD).astype(np.float32), y.astype(np.int64)

    return prepare(*train), prepare(*test), source


def mnist_example(data_dir: str | None, *, size: int, batch_size: int, epochs: int,
                  seed: int, steps_per_epoch: int | None = None,
                  classes: tuple[int, ...] | None = None) -> ExampleData:
    """MNIST (or the digits) batched for an example; ``classes`` keeps only those digits,
    relabelled ``0, 1, ...`` in that order (``(0, 1)`` for logistic regression)."""
    train, test, source = mnist_or_digits(data_dir, size)
    if classes is not None:
        def keep(x: np.ndarray, y: np.ndarray) -> Batch:
            mask = np.isin(y, classes)
            new_label = {c: i for i, c in enumerate(classes)}
            return x[mask], np.array([new_label[v] for v in y[mask]], np.int64)

        train, test = keep(*train), keep(*test)
        source += f"; digits {', '.join(map(str, classes))} only"
    epochs_ = epoch_batches(*train, batch_size, epochs, seed, steps_per_epoch)
    return ExampleData(epochs_, test, source)


def _synthetic_cifar(n: int, seed: int) -> Batch:
    """Noisy copies of 10 fixed random colour patterns, one per class (learnable)."""
    rng = np.random.default_rng(seed)
    patterns = np.random.default_rng(1234).uniform(0, 1, (10, 3, 8, 8))
    patterns = patterns.repeat(4, -2).repeat(4, -1)  # smooth 32x32 blobs
    labels = rng.integers(0, 10, n)
    images = patterns[labels] * 0.6 + rng.uniform(0, 0.4, (n, 3, 32, 32))
    return images.astype(np.float32), labels.astype(np.int64)


@functools.lru_cache(maxsize=2)
def cifar10_or_synthetic(data_dir: str | None = None, synthetic: bool = False,
                         n_train: int | None = None, n_test: int | None = None
                         ) -> tuple[Batch, Batch, str]:
    """CIFAR-10 as float32 ``[N, 3, 32, 32]`` in ``[0, 1]`` with int64 labels.

    Args:
        data_dir: the folder of ``cifar-10-batches-py`` (default ``$FNNET_CIFAR10_DIR``).
        synthetic: use synthetic images instead (said in the source description).
        n_train: keep the first this many training images (None: all 50,000).
        n_test: keep the first this many test images (None: all 10,000).

    Returns:
        ``(train, test, source)``, not yet normalised (augmentation comes first).

    Raises:
        FileNotFoundError: CIFAR-10 is absent and ``synthetic`` is False; the message
            says how to point at it or to pass ``--synthetic``.
    """
    from fnnet import data

    if synthetic:
        train = _synthetic_cifar(n_train or 5000, seed=0)
        test = _synthetic_cifar(n_test or 1000, seed=1)
        return train, test, ("SYNTHETIC images (10 noisy colour patterns, not CIFAR-10; "
                             "--synthetic was given)")
    try:
        train = data.load_cifar10(data_dir, "train", dtype=np.float32)
        test = data.load_cifar10(data_dir, "test", dtype=np.float32)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{err} Or pass --synthetic to run on synthetic images.") \
            from None
    train = (train[0][:n_train], train[1][:n_train].astype(np.int64))
    test = (test[0][:n_test], test[1][:n_test].astype(np.int64))
    return train, test, (f"CIFAR-10 ({len(train[1]):,} train / {len(test[1]):,} test "
                         "images)")


def augmented_epochs(x: np.ndarray, y: np.ndarray, augment: Any, *, batch_size: int,
                     epochs: int, seed: int, steps_per_epoch: int | None = None,
                     mean: Any = CIFAR10_MEAN, std: Any = CIFAR10_STD) -> list[list[Batch]]:
    """Batches augmented once, with keys from ``seed``, then normalised.

    The augmentation (``augment(key, x)``, e.g. :func:`fnnet.data.augment.compose`) is
    drawn here rather than inside each version's loop so that PyTorch, fnnet and
    fnnet.torch see the same images. In a real fnnet run it sits inside the jitted step.
    """
    from fnnet.data import augment as aug

    out = []
    for e, epoch in enumerate(epoch_batches(x, y, batch_size, epochs, seed, steps_per_epoch)):
        batches = []
        for i, (bx, by) in enumerate(epoch):
            key = jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), e), i)
            augmented = aug.normalize(augment(key, bx), mean, std)
            batches.append((np.array(augmented, np.float32), by))  # writable, for torch
        out.append(batches)
    return out
