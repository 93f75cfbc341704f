"""Affine transforms: ``affine`` (rotation, translation, scale and shear about the
centre) and ``RandomAffine``, which draws them."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from PIL import Image

from fnnet.torchvision import _images, _rng
from fnnet.torchvision.transforms._classes import Transform
from fnnet.torchvision.transforms._geometry import _on_planes
from fnnet.torchvision.transforms._modes import InterpolationMode, mode_of, pil_filter


def inverse_affine_matrix(center: Sequence[float], angle: float, translate: Sequence[float],
                          scale: float, shear: Sequence[float]) -> list[float]:
    """The 2x3 matrix (row-major) taking output coordinates to input coordinates for a
    rotation by ``angle`` degrees and ``shear`` about ``center``, scaled by ``scale``,
    then moved by ``translate``: torchvision's ``_get_inverse_affine_matrix``,
    ``(C T RSS C^-1)^-1``."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty) + cx
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty) + cy
    return matrix


def affine(img: Any, angle: float, translate: Sequence[int], scale: float,
           shear: Any, interpolation: Any = InterpolationMode.NEAREST, fill: Any = None,
           center: Sequence[int] | None = None) -> Any:
    """Rotates by ``angle`` degrees clockwise (``rotate``'s angle turns the other way, as
    in torchvision), shears by ``shear`` degrees
    (one value: along x; two: x and y), scales by ``scale`` about ``center`` (the
    image's centre) and moves by ``translate`` pixels; uncovered pixels get ``fill``.

    Raises:
        TypeError: arguments of the wrong type.
        ValueError: a non-positive scale, a translate or shear of the wrong length.

    PyTorch equivalent: ``torchvision.transforms.functional.affine``.
    """
    mode = mode_of(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if isinstance(shear, numbers.Number):
        shear = [float(shear), 0.0]  # type: ignore[arg-type]
    elif not isinstance(shear, (list, tuple)):
        raise TypeError(f"Shear should be either a single value or a sequence of two values. "
                        f"Got {type(shear)}")
    elif len(shear) not in (1, 2):
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    shears = [float(shear[0]), float(shear[1]) if len(shear) == 2 else 0.0]
    _, height, width = _images.dimensions(img)
    # torchvision's centre for PIL images, which its tensor grid reproduces
    centre = [width * 0.5, height * 0.5] if center is None else [float(c) for c in center]
    matrix = inverse_affine_matrix(centre, angle, [float(t) for t in translate], scale, shears)
    if _images.is_pil(img):
        bands = len(img.getbands())
        fills = [0] if fill is None else list(fill) if isinstance(fill, (tuple, list)) \
            else [fill]
        fillcolor = tuple(int(fills[i % len(fills)]) for i in range(bands)) if bands > 1 \
            else int(fills[0])
        return img.transform(img.size, Image.Transform.AFFINE, matrix, pil_filter(mode),
                             fillcolor=fillcolor)
    value = 0.0 if fill is None else float(fill if isinstance(fill, (int, float)) else fill[0])
    return _images.wrap(_on_planes(_images.host(img), lambda p: p.transform(
        p.size, Image.Transform.AFFINE, matrix, pil_filter(mode), fillcolor=value)))


def angle_range(value: Any, name: str, sizes: tuple[int, ...] = (2,)) -> list[float]:
    """torchvision's ``_setup_angle``: ``d`` as ``[-d, d]``, or a sequence of ``sizes``."""
    if isinstance(value, numbers.Number):
        if value < 0:  # type: ignore[operator]
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return [-float(value), float(value)]  # type: ignore[arg-type]
    _check_sequence(value, name, sizes)
    return [float(d) for d in value]


def _check_sequence(value: Any, name: str, sizes: tuple[int, ...]) -> None:
    lengths = str(sizes[0]) if len(sizes) < 2 else " or ".join(str(s) for s in sizes)
    if not isinstance(value, Sequence):
        raise TypeError(f"{name} should be a sequence of length {lengths}.")
    if len(value) not in sizes:
        raise ValueError(f"{name} should be a sequence of length {lengths}.")


class RandomAffine(Transform):
    """A random affine transform: an angle from ``degrees``, a shift of up to
    ``translate`` (fractions of width and height), a scale from ``scale`` and a shear
    from ``shear`` (degrees; 2 values for x, 4 for x and y).

    PyTorch equivalent: ``torchvision.transforms.RandomAffine``.
    """

    def __init__(self, degrees: Any, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: Any = None,
                 interpolation: Any = InterpolationMode.NEAREST, fill: Any = 0,
                 center: Sequence[int] | None = None) -> None:
        self.degrees = angle_range(degrees, "degrees")
        if translate is not None:
            _check_sequence(translate, "translate", (2,))
            if any(not 0.0 <= t <= 1.0 for t in translate):
                raise ValueError("translation values should be between 0 and 1")
        if scale is not None:
            _check_sequence(scale, "scale", (2,))
            if any(s <= 0 for s in scale):
                raise ValueError("scale values should be positive")
        self.shear = angle_range(shear, "shear", (2, 4)) if shear is not None else None
        if fill is None:
            fill = 0
        elif not isinstance(fill, (Sequence, numbers.Number)):
            raise TypeError("Fill should be either a sequence or a number.")
        if center is not None:
            _check_sequence(center, "center", (2,))
        self.interpolation = mode_of(interpolation)
        self.translate, self.scale, self.fill, self.center = translate, scale, fill, center

    @staticmethod
    def get_params(degrees: Sequence[float], translate: Sequence[float] | None,
                   scale_ranges: Sequence[float] | None, shears: Sequence[float] | None,
                   img_size: Sequence[int]) -> tuple[float, tuple[int, int], float,
                                                     tuple[float, float]]:
        """``(angle, (tx, ty), scale, (shear_x, shear_y))`` drawn as torchvision draws."""
        angle = _rng.uniform(float(degrees[0]), float(degrees[1]))
        tx = ty = 0
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            tx = int(round(_rng.uniform(-max_dx, max_dx)))
            ty = int(round(_rng.uniform(-max_dy, max_dy)))
        scale = 1.0 if scale_ranges is None else _rng.uniform(scale_ranges[0], scale_ranges[1])
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _rng.uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _rng.uniform(shears[2], shears[3])
        return angle, (tx, ty), scale, (shear_x, shear_y)

    def forward(self, img: Any) -> Any:
        angle, translations, scale, shear = self.get_params(
            self.degrees, self.translate, self.scale, self.shear, _images.size(img))
        return affine(img, angle, list(translations), scale, list(shear), self.interpolation,
                      self.fill, self.center)

    def __repr__(self) -> str:
        text = f"{self.__class__.__name__}(degrees={self.degrees}"
        text += f", translate={self.translate}" if self.translate is not None else ""
        text += f", scale={self.scale}" if self.scale is not None else ""
        text += f", shear={self.shear}" if self.shear is not None else ""
        if self.interpolation != InterpolationMode.NEAREST:
            text += f", interpolation={self.interpolation.value}"
        text += f", fill={self.fill}" if self.fill != 0 else ""
        text += f", center={self.center}" if self.center is not None else ""
        return text + ")"
