"""Activations that cut at a threshold (``threshold``, the shrinkage functions), the
gated linear unit and the parametric ReLU."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fnnet.nn.functional._utils import normalize_dim
from fnnet.typing import Array


def threshold(x: Array, threshold: float, value: float) -> Array:
    """``x`` where ``x > threshold``, else ``value``.

    PyTorch equivalent: ``torch.nn.functional.threshold``.
    """
    return jnp.where(x > threshold, x, jnp.asarray(value, x.dtype))


def hardshrink(x: Array, lambd: float = 0.5) -> Array:
    """``x`` where ``|x| > lambd``, else 0. PyTorch: ``torch.nn.functional.hardshrink``."""
    return jnp.where(jnp.abs(x) > lambd, x, jnp.zeros((), x.dtype))


def softshrink(x: Array, lambd: float = 0.5) -> Array:
    """``x`` moved ``lambd`` toward 0, and 0 inside ``[-lambd, lambd]``.

    PyTorch equivalent: ``torch.nn.functional.softshrink``.
    """
    zero = jnp.zeros((), x.dtype)
    return jnp.where(x > lambd, x - lambd, jnp.where(x < -lambd, x + lambd, zero))


def tanhshrink(x: Array) -> Array:
    """``x - tanh(x)``. PyTorch equivalent: ``torch.nn.functional.tanhshrink``."""
    return x - jnp.tanh(x)


def glu(x: Array, dim: int = -1) -> Array:
    """The first half of ``x`` along ``dim`` gated by the sigmoid of the second half.

    Args:
        x: any shape whose size along ``dim`` is even.
        dim: the axis halved.

    Returns:
        ``x``'s shape with ``dim`` halved.

    PyTorch equivalent: ``torch.nn.functional.glu``.
    """
    axis = normalize_dim(dim, jnp.ndim(x), "glu")
    if x.shape[axis] % 2:
        raise ValueError(f"glu: Halving dimension must be even, but dimension {axis} is "
                         f"size {x.shape[axis]}")
    a, b = jnp.split(x, 2, axis=axis)
    return a * jax.nn.sigmoid(b)


def prelu(x: Array, weight: Array) -> Array:
    """``x`` where positive, else ``weight * x``, with one slope per channel (dim 1) or
    one shared slope.

    Args:
        x: ``[N, C, ...]`` (or any shape when ``weight`` has one element).
        weight: ``[C]`` or ``[1]``.

    PyTorch equivalent: ``torch.nn.functional.prelu``.
    """
    if weight.size != 1 and (jnp.ndim(x) < 2 or weight.size != x.shape[1]):
        channels = x.shape[1] if jnp.ndim(x) >= 2 else 1
        raise ValueError(f"prelu: Mismatch of parameter numbers and input channel size. "
                         f"Found parameter numbers = {weight.size} and channel size = "
                         f"{channels}.")
    if weight.size == 1:
        slope = weight.reshape(())
    else:
        slope = weight.reshape((-1,) + (1,) * (jnp.ndim(x) - 2))
    return jnp.where(x > 0, x, slope * x)
