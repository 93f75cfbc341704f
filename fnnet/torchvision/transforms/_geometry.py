"""Geometric operations on PIL images and tensor images ``[..., C, H, W]``: resize,
crop, pad, flips, rotation (torchvision's functional API of those names).

Tensor images are resized (bilinear, bicubic, ...) and rotated plane by plane with
Pillow's float ("F") images. torchvision's tensor resize (``F.interpolate`` with
``antialias=True``) is made to match Pillow's filters, and the results agree to float
round-off; the nearest modes take ``F.interpolate``'s source pixels exactly. A rotation
samples where torchvision's does (about the centre, NEAREST by default); with BILINEAR
the pixels at the rim of the rotated content differ, as Pillow and torchvision's
``grid_sample`` treat the outside differently, and inside they agree.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from fnnet.torchvision import _images
from fnnet.torchvision.transforms._modes import InterpolationMode, mode_of, pil_filter

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _on_planes(array: np.ndarray, fn: Any) -> np.ndarray:
    """Applies ``fn`` (a float32 ``[H, W]`` PIL "F" image -> PIL image) to each plane of
    ``[..., H, W]``, giving back ``array``'s dtype (integers rounded and clipped)."""
    lead = array.shape[:-2]
    planes = array.reshape(-1, *array.shape[-2:]).astype(np.float32)
    out = np.stack([np.asarray(fn(Image.fromarray(p))) for p in planes]) if len(planes) \
        else planes
    if array.dtype.kind in "iub":
        info = np.iinfo(array.dtype) if array.dtype.kind != "b" else np.iinfo(np.uint8)
        out = np.clip(np.round(out), info.min, info.max)
    return out.astype(array.dtype).reshape(*lead, *out.shape[-2:])


def output_size(height: int, width: int, size: Any, max_size: int | None) -> list[int]:
    """``[height, width]`` after resizing to ``size`` (an int or one value: the smaller
    edge, keeping the aspect ratio; two values: ``(h, w)``)."""
    if isinstance(size, int) or len(size) == 1:
        requested = size if isinstance(size, int) else size[0]
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
        return [new_h, new_w]
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the "
                         "smaller edge, i.e. size should be an int or a sequence of length 1 "
                         "in torchscript mode.")
    return [int(size[0]), int(size[1])]


def resize(img: Any, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True) -> Any:
    """Resizes to ``size`` (see :func:`output_size`).

    PyTorch equivalent: ``torchvision.transforms.functional.resize``.
    """
    mode = mode_of(interpolation)
    if not isinstance(size, (int, Sequence)) or isinstance(size, bool):
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    if isinstance(size, Sequence) and len(size) not in (1, 2):
        raise ValueError("If size is a sequence, it should have 1 or 2 values")
    _, height, width = _images.dimensions(img)
    new_h, new_w = output_size(height, width, size, max_size)
    if (new_h, new_w) == (height, width):
        return img
    if _images.is_pil(img):
        return img.resize((new_w, new_h), pil_filter(mode))
    array = _images.host(img)
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        rows = _nearest(height, new_h, mode)
        return _images.wrap(array[..., rows[:, None], _nearest(width, new_w, mode)])
    return _images.wrap(_on_planes(array, lambda p: p.resize((new_w, new_h), pil_filter(mode))))


