"""``F.embedding`` and the check of its indices where their values are on the host."""

from __future__ import annotations

from typing import Any

import numpy as np

from fnnet.nn import functional as fnf
from fnnet.torch import _sparse_gradients
from fnnet.torch._mixed_dtypes import check_index_dtype
from fnnet.torch.tensor import Tensor, _op, host_value

#: integer dtype -> the unsigned dtype of its size (a signed label viewed as unsigned is
#: out of range when negative)
_UNSIGNED = {np.dtype(t): np.dtype(np.dtype(t).str.replace("i", "u"))
             for t in (np.int8, np.int16, np.int32, np.int64,
                       np.uint8, np.uint16, np.uint32, np.uint64)}
_max = np.maximum.reduce  # without ndarray.max's Python wrapper: this runs every step


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of ``weight`` at ``input``; with ``max_norm`` the rows looked up whose
    ``norm_type``-norm exceeds it are first scaled down to it in ``weight`` itself.

    With ``sparse=True`` the gradient of ``weight`` is held dense (zeros in the rows not
    looked up), and the optimizers treat it as PyTorch's sparse one (see
    :mod:`fnnet.torch._sparse_gradients`).

    PyTorch equivalent: ``torch.nn.functional.embedding`` (no ``scale_grad_by_freq``).
    """
    if scale_grad_by_freq:
        raise NotImplementedError("fnnet.torch: embedding(scale_grad_by_freq=True) is not "
                                  "supported")
    if padding_idx is not None:  # PyTorch's checks, a negative index counted from the end
        rows = int(weight.shape[0])
        if not -rows <= padding_idx < max(rows, 1):
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx + rows if padding_idx < 0 else padding_idx
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    check_indices(input, int(weight.shape[0]))
    if sparse:
        _sparse_gradients.mark(weight)
    if max_norm is not None:
        renorm_rows_(weight, input, max_norm, norm_type)
    return _op(fnf.embedding, (padding_idx,), input, weight)


def renorm_rows_(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """PyTorch's ``embedding_renorm_``: each row of ``weight [N, D]`` that ``input``
    indexes and whose ``norm_type``-norm is above ``max_norm`` is scaled in place by
    ``max_norm / (norm + 1e-7)``, outside autograd."""
    from fnnet.torch._autograd import no_grad

    with no_grad():
        rows = input.reshape(-1)
        values = weight[rows]
        norms = values.norm(p=norm_type, dim=1, keepdim=True)
        scale = (max_norm / (norms + 1e-7)).masked_fill(norms <= max_norm, 1.0)
        weight[rows] = values * scale


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
