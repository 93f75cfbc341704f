"""Host (numpy) copies of PyTorch tensors and back, bit for bit, in every float dtype.

``Tensor.numpy()`` refuses the dtypes numpy lacks (``bfloat16``, the ``float8`` kinds)
and ``torch.from_numpy`` refuses their ``ml_dtypes`` arrays, which JAX uses for them: a
bfloat16 checkpoint would fail in either direction. These dtypes travel as the integers
of the same width, reinterpreted on the other side, so no value is rounded.
"""

from __future__ import annotations

import sys
from typing import Any

import ml_dtypes
import numpy as np

# torch dtype name -> (numpy dtype, the same-width integer both sides share).
_REINTERPRETED = {
    "bfloat16": (np.dtype(ml_dtypes.bfloat16), "int16"),
    "float8_e4m3fn": (np.dtype(ml_dtypes.float8_e4m3fn), "uint8"),
    "float8_e5m2": (np.dtype(ml_dtypes.float8_e5m2), "uint8"),
    "float8_e4m3fnuz": (np.dtype(ml_dtypes.float8_e4m3fnuz), "uint8"),
    "float8_e5m2fnuz": (np.dtype(ml_dtypes.float8_e5m2fnuz), "uint8"),
    "float8_e8m0fnu": (np.dtype(ml_dtypes.float8_e8m0fnu), "uint8"),
}
_BY_NUMPY = {dtype: (name, bits) for name, (dtype, bits) in _REINTERPRETED.items()}


def host_array(value: Any, *, copy: bool = True) -> np.ndarray:
    """A C-ordered numpy array of ``value``: a torch tensor (any device, with grad or
    not, without importing torch), or anything ``np.array`` takes.

    bfloat16 and float8 tensors become ``ml_dtypes`` arrays of the same bits.

    Args:
        value: the tensor or array.
        copy: always copy. A CPU tensor's ``.numpy()`` shares its memory, and PyTorch's
            next in-place update (``optimizer.step()``) would change a view too; False
            copies only where needed (to write the values out at once).
    """
    order: dict[str, Any] = {"order": "C", "copy": True if copy else None}
    if callable(getattr(value, "detach", None)):
        value = value.detach()
    if callable(getattr(value, "cpu", None)):
        value = value.cpu()
    if isinstance(value, np.ndarray) or not callable(getattr(value, "numpy", None)):
        return np.array(value, **order)
    name = str(getattr(value, "dtype", "")).removeprefix("torch.")
    torch = sys.modules.get("torch")
    if name in _REINTERPRETED and torch is not None and isinstance(value, torch.Tensor):
        dtype, bits = _REINTERPRETED[name]
        value = value.view(getattr(torch, bits))
        same_bits: np.ndarray = np.array(value.numpy(), **order)
        return same_bits.view(dtype)
    return np.array(value.numpy(), **order)


def as_saved(value: Any, array: np.ndarray) -> np.ndarray:
    """``array``, the values of ``value``, as a file should hold them: an fnnet.torch
    tensor of ``torch.int64`` held in 32 bits (JAX without x64 mode) widened to the int64
    its dtype names, so that PyTorch reads back the dtype fnnet.torch showed (a BatchNorm's
    ``num_batches_tracked``, class labels that ``cross_entropy`` takes only as int64)."""
    if array.dtype == np.int32 and str(getattr(value, "dtype", "")) == "torch.int64":
        return array.astype(np.int64)
    return array


def torch_tensor(array: Any) -> Any:
    """A torch tensor (imports torch) holding a copy of ``array``, bfloat16 and float8
    ``ml_dtypes`` arrays included, bit for bit."""
    import torch

    array = np.array(array, copy=True)
    if array.dtype in _BY_NUMPY:
        name, bits = _BY_NUMPY[array.dtype]
        return torch.from_numpy(array.view(bits)).view(getattr(torch, name))
    return torch.from_numpy(array)
