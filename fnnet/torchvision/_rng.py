"""Random draws of the random transforms, from fnnet.torch's global PRNG.

torchvision's transforms draw with ``torch.rand``/``torch.randint`` on the global
generator, so ``torch.manual_seed`` makes an augmented epoch reproducible. One eager
draw of fnnet.torch's PRNG costs a JAX dispatch (milliseconds), too much per image, so
the draws come from a numpy generator seeded from one split of the global key; it is
seeded afresh whenever the global key has changed since (``torch.manual_seed``, or any
other draw), which keeps the transforms reproducible under a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fnnet.torch import _random


class _Draws:
    """The numpy generator and the global key it was seeded after."""

    def __init__(self) -> None:
        self.after: Any = None
        self.rng: np.random.Generator | None = None

    def generator(self) -> np.random.Generator:
        state = _random.state
        if self.rng is None or state._key is None or state._key is not self.after:
            self.rng = state.numpy_rng()  # splits, and so replaces, the global key
            self.after = state._key
        return self.rng


# The one generator of all transforms, as torchvision's share torch's global one.
_DRAWS = _Draws()


def uniform(low: float, high: float) -> float:
    """A float in ``[low, high)``, as ``torch.empty(1).uniform_(low, high).item()``."""
    return float(_DRAWS.generator().uniform(low, high))


def random() -> float:
    """A float in ``[0, 1)``, as ``torch.rand(1).item()``."""
    return float(_DRAWS.generator().random())


def randint(low: int, high: int) -> int:
    """An int in ``[low, high)``, as ``torch.randint(low, high, (1,)).item()``."""
    return int(_DRAWS.generator().integers(low, high))


def permutation(n: int) -> list[int]:
    """A random order of ``range(n)``, as ``torch.randperm(n).tolist()``."""
    return [int(i) for i in _DRAWS.generator().permutation(n)]


def normal(shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal draws of ``shape``, as ``torch.empty(shape).normal_()``."""
    return _DRAWS.generator().standard_normal(shape)


def choice(items: Sequence[Any]) -> Any:
    """One of ``items``, uniformly."""
    return items[randint(0, len(items))]
