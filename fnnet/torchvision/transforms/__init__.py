"""``torchvision.transforms`` for fnnet.torch: the transforms of the PyTorch tutorials,
on PIL images and fnnet.torch tensors.

``Compose``, ``ToTensor``, ``PILToTensor``, ``ConvertImageDtype``, ``Normalize``,
``Lambda``, ``Resize``, ``CenterCrop``, ``Pad``, ``Grayscale``, ``ToPILImage`` and the
random ``RandomCrop``, ``RandomHorizontalFlip``, ``RandomVerticalFlip``,
``RandomResizedCrop``, ``RandomRotation``, ``ColorJitter``, ``RandomGrayscale``,
``RandomApply``, ``RandomChoice``, ``RandomOrder``, ``GaussianBlur`` and
``RandomErasing`` (on tensors),
with torchvision's arguments, errors and ``repr``; :mod:`~fnnet.torchvision.transforms.v2`
has them for single images with ``ToImage`` and ``ToDtype``. The random ones draw from
fnnet.torch's global PRNG, so ``torch.manual_seed`` makes them reproducible (other
numbers than PyTorch's). Any other torchvision transform raises NotImplementedError
naming itself.

Example::

    from fnnet.torchvision import transforms
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])
"""

from __future__ import annotations

from typing import Any

from fnnet.torch.tensor import Unsupported
from fnnet.torchvision import _unsupported
from fnnet.torchvision.transforms import functional, v2
from fnnet.torchvision.transforms._affine import RandomAffine
from fnnet.torchvision.transforms._blur import GaussianBlur
from fnnet.torchvision.transforms._classes import (
    CenterCrop,
    Compose,
    ConvertImageDtype,
    Grayscale,
    Lambda,
    Normalize,
    Pad,
    PILToTensor,
    Resize,
    ToPILImage,
    ToTensor,
)
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

__all__ = ["CenterCrop", "ColorJitter", "Compose", "ConvertImageDtype", "GaussianBlur",
           "Grayscale", "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad",
           "RandomAffine", "RandomApply", "RandomChoice", "RandomCrop", "RandomErasing",
           "RandomGrayscale", "RandomHorizontalFlip", "RandomOrder", "RandomResizedCrop",
           "RandomRotation", "RandomVerticalFlip", "Resize", "ToPILImage", "ToTensor",
           "functional", "v2"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(_unsupported.message("torchvision.transforms", name))
