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
and ``detach()`` aliases), so a view never keeps a large result alive. The other
direction: a view remembers how many in-place writes its root had seen (the root's
version counter); a view used, read or detached after its root was written since takes
its values from the root again (:func:`refresh`). Writes through ``.data`` count there
too (``Cell.version``), though not in PyTorch's version counter (``Cell.data_writes``).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from fnnet.torch.tensor import Tensor

_BASIC = (int, slice, type(None), type(Ellipsis))
_COMPLEX_STEPS = ("part", "as_real", "as_complex")


#: one step from a tensor to its view: ``("index", index)``, ``("reshape", view shape,
#: tensor shape)``, ``("expand", view shape, tensor shape)``, ``("permute", dims)``,
#: ``("diagonal", offset, dim1, dim2)``,
#: ``("unfold", dim, size, step)``, or
#: between complex and real: ``("part", "real" | "imag")``, ``("as_real",)``,
#: ``("as_complex",)``
Step = tuple[Any, ...]


class Link(NamedTuple):
    """How a view reaches its root: the root (weakly), its kind, the steps to the view,
    and (weakly) the views between: ``views[i]`` is the root after ``steps[:i + 1]``;
    ``version``: the root's count of in-place writes that the view's values have seen."""

    tensor: weakref.ref[Any]
    cell: weakref.ref[Any]
    kind: int
    steps: tuple[Step, ...]
    views: tuple[weakref.ref[Any], ...] = ()
    version: int = 0


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
        cell = base._cell
        try:
            version = cell.version
        except AttributeError:  # set, so that checking a view for staleness reads a slot
            version = cell.version = 0
        view._view = Link(weakref.ref(base), weakref.ref(cell), base._kind, (step,), (),
                          version)
    else:  # built directly: _replace is slower
        tensor, root_cell, kind, steps, views, version = parent
        view._view = Link(tensor, root_cell, kind, (*steps, step),
                          (*views, weakref.ref(base)), version)
    return view


class _Gone:
    pass


#: a reference whose tensor is gone: a detached view's root is its value cell alone
_GONE: weakref.ref[Any] = weakref.ref(_Gone())


def detached(how: Link, kind: int) -> Link:
    """The link of ``view.detach()`` (of ``kind``, not requiring grad), ``how`` being the
    view's: PyTorch's detached view shares its root's memory, so it sees the root's
    later writes, and a write through it reaches the root without autograd (the root
    reached through its value cell, not the tensor, whose in-place rules it skips)."""
    return how._replace(tensor=_GONE, kind=kind, views=())


def link_index(view: Tensor, base: Tensor, index: Any) -> Tensor:
    """Marks ``view`` (``base[index]``, a basic index) as a view of ``base``."""
    return link(view, base, ("index", index))


def link_reshape(view: Tensor, base: Tensor) -> Tensor:
    """Marks ``view`` (``base`` reshaped: ``view``, ``squeeze``, ``flatten``...) as a
    view of ``base``; a ``reshape`` or ``flatten`` that PyTorch copies (no strides span
    the memory of a transposed ``base``) is told apart when written to or asked its
    strides, not here."""
    return link(view, base, ("reshape", view._cell.aval[0], base._cell.aval[0]))


def link_expand(view: Tensor, base: Tensor) -> Tensor:
    """Marks ``view`` (``base`` expanded or broadcast) as a view of ``base``: a
    distribution's ``loc`` broadcast from a parameter follows the optimizer's steps."""
    return link(view, base, ("expand", view._cell.aval[0], base._cell.aval[0]))


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
    if step[0] == "expand":
        return tensor.expand(*step[1])
    if step[0] == "diagonal":
        diagonal: Tensor = tensor.diagonal(*step[1:])
        return diagonal
    if step[0] == "unfold":
        windows: Tensor = tensor.unfold(*step[1:])
        return windows
    if step[0] in _COMPLEX_STEPS:
        from fnnet.torch import _complex

        return _complex.take(tensor, step)
    return tensor.permute(*step[1])


