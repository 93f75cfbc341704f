"""Operations whose result's shape depends on values: ``nonzero``, one-argument
``torch.where``, ``masked_select`` and boolean-mask indexing (``x[x > 0]``,
``x[mask] = 0``).

A compiled step needs static shapes, so these read the mask on the host (a value read:
the pending step is computed up to the mask, as ``item()`` does) and continue with
concrete integer indices. Where ``x[mask]`` needs a gradient, or ``x`` is still only
recorded, the indexing stays a recorded gather (or scatter for an assignment), so
gradients flow through ``x[mask]`` to ``x`` as in PyTorch and a new number of selected
elements is a new structure, compiled once. Otherwise ``x[mask]`` is taken at once from
``x``'s values, so that no step's structure depends on the number selected; and
``x[mask] = y[mask]`` (a masked-language-model collator's copy of random words) is
recorded as ``where(mask, y, x)``, whose shapes are the mask's whatever it selects.
``x[mask]`` by one mask tensor is first kept whole (see ``_selection``): its rows are
taken as above only where they are read, not for a sum, a mean or a loss over them.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, overload

import numpy as np

from fnnet.torch import _dtypes, _graph
from fnnet.torch._caller import caller_level
from fnnet.torch._dtypes import scalar_name
from fnnet.torch._recorder import current
from fnnet.torch._selection import select
from fnnet.torch._tape import CONST
from fnnet.torch.tensor import Tensor, _as_tensor, _op_multi, _wrap_value

_INDEX = np.dtype(_graph.canonical_dtype(np.int64))


def _is_mask(item: Any) -> bool:
    if isinstance(item, Tensor):
        return bool(item._cell.aval[1] == np.bool_) and item.dim() > 0
    if isinstance(item, np.ndarray):
        return item.dtype == np.bool_ and item.ndim > 0
    return isinstance(item, list) and len(item) > 0 and all(
        isinstance(v, (bool, np.bool_)) for v in item)


def _positions(mask: Any) -> tuple[np.ndarray, ...]:
    """The indices of the True entries of ``mask`` along each of its dimensions."""
    values = np.asarray(mask._value() if isinstance(mask, Tensor) else mask)
    return tuple(np.asarray(p, _INDEX) for p in np.nonzero(values))


def _mask_positions(*args: Any) -> tuple[Any, ...]:
    """``args``: the tensors PyTorch's backward of an indexing by a mask saves (the mask,
    and ``masked_select``'s input), the index arrays read from the mask on the host, and
    last how many of the former there are. Returns the index arrays: the node keeps the
    saved tensors inputs of the indexing that a gradient goes through, so that writing
    to one before that backward raises as in PyTorch."""
    *tensors, n_saved = args
    return tuple(tensors[n_saved:])


def position_tensors(mask: Any, saved: bool) -> list[Tensor]:
    """The integer index tensors of ``mask`` (see :func:`_positions`); with ``saved``
    (the indexing needs a gradient) they come from a node reading a mask tensor."""
    positions = [_as_tensor(p) for p in _positions(mask)]
    if not saved or not isinstance(mask, Tensor):
        return positions
    return _op_multi(_mask_positions, (1,), mask, *positions)  # type: ignore[return-value]


def needs_gradient(*tensors: Any) -> bool:
    """Whether indexing ``tensors`` is recorded for autograd (one of them requires grad,
    with grad mode on)."""
    return current().grad_enabled and any(
        isinstance(t, Tensor) and t._kind != CONST for t in tensors)


def expand_masks(index: Any, saved: bool = False) -> Any:
    """``index`` with every boolean mask of k dimensions replaced by its k integer index
    tensors (NumPy's and PyTorch's meaning of a mask in an index), or ``index`` itself
    when it holds no mask. A mask must match the shape of the dimensions it indexes.
    ``saved``: the indexing needs a gradient, which keeps the masks (PyTorch's
    version-counter check)."""
    items = index if isinstance(index, tuple) else (index,)
    if not any(_is_mask(item) for item in items):
        return index
    out: list[Any] = []
    for item in items:
        if _is_mask(item):
            out.extend(position_tensors(item, saved))
        else:
            out.append(item)
    return tuple(out)


def check_mask_shape(shape: tuple[int, ...], index: Any) -> None:
    """PyTorch's IndexError for a mask whose shape differs from the dimensions it
    indexes (NumPy would raise about the derived integer indices instead)."""
    items = index if isinstance(index, tuple) else (index,)
    dim = 0
    for item in items:
        if item is None:
            continue
        if item is Ellipsis:
            dim = len(shape) - sum(np.ndim(i) if _is_mask(i) else 1 for i in items
                                   if i is not None and i is not Ellipsis) + dim
            continue
        if _is_mask(item):
            mask_shape = tuple(item.shape) if isinstance(item, Tensor) else \
                np.shape(item)
            for k, size in enumerate(mask_shape):
                if dim + k >= len(shape) or shape[dim + k] != size:
                    raise IndexError(
                        f"The shape of the mask {list(mask_shape)} at index {k} does not "
                        f"match the shape of the indexed tensor {list(shape)} at index "
                        f"{dim + k}")
            dim += len(mask_shape)
        else:
            dim += 1


@overload
def nonzero(input: Tensor, *, out: Any = None, as_tuple: Literal[False] = False) -> Tensor: ...
@overload
def nonzero(input: Tensor, *, out: Any = None, as_tuple: Literal[True]) -> tuple[Tensor, ...]: ...
@overload
def nonzero(input: Tensor, *, out: Any = None, as_tuple: bool = False
            ) -> Tensor | tuple[Tensor, ...]: ...
def nonzero(input: Tensor, *, out: Any = None, as_tuple: bool = False
            ) -> Tensor | tuple[Tensor, ...]:
    """Indices of the nonzero entries of ``input``: an ``[n, input.dim()]`` int64 tensor,
    or with ``as_tuple`` one ``[n]`` tensor per dimension.

    PyTorch equivalent: ``torch.nonzero``.
    """
    if out is not None:
        raise NotImplementedError("fnnet.torch: nonzero(out=...) is not supported (its "
                                  "size depends on the values); use the result")
    input = _as_tensor(input)
    values = np.asarray(input._value())
    if as_tuple:
        if values.ndim == 0:
            return (_as_tensor(np.zeros(int(values != 0), _INDEX)),)
        return tuple(_as_tensor(p) for p in _positions(values != 0))
    return _as_tensor(np.asarray(np.argwhere(values), _INDEX))


def argwhere(input: Tensor) -> Tensor:
    """``nonzero(input)``. PyTorch equivalent: ``torch.argwhere``."""
    return nonzero(input)


def masked_select(input: Tensor, mask: Any) -> Tensor:
    """The entries of ``input`` where the (broadcast) ``mask`` is True, as a 1-D tensor;
    differentiable in ``input``. PyTorch equivalent: ``torch.masked_select``."""
    input = _as_tensor(input)
    mask = _as_tensor(mask)
    if mask._cell.aval[1] != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got "
                           f"{mask.dtype}")
    mismatch = _graph.broadcast_mismatch((tuple(mask.shape), tuple(input.shape)))
    if mismatch is not None:
        raise RuntimeError(mismatch)
    if tuple(mask.shape) == tuple(input.shape) and input.dim():
        # as ``input[mask]``: kept whole until its entries are read, so the count selected
        # (which changes from batch to batch: ``loss.masked_select(mask).mean()`` over
        # padded targets) is no part of the step; a view is copied as the mask
        chosen = select(input, mask if mask._view is None else mask.clone())
        if chosen is not None:
            return chosen
    shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    positions: list[Any] = [_as_tensor(p) for p in
                            _positions(np.broadcast_to(mask._value(), shape))]
    if needs_gradient(input):  # PyTorch's backward keeps the input and the mask
        positions = _op_multi(_mask_positions, (2,), input, mask, *positions)
    if tuple(input.shape) != shape:
        input = input.expand(*shape)
    return input[tuple(positions)]


def one_argument_where(previous: Any) -> Any:
    """``torch.where`` that also takes one argument: ``where(condition)`` is
    ``nonzero(condition, as_tuple=True)``; three arguments go to ``previous``."""

    def where(condition: Any, input: Any = None, other: Any = None, **kwargs: Any) -> Any:
        if input is None and other is None and not kwargs:
            return nonzero(condition, as_tuple=True)
        if input is None or other is None:
            raise TypeError("where(): expected one argument (condition) or three "
                            "(condition, input, other)")
        return previous(condition, input, other, **kwargs)

    where.__name__ = "where"
    where.__doc__ = previous.__doc__
    return where


def _has_mask(index: Any) -> bool:
    if isinstance(index, tuple):
        return any(_is_mask(item) for item in index)
    return _is_mask(index)


def _scalar_value(value: Any) -> bool:
    if isinstance(value, Tensor):
        return value.numel() == 1 and value.dim() <= 1
    return isinstance(value, (int, float, bool, np.number, np.bool_))


def _whole_mask(x: Tensor, index: Any) -> bool:
    """Whether ``index`` is one boolean mask tensor of ``x``'s whole shape."""
    return isinstance(index, Tensor) and tuple(index.shape) == tuple(x.shape)


