"""When to take the CPU formulations of conv2d and max_pool2d, and a fusion barrier.

XLA's CPU convolutions (above all their weight gradients) and its max-pool gradient
(``select_and_scatter``) are several times slower than the same arithmetic written as
matrix products and fused elementwise loops; ``_conv_cpu`` and ``_pool_cpu`` hold those
formulations. They compute the same numbers (up to float32 summation order) and are used
only where they are faster: on the CPU backend, for floating-point inputs. Set the
environment variable ``FNNET_CPU_KERNELS=xla`` to turn them off (for comparisons).
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
from jax import lax

from fnnet.typing import Array

FAST_DTYPES = (jnp.float32, jnp.float64)


def use_cpu_kernels(*arrays: Array) -> bool:
    """True on the CPU backend for float32/float64 inputs, unless turned off by
    ``FNNET_CPU_KERNELS=xla``."""
    if os.environ.get("FNNET_CPU_KERNELS", "fast") == "xla":
        return False
    if jax.default_backend() != "cpu":
        return False
    return all(jnp.dtype(a.dtype) in FAST_DTYPES for a in arrays)


def materialize(x: Array) -> Array:
    """``x`` unchanged, computed once into its own buffer.

    XLA fuses a cheap producer into each of its consumers and recomputes it there: a
    convolution's input read by 25 window slices would be recomputed 25 times. XLA's CPU
    pipeline drops ``optimization_barrier``, so the barrier is a conditional on a value
    read from ``x`` (never folded) whose branches both return ``x`` (``x * 1`` keeps
    JAX from forwarding the operand past the conditional; NaNs pass through unchanged).
    """
    if x.size == 0:
        return x
    first = jnp.ravel(x)[0]
    out: Array = lax.cond(first == first, lambda v: v, lambda v: v * 1, x)
    return out
