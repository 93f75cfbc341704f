"""Activation modules, computed by ``fnnet.nn``'s activation layers."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch.nn import functional as F
from fnnet.torch.nn.modules._layer import Wrapped
from fnnet.torch.tensor import Tensor


class _InPlace(Wrapped):
    """An activation module whose ``inplace=True`` writes its result into its input, as
    PyTorch's does (the input's version counter counts the write)."""

    inplace: bool

    def forward(self, input: Tensor) -> Tensor:
        out = super().forward(input)
        return input._inplace(out) if self.inplace else out


class ReLU(_InPlace):
    """PyTorch equivalent: ``torch.nn.ReLU``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace
        self._wrap(fnn.ReLU(inplace))


class Sigmoid(Wrapped):
    """PyTorch equivalent: ``torch.nn.Sigmoid``."""

    def __init__(self) -> None:
        super().__init__()
        self._wrap(fnn.Sigmoid())


class Tanh(Wrapped):
    """PyTorch equivalent: ``torch.nn.Tanh``."""

    def __init__(self) -> None:
        super().__init__()
        self._wrap(fnn.Tanh())


class Softmax(Wrapped):
    """PyTorch equivalent: ``torch.nn.Softmax``."""

    def __init__(self, dim: Any = None) -> None:
        super().__init__()
        self.dim = dim
        self._wrap(fnn.Softmax(dim))

    def forward(self, input: Tensor) -> Tensor:
        if self.dim is None:  # PyTorch's deprecated implicit dimension, with its warning
            return F.softmax(input, None, _stacklevel=4)
        return super().forward(input)


class LogSoftmax(Wrapped):
    """PyTorch equivalent: ``torch.nn.LogSoftmax``."""

    def __init__(self, dim: Any = None) -> None:
        super().__init__()
        self.dim = dim
        self._wrap(fnn.LogSoftmax(dim))

    def forward(self, input: Tensor) -> Tensor:
        if self.dim is None:  # PyTorch's deprecated implicit dimension, with its warning
            return F.log_softmax(input, None, _stacklevel=4)
        return super().forward(input)


class LeakyReLU(_InPlace):
    """PyTorch equivalent: ``torch.nn.LeakyReLU``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace
        self._wrap(fnn.LeakyReLU(negative_slope, inplace))


class GELU(Wrapped):
    """PyTorch equivalent: ``torch.nn.GELU``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate
        self._wrap(fnn.GELU(approximate))


def __getattr__(name: str) -> Any:
    # PyTorch defines MultiheadAttention here (fnnet.torch beside the Transformer layers,
    # which import this module's neighbours)
    if name == "MultiheadAttention":
        from fnnet.torch.nn.modules.transformer import MultiheadAttention

        return MultiheadAttention
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
