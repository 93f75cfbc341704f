"""Pooling modules, computed by ``fnnet.nn``'s pooling layers."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch.nn.modules._layer import Wrapped


class MaxPool2d(Wrapped):
    """PyTorch equivalent: ``torch.nn.MaxPool2d``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        if return_indices:
            raise NotImplementedError("fnnet.torch: MaxPool2d(return_indices=True) is not "
                                      "supported; use fnnet.nn.functional.max_pool2d")
        fn = fnn.MaxPool2d(kernel_size, stride, padding, dilation, return_indices, ceil_mode)
        self.kernel_size, self.stride, self.padding = fn.kernel_size, fn.stride, fn.padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, False, ceil_mode
        self._wrap(fn)


class AvgPool2d(Wrapped):
    """PyTorch equivalent: ``torch.nn.AvgPool2d``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: Any = None) -> None:
        super().__init__()
        fn = fnn.AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad,
                           divisor_override)
        self.kernel_size, self.stride, self.padding = fn.kernel_size, fn.stride, fn.padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override
        self._wrap(fn)


class AdaptiveAvgPool2d(Wrapped):
    """PyTorch equivalent: ``torch.nn.AdaptiveAvgPool2d``."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size
        self._wrap(fnn.AdaptiveAvgPool2d(output_size))
