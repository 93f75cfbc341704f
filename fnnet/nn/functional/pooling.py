"""2-D max, average and adaptive average pooling over ``NCHW`` images."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from fnnet.nn.functional import kernels
from fnnet.nn.functional._utils import check_rank, pair
from fnnet.typing import Array

Pair = tuple[int, int]

_LAYOUT = "[N, C, H, W] (or [C, H, W])"


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                     ceil_mode: bool) -> int:
    """PyTorch's ``pooling_output_shape``: output length along one axis.

    With ``ceil_mode`` the last window may hang over the bottom/right edge, but it must
    start inside the input or the top/left padding.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


_Geometry = tuple[Pair, Pair, list[Pair], Pair, tuple[int, ...]]


def _geometry(op: str, x: Array, kernel_size: int | Pair, stride: int | Pair | None,
              padding: int | Pair, dilation: int | Pair, ceil_mode: bool) -> _Geometry:
    """Checks the arguments; returns kernel, stride, per-axis (lo, hi) padding, out size."""
    check_rank(x, (3, 4), op, _LAYOUT)
    kernel = pair(kernel_size, "kernel_size", op)
    strides = kernel if stride is None else pair(stride, "stride", op)
    pads = pair(padding, "padding", op, minimum=0)
    dilations = pair(dilation, "dilation", op)
    out_shape: list[int] = []
    full_pads: list[Pair] = []
    for axis, k, s, p, d in zip((-2, -1), kernel, strides, pads, dilations, strict=True):
        effective = d * (k - 1) + 1
        if 2 * p > effective:
            raise ValueError(
                f"{op}: pad should be at most half of effective kernel size, but got "
                f"pad={p}, kernel_size={k} and dilation={d}"
            )
        size = x.shape[axis]
        out = pool_output_size(size, k, s, p, d, ceil_mode)
        if out < 1:
            raise ValueError(
                f"{op}: input of shape {tuple(x.shape)} is too small for kernel_size="
                f"{kernel}, stride={strides}, padding={pads}, dilation={dilations} "
                f"(output size {out} along axis {axis % x.ndim})"
            )
        # Extra bottom/right padding so that the ceil_mode window fits; never read in
        # floor mode, where it is zero.
        extra = max(0, (out - 1) * s + effective - (size + 2 * p))
        out_shape.append(out)
        full_pads.append((p, p + extra))
    return kernel, strides, full_pads, dilations, tuple(out_shape)


def _window(x: Array, init: Any, computation: Callable[[Array, Array], Array], kernel: Pair,
            strides: Pair, pads: Sequence[Pair], dilations: Pair) -> Array:
    """``lax.reduce_window`` over the last two axes of ``x``."""
    lead = x.ndim - 2
    out: Array = lax.reduce_window(
        x,
        init,
        computation,
        window_dimensions=(1,) * lead + tuple(kernel),
        window_strides=(1,) * lead + tuple(strides),
        padding=((0, 0),) * lead + tuple(pads),
        window_dilation=(1,) * lead + tuple(dilations),
    )
    return out


