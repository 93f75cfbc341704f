"""The pure jax functions that ``Tensor``'s methods record (the op table).

Each is a module-level function, so its identity is stable and part of a structure's
key; its name is what ``grad_fn`` reports (see ``_grad_fn``). Arguments after the
arrays are the node's static arguments. Nothing here knows about tensors or tapes.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special
import numpy as np

from fnnet.losses.regression import absolute
from fnnet.nn import functional as fnf
from fnnet.nn.functional.distance import norm_from_squares
from fnnet.nn.functional.mean import mean as true_mean
from fnnet.torch._dtypes import SCALAR_NAMES
from fnnet.torch._tape import canonical_dtype

Array = Any  # a jax array (or tracer) as the ops receive it
Axis = int | tuple[int, ...] | None


def _reshape(x: Array, shape: tuple[int, ...]) -> Array:
    return jnp.reshape(x, shape)


def _astype(x: Array, dtype: np.dtype[Any]) -> Array:
    target = np.dtype(dtype)
    if target.kind in "iu" and target.itemsize < 4 and jnp.issubdtype(x.dtype, jnp.floating):
        # PyTorch's cast of floats to a narrow integer type wraps around (-1.0 is 255 as
        # uint8, 300.0 is 44): through int32, whose narrowing wraps; XLA's own saturates
        x = x.astype(jnp.int32)
    return x.astype(dtype)


def _sum(x: Array, dim: Axis, keepdim: bool, dtype: np.dtype[Any] | None) -> Array:
    return jnp.sum(x, axis=dim, keepdims=keepdim, dtype=dtype)


def _mean(x: Array, dim: Axis, keepdim: bool) -> Array:
    return true_mean(x, axis=dim, keepdims=keepdim)


@jax.custom_jvp
def _spread(x: Array, value: Array) -> Array:
    """``value``, an element of ``x`` chosen by a reduction over all of it (``max()``,
    ``min()``, ``median()``), whose gradient is shared evenly by the elements equal to it
    (by the NaNs where it is NaN), as PyTorch's; ``value``'s own tangent is ignored."""
    return value


@_spread.defjvp
def _spread_jvp(primals: tuple[Array, Array], tangents: tuple[Array, Array]
                ) -> tuple[Array, Array]:
    x, value = primals
    shares = jnp.where(jnp.isnan(value), jnp.isnan(x), x == value)
    tangent = jnp.sum(jnp.where(shares, tangents[0], 0)) / jnp.sum(shares)
    return value, jnp.reshape(tangent.astype(value.dtype), value.shape)


def spread_over_ties(x: Array, value: Array) -> Array:
    """``value`` with :func:`_spread`'s gradient where ``x`` is floating."""
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return value
    return _spread(x, jax.lax.stop_gradient(value))


def _max(x: Array, dim: int | None, keepdim: bool) -> Array:
    value = jnp.max(x, axis=dim, keepdims=keepdim)
    return spread_over_ties(x, value) if dim is None else value


def _min(x: Array, dim: int | None, keepdim: bool) -> Array:
    value = jnp.min(x, axis=dim, keepdims=keepdim)
    return spread_over_ties(x, value) if dim is None else value


def _argmax(x: Array, dim: int | None, keepdim: bool) -> Array:
    if x.ndim == 0:  # a 0-dim tensor's only element, along dim 0 or -1 as PyTorch allows
        return jnp.zeros((), canonical_dtype(np.int64))
    out = jnp.argmax(x if dim is not None else x.reshape(-1), axis=dim, keepdims=keepdim)
    return out.astype(canonical_dtype(np.int64))


def _argmin(x: Array, dim: int | None, keepdim: bool) -> Array:
    if x.ndim == 0:  # a 0-dim tensor's only element, along dim 0 or -1 as PyTorch allows
        return jnp.zeros((), canonical_dtype(np.int64))
    out = jnp.argmin(x if dim is not None else x.reshape(-1), axis=dim, keepdims=keepdim)
    return out.astype(canonical_dtype(np.int64))


def _max_dim(x: Array, dim: int, keepdim: bool) -> tuple[Array, Array]:
    index = _argmax(x, dim, keepdim)
    return _at_index(x, index, dim, keepdim), index


