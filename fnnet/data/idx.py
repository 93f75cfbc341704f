"""MNIST and Fashion-MNIST in the IDX format (``*-idx3-ubyte.gz``, ``*-idx1-ubyte.gz``).

IDX (http://yann.lecun.com/exdb/mnist/): a big-endian header (magic number
``0x0000 08 ndim``: 2051 for the 3-D image file, 2049 for the 1-D label file), one
uint32 size per dimension, then the uint8 data row-major. Files may be
gzip-compressed (``.gz``) or not.
"""

from __future__ import annotations

import math
import os
import pathlib
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from fnnet.data import paths
from fnnet.data.dataset import check_images_dtype, convert_images

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049

_PREFIX = {"train": "train", "test": "t10k"}
#: the folder torchvision keeps each data set's files in (``<root>/<folder>/raw``)
TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}
#: where each data set's IDX files can be downloaded
SOURCES = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/ (the mirror torchvision uses)",
    "fashion_mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}


_CHUNK = 1 << 16
# Deflate cannot inflate one byte of input to more than 1032 bytes of output, so a gzip
# file of n bytes never holds more than about 1032 * n: a header declaring more is
# refused before anything is read.
_MAX_RATIO = 1032
# How far past the declared length a gzip payload is inflated (and thrown away) to say
# how long it is; beyond this, the message says "more than".
_COUNT_LIMIT = 1 << 26


class _Gunzip:
    """Inflates a gzip file (one or more members) piecewise: never more than asked.

    ``read(n)`` and ``readinto`` inflate at most ``n`` bytes, holding at most one 64 KB
    chunk of compressed input besides, so a payload that inflates far beyond what the header
    declares costs no more memory than the header justifies.
    """

    def __init__(self, f: Any) -> None:
        self.f = f
        self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip wrapper
        self.pending = b""  # compressed bytes read but not yet inflated

    def chunks(self, n: int) -> Iterator[bytes]:
        """Yields the next inflated pieces, ``n`` bytes in all unless the data ends."""
        left = n
        while left > 0:
            if not self.pending:
                self.pending = self.f.read(_CHUNK)
                if not self.pending:
                    if not self.inflate.eof:
                        raise EOFError("compressed data ended before the end-of-stream "
                                       "marker")
                    return
            if self.inflate.eof:  # another member follows, or gzip's zero padding
                if not self.pending.strip(b"\0"):
                    self.pending = b""
                    continue
                self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            piece = self.inflate.decompress(self.pending, left)
            self.pending = (self.inflate.unused_data if self.inflate.eof
                            else self.inflate.unconsumed_tail)
            left -= len(piece)
            yield piece

    def read(self, n: int) -> bytes:
        return b"".join(self.chunks(n))

    def readinto(self, buffer: np.ndarray) -> int:
        """Fills ``buffer`` (uint8) piece by piece; returns how many bytes it got."""
        filled = 0
        for piece in self.chunks(buffer.size):
            buffer[filled:filled + len(piece)] = np.frombuffer(piece, np.uint8)
            filled += len(piece)
        return filled

    def count_rest(self, limit: int) -> int:
        """Inflates and discards what is left, counting at most ``limit + 1`` bytes."""
        total = 0
        while total <= limit:
            got = len(self.read(min(_CHUNK, limit + 1 - total)))
            if not got:
                break
            total += got
        return total


