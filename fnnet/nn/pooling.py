"""Pooling layers."""

from __future__ import annotations

from fnnet.nn import functional as F
from fnnet.nn.functional._utils import pair
from fnnet.nn.module import Module, check_input
from fnnet.typing import Array, Params, PRNGKey, State


class MaxPool2d(Module):
    """Maximum over windows of ``[N, C, H, W]`` images.

    Args:
        kernel_size: an int or ``(kH, kW)``.
        stride: an int or ``(sH, sW)``; defaults to ``kernel_size``.
        padding: implicit ``-inf`` padding, at most half the kernel.
        dilation: spacing between window elements.
        return_indices: not supported (raises NotImplementedError when True).
        ceil_mode: round the output size up.

    PyTorch equivalent: ``torch.nn.MaxPool2d``.
    """

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        if return_indices:
            raise NotImplementedError(
                "MaxPool2d: return_indices=True is not supported; take (values, indices) "
                "from fnnet.nn.functional.max_pool2d_with_indices")
        pair(kernel_size, "kernel_size", "MaxPool2d")
        if stride is not None:
            pair(stride, "stride", "MaxPool2d")
        pair(padding, "padding", "MaxPool2d", minimum=0)
        pair(dilation, "dilation", "MaxPool2d")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [N, C, H, W] -> [N, C, H_out, W_out]`` (or unbatched ``[C, H, W]``)."""
        del params, train, key
        check_input(self, x, ndim=(3, 4))
        y = F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                         self.ceil_mode)
        return y, state

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, "
                f"ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over windows of ``[N, C, H, W]`` images.

    Args:
        kernel_size: an int or ``(kH, kW)``.
        stride: an int or ``(sH, sW)``; defaults to ``kernel_size``.
        padding: implicit zero padding, at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count the zero padding in each window's divisor.
        divisor_override: divide every window sum by this instead.

    PyTorch equivalent: ``torch.nn.AvgPool2d``.
    """

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        pair(kernel_size, "kernel_size", "AvgPool2d")
        if stride is not None:
            pair(stride, "stride", "AvgPool2d")
        pair(padding, "padding", "AvgPool2d", minimum=0)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [N, C, H, W] -> [N, C, H_out, W_out]`` (or unbatched ``[C, H, W]``)."""
        del params, train, key
        check_input(self, x, ndim=(3, 4))
        y = F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                         self.count_include_pad, self.divisor_override)
        return y, state

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` whatever the input size.

    Args:
        output_size: ``H_out`` (square) or ``(H_out, W_out)``; ``None`` keeps that size.

    PyTorch equivalent: ``torch.nn.AdaptiveAvgPool2d``.
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,)
        if len(sizes) != (2 if isinstance(output_size, (tuple, list)) else 1) or not all(
                s is None or (isinstance(s, int) and not isinstance(s, bool) and s >= 1)
                for s in sizes):
            raise ValueError(
                "AdaptiveAvgPool2d: output_size must be a positive int or a pair of "
                f"positive ints (or None), got {output_size!r}"
            )
        self.output_size = output_size

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [N, C, H, W] -> [N, C, H_out, W_out]`` (or unbatched ``[C, H, W]``)."""
        del params, train, key
        check_input(self, x, ndim=(3, 4))
        return F.adaptive_avg_pool2d(x, self.output_size), state

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
