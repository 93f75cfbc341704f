"""``torchvision.transforms.v2`` for one image at a time: the transforms of
:mod:`fnnet.torchvision.transforms` under the same names, and v2's ``ToImage``,
``ToDtype`` and ``ToPureTensor``, as the newer tutorials write
``v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(...)])``.

Images come out as plain fnnet.torch tensors (no ``tv_tensors`` types), and a call takes
one image: v2's joint transforms of images with boxes, masks or labels raise
NotImplementedError, as does any other v2 name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fnnet.torch.tensor import Tensor, Unsupported
from fnnet.torchvision import _images, _unsupported
from fnnet.torchvision.transforms._affine import RandomAffine
from fnnet.torchvision.transforms._blur import GaussianBlur
from fnnet.torchvision.transforms._classes import (
    CenterCrop,
    ConvertImageDtype,
    Grayscale,
    Lambda,
    Normalize,
    Pad,
    PILToTensor,
    Resize,
    ToPILImage,
    Transform,
)
from fnnet.torchvision.transforms._classes import Compose as _Compose
from fnnet.torchvision.transforms._convert import convert_image_dtype, pil_to_tensor
from fnnet.torchvision.transforms._erasing import RandomErasing
from fnnet.torchvision.transforms._modes import InterpolationMode
from fnnet.torchvision.transforms._random_classes import (
    ColorJitter,
    RandomApply,
    RandomChoice,
    RandomCrop,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomOrder,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
)


class Compose(_Compose):
    """Applies ``transforms`` in turn to one image. PyTorch: ``transforms.v2.Compose``."""

    def __call__(self, *inputs: Any) -> Any:
        if len(inputs) != 1:
            raise Unsupported(_unsupported.message(
                "torchvision.transforms.v2", f"{type(self).__name__} of several inputs"))
        return super().__call__(inputs[0])


class ToImage(Transform):
    """A PIL image or ``[H, W, C]`` array as a ``[C, H, W]`` tensor, values and dtype
    unchanged (a tensor passes through).

    PyTorch equivalent: ``torchvision.transforms.v2.ToImage``.
    """

    def forward(self, img: Any) -> Any:
        if isinstance(img, Tensor):
            return img
        if isinstance(img, np.ndarray):
            array = img[:, :, None] if img.ndim == 2 else img
            return _images.wrap(array.transpose(2, 0, 1))
        return pil_to_tensor(img)


class ToDtype(Transform):
    """Casts a tensor image to ``dtype``; with ``scale=True`` the values are rescaled
    as ``ConvertImageDtype`` does (uint8 255 becomes 1.0).

    PyTorch equivalent: ``torchvision.transforms.v2.ToDtype``.
    """

    def __init__(self, dtype: Any, scale: bool = False) -> None:
        if isinstance(dtype, dict):
            raise Unsupported(_unsupported.message("torchvision.transforms.v2",
                                                   "ToDtype with a dict of dtypes"))
        self.dtype, self.scale = dtype, scale

    def forward(self, img: Any) -> Any:
        if not isinstance(img, Tensor):
            return img
        return convert_image_dtype(img, self.dtype) if self.scale else img.to(self.dtype)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(dtype={self.dtype}, scale={self.scale})"


class ToPureTensor(Transform):
    """Leaves tensors as they are (they are plain tensors here already).

    PyTorch equivalent: ``torchvision.transforms.v2.ToPureTensor``.
    """

    def forward(self, img: Any) -> Any:
        return img


__all__ = ["CenterCrop", "ColorJitter", "Compose", "ConvertImageDtype", "GaussianBlur",
           "Grayscale", "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad",
           "RandomAffine", "RandomApply", "RandomChoice", "RandomCrop", "RandomErasing",
           "RandomGrayscale", "RandomHorizontalFlip", "RandomOrder", "RandomResizedCrop",
           "RandomRotation", "RandomVerticalFlip", "Resize", "ToDtype", "ToImage", "ToPILImage",
           "ToPureTensor"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(_unsupported.message("torchvision.transforms.v2", name))
