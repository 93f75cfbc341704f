"""SVHN (Street View House Numbers) from its MATLAB files in ``root``, as torchvision
keeps them: ``train_32x32.mat``, ``test_32x32.mat``, ``extra_32x32.mat``."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import numpy as np
from PIL import Image

from fnnet.torchvision.datasets._vision import VisionDataset, not_found

_FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat", "extra": "extra_32x32.mat"}


class SVHN(VisionDataset):
    """SVHN digits: 32x32 colour crops, labels 0-9 (the files' label 10 is digit 0).

    Items are ``(PIL RGB image, int label)``; ``data`` is ``[N, 3, 32, 32]`` uint8 and
    ``labels`` ``[N]`` int64, numpy arrays as in torchvision.

    Args:
        root: the folder holding ``<split>_32x32.mat``.
        split: ``"train"``, ``"test"`` or ``"extra"``.
        transform: applied to each image (a PIL image).
        target_transform: applied to each label.
        download: accepted; nothing is downloaded.

    Raises:
        ValueError: an unknown split.
        RuntimeError: the file is absent; the message names it and its URL.

    PyTorch equivalent: ``torchvision.datasets.SVHN``.
    """

    url = "http://ufldl.stanford.edu/housenumbers/"

    def __init__(self, root: str | os.PathLike[str], split: str = "train",
                 transform: Any = None, target_transform: Any = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        if split not in _FILES:
            raise ValueError(f'Unknown value \'{split}\' for argument split. Valid values are '
                             f'{{{", ".join(repr(s) for s in _FILES)}}}.')
        self.split = split
        path = pathlib.Path(self.root) / _FILES[split]
        if not path.is_file():
            raise not_found("SVHN", self.root, [_FILES[split]], self.url + _FILES[split],
                            download)
        # (scipy comes with scikit-learn; MATLAB files hold arrays only: nothing runs)
        from scipy import io  # type: ignore[import-untyped]

        mat = io.loadmat(path)
        # the file stores [32, 32, 3, N] images and labels 1..10, 10 for the digit 0
        self.data = np.transpose(mat["X"], (3, 2, 0, 1))
        labels = mat["y"].astype(np.int64).squeeze()
        np.place(labels, labels == 10, 0)
        self.labels = labels

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image = Image.fromarray(np.transpose(self._host("data")[index], (1, 2, 0)))
        return self._transformed(image, int(self._host("labels")[index]))

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {self.split}"
