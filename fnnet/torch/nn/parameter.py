"""``nn.Parameter``: a leaf tensor that requires grad and that modules register."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from fnnet.torch import _graph
from fnnet.torch._format import format_tensor
from fnnet.torch._graph import CONST, VAR, Cell
from fnnet.torch.tensor import Tensor, _as_tensor, note_leaf, note_new_tensor


class Parameter(Tensor):
    """A tensor registered by a module when assigned as its attribute.

    The value is copied into storage that fnnet.torch owns, so compiled optimizer
    steps can update it in place (donate the old buffer).

    PyTorch equivalent: ``torch.nn.Parameter``.
    """

    __slots__ = ()
    _deepcopy_keeps_attributes = False
    _formats_as_number = False

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = jnp.zeros((0,), jnp.float32)
        if isinstance(data, Tensor):
            value = jnp.array(data._value(), copy=True)
        else:
            value = jnp.array(_as_tensor(data)._value(), copy=True)
        if requires_grad and not jnp.issubdtype(value.dtype, jnp.inexact):  # bfloat16 too
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        self._cell = Cell(value, owned=True)
        self._kind = VAR if requires_grad else CONST
        self.grad = self._view = self._hooks = self._data_version = None
        if requires_grad:  # p.detach().requires_grad_() is then a leaf of its own
            note_leaf(self)
        note_new_tensor(self)

    @classmethod
    def _from_array(cls, value: Any, requires_grad: bool = True) -> Parameter:
        """Wraps a fresh array (from a layer's ``init``) without copying it."""
        p = cls.__new__(cls)
        p._cell = Cell(value, owned=True)
        p._kind = VAR if requires_grad else CONST
        p.grad = p._view = p._hooks = p._data_version = None
        if requires_grad:
            note_leaf(p)
        note_new_tensor(p)
        return p

    def __repr__(self) -> str:
        return "Parameter containing:\n" + format_tensor(self)


def buffer_from_array(value: Any) -> Tensor:
    """A tensor owning ``value`` (a layer's buffer, e.g. BatchNorm running statistics)."""
    t = Tensor.__new__(Tensor)
    t._cell = Cell(value, owned=True)
    t._kind = CONST
    t.grad = t._view = t._hooks = t._data_version = None
    note_new_tensor(t)
    return t


_ = _graph


def __getattr__(name: str) -> Any:
    # the placeholders of lazy modules, under PyTorch's module path (torch.nn.parameter)
    if name in ("UninitializedParameter", "UninitializedBuffer", "is_lazy"):
        from fnnet.torch.nn import _uninitialized

        return getattr(_uninitialized, name)
    if name == "Buffer":
        from fnnet.torch.nn._buffer import Buffer

        return Buffer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