def max_pool2d(
    x: Array,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> Array:
    """Maximum over each (dilated) window; padding counts as ``-inf``.

    Args:
        x: ``[N, C, H, W]`` or ``[C, H, W]``.
        kernel_size: an int or ``(kH, kW)``.
        stride: an int or ``(sH, sW)``; defaults to ``kernel_size``.
        padding: implicit ``-inf`` padding on both sides; at most half the kernel.
        dilation: spacing between window elements.
        ceil_mode: round the output size up instead of down.

    Returns:
        ``[N, C, H_out, W_out]``, ``H_out = (H + 2 pH - dH (kH - 1) - 1) // sH + 1``
        (rounded up with ``ceil_mode``).

    PyTorch equivalent: ``torch.nn.functional.max_pool2d``.
    """
    kernel, strides, pads, dilations, _ = _geometry(
        "max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    init = _max_init(x.dtype)
    if kernels.tiles_input(kernel, strides, pads, dilations):
        # Same values; on the CPU, a gradient without select_and_scatter.
        return kernels.max_pool2d_tiled(x, kernel)
    if dilations == (1, 1):
        return _window(x, init, lax.max, kernel, strides, pads, dilations)
    return _dilated_max(x, init, kernel, strides, pads, dilations)


def _max_init(dtype: Any) -> np.ndarray:
    """The padding value of max pooling: ``-inf``, or the integer dtype's minimum. A
    numpy (concrete) value: JAX recognises the max monoid, and so can differentiate
    reduce_window, only when the init value is not traced."""
    if jnp.issubdtype(dtype, jnp.floating):
        return np.array(-np.inf, dtype)
    return np.array(np.iinfo(dtype).min, dtype)


def _taps(x: Array, init: Any, kernel: Sequence[int], strides: Sequence[int],
          pads: Sequence[Pair], dilations: Sequence[int]) -> Array:
    """The window taps of ``x`` over its last ``len(kernel)`` axes (padded with
    ``init``), stacked first in row-major window order: ``[prod(kernel), ..., *out]``
    (``[kH * kW, ..., H_out, W_out]`` in 2-D)."""
    spatial = len(kernel)
    lead = x.ndim - spatial
    padded = lax.pad(x, init, ((0, 0, 0),) * lead + tuple((lo, hi, 0) for lo, hi in pads))
    outs = [(padded.shape[lead + i] - dilations[i] * (kernel[i] - 1) - 1) // strides[i] + 1
            for i in range(spatial)]
    taps = []
    for offsets in itertools.product(*(range(k) for k in kernel)):
        start = (0,) * lead + tuple(o * d for o, d in zip(offsets, dilations, strict=True))
        limit = padded.shape[:lead] + tuple(
            first + (out - 1) * step + 1
            for first, out, step in zip(start[lead:], outs, strides, strict=True))
        taps.append(lax.slice(padded, start, limit, (1,) * lead + tuple(strides)))
    return jnp.stack(taps)


def first_max_with_indices(x: Array, kernel: Sequence[int], strides: Sequence[int],
                           pads: Sequence[Pair], dilations: Sequence[int]
                           ) -> tuple[Array, Array]:
    """Max pooling of the last ``len(kernel)`` axes and each maximum's flat position in
    its input plane (the first maximum in row-major window order, as PyTorch's), int32."""
    spatial = x.shape[x.ndim - len(kernel):]
    plane = jnp.broadcast_to(jnp.arange(int(np.prod(spatial)), dtype=jnp.int32)
                             .reshape(spatial), x.shape)
    values = _taps(x, _max_init(x.dtype), kernel, strides, pads, dilations)
    where = _taps(plane, np.array(-1, np.int32), kernel, strides, pads, dilations)
    first = jnp.argmax(values, axis=0, keepdims=True)
    return (jnp.take_along_axis(values, first, axis=0)[0],
            jnp.take_along_axis(where, first, axis=0)[0])


def _dilated_max(x: Array, init: Any, kernel: Pair, strides: Pair, pads: Sequence[Pair],
                 dilations: Pair) -> Array:
    """Max pooling with dilation as a max over the ``kH * kW`` strided window taps.

    JAX cannot differentiate ``reduce_window`` max with window dilation, so the taps
    are stacked and the first maximum in row-major window order is taken, the element
    PyTorch's max_pool2d picks (and sends the gradient to).
    """
    stacked = _taps(x, init, kernel, strides, pads, dilations)
    index = jnp.argmax(stacked, axis=0, keepdims=True)
    return jnp.take_along_axis(stacked, index, axis=0)[0]


def max_pool2d_with_indices(
    x: Array,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> tuple[Array, Array]:
    """:func:`max_pool2d` and where each maximum came from.

    Returns:
        ``(values, indices)``, both ``[N, C, H_out, W_out]``: ``indices`` is each
        maximum's flat position ``h * W + w`` in its input plane (the first maximum in
        row-major window order, as PyTorch's), int32. :func:`max_unpool2d` takes them.

    PyTorch equivalent: ``torch.nn.functional.max_pool2d(..., return_indices=True)``.
    """
    kernel, strides, pads, dilations, _ = _geometry(
        "max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    return first_max_with_indices(x, kernel, strides, pads, dilations)


def max_unpool2d(x: Array, indices: Array, output_size: Sequence[int]) -> Array:
    """Zeros of ``output_size`` with each value of ``x`` put back at its index: the
    partial inverse of :func:`max_pool2d_with_indices` (of the 3-D one too, given a
    ``(D_out, H_out, W_out)`` ``output_size``).

    Args:
        x: ``[N, C, H, W]`` (or ``[C, H, W]``) pooled values.
        indices: the same shape, flat positions in the output planes.
        output_size: the output planes' ``(H_out, W_out)``.

    Returns:
        ``[N, C, H_out, W_out]`` (or ``[C, H_out, W_out]``).

    PyTorch equivalent: ``torch.nn.functional.max_unpool2d`` (``max_unpool3d``).
    """
    if x.shape != indices.shape:
        raise ValueError(f"max_unpool2d: expected indices of the input's shape "
                         f"{tuple(x.shape)}, got {tuple(indices.shape)}")
    lead = x.shape[:x.ndim - len(output_size)]
    planes = int(np.prod(lead))
    flat = x.reshape(planes, -1)
    zeros = jnp.zeros((planes, int(np.prod(output_size))), x.dtype)
    where = (jnp.arange(planes)[:, None], indices.reshape(planes, -1))
    out = zeros.at[where].set(lax.stop_gradient(flat))
    # PyTorch's gradient is the output's gradient gathered at every index, repeated ones
    # (overlapping windows) included: the transpose of an adding scatter, whose value is
    # cancelled exactly (kept out where it is not finite: inf - inf)
    added = zeros.at[where].add(flat)
    out = out + jnp.where(jnp.isfinite(added), added - lax.stop_gradient(added), 0)
    return out.reshape(*lead, *output_size)


def _avg_divisor(size: int, out: int, k: int, s: int, p: int,
                 count_include_pad: bool) -> np.ndarray:
    """PyTorch's avg_pool2d divisor along one axis (a static numpy vector)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return (end - start).astype(np.float64)
    return (np.minimum(end, size) - np.maximum(start, 0)).astype(np.float64)


def avg_pool2d(
    x: Array,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """Mean over each window.

    Args:
        x: ``[N, C, H, W]`` or ``[C, H, W]``.
        kernel_size: an int or ``(kH, kW)``.
        stride: an int or ``(sH, sW)``; defaults to ``kernel_size``.
        padding: implicit zero padding on both sides; at most half the kernel.
        ceil_mode: round the output size up instead of down.
        count_include_pad: divide by the window size including the zero padding
            (but never the part of a ``ceil_mode`` window past the padding), as PyTorch.
        divisor_override: divide every window sum by this instead.

    Returns:
        ``[N, C, H_out, W_out]``.

    PyTorch equivalent: ``torch.nn.functional.avg_pool2d``.
    """
    kernel, strides, pads, dilations, out = _geometry(
        "avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (
            not isinstance(divisor_override, int) or divisor_override < 1):
        raise ValueError(
            f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}")
    total = _window(x, np.array(0, x.dtype), lax.add, kernel, strides, pads, dilations)
    if divisor_override is not None:
        return total / divisor_override
    rows, cols = (
        _avg_divisor(x.shape[axis], n, k, s, lo, count_include_pad)
        for axis, n, k, s, (lo, _) in zip((-2, -1), out, kernel, strides, pads, strict=True)
    )
    return total / jnp.asarray(np.outer(rows, cols), x.dtype)


def _adaptive_output_size(x: Array, output_size: int | Sequence[int | None]
                          ) -> tuple[int, int]:
    if isinstance(output_size, int) and not isinstance(output_size, bool):
        output_size = (output_size, output_size)
    if not (isinstance(output_size, (tuple, list)) and len(output_size) == 2):
        raise TypeError(
            "adaptive_avg_pool2d: output_size must be an int or a pair of ints (or None), "
            f"got {output_size!r}"
        )
    sizes = []
    for axis, value in zip((-2, -1), output_size, strict=True):
        if value is None:
            value = x.shape[axis]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(
                f"adaptive_avg_pool2d: output_size entries must be positive ints or None, "
                f"got {output_size!r}"
            )
        sizes.append(value)
    return sizes[0], sizes[1]


def _adaptive_axis(x: Array, axis: int, out: int) -> Array:
    """Adaptive average along one axis: window ``i`` is ``[floor(i L / out),
    ceil((i + 1) L / out))``, PyTorch's start/end index formula."""
    size = x.shape[axis]
    if size % out == 0:
        shape = x.shape[:axis] + (out, size // out) + x.shape[axis + 1:]
        return jnp.mean(jnp.reshape(x, shape), axis=axis + 1)
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    j = np.arange(size)
    inside = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])
    weights = np.where(inside, 1.0 / (end - start)[:, None], 0.0)
    y = jnp.tensordot(x, jnp.asarray(weights.T, x.dtype), axes=((axis,), (0,)),
                      precision=lax.Precision.HIGHEST)
    return jnp.moveaxis(y, -1, axis)


def adaptive_avg_pool2d(x: Array, output_size: int | tuple[int | None, int | None]) -> Array:
    """Average pooling to a fixed output size, whatever the input size.

    Output cell ``(i, j)`` averages rows ``floor(i H / H_out)`` to
    ``ceil((i + 1) H / H_out) - 1`` (and likewise columns), exactly as PyTorch, also when
    ``H`` is not a multiple of ``H_out`` (windows then overlap or differ in size).

    Args:
        x: ``[N, C, H, W]`` or ``[C, H, W]``.
        output_size: ``H_out`` (square) or ``(H_out, W_out)``; ``None`` keeps that size.

    Returns:
        ``[N, C, H_out, W_out]``.

    PyTorch equivalent: ``torch.nn.functional.adaptive_avg_pool2d``.
    """
    check_rank(x, (3, 4), "adaptive_avg_pool2d", _LAYOUT)
    out_h, out_w = _adaptive_output_size(x, output_size)
    y = _adaptive_axis(x, x.ndim - 2, out_h)
    return _adaptive_axis(y, x.ndim - 1, out_w)
