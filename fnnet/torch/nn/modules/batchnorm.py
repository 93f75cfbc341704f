"""BatchNorm modules (``torch.nn.modules.batchnorm``), computed by the fnnet layers of
those names, and ``_NormBase``, the base PyTorch gives them and the instance norms, which
code tests with ``isinstance`` (to freeze every normalisation layer, say)."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch.nn import functional as F
from fnnet.torch.nn.modules._layer import Wrapped, check_rank
from fnnet.torch.nn.modules._reset import ResettableNorm
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor


class _NormBase(Module):
    """The normalisation layers with running statistics: BatchNorm and InstanceNorm.

    PyTorch equivalent: ``torch.nn.modules.batchnorm._NormBase``.
    """

    _version = 2  # num_batches_tracked in the state


class _BatchNorm(ResettableNorm, Wrapped, _NormBase):
    _params = ("weight", "bias")
    _state = ("running_mean", "running_var", "num_batches_tracked")
    _counted = ("num_batches_tracked",)  # its running statistics are written by the kernel
    _fnnet: Any = None
    _ranks: tuple[int, ...] = ()  # the input ranks the layer takes (any, where empty)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self._wrap(self._fnnet(num_features, eps, momentum, affine, track_running_stats,
                               bias=bias))
        self._factory_kwargs(device, dtype)

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        check_rank(input, self._ranks)
        # batch statistics: in training, or always without running ones
        running = getattr(self, "running_mean", None)
        if self.training or running is None:
            F._verify_batch_size(input.size())
        channels = input.shape[1] if input.dim() > 1 else None
        if channels is not None and channels != self.num_features:
            name = "running_mean" if running is not None else "weight" if self.affine else None
            if name is not None:
                raise RuntimeError(f"{name} should contain {channels} elements not "
                                   f"{self.num_features}")


class BatchNorm1d(_BatchNorm):
    """Running statistics are buffers updated by each training step.

    PyTorch equivalent: ``torch.nn.BatchNorm1d``.
    """

    _fnnet = fnn.BatchNorm1d
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """PyTorch equivalent: ``torch.nn.BatchNorm2d``."""

    _fnnet = fnn.BatchNorm2d
    _ranks = (4,)