def _min_dim(x: Array, dim: int, keepdim: bool) -> tuple[Array, Array]:
    index = _argmin(x, dim, keepdim)
    return _at_index(x, index, dim, keepdim), index


def _at_index(x: Array, index: Array, dim: int, keepdim: bool) -> Array:
    """``x``'s values at ``index`` along ``dim``: ``max(dim)``'s gradient goes to the index
    it returns, as PyTorch's (``jnp.max``'s is shared among equal maxima)."""
    if x.ndim == 0:
        return x
    values = jnp.take_along_axis(x, index if keepdim else jnp.expand_dims(index, dim), axis=dim)
    return values if keepdim else jnp.squeeze(values, dim)


def _var(x: Array, dim: Axis, correction: int, keepdim: bool) -> Array:
    return jnp.var(x, axis=dim, ddof=correction, keepdims=keepdim)


def _std(x: Array, dim: Axis, correction: int, keepdim: bool) -> Array:
    return jnp.std(x, axis=dim, ddof=correction, keepdims=keepdim)


def _prod(x: Array, dim: int | None, keepdim: bool) -> Array:
    return jnp.prod(x, axis=dim, keepdims=keepdim)


def _pow_scalar(x: Array, exponent: float | Array) -> Array:
    """``x ** exponent``: a static exponent, or one given as an input of the step (see
    ``Tensor.__pow__``), never 0 nor a multiple of 1/2."""
    if not isinstance(exponent, (int, float)):
        return x ** jnp.asarray(exponent, x.dtype)  # in x's precision, as PyTorch's
    # x ** 0 is 1 with a zero gradient, also at x = 0 (where 0 * x ** -1 is NaN)
    return (jax.lax.stop_gradient(x) if exponent == 0 else x) ** exponent


def power(x: Array, y: Array) -> Array:
    """``x ** y`` with PyTorch's gradient for ``x``: 0 where ``y`` is 0, ``0 ** 0``
    included (``jnp.power``'s is ``0 * 0 ** -1``, NaN)."""
    return jnp.power(jnp.where(y == 0, jax.lax.stop_gradient(x), x), y)


def xlogy(x: Array, y: Array) -> Array:
    """``x * log(y)``, 0 where ``x`` is 0, with PyTorch's gradient for ``x``: 0 where
    ``x`` is 0 and ``y <= 0`` (``log(y)`` there, -inf or NaN, in ``jax.scipy``'s)."""
    kept = (x == 0) & (y <= 0)
    return jax.scipy.special.xlogy(jnp.where(kept, jax.lax.stop_gradient(x), x), y)


def arctan2(y: Array, x: Array) -> Array:
    """``jnp.arctan2`` whose gradient is 0 at the origin, as PyTorch's (NaN in JAX's)."""
    origin = (y == 0) & (x == 0)
    return jnp.arctan2(jnp.where(origin, jax.lax.stop_gradient(y), y),
                       jnp.where(origin, jax.lax.stop_gradient(x), x))


def _rpow_scalar(x: Array, base: float) -> Array:
    return base ** x


def _clamp(x: Array, low: Any, high: Any) -> Array:
    """``x`` clipped to ``[low, high]`` (either bound None), with PyTorch's gradients.

    ``x``'s gradient is 1 where ``low <= x <= high``, the bounds included (``jnp.clip``'s
    is a half there, so ``clamp(0, 1)`` of values already in range halved theirs); a tensor
    bound's is 1 where it is the result: ``low`` where ``x < low < high``, ``high`` where
    ``x > high`` or ``high < low`` (the result is then ``high`` everywhere, as PyTorch's).
    A NaN stays NaN and passes no gradient.
    """
    value = jnp.clip(x, low, high)
    if not jnp.issubdtype(value.dtype, jnp.inexact):
        return value
    out = jax.lax.stop_gradient(value)
    inside = ~jnp.isnan(x)
    if high is not None:
        above = x > high
        if low is not None:
            above = above | ((high < low) & inside)
        out = jnp.where(above, high, out)
        inside = inside & (x <= high)
    if low is not None:
        below = x < low if high is None else (x < low) & (low < high)
        out = jnp.where(below, low, out)
        inside = inside & (x >= low)
    return jnp.where(inside, x, out)


