"""Flatten, Dropout and BatchNorm modules, computed by the fnnet layers of those names."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch.nn._channel_dropout import check_p
from fnnet.torch.nn.modules._layer import Wrapped
from fnnet.torch.nn.modules._reset import ResettableNorm


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


class _BatchNorm(ResettableNorm, Wrapped):
    _params = ("weight", "bias")
    _state = ("running_mean", "running_var", "num_batches_tracked")
    _fnnet: Any = None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self._wrap(self._fnnet(num_features, eps, momentum, affine, track_running_stats,
                               bias=bias))
        self._factory_kwargs(device, dtype)


class BatchNorm1d(_BatchNorm):
    """Running statistics are buffers updated by each training step.

    PyTorch equivalent: ``torch.nn.BatchNorm1d``.
    """

    _fnnet = fnn.BatchNorm1d


class BatchNorm2d(_BatchNorm):
    """PyTorch equivalent: ``torch.nn.BatchNorm2d``."""

    _fnnet = fnn.BatchNorm2d
