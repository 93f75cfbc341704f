"""PyTorch's default parameter initialisations, as pure functions of a PRNG key.

PyTorch initialises Linear and Conv2d weights with ``kaiming_uniform_(a=sqrt(5))``,
which is ``U(-b, b)`` with ``b = sqrt(6 / ((1 + a**2) * fan_in)) = 1 / sqrt(fan_in)``,
and their biases with ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

Every draw is made as a flat vector and reshaped: JAX gives each element the random bits
of its flat index, so the values are exactly those of a draw of the weight's shape, and
the program a rank-1 draw compiles to is smaller than a rank-4 one. Outside ``jit``, a
draw of ``n`` values is the first ``n`` of a draw of the next power of two (JAX's
threefry bits of an element depend on its index alone), so a model's first ``init``
compiles one draw per size class instead of one per distinct weight shape.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import DTypeLike

from fnnet.typing import Array, PRNGKey, Shape

#: The largest draw rounded up to a power of two: beyond it the draw itself costs more
#: than its compile, and the extra values would take memory.
MAX_ROUNDED_DRAW = 1 << 24


def _partitionable() -> bool:
    """Whether ``jax_threefry_partitionable`` is on (a flag jax defines at run time, so
    read by name)."""
    return bool(getattr(jax.config, "jax_threefry_partitionable"))  # noqa: B009


def _drawn(key: PRNGKey, size: int, *operands: object) -> int:
    """How many values to draw for ``size``: the next power of two where the first
    ``size`` of them are the values of a draw of ``size`` (threefry keys with
    ``jax_threefry_partitionable``, outside a trace, up to :data:`MAX_ROUNDED_DRAW`),
    else ``size``. Draws of sizes in one class then share one compiled program."""
    traced = any(isinstance(v, jax.core.Tracer) for v in (key, *operands))
    if (size <= 1 or size > MAX_ROUNDED_DRAW or traced
            or not _partitionable()
            or str(jax.random.key_impl(key)) != "threefry2x32"):
        return size
    return 1 << (size - 1).bit_length()


def _first(flat: Array, shape: Shape, scale: float = 1.0, shift: float = 0.0) -> Array:
    """``shift + scale`` times the first ``prod(shape)`` values of a flat draw, in
    ``shape``, as one program (per shape) however the numbers are."""
    if scale == 1.0 and shift == 0.0:
        if flat.shape[0] == math.prod(shape):  # not rounded up
            return flat.reshape(shape)
        taken: Array = _take(flat, shape)
        return taken
    scaled: Array = _take_scaled(flat, shape, scale, shift)
    return scaled


@functools.partial(jax.jit, static_argnums=(1,))
def _take(flat: Array, shape: Shape) -> Array:
    """The slice and the reshape of a rounded-up draw, in one program."""
    return lax.slice(flat, (0,), (math.prod(shape),)).reshape(shape)


@functools.partial(jax.jit, static_argnums=(1,))
def _take_scaled(flat: Array, shape: Shape, scale: float, shift: float) -> Array:
    """``shift + scale`` times :func:`_take`'s values (both traced: one program for any)."""
    return (shift + scale * lax.slice(flat, (0,), (math.prod(shape),))).reshape(shape)


def constant(shape: Shape, value: float, dtype: DTypeLike = jnp.float32) -> Array:
    """``value`` in every element of ``shape`` (a norm layer's ones and zeros), filled by
    numpy and copied to the device: ``jnp.full`` compiles a program for each new shape.
    PyTorch equivalent: ``torch.nn.init.constant_``."""
    filled: Array = jax.device_put(np.full(tuple(shape), value, dtype))
    return filled


def fan_in(shape: Shape) -> int:
    """Fan-in of a weight laid out as PyTorch lays it (``[out, in, *kernel]``)."""
    if len(shape) < 2:
        raise ValueError(f"fan_in: expected a weight of rank >= 2, got shape {shape}")
    return math.prod(shape[1:])


def uniform(key: PRNGKey, shape: Shape, bound: float, dtype: DTypeLike = jnp.float32) -> Array:
    """``U(-bound, bound)``. PyTorch equivalent: ``torch.nn.init.uniform_``."""
    return uniform_between(key, shape, -bound, bound, dtype)


