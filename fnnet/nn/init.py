"""PyTorch's default parameter initialisations, as pure functions of a PRNG key.

PyTorch initialises Linear and Conv2d weights with ``kaiming_uniform_(a=sqrt(5))``,
which is ``U(-b, b)`` with ``b = sqrt(6 / ((1 + a**2) * fan_in)) = 1 / sqrt(fan_in)``,
and their biases with ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

Every draw is made as a flat vector and reshaped: JAX gives each element the random bits
of its flat index, so the values are exactly those of a draw of the weight's shape, and
the program a rank-1 draw compiles to is smaller than a rank-4 one. Outside ``jit``
(JAX's threefry bits of an element depend on its index alone), a uniform or normal draw
is made in chunks of :data:`CHUNK` values by one program per kind and dtype, whatever
the sizes and shapes, so a model's first ``init`` compiles one or two programs; another
draw of ``n`` values (``bernoulli``) is the first ``n`` of a draw of the next power of
two, one program per size class.
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

#: The largest draw made in chunks or rounded up to a power of two: beyond it the draw
#: itself costs more than its compile, and the copies (or the extra values) would take
#: memory.
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
    if size <= 1 or not _by_index(key, size, *operands):
        return size
    return 1 << (size - 1).bit_length()


def _by_index(key: PRNGKey, size: int, *operands: object) -> bool:
    """Whether each value of a draw of ``size`` values from ``key`` is a function of its
    flat index alone, computed now: threefry keys with ``jax_threefry_partitionable``,
    outside a trace, up to :data:`MAX_ROUNDED_DRAW` values."""
    traced = any(isinstance(v, jax.core.Tracer) for v in (key, *operands))
    return not (size > MAX_ROUNDED_DRAW or traced or not _partitionable()
                or str(jax.random.key_impl(key)) != "threefry2x32")


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


#: PyTorch's gains, the int 1 of the linear functions and sigmoid included
_GAINS: dict[str, float] = {
    **dict.fromkeys(("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                     "conv_transpose2d", "conv_transpose3d", "sigmoid"), 1),
    "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance through ``nonlinearity``.

    Args:
        nonlinearity: ``"relu"``, ``"leaky_relu"``, ``"tanh"``, ``"selu"``,
            ``"sigmoid"``, ``"linear"`` or a convolution's name.
        param: the negative slope of ``"leaky_relu"`` (default 0.01).

    Raises:
        ValueError: an unknown ``nonlinearity``, in PyTorch's words.

    PyTorch equivalent: ``torch.nn.init.calculate_gain``.
    """
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"Unsupported nonlinearity {nonlinearity}")
    return _GAINS[nonlinearity]


