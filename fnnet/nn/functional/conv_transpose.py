"""Transposed convolutions (the gradient of a convolution with respect to its input)."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jax import lax

from fnnet.nn.functional._utils import accumulation, promoted, widened
from fnnet.typing import Array


def conv_transpose2d(x: Array, weight: Array, bias: Array | None = None,
                     stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0),
                     output_padding: tuple[int, int] = (0, 0), groups: int = 1,
                     dilation: tuple[int, int] = (1, 1)) -> Array:
    """Transposed convolution: each input pixel scatters a weighted kernel into the output.

    Computed as a convolution of ``x`` dilated by ``stride`` with the spatially flipped
    kernel (input and output channels swapped per group), padded by
    ``dilation * (k - 1) - padding`` on each side plus ``output_padding`` at the end.

    Args:
        x: ``[N, C_in, H, W]`` or unbatched ``[C_in, H, W]``.
        weight: ``[C_in, C_out / groups, kH, kW]`` (PyTorch's layout for this layer).
        bias: ``[C_out]`` or None.
        stride: pair, the upsampling factor.
        padding: pair, removed from each side of the full output.
        output_padding: pair, added at the end of each spatial axis.
        dilation: pair, the spacing of the kernel's taps.
        groups: channel groups.

    Returns:
        ``[N, C_out, H_out, W_out]`` with ``H_out = (H - 1) * sH - 2 pH + dH (kH - 1) +
        opH + 1``.

    PyTorch equivalent: ``torch.nn.functional.conv_transpose2d``.
    """
    return conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose(x: Array, weight: Array, bias: Array | None,
                   stride: Sequence[int], padding: Sequence[int],
                   output_padding: Sequence[int], groups: int,
                   dilation: Sequence[int]) -> Array:
    """Transposed convolution over the last ``len(stride)`` axes (1, 2 or 3), as
    :func:`conv_transpose2d` computes it; ``x`` is batched ``[N, C_in, *spatial]`` or
    unbatched ``[C_in, *spatial]``, ``weight`` ``[C_in, C_out / groups, *kernel]``.

    PyTorch equivalent: ``torch.nn.functional.conv_transpose1d`` / ``2d`` / ``3d``.
    """
    dims = len(stride)
    x, weight = promoted(x, weight)
    dtype = x.dtype
    unbatched = x.ndim == dims + 1
    if unbatched:
        x = x[None]
    c_in, out_per_group, *kernel = weight.shape
    # [C_in, C_out/g, *k] -> [C_out, C_in/g, *k], flipped: the forward kernel
    w = weight.reshape(groups, c_in // groups, out_per_group, *kernel)
    w = jnp.swapaxes(w, 1, 2).reshape(groups * out_per_group, c_in // groups, *kernel)
    w = jnp.flip(w, axis=tuple(range(2, 2 + dims)))
    pads = [(d * (k - 1) - p, d * (k - 1) - p + op) for k, p, op, d in
            zip(kernel, padding, output_padding, dilation, strict=True)]
    spatial = "DHW"[3 - dims:]
    y = lax.conv_general_dilated(x, w, (1,) * dims, pads, lhs_dilation=tuple(stride),
                                 rhs_dilation=tuple(dilation),
                                 dimension_numbers=("NC" + spatial, "OI" + spatial,
                                                    "NC" + spatial),
                                 feature_group_count=groups,
                                 preferred_element_type=accumulation(dtype))
    if bias is not None:
        y = y + jnp.reshape(widened(bias), (-1,) + (1,) * dims)
    return (y[0] if unbatched else y).astype(dtype)
