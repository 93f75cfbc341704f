"""CIFAR-10 and CIFAR-100 in torchvision's layout (the extracted python archives,
``<root>/cifar-10-batches-py/`` and ``<root>/cifar-100-python/``), read by
:func:`fnnet.data.cifar.read_batch`'s restricted unpickler."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import numpy as np

from fnnet.data.cifar import read_batch
from fnnet.torchvision.datasets._vision import ImageArrays, not_found

_CIFAR100_CLASSES = [
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
    "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
    "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
    "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest",
    "fox", "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower",
    "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
    "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear",
    "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum", "rabbit",
    "raccoon", "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk",
    "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar", "sunflower",
    "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor", "train",
    "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm"]


class CIFAR10(ImageArrays):
    """CIFAR-10: 50,000 training and 10,000 test colour images, 32x32, ten classes.

    Items are ``(PIL RGB image, int label)`` before the transforms; ``data`` is a
    ``[N, 32, 32, 3]`` uint8 numpy array and ``targets`` a list of ints, as
    torchvision's.

    Args:
        root: the folder holding ``cifar-10-batches-py/`` (``data_batch_1`` ...
            ``data_batch_5``, ``test_batch``).
        train: the five training batches, or the test batch.
        transform: applied to each PIL image.
        target_transform: applied to each label.
        download: accepted; nothing is downloaded: absent files raise either way.

    Raises:
        RuntimeError: batch files absent; the message names them, the folder and the
            archive to download.
        ValueError: a malformed batch file (see :func:`fnnet.data.cifar.read_batch`).

    PyTorch equivalent: ``torchvision.datasets.CIFAR10``.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    train_list = [f"data_batch_{i}" for i in range(1, 6)]
    test_list = ["test_batch"]
    labels_key = b"labels"
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck"]

    def __init__(self, root: str | os.PathLike[str], train: bool = True,
                 transform: Any = None, target_transform: Any = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        folder = pathlib.Path(self.root) / self.base_folder
        names = self.train_list if train else self.test_list
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            raise not_found(self.__class__.__name__, folder, missing,
                            f"{self.url} (extract it in {self.root})", download)
        parts = [read_batch(folder / n, labels_key=self.labels_key,
                            num_classes=len(self.classes)) for n in names]
        # torchvision keeps the images channels-last, as PIL wants them
        self.data = np.concatenate([p[0] for p in parts]).transpose(0, 2, 3, 1)
        self.targets = [int(t) for p in parts for t in p[1]]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}


class CIFAR100(CIFAR10):
    """CIFAR-100: CIFAR-10's images and format with 100 fine classes, in
    ``<root>/cifar-100-python/{train,test}``. See :class:`CIFAR10`.

    PyTorch equivalent: ``torchvision.datasets.CIFAR100``.
    """

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    train_list = ["train"]
    test_list = ["test"]
    labels_key = b"fine_labels"
    classes = _CIFAR100_CLASSES
