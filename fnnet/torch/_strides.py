"""The strides PyTorch would give a tensor, for ``stride()``, ``is_contiguous()``,
``storage_offset()`` and ``as_strided``.

fnnet.torch's values are dense row-major arrays, but a view (``x.t()``, ``x[:, 1]``,
``x[:, ::2]``) notes the steps that took it from its root (see ``_views``). Replaying
those steps on the root's row-major strides gives PyTorch's: a transpose swaps them, a
slice multiplies them by its step, an int index drops its dimension, and ``view`` finds
strides the way ATen's ``computeStride`` does (a view that PyTorch could not take, which
fnnet.torch allows, counts as a fresh row-major tensor).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import jax.numpy as jnp
import numpy as np

from fnnet.torch import _views

if TYPE_CHECKING:
    from fnnet.torch.tensor import Tensor

Layout = tuple[tuple[int, ...], tuple[int, ...]]


def row_major(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The strides of a dense row-major tensor of ``shape``."""
    strides = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        strides[i] = strides[i + 1] * max(shape[i + 1], 1)
    return tuple(strides)


def _index(shape: tuple[int, ...], strides: tuple[int, ...], index: Any
           ) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """The shape, strides and added storage offset of ``x[index]`` (a basic index)."""
    items = index if isinstance(index, tuple) else (index,)
    if any(item is Ellipsis for item in items):
        at = next(i for i, item in enumerate(items) if item is Ellipsis)
        used = sum(1 for item in items if item is not None and item is not Ellipsis)
        items = (*items[:at], *([slice(None)] * (len(shape) - used)), *items[at + 1:])
    new_shape: list[int] = []
    new_strides: list[int] = []
    dim = offset = 0
    for item in items:
        if item is None:  # as unsqueeze: the stride of what follows, times its size
            nxt = (shape[dim] * strides[dim]) if dim < len(shape) else 1
            new_shape.append(1)
            new_strides.append(nxt)
        elif isinstance(item, slice):
            picked = range(*item.indices(shape[dim]))
            new_shape.append(len(picked))
            new_strides.append(strides[dim] * (item.step or 1))
            offset += picked.start * strides[dim] if len(picked) else 0
            dim += 1
        else:  # an int drops its dimension
            offset += (item % shape[dim]) * strides[dim]
            dim += 1
    return (*new_shape, *shape[dim:]), (*new_strides, *strides[dim:]), offset