def fans(shape: Shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` laid out as PyTorch lays it
    (``[out, in, *kernel]``; a transposed convolution's ``[in, out, *kernel]`` is read
    the same way, as PyTorch reads it).

    PyTorch equivalent: ``torch.nn.init._calculate_fan_in_and_fan_out``.
    """
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than "
                         "2 dimensions")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def kaiming_std(shape: Shape, a: float = 0.0, mode: str = "fan_in",
                nonlinearity: str = "leaky_relu") -> float:
    """``gain / sqrt(fan)``: the standard deviation of He initialisation (``sqrt(3)``
    times it is the uniform bound), in PyTorch's arithmetic."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of "
                         f"{['fan_in', 'fan_out']}")
    fan_in, fan_out = fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def uniform(key: PRNGKey, shape: Shape, bound: float, dtype: DTypeLike = jnp.float32) -> Array:
    """``U(-bound, bound)``. PyTorch equivalent: ``torch.nn.init.uniform_``."""
    return uniform_between(key, shape, -bound, bound, dtype)


#: Values per call of the program that makes every draw outside ``jit``
#: (:func:`_chunked_draw`).
CHUNK = 1 << 16


def _chunk_dtype(dtype: DTypeLike) -> bool:
    """Whether :func:`_chunk` draws ``dtype`` as ``jax.random`` does: floats of at most
    32 bits, whose bits come from one 32-bit threefry word per element."""
    return bool(jnp.issubdtype(dtype, jnp.floating)) and jnp.finfo(dtype).bits <= 32


@functools.partial(jax.jit, static_argnums=(2, 3))
def _chunk(words: Array, start: Array, kind: str, dtype: DTypeLike, low: Array,
           high: Array, scale: Array, shift: Array) -> Array:
    """Values ``start .. start + CHUNK`` of a flat ``jax.random.uniform`` (``kind``
    'uniform', in ``[low, high)``) or ``jax.random.normal`` draw from the threefry key
    ``words``, times ``scale`` plus ``shift``: one program for every size and position.

    JAX's partitionable threefry hashes each element's flat index; this repeats its
    steps (``_threefry_random_bits_partitionable``, then ``uniform``'s mantissa fill and
    ``normal``'s inverse error function) for the indices of one chunk, so the values are
    bit for bit those of the whole draw (tests/test_init.py compares them).
    """
    from jax.extend.random import threefry2x32_p

    index = start + lax.iota(jnp.uint32, CHUNK)
    bits1, bits2 = threefry2x32_p.bind(words[0], words[1], jnp.zeros_like(index), index)
    finfo = jnp.finfo(dtype)
    width = 8 if finfo.nmant < 8 else finfo.bits
    unsigned = {8: jnp.uint8, 16: jnp.uint16, 32: jnp.uint32}
    bits = lax.convert_element_type(bits1 ^ bits2, unsigned[width])
    bits = lax.convert_element_type(bits, unsigned[finfo.bits])
    one = np.array(1.0, dtype).view(unsigned[finfo.bits])
    mantissa = lax.shift_right_logical(bits, jnp.array(width - finfo.nmant, bits.dtype))
    floats = lax.bitcast_convert_type(mantissa | one, dtype) - jnp.array(1.0, dtype)
    values = lax.max(low, floats * (high - low) + low)
    if kind == "normal":
        values = lax.mul(np.array(np.sqrt(2), dtype), lax.erf_inv(values))
    # rounded as the draw's own program rounds it before the scaling (XLA would otherwise
    # fold scale into normal's constant factor)
    out: Array = shift + scale * lax.optimization_barrier(values)
    return out


def _chunked_draw(key: PRNGKey, shape: Shape, kind: str, dtype: DTypeLike,
                  low: float = 0.0, high: float = 1.0, scale: float = 1.0,
                  shift: float = 0.0) -> Array:
    """``shift + scale`` times a flat draw of ``prod(shape)`` values, in ``shape``, by
    calls of :func:`_chunk` joined on the host: a model's first init compiles one
    program per kind of draw, not one per size class and weight shape."""
    size = math.prod(shape)
    words = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) \
        else key
    if kind == "normal":  # jax.random.normal's interval for its uniform values
        low, high = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype)), 1.0
    # the bounds rounded to dtype once, as jax.random.uniform rounds its Python floats
    bounds = [jnp.asarray(np.asarray(bound, dtype)) for bound in (low, high)]
    parts = [np.asarray(_chunk(words, np.uint32(start), kind, dtype, *bounds, scale, shift))
             for start in range(0, size, CHUNK)]
    joined = np.concatenate(parts)[:size] if parts else np.zeros(0, dtype)
    drawn: Array = jax.device_put(joined.reshape(shape))
    return drawn


def _chunks_apply(key: PRNGKey, size: int, dtype: DTypeLike, *operands: object) -> bool:
    """Whether a draw of ``size`` values of ``dtype`` goes by :func:`_chunked_draw`:
    outside a trace, with threefry keys whose bits are partitionable (JAX's default), up
    to :data:`MAX_ROUNDED_DRAW` values."""
    return _chunk_dtype(dtype) and _by_index(key, size, *operands)


def uniform_between(key: PRNGKey, shape: Shape, low: float, high: float,
                    dtype: DTypeLike = jnp.float32) -> Array:
    """``U(low, high)``: ``jax.random.uniform``'s values for ``shape``, drawn flat.
    PyTorch equivalent: ``torch.nn.init.uniform_(w, low, high)``."""
    size = math.prod(shape)
    if _chunks_apply(key, size, dtype, low, high):
        return _chunked_draw(key, tuple(shape), "uniform", dtype, low, high)
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
    size = math.prod(shape)
    if _chunks_apply(key, size, dtype, std, mean):
        return _chunked_draw(key, tuple(shape), "normal", dtype, scale=std, shift=mean)
    flat = jax.random.normal(key, (_drawn(key, size),), dtype)
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


def kaiming_normal(key: PRNGKey, shape: Shape, a: float = 0.0, mode: str = "fan_in",
                   nonlinearity: str = "leaky_relu", dtype: DTypeLike = jnp.float32) -> Array:
    """He-normal: ``N(0, std**2)`` with ``std = gain / sqrt(fan)`` (:func:`kaiming_std`).

    Args:
        key: the PRNG key.
        shape: the weight's shape, PyTorch's layout (``[out, in, *kernel]``).
        a: the negative slope of ``"leaky_relu"``.
        mode: ``"fan_in"`` or ``"fan_out"``.
        nonlinearity: see :func:`calculate_gain`.
        dtype: the array's dtype.

    PyTorch equivalent: ``torch.nn.init.kaiming_normal_(w, a, mode, nonlinearity)``.
    """
    return normal(key, shape, kaiming_std(shape, a, mode, nonlinearity), dtype)


def xavier_uniform(key: PRNGKey, shape: Shape, gain: float = 1.0,
                   dtype: DTypeLike = jnp.float32) -> Array:
    """Glorot-uniform: ``U(-b, b)``, ``b = gain * sqrt(6 / (fan_in + fan_out))``, with
    PyTorch's fans of its layouts (``jax.nn.initializers.glorot_uniform`` reads the
    last two axes as ``in, out``, which a ``[out, in, kH, kW]`` convolution is not).

    PyTorch equivalent: ``torch.nn.init.xavier_uniform_(w, gain)``.
    """
    fan_in, fan_out = fans(shape)
    bound = math.sqrt(3.0) * (gain * math.sqrt(2.0 / float(fan_in + fan_out)))
    return uniform(key, shape, bound, dtype)


def xavier_normal(key: PRNGKey, shape: Shape, gain: float = 1.0,
                  dtype: DTypeLike = jnp.float32) -> Array:
    """Glorot-normal: ``N(0, std**2)``, ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    PyTorch equivalent: ``torch.nn.init.xavier_normal_(w, gain)``.
    """
    fan_in, fan_out = fans(shape)
    return normal(key, shape, gain * math.sqrt(2.0 / float(fan_in + fan_out)), dtype)


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
