"""A fusion barrier that XLA's CPU pipeline keeps."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from fnnet.typing import Array


def materialize(x: Array) -> Array:
    """``x`` unchanged, computed once into its own buffer.

    XLA fuses a cheap producer into each of its consumers and recomputes it there: a
    convolution's input read by 25 window slices would be recomputed 25 times. XLA's CPU
    pipeline drops ``optimization_barrier`` (tests/test_fast_conv.py checks that it still
    does), so the barrier is a conditional on a value read from ``x`` (never folded)
    whose branches both return ``x``; ``x * 1`` keeps JAX from forwarding the operand
    past the conditional, and NaNs pass through unchanged. Use it on primal values only:
    its predicate is not linear in ``x``, so JAX cannot transpose it on a tangent.
    """
    if x.size == 0:
        return x
    first = jnp.ravel(x)[0]
    out: Array = lax.cond(first == first, lambda v: v, lambda v: v * 1, x)
    return out
