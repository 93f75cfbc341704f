"""CIFAR-10 from the official python batches (``cifar-10-python.tar.gz``, extracted).

The archive holds ``cifar-10-batches-py/data_batch_1`` ... ``data_batch_5`` (training,
10,000 images each) and ``test_batch``: Python 2 pickles of a dict with ``b"data"``
(``[10000, 3072]`` uint8, each row the red, green then blue 32x32 planes) and
``b"labels"`` (10,000 ints in 0..9).

Security: unpickling can run arbitrary code, so a tampered batch file would run
whatever it names. These files are read with a restricted unpickler that only
rebuilds numpy arrays and plain builtins (dict, list, bytes, str, int); any other
global the file asks for is refused with a ValueError.
"""

from __future__ import annotations

import io
import os
import pathlib
import pickle
from typing import Any

import numpy as np

from fnnet.data import paths
from fnnet.data.dataset import check_images_dtype, convert_images

FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"

# The only globals a CIFAR batch needs: numpy's array reconstruction (named
# numpy.core before numpy 2, numpy._core after) and the bytes encoder Python 3
# writes into protocol-2 pickles.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}
_RECONSTRUCT = np.zeros(0).__reduce__()[0]  # numpy's _reconstruct, whatever its module


class _RestrictedUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and builtins only; refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a "
                                         "CIFAR-10 batch")
        if module.startswith("numpy") and module.endswith("multiarray"):
            return _RECONSTRUCT
        return super().find_class(module, name)


def read_batch(path: pathlib.Path, *, labels_key: bytes = b"labels",
               num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Reads one CIFAR-10 python batch file with the restricted unpickler.

    CIFAR-100's ``train`` and ``test`` files have the same layout, with the labels under
    ``labels_key=b"fine_labels"`` (``num_classes=100``) or ``b"coarse_labels"`` (20).

    Returns:
        ``images [n, 3, 32, 32]`` uint8 and ``labels [n]`` int32.

    Raises:
        ValueError: not a CIFAR-10 batch (unpickling fails or is refused, keys, shapes,
            dtypes or label values are wrong); the message names the file. Nothing
            larger than the file is allocated: an array whose declared shape the
            pickled bytes do not fill is refused by numpy while unpickling.
    """
    # Unpickled from memory: a length in a damaged pickle then reads at most the rest
    # of the file, where a file object could be asked to allocate whatever it says.
    raw = pathlib.Path(path).read_bytes()
    try:
        batch = _RestrictedUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except RecursionError:
        raise ValueError(f"{path}: not a readable CIFAR-10 batch (nested too deeply)") from None
    except Exception as err:  # a damaged pickle can fail in any of a dozen ways
        raise ValueError(f"{path}: not a readable CIFAR-10 batch "
                         f"({err or type(err).__name__})") from None
    del raw
    if not isinstance(batch, dict) or b"data" not in batch or labels_key not in batch:
        got = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(f"{path}: expected a dict with b'data' and {labels_key!r}, got {got}")
    data, labels = batch[b"data"], batch[labels_key]
    if not isinstance(labels, list | np.ndarray) or not all(
            isinstance(v, int | np.integer) and not isinstance(v, bool) for v in
            (labels if isinstance(labels, list) else [])):
        raise ValueError(f"{path}: {labels_key!r} must be a list of ints, got "
                         f"{type(labels).__name__} holding other values")
    labels = np.asarray(labels)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3 * 32 * 32:
        desc = (f"{data.shape} {data.dtype}" if isinstance(data, np.ndarray)
                else type(data).__name__)
        raise ValueError(f"{path}: b'data' must be a [n, 3072] uint8 array, got {desc}")
    if labels.shape != (len(data),) or not np.issubdtype(labels.dtype, np.integer) \
            or labels.dtype.kind == "O":
        raise ValueError(f"{path}: {labels_key!r} must hold {len(data)} ints, got shape "
                         f"{labels.shape} {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{path}: labels must be in 0..{num_classes - 1}, found "
                         f"{labels.min()}..{labels.max()}")
    # Each row is the R, G, B planes in turn, each row-major: already [3, 32, 32].
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int32)


def find_cifar10_folder(directory: pathlib.Path) -> pathlib.Path | None:
    """The folder holding the batch files (``directory`` or its ``cifar-10-batches-py``)."""
    for folder in (directory / FOLDER, directory, directory / "cifar10" / FOLDER):
        if (folder / TEST_FILES[0]).is_file() or (folder / TRAIN_FILES[0]).is_file():
            return folder
    return None


def load_cifar10(
    directory: str | os.PathLike[str] | None = None,
    split: str = "train",
    *,
    dtype: Any = np.uint8,
) -> tuple[np.ndarray, np.ndarray]:
    """Reads CIFAR-10 from the official python batches.

    Args:
        directory: the folder holding ``cifar-10-batches-py/`` (or the batch files
            themselves); if None, ``$FNNET_CIFAR10_DIR`` or ``$FNNET_DATA_DIR/cifar10``.
        split: ``"train"`` (``data_batch_1..5``, 50,000 images) or ``"test"``
            (``test_batch``, 10,000).
        dtype: ``np.uint8`` or ``np.float32`` (scaled to [0, 1]).

    Returns:
        ``images [N, 3, 32, 32]`` and ``labels [N]`` int32.

    Raises:
        FileNotFoundError: the batch files are absent; the message names them and the
            archive to download.
        ValueError: a malformed batch (see :func:`read_batch`), or an unknown split.

    PyTorch equivalent: ``torchvision.datasets.CIFAR10(root, train=...)`` (which
    unpickles without restriction).
    """
    splits = {"train": TRAIN_FILES, "test": TEST_FILES}
    if split not in splits:
        raise ValueError(f"split must be one of ['test', 'train'], got {split!r}")
    check_images_dtype(dtype)
    names = splits[split]
    get = f"Download and extract {URL}; it creates {FOLDER}/."
    if directory is None:
        directory = paths.default_directory("cifar10")
        if directory is None:
            raise FileNotFoundError(f"no folder given for cifar10: "
                                    f"{paths.how_to_point('cifar10')}. {get}")
    directory = pathlib.Path(directory)
    folder = find_cifar10_folder(directory) or directory / FOLDER
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise FileNotFoundError(f"CIFAR-10 {split} batches not found: expected "
                                f"{', '.join(missing)} in {folder}. {get}")
    parts = [read_batch(folder / n) for n in names]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return convert_images(images, dtype), labels
