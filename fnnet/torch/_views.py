"""PyTorch's views, for in-place writes: an in-place op on a view (``w[0].fill_(0)``,
``x[:, 1].add_(1)``, ``x.view(-1)[:2].zero_()``, ``x.t()[0].copy_(v)``, a piece of
``unbind``/``split``/``narrow``) also changes the tensor the view was taken from.

fnnet.torch's values are immutable arrays, so a view is a tensor of its own that
remembers its *root* (the tensor it was taken from that is not itself a view) and the
steps from the root to it (an index, a reshape, a permutation). Taking a view only notes
its step, as views are taken every iteration (a batch slice, ``x.view(-1, 784)``); after
an in-place op on the view, :func:`write_back` takes the intermediate views from the root
again, puts the new values back step by step and makes the result the root's new value,
with the root's own in-place rules (a leaf that requires grad refuses it while grad is
enabled). Views of views extend their parent's steps, so an intermediate view may be
dropped.

The root is held weakly (the tensor, else the value cell it shares with its ``.data``
and ``detach()`` aliases), so a view never keeps a large result alive. One direction
only: reading a view after its root changed in place shows the view's old values
(PyTorch would show the new ones).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from fnnet.torch.tensor import Tensor

_BASIC = (int, slice, type(None), type(Ellipsis))


#: one step from a tensor to its view: ``("index", index)``, ``("reshape", view shape,
#: tensor shape)`` or ``("permute", dims)``
Step = tuple[Any, ...]


class Link(NamedTuple):
    """How a view reaches its root: the root (weakly), its kind, the steps to the view."""

    tensor: weakref.ref[Any]
    cell: weakref.ref[Any]
    kind: int
    steps: tuple[Step, ...]


def basic_index(index: Any) -> bool:
    """Whether ``x[index]`` is a view in PyTorch: ints, slices, None and ``...`` only
    (a list, a tensor or a mask index copies)."""
    if isinstance(index, tuple):
        return all(type(i) in _BASIC for i in index)
    return type(index) in _BASIC


def link(view: Tensor, base: Tensor, step: Step) -> Tensor:
    """Marks ``view`` (``base`` after ``step``) as a view of ``base``; returns ``view``."""
    parent: Link | None = getattr(base, "_view", None)
    if parent is None:
        view._view = Link(weakref.ref(base), weakref.ref(base._cell), base._kind, (step,))
    else:
        view._view = parent._replace(steps=(*parent.steps, step))
    return view


def link_index(view: Tensor, base: Tensor, index: Any) -> Tensor:
    """Marks ``view`` (``base[index]``, a basic index) as a view of ``base``."""
    return link(view, base, ("index", index))


def link_reshape(view: Tensor, base: Tensor) -> Tensor:
    """Marks ``view`` (``base`` reshaped: ``view``, ``squeeze``, ``flatten``...) as a
    view of ``base``."""
    return link(view, base, ("reshape", view._cell.aval[0], base._cell.aval[0]))


def link_permute(view: Tensor, base: Tensor, dims: tuple[int, ...]) -> Tensor:
    """Marks ``view`` (``base.permute(dims)``) as a view of ``base``."""
    return link(view, base, ("permute", dims))


def _take(tensor: Tensor, step: Step) -> Tensor:
    """``tensor``'s view after ``step``."""
    if step[0] == "index":
        view: Tensor = tensor[step[1]]
        return view
    if step[0] == "reshape":
        return tensor.reshape(step[1])
    return tensor.permute(*step[1])


def _put(tensor: Tensor, step: Step, value: Tensor) -> Tensor:
    """``tensor`` with its view after ``step`` replaced by ``value``."""
    if step[0] == "index":
        out = tensor.clone()
        out[step[1]] = value
        return out
    if step[0] == "reshape":
        return value.reshape(step[2])
    dims = step[1]
    return value.permute(*sorted(range(len(dims)), key=lambda i: dims[i]))


def along(dim: int, index: int | slice) -> tuple[Any, ...]:
    """The basic index of ``index`` along dimension ``dim`` (``dim >= 0``)."""
    return (slice(None),) * dim + (index,)


def write_back(view: Tensor) -> None:
    """After an in-place op on ``view``: its root takes the view's new values."""
    from fnnet.torch.tensor import Tensor

    how = view._view
    if how is None:
        return  # not a view
    root, cell = how.tensor(), how.cell()
    if cell is None:
        return  # nothing holds the root's value any more
    if root is None or root._cell is not cell:  # an alias of the value the view saw
        root = Tensor.__new__(Tensor)
        root._cell, root._kind, root.grad = cell, how.kind, None
        root._view = root._hooks = None
    chain = [root]  # the root and the views between it and this one
    for step in how.steps[:-1]:
        chain.append(_take(chain[-1], step))
    value = view
    for tensor, step in zip(reversed(chain), reversed(how.steps), strict=True):
        value = _put(tensor, step, value)
    root._inplace(value)
