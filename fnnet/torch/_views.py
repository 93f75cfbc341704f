"""PyTorch's views, for in-place writes: an in-place op on a view (``w[0].fill_(0)``,
``x[:, 1].add_(1)``, ``x.view(-1)[:2].zero_()``, ``x.t()[0].copy_(v)``, a piece of
``unbind``/``split``/``narrow``, ``x.diagonal().fill_(0)``) also changes the tensor the
view was taken from.

fnnet.torch's values are immutable arrays, so a view is a tensor of its own that
remembers its *root* (the tensor it was taken from that is not itself a view) and the
steps from the root to it (an index, a reshape, a permutation). Taking a view only notes
its step, as views are taken every iteration (a batch slice, ``x.view(-1, 784)``); after
an in-place op on the view, :func:`write_back` takes the intermediate views from the root
again, puts the new values back step by step and makes the result the root's new value,
with the root's own in-place rules (a leaf that requires grad refuses it while grad is
enabled). Views of views extend their parent's steps, so an intermediate view may be
dropped; one still held takes the new values too, and passes them on to its own parent.

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
#: tensor shape)``, ``("permute", dims)`` or ``("diagonal", offset, dim1, dim2)``
Step = tuple[Any, ...]


class Link(NamedTuple):
    """How a view reaches its root: the root (weakly), its kind, the steps to the view,
    and (weakly) the views between: ``views[i]`` is the root after ``steps[:i + 1]``."""

    tensor: weakref.ref[Any]
    cell: weakref.ref[Any]
    kind: int
    steps: tuple[Step, ...]
    views: tuple[weakref.ref[Any], ...] = ()


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
        tensor, cell, kind, steps, views = parent  # built directly: _replace is slower
        view._view = Link(tensor, cell, kind, (*steps, step), (*views, weakref.ref(base)))
    return view


def link_index(view: Tensor, base: Tensor, index: Any) -> Tensor:
    """Marks ``view`` (``base[index]``, a basic index) as a view of ``base``."""
    return link(view, base, ("index", index))


def link_reshape(view: Tensor, base: Tensor) -> Tensor:
    """Marks ``view`` (``base`` reshaped: ``view``, ``squeeze``, ``flatten``...) as a
    view of ``base``; a ``reshape`` or ``flatten`` that PyTorch copies (no strides span
    the memory of a transposed ``base``) is told apart when written to or asked its
    strides, not here."""
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
    if step[0] == "diagonal":
        return tensor.diagonal(*step[1:])
    return tensor.permute(*step[1])


def _put(tensor: Tensor, step: Step, value: Tensor) -> Tensor:
    """``tensor`` with its view after ``step`` replaced by ``value``."""
    if step[0] == "index":
        out = tensor.clone()
        out[step[1]] = value
        return out
    if step[0] == "reshape":
        return value.reshape(step[2])
    if step[0] == "diagonal":
        from fnnet.torch._slices import diagonal_scatter

        return diagonal_scatter(tensor, value, *step[1:])
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
    from fnnet.torch import _strides

    held, steps = nearest_held(how)
    if _strides.copied_steps(view) > len(how.steps) - len(steps):
        return  # a reshape on the way copied (as PyTorch's would), and no one holds the copy
    root, cell = (held, held._cell) if held is not None else (how.tensor(), how.cell())
    if cell is None:
        return  # nothing holds the root's value any more
    if root is None or root._cell is not cell:  # an alias of the value the view saw
        root = Tensor.__new__(Tensor)
        root._cell, root._kind, root.grad = cell, how.kind, None
        root._view = root._hooks = root._data_version = None
    chain = [root]  # the root (or view held) and the views between it and this one
    for step in steps[:-1]:
        chain.append(_take(chain[-1], step))
    value = view
    for tensor, step in zip(reversed(chain), reversed(steps), strict=True):
        value = _put(tensor, step, value)
    root._inplace(value, overlap_ok=True)  # the view itself was checked


def nearest_held(how: Link) -> tuple[Tensor | None, tuple[Step, ...]]:
    """The nearest view between the root and this one that is still held, and the steps
    from it to this one; else None and all the steps from the root. A view held takes
    the new values and writes them on to its own root, which may be gone
    (``x = arange(12).view(3, 4); x[0].zero_()``)."""
    for at in range(len(how.views) - 1, -1, -1):
        held = how.views[at]()
        if held is not None and getattr(held, "_view", None) is not None:
            return held, how.steps[at + 1:]
    return None, how.steps