def _clamp_min(x: Array, low: Any) -> Array:
    """``Tensor.clamp_min``: :func:`_clamp` without an upper bound, a node of its own as
    in PyTorch (``ClampMinBackward``)."""
    return _clamp(x, low, None)


def _clamp_max(x: Array, high: Any) -> Array:
    """``Tensor.clamp_max``: :func:`_clamp` without a lower bound (``ClampMaxBackward``)."""
    return _clamp(x, None, high)


def _transpose(x: Array, a: int, b: int) -> Array:
    return jnp.swapaxes(x, a, b)


def _permute(x: Array, dims: tuple[int, ...]) -> Array:
    return jnp.transpose(x, dims)


def _t(x: Array) -> Array:
    """``Tensor.t()``, an op of its own as in PyTorch, whose node is ``TBackward0``."""
    return jnp.transpose(x)


def _squeeze(x: Array, dim: int | tuple[int, ...] | None) -> Array:
    if dim is None:
        return jnp.squeeze(x)
    # the dims of size 1 among those named (PyTorch leaves the others as they are)
    dims = dim if isinstance(dim, tuple) else (dim,)
    rank = max(x.ndim, 1)
    for d in dims:  # checked once per structure, where the shapes are traced
        if not -rank <= d < rank:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-rank}, {rank - 1}], but got {d})")
    return jnp.squeeze(x, tuple(d for d in dims if x.shape[d] == 1))


def _unsqueeze(x: Array, dim: int) -> Array:
    return jnp.expand_dims(x, dim)


def _expand(x: Array, shape: tuple[int, ...]) -> Array:
    shape = tuple(x.shape[i - len(shape) + x.ndim] if s == -1 else s
                  for i, s in enumerate(shape))
    return jnp.broadcast_to(x, shape)


def _repeat(x: Array, reps: tuple[int, ...]) -> Array:
    return jnp.tile(x, reps)


def _copy(x: Array) -> Array:
    return jnp.array(x, copy=True)


def _copy_into(x: Array, src: Array) -> Array:
    return jnp.broadcast_to(jnp.asarray(src, x.dtype), x.shape)


def _fill(x: Array, value: Any) -> Array:
    return jnp.full_like(x, value)


def _zero(x: Array) -> Array:
    return jnp.zeros_like(x)


def _masked_fill(x: Array, mask: Array, value: Array | float) -> Array:
    return jnp.where(mask, jnp.asarray(value).astype(x.dtype), x)


def _softmax(x: Array, dim: int) -> Array:
    return fnf.softmax(x, dim)


def _log_softmax(x: Array, dim: int) -> Array:
    return fnf.log_softmax(x, dim)


def _flatten(x: Array, start_dim: int, end_dim: int) -> Array:
    return fnf.flatten(x, start_dim, end_dim)


def _abs(x: Array) -> Array:
    """``|x|`` with PyTorch's gradient ``sign(x)``, 0 at 0 (``jnp.abs``'s is 1 there); of
    a complex ``x`` its real magnitude, whose gradient is 0 at 0 as PyTorch's."""
    if jnp.iscomplexobj(x):
        zero = x == 0
        return jnp.where(zero, 0, jnp.abs(jnp.where(zero, 1, x)))
    return absolute(x)


def _norm(x: Array, p: float, dim: Axis, keepdim: bool) -> Array:
    if p == 2:
        # PyTorch's gradient of the norm of zeros is 0 (a plain sqrt's would be NaN)
        return norm_from_squares(jnp.sum(x * x, axis=dim, keepdims=keepdim))
    if p == 1:
        return jnp.sum(absolute(x), axis=dim, keepdims=keepdim)
    if p == float("inf"):
        return jnp.max(absolute(x), axis=dim, keepdims=keepdim)
    if p == float("-inf"):
        return jnp.min(absolute(x), axis=dim, keepdims=keepdim)
    if p == 0:  # how many elements are not zero
        return jnp.sum(x != 0, axis=dim, keepdims=keepdim).astype(x.dtype)
    return jnp.sum(absolute(x) ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)


