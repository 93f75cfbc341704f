"""3-D convolution and pooling over ``[N, C, D, H, W]`` volumes (video, medical scans),
and the 1-D and 3-D transposed convolutions (audio decoders, volumetric upsampling), in
their portable XLA forms."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from fnnet.nn.functional._utils import accumulation, check_rank, promoted, widened
from fnnet.nn.functional.conv_transpose import conv_transpose
from fnnet.nn.functional.pooling import (
    _adaptive_axis,
    _avg_divisor,
    _max_init,
    first_max_with_indices,
    pool_output_size,
)
from fnnet.typing import Array

Triple = tuple[int, int, int]
_LAYOUT = "[N, C, D, H, W] (or [C, D, H, W])"


def triple(value: int | Sequence[int], name: str, op: str, *, minimum: int = 1) -> Triple:
    """``(v, v, v)`` for an int, the three ints of a sequence; each at least ``minimum``.

    Raises:
        ValueError: not an int or three ints, or one below ``minimum``.
    """
    values = (value,) * 3 if isinstance(value, int) and not isinstance(value, bool) else \
        tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(values) != 3 or any(not isinstance(v, int) or isinstance(v, bool) or v < minimum
                               for v in values):
        raise ValueError(f"{op}: {name} must be an int or three ints of at least {minimum}, "
                         f"got {value!r}")
    return values[0], values[1], values[2]


def conv3d(x: Array, weight: Array, bias: Array | None = None,
           stride: int | Sequence[int] = 1, padding: int | Sequence[int] | str = 0,
           dilation: int | Sequence[int] = 1, groups: int = 1) -> Array:
    """3-D cross-correlation, as PyTorch's ``conv3d`` computes it.

    Args:
        x: ``[N, C_in, D, H, W]`` or unbatched ``[C_in, D, H, W]``.
        weight: ``[C_out, C_in / groups, kD, kH, kW]``.
        bias: ``[C_out]`` or None.
        stride: an int or three.
        padding: an int, three ints (zeros on both sides), ``"valid"`` or ``"same"``.
        dilation: an int or three.
        groups: channel groups.

    Returns:
        ``[N, C_out, D_out, H_out, W_out]``, each size ``(S + 2 p - d (k - 1) - 1) // s +
        1``.

    PyTorch equivalent: ``torch.nn.functional.conv3d``.
    """
    check_rank(x, (4, 5), "conv3d", _LAYOUT)
    strides = triple(stride, "stride", "conv3d")
    dilations = triple(dilation, "dilation", "conv3d")
    kernel = weight.shape[2:]
    if isinstance(padding, str):  # "valid", or "same": PyTorch's extra tap at the end
        if padding not in ("valid", "same"):
            raise ValueError(f"Invalid padding string '{padding}', should be one of "
                             f"{{'valid', 'same'}}")
        totals = [d * (k - 1) if padding == "same" else 0
                  for k, d in zip(kernel, dilations, strict=True)]
        pads = [(t // 2, t - t // 2) for t in totals]
    else:
        pads = [(p, p) for p in triple(padding, "padding", "conv3d", minimum=0)]
    x, weight = promoted(x, weight)
    dtype = x.dtype
    batched = x if x.ndim == 5 else x[None]
    y = lax.conv_general_dilated(batched, weight, strides, pads, rhs_dilation=dilations,
                                 dimension_numbers=("NCDHW", "OIDHW", "NCDHW"),
                                 feature_group_count=groups,
                                 preferred_element_type=accumulation(dtype))
    if bias is not None:
        y = y + jnp.reshape(widened(bias), (1, -1, 1, 1, 1))
    return (y if x.ndim == 5 else y[0]).astype(dtype)


def conv_transpose1d(x: Array, weight: Array, bias: Array | None = None, stride: int = 1,
                     padding: int = 0, output_padding: int = 0, groups: int = 1,
                     dilation: int = 1) -> Array:
    """Transposed 1-D convolution of ``x: [N, C_in, L]`` (or ``[C_in, L]``) with
    ``weight: [C_in, C_out / groups, K]``; ``L_out = (L - 1) s - 2 p + d (K - 1) + op + 1``.

    PyTorch equivalent: ``torch.nn.functional.conv_transpose1d``.
    """
    check_rank(x, (2, 3), "conv_transpose1d", "[N, C, L] (or [C, L])")
    return conv_transpose(x, weight, bias, (stride,), (padding,), (output_padding,), groups,
                          (dilation,))


def conv_transpose3d(x: Array, weight: Array, bias: Array | None = None,
                     stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                     output_padding: int | Sequence[int] = 0, groups: int = 1,
                     dilation: int | Sequence[int] = 1) -> Array:
    """Transposed 3-D convolution of ``x: [N, C_in, D, H, W]`` with
    ``weight: [C_in, C_out / groups, kD, kH, kW]`` (sizes as :func:`conv_transpose1d`'s).

    PyTorch equivalent: ``torch.nn.functional.conv_transpose3d``.
    """
    check_rank(x, (4, 5), "conv_transpose3d", _LAYOUT)
    op = "conv_transpose3d"
    return conv_transpose(x, weight, bias, triple(stride, "stride", op),
                          triple(padding, "padding", op, minimum=0),
                          triple(output_padding, "output_padding", op, minimum=0), groups,
                          triple(dilation, "dilation", op))


def _geometry(op: str, x: Array, kernel_size: int | Triple, stride: int | Triple | None,
              padding: int | Triple, dilation: int | Triple, ceil_mode: bool
              ) -> tuple[Triple, Triple, list[tuple[int, int]], Triple, list[int]]:
    """Checks a 3-D pooling's arguments; kernel, stride, (lo, hi) pads, dilation, sizes."""
    check_rank(x, (4, 5), op, _LAYOUT)
    kernel = triple(kernel_size, "kernel_size", op)
    strides = kernel if stride is None else triple(stride, "stride", op)
    pads = triple(padding, "padding", op, minimum=0)
    dilations = triple(dilation, "dilation", op)
    full_pads, out_sizes = [], []
    for axis, k, s, p, d in zip((-3, -2, -1), kernel, strides, pads, dilations, strict=True):
        effective = d * (k - 1) + 1
        if 2 * p > effective:
            raise ValueError(f"{op}: pad should be at most half of effective kernel size, "
                             f"but got pad={p}, kernel_size={k} and dilation={d}")
        size = x.shape[axis]
        out = pool_output_size(size, k, s, p, d, ceil_mode)
        if out < 1:
            raise ValueError(f"{op}: input of shape {tuple(x.shape)} is too small for "
                             f"kernel_size={kernel}, stride={strides}, padding={pads}")
        full_pads.append((p, p + max(0, (out - 1) * s + effective - (size + 2 * p))))
        out_sizes.append(out)
    return kernel, strides, full_pads, dilations, out_sizes


def _window_3d(x: Array, init: np.ndarray, computation: object, kernel: Triple,
               strides: Triple, pads: list[tuple[int, int]], dilations: Triple) -> Array:
    lead = x.ndim - 3
    out: Array = lax.reduce_window(
        x, init, computation, window_dimensions=(1,) * lead + kernel,  # type: ignore[arg-type]
        window_strides=(1,) * lead + strides, padding=((0, 0),) * lead + tuple(pads),
        window_dilation=(1,) * lead + dilations)
    return out


def max_pool3d(x: Array, kernel_size: int | Triple, stride: int | Triple | None = None,
               padding: int | Triple = 0, dilation: int | Triple = 1,
               ceil_mode: bool = False) -> Array:
    """Maximum over each (dilated) window of ``[N, C, D, H, W]``; padding is ``-inf``.

    PyTorch equivalent: ``torch.nn.functional.max_pool3d``.
    """
    kernel, strides, pads, dilations, _ = _geometry("max_pool3d", x, kernel_size, stride,
                                                    padding, dilation, ceil_mode)
    return _window_3d(x, _max_init(x.dtype), lax.max, kernel, strides, pads, dilations)


def max_pool3d_with_indices(x: Array, kernel_size: int | Triple,
                            stride: int | Triple | None = None, padding: int | Triple = 0,
                            dilation: int | Triple = 1, ceil_mode: bool = False
                            ) -> tuple[Array, Array]:
    """:func:`max_pool3d` and where each maximum came from: its flat position
    ``(d * H + h) * W + w`` in its input volume (the first maximum in row-major window
    order, as PyTorch's), int32; ``max_unpool2d`` with a 3-D ``output_size`` takes them.

    PyTorch equivalent: ``torch.nn.functional.max_pool3d(..., return_indices=True)``.
    """
    kernel, strides, pads, dilations, _ = _geometry("max_pool3d", x, kernel_size, stride,
                                                    padding, dilation, ceil_mode)
    return first_max_with_indices(x, kernel, strides, pads, dilations)


def avg_pool3d(x: Array, kernel_size: int | Triple, stride: int | Triple | None = None,
               padding: int | Triple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Array:
    """Mean over each window of ``[N, C, D, H, W]``, divided as PyTorch's ``avg_pool3d``
    (see :func:`fnnet.nn.functional.avg_pool2d`).

    PyTorch equivalent: ``torch.nn.functional.avg_pool3d``.
    """
    kernel, strides, pads, dilations, out = _geometry("avg_pool3d", x, kernel_size, stride,
                                                      padding, 1, ceil_mode)
    total = _window_3d(x, np.array(0, x.dtype), lax.add, kernel, strides, pads, dilations)
    if divisor_override is not None:
        return total / divisor_override
    d, h, w = (_avg_divisor(x.shape[axis], n, k, s, lo, count_include_pad)
               for axis, n, k, s, (lo, _) in zip((-3, -2, -1), out, kernel, strides, pads,
                                                 strict=True))
    return total / jnp.asarray(np.einsum("i,j,k->ijk", d, h, w), x.dtype)


def adaptive_sizes_3d(who: str, output_size: Any) -> tuple[int | None, ...]:
    """``output_size`` (an int, or three ints or None) as three sizes; ``who`` names the
    caller in the ValueError raised for anything else (a size below 1, a float)."""
    sizes = tuple(output_size) if isinstance(output_size, tuple | list) else (output_size,) * 3
    if len(sizes) != 3 or not all(
            size is None or (isinstance(size, Integral) and not isinstance(size, bool)
                             and int(size) >= 1) for size in sizes):
        raise ValueError(f"{who}: output_size must be a positive int or three positive ints "
                         f"(or None), got {output_size!r}")
    return tuple(None if size is None else int(size) for size in sizes)


def adaptive_avg_pool3d(x: Array, output_size: int | Sequence[int | None]) -> Array:
    """Average pooling of ``[N, C, D, H, W]`` to a fixed ``(D_out, H_out, W_out)`` (an int:
    a cube; None keeps that size), with PyTorch's windows (see
    :func:`fnnet.nn.functional.adaptive_avg_pool2d`).

    PyTorch equivalent: ``torch.nn.functional.adaptive_avg_pool3d``.
    """
    check_rank(x, (4, 5), "adaptive_avg_pool3d", _LAYOUT)
    sizes = adaptive_sizes_3d("adaptive_avg_pool3d", output_size)
    for axis, size in zip(range(x.ndim - 3, x.ndim), sizes, strict=True):
        x = _adaptive_axis(x, axis, x.shape[axis] if size is None else int(size))
    return x
