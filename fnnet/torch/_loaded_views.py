"""Views of one storage saved together, loaded as views again.

PyTorch's ``torch.save`` writes a tensor as its storage (written once however many
tensors use it) with an offset, a size and a stride, so that ``torch.load`` of a tensor
saved with its slices (``{"x": x, "head": x[:2], "xt": x.t()}``) gives views of one
storage: a write through one is seen in the others. fnnet.torch's reader gives each
tensor an array of its own (:func:`fnnet.interop.torch_file.load_torch_file`, which
tells where each one lies in its storage); here a tensor the file saved with its
storage whole (offset 0, row-major, every element) is the root, and each other tensor
of that storage is taken from it as a view by the steps fnnet.torch's views replay
(a slice, a reshape, ``unfold``, a permutation), so that it shares the root's values as
in PyTorch. Tensors requiring gradients, parameters and repeating views (a stride of
0) stay tensors of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from fnnet.interop.torch_file import Layout
from fnnet.torch._strides import row_major


def _arrays_in(obj: Any) -> Iterator[np.ndarray]:
    """The arrays of a loaded object, through its dicts, lists and tuples."""
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _arrays_in(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _arrays_in(value)


def _whole(layout: Layout) -> bool:
    """Whether the tensor is its storage: every element, in order."""
    return layout.offset == 0 and layout.array.size == layout.storage.size and \
        layout.stride == row_major(layout.size)


def _view_of(root: Any, layout: Layout) -> Any:
    """The view of ``root`` (a tensor of the whole storage) at ``layout``: the span of
    the storage it reaches, each dimension (largest stride first) taken by ``unfold``
    as a window of that stride, the last window's first element, and the dimensions
    put back in their order."""
    offset, size, stride = layout.offset, layout.size, layout.stride
    span = 1 + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    flat = root.view(-1)[offset:offset + span]
    if stride == row_major(size):  # a contiguous piece: a slice and a reshape
        return flat.view(size)
    order = sorted(range(len(size)), key=lambda i: -stride[i])
    view, length = flat, span
    for i in order:
        window = length - (size[i] - 1) * stride[i]
        view = view.unfold(-1, window, max(stride[i], 1))  # one window: any step
        length = window
    view = view[..., 0]
    return view.permute(*np.argsort(order).tolist())


def shared_views(obj: Any, layouts: dict[int, Layout],
                 leaf: Callable[[np.ndarray], Any]) -> dict[int, Any]:
    """The tensors of ``obj``'s arrays that share a storage with a tensor saved whole,
    by ``id`` of their array: that tensor (made by ``leaf``) and views of it. An array
    not listed is loaded as a tensor of its own."""
    roots: dict[int, Layout] = {}
    views: list[Layout] = []
    for array in _arrays_in(obj):
        layout = layouts.get(id(array))
        if layout is None:
            continue
        key = id(layout.storage)
        if _whole(layout) and array.base is None and key not in roots:
            roots[key] = layout
        elif _whole(layout) and array.base is not None:
            continue  # a tied weight's second name: the first's alias, as load makes it
        elif layout.array.size and all(s > 0 for s, n in zip(
                layout.stride, layout.size, strict=True) if n > 1):
            views.append(layout)
    tensors: dict[int, Any] = {}
    for layout in views:
        root = roots.get(id(layout.storage))
        if root is None:
            continue
        if id(root.array) not in tensors:
            tensors[id(root.array)] = leaf(root.array)
        tensors[id(layout.array)] = _view_of(tensors[id(root.array)], layout)
    return tensors
