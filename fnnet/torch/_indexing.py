"""How a Python index (``x[i * 64:(i + 1) * 64]``, ``x[:, 0]``) becomes a recorded op.

Basic indexing with Python ints is a window at dynamic offsets (``_ops._window``): the
offsets are inputs of the step, not part of its structure, so a loop over batch offsets
compiles once. Other indexes keep a static description (``_ops._getitem``).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

#: ``(block sizes, offset dims, index applied to the block)``: the static part of a window
WindowSpec = tuple[tuple[int, ...], tuple[int, ...], tuple[Any, ...]]


def slice_parts(item: slice) -> tuple[int | None, int | None, int | None]:
    """``(start, stop, step)`` of a slice as ints or None; PyTorch refuses steps < 1."""
    start, stop, step = (None if p is None else operator.index(p)
                         for p in (item.start, item.stop, item.step))
    if step is not None and step <= 0:
        raise ValueError("slice step cannot be zero" if step == 0 else
                         "step must be greater than zero")
    return start, stop, step


def is_int(item: Any) -> bool:
    """Whether ``item`` is a Python or numpy int (not a bool)."""
    return isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_))


def window_spec(index: Any, shape: tuple[int, ...]) -> tuple[WindowSpec, list[int]] | None:
    """Basic indexing with Python ints as a window at dynamic offsets, or None.

    ``x[i * 64:(i + 1) * 64]`` and ``x[i]`` record ``_ops._window`` (an assignment to
    them ``_ops._window_set``), whose offsets (each int index, each slice's start) are
    inputs of the step rather than part of its structure, so a loop over batch offsets
    compiles once. The window's size is static: Python's slice clamping is resolved here
    on the host, so a short last slice has its true size (one more structure) and the
    offsets never need ``dynamic_slice``'s own clamping. A slice without a start and
    indexes holding tensors, bools or nothing to offset keep the static path (None).

    Returns:
        ``((block sizes, offset dims, index applied to the block), offsets)``.

    Raises:
        IndexError: more indexes than dimensions, or an int index out of bounds.
    """
    if type(index) is slice and shape and index.step is None and \
            type(index.start) is int and type(index.stop) is int:
        # the batch of a loop, ``x[i * 64:(i + 1) * 64]``: the general path's answer, sooner
        begin, end, _ = index.indices(shape[0])
        if end > begin:
            return ((end - begin, *shape[1:]), (0,), ((None, None, None),)), [begin]
    items = index if isinstance(index, tuple) else (index,)
    consumed = 0
    for item in items:
        if isinstance(item, slice) or is_int(item):
            consumed += 1
        elif item is not None and item is not Ellipsis:
            return None
    if consumed > len(shape):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python "
                         "or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a "
                         "number" if not shape else
                         f"too many indices for tensor of dimension {len(shape)}")
    if sum(item is Ellipsis for item in items) > 1:
        return None
    sizes = list(shape)
    post: list[Any] = []
    dims: list[int] = []
    starts: list[int] = []
    dim = 0
    for item in items:
        if item is None:
            post.append(None)
        elif item is Ellipsis:
            post.extend([(None,)] * (len(shape) - consumed))
            dim += len(shape) - consumed
        elif isinstance(item, slice):
            start, stop, step = slice_parts(item)
            bounds = slice(start, stop, step).indices(shape[dim])
            first, stride, length = bounds[0], bounds[2], len(range(*bounds))
            if start is None or length == 0:
                post.append((start, stop, step))
            else:
                dims.append(dim)
                starts.append(first)
                sizes[dim] = (length - 1) * stride + 1
                post.append((None, None, step))
            dim += 1
        else:
            position = int(item)
            if not -shape[dim] <= position < shape[dim]:
                raise IndexError(f"index {position} is out of bounds for dimension {dim} "
                                 f"with size {shape[dim]}")
            dims.append(dim)
            starts.append(position % shape[dim])
            sizes[dim] = 1
            post.append("i")
            dim += 1
    if not dims:
        return None
    return (tuple(sizes), tuple(dims), tuple(post)), starts