def _view(old_shape: tuple[int, ...], old_strides: tuple[int, ...],
          new_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """ATen's ``computeStride``: strides for ``new_shape`` viewing the same memory, or
    None where no view exists (PyTorch's ``view`` raises; ``reshape`` copies)."""
    if math.prod(old_shape) == 0 or not old_shape:
        return row_major(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base = old_strides[-1]
    tensor_numel = view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base = old_strides[tensor_d - 1]
                tensor_numel = view_numel = 1
    return tuple(new_strides) if view_d == -1 else None


def _replay(tensor: Tensor) -> tuple[tuple[int, ...], int]:
    """PyTorch's strides and storage offset of ``tensor``: its view steps replayed from
    its root's (a root's are row-major, offset 0)."""
    layout, offset, _ = _walk(tensor)
    return layout, offset


def copied_steps(tensor: Tensor) -> int:
    """How many of the view steps of ``tensor`` lead up to, and include, the last one
    that PyTorch copies (a ``reshape`` or ``flatten`` no strides span); 0 where none
    does. An in-place op on ``tensor`` writes back no further than that copy."""
    return _walk(tensor)[2]


def _walk(tensor: Tensor) -> tuple[tuple[int, ...], int, int]:
    """``_replay``'s strides and offset, and ``copied_steps``."""
    shape = tuple(tensor.shape)
    link = getattr(tensor, "_view", None)
    if link is None:
        return row_major(shape), 0, 0
    root, steps = link.cell(), link.steps
    if root is not None:
        now = tuple(root.aval[0])
        layout, offset = row_major(now), 0
    else:  # the root is gone: from the nearest view between that is still held
        held, steps = _views.nearest_held(link)
        if held is None:
            return row_major(shape), 0, 0
        now, (layout, offset) = tuple(held.shape), _replay(held)
    first, copied = len(link.steps) - len(steps), 0
    for at, step in enumerate(steps, first + 1):
        if step[0] == "index":
            now, layout, added = _index(now, layout, step[1])
            offset += added
        elif step[0] == "permute":
            now, layout = tuple(now[d] for d in step[1]), tuple(layout[d] for d in step[1])
        elif step[0] == "diagonal":  # the two dims become one, stepping along both
            _, diag, d1, d2 = step
            kept = [d for d in range(len(now)) if d not in (d1, d2)]
            offset += diag * layout[d2] if diag >= 0 else -diag * layout[d1]
            length = max(0, min(now[d1] - max(-diag, 0), now[d2] - max(diag, 0)))
            now = (*(now[d] for d in kept), length)
            layout = (*(layout[d] for d in kept), layout[d1] + layout[d2])
        elif step[0] == "unfold":  # windows along dim, each a new last dimension
            _, dim, size, stride = step
            count = (now[dim] - size) // stride + 1
            now = (*now[:dim], count, *now[dim + 1:], size)
            layout = (*layout[:dim], layout[dim] * stride, *layout[dim + 1:], layout[dim])
        elif step[0] in ("part", "as_real"):  # complex memory read as pairs of reals
            offset = 2 * offset + (step[0] == "part" and step[1] == "imag")
            layout = tuple(2 * s for s in layout) + ((1,) if step[0] == "as_real" else ())
            now = (*now, 2) if step[0] == "as_real" else now
        elif step[0] == "as_complex":  # pairs of reals read as complex numbers
            now, layout, offset = now[:-1], tuple(s // 2 for s in layout[:-1]), offset // 2
        else:  # ("reshape", view shape, tensor shape)
            viewed = _view(now, layout, tuple(step[1]))
            now = tuple(step[1])
            if viewed is None:  # a copy: memory of its own
                layout, offset, copied = row_major(now), 0, at
            else:
                layout = viewed
    if now != shape:
        return row_major(shape), 0, copied
    return layout, offset, copied


def strides(tensor: Tensor) -> tuple[int, ...]:
    """PyTorch's strides of ``tensor``."""
    return _replay(tensor)[0]


def storage_offset(self: Tensor) -> int:
    """Where the tensor's first element sits in the memory of the tensor it views (0
    for a tensor that is not a view). PyTorch equivalent: ``Tensor.storage_offset``."""
    return _replay(self)[1]


def is_contiguous(tensor: Tensor) -> bool:
    """Whether PyTorch's strides of ``tensor`` are row-major (size-1 dimensions aside)."""
    shape = tuple(tensor.shape)
    if getattr(tensor, "_view", None) is None or math.prod(shape) == 0:
        return True
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides(tensor)), strict=True):
        if size != 1:
            if stride != expected:
                return False
            expected *= size
    return True


def _addresses(shape: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray:
    """The memory offset of each element of a ``shape`` tensor laid out by ``strides``."""
    grids = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij") if shape else []
    return sum((g * s for g, s in zip(grids, strides, strict=True)),
               np.zeros(shape, np.int64))


def _gather_indices(shape: tuple[int, ...], strides: tuple[int, ...], offset: int,
                    size: tuple[int, ...], stride: tuple[int, ...],
                    wanted_offset: int) -> np.ndarray | None:
    """Where each element of ``as_strided(size, stride, wanted_offset)`` sits in the
    flattened tensor (of ``shape``, laid out by ``strides`` from ``offset``), or None
    where one falls on memory that none of the tensor's elements occupies."""
    held = _addresses(shape, strides).ravel() + offset
    where = np.full(int(held.max()) + 1 if held.size else 0, -1, np.int64)
    where[held] = np.arange(held.size)
    wanted = _addresses(size, stride) + wanted_offset
    if wanted.size and (wanted.max() >= where.size or (where[wanted] < 0).any()):
        return None
    return where[wanted] if wanted.size else wanted


def _as_strided(x: Any, layout: tuple[tuple[int, ...], int], size: tuple[int, ...],
                stride: tuple[int, ...], offset: int) -> Any:
    found = _gather_indices(tuple(x.shape), *layout, size, stride, offset)
    return jnp.take(x.reshape(-1), jnp.asarray(found), axis=0)


def as_strided(self: Tensor, size: Any, stride: Any, storage_offset: int | None = None
               ) -> Tensor:
    """The elements at ``storage_offset + sum(i_k * stride[k])`` of the memory the
    tensor views (``size``-shaped; ``storage_offset`` defaults to the tensor's own):
    overlapping sliding windows (``x.as_strided((n, w), (step, 1))``) and other stride
    tricks, as a copy.

    PyTorch equivalent: ``torch.as_strided`` / ``Tensor.as_strided`` (a view there:
    in-place writes to the result do not reach ``self``).

    Raises:
        RuntimeError: ``size`` and ``stride`` differ in length, a stride is negative, or
            the elements lie past the end of the tensor's memory (PyTorch's messages).
        NotImplementedError: elements that lie on memory of a view's base outside the
            view (fnnet.torch holds a view's values apart from its base's).
    """
    from fnnet.torch.tensor import _op

    size, stride = tuple(int(n) for n in size), tuple(int(n) for n in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, "
                           f"got strides: {list(stride)}")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    layout = _replay(self)
    offset = layout[1] if storage_offset is None else int(storage_offset)
    link = getattr(self, "_view", None)
    root = None if link is None else link.cell()
    stored = self.numel() if root is None else math.prod(root.aval[0])
    needed = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) + 1
    if math.prod(size) and needed > stored:
        itemsize = self.element_size()
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {itemsize} requiring a storage "
                           f"size of {needed * itemsize} are out of bounds for storage of "
                           f"size {stored * itemsize}")
    if _gather_indices(tuple(self.shape), *layout, size, stride, offset) is None:
        raise NotImplementedError("fnnet.torch: as_strided reaching memory of a view's base "
                                  "outside the view is not supported; take the windows "
                                  "from the base tensor")
    return _op(_as_strided, (layout, size, stride, offset), self, who="as_strided")
