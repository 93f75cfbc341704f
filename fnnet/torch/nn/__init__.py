"""``torch.nn`` over fnnet: modules that record calls of fnnet's pure layers."""

# ruff: noqa: F401 (re-exports, listed in __all__ below)

from __future__ import annotations

from typing import Any

from fnnet.torch.nn import functional, parallel, utils
from fnnet.torch.nn.modules import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCELoss,
    BCEWithLogitsLoss,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Identity,
    L1Loss,
    Linear,
    LogSoftmax,
    MaxPool2d,
    Module,
    ModuleList,
    MSELoss,
    NLLLoss,
    ReLU,
    Sequential,
    Sigmoid,
    SmoothL1Loss,
    Softmax,
    Tanh,
)
from fnnet.torch.nn.parallel import DataParallel
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Unsupported as _Unsupported


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise _Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.nn.{name}; write the layer as an fnnet.nn "
        f"Module (pure init/apply) or compose the supported layers")


__all__ = [name for name in dir() if not name.startswith("_")]
