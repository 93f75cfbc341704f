"""Barriers that XLA's CPU pipeline keeps: against fusion, and against hoisting."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import jax
import jax.numpy as jnp
from jax import lax

from fnnet.typing import Array

T = TypeVar("T")


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
    return materialize_tangent(x, x)


def materialize_tangent(primal: Array, tangent: Array) -> Array:
    """``tangent`` unchanged, computed once into its own buffer, and so is its cotangent
    in reverse mode: a barrier linear in ``tangent``, whose predicate is read from
    ``primal`` (a value of the same step, never a tangent), so that JAX transposes it
    into the same barrier on the cotangent. A rule that reads its incoming cotangent
    several times (the pooling's gradient reads it once per window element) thereby
    reads it from memory instead of recomputing its producer in each read.
    """
    if primal.size == 0:
        return tangent
    first = jnp.ravel(primal)[0]
    out: Array = lax.cond(first == first, lambda v: v, lambda v: v * 1, tangent)
    return out


def deferred(fn: Callable[..., T], *operands: Array) -> T:
    """``fn(*operands)``, evaluated inside a conditional of its own.

    Differentiated, ``fn``'s linear part is transposed inside the conditional and its
    other part recomputed there from ``operands`` (a ``jax.checkpoint``), so the backward
    pass holds only ``operands``. Without the conditional, XLA's CPU scheduler moves that
    recomputation (which reads forward values alone) into the forward pass and keeps its
    results alive until the backward. The predicate is read from ``operands[0]``, which
    must not be a tangent; the second branch scales it by one so that XLA cannot merge
    the two.
    """
    remat = jax.checkpoint(fn, prevent_cse=False)
    first = jnp.ravel(operands[0])[0]
    out: T = lax.cond(first == first, remat,
                      lambda head, *rest: remat(head * 1, *rest), *operands)
    return out
