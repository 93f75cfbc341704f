"""PyTorch's views, for in-place writes: an in-place op on a view (``w[0].fill_(0)``,
``x[:, 1].add_(1)``, ``x.view(-1)[:2].zero_()``, ``x.t()[0].copy_(v)``, a piece of
``unbind``/``split``/``narrow``) also changes the tensor the view was taken from.

fnnet.torch's values are immutable arrays, so a view is a tensor of its own that
remembers its *root* (the tensor it was taken from that is not itself a view) and two
functions of tensors: ``take(root) -> view`` and ``put(root, view) -> new root``. After
an in-place op on the view, :func:`write_back` records ``put`` and makes its result the
root's new value, with the root's own in-place rules (a leaf that requires grad refuses
it while grad is enabled). Views of views compose onto the root, so an intermediate view
may be dropped.

The root is held weakly (the tensor, else the value cell it shares with its ``.data``
and ``detach()`` aliases), so a view never keeps a large result alive. One direction
only: reading a view after its root changed in place shows the view's old values
(PyTorch would show the new ones).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from fnnet.torch.tensor import Tensor

_BASIC = (int, slice, type(None), type(Ellipsis))


class Link(NamedTuple):
    """How a view reaches its root: the root (weakly), its kind, ``take`` and ``put``."""

    tensor: weakref.ref[Any]
    cell: weakref.ref[Any]
    kind: int
    take: Callable[[Tensor], Tensor]
    put: Callable[[Tensor, Tensor], Tensor]


def basic_index(index: Any) -> bool:
    """Whether ``x[index]`` is a view in PyTorch: ints, slices, None and ``...`` only
    (a list, a tensor or a mask index copies)."""
    if isinstance(index, tuple):
        return all(type(i) in _BASIC for i in index)
    return type(index) in _BASIC


def link(view: Tensor, base: Tensor, take: Callable[[Tensor], Tensor],
         put: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
    """Marks ``view`` (``take(base)``) as a view of ``base``; returns ``view``."""
    parent: Link | None = getattr(base, "_view", None)
    if parent is None:
        view._view = Link(weakref.ref(base), weakref.ref(base._cell), base._kind, take, put)
    else:
        def take_from_root(root: Tensor) -> Tensor:
            return take(parent.take(root))

        def put_into_root(root: Tensor, value: Tensor) -> Tensor:
            return parent.put(root, put(parent.take(root), value))

        view._view = parent._replace(take=take_from_root, put=put_into_root)
    return view


def link_index(view: Tensor, base: Tensor, index: Any) -> Tensor:
    """Marks ``view`` (``base[index]``, a basic index) as a view of ``base``."""
    def take(root: Tensor) -> Tensor:
        view: Tensor = root[index]
        return view

    def put(root: Tensor, value: Tensor) -> Tensor:
        out = root.clone()
        out[index] = value
        return out

    return link(view, base, take, put)


def link_reshape(view: Tensor, base: Tensor) -> Tensor:
    """Marks ``view`` (``base`` reshaped: ``view``, ``squeeze``, ``flatten``...) as a
    view of ``base``."""
    shape = tuple(view.shape)

    def take(root: Tensor) -> Tensor:
        return root.reshape(shape)

    def put(root: Tensor, value: Tensor) -> Tensor:
        return value.reshape(tuple(root.shape))

    return link(view, base, take, put)


def link_permute(view: Tensor, base: Tensor, dims: tuple[int, ...]) -> Tensor:
    """Marks ``view`` (``base.permute(dims)``) as a view of ``base``."""
    inverse = tuple(sorted(range(len(dims)), key=lambda i: dims[i]))

    def take(root: Tensor) -> Tensor:
        return root.permute(*dims)

    def put(root: Tensor, value: Tensor) -> Tensor:
        return value.permute(*inverse)

    return link(view, base, take, put)


def along(dim: int, index: int | slice) -> tuple[Any, ...]:
    """The basic index of ``index`` along dimension ``dim`` (``dim >= 0``)."""
    return (slice(None),) * dim + (index,)


def write_back(view: Tensor) -> None:
    """After an in-place op on ``view``: its root takes the view's new values."""
    from fnnet.torch.tensor import Tensor

    how: Link = view._view
    root, cell = how.tensor(), how.cell()
    if cell is None:
        return  # nothing holds the root's value any more
    if root is None or root._cell is not cell:  # an alias of the value the view saw
        root = Tensor.__new__(Tensor)
        root._cell, root._kind, root.grad = cell, how.kind, None
    root._inplace(how.put(root, view))
