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
