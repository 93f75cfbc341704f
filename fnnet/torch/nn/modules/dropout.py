"""``nn.Dropout1d``, ``nn.Dropout2d`` and ``nn.Dropout3d``: whole feature maps zeroed by
``F.dropout1d/2d/3d``; ``nn.AlphaDropout`` and ``nn.FeatureAlphaDropout`` by
``F.alpha_dropout``/``F.feature_alpha_dropout``."""

from __future__ import annotations

from typing import Any

from fnnet.torch.nn._channel_dropout import (
    alpha_dropout,
    check_p,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor


class _DropoutNd(Module):
    _function: Any = None

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p, self.inplace = check_p(p), inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._function(input, self.p, self.training)  # type: ignore[no-any-return]

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """PyTorch equivalent: ``torch.nn.Dropout1d``."""

    _function = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """PyTorch equivalent: ``torch.nn.Dropout2d``."""

    _function = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """PyTorch equivalent: ``torch.nn.Dropout3d``."""

    _function = staticmethod(dropout3d)


class AlphaDropout(_DropoutNd):
    """PyTorch equivalent: ``torch.nn.AlphaDropout``."""

    _function = staticmethod(alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """PyTorch equivalent: ``torch.nn.FeatureAlphaDropout``."""

    _function = staticmethod(feature_alpha_dropout)
