"""``nn.Conv3d``, ``nn.ConvTranspose1d``/``3d``, ``nn.BatchNorm3d`` and the 3-D pools,
each computed by the fnnet layer of that name (see :mod:`fnnet.nn.volumetric`), and the
3-D forms of the instance norm and the paddings."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch._mixed_dtypes import check_conv
from fnnet.torch.nn import functional as F
from fnnet.torch.nn.modules._layer import Wrapped
from fnnet.torch.nn.modules._reset import FanInResettable
from fnnet.torch.nn.modules.batchnorm import _BatchNorm
from fnnet.torch.nn.modules.conv import _ConvNd, _ConvTransposeNd, transposed_layer
from fnnet.torch.nn.modules.instancenorm import _InstanceNorm
from fnnet.torch.nn.modules.reshaping import (
    ConstantPad1d,
    ReflectionPad1d,
    ReplicationPad1d,
    ZeroPad1d,
)
from fnnet.torch.tensor import Tensor

_CONV_SETTINGS = ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                  "dilation", "groups", "padding_mode")


class Conv3d(FanInResettable, Wrapped, _ConvNd):
    """3-D convolution over ``[N, C, D, H, W]``. PyTorch equivalent: ``torch.nn.Conv3d``."""

    _params = ("weight", "bias")
    output_padding = (0, 0, 0)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        fn = fnn.Conv3d(in_channels, out_channels, kernel_size, stride, padding, dilation,
                        groups, bias, padding_mode)
        for name in _CONV_SETTINGS:
            setattr(self, name, getattr(fn, name))
        self._wrap(fn)
        self._factory_kwargs(device, dtype)

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        check_conv(input, *rest)
        shape = list(input.shape)
        if len(shape) not in (4, 5):
            raise RuntimeError(f"Expected 4D (unbatched) or 5D (batched) input to conv3d, but "
                               f"got input of size: {shape}")
        batched = shape if len(shape) == 5 else [1, *shape]
        if batched[1] != self.in_channels:
            raise RuntimeError(f"Given groups={self.groups}, weight of size "
                               f"{list(rest[0].shape)}, expected input{batched} to have "
                               f"{self.in_channels} channels, but got {batched[1]} channels "
                               f"instead")


class _ConvTranspose(FanInResettable, Wrapped, _ConvTransposeNd):
    _params = ("weight", "bias")
    _fnnet: Any = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        fn = transposed_layer(self, self._fnnet, in_channels, out_channels, kernel_size, stride,
                              padding, output_padding, groups, bias, dilation, padding_mode)
        for name in (*_CONV_SETTINGS, "output_padding"):
            setattr(self, name, getattr(fn, name))
        self._wrap(fn)
        self._factory_kwargs(device, dtype)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        """``input`` upsampled; ``output_size`` picks the output's spatial sizes among
        those the stride allows (PyTorch's output padding for this call)."""
        if output_size is None or not isinstance(input, Tensor):
            return super().forward(input)  # (which refuses a non-tensor)
        padding = self._output_padding(input, output_size)
        transpose = F.conv_transpose1d if len(self.kernel_size) == 1 else F.conv_transpose3d
        return transpose(input, self.weight, self.bias, self.stride, self.padding, padding,
                         self.groups, self.dilation)

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        self._check_transposed_input(input, *rest)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution (learned upsampling of ``[N, C, L]``), weight ``[in, out
    / groups, K]``. PyTorch equivalent: ``torch.nn.ConvTranspose1d``."""

    _fnnet = fnn.ConvTranspose1d


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-D convolution, weight ``[in, out / groups, kD, kH, kW]``.

    PyTorch equivalent: ``torch.nn.ConvTranspose3d``."""

    _fnnet = fnn.ConvTranspose3d


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of ``[N, C, D, H, W]``; running statistics are buffers.

    PyTorch equivalent: ``torch.nn.BatchNorm3d``.
    """

    _fnnet = fnn.BatchNorm3d
    _ranks = (5,)


class MaxPool3d(Wrapped):
    """PyTorch equivalent: ``torch.nn.MaxPool3d``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        fn = fnn.MaxPool3d(kernel_size, stride, padding, dilation, False, ceil_mode)
        self.kernel_size, self.stride, self.padding = fn.kernel_size, fn.stride, fn.padding
        self.dilation, self.ceil_mode = dilation, ceil_mode
        self._wrap(fn)
        # not the wrapped layer's: with indices the call is F.max_pool3d's
        object.__setattr__(self, "return_indices", bool(return_indices))

    def forward(self, input: Tensor) -> Any:
        if self.return_indices:
            from fnnet.torch.nn._volumetric import max_pool3d

            return max_pool3d(input, self.kernel_size, self.stride, self.padding,
                              self.dilation, self.ceil_mode, return_indices=True)
        return super().forward(input)


class AvgPool3d(Wrapped):
    """PyTorch equivalent: ``torch.nn.AvgPool3d``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        fn = fnn.AvgPool3d(kernel_size, stride, padding, ceil_mode, count_include_pad,
                           divisor_override)
        self.kernel_size, self.stride, self.padding = fn.kernel_size, fn.stride, fn.padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override
        self._wrap(fn)


class AdaptiveAvgPool3d(Wrapped):
    """PyTorch equivalent: ``torch.nn.AdaptiveAvgPool3d``."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size
        self._wrap(fnn.AdaptiveAvgPool3d(output_size))


class InstanceNorm3d(_InstanceNorm):
    """PyTorch equivalent: ``torch.nn.InstanceNorm3d`` (``[N, C, D, H, W]`` or
    ``[C, D, H, W]``)."""

    _spatial = 3


class ConstantPad3d(ConstantPad1d):
    """PyTorch equivalent: ``torch.nn.ConstantPad3d``."""

    _dims = 3


class ZeroPad3d(ZeroPad1d):
    """PyTorch equivalent: ``torch.nn.ZeroPad3d``."""

    _dims = 3


class ReflectionPad3d(ReflectionPad1d):
    """PyTorch equivalent: ``torch.nn.ReflectionPad3d``."""

    _dims = 3


class ReplicationPad3d(ReplicationPad1d):
    """PyTorch equivalent: ``torch.nn.ReplicationPad3d``."""

    _dims = 3
