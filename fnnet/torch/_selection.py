"""``x[mask]`` kept whole until its rows are read.

A boolean mask over ``x``'s leading dimensions (``mask = y != pad`` in padded NLP, a
confidence threshold in semi-supervised training) selects a number of rows that changes
from batch to batch, and a recorded gather of that many rows made each count a new
structure to compile. The selection is kept instead as ``where(mask, x, 0)`` beside the
mask: the reductions that such code takes of it (``sum()``, ``mean()``,
``cross_entropy(x[mask], y[mask])``), after comparisons or arithmetic between selections
by the same mask, are computed over the whole shape with the mask as weights, so the
count is no part of the step. Anything else reads the rows (:class:`Selected`'s
``_cell``): a recorded gather, or for a concrete ``x`` without a gradient numpy's
indexing of its values, as before.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from fnnet.torch import _saved
from fnnet.torch._recorder import current
from fnnet.torch._tape import CONST
from fnnet.torch.tensor import Tensor, _op, _wrap_value
from fnnet.typing import Array

#: the storage slot of a tensor, under :class:`Selected`'s property of that name
_CELL = Tensor.__dict__["_cell"]


def _version(t: Tensor) -> int:
    count: int = getattr(_CELL.__get__(t), "version", 0)
    return count


class Selected(Tensor):
    """``x[mask]`` whose rows are taken only where they are read.

    ``_open``: the rows are not taken yet; ``_host`` is a concrete ``x``'s value (its
    rows are then taken on the host), else None; ``_built`` is ``where(mask, x, 0)``
    (made at once for a recorded ``x``, on first use for a concrete one); ``_drop`` is
    the mask's negation when the selection was made, on the host, shaped to broadcast
    against ``x`` (a copy, which a later write to the mask leaves alone); ``_mask`` the
    mask tensor and ``_mask_version`` its write count then.
    """

    __slots__ = ("_open", "_host", "_built", "_drop", "_mask", "_mask_version")
    _open: bool
    _host: Any
    _built: Tensor | None
    _drop: Tensor
    _mask: Tensor
    _mask_version: int

    @property
    def _cell(self) -> Any:
        if self._open:
            self._take()
        return _CELL.__get__(self)

    @_cell.setter
    def _cell(self, value: Any) -> None:
        _CELL.__set__(self, value)

    def _take(self) -> None:
        """Takes the rows (by the mask as it was) as this tensor's value."""
        self._open = False
        keep = np.logical_not(np.asarray(_CELL.__get__(self._drop).val)).reshape(
            self._mask.shape)
        if self._host is not None:
            rows = _wrap_value(self._host[np.nonzero(keep)])
        else:
            rec = current()
            rec.taking_rows = True
            try:
                rows = self._whole()[_wrap_value(keep)]
            finally:
                rec.taking_rows = False
        _CELL.__set__(self, _CELL.__get__(rows))
        self._kind = rows._kind

    def _whole(self) -> Tensor:
        if self._built is None:
            self._built = _wrap_value(self._host).masked_fill(self._drop, 0)
        return self._built

    def _like(self, whole: Tensor) -> Selected:
        """A selection by this one's mask of the whole-shape ``whole``."""
        return _selected(self._mask, self._drop, self._mask_version, None, whole)

    def _whole_of(self, other: Any, dims: int) -> Tensor | int | float | bool | None:
        """``other`` over the whole shape, of ``dims`` dimensions, where it is a number or
        a selection by the same mask (as it was then) still open; None otherwise."""
        if isinstance(other, (bool, int, float)):
            return other
        if not isinstance(other, Selected) or not other._open or \
                other._mask is not self._mask or other._mask_version != self._mask_version \
                or _version(self._mask) != self._mask_version:
            return None
        whole = other._whole()
        return whole if whole.dim() == dims else None

    def _masked_sum(self) -> Tensor:
        return self._whole().masked_fill(self._drop, 0).sum()

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        if self._open and dim is None and not keepdim and dtype is None:
            return self._masked_sum()
        return super().sum(dim, keepdim, dtype)

    def mean(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        if self._open and dim is None and not keepdim and dtype is None:
            whole = self._whole()
            if whole.dtype.is_floating_point:
                return masked_reduce(whole, self._drop, "MeanBackward0", "mean")
        return super().mean(dim, keepdim, dtype)

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        # a plain tensor (Tensor's copy takes the class of the original)
        return self.detach().__deepcopy__(memo) if self.is_leaf else \
            super().__deepcopy__(memo)

    def float(self, memory_format: Any = None) -> Tensor:
        return self._like(self._whole().float()) if self._open else super().float()

    def long(self, memory_format: Any = None) -> Tensor:
        return self._like(self._whole().long()) if self._open else super().long()

    def __neg__(self) -> Tensor:
        return self._like(-self._whole()) if self._open else super().__neg__()

    def abs(self) -> Tensor:
        return self._like(self._whole().abs()) if self._open else super().abs()

    __abs__ = abs

    def __pow__(self, exponent: Any) -> Tensor:
        # a power of at least 1 has a finite gradient at the zeros left outside the mask
        if self._open and isinstance(exponent, (int, float)) and not \
                isinstance(exponent, bool) and exponent >= 1:
            return self._like(self._whole() ** exponent)
        return super().__pow__(exponent)


def _binary(name: str, op: Callable[[Any, Any], Any], reflected: bool) -> Callable[..., Any]:
    """``Selected.<name>``: ``op`` on the whole shapes where the other operand has one
    (see ``_whole_of``), else Tensor's on the rows."""
    fallback = getattr(Tensor, name)

    def method(self: Selected, other: Any) -> Any:
        if self._open:
            mine = self._whole()
            theirs = self._whole_of(other, mine.dim())
            if theirs is not None:
                return self._like(op(theirs, mine) if reflected else op(mine, theirs))
        return fallback(self, other)

    method.__name__ = name
    return method


for _name, _function, _reflected in (
        ("__eq__", operator.eq, False), ("__ne__", operator.ne, False),
        ("__lt__", operator.lt, False), ("__le__", operator.le, False),
        ("__gt__", operator.gt, False), ("__ge__", operator.ge, False),
        ("__add__", operator.add, False), ("__radd__", operator.add, True),
        ("__sub__", operator.sub, False), ("__rsub__", operator.sub, True),
        ("__mul__", operator.mul, False), ("__rmul__", operator.mul, True)):
    setattr(Selected, _name, _binary(_name, _function, _reflected))
Selected.__hash__ = Tensor.__hash__  # type: ignore[method-assign]


def _selected(mask: Tensor, drop: Tensor, mask_version: int, host: Any,
              built: Tensor | None) -> Selected:
    out = Tensor.__new__(Selected)
    out._open, out._host, out._built = True, host, built
    out._drop, out._mask, out._mask_version = drop, mask, mask_version
    out._kind = CONST if built is None else built._kind
    out.grad = out._view = out._hooks = out._data_version = None
    return out


def _masked_reduce(x: Array, drop: Array, node: str, how: str) -> Array:
    """The sum or mean (``how``) of ``x`` over the elements ``drop`` (broadcast to ``x``)
    leaves; a mean of none is 0 / 0, NaN, as PyTorch's mean of no elements. ``node``
    names the backward node PyTorch's computation ends in (its ``grad_fn``)."""
    kept = jnp.logical_not(jnp.broadcast_to(drop, x.shape))
    total = jnp.where(kept, x, jnp.zeros((), x.dtype)).sum()
    return total / kept.sum().astype(x.dtype) if how == "mean" else total


def masked_reduce(x: Tensor, drop: Tensor, node: str, how: str) -> Tensor:
    """:func:`_masked_reduce` recorded: a reduction over a selection whatever its count."""
    return _op(_masked_reduce, (node, how), x, drop)


def _kept(x: Array, mask: Array) -> Array:
    """``x`` where the mask over its leading dimensions is True, zero elsewhere."""
    keep = mask.reshape(*mask.shape, *(1,) * (x.ndim - mask.ndim))
    return jnp.where(keep, x, jnp.zeros((), x.dtype))


# PyTorch's indexing by a mask keeps the mask for its backward, which then raises where
# the mask was written since; ``_kept`` reads the mask for that check (see _saved)
_saved.RULES[_kept.__name__] = _saved.RULES["_masked_fill"]


def select(x: Tensor, index: Any) -> Tensor | None:
    """``x[index]`` as a :class:`Selected` where ``index`` is one boolean mask tensor (of
    ``x``'s leading dimensions, already checked); None otherwise."""
    if not isinstance(index, Tensor) or index.dim() == 0 or current().taking_rows:
        return None
    mask_cell = _CELL.__get__(index)
    if mask_cell.aval[1] != np.bool_ or index._view is not None:
        return None
    # the mask is read now, as ``_masking`` reads it: the rows may be taken where a
    # recorded op reads this tensor's value, which must not flush the tape then
    values = np.asarray(index._value())
    drop = _wrap_value(np.logical_not(values).reshape(*values.shape,
                                                      *(1,) * (x.dim() - index.dim())))
    cell = x._cell
    if cell.val is not None and x._view is None and not (
            current().grad_enabled and x._kind != CONST):
        out = _selected(index, drop, _version(index), cell.val, None)
    else:
        out = _selected(index, drop, _version(index), None, _op(_kept, (), x, index))
    if tuple(index.shape) == tuple(x.shape):  # for x[mask] = y[mask] (see _masking)
        out._taken_from = (x, cell, getattr(cell, "version", 0), mask_cell,
                           out._mask_version)
    return out


def whole_regression(input: Any, target: Any, reduction: str, nodes: tuple[str, str],
                     elementwise: Callable[[Tensor, Tensor], Tensor]) -> Tensor | None:
    """A regression loss of ``x[mask]`` and ``y[mask]`` (or a number) computed over the
    whole shapes: ``elementwise`` (the loss with ``reduction="none"``) of the whole
    tensors, summed or averaged over the selected elements; ``nodes`` name PyTorch's
    backward nodes for the sum and the mean. None where the arguments are not such a
    selection."""
    if reduction not in ("mean", "sum") or not isinstance(input, Selected) or \
            not input._open:
        return None
    whole = input._whole()
    other = input._whole_of(target, whole.dim())
    if other is None or not whole.dtype.is_floating_point:
        return None
    losses = elementwise(whole, other if isinstance(other, Tensor) else
                         whole.new_full(whole.shape, other))
    return masked_reduce(losses, input._drop, nodes[reduction == "mean"], reduction)


def whole_classes(input: Any, target: Any, ignore_index: int) -> tuple[Tensor, Tensor] | None:
    """``cross_entropy(x[mask], y[mask])``'s arguments over the whole batch:
    ``x``'s rows ``[N, C]`` and ``y`` with ``ignore_index`` where the mask is False,
    which PyTorch's reductions (a mean over the labels not ignored, weighted or not)
    leave out as they would the unselected rows. None where ``input`` is not such a
    selection or ``target`` not one by the same mask."""
    if not isinstance(input, Selected) or not input._open:
        return None
    whole = input._whole()
    labels = input._whole_of(target, input._mask.dim())
    if whole.dim() != input._mask.dim() + 1 or not isinstance(labels, Tensor) or \
            labels.dtype.is_floating_point:
        return None
    return (whole.masked_fill(input._drop, 0).reshape(-1, whole.shape[-1]),
            labels.masked_fill(input._drop.reshape(labels.shape), ignore_index).reshape(-1))
