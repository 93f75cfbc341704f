"""``Tensor.apply_`` and ``Tensor.map_``: a Python callable applied to each element on the
host, written back in place (PyTorch runs them on CPU tensors only, one Python call per
element; so does fnnet.torch, reading the values first)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fnnet.torch._functions import tensor_argument
from fnnet.torch.tensor import Tensor, _as_tensor


def _check(self: Tensor, who: str, function: Any) -> None:
    if self.requires_grad:
        raise RuntimeError(f"Can't call {who}() on Variable that requires grad. Use "
                           f"var.detach().{who}() instead.")
    if not callable_(function):
        raise TypeError(f"{who}(): argument 'callable' must be callable")


def _write(self: Tensor, values: list[Any]) -> Tensor:
    array = np.asarray(values, dtype=self.dtype.np).reshape(tuple(self.shape))
    return self.copy_(_as_tensor(array))


def apply_(self: Tensor, callable: Callable[[Any], Any]) -> Tensor:  # noqa: A002
    """Replaces each element ``x`` by ``callable(x)`` (a Python number in, a number out).

    PyTorch equivalent: ``Tensor.apply_``.
    """
    _check(self, "apply_", callable)
    return _write(self, [callable(x) for x in self.detach().reshape(-1).tolist()])


def map_(self: Tensor, other: Tensor, callable: Callable[[Any, Any], Any]  # noqa: A002
         ) -> Tensor:
    """Replaces each element ``x`` by ``callable(x, y)``, ``y`` the element of ``other``
    (broadcast to this tensor's shape) at the same place. PyTorch equivalent:
    ``Tensor.map_``."""
    tensor_argument(other, "map_", "other", 1)
    _check(self, "map_", callable)
    others = other.detach().expand(*self.shape).reshape(-1).tolist()
    mine = self.detach().reshape(-1).tolist()
    return _write(self, [callable(x, y) for x, y in zip(mine, others, strict=True)])


callable_ = callable  # the builtin, which the methods' PyTorch argument name shadows


def install() -> None:
    """Adds the methods to :class:`Tensor`."""
    Tensor.apply_ = apply_  # type: ignore[attr-defined]
    Tensor.map_ = map_  # type: ignore[attr-defined]
