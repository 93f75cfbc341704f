"""``nn.Conv1d``, ``nn.Conv2d`` and ``nn.ConvTranspose2d``, computed by the fnnet layers of
those names, under PyTorch's bases ``_ConvNd`` and ``_ConvTransposeNd`` (which code tests
with ``isinstance`` to initialise every convolution)."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch._conv_transpose_checks import check_conv_transpose_shapes
from fnnet.torch._mixed_dtypes import check_conv, check_conv_transpose
from fnnet.torch.nn import functional as F
from fnnet.torch.nn._conv_checks import check_conv_input
from fnnet.torch.nn.modules._layer import Wrapped
from fnnet.torch.nn.modules._reset import FanInResettable
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor


def _check_conv_input(conv: Conv1d | Conv2d, input: Tensor, dims: int, *params: Any) -> None:
    """PyTorch's RuntimeError for an input of another element type than the weights, or of
    the wrong rank or channel count, or narrower than the kernel."""
    check_conv(input, *params)
    check_conv_input(input, conv.weight, conv.groups, conv.padding, conv.dilation, dims)


def check_conv_arguments(in_channels: int, out_channels: int, groups: int, padding: Any,
                         stride: Any, padding_mode: str) -> None:
    """PyTorch's ValueErrors, in its order and words, for the arguments every convolution
    checks when it is built (fnnet's layers word theirs for fnnet's users)."""
    if isinstance(groups, int) and groups <= 0:
        raise ValueError("groups must be a positive integer")
    if isinstance(groups, int) and groups > 0:
        for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(channels, int) and channels % groups:
                raise ValueError(f"{name} must be divisible by groups")
    if isinstance(padding, str):
        valid_padding_strings = {"same", "valid"}  # a set, printed as PyTorch prints its own
        if padding not in valid_padding_strings:
            raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                             f"{valid_padding_strings}")
        strides = stride if isinstance(stride, (tuple, list)) else (stride,)
        if padding == "same" and any(s != 1 for s in strides):
            raise ValueError("padding='same' is not supported for strided convolutions")
    valid_padding_modes = {"zeros", "reflect", "replicate", "circular"}
    if padding_mode not in valid_padding_modes:
        raise ValueError(f"padding_mode must be one of {valid_padding_modes}, but got "
                         f"padding_mode='{padding_mode}'")


class _ConvNd(Module):
    """The convolutions. PyTorch equivalent: ``torch.nn.modules.conv._ConvNd``."""

    #: PyTorch's attributes of every convolution (a transposed one sets its own padding)
    transposed = False
    output_padding: tuple[int, ...] = ()


def transposed_layer(module: Module, make: Any, in_channels: int, out_channels: int,
                     kernel_size: Any, stride: Any, padding: Any, output_padding: Any,
                     groups: int, bias: bool, dilation: Any, padding_mode: str) -> Any:
    """fnnet's transposed convolution ``make(...)`` for ``module``, after PyTorch's
    ValueErrors for its arguments. An output padding that fnnet's layer refuses when
    built (not below the stride or the dilation, or negative) is PyTorch's error when the
    module is called: the layer is built without it and then holds it, for the module's
    repr and the check at the call."""
    if padding_mode != "zeros":
        raise ValueError(f'Only "zeros" padding mode is supported for '
                         f"{type(module).__name__}")
    check_conv_arguments(in_channels, out_channels, groups, 0 if isinstance(padding, str)
                         else padding, stride, padding_mode)
    try:
        return make(in_channels, out_channels, kernel_size, stride, padding, output_padding,
                    groups, bias, dilation, padding_mode)
    except ValueError:
        fn = make(in_channels, out_channels, kernel_size, stride, padding, 0, groups, bias,
                  dilation, padding_mode)  # raises where something else is wrong
    dims = len(fn.kernel_size)
    fn.output_padding = tuple(output_padding) if isinstance(output_padding, (tuple, list)) \
        else (output_padding,) * dims
    return fn


class _ConvTransposeNd(_ConvNd):
    """The transposed convolutions. PyTorch: ``torch.nn.modules.conv._ConvTransposeNd``."""

    transposed = True

    def _check_transposed_input(self, input: Tensor, *rest: Any) -> None:
        """PyTorch's errors for an input of the wrong shape or element type."""
        check_conv_transpose_shapes(input, rest[0], rest[1], self.stride, self.padding,
                                    self.output_padding, self.groups, self.dilation)
        check_conv_transpose(input, *rest)

    def _output_padding(self, input: Tensor, output_size: Any) -> list[int]:
        """PyTorch's ``_output_padding``: the padding giving ``output_size`` (the spatial
        sizes, or the whole shape), which must lie within one stride of the smallest."""
        spatial = len(self.kernel_size)
        leading = input.dim() - spatial
        if len(output_size) == leading + spatial:
            output_size = output_size[leading:]
        if len(output_size) != spatial:
            raise ValueError(f"ConvTranspose{spatial}D: for {input.dim()}D input, output_size "
                             f"must have {spatial} or {leading + spatial} elements (got "
                             f"{len(output_size)})")
        low = [(input.shape[leading + d] - 1) * self.stride[d] - 2 * self.padding[d] +
               self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(spatial)]
        high = [size + self.stride[d] - 1 for d, size in enumerate(low)]
        if any(not lo <= int(size) <= hi for size, lo, hi in zip(output_size, low, high,
                                                                strict=True)):
            raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                             f"range from {low} to {high} (for an input of "
                             f"{input.shape[leading:]})")
        return [int(size) - lo for size, lo in zip(output_size, low, strict=True)]


