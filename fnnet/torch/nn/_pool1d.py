"""1-D pooling (``F.max_pool1d``, ``F.avg_pool1d``, ``F.adaptive_avg_pool1d`` and their
modules) as fnnet's 2-D pooling over a height of one: ``[N, C, L]`` becomes
``[N, C, 1, L]`` with a ``(1, k)`` window, so the arithmetic is the 2-D layers'; and
adaptive max pooling (fnnet's ``adaptive_max_pool2d``)."""

from __future__ import annotations

from typing import Any

from fnnet.torch.nn import functional as F
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor, _op


def _single(value: Any, name: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a tuple of one int, got {value!r}")
        value = value[0]
    return int(value)


def _as_2d(input: Tensor, who: str) -> Tensor:
    if not isinstance(input, Tensor) or input.dim() not in (2, 3):
        got = f"shape {tuple(input.shape)}" if isinstance(input, Tensor) else \
            type(input).__name__
        raise ValueError(f"{who}: expected a 2-D or 3-D tensor ([C, L] or [N, C, L]), got "
                         f"{got}")
    return input.unsqueeze(-2)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.max_pool1d``."""
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None or stride == [] else _single(stride, "stride")
    out = F.max_pool2d(_as_2d(input, "max_pool1d"), (1, k), (1, s),
                       (0, _single(padding, "padding")), (1, _single(dilation, "dilation")),
                       ceil_mode, return_indices)
    return out.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.avg_pool1d``."""
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None or stride == [] else _single(stride, "stride")
    out = F.avg_pool2d(_as_2d(input, "avg_pool1d"), (1, k), (1, s),
                       (0, _single(padding, "padding")), ceil_mode, count_include_pad)
    return out.squeeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_avg_pool1d``."""
    size = _single(output_size, "output_size")
    return F.adaptive_avg_pool2d(_as_2d(input, "adaptive_avg_pool1d"), (1, size)).squeeze(-2)


class MaxPool1d(Module):
    """PyTorch equivalent: ``torch.nn.MaxPool1d``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        if return_indices:
            raise NotImplementedError("fnnet.torch: MaxPool1d(return_indices=True) is not "
                                      "supported; use fnnet.nn.functional.max_pool2d")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = False, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding="
                f"{self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """PyTorch equivalent: ``torch.nn.AvgPool1d``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = (_single(kernel_size, "kernel_size"),)
        self.stride = (_single(kernel_size if stride is None else stride, "stride"),)
        self.padding = (_single(padding, "padding"),)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """PyTorch equivalent: ``torch.nn.AdaptiveAvgPool1d``."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


def _adaptive_max_pool2d(x: Any, output_size: Any) -> Any:
    from fnnet.nn.functional.adaptive_max import adaptive_max_pool2d as pool

    return pool(x, output_size)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False
                        ) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool2d``."""
    if return_indices:
        raise NotImplementedError("fnnet.torch: adaptive_max_pool2d(return_indices=True) is "
                                  "not supported")
    size = tuple(output_size) if isinstance(output_size, (list, tuple)) else output_size
    return _op(_adaptive_max_pool2d, (size,), input, who="adaptive_max_pool2d")


class AdaptiveMaxPool2d(Module):
    """PyTorch equivalent: ``torch.nn.AdaptiveMaxPool2d``."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        if return_indices:
            raise NotImplementedError("fnnet.torch: AdaptiveMaxPool2d(return_indices=True) "
                                      "is not supported")
        self.output_size, self.return_indices = output_size, False

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_max_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
