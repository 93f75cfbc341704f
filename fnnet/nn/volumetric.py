"""3-D layers over ``[N, C, D, H, W]`` volumes (``Conv3d``, ``BatchNorm3d``, the 3-D
pools) and the 1-D/3-D transposed convolutions, each over its
:mod:`fnnet.nn.functional.volumetric` function."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax

from fnnet.nn import init as initializers
from fnnet.nn.batchnorm import _BatchNorm
from fnnet.nn.conv import (
    check_padding_mode,
    conv_params,
    conv_repr,
    pad_input,
    transposed_output_padding,
)
from fnnet.nn.functional import volumetric as V
from fnnet.nn.module import Module, check_input
from fnnet.typing import Array, Params, PRNGKey, State


def _check_channels(op: str, in_channels: int, out_channels: int, groups: int) -> None:
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    if in_channels % groups:
        raise ValueError("in_channels must be divisible by groups")
    if out_channels % groups:
        raise ValueError("out_channels must be divisible by groups")


def _sizes(value: int | Sequence[int], dims: int, name: str, op: str,
           minimum: int = 1) -> tuple[int, ...]:
    if dims == 3:
        return V.triple(value, name, op, minimum=minimum)
    one = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if not isinstance(one, int) or isinstance(one, bool) or one < minimum:
        raise ValueError(f"{op}: {name} must be an int of at least {minimum}, got {value!r}")
    return (one,)


class Conv3d(Module):
    """3-D convolution over ``[N, C_in, D, H, W]`` volumes.

    Args as :class:`fnnet.nn.Conv2d`'s with three sizes (``padding`` also ``"valid"`` or
    ``"same"``). Parameters: ``weight [out, in /
    groups, kD, kH, kW]``, ``bias [out]``, initialised as PyTorch's.

    PyTorch equivalent: ``torch.nn.Conv3d``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any,
                 stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros") -> None:
        _check_channels("Conv3d", in_channels, out_channels, groups)
        check_padding_mode("Conv3d", padding_mode)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _sizes(kernel_size, 3, "kernel_size", "Conv3d")
        self.stride = _sizes(stride, 3, "stride", "Conv3d")
        self.dilation = _sizes(dilation, 3, "dilation", "Conv3d")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of "
                                 f"{{'valid', 'same'}}")
            if padding == "same" and self.stride != (1, 1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding: Any = padding
        else:
            self.padding = _sizes(padding, 3, "padding", "Conv3d", minimum=0)
        self.bias, self.padding_mode = bias, padding_mode

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        return conv_params(key, self.out_channels, self.in_channels // self.groups,
                           self.kernel_size, self.bias), {}

    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [N, in_channels, D, H, W] -> [N, out_channels, D', H', W']``."""
        del train, key
        check_input(self, x, ndim=(4, 5), dim=-4, size=self.in_channels)
        x, padding = pad_input(x, self.padding, self.kernel_size, self.dilation,
                               self.padding_mode)
        return V.conv3d(x, params["weight"], params.get("bias"), self.stride, padding,
                        self.dilation, self.groups), state

    def extra_repr(self) -> str:
        return conv_repr(self)


class _ConvTransposeNd(Module):
    """A transposed convolution over ``dims`` spatial axes (1 or 3)."""

    dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any,
                 stride: Any = 1, padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                 bias: bool = True, dilation: Any = 1, padding_mode: str = "zeros") -> None:
        op = type(self).__name__
        _check_channels(op, in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {op}')
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _sizes(kernel_size, self.dims, "kernel_size", op)
        self.stride = _sizes(stride, self.dims, "stride", op)
        self.padding = _sizes(padding, self.dims, "padding", op, minimum=0)
        self.output_padding = _sizes(output_padding, self.dims, "output_padding", op,
                                     minimum=0)
        self.dilation = _sizes(dilation, self.dims, "dilation", op)
        self.bias, self.padding_mode = bias, padding_mode

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        # PyTorch's fan-in for the [in, out / groups, *k] layout: conv_params with the
        # channel counts swapped draws the same distributions
        params = conv_params(key, self.in_channels, self.out_channels // self.groups,
                             self.kernel_size, False)
        if self.bias:
            _, b_key = jax.random.split(key)
            fan = self.out_channels // self.groups
            for k in self.kernel_size:
                fan *= k
            params["bias"] = initializers.bias_uniform(b_key, self.out_channels, fan)
        return params, {}

    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None, output_size: Any = None) -> tuple[Array, State]:
        """``x: [N, in_channels, *spatial] -> [N, out_channels, *spatial_out]``;
        ``output_size`` (the spatial sizes, or the whole shape) picks the output padding,
        as PyTorch's ``forward(input, output_size)``."""
        del train, key
        check_input(self, x, ndim=(self.dims + 1, self.dims + 2), dim=-self.dims - 1,
                    size=self.in_channels)
        output_padding = transposed_output_padding(self, x, output_size)
        if self.dims == 1:
            return V.conv_transpose1d(x, params["weight"], params.get("bias"), self.stride[0],
                                      self.padding[0], output_padding[0], self.groups,
                                      self.dilation[0]), state
        return V.conv_transpose3d(x, params["weight"], params.get("bias"), self.stride,
                                  self.padding, output_padding, self.groups,
                                  self.dilation), state

    def extra_repr(self) -> str:
        return conv_repr(self, self.output_padding)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution (learned upsampling of ``[N, C, L]`` sequences), weight
    ``[in, out / groups, K]``. PyTorch equivalent: ``torch.nn.ConvTranspose1d``."""

    dims = 1


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution, weight ``[in, out / groups, kD, kH, kW]``.

    PyTorch equivalent: ``torch.nn.ConvTranspose3d``."""

    dims = 3


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of ``[N, C, D, H, W]`` volumes over all axes but 1.

    Arguments, parameters and state as :class:`fnnet.nn.BatchNorm1d`.

    PyTorch equivalent: ``torch.nn.BatchNorm3d``.
    """

    _ranks = (5,)


class MaxPool3d(Module):
    """Maximum over windows of ``[N, C, D, H, W]`` volumes (arguments as
    :func:`fnnet.nn.functional.max_pool3d`'s). PyTorch equivalent: ``torch.nn.MaxPool3d``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        if return_indices:
            raise NotImplementedError("MaxPool3d: return_indices=True is not supported")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode
        self.return_indices = return_indices

    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        del params, train, key
        return V.max_pool3d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode), state

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, "
                f"ceil_mode={self.ceil_mode}")


class AvgPool3d(Module):
    """Mean over windows of ``[N, C, D, H, W]`` volumes (arguments as
    :func:`fnnet.nn.functional.avg_pool3d`'s). PyTorch equivalent: ``torch.nn.AvgPool3d``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        del params, train, key
        return V.avg_pool3d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override), state

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool3d(Module):
    """Average pooling of ``[N, C, D, H, W]`` to ``output_size``.

    PyTorch equivalent: ``torch.nn.AdaptiveAvgPool3d``."""

    def __init__(self, output_size: Any) -> None:
        V.adaptive_sizes_3d("AdaptiveAvgPool3d", output_size)
        self.output_size = output_size

    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        del params, train, key
        return V.adaptive_avg_pool3d(x, self.output_size), state

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