class Conv2d(FanInResettable, Wrapped, _ConvNd):
    """2-D convolution over ``[N, C, H, W]``. PyTorch equivalent: ``torch.nn.Conv2d``."""

    _params = ("weight", "bias")
    output_padding = (0, 0)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        check_conv_arguments(in_channels, out_channels, groups, padding, stride,
                             padding_mode)
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


class ConvTranspose2d(FanInResettable, Wrapped, _ConvTransposeNd):
    """Transposed 2-D convolution (learned upsampling), weight ``[in, out / groups, kH,
    kW]``. PyTorch equivalent: ``torch.nn.ConvTranspose2d``."""

    _params = ("weight", "bias")

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        fn = transposed_layer(self, fnn.ConvTranspose2d, in_channels, out_channels, kernel_size,
                              stride, padding, output_padding, groups, bias, dilation,
                              padding_mode)
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                     "output_padding", "dilation", "groups", "padding_mode"):
            setattr(self, name, getattr(fn, name))
        self._wrap(fn)
        self._factory_kwargs(device, dtype)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        """``input [N, C_in, H, W]`` (or unbatched) upsampled; ``output_size`` picks the
        output's height and width among those the stride allows (PyTorch's output
        padding for this call)."""
        if output_size is None or not isinstance(input, Tensor):
            return super().forward(input)  # (which refuses a non-tensor)
        padding = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  padding, self.groups, self.dilation)

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        self._check_transposed_input(input, *rest)


class Conv1d(FanInResettable, Wrapped, _ConvNd):
    """1-D convolution over ``[N, C, L]``. PyTorch equivalent: ``torch.nn.Conv1d``."""

    _params = ("weight", "bias")
    output_padding = (0,)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        check_conv_arguments(in_channels, out_channels, groups, padding, stride,
                             padding_mode)
        fn = fnn.Conv1d(in_channels, out_channels, kernel_size, stride, padding, dilation,
                        groups, bias, padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = fn.kernel_size, fn.stride, fn.padding
        self.dilation, self.groups, self.padding_mode = fn.dilation, groups, padding_mode
        self._wrap(fn)
        self._factory_kwargs(device, dtype)

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        _check_conv_input(self, input, 1, *rest)
