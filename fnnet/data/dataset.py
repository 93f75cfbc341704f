"""What a data set is to fnnet: ``len(ds)`` examples, read a batch at a time by index.

In-memory sources return plain ``(images, labels)`` numpy arrays; the loaders accept
either such a pair or any object with ``__len__`` and ``__getitem__(indices) ->
(images, labels)`` (the random-access :class:`~fnnet.data.TfdsSource` is one).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Dataset(Protocol):
    """A random-access data set of images and labels.

    PyTorch equivalent: a map-style ``torch.utils.data.Dataset`` whose
    ``__getitem__`` also accepts an index array and returns the batch at once.
    """

    def __len__(self) -> int: ...

    def __getitem__(self, index: Any) -> tuple[np.ndarray, np.ndarray]: ...


class ArrayDataset:
    """In-memory ``images [N, ...]`` and ``labels [N]``; ``ds[idx]`` is ``(images[idx],
    labels[idx])``.

    Args:
        images: ``[N, C, H, W]`` (or any ``[N, ...]``) array.
        labels: ``[N]`` array.

    Raises:
        ValueError: ``images`` and ``labels`` have different lengths.

    PyTorch equivalent: ``torch.utils.data.TensorDataset(images, labels)``.
    """

    def __init__(self, images: Any, labels: Any) -> None:
        images, labels = np.asarray(images), np.asarray(labels)
        check_lengths(images, labels)
        self.images = images
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: Any) -> tuple[np.ndarray, np.ndarray]:
        return self.images[index], self.labels[index]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(images, labels)``, the whole data set in memory."""
        return self.images, self.labels

    def __repr__(self) -> str:
        return (f"ArrayDataset(images={self.images.shape} {self.images.dtype}, "
                f"labels={self.labels.shape} {self.labels.dtype})")


def check_lengths(images: Any, labels: Any) -> None:
    """Raises a ValueError unless ``images`` and ``labels`` have the same leading length."""
    shape_x, shape_y = np.shape(images), np.shape(labels)
    if not shape_x or not shape_y:
        raise ValueError(f"images and labels must be arrays with a leading batch axis, got "
                         f"shapes {shape_x} and {shape_y}")
    if shape_x[0] != shape_y[0]:
        raise ValueError(f"images and labels must have the same length, got "
                         f"{shape_x[0]} images and {shape_y[0]} labels")


def as_dataset(data: Any) -> Dataset:
    """A :class:`Dataset` from an ``(images, labels)`` pair or an existing data set.

    Raises:
        TypeError: ``data`` is neither.
    """
    if isinstance(data, tuple):
        if len(data) != 2:
            raise TypeError(f"expected an (images, labels) pair, got a tuple of {len(data)}")
        return ArrayDataset(*data)
    # Lists and arrays have __len__ and __getitem__, but indexing them gives no pair
    # (an array's batch of two rows would unpack as images and labels).
    if isinstance(data, list) or hasattr(data, "shape"):
        raise TypeError("expected an (images, labels) tuple or a data set with __len__ and "
                        f"__getitem__(indices) -> (images, labels), got {type(data).__name__}"
                        + (" (pass tuple(...) for a pair)" if isinstance(data, list) else ""))
    if isinstance(data, Dataset):
        return data
    raise TypeError("expected an (images, labels) pair or a data set with __len__ and "
                    f"__getitem__, got {type(data).__name__}")


def to_float(images: Any) -> Any:
    """uint8 pixels ``0..255`` to float32 in ``[0, 1]``; float input is returned as is.

    Works on numpy and JAX arrays, so it can run on the host or inside a jitted step
    (transferring uint8 moves a quarter of the bytes).

    Args:
        images: a numpy or JAX array of uint8 or floating-point pixels.

    Returns:
        ``images`` as float32 in ``[0, 1]``, or as given when already floating point.

    Raises:
        TypeError: ``images`` is not an array, or holds neither uint8 nor floats.

    PyTorch equivalent: the scaling in ``torchvision.transforms.ToTensor``.
    """
    # Inside a jitted step this runs once, when the step is traced.
    dtype = getattr(images, "dtype", None)
    if dtype is None or not hasattr(images, "astype"):
        raise TypeError(f"to_float: images must be a numpy or JAX array of uint8 or float "
                        f"pixels, got {type(images).__name__}")
    if np.issubdtype(dtype, np.floating) or str(dtype) == "bfloat16":  # ml_dtypes' bfloat16
        return images
    if dtype != np.uint8:
        raise TypeError(f"to_float: images must be uint8 or floating point, got dtype "
                        f"{dtype}")
    return images.astype(np.float32) / np.float32(255.0)


def check_images_dtype(dtype: Any) -> None:
    """Raises unless ``dtype`` is the loaders' ``np.uint8`` or ``np.float32``; checked
    before any file is read.

    Raises:
        ValueError: ``dtype`` is neither (None included, which numpy reads as float64).
    """
    resolved: np.dtype[Any] | None
    try:
        resolved = None if dtype is None else np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved not in (np.uint8, np.float32):
        shown = getattr(dtype, "__name__", None) or repr(dtype)
        raise ValueError(f"dtype must be np.uint8 (pixels 0..255) or np.float32 (scaled to "
                         f"[0, 1]), got {shown}")


def convert_images(images: np.ndarray, dtype: Any) -> np.ndarray:
    """Returns uint8 ``images`` as ``dtype``: uint8 unchanged, float32 scaled to [0, 1].

    Raises:
        ValueError: ``dtype`` is neither uint8 nor float32.
    """
    check_images_dtype(dtype)
    if np.dtype(dtype) == np.uint8:
        return images
    scaled: np.ndarray = to_float(images)
    return scaled
