"""``repr`` of tensors in PyTorch's style: ``tensor([1.0000, 2.5000])``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from fnnet.torch import _dtypes

if TYPE_CHECKING:
    from fnnet.torch.tensor import Tensor


def _float_formatter(values: np.ndarray) -> Callable[[np.floating], str]:
    finite = values[np.isfinite(values)]
    big = float(np.abs(finite).max()) if finite.size else 0.0
    nonzero = np.abs(finite[finite != 0])
    small = float(nonzero.min()) if nonzero.size else 0.0
    if finite.size and np.all(finite == np.round(finite)) and big < 1e8:
        def fmt(v: np.floating) -> str:
            return f"{v:.0f}." if np.isfinite(v) else str(v)
    elif big >= 1e8 or (small and (small < 1e-4 or big / small > 1e3)):
        def fmt(v: np.floating) -> str:
            return f"{v:.4e}" if np.isfinite(v) else str(v)
    else:
        def fmt(v: np.floating) -> str:
            return f"{v:.4f}" if np.isfinite(v) else str(v)
    width = max((len(fmt(v)) for v in values.ravel()), default=1)
    return lambda v: fmt(v).rjust(width)


def format_tensor(tensor: Tensor, prefix: str = "tensor(") -> str:
    """PyTorch's ``repr`` of a tensor (4 decimals, padded columns, dtype/grad suffixes)."""
    array = np.asarray(tensor._value())
    suffix = ""
    dtype = _dtypes.from_np(array.dtype)
    if dtype not in (_dtypes.float32, _dtypes.int64, _dtypes.bool_):
        suffix += f", dtype={dtype}"
    if array.dtype.kind == "f" or dtype is _dtypes.bfloat16:
        values = array.astype(np.float64)
        float_kind: Callable[[np.floating], str] | None = _float_formatter(values)
    else:
        values, float_kind = array, None
    if values.size == 0:
        body = "[]"
        suffix = f", size={tuple(array.shape)}" + suffix if array.ndim > 1 else suffix
    else:
        body = np.array2string(values, separator=", ", prefix=prefix,
                               formatter=None if float_kind is None else {
                                   "float_kind": float_kind},
                               threshold=1000, edgeitems=3, max_line_width=80)
    if tensor.grad_fn is not None:
        suffix += f", grad_fn={tensor.grad_fn!r}"
    elif tensor.requires_grad:
        suffix += ", requires_grad=True"
    return f"{prefix}{body}{suffix})"
