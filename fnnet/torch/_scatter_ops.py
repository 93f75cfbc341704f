"""Writes of many values at once that data-wrangling code uses beside ``scatter_`` and
``index_add_``: ``index_put_`` (with ``accumulate``), ``masked_scatter`` and
``scatter_reduce`` ("sum", "prod", "mean", "amax", "amin"); and the index builders
``cartesian_prod``, ``combinations``, ``tril_indices``, ``triu_indices`` and
``block_diag``.

Each recorded op is a module-level ``jax.numpy`` function (``x.at[...]`` updates),
differentiable and compiled with the step. :func:`install` attaches the methods to
:class:`~fnnet.torch.tensor.Tensor` and the functions to ``fnnet.torch``.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from fnnet.torch import _graph, _masking
from fnnet.torch._dtypes import scalar_name
from fnnet.torch._more_ops import _check_index
from fnnet.torch._recorder import current
from fnnet.torch._shape_ops import tensor_arg
from fnnet.torch.device import check_creation
from fnnet.torch.tensor import Tensor, _as_tensor, _dim, _op, host_index_outside

_INDEX = np.dtype(_graph.canonical_dtype(np.int64))


def _index_put(x: Any, values: Any, *rest: Any) -> Any:
    *indices, accumulate = rest  # the index arrays, then the static flag
    at = x.at[tuple(indices)]
    values = values.astype(x.dtype)
    return at.add(values) if accumulate else at.set(values)


def index_put(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """A copy with ``values`` put at ``self[indices]`` (``accumulate``: added there, so a
    repeated index adds each time). ``indices`` is a tuple of index tensors, one per
    leading dimension (a boolean mask's positions are read on the host).

    PyTorch equivalent: ``Tensor.index_put``.
    """
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    parts: list[Tensor] = []
    saved = _masking.needs_gradient(input, values)
    for index in indices:
        index = tensor_arg(index, "index_put", "indices")
        if index.dtype.np == np.bool_:
            parts.extend(_masking.position_tensors(index, saved))
        else:
            parts.append(index)
    if len(parts) > input.dim():
        raise IndexError(f"too many indices for tensor of dimension {input.dim()} (got "
                         f"{len(parts)})")
    _masking.check_put_dtype(input, tuple(indices), values)
    values = _as_tensor(values)
    _check_put_places(input, parts, values)
    return _op(_index_put, (bool(accumulate),), input, values, *parts, who="index_put")


def _check_put_places(input: Tensor, parts: list[Tensor], values: Tensor) -> None:
    """PyTorch's errors for index tensors that do not broadcast together, an index (on the
    host) outside its dimension, and values that do not broadcast to the places indexed:
    JAX's scatter would drop or clamp the first two silently."""
    shapes = [tuple(p.shape) for p in parts]
    try:
        places = tuple(np.broadcast_shapes(*shapes)) if shapes else ()
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                         "with shapes " + ", ".join(str(list(s)) for s in shapes)) from None
    for dim, part in enumerate(parts):
        size = input.shape[dim]
        bad = host_index_outside(part, size, negative=True)
        if bad is not None:
            raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size "
                             f"{size}")
    places += tuple(input.shape[len(parts):])
    try:
        fits = np.broadcast_shapes(tuple(values.shape), places) == places
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} "
                           f"cannot be broadcast to indexing result of shape {list(places)}")


def _masked_scatter(x: Any, mask: Any, source: Any) -> Any:
    shape = jnp.broadcast_shapes(x.shape, mask.shape)  # the copy takes both shapes
    x, mask = jnp.broadcast_to(x, shape), jnp.broadcast_to(mask, shape)
    flat = mask.reshape(-1)
    # the k-th True position takes source's k-th element, in row-major order
    positions = jnp.clip(jnp.cumsum(flat) - 1, 0, None)
    taken = source.reshape(-1)[positions].reshape(x.shape).astype(x.dtype)
    return jnp.where(mask, taken, x)