def _nearest(size: int, new_size: int, mode: InterpolationMode) -> np.ndarray:
    """The source index of each output pixel: PyTorch's ``"nearest"`` takes
    ``floor(i * scale)``, ``"nearest-exact"`` the pixel under the centre (as Pillow)."""
    offset = 0.5 if mode == InterpolationMode.NEAREST_EXACT else 0.0
    scale = size / new_size
    index = np.floor((np.arange(new_size) + offset) * np.float32(scale)).astype(np.int64)
    clipped: np.ndarray = np.minimum(index, size - 1)
    return clipped


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The ``height x width`` window at ``(top, left)``; what lies outside the image is 0.

    PyTorch equivalent: ``torchvision.transforms.functional.crop``.
    """
    if _images.is_pil(img):
        return img.crop((left, top, left + width, top + height))
    _images.check_image(img)
    array = _images.host(img)
    h, w = array.shape[-2:]
    pads = [max(-left, 0), max(-top, 0), max(left + width - w, 0), max(top + height - h, 0)]
    window = array[..., max(top, 0):min(top + height, h), max(left, 0):min(left + width, w)]
    if any(pads):
        window = _pad_array(window, pads, 0, "constant", channels_last=False)
    return _images.wrap(window)


def center_crop(img: Any, output_size: Any) -> Any:
    """The centred window of ``output_size`` (int or ``(h, w)``), zero-padded where the
    image is smaller.

    PyTorch equivalent: ``torchvision.transforms.functional.center_crop``.
    """
    if isinstance(output_size, (int, float)):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, Sequence) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, height, width = _images.dimensions(img)
    crop_h, crop_w = output_size
    if crop_w > width or crop_h > height:
        padding = [(crop_w - width) // 2 if crop_w > width else 0,
                   (crop_h - height) // 2 if crop_h > height else 0,
                   (crop_w - width + 1) // 2 if crop_w > width else 0,
                   (crop_h - height + 1) // 2 if crop_h > height else 0]
        img = pad(img, padding, fill=0)
        _, height, width = _images.dimensions(img)
        if (crop_w, crop_h) == (width, height):
            return img
    # torchvision rounds with Python's round (half to even)
    top = int(round((height - crop_h) / 2.0))
    left = int(round((width - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


def padding_ltrb(padding: Any) -> list[int]:
    """torchvision's padding as ``[left, top, right, bottom]``: an int for all four,
    ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``."""
    if not isinstance(padding, (numbers.Number, tuple, list)) or isinstance(padding, bool):
        raise TypeError("Got inappropriate padding arg")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    values = [int(p) for p in padding] if isinstance(padding, (tuple, list)) \
        else [int(padding)]  # type: ignore[call-overload]
    if len(values) == 1:
        return values * 4
    if len(values) == 2:
        return [values[0], values[1], values[0], values[1]]
    return values


def _pad_array(array: np.ndarray, ltrb: Sequence[int], fill: Any, padding_mode: str, *,
               channels_last: bool) -> np.ndarray:
    """Pads the height and width axes of ``array`` (negative padding crops)."""
    left, top, right, bottom = ltrb
    h_axis = array.ndim - 3 if channels_last and array.ndim == 3 else array.ndim - 2
    slices = [slice(None)] * array.ndim
    slices[h_axis] = slice(max(-top, 0), array.shape[h_axis] - max(-bottom, 0))
    slices[h_axis + 1] = slice(max(-left, 0), array.shape[h_axis + 1] - max(-right, 0))
    array = array[tuple(slices)]
    widths = [(0, 0)] * array.ndim
    widths[h_axis] = (max(top, 0), max(bottom, 0))
    widths[h_axis + 1] = (max(left, 0), max(right, 0))
    if padding_mode != "constant":
        padded: np.ndarray = np.pad(array, widths, mode=padding_mode)  # type: ignore[call-overload]
        return padded
    fills = np.asarray(fill, dtype=np.float64).reshape(-1)
    if fills.size == 1 or not channels_last or array.ndim != 3:
        return np.pad(array, widths, mode="constant", constant_values=fills[0])
    return np.stack([np.pad(array[..., c], widths[:2], constant_values=fills[c % fills.size])
                     for c in range(array.shape[-1])], axis=-1)


def pad(img: Any, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Any:
    """Pads each border: ``padding`` is an int, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``; ``padding_mode`` is ``"constant"`` (with ``fill``,
    one value or one per channel), ``"edge"``, ``"reflect"`` or ``"symmetric"``.

    Raises:
        TypeError: a padding, fill or padding_mode of the wrong type.
        ValueError: a padding of another length, or an unknown padding_mode.

    PyTorch equivalent: ``torchvision.transforms.functional.pad``.
    """
    ltrb = padding_ltrb(padding)
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if padding_mode not in PADDING_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if _images.is_pil(img):
        out = _pad_array(np.asarray(img), ltrb, fill, padding_mode, channels_last=True)
        return _images.from_array(out, img)
    _images.check_image(img)
    return _images.wrap(_pad_array(_images.host(img), ltrb, fill, padding_mode,
                                   channels_last=False))


def hflip(img: Any) -> Any:
    """Mirrors left to right. PyTorch equivalent: ``transforms.functional.hflip``."""
    if _images.is_pil(img):
        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    _images.check_image(img)
    return _images.wrap(_images.host(img)[..., ::-1])


def vflip(img: Any) -> Any:
    """Mirrors top to bottom. PyTorch equivalent: ``transforms.functional.vflip``."""
    if _images.is_pil(img):
        return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    _images.check_image(img)
    return _images.wrap(_images.host(img)[..., ::-1, :])


def resized_crop(img: Any, top: int, left: int, height: int, width: int, size: Any,
                 interpolation: Any = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> Any:
    """:func:`crop` then :func:`resize`. PyTorch: ``transforms.functional.resized_crop``."""
    return resize(crop(img, top, left, height, width), size, interpolation,
                  antialias=antialias)


def rotate(img: Any, angle: float, interpolation: Any = InterpolationMode.NEAREST,
           expand: bool = False, center: Sequence[int] | None = None,
           fill: Any = None) -> Any:
    """Rotates by ``angle`` degrees counter-clockwise about ``center`` (the image's
    centre by default); uncovered pixels get ``fill`` (0).

    PyTorch equivalent: ``torchvision.transforms.functional.rotate``.
    """
    mode = mode_of(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, Sequence):
        raise TypeError("Argument center should be a sequence")
    centre = None if center is None else tuple(center)
    if _images.is_pil(img):
        bands = len(img.getbands())
        fills = [0] if fill is None else list(fill) if isinstance(fill, (tuple, list)) \
            else [fill]
        fillcolor = tuple(int(fills[i % len(fills)]) for i in range(bands)) if bands > 1 \
            else (fills[0] if img.mode == "F" else int(fills[0]))
        return img.rotate(angle, pil_filter(mode), expand, centre, fillcolor=fillcolor)
    _images.check_image(img)
    value = 0.0 if fill is None else float(fill if isinstance(fill, (int, float))
                                           else fill[0])
    return _images.wrap(_on_planes(_images.host(img), lambda p: p.rotate(
        angle, pil_filter(mode), expand, centre, fillcolor=value)))