def _write_count(cell: Any) -> int:
    """How many in-place writes (``.data``'s included) ``cell`` has seen."""
    count: int = getattr(cell, "version", 0)
    return count


def _take_by_mask(x: Tensor, mask: Tensor, getitem: Any) -> Tensor:
    """``x[mask]`` for a mask of ``x``'s whole shape. Without a gradient to carry and with
    ``x``'s values at hand, the entries are taken at once (numpy's indexing of a host
    value, JAX's of a device one), so the step that reads them sees an input, not a
    gather whose size is the mask's count; otherwise the gather is recorded. The result
    remembers where it came from, for ``_taken_by``."""
    cell = x._cell
    saved = needs_gradient(x)
    if cell.val is not None and x._view is None and not saved:
        out = _wrap_value(cell.val[_positions(mask)])
    else:
        out = getitem(x, tuple(position_tensors(mask, saved)))
    out._taken_from = (x, cell, _write_count(cell), mask._cell, _write_count(mask._cell))
    return out


def _taken_by(value: Any, mask: Any, x: Tensor) -> Tensor | None:
    """The tensor ``y`` where ``value`` is ``y[mask]`` of this very mask, taken from
    values that neither ``y`` nor the mask has changed since and of ``x``'s shape and
    dtype; else None. ``x[mask] = y[mask]`` is then ``where(mask, y, x)``: the same
    values and gradients, with no size that depends on the mask's count."""
    taken = getattr(value, "_taken_from", None) if isinstance(value, Tensor) else None
    if taken is None or not _whole_mask(x, mask):
        return None
    source, cell, writes, mask_cell, mask_writes = taken
    # a view's writes through its base are counted on the base's cell, not its own
    if source._view is not None or mask._view is not None or source._cell is not cell \
            or _write_count(cell) != writes or mask._cell is not mask_cell \
            or _write_count(mask_cell) != mask_writes:
        return None
    if tuple(source.shape) != tuple(x.shape) or source.dtype != x.dtype:
        return None
    return source  # type: ignore[no-any-return]


