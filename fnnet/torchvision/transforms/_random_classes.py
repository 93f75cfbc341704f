"""The random transforms: crops, flips, rotation, colour jitter and the random
containers. Their draws come from fnnet.torch's global PRNG (see
:mod:`fnnet.torchvision._rng`), so ``torch.manual_seed`` makes them reproducible; the
numbers differ from PyTorch's (another PRNG)."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from fnnet.torchvision import _images, _rng
from fnnet.torchvision.transforms import _color, _geometry
from fnnet.torchvision.transforms._affine import angle_range
from fnnet.torchvision.transforms._classes import Transform, setup_size
from fnnet.torchvision.transforms._modes import InterpolationMode, mode_of

_SIZE_ERROR = "Please provide only two dimensions (h, w) for size."


class RandomCrop(Transform):
    """Crops a ``size`` window at a random place, after optional padding
    (``padding``, ``pad_if_needed``, ``fill``, ``padding_mode`` as in
    :class:`~fnnet.torchvision.transforms.Pad`).

    Raises:
        ValueError: at call time, a crop larger than the (padded) image.

    PyTorch equivalent: ``torchvision.transforms.RandomCrop``.
    """

    def __init__(self, size: Any, padding: Any = None, pad_if_needed: bool = False,
                 fill: Any = 0, padding_mode: str = "constant") -> None:
        self.size = setup_size(size, _SIZE_ERROR)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a random crop of ``output_size``."""
        _, h, w = _images.dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        return _rng.randint(0, h - th + 1), _rng.randint(0, w - tw + 1), th, tw

    def forward(self, img: Any) -> Any:
        if self.padding is not None:
            img = _geometry.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = _images.dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = _geometry.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = _geometry.pad(img, [0, self.size[0] - height], self.fill,
                                self.padding_mode)
        return _geometry.crop(img, *self.get_params(img, self.size))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(Transform):
    """Mirrors left to right with probability ``p``.

    PyTorch equivalent: ``torchvision.transforms.RandomHorizontalFlip``.
    """

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def forward(self, img: Any) -> Any:
        return _geometry.hflip(img) if _rng.random() < self.p else img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirrors top to bottom with probability ``p``.

    PyTorch equivalent: ``torchvision.transforms.RandomVerticalFlip``.
    """

    def forward(self, img: Any) -> Any:
        return _geometry.vflip(img) if _rng.random() < self.p else img


class RandomResizedCrop(Transform):
    """Crops a random area (``scale`` of the image) of random aspect ratio (``ratio``,
    drawn log-uniformly) and resizes it to ``size``.

    PyTorch equivalent: ``torchvision.transforms.RandomResizedCrop``.
    """

    def __init__(self, size: Any, scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: Any = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        self.size = setup_size(size, _SIZE_ERROR)
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        self.interpolation = mode_of(interpolation)
        self.antialias, self.scale, self.ratio = antialias, scale, ratio

    @staticmethod
    def get_params(img: Any, scale: Sequence[float],
                   ratio: Sequence[float]) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a random crop (torchvision's ten tries,
        then the centred crop of the closest allowed ratio)."""
        _, height, width = _images.dimensions(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * _rng.uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_rng.uniform(*log_ratio))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                return _rng.randint(0, height - h + 1), _rng.randint(0, width - w + 1), h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img: Any) -> Any:
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        return _geometry.resized_crop(img, top, left, h, w, self.size, self.interpolation,
                                      self.antialias)

    def __repr__(self) -> str:
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (f"{self.__class__.__name__}(size={self.size}, scale={scale}, ratio={ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


class RandomRotation(Transform):
    """Rotates by an angle drawn uniformly from ``degrees`` (``d``: ``(-d, d)``).

    PyTorch equivalent: ``torchvision.transforms.RandomRotation``.
    """

    def __init__(self, degrees: Any, interpolation: Any = InterpolationMode.NEAREST,
                 expand: bool = False, center: Sequence[int] | None = None,
                 fill: Any = 0) -> None:
        self.degrees = angle_range(degrees, "degrees")
        if center is not None and (not isinstance(center, Sequence) or len(center) != 2):
            raise ValueError("center should be a sequence of length 2.")
        if fill is None:
            fill = 0
        elif not isinstance(fill, (Sequence, numbers.Number)):
            raise TypeError("Fill should be either a sequence or a number.")
        self.interpolation = mode_of(interpolation)
        self.expand, self.center, self.fill = expand, center, fill

    @staticmethod
    def get_params(degrees: Sequence[float]) -> float:
        """An angle drawn uniformly from ``degrees``."""
        return _rng.uniform(float(degrees[0]), float(degrees[1]))

    def forward(self, img: Any) -> Any:
        angle = self.get_params(self.degrees)
        return _geometry.rotate(img, angle, self.interpolation, self.expand, self.center,
                                self.fill)

    def __repr__(self) -> str:
        text = (f"{self.__class__.__name__}(degrees={self.degrees}, interpolation="
                f"{self.interpolation.value}, expand={self.expand}")
        if self.center is not None:
            text += f", center={self.center}"
        if self.fill is not None:
            text += f", fill={self.fill}"
        return text + ")"


def _jitter_range(value: Any, name: str, center: float = 1.0,
                  bound: tuple[float, float] = (0, float("inf")),
                  clip_first_on_zero: bool = True) -> list[float] | None:
    if isinstance(value, numbers.Number):
        if value < 0:  # type: ignore[operator]
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]  # type: ignore[arg-type]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    # (1, 1) for brightness, contrast and saturation, (0, 0) for hue: no change
    return None if value[0] == value[1] == center else value