def uniform_between(key: PRNGKey, shape: Shape, low: float, high: float,
                    dtype: DTypeLike = jnp.float32) -> Array:
    """``U(low, high)``: ``jax.random.uniform``'s values for ``shape``, drawn flat.
    PyTorch equivalent: ``torch.nn.init.uniform_(w, low, high)``."""
    size = math.prod(shape)
    flat = jax.random.uniform(key, (_drawn(key, size, low, high),), dtype, minval=low,
                              maxval=high)
    return _first(flat, tuple(shape))


def bernoulli(key: PRNGKey, p: float | Array, shape: Shape) -> Array:
    """True with probability ``p`` (a number, or an array of ``shape``):
    ``jax.random.bernoulli``'s values for ``shape``, drawn flat (dropout's mask, the
    PyTorch shim's ``bernoulli``)."""
    size = math.prod(shape)
    if jnp.ndim(p) != 0:  # one probability per element: drawn at the weight's size
        return jax.random.bernoulli(key, jnp.ravel(p), (size,)).reshape(shape)
    return _first(jax.random.bernoulli(key, p, (_drawn(key, size, p),)), tuple(shape))


def normal(key: PRNGKey, shape: Shape, std: float = 1.0,
           dtype: DTypeLike = jnp.float32, mean: float = 0.0) -> Array:
    """``N(mean, std**2)``. PyTorch equivalent: ``torch.nn.init.normal_(w, mean, std)``."""
    flat = jax.random.normal(key, (_drawn(key, math.prod(shape)),), dtype)
    return _first(flat, tuple(shape), std, mean)


def kaiming_uniform(key: PRNGKey, shape: Shape, a: float = math.sqrt(5.0),
                    dtype: DTypeLike = jnp.float32) -> Array:
    """He-uniform with leaky-ReLU slope ``a``, fan-in mode.

    PyTorch equivalent: ``torch.nn.init.kaiming_uniform_(w, a=a)``.
    """
    gain = math.sqrt(2.0 / (1.0 + a * a))
    return uniform(key, shape, gain * math.sqrt(3.0 / fan_in(shape)), dtype)


def kaiming_normal_fan_out(key: PRNGKey, shape: Shape, dtype: DTypeLike = jnp.float32) -> Array:
    """He-normal for ReLU in fan-out mode, as torchvision's ResNet initialises convs.

    PyTorch equivalent: ``kaiming_normal_(w, mode="fan_out", nonlinearity="relu")``.
    """
    fan_out = shape[0] * math.prod(shape[2:])
    return normal(key, shape, math.sqrt(2.0 / fan_out), dtype)


def orthogonal(key: PRNGKey, shape: Shape, gain: float = 1.0,
               dtype: DTypeLike = jnp.float32) -> Array:
    """A (semi-)orthogonal matrix of ``shape[0]`` rows and ``prod(shape[1:])`` columns,
    reshaped to ``shape``: :func:`orthonormalized` of a Gaussian matrix, times ``gain``.

    PyTorch equivalent: ``torch.nn.init.orthogonal_(w, gain)``.
    """
    if len(shape) < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    rows, cols = shape[0], math.prod(shape[1:])
    flat = jax.random.normal(key, (rows, cols) if rows >= cols else (cols, rows), dtype)
    return orthonormalized(flat if rows >= cols else flat.T, gain).reshape(shape).astype(dtype)


def orthonormalized(gaussian: Array, gain: float = 1.0) -> Array:
    """``gain`` times the Q of the QR of ``gaussian: [rows, cols]`` (of its transpose,
    transposed back, where it is wider than tall) with R's diagonal made positive
    (Saxe et al., 2013): orthonormal columns, or rows, of the same shape.

    PyTorch equivalent: the arithmetic of ``torch.nn.init.orthogonal_`` after its draw.
    """
    rows, cols = gaussian.shape
    tall = gaussian if rows >= cols else gaussian.T
    q, r = jnp.linalg.qr(tall)
    q = q * jnp.sign(jnp.diagonal(r))[None, :]
    return gain * (q if rows >= cols else q.T)


def bias_uniform(key: PRNGKey, size: int, fan: int, dtype: DTypeLike = jnp.float32) -> Array:
    """PyTorch's default bias: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
    bound = 1.0 / math.sqrt(fan) if fan > 0 else 0.0
    return uniform(key, (size,), bound, dtype)
