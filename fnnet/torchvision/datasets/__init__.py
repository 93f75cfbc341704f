"""``torchvision.datasets`` for fnnet.torch: MNIST, FashionMNIST, KMNIST, CIFAR10,
CIFAR100, SVHN from local files in torchvision's folder layout, ImageFolder/DatasetFolder
over a folder of class folders, and FakeData.

Nothing is downloaded: ``download=True`` is accepted, and absent files raise a
RuntimeError that names them, the folder to put them in and where to get them. Any
other torchvision dataset raises NotImplementedError naming itself.

Example::

    from fnnet.torchvision import datasets, transforms
    test_set = datasets.MNIST("data", train=False, transform=transforms.ToTensor())
"""

from __future__ import annotations

from typing import Any

from fnnet.torch.tensor import Unsupported
from fnnet.torchvision import _unsupported
from fnnet.torchvision.datasets._vision import StandardTransform, VisionDataset
from fnnet.torchvision.datasets.cifar import CIFAR10, CIFAR100
from fnnet.torchvision.datasets.fakedata import FakeData
from fnnet.torchvision.datasets.folder import (
    IMG_EXTENSIONS,
    DatasetFolder,
    ImageFolder,
    default_loader,
    has_file_allowed_extension,
    is_image_file,
    make_dataset,
    pil_loader,
)
from fnnet.torchvision.datasets.mnist import KMNIST, MNIST, FashionMNIST
from fnnet.torchvision.datasets.svhn import SVHN

__all__ = ["CIFAR10", "CIFAR100", "DatasetFolder", "FakeData", "FashionMNIST",
           "IMG_EXTENSIONS", "ImageFolder", "KMNIST", "MNIST", "SVHN", "StandardTransform",
           "VisionDataset", "default_loader", "has_file_allowed_extension", "is_image_file",
           "make_dataset", "pil_loader"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(_unsupported.message("torchvision.datasets", name))
