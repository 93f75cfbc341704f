"""Colour operations on PIL images and tensor images ``[..., C, H, W]``: grayscale,
brightness, contrast, saturation, hue (torchvision's functional API of those names).

PIL images go through Pillow (``ImageEnhance``, as torchvision's PIL path), tensors
through torchvision's tensor formulas computed in numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageEnhance

from fnnet.torchvision import _images

_GRAY = (0.2989, 0.587, 0.114)  # torchvision's (ITU-R 601-2) weights


def _channels(array: np.ndarray, allowed: tuple[int, ...]) -> int:
    if array.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{array.ndim}")
    channels = int(array.shape[-3])
    if channels not in allowed:
        raise TypeError(f"Input image tensor permitted channel values are {list(allowed)}, "
                        f"but found {channels}")
    return channels


def _gray(array: np.ndarray) -> np.ndarray:
    """``[..., 1, H, W]`` luma of ``[..., 3, H, W]``, in float32 before the cast back."""
    r, g, b = (array[..., i, :, :].astype(np.float32) for i in range(3))
    gray: np.ndarray = (_GRAY[0] * r + _GRAY[1] * g + _GRAY[2] * b)[..., None, :, :]
    return gray


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """Luma ``0.2989 R + 0.587 G + 0.114 B``, repeated on ``num_output_channels`` (1 or 3).

    PyTorch equivalent: ``torchvision.transforms.functional.rgb_to_grayscale``.
    """
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if _images.is_pil(img):
        gray = img.convert("L")
        if num_output_channels == 3:
            gray = Image.merge("RGB", (gray, gray, gray))
        return gray
    _images.check_image(img)
    array = _images.host(img)
    if _channels(array, (1, 3)) == 3:
        array = _gray(array).astype(array.dtype)  # torchvision's .to(dtype) truncates
    return _images.wrap(np.repeat(array, num_output_channels, axis=-3))


to_grayscale = rgb_to_grayscale


def _bound(array: np.ndarray) -> float:
    return 1.0 if array.dtype.kind == "f" else 255.0


def _blend(image: np.ndarray, other: Any, ratio: float) -> np.ndarray:
    """torchvision's ``_blend``: ``ratio * image + (1 - ratio) * other``, clamped."""
    out = ratio * image.astype(np.float32) + (1.0 - ratio) * other
    blended: np.ndarray = np.clip(out, 0, _bound(image)).astype(image.dtype)
    return blended


def _check_factor(value: float, name: str) -> None:
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    """Scales intensities by ``brightness_factor`` (0: black, 1: unchanged).

    PyTorch equivalent: ``torchvision.transforms.functional.adjust_brightness``.
    """
    _check_factor(brightness_factor, "brightness_factor")
    if _images.is_pil(img):
        return ImageEnhance.Brightness(img).enhance(brightness_factor)
    _images.check_image(img)
    array = _images.host(img)
    _channels(array, (1, 3))
    return _images.wrap(_blend(array, 0.0, brightness_factor))


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    """Blends with the mean grey level (0: solid grey, 1: unchanged).

    PyTorch equivalent: ``torchvision.transforms.functional.adjust_contrast``.
    """
    _check_factor(contrast_factor, "contrast_factor")
    if _images.is_pil(img):
        return ImageEnhance.Contrast(img).enhance(contrast_factor)
    _images.check_image(img)
    array = _images.host(img)
    gray = _gray(array) if _channels(array, (1, 3)) == 3 else array.astype(np.float32)
    if array.dtype.kind != "f":
        gray = gray.astype(array.dtype).astype(np.float32)
    mean = gray.mean(axis=(-3, -2, -1), keepdims=True)
    return _images.wrap(_blend(array, mean, contrast_factor))


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    """Blends with the grayscale image (0: grey, 1: unchanged).

    PyTorch equivalent: ``torchvision.transforms.functional.adjust_saturation``.
    """
    _check_factor(saturation_factor, "saturation_factor")
    if _images.is_pil(img):
        return ImageEnhance.Color(img).enhance(saturation_factor)
    _images.check_image(img)
    array = _images.host(img)
    if _channels(array, (1, 3)) == 1:
        return img
    gray = _gray(array)
    if array.dtype.kind != "f":
        gray = gray.astype(array.dtype).astype(np.float32)
    return _images.wrap(_blend(array, gray, saturation_factor))


def _rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    r, g, b = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    maxc, minc = rgb.max(axis=-3), rgb.min(axis=-3)
    delta = maxc - minc
    s = delta / np.where(maxc == 0, 1.0, maxc)
    safe = np.where(delta == 0, 1.0, delta)
    rc, gc, bc = (maxc - r) / safe, (maxc - g) / safe, (maxc - b) / safe
    h = np.where(maxc == r, bc - gc, np.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = np.where(delta == 0, 0.0, (h / 6.0) % 1.0)
    return np.stack([h, s, maxc], axis=-3)


def _hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    h, s, v = hsv[..., 0, :, :], hsv[..., 1, :, :], hsv[..., 2, :, :]
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int32) % 6
    p, q, t = v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f))
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    channels = [np.select([i == k for k in range(6)], [c[n] for c in choices])
                for n in range(3)]
    return np.stack(channels, axis=-3)


def adjust_hue(img: Any, hue_factor: float) -> Any:
    """Shifts the hue by ``hue_factor`` turns (in ``[-0.5, 0.5]``).

    PyTorch equivalent: ``torchvision.transforms.functional.adjust_hue``.
    """
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _images.is_pil(img):
        if img.mode in ("L", "1", "I", "F"):
            return img
        h, s, v = img.convert("HSV").split()
        shifted = np.asarray(h).astype(np.uint8) + np.uint8(np.int64(hue_factor * 255) % 256)
        h = Image.fromarray(shifted.astype(np.uint8))
        return Image.merge("HSV", (h, s, v)).convert(img.mode)
    _images.check_image(img)
    array = _images.host(img)
    if _channels(array, (1, 3)) == 1:
        return img
    scaled = array.astype(np.float32) / _bound(array)
    hsv = _rgb_to_hsv(scaled)
    hsv[..., 0, :, :] = (hsv[..., 0, :, :] + hue_factor) % 1.0
    rgb = _hsv_to_rgb(hsv)
    if array.dtype.kind != "f":
        return _images.wrap((rgb * 255.0).astype(array.dtype))
    return _images.wrap(rgb.astype(array.dtype))