def _all(x: Array, dim: Axis, keepdim: bool) -> Array:
    return jnp.all(x, axis=dim, keepdims=keepdim)


def _any(x: Array, dim: Axis, keepdim: bool) -> Array:
    return jnp.any(x, axis=dim, keepdims=keepdim)


# ----------------------------------------------------------------------------------
# Indexing (see ``_indexing`` for how an index becomes these static arguments).


def _index(spec: tuple[tuple[Any, ...], ...], tensors: tuple[Array, ...]) -> tuple[Any, ...]:
    out: list[Any] = []
    it = iter(tensors)
    for kind, *rest in spec:
        if kind == "s":
            out.append(slice(*rest))
        elif kind == "i":
            out.append(rest[0])
        elif kind == "n":
            out.append(None)
        elif kind == "e":
            out.append(Ellipsis)
        else:
            out.append(next(it))
    return tuple(out)


def _ints_first(index: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    """``index`` as two steps where it mixes int and integer-tensor indexes, else None.

    PyTorch selects an int index's dimension away before the tensor indexes apply, so
    ``x[0, :, [1, 2]]`` of ``[2, 3, 4]`` is ``[3, 2]``; numpy's rules (jax's) count the int
    as one more advanced index, separated from the list by the slice, and put the indexed
    dimension first (``[2, 3]``). The first step holds the ints, slices, Nones and
    ellipsis; the second the tensors, over the dimensions left.
    """
    arrays = [i for i in index if hasattr(i, "dtype")]
    if not arrays or not any(type(i) is int for i in index) or \
            any(a.dtype == np.bool_ for a in arrays):
        return None
    whole = slice(None)
    first = tuple(whole if hasattr(i, "dtype") else i for i in index)
    second = tuple(i if hasattr(i, "dtype") or i is Ellipsis else whole
                   for i in index if type(i) is not int)
    return first, second


def _getitem(x: Array, *args: Any) -> Array:
    *tensors, spec = args
    index = _index(spec, tuple(tensors))
    steps = _ints_first(index)
    return x[index] if steps is None else x[steps[0]][steps[1]]


def _fit_value(value: Any, shape: tuple[int, ...], dtype: Any, advanced: bool = False
               ) -> Array:
    """``value`` for a region of ``shape``: PyTorch drops a value's leading size-1 dims
    before broadcasting it (``att[i] = w`` with ``w: [1, L]`` into a row ``[L]``), and
    refuses, in its words, a value that does not broadcast to the region (``advanced``:
    a region chosen by index tensors, whose refusal PyTorch words otherwise)."""
    value = jnp.asarray(value)
    given = list(value.shape)
    kind = f"torch.{SCALAR_NAMES.get(value.dtype.name, value.dtype.name)}Tensor"
    value = value.astype(dtype)
    ndim = len(shape)
    while value.ndim > ndim and value.shape[0] == 1:
        value = value[0]
    fits = value.ndim <= ndim and all(
        value.shape[-d] in (1, shape[-d]) for d in range(1, value.ndim + 1))
    if not fits and advanced:
        raise RuntimeError(f"shape mismatch: value tensor of shape {given} cannot be "
                           f"broadcast to indexing result of shape {list(shape)}")
    if value.ndim > ndim:
        raise RuntimeError(f"expand({kind}{{{given}}}, size={list(shape)}): the number of "
                           f"sizes provided ({ndim}) must be greater or equal to the number "
                           f"of dimensions in the tensor ({len(given)})")
    for d in range(1, value.ndim + 1):
        if value.shape[-d] not in (1, shape[-d]):
            raise RuntimeError(f"The expanded size of the tensor ({shape[-d]}) must match the "
                               f"existing size ({value.shape[-d]}) at non-singleton "
                               f"dimension {ndim - d}.  Target sizes: {list(shape)}.  "
                               f"Tensor sizes: {given}")
    return value


def true_divide(x: Array, y: Array) -> Array:
    """``x / y`` as PyTorch's CPU kernels compute it: half-precision operands divided in
    float32 and rounded once. XLA's own half-precision division is a unit off where the
    divisor is one number (a product with its rounded reciprocal: 5 / 3 is 1.666 in
    float16, PyTorch's 1.667), and its bfloat16 quotient is not rounded at all when a
    cast to float32 follows in the same program."""
    dtype = jnp.result_type(x, y)
    if dtype in (jnp.float16, jnp.bfloat16):
        quotient = jnp.true_divide(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32))
        return quotient.astype(dtype)
    return jnp.true_divide(x, y)


