"""Convolution layers."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from fnnet.nn import functional as F
from fnnet.nn import init as initializers
from fnnet.nn.functional._utils import pair
from fnnet.nn.functional.conv import conv_padding
from fnnet.nn.functional.conv_transpose import conv_transpose2d
from fnnet.nn.module import Module, check_input
from fnnet.typing import Array, Params, PRNGKey, State

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_JNP_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def conv_params(key: PRNGKey, out_channels: int, in_per_group: int,
                kernel_size: tuple[int, ...], bias: bool) -> Params:
    """A convolution's ``weight [out, in/groups, *kernel]`` and ``bias [out]``, initialised
    as PyTorch's ``ConvNd.reset_parameters`` does (1-D and 2-D alike)."""
    w_key, b_key = jax.random.split(key)
    shape = (out_channels, in_per_group, *kernel_size)
    params = {"weight": initializers.kaiming_uniform(w_key, shape)}
    if bias:
        params["bias"] = initializers.bias_uniform(b_key, out_channels,
                                                   initializers.fan_in(shape))
    return params


def check_padding_mode(op: str, padding_mode: str) -> None:
    """Raises PyTorch's ValueError for an unknown ``padding_mode``."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{op}: padding_mode must be one of {PADDING_MODES}, but got "
                         f"padding_mode={padding_mode!r}")


def pad_input(x: Array, padding: str | tuple[int, ...], kernel_size: tuple[int, ...],
              dilation: tuple[int, ...], padding_mode: str) -> tuple[Array, Any]:
    """``(x, padding)`` to convolve: in a ``padding_mode`` other than ``"zeros"``,
    PyTorch pads the input by the padding in that mode (``"same"``: the odd one at the
    end), then convolves without padding.

    Args:
        x: ``[N, C, *spatial]`` or unbatched ``[C, *spatial]``.
        padding: the layer's padding, per spatial axis, or ``"valid"``/``"same"``.
        kernel_size: the kernel's size per spatial axis.
        dilation: the dilation per spatial axis.
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
    """
    if padding_mode == "zeros":
        return x, padding
    if padding == "valid":
        widths: tuple[tuple[int, int], ...] = ((0, 0),) * len(kernel_size)
    elif padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel_size, dilation, strict=True)]
        widths = tuple((t // 2, t - t // 2) for t in totals)
    else:
        widths = tuple((int(p), int(p)) for p in padding)
    x = jnp.pad(x, ((0, 0),) * (x.ndim - len(widths)) + widths,
                mode=_JNP_PAD_MODES[padding_mode])
    return x, 0


def transposed_output_padding(layer: Any, x: Array, output_size: Any) -> tuple[int, ...]:
    """The output padding of a transposed convolution ``layer`` (its ``kernel_size``,
    ``stride``, ``padding``, ``dilation``) that gives ``output_size`` (the spatial sizes,
    or the whole output shape) for the input ``x``; ``layer.output_padding`` when None.
    PyTorch's ``_ConvTransposeNd._output_padding``, with its checks and messages.

    Raises:
        ValueError: ``output_size`` has another number of entries, or a size outside
            the range one stride wide that the input allows.
    """
    if output_size is None:
        return tuple(layer.output_padding)
    spatial = len(layer.kernel_size)
    leading = x.ndim - spatial
    if isinstance(output_size, (str, bytes)) or not hasattr(output_size, "__len__"):
        raise TypeError(f"{type(layer).__name__}: output_size must be a sequence of ints, "
                        f"got {type(output_size).__name__}")
    sizes = [int(size) for size in output_size]
    if len(sizes) == leading + spatial:
        sizes = sizes[leading:]
    if len(sizes) != spatial:
        raise ValueError(f"ConvTranspose{spatial}D: for {x.ndim}D input, output_size must "
                         f"have {spatial} or {leading + spatial} elements (got "
                         f"{len(sizes)})")
    low = [(x.shape[leading + d] - 1) * layer.stride[d] - 2 * layer.padding[d]
           + layer.dilation[d] * (layer.kernel_size[d] - 1) + 1 for d in range(spatial)]
    high = [size + layer.stride[d] - 1 for d, size in enumerate(low)]
    if any(not lo <= size <= hi for size, lo, hi in zip(sizes, low, high, strict=True)):
        raise ValueError(f"requested an output size of {sizes}, but valid sizes range from "
                         f"{low} to {high} (for an input of {list(x.shape[leading:])})")
    return tuple(size - lo for size, lo in zip(sizes, low, strict=True))


def conv_repr(layer: Any, output_padding: tuple[int, ...] | None = None) -> str:
    """PyTorch's ``_ConvNd.extra_repr`` (any rank, transposed or not): the settings
    that differ from the defaults."""
    dims = len(layer.kernel_size)
    s = (f"{layer.in_channels}, {layer.out_channels}, kernel_size={layer.kernel_size}, "
         f"stride={layer.stride}")
    if layer.padding != (0,) * dims:
        s += f", padding={layer.padding}"
    if layer.dilation != (1,) * dims:
        s += f", dilation={layer.dilation}"
    if output_padding is not None and output_padding != (0,) * dims:
        s += f", output_padding={output_padding}"
    if layer.groups != 1:
        s += f", groups={layer.groups}"
    if not layer.bias:
        s += ", bias=False"
    if layer.padding_mode != "zeros":
        s += f", padding_mode={layer.padding_mode}"
    return s


class Conv2d(Module):
    """2-D convolution over ``[N, C_in, H, W]`` images.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: an int or ``(kH, kW)``.
        stride: an int or ``(sH, sW)``.
        padding: an int, ``(pH, pW)``, ``"valid"`` or ``"same"`` (stride 1 only).
        dilation: an int or ``(dH, dW)``.
        groups: channel groups; both channel counts must be divisible by it.
        bias: whether to learn an additive bias.
        padding_mode: ``"zeros"``, or ``"reflect"``, ``"replicate"`` or ``"circular"``:
            the input padded so (by ``padding``) before an unpadded convolution.

    Parameters: ``weight [out_channels, in_channels / groups, kH, kW]`` (``OIHW``),
    ``bias [out_channels]``, initialised as PyTorch does (``U(-1/sqrt(fan_in),
    1/sqrt(fan_in))`` with ``fan_in = in_channels / groups * kH * kW``).

    Example:
        >>> conv = Conv2d(1, 6, 5)
        >>> params, state = conv.init(jax.random.key(0))
        >>> y, _ = conv.apply(params, state, jnp.zeros((8, 1, 32, 32)))  # [8, 6, 28, 28]

    PyTorch equivalent: ``torch.nn.Conv2d``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: str | int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
    ) -> None:
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("groups", groups)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Conv2d: {name} must be a positive int, got {value!r}")
        if in_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels must be divisible by groups, got in_channels="
                f"{in_channels} and groups={groups}"
            )
        if out_channels % groups:
            raise ValueError(
                f"Conv2d: out_channels must be divisible by groups, got out_channels="
                f"{out_channels} and groups={groups}"
            )
        check_padding_mode("Conv2d", padding_mode)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = pair(stride, "stride", "Conv2d")
        self.dilation = pair(dilation, "dilation", "Conv2d")
        # Checks the padding (and 'same' with a stride) now rather than at the first call.
        conv_padding(padding, self.kernel_size, self.stride, self.dilation, "Conv2d")
        self.padding = padding if isinstance(padding, str) else pair(
            padding, "padding", "Conv2d", minimum=0)
        self.groups = groups
        self.bias = bias
        self.padding_mode = padding_mode

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        return conv_params(key, self.out_channels, self.in_channels // self.groups,
                           self.kernel_size, self.bias), {}

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [N, in_channels, H, W] -> [N, out_channels, H_out, W_out]`` (or unbatched
        ``[C, H, W]``)."""
        del train, key
        check_input(self, x, ndim=(3, 4), dim=-3, size=self.in_channels)
        x, padding = pad_input(x, self.padding, self.kernel_size, self.dilation,
                               self.padding_mode)
        y = F.conv2d(x, params["weight"], params.get("bias"), self.stride, padding,
                     self.dilation, self.groups)
        return y, state

    def extra_repr(self) -> str:
        return conv_repr(self)


class ConvTranspose2d(Module):
    """Transposed 2-D convolution over ``[N, C_in, H, W]`` (upsampling by ``stride``).

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: int or pair, the kernel's height and width.
        stride: int or pair, the upsampling factor.
        padding: int or pair, removed from each side of the full output.
        output_padding: int or pair, added at the end of each spatial axis (smaller than
            the stride or the dilation).
        dilation: int or pair, the spacing of the kernel's taps.
        groups: channel groups; both channel counts must be divisible by it.
        bias: whether to learn an additive bias.

    Parameters: ``weight [in_channels, out_channels / groups, kH, kW]`` and ``bias
    [out_channels]``, initialised as PyTorch does (its fan-in is the weight's second
    dimension times the kernel size).

    PyTorch equivalent: ``torch.nn.ConvTranspose2d``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 output_padding: int | tuple[int, int] = 0, groups: int = 1,
                 bias: bool = True, dilation: int | tuple[int, int] = 1,
                 padding_mode: str = "zeros") -> None:
        name = "ConvTranspose2d"
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels),
                           ("groups", groups)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if value % groups:
                raise ValueError(f"{name}: {arg} must be divisible by groups, got {arg}="
                                 f"{value} and groups={groups}")
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}, got '
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", name)
        self.stride = pair(stride, "stride", name)
        self.padding = pair(padding, "padding", name, minimum=0)
        self.output_padding = pair(output_padding, "output_padding", name, minimum=0)
        self.dilation = pair(dilation, "dilation", name)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True):
            if op >= max(s, d):
                raise ValueError(f"{name}: output padding must be smaller than either stride "
                                 f"or dilation, got output_padding={self.output_padding}")
        self.bias = bias
        self.padding_mode = padding_mode

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        # PyTorch's fan-in for this layout is weight.shape[1] * kH * kW: conv_params with
        # the channel counts swapped draws the same distributions.
        params = conv_params(key, self.in_channels, self.out_channels // self.groups,
                             self.kernel_size, False)
        if self.bias:
            _, b_key = jax.random.split(key)
            fan = self.out_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
            params["bias"] = initializers.bias_uniform(b_key, self.out_channels, fan)
        return params, {}

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None, output_size: Any = None) -> tuple[Array, State]:
        """``x: [N, in_channels, H, W] -> [N, out_channels, H_out, W_out]``;
        ``output_size`` (``[H_out, W_out]``, or the whole shape) picks the output
        padding, as PyTorch's ``forward(input, output_size)``."""
        del train, key
        check_input(self, x, ndim=(3, 4), dim=-3, size=self.in_channels)
        height, width = transposed_output_padding(self, x, output_size)
        y = conv_transpose2d(x, params["weight"], params.get("bias"), self.stride,
                             self.padding, (height, width), self.groups, self.dilation)
        return y, state

    def extra_repr(self) -> str:
        return conv_repr(self, self.output_padding)