def _advanced(item: Any) -> bool:
    """Whether an index item makes an assignment PyTorch's ``index_put_`` (a list, an
    array, a tensor but a 0-d integer one, which indexes as an int)."""
    if isinstance(item, Tensor):
        return item.dim() > 0 or item._cell.aval[1] == np.bool_
    return isinstance(item, (list, np.ndarray))


def check_put_dtype(x: Tensor, index: Any, value: Any) -> None:
    """PyTorch's RuntimeError for ``x[index] = value`` through ``index_put_`` with a
    tensor ``value`` of another dtype, which it does not cast (a slice's ``copy_`` does);
    a mask as the only such item, with a one-element value, is its ``masked_fill``, which
    casts."""
    if not isinstance(value, Tensor) or value.dtype == x.dtype:
        return
    items = index if isinstance(index, tuple) else (index,)
    advanced = [item for item in items if _advanced(item)]
    if not advanced or len(advanced) == 1 and _is_mask(advanced[0]) and value.numel() == 1:
        return
    raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                       f"{scalar_name(x.dtype)} for the destination and "
                       f"{scalar_name(value.dtype)} for the source.")


#: PyTorch reads a list as a tuple of indices only below this length (NumPy's old rule)
_SEQUENCE_AS_TUPLE_BELOW = 32
_SEQUENCE_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be "
    "changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will "
    "be interpreted as tensor index, x[torch.tensor(seq)], which will result either in an "
    "error or a different result")


def as_pytorch_reads(index: Any, reading: bool) -> Any:
    """``index`` as PyTorch 2.13 reads it: a list holding a tensor, a sequence, a slice,
    ``...`` or None is a tuple of indices (``x[[rows, cols]]``), with PyTorch's
    deprecation warning; a ``uint8`` tensor read as an index is a mask, with PyTorch's
    warning (as an assignment's index PyTorch refuses it, see ``setitem``)."""
    if type(index) is slice or type(index) is int:  # a training loop's batch slice
        return index
    if type(index) is list and len(index) < _SEQUENCE_AS_TUPLE_BELOW and any(
            isinstance(item, (Tensor, list, tuple, range, np.ndarray, slice))
            or item is None or item is Ellipsis for item in index):
        warnings.warn(_SEQUENCE_WARNING, UserWarning, stacklevel=caller_level())
        index = tuple(index)
    if not reading:
        return index
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(item, Tensor) and item.dtype == _dtypes.uint8 for item in items):
        warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a "
                      "dtype torch.bool instead.", UserWarning, stacklevel=caller_level())
        read = tuple(item.bool() if isinstance(item, Tensor) and item.dtype == _dtypes.uint8
                     else item for item in items)
        index = read if isinstance(index, tuple) else read[0]
    return index


def _is_bool(item: Any) -> bool:
    """Whether ``item`` is a boolean scalar index: Python's or a 0-d bool tensor."""
    if isinstance(item, Tensor):
        return item.dtype == _dtypes.bool_ and item.dim() == 0
    return isinstance(item, bool)


