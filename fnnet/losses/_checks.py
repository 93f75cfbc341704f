"""Argument checks and the reduction step shared by every loss (no loss math lives here).

Every check runs on shapes, dtypes and Python values, so it runs once at trace time
under ``jax.jit``; only :func:`is_concrete` looks at whether values can be read.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from fnnet.nn.functional.mean import mean
from fnnet.typing import Array

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(loss: str, reduction: Any) -> None:
    """Raises a ValueError naming ``loss`` unless ``reduction`` is 'mean', 'sum' or 'none'."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(
            f"{loss}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )


def reduce(loss: Array, reduction: str) -> Array:
    """``loss`` averaged, summed or returned as is, as PyTorch's ``reduction`` does."""
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return jnp.sum(loss)
    return loss


def as_array(loss: str, name: str, x: Any) -> Array:
    """``x`` as a jax array; a TypeError naming ``loss`` and ``name`` for non-arrays."""
    if isinstance(x, (jax.Array, jax.core.Tracer)):
        return x
    if isinstance(x, (str, bytes, dict, set)) or x is None:
        raise TypeError(f"{loss}: {name} must be an array, got {type(x).__name__}")
    try:
        return jnp.asarray(x)
    except TypeError as error:
        raise TypeError(f"{loss}: {name} must be an array, got {type(x).__name__}") from error


def check_floating(loss: str, name: str, x: Array) -> None:
    """Raises a TypeError unless ``x`` holds floating-point values."""
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"{loss}: {name} must be a floating-point array, got dtype {x.dtype}")


def check_same_shape(loss: str, input: Array, target: Array) -> None:
    """Raises a ValueError unless ``input`` and ``target`` have the same shape.

    PyTorch broadcasts (with a warning) in the elementwise losses; fnnet refuses, since a
    ``[N, 1]`` input against a ``[N]`` target silently becomes an ``[N, N]`` loss.
    """
    if input.shape != target.shape:
        raise ValueError(
            f"{loss}: target must have the shape of input {tuple(input.shape)}, "
            f"got {tuple(target.shape)}"
        )


def check_weight(loss: str, weight: Any, shape: tuple[int, ...], *, name: str = "weight",
                 exact: bool = False) -> Array:
    """``weight`` as a float array broadcastable to ``shape`` (or of exactly ``shape``)."""
    array: Array = as_array(loss, name, weight)
    check_floating(loss, name, array)
    if exact:
        ok = tuple(array.shape) == tuple(shape)
        expected = f"of shape {tuple(shape)}"
    else:
        try:
            ok = jnp.broadcast_shapes(array.shape, shape) == tuple(shape)
        except ValueError:
            ok = False
        expected = f"broadcastable to {tuple(shape)}"
    if not ok:
        raise ValueError(f"{loss}: {name} must be {expected}, got shape {tuple(array.shape)}")
    return array


def is_concrete(x: Any) -> bool:
    """Whether ``x``'s values can be read now (False inside ``jit`` and for traced inputs)."""
    return not isinstance(x, jax.core.Tracer)
