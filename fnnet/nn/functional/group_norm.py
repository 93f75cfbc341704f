"""Group normalisation: statistics over groups of channels, per sample."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from fnnet.nn.functional._utils import in_dtype_of, widened
from fnnet.typing import Array


def group_norm(x: Array, num_groups: int, weight: Array | None = None,
               bias: Array | None = None, eps: float = 1e-5) -> Array:
    """Normalises each sample over groups of ``C / num_groups`` channels and all spatial
    positions (biased variance), then scales and shifts per channel.

    Args:
        x: ``[N, C, *]`` (``C`` divisible by ``num_groups``).
        num_groups: channel groups.
        weight: ``[C]`` scale, or None.
        bias: ``[C]`` shift, or None.
        eps: added to the variance inside the square root.

    Returns:
        An array of the shape of ``x``.

    PyTorch equivalent: ``torch.nn.functional.group_norm``.
    """
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected input [N, C, *] with C divisible by "
                         f"num_groups={num_groups}, got shape {tuple(x.shape)}")
    n, c = x.shape[:2]
    grouped = widened(x).reshape(n, num_groups, -1)
    mean = jnp.mean(grouped, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(grouped - mean), axis=-1, keepdims=True)
    y = ((grouped - mean) * lax.rsqrt(var + eps)).reshape(x.shape)
    channel = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(channel)
    if bias is not None:
        y = y + bias.reshape(channel)
    return in_dtype_of(y, x)
