"""``nn.Buffer``: newer PyTorch's way to declare a buffer by assignment
(``self.mask = nn.Buffer(torch.ones(3))`` registers ``mask`` as ``register_buffer`` does,
``persistent=False`` leaving it out of ``state_dict()``)."""

from __future__ import annotations

from typing import Any

from fnnet.torch.tensor import Tensor, _as_tensor


class Buffer(Tensor):
    """A tensor marked for registration as a buffer when assigned to a module; the
    module keeps a plain tensor sharing its value.

    PyTorch equivalent: ``torch.nn.Buffer``.
    """

    __slots__ = ("persistent",)
    persistent: bool

    def __new__(cls, data: Any = None, *, persistent: bool = True) -> Buffer:
        if data is None:
            source = _as_tensor([])
        elif isinstance(data, Tensor):
            source = data.detach()
        else:  # PyTorch calls data.detach()
            raise AttributeError(f"'{type(data).__name__}' object has no attribute 'detach'")
        out = Tensor.__new__(cls)
        out._cell, out._kind = source._cell, source._kind
        out._view = out._hooks = out._data_version = None
        out._grad = None
        out.persistent = persistent
        if data is not None and data.requires_grad:
            out.requires_grad_(True)
        return out

    def __init__(self, data: Any = None, *, persistent: bool = True) -> None:
        del data, persistent  # taken by __new__

    def _plain(self) -> Tensor:
        """The tensor a module registers: a plain one sharing this buffer's value."""
        out = Tensor.__new__(Tensor)
        out._cell, out._kind = self._cell, self._kind
        out._view = out._hooks = out._data_version = None
        out._grad = None
        return out