def _declared(path: pathlib.Path, head: bytes, magic: int, what: str) -> tuple[int, ...]:
    """The dimensions an IDX header declares, after checking its magic number."""
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(head) < 4:
        raise ValueError(f"{path}: truncated: {len(head)} bytes, too short for an IDX header")
    found = int.from_bytes(head[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: not an IDX {what} file: magic number {found}, "
                         f"expected {magic}")
    if len(head) < header:
        raise ValueError(f"{path}: truncated: {len(head)} bytes, the header alone needs "
                         f"{header}")
    return tuple(int.from_bytes(head[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))


def _size_error(path: pathlib.Path, dims: tuple[int, ...], what: str, held: int | str,
                expected: int) -> ValueError:
    problem = "too long" if isinstance(held, str) or held > expected else "truncated"
    shape = " x ".join(map(str, dims))
    return ValueError(f"{path}: {problem}: the header declares {shape} = {expected} bytes "
                      f"of {what} data, the file holds {held}")


def _read_plain(path: pathlib.Path, f: Any, magic: int, what: str) -> np.ndarray:
    size = os.fstat(f.fileno()).st_size
    header = 4 + 4 * (magic & 0xFF)
    dims = _declared(path, f.read(header), magic, what)
    expected = math.prod(dims)
    if size - header != expected:  # checked before the data is read or allocated
        raise _size_error(path, dims, what, size - header, expected)
    data = np.empty(expected, np.uint8)
    if f.readinto(data.data) != expected:
        raise ValueError(f"{path}: the file shrank while it was read")
    return data.reshape(dims)


def _read_gzip(path: pathlib.Path, f: Any, magic: int, what: str) -> np.ndarray:
    size = os.fstat(f.fileno()).st_size
    stream = _Gunzip(f)
    header = 4 + 4 * (magic & 0xFF)
    head = stream.read(header)
    dims = _declared(path, head, magic, what)
    expected = math.prod(dims)
    if expected > _MAX_RATIO * size:
        raise ValueError(f"{path}: the header declares {' x '.join(map(str, dims))} = "
                         f"{expected} bytes of {what} data, more than a gzip file of {size} "
                         f"bytes can hold (at most {_MAX_RATIO} x {size})")
    # Allocated only now, within what the file's size allows; its pages are touched
    # only as data arrives.
    data = np.empty(expected, np.uint8)
    got = stream.readinto(data)
    if got < expected:
        raise _size_error(path, dims, what, got, expected)
    extra = stream.count_rest(_COUNT_LIMIT)
    if extra:
        held = expected + extra if extra <= _COUNT_LIMIT else \
            f"more than {expected + _COUNT_LIMIT}"
        raise _size_error(path, dims, what, held, expected)
    return data.reshape(dims)


def read_idx(path: str | os.PathLike[str], *, magic: int, what: str) -> np.ndarray:
    """Reads one uint8 IDX file and checks its header against its length.

    The header is read first and the declared size checked against the file's size
    before the data is read: a plain file must hold exactly the declared bytes, and a
    gzip file is inflated piecewise, never beyond the declared size (plus a bounded
    count of the excess for the message), so a damaged or hostile file costs no more
    memory than its header and size justify.

    Args:
        path: the file (``.gz`` is decompressed).
        magic: the expected magic number (2051 for images, 2049 for labels).
        what: what the file holds, for messages (``"image"``, ``"label"``).

    Returns:
        The data, shaped by the header's dimensions, uint8.

    Raises:
        ValueError: wrong magic number, header or data shorter or longer than the
            header says, a declared size no gzip file of this size can hold, corrupt
            gzip; the message names the file.
    """
    path = pathlib.Path(path)
    try:
        with open(path, "rb") as f:
            if path.suffix == ".gz":
                return _read_gzip(path, f, magic, what)
            return _read_plain(path, f, magic, what)
    except (zlib.error, EOFError) as err:
        raise ValueError(f"{path}: corrupt or truncated gzip file ({err})") from None


def idx_file_names(split: str, what: str) -> tuple[str, str]:
    """``(name.gz, name)`` of the IDX file of ``split`` holding ``what`` ("images"/"labels")."""
    kind = "idx3" if what == "images" else "idx1"
    name = f"{_PREFIX[split]}-{what}-{kind}-ubyte"
    return name + ".gz", name


def idx_folders(directory: pathlib.Path, kind: str) -> list[pathlib.Path]:
    """The folders under ``directory`` where the IDX files of ``kind`` are looked for:
    itself, ``<kind>/`` and torchvision's ``<MNIST>/raw/``."""
    return [directory, directory / kind, directory / TORCHVISION_FOLDERS[kind] / "raw"]


def _idx_pairs(directory: pathlib.Path, split: str, kind: str
               ) -> Iterator[tuple[pathlib.Path | None, pathlib.Path | None]]:
    """For each folder of :func:`idx_folders`: ``(images file, labels file)`` of
    ``split``, each None where absent (the ``.gz`` name first)."""
    for folder in idx_folders(directory, kind):
        images, labels = (next((p for n in idx_file_names(split, what)
                                if (p := folder / n).is_file()), None)
                          for what in ("images", "labels"))
        yield images, labels


def find_idx_files(directory: pathlib.Path, split: str,
                   kind: str) -> tuple[pathlib.Path, pathlib.Path] | None:
    """The image and label files of ``split`` under ``directory``, or None where absent."""
    for images, labels in _idx_pairs(directory, split, kind):
        if images is not None and labels is not None:
            return images, labels
    return None


def _half_pair(directory: pathlib.Path, split: str,
               kind: str) -> tuple[pathlib.Path, str] | None:
    """The first folder holding one file of the pair: ``(that file, the missing name)``."""
    for images, labels in _idx_pairs(directory, split, kind):
        if images is not None and labels is None:
            return images, idx_file_names(split, "labels")[0]
        if labels is not None and images is None:
            return labels, idx_file_names(split, "images")[0]
    return None


def _check_choice(value: str, name: str, choices: Any) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def load_mnist_idx(
    directory: str | os.PathLike[str] | None = None,
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
    _check_choice(kind, "kind", TORCHVISION_FOLDERS)
    check_images_dtype(dtype)
    expected = [idx_file_names(split, what)[0] for what in ("images", "labels")]
    get = (f"Download {' and '.join(expected)} from {SOURCES[kind]} (or let "
           "torchvision download them) and put them in that folder.")
    if directory is None:
        directory = paths.default_directory(kind)
        if directory is None:
            raise FileNotFoundError(f"no folder given for {kind}: {paths.how_to_point(kind)}. "
                                    f"It must hold {' and '.join(expected)}. {get}")
    directory = pathlib.Path(directory)
    files = find_idx_files(directory, split, kind)
    if files is None:
        half = _half_pair(directory, split, kind)
        if half is not None:  # one file of the pair: name the one that is missing
            present, missing = half
            raise FileNotFoundError(f"{kind} {split} files not found in {directory}: "
                                    f"{present} is there, but not {missing} (or the same "
                                    f"name without .gz) beside it. {get}")
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
