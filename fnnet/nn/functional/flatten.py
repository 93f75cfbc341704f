"""Merging a range of axes into one."""

from __future__ import annotations

import math

import jax.numpy as jnp

from fnnet.nn.functional._utils import normalize_dim
from fnnet.typing import Array


def flatten(x: Array, start_dim: int = 1, end_dim: int = -1) -> Array:
    """Merges axes ``start_dim`` to ``end_dim`` (inclusive) into one.

    Args:
        x: any shape, e.g. ``[N, C, H, W]``.
        start_dim: first axis to merge (default 1 keeps the batch axis, as ``nn.Flatten``).
        end_dim: last axis to merge.

    Returns:
        e.g. ``[N, C * H * W]`` for the defaults and a 4-D input.

    Raises:
        TypeError: ``x`` is not an array (a list of rows: ``jnp.asarray`` it first).
        ValueError: an axis is out of range or ``start_dim`` comes after ``end_dim``.

    PyTorch equivalent: ``torch.flatten(x, start_dim, end_dim)``; note that
    ``torch.flatten`` defaults to ``start_dim=0`` while ``nn.Flatten`` uses 1; here the
    default is ``nn.Flatten``'s.
    """
    if not hasattr(x, "shape") and not isinstance(x, int | float | complex):
        # a list would reach jnp.reshape, whose error names no argument
        raise TypeError(f"flatten: x must be an array (numpy or jax), got "
                        f"{type(x).__name__}; convert it with jnp.asarray")
    shape = tuple(jnp.shape(x))
    start = normalize_dim(start_dim, len(shape), "flatten", "start_dim")
    end = normalize_dim(end_dim, len(shape), "flatten", "end_dim")
    if start > end:
        raise ValueError(
            f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim}) "
            f"for input of shape {shape}"
        )
    if not shape:
        return jnp.reshape(x, (1,))
    new_shape = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
    return jnp.reshape(x, new_shape)
