"""``nn.Conv1d``, ``nn.Conv2d`` and ``nn.ConvTranspose2d``, computed by the fnnet layers of
those names, under PyTorch's bases ``_ConvNd`` and ``_ConvTransposeNd`` (which code tests
with ``isinstance`` to initialise every convolution)."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch._mixed_dtypes import check_conv, check_conv_transpose
from fnnet.torch.nn.modules._layer import Wrapped
from fnnet.torch.nn.modules._reset import Resettable
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor


def _check_conv_input(conv: Conv1d | Conv2d, input: Tensor, dims: int, *params: Any) -> None:
    """PyTorch's RuntimeError for an input of another element type than the weights, or of
    the wrong rank or channel count."""
    check_conv(input, *params)
    shape = list(input.shape)
    if len(shape) not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input "
                           f"to conv{dims}d, but got input of size: {shape}")
    batched = shape if len(shape) == dims + 2 else [1, *shape]
    if batched[1] != conv.in_channels:
        raise RuntimeError(f"Given groups={conv.groups}, weight of size "
                           f"{list(conv.weight.shape)}, expected input{batched} to have "
                           f"{conv.in_channels} channels, but got {batched[1]} channels instead")


class _ConvNd(Module):
    """The convolutions. PyTorch equivalent: ``torch.nn.modules.conv._ConvNd``."""


class _ConvTransposeNd(_ConvNd):
    """The transposed convolutions. PyTorch: ``torch.nn.modules.conv._ConvTransposeNd``."""


class Conv2d(Resettable, Wrapped, _ConvNd):
    """2-D convolution over ``[N, C, H, W]``. PyTorch equivalent: ``torch.nn.Conv2d``."""

    _params = ("weight", "bias")

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        fn = fnn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation,
                        groups, bias, padding_mode)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = fn.kernel_size
        self.stride = fn.stride
        self.padding = fn.padding
        self.dilation = fn.dilation
        self.groups = groups
        self.padding_mode = padding_mode
        self._wrap(fn)
        self._factory_kwargs(device, dtype)

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        _check_conv_input(self, input, 2, *rest)


class ConvTranspose2d(Resettable, Wrapped, _ConvTransposeNd):
    """Transposed 2-D convolution (learned upsampling), weight ``[in, out / groups, kH,
    kW]``. PyTorch equivalent: ``torch.nn.ConvTranspose2d``."""

    _params = ("weight", "bias")

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        fn = fnn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride, padding,
                                 output_padding, groups, bias, dilation, padding_mode)
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                     "output_padding", "dilation", "groups", "padding_mode"):
            setattr(self, name, getattr(fn, name))
        self._wrap(fn)
        self._factory_kwargs(device, dtype)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        if output_size is not None:
            raise NotImplementedError("fnnet.torch: ConvTranspose2d(output_size=...) is not "
                                      "supported; set output_padding in the constructor")
        return super().forward(input)

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        check_conv_transpose(input, *rest)


class Conv1d(Resettable, Wrapped, _ConvNd):
    """1-D convolution over ``[N, C, L]``. PyTorch equivalent: ``torch.nn.Conv1d``."""

    _params = ("weight", "bias")

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        fn = fnn.Conv1d(in_channels, out_channels, kernel_size, stride, padding, dilation,
                        groups, bias, padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = fn.kernel_size, fn.stride, fn.padding
        self.dilation, self.groups, self.padding_mode = fn.dilation, groups, padding_mode
        self._wrap(fn)
        self._factory_kwargs(device, dtype)

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        _check_conv_input(self, input, 1, *rest)
