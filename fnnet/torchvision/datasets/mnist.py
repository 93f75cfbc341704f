"""MNIST, Fashion-MNIST and Kuzushiji-MNIST in torchvision's folder layout:
``<root>/<ClassName>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``, read by
:func:`fnnet.data.read_idx`."""

from __future__ import annotations

import os
import pathlib
import warnings
from typing import Any

import numpy as np

import fnnet.torch as torch
from fnnet.data.idx import IMAGE_MAGIC, LABEL_MAGIC, idx_file_names, read_idx
from fnnet.torchvision.datasets._vision import ImageArrays, not_found


class MNIST(ImageArrays):
    """The MNIST digits: 60,000 training and 10,000 test images, 28x28 grey.

    Items are ``(PIL image of mode "L", int label)`` before the transforms; ``data`` is
    a ``[N, 28, 28]`` uint8 tensor and ``targets`` an int64 tensor, as torchvision's.

    Args:
        root: the folder holding ``MNIST/raw/`` (the IDX files, ``.gz`` or not), or
            older torchvision's ``MNIST/processed/training.pt`` and ``test.pt``.
        train: the training files (``train-*``) or the test files (``t10k-*``).
        transform: applied to each PIL image (e.g. ``transforms.ToTensor()``).
        target_transform: applied to each label.
        download: accepted; nothing is downloaded (no network is assumed): absent files
            raise the error below either way.

    Raises:
        RuntimeError: the files are not in ``<root>/MNIST/raw``; the message names them,
            the folder and where to download them.
        ValueError: a corrupt file (see :func:`fnnet.data.read_idx`).

    PyTorch equivalent: ``torchvision.datasets.MNIST``.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: str | os.PathLike[str], train: bool = True,
                 transform: Any = None, target_transform: Any = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        images, labels = self._load(download)
        self.data = torch.from_numpy(images)
        self.targets = torch.from_numpy(labels.astype(np.int64))

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def _load(self, download: bool) -> tuple[np.ndarray, np.ndarray]:
        folder = pathlib.Path(self.raw_folder)
        split = "train" if self.train else "test"
        legacy = pathlib.Path(self.processed_folder) / \
            ("training.pt" if self.train else "test.pt")
        if legacy.is_file():  # what torchvision before 0.9 wrote: (data, targets)
            data, targets = torch.load(legacy, weights_only=True)
            return np.asarray(data.numpy(), np.uint8), np.asarray(targets.numpy())
        found, missing = [], []
        for what in ("images", "labels"):
            names = idx_file_names(split, what)
            path = next((folder / n for n in names if (folder / n).is_file()), None)
            found.append(path)
            if path is None:
                missing.append(f"{names[0]} (or {names[1]})")
        if missing:
            raise not_found(self.__class__.__name__, folder, missing, self.mirrors[0],
                            download)
        image_path, label_path = (p for p in found if p is not None)
        images = read_idx(image_path, magic=IMAGE_MAGIC, what="image")
        labels = read_idx(label_path, magic=LABEL_MAGIC, what="label")
        if len(images) != len(labels):
            raise ValueError(f"{label_path}: {len(labels)} labels, but {image_path} holds "
                             f"{len(images)} images")
        return images, labels

    def _renamed(self, old: str, new: str) -> Any:
        warnings.warn(f"{old} has been renamed {new}", stacklevel=3)
        return getattr(self, new)

    @property
    def train_labels(self) -> Any:
        return self._renamed("train_labels", "targets")

    @property
    def test_labels(self) -> Any:
        return self._renamed("test_labels", "targets")

    @property
    def train_data(self) -> Any:
        return self._renamed("train_data", "data")

    @property
    def test_data(self) -> Any:
        return self._renamed("test_data", "data")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format, ten kinds of clothing, in
    ``<root>/FashionMNIST/raw``. See :class:`MNIST`.

    PyTorch equivalent: ``torchvision.datasets.FashionMNIST``.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: MNIST's format, ten cursive Japanese characters, in
    ``<root>/KMNIST/raw``. See :class:`MNIST`.

    PyTorch equivalent: ``torchvision.datasets.KMNIST``.
    """

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
