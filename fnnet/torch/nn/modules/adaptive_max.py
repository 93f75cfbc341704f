"""``nn.AdaptiveMaxPool1d`` and ``nn.AdaptiveMaxPool3d``, over their functional forms."""

from __future__ import annotations

from typing import Any

from fnnet.torch.nn._adaptive_max import adaptive_max_pool1d, adaptive_max_pool3d
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor


class _AdaptiveMaxPool(Module):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """PyTorch equivalent: ``torch.nn.AdaptiveMaxPool1d``."""

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """PyTorch equivalent: ``torch.nn.AdaptiveMaxPool3d``."""

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_max_pool3d(input, self.output_size, self.return_indices)