class ColorJitter(Transform):
    """Changes brightness, contrast, saturation and hue by random factors, in a random
    order.

    PyTorch equivalent: ``torchvision.transforms.ColorJitter``.
    """

    def __init__(self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0,
                 hue: Any = 0) -> None:
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5),
                                 clip_first_on_zero=False)

    def forward(self, img: Any) -> Any:
        order = _rng.permutation(4)
        factors = [None if r is None else _rng.uniform(r[0], r[1])
                   for r in (self.brightness, self.contrast, self.saturation, self.hue)]
        adjust = (_color.adjust_brightness, _color.adjust_contrast,
                  _color.adjust_saturation, _color.adjust_hue)
        for i in order:
            factor = factors[i]
            if factor is not None:
                img = adjust[i](img, factor)
        return img

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(brightness={self.brightness}, contrast="
                f"{self.contrast}, saturation={self.saturation}, hue={self.hue})")


class RandomGrayscale(Transform):
    """Converts to grayscale (keeping the channel count) with probability ``p``.

    PyTorch equivalent: ``torchvision.transforms.RandomGrayscale``.
    """

    def __init__(self, p: float = 0.1) -> None:
        self.p = p

    def forward(self, img: Any) -> Any:
        channels, _, _ = _images.dimensions(img)
        if _rng.random() < self.p:
            return _color.rgb_to_grayscale(img, channels)
        return img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class RandomApply(Transform):
    """Applies all of ``transforms`` with probability ``p``.

    PyTorch equivalent: ``torchvision.transforms.RandomApply``.
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]], p: float = 0.5) -> None:
        self.transforms, self.p = transforms, p

    def forward(self, img: Any) -> Any:
        if self.p < _rng.random():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}(\n    p={self.p}{lines}\n)"


class RandomChoice(Transform):
    """Applies one of ``transforms``, chosen with weights ``p`` (uniform by default).

    PyTorch equivalent: ``torchvision.transforms.RandomChoice``.
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]],
                 p: Sequence[float] | None = None) -> None:
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        if p is not None and len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: "
                             f"{len(p)} != {len(transforms)}")
        self.transforms, self.p = transforms, p

    def forward(self, img: Any) -> Any:
        if self.p is None:
            return _rng.choice(self.transforms)(img)
        weights = [w / sum(self.p) for w in self.p]
        draw, total = _rng.random(), 0.0
        for t, w in zip(self.transforms, weights, strict=True):
            total += w
            if draw < total:
                return t(img)
        return self.transforms[-1](img)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.transforms}, p={self.p})"


class RandomOrder(Transform):
    """Applies ``transforms`` in a random order.

    PyTorch equivalent: ``torchvision.transforms.RandomOrder``.
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = transforms

    def forward(self, img: Any) -> Any:
        for i in _rng.permutation(len(self.transforms)):
            img = self.transforms[i](img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}({lines}\n)"


__all__ = ["ColorJitter", "RandomApply", "RandomChoice", "RandomCrop", "RandomGrayscale",
           "RandomHorizontalFlip", "RandomOrder", "RandomResizedCrop", "RandomRotation",
           "RandomVerticalFlip"]
