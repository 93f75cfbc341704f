"""Adaptive max pooling: the maximum over PyTorch's adaptive windows."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from fnnet.typing import Array


def _windows(x: Array, axis: int, out: int) -> Array:
    """``x``'s windows ``[floor(i L / out), ceil((i + 1) L / out))`` along ``axis`` as a
    last axis of length ``L`` (``-inf`` outside the window), after a new axis of ``out``:
    ``[..., out, L]``."""
    size = x.shape[axis]
    i = np.arange(out)
    start, end = (i * size) // out, -((-(i + 1) * size) // out)
    j = np.arange(size)
    inside = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])  # [out, L]
    moved = jnp.moveaxis(x, axis, -1)[..., None, :]  # [..., 1, L]
    return jnp.where(jnp.asarray(inside), moved, -jnp.inf)


def _first_max(windows: Array) -> tuple[Array, Array]:
    """The first maximum along the last axis and its position (keeping the axis): the
    value is taken at the position, so that its gradient goes there alone, as
    PyTorch's (``jnp.max``'s is shared among equal maxima)."""
    first = jnp.argmax(windows, axis=-1, keepdims=True)
    return jnp.take_along_axis(windows, first, axis=-1)[..., 0], first


def _max_axis(x: Array, axis: int, out: int) -> Array:
    """Max along one axis over the adaptive windows."""
    return jnp.moveaxis(_first_max(_windows(x, axis, out))[0], -1, axis)


def adaptive_max_pool2d(x: Array, output_size: int | Sequence[int | None]) -> Array:
    """Max pooling to a fixed output size: cell ``(i, j)`` is the maximum over rows
    ``floor(i H / H_out)`` to ``ceil((i + 1) H / H_out) - 1`` and the columns likewise.

    Args:
        x: ``[N, C, H, W]`` or ``[C, H, W]``.
        output_size: ``H_out`` (square) or ``(H_out, W_out)``; None keeps that size.

    Returns:
        ``[..., H_out, W_out]``.

    PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool2d``.
    """
    if x.ndim not in (3, 4):
        raise ValueError(f"adaptive_max_pool2d: expected [N, C, H, W] or [C, H, W], got "
                         f"shape {tuple(x.shape)}")
    sizes = (output_size, output_size) if isinstance(output_size, int) else \
        tuple(output_size)
    if len(sizes) != 2:
        raise TypeError(f"adaptive_max_pool2d: output_size must be an int or a pair, got "
                        f"{output_size!r}")
    out_h, out_w = (x.shape[a] if s is None else s for a, s in zip((-2, -1), sizes,
                                                                   strict=True))
    if min(out_h, out_w) < 1:
        raise ValueError(f"adaptive_max_pool2d: output_size must be positive, got "
                         f"{output_size!r}")
    # the last axis first: the maximum kept is the first in row-major order, PyTorch's
    return _max_axis(_max_axis(x, x.ndim - 1, out_w), x.ndim - 2, out_h)


def _adaptive_max(x: Array, output_size: int | Sequence[int | None], dims: int,
                  op: str) -> Array:
    """Max pooling of the last ``dims`` axes to ``output_size``, one axis at a time (the
    windows are products of per-axis windows, so the maxima compose), the last axis
    first, so that the maximum kept is the first in row-major order, PyTorch's."""
    sizes = _output_sizes(x, output_size, dims, op)
    for axis, out in reversed(list(zip(range(x.ndim - dims, x.ndim), sizes, strict=True))):
        x = _max_axis(x, axis, out)
    return x


def _output_sizes(x: Array, output_size: int | Sequence[int | None], dims: int,
                  op: str) -> list[int]:
    """The checked output size of each of the last ``dims`` axes (None keeps the input's)."""
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: expected {dims + 1}-D or {dims + 2}-D input, got shape "
                         f"{tuple(x.shape)}")
    sizes = (output_size,) * dims if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != dims:
        raise TypeError(f"{op}: output_size must be an int or {dims} ints, got "
                        f"{output_size!r}")
    outs = [x.shape[axis] if size is None else size
            for axis, size in zip(range(x.ndim - dims, x.ndim), sizes, strict=True)]
    if min(outs) < 1:
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return outs


def adaptive_max_pool1d(x: Array, output_size: int | Sequence[int]) -> Array:
    """Max pooling of ``[N, C, L]`` (or ``[C, L]``) to ``L_out`` windows, as
    :func:`adaptive_max_pool2d` along one axis.

    PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool1d``.
    """
    return _adaptive_max(x, output_size, 1, "adaptive_max_pool1d")


def adaptive_max_pool3d(x: Array, output_size: int | Sequence[int | None]) -> Array:
    """Max pooling of ``[N, C, D, H, W]`` (or ``[C, D, H, W]``) to ``(D_out, H_out,
    W_out)`` (an int: a cube; None keeps that size), as :func:`adaptive_max_pool2d`.

    PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool3d``.
    """
    return _adaptive_max(x, output_size, 3, "adaptive_max_pool3d")


def _with_indices(x: Array, output_size: int | Sequence[int | None], dims: int,
                  op: str) -> tuple[Array, Array]:
    """Adaptive max pooling of the last ``dims`` axes and each maximum's flat position in
    its input plane, one axis at a time from the last: the first maximum of a row, then
    the first row holding the window's maximum, which is the first maximum in row-major
    order (PyTorch's)."""
    outs = _output_sizes(x, output_size, dims, op)
    spatial = x.shape[x.ndim - dims:]
    values, index = x, None
    for k in reversed(range(dims)):
        axis = x.ndim - dims + k
        windows = _windows(values, axis, outs[k])  # [..., out_k, L_k]
        maxima, first = _first_max(windows)
        values = jnp.moveaxis(maxima, -1, axis)
        position = first[..., 0].astype(jnp.int32) * int(np.prod(spatial[k + 1:]))
        if index is not None:  # the position found along the later axes, at this one's
            later = jnp.broadcast_to(jnp.moveaxis(index, axis, -1)[..., None, :],
                                     windows.shape)
            position = position + jnp.take_along_axis(later, first, axis=-1)[..., 0]
        index = jnp.moveaxis(position, -1, axis)
    assert index is not None
    return values, index


def adaptive_max_pool1d_with_indices(x: Array, output_size: int | Sequence[int]
                                     ) -> tuple[Array, Array]:
    """:func:`adaptive_max_pool1d` and where each maximum came from.

    Args:
        x: ``[N, C, L]`` or ``[C, L]``.
        output_size: ``L_out``.

    Returns:
        ``(values, indices)``, both ``[..., L_out]``: ``indices`` is each maximum's
        position along ``L`` (the first maximum of its window), int32.

    PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool1d(...,
    return_indices=True)``.
    """
    return _with_indices(x, output_size, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d_with_indices(x: Array, output_size: int | Sequence[int | None]
                                     ) -> tuple[Array, Array]:
    """:func:`adaptive_max_pool2d` and each maximum's flat position ``h * W + w`` in its
    input plane (the first in row-major order), int32; :func:`max_unpool2d` takes them.

    PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool2d(...,
    return_indices=True)``.
    """
    return _with_indices(x, output_size, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d_with_indices(x: Array, output_size: int | Sequence[int | None]
                                     ) -> tuple[Array, Array]:
    """:func:`adaptive_max_pool3d` and each maximum's flat position ``(d * H + h) * W + w``
    in its input volume, int32.

    PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool3d(...,
    return_indices=True)``.
    """
    return _with_indices(x, output_size, 3, "adaptive_max_pool3d")
