"""Adaptive max pooling: the maximum over PyTorch's adaptive windows."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from fnnet.typing import Array


def _max_axis(x: Array, axis: int, out: int) -> Array:
    """Max along one axis over windows ``[floor(i L / out), ceil((i + 1) L / out))``."""
    size = x.shape[axis]
    i = np.arange(out)
    start, end = (i * size) // out, -((-(i + 1) * size) // out)
    j = np.arange(size)
    inside = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])  # [out, L]
    moved = jnp.moveaxis(x, axis, -1)[..., None, :]  # [..., 1, L]
    windows = jnp.where(jnp.asarray(inside), moved, -jnp.inf)
    return jnp.moveaxis(jnp.max(windows, axis=-1), -1, axis)


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
    return _max_axis(_max_axis(x, x.ndim - 2, out_h), x.ndim - 1, out_w)
