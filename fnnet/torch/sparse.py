"""``torch.sparse``: products and sums of sparse COO tensors (see ``_sparse_coo``).

PyTorch equivalent: ``torch.sparse``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fnnet.torch._sparse_coo import SparseCooTensor, _make, mm, sparse_coo_tensor
from fnnet.torch.tensor import Tensor, Unsupported, _as_tensor

__all__ = ["DoubleTensor", "FloatTensor", "LongTensor", "addmm", "mm", "sum"]


def addmm(mat: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1.0,
          alpha: float = 1.0) -> Tensor:
    """``beta * mat + alpha * (mat1 @ mat2)`` for a sparse ``mat1``.

    PyTorch equivalent: ``torch.sparse.addmm``."""
    out: Tensor = mat.addmm(mat1, mat2, beta=beta, alpha=alpha)
    return out


def sum(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:  # noqa: A001
    """The sum of a sparse tensor's values over ``dim`` (all of them by default): a dense
    tensor where no sparse dimension is left, else a sparse one whose entries are the
    index combinations present in ``input`` (zero sums included).

    PyTorch equivalent: ``torch.sparse.sum``.
    """
    if not isinstance(input, SparseCooTensor):
        return input.sum() if dim is None else input.sum(dim)
    values = input._values() if dtype is None else input._values().to(dtype)
    if dim is None:
        return values.sum()
    ndim = input.dim()
    dims = sorted({d % ndim for d in ((dim,) if isinstance(dim, int) else dim)})
    coalesced = input.coalesce()
    values = coalesced._values() if dtype is None else coalesced._values().to(dtype)
    sparse_dim = input.sparse_dim()
    dense_axes = [d - sparse_dim + 1 for d in dims if d >= sparse_dim]
    if dense_axes:
        values = values.sum(dense_axes)
    keep = [d for d in range(sparse_dim) if d not in dims]
    if not keep:
        return values.sum(0)
    host = np.asarray(coalesced._indices().numpy(), np.int64)[keep]
    indices, inverse = np.unique(host, axis=1, return_inverse=True)
    summed = values.new_zeros((indices.shape[1], *values.shape[1:])).index_add(
        0, _as_tensor(inverse.reshape(-1).astype(np.int64)), values)
    size = tuple(input.shape[d] for d in keep) + tuple(
        input.shape[d] for d in range(sparse_dim, ndim) if d not in dims)
    return _make(_as_tensor(indices.astype(np.int64)), summed, size, True)


def _legacy(dtype_name: str) -> Any:
    def constructor(*args: Any, **kwargs: Any) -> SparseCooTensor:
        from fnnet.torch import _dtypes

        dtype = getattr(_dtypes, dtype_name)
        if len(args) >= 2 and isinstance(args[0], Tensor):  # (indices, values[, size])
            size = args[2] if len(args) > 2 else kwargs.get("size")
            return sparse_coo_tensor(args[0], args[1], size, dtype=dtype)
        # (*size): an empty sparse tensor of that size
        shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) \
            else tuple(int(a) for a in args)
        return sparse_coo_tensor(np.zeros((len(shape), 0), np.int64),
                                 np.zeros((0,), np.float32), shape, dtype=dtype)

    constructor.__name__ = constructor.__qualname__ = \
        {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor"}[dtype_name]
    constructor.__doc__ = (f"The legacy constructor of a sparse COO tensor of "
                           f"{dtype_name} (``torch.sparse_coo_tensor``). PyTorch equivalent: "
                           f"``torch.sparse.{constructor.__name__}``.")
    return constructor


FloatTensor = _legacy("float32")
DoubleTensor = _legacy("float64")
LongTensor = _legacy("int64")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(f"fnnet.torch does not support torch.sparse.{name}: its sparse COO "
                      f"tensors have mm, addmm and sum here, and every dense op after "
                      f".to_dense()")


