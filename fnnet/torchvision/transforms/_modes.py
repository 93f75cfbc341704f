"""``InterpolationMode``: how resizing and rotating fill in new pixels."""

from __future__ import annotations

import enum
from typing import Any

from PIL import Image


class InterpolationMode(enum.Enum):
    """Interpolation methods, named as torchvision names them.

    PyTorch equivalent: ``torchvision.transforms.InterpolationMode``.
    """

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's integer constants (``PIL.Image.BILINEAR`` is 2), which torchvision accepts too.
_FROM_INT = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
             3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX,
             5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}

_TO_PIL = {InterpolationMode.NEAREST: Image.Resampling.NEAREST,
           InterpolationMode.NEAREST_EXACT: Image.Resampling.NEAREST,
           InterpolationMode.BILINEAR: Image.Resampling.BILINEAR,
           InterpolationMode.BICUBIC: Image.Resampling.BICUBIC,
           InterpolationMode.BOX: Image.Resampling.BOX,
           InterpolationMode.HAMMING: Image.Resampling.HAMMING,
           InterpolationMode.LANCZOS: Image.Resampling.LANCZOS}


def mode_of(interpolation: Any) -> InterpolationMode:
    """``interpolation`` as an :class:`InterpolationMode` (a Pillow int accepted).

    Raises:
        TypeError: neither an InterpolationMode nor a Pillow constant, with
            torchvision's message.
    """
    if isinstance(interpolation, int) and not isinstance(interpolation, bool) \
            and interpolation in _FROM_INT:
        return _FROM_INT[interpolation]
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be of type InterpolationMode")
    return interpolation


def pil_filter(interpolation: InterpolationMode) -> Image.Resampling:
    """Pillow's resampling filter for ``interpolation``."""
    return _TO_PIL[interpolation]