def multiply(x: Array, y: Array) -> Array:
    """``x * y`` as PyTorch's CPU kernels compute it: half-precision operands multiplied
    in float32 and rounded once, so that a number keeps its float32 value (``t * 3.3``
    of a bfloat16 ``t`` multiplies by 3.3, not by 3.3 rounded to bfloat16 first, 3.296875);
    a product of two half-precision values is exact in float32, so rounding it once is
    XLA's product."""
    dtype = jnp.result_type(x, y)
    if dtype in (jnp.float16, jnp.bfloat16):
        product = jnp.multiply(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32))
        return product.astype(dtype)
    return jnp.multiply(x, y)


def floor_divide(x: Array, y: Array) -> Array:
    """``x // y`` as PyTorch rounds it: a zero quotient of floats carries the sign of
    ``x / y`` (jnp's divmod gives ``-0.0`` for ``-0.46 // -0.81``)."""
    q = jnp.floor_divide(x, y)
    if not jnp.issubdtype(q.dtype, jnp.inexact):
        return q
    return jnp.where(q == 0, jnp.copysign(jnp.zeros_like(q), jnp.true_divide(x, y)), q)


def _setitem(x: Array, value: Any, *args: Any) -> Array:
    *tensors, spec = args
    index = _index(spec, tuple(tensors))
    steps = _ints_first(index)
    if steps is None:
        return x.at[index].set(_fit_value(value, x[index].shape, x.dtype, bool(tensors)))
    region, inner = x[steps[0]], steps[1]  # the ints' region, written by the tensors
    return x.at[steps[0]].set(
        region.at[inner].set(_fit_value(value, region[inner].shape, x.dtype,
                                        bool(tensors))))


def _block(x: Array, starts: list[Any], sizes: tuple[int, ...],
           dims: tuple[int, ...]) -> tuple[list[Any], Array]:
    # every start an int32 (dynamic_slice takes one index type: with x64 on, a dynamic
    # start is int32 and a literal 0 int64)
    corner: list[Any] = [np.int32(0)] * x.ndim
    for dim, start in zip(dims, starts, strict=True):
        corner[dim] = np.int32(start) if isinstance(start, int) else \
            jax.lax.convert_element_type(start, np.int32)
    return corner, jax.lax.dynamic_slice(x, corner, sizes)


def _post_index(post: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(None if p is None else 0 if p == "i" else slice(*p) for p in post)


def _window(x: Array, *args: Any) -> Array:
    *starts, (sizes, dims, post) = args
    _, block = _block(x, starts, sizes, dims)
    return block[_post_index(post)]


def _window_set(x: Array, value: Any, *args: Any) -> Array:
    *starts, (sizes, dims, post) = args
    corner, block = _block(x, starts, sizes, dims)
    region = _post_index(post)
    block = block.at[region].set(_fit_value(value, block[region].shape, x.dtype))
    return jax.lax.dynamic_update_slice(x, block, corner)


# ----------------------------------------------------------------------------------
# Checks run once per structure, before tracing.


def view_check(x: Any, shape: tuple[int, ...]) -> None:
    """Raises PyTorch's error for a ``view``/``reshape`` of ``x`` to an impossible shape."""
    size = math.prod(x.shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape and size == 0 and known == 0:
        raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                           f"because the unspecified dimension size -1 can be any value and "
                           f"is ambiguous")
    if any(s < -1 for s in shape) or (
            size % known if known else size) or (-1 not in shape and known != size):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")


#: ops whose first static argument is a dim of their first input (an int, a tuple of
#: ints or None): ``_graph`` checks it the first time a structure records one, to raise
#: PyTorch's "Dimension out of range" IndexError before jax raises its own
DIM_FIRST = frozenset({_sum, _mean, _max, _min, _argmax, _argmin, _max_dim, _min_dim, _var,
                       _std, _prod, _softmax, _log_softmax, _all, _any})
