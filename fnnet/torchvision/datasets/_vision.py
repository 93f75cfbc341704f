"""``VisionDataset`` and ``StandardTransform``: what torchvision's datasets share (the
transforms and the ``repr``)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PIL import Image

from fnnet.torch.tensor import Tensor
from fnnet.torch.utils.data import Dataset


class StandardTransform:
    """Applies ``transform`` to the input and ``target_transform`` to the target.

    PyTorch equivalent: ``torchvision.datasets.vision.StandardTransform``.
    """

    def __init__(self, transform: Any = None, target_transform: Any = None) -> None:
        self.transform, self.target_transform = transform, target_transform

    def __call__(self, input: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    @staticmethod
    def _format(transform: Any, head: str) -> list[str]:
        lines = repr(transform).splitlines()
        return [f"{head}{lines[0]}"] + [f"{' ' * len(head)}{line}" for line in lines[1:]]

    def __repr__(self) -> str:
        body = [self.__class__.__name__]
        if self.transform is not None:
            body += self._format(self.transform, "Transform: ")
        if self.target_transform is not None:
            body += self._format(self.target_transform, "Target transform: ")
        return "\n".join(body)


class VisionDataset(Dataset[Any]):
    """A dataset of images below ``root`` with optional transforms.

    Args:
        root: the folder (``~`` expanded).
        transforms: a callable ``(image, target) -> (image, target)``; or instead
        transform: a callable applied to the image (a PIL image), and
        target_transform: one applied to the target.

    Raises:
        ValueError: both ``transforms`` and ``transform``/``target_transform``.

    PyTorch equivalent: ``torchvision.datasets.VisionDataset``.
    """

    _repr_indent = 4

    def __init__(self, root: Any = None, transforms: Any = None, transform: Any = None,
                 target_transform: Any = None) -> None:
        if isinstance(root, str):
            root = os.path.expanduser(root)
        self.root = root
        has_separate = transform is not None or target_transform is not None
        if transforms is not None and has_separate:
            raise ValueError("Only transforms or transform/target_transform can be passed as "
                             "argument")
        self.transform, self.target_transform = transform, target_transform
        if has_separate:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms
        self._host_cache: dict[str, tuple[Any, np.ndarray]] = {}

    def _host(self, name: str) -> np.ndarray:
        """Attribute ``name`` (a tensor, array or list, which users may replace) as a
        numpy array, converted once per object assigned."""
        value = getattr(self, name)
        cached = self._host_cache.get(name)
        if cached is None or cached[0] is not value:
            array = value.detach().numpy() if isinstance(value, Tensor) else np.asarray(value)
            cached = self._host_cache[name] = (value, array)
        return cached[1]

    def _transformed(self, image: Any, target: Any) -> tuple[Any, Any]:
        """``transform`` and ``target_transform`` as they are now: torchvision's datasets
        read the attributes at each item, so code that sets ``dataset.transform`` after
        building it (a validation split's transform) changes what comes out."""
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        body = [f"Number of datapoints: {self.__len__()}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if self.transforms is not None:
            body += [repr(self.transforms)]
        lines = [f"Dataset {self.__class__.__name__}"]
        lines += [" " * self._repr_indent + line for line in body]
        return "\n".join(lines)


def not_found(name: str, folder: Any, missing: list[str], source: str, download: bool) -> \
        RuntimeError:
    """The error for absent data files: what is missing, where, and where to get it
    (fnnet.torchvision never downloads)."""
    asked = " download=True was given, but" if download else ""
    return RuntimeError(f"Dataset not found: {name} needs {', '.join(missing)} in {folder}."
                        f"{asked} fnnet.torchvision does not download: get the files from "
                        f"{source} and put them in that folder.")


class ImageArrays(VisionDataset):
    """A dataset of images held as an array ``data`` (``[N, H, W]`` or ``[N, H, W, C]``
    uint8) with integer ``targets``, split into train and test: MNIST's and CIFAR's."""

    train: bool
    data: Any
    targets: Any

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image = Image.fromarray(self._host("data")[index])
        return self._transformed(image, int(self._host("targets")[index]))

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"
