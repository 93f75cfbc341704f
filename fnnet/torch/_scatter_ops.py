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

import itertools
from typing import Any

import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from fnnet.torch import _graph, _masking
from fnnet.torch._more_ops import _check_index
from fnnet.torch._shape_ops import tensor_arg
from fnnet.torch.device import check_creation
from fnnet.torch.tensor import Tensor, _as_tensor, _dim, _op

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
    return _op(_index_put, (bool(accumulate),), input, _as_tensor(values), *parts,
               who="index_put")


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
    return _op(_masked_scatter, (), input, mask, tensor_arg(source, "masked_scatter",
                                                            "source"),
               who="masked_scatter")


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


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
        return base.at[where].multiply(src)
    if jnp.issubdtype(x.dtype, jnp.floating):
        low, high = -jnp.inf, jnp.inf
    else:
        low, high = jnp.iinfo(x.dtype).min, jnp.iinfo(x.dtype).max
    if reduce == "amax":
        base = x if include_self else jnp.where(touched, low, x)
        return base.at[where].max(src)
    base = x if include_self else jnp.where(touched, high, x)
    return base.at[where].min(src)


def scatter_reduce(input: Tensor, dim: int, index: Any, src: Any, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``src``'s elements combined into ``input`` at ``index`` along ``dim`` with
    ``reduce`` ("sum", "prod", "mean", "amax", "amin"); ``include_self=False`` leaves
    ``input``'s values out where something is scattered.

    PyTorch equivalent: ``Tensor.scatter_reduce``.
    """
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    dim = _dim(dim, input.dim(), "scatter_reduce")
    index = _check_index(input, dim, tensor_arg(index, "scatter_reduce", "index"),
                         "scatter_reduce")
    return _op(_scatter_reduce, (dim, reduce, bool(include_self)), input, index,
               tensor_arg(src, "scatter_reduce", "src"), who="scatter_reduce")


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

    for method in (index_put, masked_scatter, scatter_reduce):
        setattr(Tensor, method.__name__, method)
        setattr(Tensor, method.__name__ + "_", in_place(method.__name__))
        namespace[method.__name__] = method
    for fn in (cartesian_prod, combinations, tril_indices, triu_indices, block_diag):
        namespace[fn.__name__] = fn
