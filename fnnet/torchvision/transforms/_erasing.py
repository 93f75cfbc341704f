"""``RandomErasing``: blanks a random rectangle of a tensor image (Zhong et al., 2017,
https://arxiv.org/abs/1708.04896), and ``erase``, its functional form."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from fnnet.torch.tensor import Tensor
from fnnet.torchvision import _images, _rng
from fnnet.torchvision.transforms._classes import Transform


def erase(img: Tensor, i: int, j: int, h: int, w: int, v: Any, inplace: bool = False) -> Tensor:
    """``img`` with the ``h x w`` window at ``(i, j)`` set to ``v`` (broadcast).

    PyTorch equivalent: ``torchvision.transforms.functional.erase``.
    """
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    array = _images.host(img)
    array[..., i:i + h, j:j + w] = _images.host(v) if isinstance(v, Tensor) else v
    if inplace:
        img.copy_(_images.wrap(array))
        return img
    return _images.wrap(array)


class RandomErasing(Transform):
    """With probability ``p``, erases a rectangle of ``scale`` of the area and aspect
    ratio in ``ratio`` (log-uniform), filled with ``value`` (a number, one per channel,
    or ``"random"``: standard normal noise).

    PyTorch equivalent: ``torchvision.transforms.RandomErasing``.
    """

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: Any = 0,
                 inplace: bool = False) -> None:
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    @staticmethod
    def get_params(img: Tensor, scale: Sequence[float], ratio: Sequence[float],
                   value: list[float] | None = None) -> tuple[int, int, int, int, Any]:
        """``(i, j, h, w, fill)`` of one erasure (the whole image, unchanged, when ten
        tries find no rectangle that fits)."""
        channels, height, width = _images.dimensions(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            erase_area = area * _rng.uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_rng.uniform(*log_ratio))
            h = int(round(math.sqrt(erase_area * aspect_ratio)))
            w = int(round(math.sqrt(erase_area / aspect_ratio)))
            if not (h < height and w < width):
                continue
            if value is None:
                fill: Any = _rng.normal((channels, h, w)).astype(np.float32)
            else:
                fill = np.asarray(value, dtype=np.float32)[:, None, None]
            return _rng.randint(0, height - h + 1), _rng.randint(0, width - w + 1), h, w, fill
        return 0, 0, height, width, img

    def forward(self, img: Any) -> Any:
        if _rng.random() >= self.p:
            return img
        if isinstance(self.value, (int, float)):
            value: list[float] | None = [float(self.value)]
        elif isinstance(self.value, str):
            value = None
        else:
            value = [float(v) for v in self.value]  # type: ignore[union-attr]
        channels = _images.dimensions(img)[0]
        if value is not None and len(value) not in (1, channels):
            raise ValueError(f"If value is a sequence, it should have either a single value or "
                             f"{channels} (number of input channels)")
        i, j, h, w, fill = self.get_params(img, self.scale, self.ratio, value)
        return erase(img, i, j, h, w, fill, self.inplace)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value}, inplace={self.inplace})")
