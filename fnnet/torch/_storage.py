"""``Tensor.storage()`` and ``Tensor.untyped_storage()``: the memory PyTorch's tensor
would view, as a read-only snapshot of its elements.

A course shows that ``a.view(3, 3, 2)`` shares ``a``'s memory by printing
``a.storage()``, and code checks that two tensors share memory (tied weights) by the
``data_ptr()`` of their storages. fnnet.torch's values are JAX arrays, which cannot be
written through another object: the storage of a view is its root tensor's elements in
order (the view's own, once the root is gone), read when the storage is made. Writing
into it is not supported.
"""

from __future__ import annotations

import warnings
from typing import Any

import jax.numpy as jnp
import numpy as np

from fnnet.torch.tensor import Tensor

#: PyTorch's words, said once per process as PyTorch's ``_warn_typed_storage_removal``
_DEPRECATED = (
    "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will "
    "be the only storage class. This should only matter to you if you are using storages "
    "directly.  To access UntypedStorage directly, use tensor.untyped_storage() instead "
    "of tensor.storage()")
_warned = False


def _root(tensor: Tensor) -> Tensor:
    """The tensor whose memory ``tensor`` views: its view's root while that still holds
    the values viewed, else ``tensor`` itself."""
    link = getattr(tensor, "_view", None)
    if link is not None:
        root: Tensor | None = link.tensor()
        if root is not None and root._cell is link.cell():
            return root
    return tensor


def _host_dtype(tensor: Tensor) -> np.dtype[Any]:
    """The numpy type of PyTorch's elements of ``tensor`` (``torch.int64`` is 64 bits
    there, whatever fnnet.torch holds it in)."""
    name = tensor.dtype.name
    return np.dtype(jnp.bfloat16) if name == "bfloat16" else np.dtype(name)


class _Storage:
    """What both storages share: the root tensor and its elements, flat."""

    def __init__(self, root: Tensor) -> None:
        self._tensor = root
        self._values = np.asarray(root.detach().cpu().numpy()).reshape(-1).astype(
            _host_dtype(root))

    @property
    def device(self) -> Any:
        return self._tensor.device

    @property
    def is_cuda(self) -> bool:
        return False

    def data_ptr(self) -> int:
        """The address of the first element, the tensor's ``data_ptr()`` at offset 0."""
        return int(self._tensor.data_ptr())

    def nbytes(self) -> int:
        return int(self._values.nbytes)

    def is_shared(self) -> bool:
        return False

    def is_pinned(self, device: Any = "cuda") -> bool:
        del device
        return False

    def _check(self, idx: Any, size: int) -> int:
        if not isinstance(idx, (int, np.integer)):
            raise RuntimeError(f"can't index a {type(self).__name__} with "
                               f"{type(idx).__name__}")
        if not -size <= idx < size:
            raise IndexError(f"index {idx} out of range for storage of size {size}")
        return int(idx) % size

    def __setitem__(self, idx: Any, value: Any) -> None:
        raise NotImplementedError(
            "fnnet.torch: a tensor's storage is a read-only copy of its elements (JAX "
            "arrays are not written through other objects); write into the tensor itself "
            "(t.view(-1)[i] = value)")


class TypedStorage(_Storage):
    """The elements of a tensor's memory, of its dtype.

    PyTorch equivalent: ``torch.TypedStorage`` (what ``Tensor.storage()`` returns).
    """

    @property
    def dtype(self) -> Any:
        return self._tensor.dtype

    def size(self) -> int:
        return int(self._values.size)

    def __len__(self) -> int:
        return self.size()

    def element_size(self) -> int:
        return int(self._values.itemsize)

    def tolist(self) -> list[Any]:
        values: list[Any] = self._values.tolist()
        return values

    def __iter__(self) -> Any:
        return iter(self.tolist())

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        return self._values[self._check(idx, self.size())].item()

    def untyped(self) -> UntypedStorage:
        return UntypedStorage(self._tensor)

    def __str__(self) -> str:
        info = (f"[torch.storage.TypedStorage(dtype={self.dtype}, device={self.device}) of "
                f"size {len(self)}]")
        return " " + "\n ".join(str(v) for v in self.tolist()) + "\n" + info

    __repr__ = __str__


class UntypedStorage(_Storage):
    """The bytes of a tensor's memory.

    PyTorch equivalent: ``torch.UntypedStorage`` (``Tensor.untyped_storage()``).
    """

    def _bytes(self) -> np.ndarray:
        return self._values.view(np.uint8)

    def size(self) -> int:
        return self.nbytes()

    def __len__(self) -> int:
        return self.nbytes()

    def element_size(self) -> int:
        return 1

    def tolist(self) -> list[int]:
        values: list[int] = self._bytes().tolist()
        return values

    def __iter__(self) -> Any:
        return iter(self.tolist())

    def __getitem__(self, idx: Any) -> int:
        return int(self._bytes()[self._check(idx, self.size())])

    def __str__(self) -> str:
        info = f"[torch.storage.UntypedStorage(device={self.device}) of size {len(self)}]"
        return " " + "\n ".join(str(v) for v in self.tolist()) + "\n" + info

    __repr__ = __str__


def storage(self: Tensor) -> TypedStorage:
    """The elements of the memory the tensor views, with PyTorch's deprecation warning
    (once). PyTorch equivalent: ``Tensor.storage``."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(_DEPRECATED, UserWarning, stacklevel=2)
    return TypedStorage(_root(self))


def untyped_storage(self: Tensor) -> UntypedStorage:
    """The bytes of the memory the tensor views. PyTorch equivalent:
    ``Tensor.untyped_storage``."""
    return UntypedStorage(_root(self))


def install(namespace: dict[str, Any]) -> None:
    """Adds ``storage`` and ``untyped_storage`` to :class:`Tensor`, and the storage
    classes to ``namespace`` (``fnnet.torch``'s globals)."""
    Tensor.storage = storage  # type: ignore[attr-defined]
    Tensor.untyped_storage = untyped_storage  # type: ignore[attr-defined]
    namespace.update(TypedStorage=TypedStorage, UntypedStorage=UntypedStorage)