def masked_scatter(input: Tensor, mask: Any, source: Any) -> Tensor:
    """A copy with ``source``'s elements, in order, where ``mask`` is True.

    PyTorch equivalent: ``Tensor.masked_scatter``.
    """
    mask = tensor_arg(mask, "masked_scatter", "mask")
    if mask.dtype.np != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask "
                           f"with dtype {mask.dtype}")
    source = tensor_arg(source, "masked_scatter", "source")
    if source.dtype != input.dtype:  # PyTorch's words, the missing space included
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes "
                           f"but got{scalar_name(input.dtype)} and "
                           f"{scalar_name(source.dtype)}")
    return _op(_masked_scatter, (), input, mask, source, who="masked_scatter")


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _products_at(where: tuple[Any, ...], values: Any, shape: tuple[int, ...]) -> Any:
    """The product of the ``values`` landing at each position of an array of ``shape``
    (``where`` holds each value's coordinates), 1 where none lands. Differentiable where
    a position repeats, which JAX's ``.at[].multiply`` is not: the values are sorted by
    position and multiplied by a scan that restarts at each new position, and each
    position's last running product is written there."""
    size = math.prod(shape)
    flat = jnp.ravel_multi_index(where, shape, mode="clip").reshape(-1)
    order = jnp.argsort(flat, stable=True)
    positions, ordered = flat[order], values.reshape(-1)[order]
    new = positions[1:] != positions[:-1]
    starts = jnp.concatenate([jnp.ones(1, bool), new])

    def combine(a: tuple[Any, Any], b: tuple[Any, Any]) -> tuple[Any, Any]:
        return jnp.where(b[1], b[0], a[0] * b[0]), a[1] | b[1]

    running, _ = jax.lax.associative_scan(combine, (ordered, starts))
    # each position's last running product, the others past the end (dropped), every
    # index distinct
    last = jnp.concatenate([new, jnp.ones(1, bool)])
    target = jnp.where(last, positions, size + jnp.arange(positions.shape[0]))
    products = jnp.ones(size, values.dtype).at[target].set(running, mode="drop",
                                                            unique_indices=True)
    return products.reshape(shape)


def _scatter_reduce(x: Any, index: Any, src: Any, dim: int, reduce: str,
                    include_self: bool) -> Any:
    grids = jnp.meshgrid(*(jnp.arange(n) for n in index.shape), indexing="ij")
    where = tuple(index if d == dim else grids[d] for d in range(x.ndim))
    src = src[tuple(slice(0, n) for n in index.shape)].astype(x.dtype)
    touched = jnp.zeros(x.shape, bool).at[where].set(True)
    if reduce in ("sum", "mean"):
        base = x if include_self else jnp.where(touched, 0, x)
        total = base.at[where].add(src)
        if reduce == "sum":
            return total
        count = jnp.zeros(x.shape, x.dtype).at[where].add(1) + (1 if include_self else 0)
        mean = total / jnp.maximum(count, 1)
        return jnp.floor_divide(total, jnp.maximum(count, 1)).astype(x.dtype) \
            if jnp.issubdtype(x.dtype, jnp.integer) else mean
    if reduce == "prod":
        base = x if include_self else jnp.where(touched, 1, x)
        return base * _products_at(where, src, x.shape)
    return _extremum(reduce, include_self, x, src, where, touched)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _extremum(reduce: str, include_self: bool, x: Any, src: Any, where: tuple[Any, ...],
              touched: Any) -> Any:
    """``scatter_reduce``'s "amax" or "amin" of ``src`` into ``x`` at ``where``."""
    if jnp.issubdtype(x.dtype, jnp.floating):
        low, high = -jnp.inf, jnp.inf
    else:
        low, high = jnp.iinfo(x.dtype).min, jnp.iinfo(x.dtype).max
    if reduce == "amax":
        base = x if include_self else jnp.where(touched, low, x)
        return base.at[where].max(src)
    base = x if include_self else jnp.where(touched, high, x)
    return base.at[where].min(src)


