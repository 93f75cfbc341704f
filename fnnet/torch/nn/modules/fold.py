"""``nn.Unfold`` and ``nn.Fold``, computed by ``F.unfold`` / ``F.fold``."""

from __future__ import annotations

from typing import Any

from fnnet.torch.nn import _fold
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor


class Unfold(Module):
    """Every sliding block as a column. PyTorch equivalent: ``torch.nn.Unfold``."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = \
            kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return _fold.unfold(input, self.kernel_size, self.dilation, self.padding,
                            self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns summed back into an image. PyTorch equivalent: ``torch.nn.Fold``."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1,
                 padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return _fold.fold(input, self.output_size, self.kernel_size, self.dilation,
                          self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
