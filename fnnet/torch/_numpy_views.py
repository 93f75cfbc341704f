"""The numpy array of ``Tensor.numpy()`` kept in step with the tensor's in-place writes.

PyTorch's ``t.numpy()`` shares ``t``'s memory, so a later ``t.add_(1)`` shows in the
array (the tutorials' "bridge with NumPy"). fnnet.torch's values are immutable jax
arrays, so the array is a copy, remembered (weakly) by the tensor's storage: each
in-place write of the storage computes its new value at once and copies it into the
array. Writes made through the array are not seen by the tensor, and parameters and
buffers (whose values the compiled step replaces) hand out plain copies.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from fnnet.torch._recorder import current


def handed_out(cell: Any, array: np.ndarray) -> np.ndarray:
    """Remembers ``array`` as a numpy view of ``cell``'s storage; returns it."""
    recorder = current()
    alive = [ref for ref in recorder.numpy_views.get(cell, ()) if ref() is not None]
    recorder.numpy_views[cell] = [*alive, weakref.ref(array)]
    recorder.numpy_handed = True
    return array


def written(tensor: Any) -> None:
    """After an in-place write of ``tensor``: its value copied into the arrays its
    storage handed out that are still alive."""
    views = current().numpy_views
    arrays = [array for ref in views[tensor._cell] if (array := ref()) is not None]
    if not arrays:
        del views[tensor._cell]
        return
    value = np.asarray(tensor._value())
    for array in arrays:
        np.copyto(array, value, casting="unsafe")
