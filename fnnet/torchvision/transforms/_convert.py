"""Conversions between PIL images, numpy arrays and tensors, dtype conversion and
normalisation (torchvision's ``to_tensor``, ``pil_to_tensor``, ``to_pil_image``,
``convert_image_dtype``, ``normalize``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

import fnnet.torch as torch
from fnnet.torch import _dtypes
from fnnet.torch.tensor import Tensor
from fnnet.torchvision import _images

# The numpy dtype each PIL mode's pixels have, where np.asarray does not already say.
_MODE_DTYPES = {"I": np.int32, "I;16": np.int16, "F": np.float32}


def _pil_hwc(pic: Image.Image) -> np.ndarray:
    """A PIL image's pixels ``[H, W, C]``, in the dtype torchvision reads them as."""
    array = np.asarray(pic)
    if pic.mode == "1":
        array = array.astype(np.uint8) * 255
    elif pic.mode in _MODE_DTYPES:
        array = array.astype(_MODE_DTYPES[pic.mode])
    return array[:, :, None] if array.ndim == 2 else array


def to_tensor(pic: Any) -> Tensor:
    """A PIL image or ``[H, W, C]`` array as a ``[C, H, W]`` tensor; uint8 pixels are
    scaled to floats in [0, 1] (the default dtype), other dtypes are kept.

    Raises:
        TypeError: ``pic`` is neither a PIL image nor a numpy array.
        ValueError: an array that is not 2- or 3-dimensional.

    PyTorch equivalent: ``torchvision.transforms.functional.to_tensor``.
    """
    if _images.is_pil(pic):
        array = _pil_hwc(pic)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    chw = array.transpose(2, 0, 1)
    if chw.dtype == np.uint8:
        # torchvision: ``img.to(default_float_dtype).div(255)``
        float_dtype = _dtypes.to_np(torch.get_default_dtype())
        chw = chw.astype(float_dtype) / float_dtype.type(255)
    return _images.wrap(chw)


def pil_to_tensor(pic: Any) -> Tensor:
    """A PIL image as a ``[C, H, W]`` tensor of its own dtype, values unchanged.

    PyTorch equivalent: ``torchvision.transforms.functional.pil_to_tensor``.
    """
    if not _images.is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    return _images.wrap(_pil_hwc(pic).transpose(2, 0, 1))


def _max_value(dtype: np.dtype) -> float:
    return float(np.iinfo(dtype).max) if dtype.kind in "iu" else 1.0


def convert_image_dtype(image: Tensor, dtype: Any = None) -> Tensor:
    """Converts a tensor image's dtype, rescaling its values (uint8 255 is float 1.0).

    Raises:
        TypeError: ``image`` is not a tensor.
        RuntimeError: a float to int cast that cannot be done safely (torchvision's).

    PyTorch equivalent: ``torchvision.transforms.functional.convert_image_dtype``.
    """
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    source = _images.host(image)
    target = _dtypes.to_np(torch.float32 if dtype is None else dtype)
    if source.dtype == target:
        return image
    if source.dtype.kind == "f":
        if target.kind == "f":
            return _images.wrap(source.astype(target))
        if (source.dtype == np.float32 and target in (np.int32, np.int64)) or \
                (source.dtype == np.float64 and target == np.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {_dtypes.from_np(target)} "
                               f"cannot be performed safely.")
        # torchvision scales by max + 1 - eps so that 1.0 maps to max, not max + 1
        scaled = source * (_max_value(target) + 1.0 - 1e-3)
        return _images.wrap(scaled.astype(target))
    if target.kind == "f":
        return _images.wrap((source.astype(target) / _max_value(source.dtype)).astype(target))
    # int to int: a shift by the difference in bits, as torchvision
    source_bits, target_bits = source.dtype.itemsize * 8, target.itemsize * 8
    if source.dtype.kind == "i":
        source_bits -= 1
    if target.kind == "i":
        target_bits -= 1
    if source_bits > target_bits:
        return _images.wrap((source >> (source_bits - target_bits)).astype(target))
    return _images.wrap(source.astype(target) << (target_bits - source_bits))


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> Tensor:
    """``(tensor[c] - mean[c]) / std[c]`` for each channel of a float ``[..., C, H, W]``
    tensor image.

    Raises:
        TypeError: not a tensor, or not a float tensor.
        ValueError: fewer than 3 dimensions, or a std of zero.
        RuntimeError: ``mean``/``std`` with more values than the image has channels.

    PyTorch equivalent: ``torchvision.transforms.functional.normalize``.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if tensor.ndim < 2:
        raise TypeError("Tensor is not a torch image.")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")
    values = _images.host(tensor)
    means = np.asarray(mean, dtype=values.dtype)
    stds = np.asarray(std, dtype=values.dtype)
    if (stds == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading "
                         f"to division by zero.")
    means = means.reshape(-1, 1, 1) if means.ndim == 1 else means
    stds = stds.reshape(-1, 1, 1) if stds.ndim == 1 else stds
    for other in (means, stds):
        _check_broadcast(values.shape, other.shape)
    result = ((values - means) / stds).astype(values.dtype)
    if inplace:
        tensor.copy_(_images.wrap(result))
        return tensor
    return _images.wrap(result)


def _check_broadcast(image: tuple[int, ...], other: tuple[int, ...]) -> None:
    """PyTorch's errors for an in-place ``image.sub_(other)`` whose shapes do not fit."""
    for axis in range(1, min(len(image), len(other)) + 1):
        a, b = image[-axis], other[-axis]
        if a != b and b != 1 and a != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                               f"({b}) at non-singleton dimension {len(image) - axis}")
    shape = np.broadcast_shapes(image, other)
    if shape != tuple(image):
        raise RuntimeError(f"output with shape {list(image)} doesn't match the broadcast "
                           f"shape {list(shape)}")


def to_pil_image(pic: Any, mode: str | None = None) -> Image.Image:
    """A ``[C, H, W]`` tensor or ``[H, W, C]`` array as a PIL image; a float tensor is
    scaled by 255 and truncated to uint8 (unless ``mode="F"``).

    Raises:
        TypeError: ``pic`` is neither a tensor nor a numpy array, or its dtype has no
            PIL mode.
        ValueError: not 2- or 3-dimensional, more than 4 channels, or a ``mode`` that
            does not fit the data.

    PyTorch equivalent: ``torchvision.transforms.functional.to_pil_image``.
    """
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = _images.host(pic)
        array = array[None] if array.ndim == 2 else array
        if array.dtype.kind == "f" and mode != "F":
            array = (array * 255).astype(np.uint8)  # torchvision: pic.mul(255).byte()
        array = array.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    channels = array.shape[-1]
    if channels > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {channels} channels.")
    if channels == 1:
        plane = array[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(plane.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type "
                             f"{plane.dtype}. Should be {expected}")
        if expected is None:
            raise TypeError(f"Input type {plane.dtype} is not supported")
        return Image.fromarray(plane) if expected != "I;16" else \
            Image.frombytes("I;16", plane.shape[::-1], plane.astype("<u2").tobytes())
    allowed = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}[channels]
    if mode is not None and mode not in allowed:
        raise ValueError(f"Only modes {allowed} are supported for {channels}D inputs")
    if array.dtype != np.uint8:
        raise TypeError(f"Input type {array.dtype} is not supported")
    image = Image.fromarray(np.ascontiguousarray(array))
    return image if mode is None or image.mode == mode else \
        Image.frombytes(mode, image.size, image.tobytes())
