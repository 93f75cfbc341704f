"""``F.embedding`` and the check of its indices where their values are on the host."""

from __future__ import annotations

from typing import Any

import numpy as np

from fnnet.nn import functional as fnf
from fnnet.torch._mixed_dtypes import check_index_dtype
from fnnet.torch.tensor import Tensor, _op, host_value

#: integer dtype -> the unsigned dtype of its size (a signed label viewed as unsigned is
#: out of range when negative)
_UNSIGNED = {np.dtype(t): np.dtype(np.dtype(t).str.replace("i", "u"))
             for t in (np.int8, np.int16, np.int32, np.int64,
                       np.uint8, np.uint16, np.uint32, np.uint64)}
_max = np.maximum.reduce  # without ndarray.max's Python wrapper: this runs every step


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              *args: Any, **kwargs: Any) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.embedding`` (no max_norm)."""
    if args or any(v for v in kwargs.values()):
        raise NotImplementedError("fnnet.torch: embedding(max_norm=..., "
                                  "scale_grad_by_freq=..., sparse=...) is not supported")
    check_indices(input, int(weight.shape[0]))
    return _op(fnf.embedding, (padding_idx,), input, weight)


def check_indices(input: Any, rows: int) -> None:
    """PyTorch's "index out of range in self" IndexError for embedding indices whose
    values are on the host now (a tensor made from a list or numpy, a loader batch's host
    copy); indices only recorded (computed by the step) cannot be read before it runs,
    and an out-of-range one gives NaN there, as ``jnp.take`` does under jit."""
    if not isinstance(input, Tensor):
        return
    check_index_dtype(input, "embedding")
    value = host_value(input)
    if value is None:
        return
    unsigned = _UNSIGNED.get(np.asarray(value).dtype)
    if unsigned is None or not np.size(value):
        return
    # as unsigned, negative indices are out of range too
    if _max(np.asarray(value).reshape(-1).view(unsigned)) >= rows:
        raise IndexError("index out of range in self")
