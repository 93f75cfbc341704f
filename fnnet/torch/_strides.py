"""The strides PyTorch would give a tensor, for ``stride()`` and ``is_contiguous()``.

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

if TYPE_CHECKING:
    from fnnet.torch.tensor import Tensor

Layout = tuple[tuple[int, ...], tuple[int, ...]]


def row_major(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The strides of a dense row-major tensor of ``shape``."""
    strides = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        strides[i] = strides[i + 1] * max(shape[i + 1], 1)
    return tuple(strides)


def _index(shape: tuple[int, ...], strides: tuple[int, ...], index: Any) -> Layout:
    items = index if isinstance(index, tuple) else (index,)
    if any(item is Ellipsis for item in items):
        at = next(i for i, item in enumerate(items) if item is Ellipsis)
        used = sum(1 for item in items if item is not None and item is not Ellipsis)
        items = (*items[:at], *([slice(None)] * (len(shape) - used)), *items[at + 1:])
    new_shape: list[int] = []
    new_strides: list[int] = []
    dim = 0
    for item in items:
        if item is None:  # as unsqueeze: the stride of what follows, times its size
            nxt = (shape[dim] * strides[dim]) if dim < len(shape) else 1
            new_shape.append(1)
            new_strides.append(nxt)
        elif isinstance(item, slice):
            new_shape.append(len(range(*item.indices(shape[dim]))))
            new_strides.append(strides[dim] * (item.step or 1))
            dim += 1
        else:  # an int drops its dimension
            dim += 1
    return (*new_shape, *shape[dim:]), (*new_strides, *strides[dim:])


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


def strides(tensor: Tensor) -> tuple[int, ...]:
    """PyTorch's strides of ``tensor``: its view steps replayed from its root's."""
    shape = tuple(tensor.shape)
    link = getattr(tensor, "_view", None)
    root = None if link is None else link.cell()
    if link is None or root is None:
        return row_major(shape)
    now = tuple(root.aval[0])
    layout = row_major(now)
    for step in link.steps:
        if step[0] == "index":
            now, layout = _index(now, layout, step[1])
        elif step[0] == "permute":
            now, layout = tuple(now[d] for d in step[1]), tuple(layout[d] for d in step[1])
        else:  # ("reshape", view shape, tensor shape)
            viewed = _view(now, layout, tuple(step[1]))
            now = tuple(step[1])
            layout = row_major(now) if viewed is None else viewed
    return layout if now == shape else row_major(shape)


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
