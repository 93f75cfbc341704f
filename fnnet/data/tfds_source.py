"""Any TensorFlow Datasets data set, read by random access from its ``array_record`` files.

``tfds.data_source`` reads single records by index straight from the prepared files,
with no TensorFlow, so a data set far larger than memory is read a batch at a time.
fnnet never downloads: a data set that is not prepared raises
:class:`DatasetNotPreparedError`, which says how to prepare it on a machine with a
network and where to copy the files.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from fnnet.data.dataset import convert_images
from fnnet.data.paths import check_source


class DatasetNotPreparedError(FileNotFoundError):
    """A TFDS data set whose files are not in the data directory (nothing is downloaded)."""


@contextlib.contextmanager
def quiet_tfds() -> Iterator[None]:
    """Keeps tfds's absl log lines and Python warnings off the user's terminal.

    tfds logs through absl (``WARNING:absl:Variant folder ... has no dataset_info.json``
    for a folder that merely exists); fnnet turns every such condition into an exception
    that says what to do, so the log lines only repeat it in tfds's words.
    """
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _tfds() -> Any:
    # Where TensorFlow is installed, tfds imports it, and its C++ start-up lines (oneDNN,
    # CUDA probing) go straight to stderr unless this is set first.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow_datasets as tfds
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise ImportError("fnnet.data.from_tfds needs tensorflow-datasets "
                          "(pip install tensorflow-datasets)") from err
    return tfds


def _builder(tfds: Any, name: str, data_dir: str | os.PathLike[str] | None) -> Any:
    """``tfds.builder(name)``, with a short ValueError for an unknown name."""
    try:
        return tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        known = tfds.list_builders(with_community_datasets=False)
        close = difflib.get_close_matches(name.split(":")[0].split("/")[0], known, n=3)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise ValueError(f"unknown tfds dataset {name!r}{hint}") from None


def _not_prepared(name: str, builder: Any) -> DatasetNotPreparedError:
    root = builder._data_dir_root  # the data_dir argument, or tfds's default folder
    base = name.split(":")[0].split("/")[0]
    return DatasetNotPreparedError(
        f"tfds dataset {name!r} (version {builder.info.version}) is not prepared in {root}: "
        f"no dataset files under {builder.data_dir}. fnnet does not download data. On a "
        f"machine with network access run\n"
        f"    tfds build {base} --file_format=array_record --data_dir=DIR\n"
        f"(or in Python: tfds.builder({base!r}, data_dir=DIR, file_format='array_record')"
        f".download_and_prepare()), then copy DIR/{base}/ to {root}/{base}/ on this machine, "
        f"or pass data_dir= (or set TFDS_DATA_DIR) to the folder that holds {base}/."
    )


class TfdsSource:
    """A TFDS split read by index: ``source[indices] -> (images [B, C, H, W], labels [B])``.

    Images are converted from TFDS's ``[H, W, C]`` to ``[C, H, W]``; labels to int32.
    Nothing is read until indexed, so it serves data sets larger than memory; use
    :meth:`arrays` to read everything.

    Attributes:
        name: the TFDS name.
        split: the split (any TFDS split string, e.g. ``"train[:80%]"``).
    """

    def __init__(self, source: Any, *, name: str, split: str, image_key: str = "image",
                 label_key: str = "label", dtype: Any = np.uint8) -> None:
        convert_images(np.zeros((0,), np.uint8), dtype)  # validates dtype
        self._source = source
        self.name = name
        self.split = split
        self.image_key = image_key
        self.label_key = label_key
        self.dtype = np.dtype(dtype)

    def __len__(self) -> int:
        return len(self._source)

    def _records(self, indices: list[int]) -> list[Any]:
        getitems = getattr(self._source, "__getitems__", None)
        if getitems is not None:
            try:
                return list(getitems(indices))  # one batched, parallel read
            except TypeError:
                # tfds.testing.mock_data (4.9) installs a __getitems__ that cannot be
                # called; a genuine TypeError recurs in the per-record reads below.
                pass
        return [self._source[i] for i in indices]

    def _example(self, record: Any) -> tuple[np.ndarray, int]:
        try:
            image, label = record[self.image_key], record[self.label_key]
        except KeyError:
            raise ValueError(f"tfds dataset {self.name!r} has features {sorted(record)}; pass "
                             f"image_key= and label_key= (got {self.image_key!r} and "
                             f"{self.label_key!r})") from None
        image = np.asarray(image)
        if image.ndim == 2:
            image = image[:, :, None]
        if image.ndim != 3:
            raise ValueError(f"tfds dataset {self.name!r}: expected [H, W, C] images, got "
                             f"shape {image.shape}")
        return image.transpose(2, 0, 1), int(label)

    def __getitem__(self, index: Any) -> tuple[np.ndarray, Any]:
        n = len(self)
        if isinstance(index, (int, np.integer)):
            if not -n <= index < n:
                raise IndexError(f"index {index} out of range for {n} examples")
            image, label = self._example(self._records([int(index) % n])[0])
            return convert_images(image, self.dtype), np.int32(label)
        indices = np.arange(n)[index]  # slices, negative and out-of-range indices as numpy
        examples = [self._example(r) for r in self._records(indices.tolist())]
        shapes = {e[0].shape for e in examples}
        if len(shapes) > 1:
            raise ValueError(f"tfds dataset {self.name!r}: images of different shapes "
                             f"{sorted(shapes)} cannot be batched; resize them first")
        if examples:
            images = np.stack([e[0] for e in examples])
        else:
            images = np.zeros((0, 0, 0, 0), np.uint8)
        labels = np.array([e[1] for e in examples], np.int32)
        return convert_images(np.ascontiguousarray(images), self.dtype), labels

    def arrays(self, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """Reads the whole split: ``(images [N, C, H, W], labels [N])``."""
        parts = [self[start:start + chunk] for start in range(0, len(self), chunk)]
        if not parts:
            return self[0:0]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def __repr__(self) -> str:
        return f"TfdsSource({self.name!r}, split={self.split!r}, N={len(self)})"


def from_tfds(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    image_key: str = "image",
    label_key: str = "label",
    dtype: Any = np.uint8,
) -> TfdsSource:
    """Opens a prepared TFDS data set for random access (``array_record`` files).

    Args:
        name: the TFDS name, e.g. ``"mnist"``, ``"cifar10"``, ``"fashion_mnist:3.0.1"``.
        split: a TFDS split, e.g. ``"train"``, ``"test"``, ``"train[:90%]"``.
        data_dir: the TFDS data directory; default ``$TFDS_DATA_DIR`` or
            ``~/tensorflow_datasets``.
        image_key: the feature holding the image.
        label_key: the feature holding the label.
        dtype: ``np.uint8`` or ``np.float32`` (scaled to [0, 1]).

    Returns:
        A :class:`TfdsSource`: ``len(src)`` examples, ``src[idx]`` a batch
        ``(images [B, C, H, W], labels [B] int32)``.

    Raises:
        TypeError: ``name`` or ``split`` is not a str, or ``data_dir`` not a path.
        ValueError: unknown data set name (close matches are listed), or a data set
            prepared in a format without random access (TFRecord).
        DatasetNotPreparedError: (a FileNotFoundError) the data set is not in
            ``data_dir``; the message says how to prepare it and where to copy it.

    Example::

        train = fnnet.data.from_tfds("mnist", "train")
        images, labels = train[np.arange(64)]   # [64, 1, 28, 28] uint8, [64] int32

    PyTorch equivalent: a map-style ``Dataset`` such as ``torchvision.datasets.MNIST``.
    """
    check_source("from_tfds", name, data_dir, split)
    with quiet_tfds():
        return _open(name, split, data_dir, image_key=image_key, label_key=label_key,
                     dtype=dtype)


def _open(name: str, split: str, data_dir: str | os.PathLike[str] | None, *, image_key: str,
          label_key: str, dtype: Any) -> TfdsSource:
    """:func:`from_tfds` itself, run inside :func:`quiet_tfds`."""
    tfds = _tfds()
    builder = _builder(tfds, name, data_dir)
    try:
        # Called on the builder, not through tfds.data_source, which would download and
        # prepare a missing data set (retrying downloads when offline).
        source = builder.as_data_source(split=split)
    except (NotImplementedError, ValueError, FileNotFoundError, KeyError) as err:
        if not builder.is_prepared():
            raise _not_prepared(name, builder) from None
        if isinstance(err, NotImplementedError):
            raise ValueError(
                f"tfds dataset {name!r} in {builder.data_dir} is prepared as "
                f"{builder.info.file_format}, which cannot be read by index; prepare it "
                f"again with `tfds build {name} --file_format=array_record`") from None
        raise ValueError(f"tfds dataset {name!r}, split {split!r}: {err}") from None
    return TfdsSource(source, name=name, split=split, image_key=image_key,
                      label_key=label_key, dtype=dtype)
