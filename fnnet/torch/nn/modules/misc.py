"""Flatten and Dropout modules, computed by the fnnet layers of those names."""

from __future__ import annotations

import fnnet.nn as fnn
from fnnet.torch.nn._channel_dropout import check_dropped, check_p
from fnnet.torch.nn.modules._layer import Wrapped
from fnnet.torch.tensor import Tensor


class Flatten(Wrapped):
    """PyTorch equivalent: ``torch.nn.Flatten``."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim
        self._wrap(fnn.Flatten(start_dim, end_dim))


class Dropout(Wrapped):
    """Drops with probability ``p`` in training mode; the key comes from the step's key.

    PyTorch equivalent: ``torch.nn.Dropout``.
    """

    _random = True

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        check_p(p)
        self.p, self.inplace = p, inplace
        self._wrap(fnn.Dropout(p, inplace))

    def forward(self, input: Tensor) -> Tensor:
        if isinstance(input, Tensor) and (not self.training or self.p == 0):
            return input  # PyTorch's dropout gives back its input itself here
        if isinstance(input, Tensor):
            check_dropped(input, self.p)
        return super().forward(input)