def _bool_scalars(index: Any, ndim: int) -> tuple[tuple[Any, ...], int, int] | None:
    """For an index holding False or several booleans, as PyTorch reads them (0-d masks
    broadcast together into one dimension, of size 0 if any is False, placed where the
    first stands if they are adjacent, else first): the index without them, the
    dimension's place in the result and its size. None for other indices (one True
    is a new dimension of size 1, as None, and needs no help).

    Raises:
        NotImplementedError: such booleans beside a tensor or sequence index.
    """
    items = index if isinstance(index, tuple) else (index,)
    at = [i for i, item in enumerate(items) if _is_bool(item)]
    if not at or (len(at) == 1 and bool(items[at[0]])):
        return None
    if any(isinstance(item, (Tensor, list, tuple, range, np.ndarray)) and not _is_bool(item)
           for item in items):
        raise NotImplementedError(
            "fnnet.torch does not support False or several booleans beside a tensor or "
            "sequence index; index with the tensor first, then with the booleans")
    rest = tuple(item for item in items if not _is_bool(item))
    place = 0
    if at == list(range(at[0], at[-1] + 1)):  # adjacent: where the first stands
        consumed = sum(isinstance(item, (int, np.integer, slice)) for item in rest)
        for item in items[:at[0]]:
            if item is Ellipsis:
                place += ndim - consumed
            elif isinstance(item, slice) or item is None:
                place += 1
    return rest, place, int(all(bool(items[i]) for i in at))


def mask_indexing(getitem: Any, setitem: Any) -> tuple[Any, Any]:
    """``Tensor.__getitem__``/``__setitem__`` that also take boolean masks: a mask is read
    and replaced by its integer indices before ``getitem``/``setitem`` record the gather
    or scatter. ``x[mask] = scalar`` with a mask of ``x``'s whole shape keeps
    ``setitem``'s own path (a masked fill: no read, same shape)."""

    def __getitem__(self: Tensor, index: Any) -> Tensor:
        index = as_pytorch_reads(index, reading=True)
        scalars = None if type(index) is slice or type(index) is int else _bool_scalars(
            index, self.dim())
        if scalars is not None:  # x[False], x[True, True]: one new dimension
            rest, place, size = scalars
            out: Tensor = __getitem__(self, rest).unsqueeze(place).narrow(place, 0, size)
            return out
        if _has_mask(index):
            check_mask_shape(tuple(self.shape), index)
            chosen = select(self, index)  # a gather kept whole until its rows are read
            if chosen is not None:
                return chosen
            if _whole_mask(self, index):
                return _take_by_mask(self, index, getitem)
            index = expand_masks(index, needs_gradient(self))
        return getitem(self, index)  # type: ignore[no-any-return]

    def __setitem__(self: Tensor, index: Any, value: Any) -> None:
        index = as_pytorch_reads(index, reading=False)
        scalars = None if type(index) is slice or type(index) is int else _bool_scalars(
            index, self.dim())
        if scalars is not None:
            if scalars[2]:  # x[True, True] = v writes where x[...] would
                self[scalars[0]] = value
            return  # x[False] = v selects nothing
        check_put_dtype(self, index, value)
        if _has_mask(index) and not (_whole_mask(self, index) and _scalar_value(value)):
            check_mask_shape(tuple(self.shape), index)
            source = _taken_by(value, index, self)
            if source is not None:  # x[mask] = y[mask]: where(mask, y, x)
                setitem(self, index, source)
                return
            index = expand_masks(index, needs_gradient(self, value))
        setitem(self, index, value)

    __getitem__.__doc__ = getitem.__doc__
    __setitem__.__doc__ = setitem.__doc__
    return __getitem__, __setitem__


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods to :class:`Tensor` and the functions to ``namespace``
    (``fnnet.torch``'s globals)."""
    get, set_ = mask_indexing(Tensor.__getitem__, Tensor.__setitem__)
    Tensor.__getitem__ = get  # type: ignore[method-assign]
    Tensor.__setitem__ = set_  # type: ignore[method-assign]

    def nonzero_method(self: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
        return nonzero(self, as_tuple=as_tuple)

    def masked_select_method(self: Tensor, mask: Any) -> Tensor:
        return masked_select(self, mask)

    def argwhere_method(self: Tensor) -> Tensor:
        return nonzero(self)

    for name, method in (("nonzero", nonzero_method), ("masked_select", masked_select_method),
                         ("argwhere", argwhere_method)):
        method.__name__ = name
        method.__doc__ = f"PyTorch equivalent: ``Tensor.{name}``."
        setattr(Tensor, name, method)
    namespace.update(nonzero=nonzero, argwhere=argwhere, masked_select=masked_select,
                     where=one_argument_where(namespace["where"]))