def _put(tensor: Tensor, step: Step, value: Tensor) -> Tensor:
    """``tensor`` with its view after ``step`` replaced by ``value``."""
    if step[0] == "index":
        out = tensor.clone()
        out[step[1]] = value
        return out
    if step[0] in ("reshape", "expand"):  # an expand that repeats elements is not written
        return value.reshape(step[2])
    if step[0] == "diagonal":
        from fnnet.torch._slices import diagonal_scatter

        return diagonal_scatter(tensor, value, *step[1:])
    if step[0] == "unfold":
        return _put_windows(tensor, step, value)
    if step[0] in _COMPLEX_STEPS:
        from fnnet.torch import _complex

        return _complex.put(tensor, step, value)
    dims = step[1]
    return value.permute(*sorted(range(len(dims)), key=lambda i: dims[i]))


def _put_windows(tensor: Tensor, step: Step, value: Tensor) -> Tensor:
    """``tensor`` with its windows ``tensor.unfold(dim, size, step)`` replaced by
    ``value``; an element in no window keeps its value. Overlapping windows share
    elements (PyTorch's windows share memory): such an element takes its value in the
    last window where that value changed (a write through one window), else its own."""
    import numpy as np

    from fnnet.torch import _functions

    _, dim, size, stride = step
    length, count = tensor.shape[dim], value.shape[dim]
    rows = value.movedim(dim, -2).flatten(-2)  # [..., count * size]
    changed = None if stride >= size else \
        (value != tensor.unfold(dim, size, stride)).movedim(dim, -2).flatten(-2)
    at = np.arange(length)
    last = np.minimum(at // stride, count - 1)  # the last window holding each element
    out = tensor.movedim(dim, -1)
    for back in reversed(range(-(-size // stride))):  # earlier windows first
        window = last - back
        offset = at - window * stride
        held = (window >= 0) & (offset >= 0) & (offset < size)
        where = _functions.tensor(np.where(held, window * size + offset, 0))
        written = _functions.tensor(held)
        if changed is not None:
            written = changed.index_select(-1, where) & written
        out = _functions.where(written, rows.index_select(-1, where), out)
    result: Tensor = out.movedim(-1, dim)
    return result


def along(dim: int, index: int | slice) -> tuple[Any, ...]:
    """The basic index of ``index`` along dimension ``dim`` (``dim >= 0``)."""
    return (slice(None),) * dim + (index,)


def write_back(view: Tensor) -> None:
    """After an in-place op on ``view``: its root takes the view's new values."""
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
    root = _root(how, root, cell)
    chain = [root]  # the root (or view held) and the views between it and this one
    for step in steps[:-1]:
        chain.append(_take(chain[-1], step))
    value = view
    for tensor, step in zip(reversed(chain), reversed(steps), strict=True):
        value = _put(tensor, step, value)
    root._inplace(value, overlap_ok=True)  # the view itself was checked
    view._view = how._replace(version=getattr(how.cell(), "version", 0))  # in step again


def _root(how: Link, root: Tensor | None, cell: Any) -> Tensor:
    """``root``, or where it is gone (or now holds another value) a tensor of the value
    cell the view was taken from (the root's ``.data`` and ``detach()`` aliases share it)."""
    from fnnet.torch.tensor import Tensor

    if root is not None and root._cell is cell:
        return root
    alias = Tensor.__new__(Tensor)
    alias._cell, alias._kind, alias.grad = cell, how.kind, None
    alias._view = alias._hooks = alias._data_version = None
    return alias


def stale(view: Tensor) -> bool:
    """Whether the root of ``view`` was written in place since the view's values were
    taken (its ``version`` moved on)."""
    how = view._view
    if how is None:
        return False
    cell = how.cell()
    return cell is not None and cell.version != how.version


def refresh(view: Tensor) -> None:
    """Takes the values of a stale ``view`` from its root again, as PyTorch's view, which
    shares its root's memory, shows the root's in-place writes (``row = w[0]``, then
    ``optimizer.step()``: ``row`` is the new first row)."""
    from fnnet.torch import _graph

    how = view._view
    cell = how.cell() if how is not None else None
    if how is None or cell is None:
        return
    view._view = how._replace(version=cell.version)
    value = _root(how, how.tensor(), cell)
    for step in how.steps:
        value = _take(value, step)
    fresh = value._cell
    if fresh.aval == view._cell.aval:
        _graph.bind(view._cell, fresh.ref, fresh.aval, fresh.rg and bool(view._kind))


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
