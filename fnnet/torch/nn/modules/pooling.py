"""Pooling modules, computed by ``fnnet.nn``'s pooling layers (the 1-D ones and adaptive max
pooling by their functional forms)."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch.nn import functional as F
from fnnet.torch.nn._pool1d import single
from fnnet.torch.nn.modules._layer import Wrapped
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor


class MaxPool2d(Wrapped):
    """PyTorch equivalent: ``torch.nn.MaxPool2d``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        fn = fnn.MaxPool2d(kernel_size, stride, padding, dilation, False, ceil_mode)
        self.kernel_size, self.stride, self.padding = fn.kernel_size, fn.stride, fn.padding
        self.dilation, self.ceil_mode = dilation, ceil_mode
        self._wrap(fn)
        # not the wrapped layer's: with indices the call is F.max_pool2d's
        object.__setattr__(self, "return_indices", bool(return_indices))

    def forward(self, input: Tensor) -> Any:
        if self.return_indices:
            return F.max_pool2d(input, self.kernel_size, self.stride, self.padding,
                                self.dilation, self.ceil_mode, return_indices=True)
        return super().forward(input)

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        F._check_pool_size(input, self.kernel_size, self.stride, self.padding, self.dilation,
                           self.ceil_mode)


class _MaxUnpoolNd(Module):
    """``MaxUnpool1d/2d/3d``: ``_function`` over the last ``_dims`` axes."""

    _dims = 1
    _function: Any = None

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()

        def per_axis(value: Any) -> tuple[int, ...]:
            return (int(value),) * self._dims if isinstance(value, int) else \
                tuple(int(v) for v in value)

        self.kernel_size = per_axis(kernel_size)
        self.stride = per_axis(kernel_size if stride is None else stride)
        self.padding = per_axis(padding)

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return type(self)._function(input, indices, self.kernel_size,  # type: ignore[no-any-return]
                                    self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpoolNd):
    """PyTorch equivalent: ``torch.nn.MaxUnpool2d``."""

    _dims = 2
    _function = staticmethod(F.max_unpool2d)


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

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        F._check_pool_size(input, self.kernel_size, self.stride, self.padding, 1,
                           self.ceil_mode, avg=True)


class AdaptiveAvgPool2d(Wrapped):
    """PyTorch equivalent: ``torch.nn.AdaptiveAvgPool2d``."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size
        self._wrap(fnn.AdaptiveAvgPool2d(output_size))

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        F._check_adaptive_pool2d("adaptive_avg_pool2d", input, self.output_size)


class MaxPool1d(Module):
    """PyTorch equivalent: ``torch.nn.MaxPool1d``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding="
                f"{self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """PyTorch equivalent: ``torch.nn.AvgPool1d``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = (single(kernel_size, "kernel_size"),)
        self.stride = (single(kernel_size if stride is None else stride, "stride"),)
        self.padding = (single(padding, "padding"),)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """PyTorch equivalent: ``torch.nn.AdaptiveAvgPool1d``."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """PyTorch equivalent: ``torch.nn.AdaptiveMaxPool2d``."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
