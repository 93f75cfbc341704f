"""Sliding blocks: ``unfold`` gathers every ``kernel_size`` block of an image into a
column (im2col), ``fold`` sums columns back into an image (its transpose, col2im)."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from fnnet.nn.functional._utils import pair
from fnnet.typing import Array

IntPair = int | Sequence[int]


def _pairs(op: str, kernel_size: IntPair, dilation: IntPair, padding: IntPair,
           stride: IntPair) -> tuple[tuple[int, int], ...]:
    return (pair(kernel_size, "kernel_size", op), pair(dilation, "dilation", op),
            pair(padding, "padding", op, minimum=0), pair(stride, "stride", op))


def unfold(x: Array, kernel_size: IntPair, dilation: IntPair = 1, padding: IntPair = 0,
           stride: IntPair = 1) -> Array:
    """Every ``kernel_size`` block of ``x`` as a column.

    Args:
        x: ``[N, C, H, W]`` (or ``[C, H, W]``).
        kernel_size: the block's ``(kH, kW)``, an int or a pair (as each option below).
        dilation: the spacing of the block's taps.
        padding: zeros added on both sides of each spatial dimension.
        stride: the step between blocks.

    Returns:
        ``[N, C * kH * kW, L]`` (or ``[C * kH * kW, L]``), ``L`` the number of blocks; the
        column's entries run over ``C``, then the kernel's rows, then its columns.

    PyTorch equivalent: ``torch.nn.functional.unfold``.
    """
    if x.ndim not in (3, 4):
        raise ValueError(f"unfold: expected 3-D or 4-D input, got shape {tuple(x.shape)}")
    if x.ndim == 3:
        return unfold(x[None], kernel_size, dilation, padding, stride)[0]
    kernel, dil, pad, step = _pairs("unfold", kernel_size, dilation, padding, stride)
    patches = jax.lax.conv_general_dilated_patches(
        x, kernel, step, [(pad[0], pad[0]), (pad[1], pad[1])], rhs_dilation=dil,
        precision=jax.lax.Precision.HIGHEST)
    return patches.reshape(patches.shape[0], patches.shape[1], -1)


def fold(x: Array, output_size: IntPair, kernel_size: IntPair, dilation: IntPair = 1,
         padding: IntPair = 0, stride: IntPair = 1) -> Array:
    """The columns of ``x`` summed back into an image: the transpose of :func:`unfold`
    (overlapping blocks add up).

    Args:
        x: ``[N, C * kH * kW, L]`` (or ``[C * kH * kW, L]``).
        output_size: the image's ``(H, W)``.
        kernel_size: the block's ``(kH, kW)``, as given to :func:`unfold`.
        dilation: as given to :func:`unfold`.
        padding: as given to :func:`unfold`.
        stride: as given to :func:`unfold`.

    Returns:
        ``[N, C, H, W]`` (or ``[C, H, W]``).

    PyTorch equivalent: ``torch.nn.functional.fold``.
    """
    if x.ndim not in (2, 3):
        raise ValueError(f"fold: expected 2-D or 3-D input, got shape {tuple(x.shape)}")
    if x.ndim == 2:
        return fold(x[None], output_size, kernel_size, dilation, padding, stride)[0]
    kernel, dil, pad, step = _pairs("fold", kernel_size, dilation, padding, stride)
    size = pair(output_size, "output_size", "fold")
    blocks = kernel[0] * kernel[1]
    if x.shape[1] % blocks:
        raise ValueError(f"fold: expected size of input's dimension 1 to be divisible by the "
                         f"product of kernel_size, but got input.size(1)={x.shape[1]} and "
                         f"kernel_size={kernel}")
    image = jax.ShapeDtypeStruct((x.shape[0], x.shape[1] // blocks, *size), x.dtype)
    transpose = jax.linear_transpose(lambda img: unfold(img, kernel, dil, pad, step), image)
    expected = unfold(jnp.zeros(image.shape, x.dtype), kernel, dil, pad, step).shape
    if x.shape != expected:
        raise ValueError(f"fold: expected input of shape {expected} for output_size {size}, "
                         f"got {tuple(x.shape)}")
    folded: Array = transpose(x)[0]
    return folded


__all__ = ["fold", "unfold"]
