"""max_pool2d over non-overlapping windows with a fused gradient: the CPU form.

JAX differentiates ``reduce_window`` max with ``select_and_scatter_add`` (and, for the
forward-mode rule, a reduce-window over value/index pairs), which XLA's CPU backend runs
many times slower than the pooling itself. When the windows tile the input (kernel ==
stride, no padding, no dilation: LeNet's ``max_pool2d(x, 2)``), a ``custom_jvp`` whose
tangent picks each window's first maximum transposes to one elementwise loop instead:
each window's gradient goes to the first maximum in row-major window order, as
PyTorch's (and ``select_and_scatter``'s) tie rule does.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from fnnet.nn.functional.kernels.barrier import materialize, materialize_tangent
from fnnet.typing import Array

Pair = tuple[int, int]


def tiles_input(kernel: Pair, strides: Pair, pads: Sequence[tuple[int, int]],
                dilations: Pair) -> bool:
    """True when the windows do not overlap and need no padding or dilation."""
    return (tuple(kernel) == tuple(strides) and tuple(dilations) == (1, 1)
            and all(lo == 0 and hi == 0 for lo, hi in pads))


def max_pool2d_tiled(x: Array, kernel: Pair) -> Array:
    """Max over ``kernel``-sized tiles of the last two axes of ``x [..., H, W]``.

    Rows and columns past the last whole tile are dropped (PyTorch's floor mode), and
    receive zero gradient.
    """
    out_h, out_w = x.shape[-2] // kernel[0], x.shape[-1] // kernel[1]
    if (out_h * kernel[0], out_w * kernel[1]) != x.shape[-2:]:
        x = x[..., :out_h * kernel[0], :out_w * kernel[1]]
    return _max_pool(x, tuple(kernel))


def xla_max_pool(x: Array, kernel: Pair) -> Array:
    """The portable form: ``lax.reduce_window`` max over ``kernel`` tiles (no padding)."""
    lead = x.ndim - 2
    if jnp.issubdtype(x.dtype, jnp.floating):
        init = np.array(-np.inf, x.dtype)
    else:
        init = np.array(np.iinfo(x.dtype).min, x.dtype)
    out: Array = lax.reduce_window(x, init, lax.max, (1,) * lead + kernel,
                                   (1,) * lead + kernel, "VALID")
    return out


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _max_pool(x: Array, kernel: Pair) -> Array:
    return xla_max_pool(x, kernel)


@_max_pool.defjvp
def _max_pool_jvp(kernel: Pair, primals: tuple[Array], tangents: tuple[Array]
                  ) -> tuple[Array, Array]:
    """The tangent at each window's first maximum: ``sum(dx_tiled * mask)`` over the
    window, whose transpose is one elementwise loop ``dx = where(mask, dy, 0)``."""
    (x,), (dx,) = primals, tangents
    # x is computed once for the taps' fusions. Its tangent gets a barrier too, which
    # transposes to one on the input's cotangent: without it, after an activation whose
    # derivative reads its output (tanh, sigmoid) and a conditional upstream (the
    # convolution's or BatchNorm's barrier), XLA's CPU backend computed wrong gradients
    # (tests/test_fast_conv.py has those stacks).
    x = materialize(x)
    dx = materialize_tangent(x, dx)
    lead = x.ndim - 2
    taps = [lax.slice(x, (0,) * lead + (i, j), x.shape[:lead] + (x.shape[-2], x.shape[-1]),
                      (1,) * lead + kernel)
            for i in range(kernel[0]) for j in range(kernel[1])]
    y = functools.reduce(jnp.maximum, taps)
    out_h, out_w = y.shape[-2:]
    # Index (row-major in the window) of the first tap equal to the maximum; a NaN is the
    # maximum of any window holding one.
    first = jnp.full(y.shape, len(taps), jnp.int32)
    for index in reversed(range(len(taps))):
        hit = (taps[index] == y) | jnp.isnan(taps[index])
        first = jnp.where(hit, index, first)
    # The gradient loop reads this once per input element, four times per window.
    first = materialize(first.astype(jnp.int8) if len(taps) < 128 else first)
    # [..., Ho, kH, Wo, kW] is the row-major layout of [..., H, W]: no transpose needed.
    tiled = x.shape[:lead] + (out_h, 1, out_w, 1)
    shape = (1,) * lead + (1, kernel[0], 1, kernel[1])
    position = (lax.broadcasted_iota(jnp.int32, shape, lead + 1) * kernel[1]
                + lax.broadcasted_iota(jnp.int32, shape, lead + 3))
    mask = first.reshape(tiled) == position
    blocks = x.shape[:lead] + (out_h, kernel[0], out_w, kernel[1])
    dy = jnp.sum(jnp.where(mask, dx.reshape(blocks), jnp.zeros((), dx.dtype)),
                 axis=(lead + 1, lead + 3))
    return y, materialize_tangent(y, dy)
