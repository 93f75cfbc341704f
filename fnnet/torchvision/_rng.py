"""Random draws of the random transforms, from fnnet.torch's global generator.

torchvision's transforms draw with ``torch.rand``/``torch.randint``/``torch.randperm``
on the global generator, so ``torch.manual_seed`` makes an augmented epoch
reproducible. Each function here is one such draw, with PyTorch's numbers (see
:mod:`fnnet.torch._cpu_generator`), made on the host without a JAX dispatch per image.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fnnet.torch import _random


def uniform(low: float, high: float) -> float:
    """A float in ``[low, high)``, as ``torch.empty(1).uniform_(low, high).item()``."""
    return float(_random.state.host.uniform((1,), np.float32, low, high)[0])


def random() -> float:
    """A float in ``[0, 1)``, as ``torch.rand(1).item()``."""
    return float(_random.state.host.uniform((1,), np.float32)[0])


def randint(low: int, high: int) -> int:
    """An int in ``[low, high)``, as ``torch.randint(low, high, (1,)).item()``."""
    return int(_random.state.host.integers(low, high, (1,))[0])


def permutation(n: int) -> list[int]:
    """A random order of ``range(n)``, as ``torch.randperm(n).tolist()``."""
    return [int(i) for i in _random.state.host.permutation(n)]


def normal(shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal draws of ``shape``, as ``torch.empty(shape).normal_()``."""
    return _random.state.host.normal(shape, np.float32)


def choice(items: Sequence[Any]) -> Any:
    """One of ``items``, uniformly."""
    return items[randint(0, len(items))]
