"""``torchvision.utils``: ``make_grid`` (a batch of images tiled into one) and
``save_image`` (that grid written as an image file)."""

from __future__ import annotations

import math
import os
from typing import IO, Any

import numpy as np
from PIL import Image

from fnnet.torch.tensor import Tensor, Unsupported
from fnnet.torchvision import _images, _unsupported


def _batch(tensor: Any) -> np.ndarray:
    """``tensor`` (a tensor or a list of ``[C, H, W]`` tensors) as a ``[N, C, H, W]``
    float array, one channel repeated to three."""
    if isinstance(tensor, (list, tuple)):
        if not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError(f"tensor or list of tensors expected, got a list containing "
                            f"{[type(t) for t in tensor if not isinstance(t, Tensor)][0]}")
        array = np.stack([_images.host(t) for t in tensor])
    elif isinstance(tensor, Tensor):
        array = _images.host(tensor)
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        array = array[None] if array.shape[0] != 1 else np.concatenate([array] * 3)[None]
    if array.ndim == 4 and array.shape[1] == 1:
        array = np.concatenate([array] * 3, axis=1)
    return array


def _scaled(array: np.ndarray, value_range: tuple[float, float] | None) -> np.ndarray:
    """``array`` clamped to ``value_range`` (its own min and max by default) and mapped
    onto [0, 1]."""
    low, high = value_range if value_range is not None else (array.min(), array.max())
    array = np.clip(array, low, high)
    return (array - low) / max(high - low, 1e-5)


def make_grid(tensor: Any, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """Tiles ``[N, C, H, W]`` images into one ``[3, H', W']`` image, ``nrow`` per row,
    ``padding`` pixels of ``pad_value`` between them; ``normalize`` maps
    ``value_range`` (each image's, with ``scale_each``) onto [0, 1].

    PyTorch equivalent: ``torchvision.utils.make_grid``.
    """
    array = _batch(tensor)  # the grid keeps the images' dtype, as torchvision's
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("value_range has to be a tuple (min, max) if specified. min and max "
                        "are numbers")
    if normalize:
        array = array.astype(np.float32)
        array = np.stack([_scaled(a, value_range) for a in array]) if scale_each \
            else _scaled(array, value_range)
    if array.shape[0] == 1:
        return _images.wrap(array[0])
    n, channels, height, width = array.shape
    columns = min(nrow, n)
    rows = int(math.ceil(float(n) / columns))
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((channels, cell_h * rows + padding, cell_w * columns + padding), pad_value,
                   dtype=array.dtype)
    for k in range(n):
        y, x = divmod(k, columns)
        grid[:, y * cell_h + padding:(y + 1) * cell_h,
             x * cell_w + padding:(x + 1) * cell_w] = array[k]
    return _images.wrap(grid)


def save_image(tensor: Any, fp: str | os.PathLike[str] | IO[bytes], format: str | None = None,
               **kwargs: Any) -> None:
    """Writes :func:`make_grid` of ``tensor`` (values in [0, 1]) as an 8-bit image file.

    PyTorch equivalent: ``torchvision.utils.save_image``.
    """
    grid = _images.host(make_grid(tensor, **kwargs))
    # torchvision rounds: mul(255).add_(0.5).clamp_(0, 255) then a cast to uint8
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    image.save(fp, format=format)


__all__ = ["make_grid", "save_image"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(_unsupported.message("torchvision.utils", name))
