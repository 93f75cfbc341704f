"""What the corpus's programs share so that both backends start from the same state:
weights and data from numpy, seeded by name (PyTorch's and fnnet's PRNGs differ).

A program calls ``fixed_init(model)`` where a course would rely on ``manual_seed``;
everything else in the programs is plain PyTorch.
"""

from __future__ import annotations

import math
import zlib

import numpy as np


def fixed_init(model, seed: int = 0):
    """Overwrites every parameter with ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` values
    drawn by numpy from ``seed`` and the parameter's name (PyTorch's default bound)."""
    import torch

    with torch.no_grad():
        for name, p in model.named_parameters():
            shape = tuple(p.shape)
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else (shape[0] if shape else 1)
            bound = 1.0 / math.sqrt(fan_in)
            rng = np.random.default_rng(seed + zlib.crc32(name.encode()))
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, shape).astype(np.float32)))
    return model


def normal(*shape: int, seed: int = 0) -> np.ndarray:
    """Standard normal float32 samples."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def labels(n: int, classes: int, seed: int = 0) -> np.ndarray:
    """Integer class labels (int64, as PyTorch's)."""
    return np.random.default_rng(seed).integers(0, classes, n).astype(np.int64)


def mnist_dir():
    """The folder of the real MNIST test set (IDX files): ``$FNNET_MNIST_DIR``, else
    ``shared/data/mnist`` beside the repository, as the test suite's ``mnist_dir``."""
    import os
    import pathlib

    default = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
    return pathlib.Path(os.environ.get("FNNET_MNIST_DIR", default))


def mnist(n: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` real MNIST digits from ``offset`` on: images float32 ``[n, 1, 28, 28]`` in
    [0, 1] and labels int64 ``[n]``, read from the IDX files in ``mnist_dir()``."""
    import gzip

    folder = mnist_dir()
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz") as f:
        digits = np.frombuffer(f.read(), np.uint8, offset=8)
    window = slice(offset, offset + n)
    return (images[window].astype(np.float32) / 255.0, digits[window].astype(np.int64))
