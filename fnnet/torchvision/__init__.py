"""``torchvision`` for fnnet.torch: the data and model code of the PyTorch tutorials
runs with only its imports changed (``from fnnet.torchvision import datasets,
transforms, models``, or ``sys.modules["torchvision"]`` set to this package).

- :mod:`~fnnet.torchvision.datasets`: MNIST, FashionMNIST, KMNIST, CIFAR10, CIFAR100
  from local files in torchvision's layout, ImageFolder, DatasetFolder, FakeData;
- :mod:`~fnnet.torchvision.transforms`: the usual transforms on PIL images and
  fnnet.torch tensors, random ones seeded by ``torch.manual_seed``;
- :mod:`~fnnet.torchvision.models`: the ResNets, with torchvision's state_dict names;
- :mod:`~fnnet.torchvision.utils`: ``make_grid`` and ``save_image``.

Nothing is downloaded. Any torchvision name not provided raises NotImplementedError
naming itself (an ImportError too under ``from ... import``), as in fnnet.torch.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch.tensor import Unsupported
from fnnet.torchvision import _unsupported, datasets, models, transforms, utils

__version__ = "0.28.0+fnnet"

__all__ = ["datasets", "get_image_backend", "models", "set_image_backend", "transforms",
           "utils"]


def get_image_backend() -> str:
    """The image loader: always ``"PIL"``. PyTorch: ``torchvision.get_image_backend``."""
    return "PIL"


def set_image_backend(backend: str) -> None:
    """Accepts ``"PIL"``, the only backend here. PyTorch: ``torchvision.set_image_backend``.

    Raises:
        ValueError: another backend name.
    """
    if backend not in ("PIL", "accimage"):
        raise ValueError(f"Invalid backend '{backend}'. Options are 'PIL' and 'accimage'")
    if backend != "PIL":
        raise ValueError("fnnet.torchvision reads images with PIL only; accimage is not "
                         "supported")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(_unsupported.message("torchvision", name))