@_extremum.defjvp
def _extremum_jvp(reduce: str, include_self: bool, primals: tuple[Any, ...],
                  tangents: tuple[Any, ...]) -> tuple[Any, Any]:
    # PyTorch's rule: each result's gradient is shared evenly among the elements equal
    # to it, input's element counted among them even with include_self=False (its
    # share then dropped where something is scattered)
    x, src, where, touched = primals
    dx, dsrc = tangents[:2]
    out = _extremum(reduce, include_self, x, src, where, touched)
    self_is = x == out
    src_is = src == out[where]
    count = self_is.astype(x.dtype) + jnp.zeros_like(x).at[where].add(src_is.astype(x.dtype))
    keep = self_is if include_self else self_is & ~touched
    shared = jnp.where(keep, dx, 0) + jnp.zeros_like(dx).at[where].add(
        jnp.where(src_is, dsrc, 0))
    return out, shared / jnp.maximum(count, 1)


def scatter_reduce(input: Tensor, dim: int, index: Any, src: Any, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``src``'s elements combined into ``input`` at ``index`` along ``dim`` with
    ``reduce`` ("sum", "prod", "mean", "amax", "amin"); ``include_self=False`` leaves
    ``input``'s values out where something is scattered.

    PyTorch equivalent: ``Tensor.scatter_reduce``.
    """
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # PyTorch takes both
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    dim = _dim(dim, input.dim(), "scatter_reduce")
    src = tensor_arg(src, "scatter_reduce", "src")
    index = _check_index(input, dim, tensor_arg(index, "scatter_reduce", "index"),
                         "scatter_reduce", src)
    return _op(_scatter_reduce, (dim, reduce, bool(include_self)), input, index, src,
               who="scatter_reduce")


def _put(x: Any, index: Any, source: Any, accumulate: bool) -> Any:
    flat = x.reshape(-1)
    index = index.reshape(-1)
    index = jnp.where(index < 0, index + flat.shape[0], index)  # from the end, as PyTorch
    at = flat.at[index]
    source = source.reshape(-1).astype(x.dtype)
    return (at.add(source) if accumulate else at.set(source)).reshape(x.shape)


def put(input: Tensor, index: Any, source: Any, accumulate: bool = False) -> Tensor:
    """A copy with ``source``'s elements written at ``index``, positions in ``input``
    read as a flat vector (negative ones from its end); ``accumulate`` adds them there
    instead, each repeated position as often as it comes.

    PyTorch equivalent: ``torch.put`` / ``Tensor.put``.
    """
    index, source = tensor_arg(index, "put_", "index"), tensor_arg(source, "put_", "source")
    if index.dtype.np.kind not in "iu":
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{scalar_name(index.dtype)}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but "
                           f"got self.dtype = {scalar_name(input.dtype)} and source.dtype = "
                           f"{scalar_name(source.dtype)}")
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source.numel()}, "
                         f"index.numel() = {index.numel()}")
    size = input.numel()
    bad = host_index_outside(index, size, negative=True)
    if bad is not None:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {size} "
                         f"elements.")
    return _op(_put, (bool(accumulate),), input, index, source, who="put")


_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")
#: PyTorch's warning, once per process, at the first index_reduce
INDEX_REDUCE_BETA = "index_reduce() is in beta and the API may change at any time."


def _index_reduce(x: Any, index: Any, source: Any, dim: int, reduce: str,
                  include_self: bool) -> Any:
    # each of source's slices along dim goes to index's slice of x: scatter_reduce's
    # index, with index's value at every element of its slice
    shape = [1] * source.ndim
    shape[dim] = index.shape[0]
    spread = jnp.broadcast_to(index.reshape(shape), source.shape)
    return _scatter_reduce(x, spread, source, dim, reduce, include_self)


def index_reduce(input: Tensor, dim: int, index: Any, source: Any, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """``source``'s slices along ``dim`` combined into ``input``'s slices at ``index``
    with ``reduce`` ("prod", "mean", "amax", "amin"), as :func:`scatter_reduce` combines
    elements; ``include_self=False`` leaves ``input``'s values out where a slice goes.

    PyTorch equivalent: ``Tensor.index_reduce``.
    """
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax "
                           f"or amin but got {reduce}.")
    warned = current().warned
    if INDEX_REDUCE_BETA not in warned:
        warned.add(INDEX_REDUCE_BETA)
        warnings.warn(INDEX_REDUCE_BETA, UserWarning, stacklevel=2)
    source = tensor_arg(source, "index_reduce_", "source")
    index = tensor_arg(index, "index_reduce_", "index")
    dim = _dim(dim, input.dim(), "index_reduce")
    if index.dim() > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    if index.dtype.np.kind not in "iu":
        raise TypeError("index_reduce_(): Expected dtype int32/int64 for index")
    count = index.numel()
    along = (source.shape or (1,))[dim]
    if count != along:
        raise RuntimeError(f"index_reduce_(): Number of indices ({count}) should be equal to "
                           f"source.size(dim): ({along}), for dim: {dim}")
    size = (input.shape or (1,))[dim]
    bad = host_index_outside(index, size)
    if bad is not None:
        raise IndexError("index out of range in self")
    return _op(_index_reduce, (dim, reduce, bool(include_self)), input, index.reshape(-1),
               source, who="index_reduce")


# -- index builders ----------------------------------------------------------------------

def cartesian_prod(*tensors: Any) -> Tensor:
    """All tuples taking one element of each 1-D tensor, ``[n1 * n2 * ..., k]`` (a
    single tensor comes back as it is). PyTorch equivalent: ``torch.cartesian_prod``."""
    from fnnet.torch._functions import stack
    from fnnet.torch._misc_ops import meshgrid

    items = [tensor_arg(t, "cartesian_prod", "tensors") for t in tensors]
    if len(items) == 1:
        return items[0]
    grids = meshgrid(*items, indexing="ij")
    out: Tensor = stack(list(grids), dim=-1).reshape(-1, len(items))
    return out


def combinations(input: Any, r: int = 2, with_replacement: bool = False) -> Tensor:  # noqa: A002
    """The ``r``-element combinations of a 1-D tensor's elements, ``[count, r]``, in
    ``itertools.combinations`` order. PyTorch equivalent: ``torch.combinations``."""
    x = tensor_arg(input, "combinations", "input")
    if x.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    rows = np.asarray(list(pick(range(x.shape[0]), r)), dtype=_INDEX).reshape(-1, r)
    if rows.shape[0] == 0:
        return x[_as_tensor(np.zeros((0,), _INDEX))]
    out: Tensor = x[_as_tensor(rows)]
    return out


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None, layout: Any = None, pin_memory: bool = False) -> Tensor:
    """The ``[2, N]`` row and column indices of the lower triangle of a ``row x col``
    matrix (``offset`` diagonals above the main one included).

    PyTorch equivalent: ``torch.tril_indices``.
    """
    check_creation(device, layout, pin_memory)
    rows, cols = np.tril_indices(row, offset, col)
    out = _as_tensor(np.stack([rows, cols]).astype(_INDEX))
    return out if dtype is None else out.to(dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None, layout: Any = None, pin_memory: bool = False) -> Tensor:
    """The ``[2, N]`` row and column indices of the upper triangle of a ``row x col``
    matrix from diagonal ``offset``. PyTorch equivalent: ``torch.triu_indices``."""
    check_creation(device, layout, pin_memory)
    rows, cols = np.triu_indices(row, offset, col)
    out = _as_tensor(np.stack([rows, cols]).astype(_INDEX))
    return out if dtype is None else out.to(dtype)


def _block_diag(*blocks: Any) -> Any:
    return jsl.block_diag(*(jnp.atleast_2d(b) for b in blocks))


def block_diag(*tensors: Any) -> Tensor:
    """The tensors (0-, 1- or 2-D; a vector is one row) along a block diagonal.

    PyTorch equivalent: ``torch.block_diag``.
    """
    items = [tensor_arg(t, "block_diag", "tensors") for t in tensors]
    for i, t in enumerate(items):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.dim()} dimensions")
    if not items:
        return _as_tensor(np.zeros((1, 0), np.float32))
    return _op(_block_diag, (), *items, who="block_diag")


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods to :class:`Tensor` and the functions to ``namespace``
    (``fnnet.torch``'s globals)."""
    from fnnet.torch._math_ops import in_place

    for method in (index_put, masked_scatter, scatter_reduce, put, index_reduce):
        setattr(Tensor, method.__name__, method)
        setattr(Tensor, method.__name__ + "_", in_place(method.__name__))
        namespace[method.__name__] = method
    for fn in (cartesian_prod, combinations, tril_indices, triu_indices, block_diag):
        namespace[fn.__name__] = fn
