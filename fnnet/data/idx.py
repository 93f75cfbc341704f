"""MNIST and Fashion-MNIST in the IDX format (``*-idx3-ubyte.gz``, ``*-idx1-ubyte.gz``).

IDX (http://yann.lecun.com/exdb/mnist/): a big-endian header (magic number
``0x0000 08 ndim``: 2051 for the 3-D image file, 2049 for the 1-D label file), one
uint32 size per dimension, then the uint8 data row-major. Files may be
gzip-compressed (``.gz``) or not.
"""

from __future__ import annotations

import gzip
import os
import pathlib
from typing import Any

import numpy as np

from fnnet.data import paths
from fnnet.data.dataset import convert_images

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049

_PREFIX = {"train": "train", "test": "t10k"}
_TORCHVISION_FOLDER = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}
_SOURCES = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/ (the mirror torchvision uses)",
    "fashion_mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}


def _read_bytes(path: pathlib.Path) -> bytes:
    """The file's content, decompressed when its name ends in ``.gz``."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: corrupt or truncated gzip file ({err})") from None


def read_idx(path: str | os.PathLike, *, magic: int, what: str) -> np.ndarray:
    """Reads one uint8 IDX file and checks its header against its length.

    Args:
        path: the file (``.gz`` is decompressed).
        magic: the expected magic number (2051 for images, 2049 for labels).
        what: what the file holds, for messages (``"image"``, ``"label"``).

    Returns:
        The data, shaped by the header's dimensions, uint8.

    Raises:
        ValueError: wrong magic number, header or data shorter or longer than the
            header says, corrupt gzip; the message names the file.
    """
    path = pathlib.Path(path)
    raw = _read_bytes(path)
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated: {len(raw)} bytes, too short for an IDX header")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: not an IDX {what} file: magic number {found}, "
                         f"expected {magic}")
    if len(raw) < header:
        raise ValueError(f"{path}: truncated: {len(raw)} bytes, the header alone needs "
                         f"{header}")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = int(np.prod(dims))
    data = len(raw) - header
    if data != expected:
        problem = "truncated" if data < expected else "too long"
        shape = " x ".join(map(str, dims))
        raise ValueError(f"{path}: {problem}: the header declares {shape} = {expected} bytes "
                         f"of {what} data, the file holds {data}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims).copy()


def idx_file_names(split: str, what: str) -> tuple[str, str]:
    """``(name.gz, name)`` of the IDX file of ``split`` holding ``what`` ("images"/"labels")."""
    kind = "idx3" if what == "images" else "idx1"
    name = f"{_PREFIX[split]}-{what}-{kind}-ubyte"
    return name + ".gz", name


def find_idx_files(directory: pathlib.Path, split: str,
                   kind: str) -> tuple[pathlib.Path, pathlib.Path] | None:
    """The image and label files of ``split`` under ``directory``, or None where absent."""
    folders = [directory, directory / kind, directory / _TORCHVISION_FOLDER[kind] / "raw"]
    for folder in folders:
        found = []
        for what in ("images", "labels"):
            names = [folder / n for n in idx_file_names(split, what)]
            found.append(next((p for p in names if p.is_file()), None))
        if all(found):
            return found[0], found[1]
    return None


def _check_choice(value: str, name: str, choices: Any) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def load_mnist_idx(
    directory: str | os.PathLike | None = None,
    split: str = "test",
    kind: str = "mnist",
    *,
    dtype: Any = np.uint8,
) -> tuple[np.ndarray, np.ndarray]:
    """Reads MNIST or Fashion-MNIST from its IDX files.

    Files: ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte`` (split
    ``"train"``, 60,000 examples) and ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte`` (``"test"``, 10,000), each optionally ``.gz``. They are
    looked for in ``directory``, ``directory/<kind>`` and torchvision's
    ``directory/MNIST/raw`` (``FashionMNIST/raw``).

    Args:
        directory: the folder; if None, ``$FNNET_MNIST_DIR`` (``$FNNET_FASHION_MNIST_DIR``)
            or ``$FNNET_DATA_DIR/<kind>``.
        split: ``"train"`` or ``"test"``.
        kind: ``"mnist"`` or ``"fashion_mnist"`` (same format and file names).
        dtype: ``np.uint8`` (pixels 0..255) or ``np.float32`` (scaled to [0, 1]).

    Returns:
        ``images [N, 1, 28, 28]`` and ``labels [N]`` int32 in ``0..9``.

    Raises:
        FileNotFoundError: no directory given or the files are absent; the message
            names the files and where to get them.
        ValueError: a corrupt file (bad magic number, wrong dimensions or length,
            labels outside 0..9, image and label counts that differ), naming the file.

    Example::

        images, labels = fnnet.data.load_mnist_idx("data/mnist", split="test")

    PyTorch equivalent: ``torchvision.datasets.MNIST(root, train=False)``.
    """
    _check_choice(split, "split", _PREFIX)
    _check_choice(kind, "kind", _TORCHVISION_FOLDER)
    expected = [idx_file_names(split, what)[0] for what in ("images", "labels")]
    get = (f"Download {' and '.join(expected)} from {_SOURCES[kind]} (or let "
           "torchvision download them) and put them in that folder.")
    if directory is None:
        directory = paths.default_directory(kind)
        if directory is None:
            raise FileNotFoundError(f"no folder given for {kind}: {paths.how_to_point(kind)}. "
                                    f"It must hold {' and '.join(expected)}. {get}")
    directory = pathlib.Path(directory)
    files = find_idx_files(directory, split, kind)
    if files is None:
        raise FileNotFoundError(f"{kind} {split} files not found in {directory}: expected "
                                f"{' and '.join(expected)} (or the same names without .gz). "
                                f"{get}")
    image_path, label_path = files
    images = read_idx(image_path, magic=IMAGE_MAGIC, what="image")
    labels = read_idx(label_path, magic=LABEL_MAGIC, what="label")
    if images.shape[1:] != (28, 28):
        raise ValueError(f"{image_path}: expected 28 x 28 images, the header declares "
                         f"{images.shape[1]} x {images.shape[2]}")
    if len(images) != len(labels):
        raise ValueError(f"{label_path}: {len(labels)} labels, but {image_path} holds "
                         f"{len(images)} images")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{label_path}: labels must be in 0..9, found {labels.max()}")
    return convert_images(images[:, None], dtype), labels.astype(np.int32)
