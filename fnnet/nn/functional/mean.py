"""The mean as PyTorch computes it: the sum divided by the count, a true division.

XLA's algebraic simplifier rewrites a division by a constant, or by a broadcast value, into
a product with the rounded reciprocal, so ``jnp.mean`` of 182 ones and 18 zeros is
``182 * float32(0.005) = 0.90999997`` where PyTorch's ``sum / 200`` gives ``0.91000003``:
an accuracy printed with ``.mean().item()`` differed in its last digits a third of the time.
Passing the count through ``optimization_barrier``, at the shape of the sum, hides it from
that rewrite; the barrier has JAX's own differentiation and batching rules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax.numpy as jnp
from jax import lax

from fnnet.nn.functional._utils import widened
from fnnet.typing import Array


def mean(x: Array, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Array:
    """The mean of ``x`` over ``axis`` (all axes when None), as PyTorch divides it.

    float16 and bfloat16 are summed and divided in float32 and rounded once, as PyTorch's
    ``mean`` does. Integer and boolean ``x`` give ``jnp.mean``'s float result.

    Args:
        x: any shape.
        axis: the axes averaged over.
        keepdims: keep the averaged axes with size 1.

    Returns:
        ``x.sum(axis) / count``, of ``x``'s dtype.

    PyTorch equivalent: `torch.mean`.
    """
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return jnp.mean(x, axis=axis, keepdims=keepdims)
    axes = (tuple(range(x.ndim)) if axis is None
            else (axis,) if isinstance(axis, int) else tuple(axis))
    count = math.prod(x.shape[a] for a in axes)
    total = jnp.sum(widened(x), axis=axes, keepdims=keepdims)
    divisor: Array = lax.optimization_barrier(jnp.full(total.shape, count, total.dtype))
    return (total / divisor).astype(x.dtype)
