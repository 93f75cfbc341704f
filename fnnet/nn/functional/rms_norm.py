"""Root-mean-square normalisation (Zhang & Sennrich, 2019), the norm of LLaMA-style models."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jax import lax

from fnnet.nn.functional._utils import in_dtype_of, widened
from fnnet.typing import Array


def rms_norm(x: Array, normalized_shape: Sequence[int], weight: Array | None = None,
             eps: float | None = None) -> Array:
    """Divides by the root mean square over the trailing ``normalized_shape`` axes.

    ``y = x / sqrt(mean(x**2) + eps) * weight``; no mean is subtracted and there is no
    bias. Half-precision inputs are normalised in float32 and the result cast back, as
    PyTorch computes them.

    Args:
        x: ``[*, *normalized_shape]``, floating.
        normalized_shape: the trailing shape that is normalised.
        weight: the ``normalized_shape``-shaped scale, or None.
        eps: added to the mean square; None: the machine epsilon of the dtype computed
            in.

    Raises:
        ValueError: ``x`` does not end in ``normalized_shape``.

    PyTorch equivalent: ``torch.nn.functional.rms_norm``.
    """
    shape = tuple(normalized_shape)
    if tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ValueError(f"rms_norm: expected input with trailing shape {list(shape)}, "
                         f"got shape {tuple(x.shape)}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    wide = widened(x)
    if eps is None:  # the epsilon of the dtype computed in (float32 for half inputs)
        eps = float(jnp.finfo(wide.dtype).eps)
    y = wide * lax.rsqrt(jnp.mean(jnp.square(wide), axis=axes, keepdims=True) + eps)
    if weight is not None:
        y = y * weight
    return in_dtype_of(y, x)
