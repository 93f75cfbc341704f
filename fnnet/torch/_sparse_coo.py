"""PyTorch's sparse COO tensors (``torch.sparse_coo_tensor``, ``Tensor.to_sparse``), as
graph code builds an adjacency matrix from an edge list.

A :class:`SparseCooTensor` keeps PyTorch's description (its indices, values and whether
it is coalesced) and is at the same time the dense tensor those describe (duplicates
summed): products and sums with dense tensors (``torch.sparse.mm``, ``torch.spmm``,
``adj @ x``) are dense XLA ops with PyTorch's values and gradients, computed through the
values (learnable edge weights get their gradient). The dense form costs the memory of
the whole matrix. Ops that keep the sparsity pattern (``coalesce``, ``t``, scaling by a
number, ``clone``, ``detach``, a dtype change, ``torch.sparse.sum`` over some dims) give
sparse tensors as PyTorch's do; any other op gives a dense tensor (PyTorch may give a
sparse one or refuse). The compressed layouts (CSR, CSC, BSR, BSC) are not supported.
"""

from __future__ import annotations

import builtins
import numbers
from typing import Any

import numpy as np

from fnnet.torch import _dtypes
from fnnet.torch._dense_real import layout
from fnnet.torch.tensor import Tensor, Unsupported, _as_tensor

#: PyTorch's COO layout (the sparse layout fnnet.torch supports)
sparse_coo = layout("sparse_coo")

_COMPRESSED = ("to_sparse_csr", "to_sparse_csc", "to_sparse_bsr", "to_sparse_bsc")
_HINT = ("fnnet.torch supports sparse COO tensors only (torch.sparse_coo_tensor, "
         "Tensor.to_sparse()); use those, or a dense tensor")


class SparseCooTensor(Tensor):
    """A sparse COO tensor: ``indices`` ``[sparse_dim, nnz]`` and ``values``
    ``[nnz, *dense_shape]``, held densely as well (see the module).

    PyTorch equivalent: a ``torch.Tensor`` with ``layout=torch.sparse_coo``.
    """

    __slots__ = ()
    # set on each instance (in __dict__): _coo_indices (Tensor), _coo_values (Tensor),
    # _coo_coalesced (bool)

    @property
    def is_sparse(self) -> builtins.bool:
        return True

    @property
    def layout(self) -> layout:
        return sparse_coo

    def is_coalesced(self) -> builtins.bool:
        return bool(self.__dict__["_coo_coalesced"])

    def _indices(self) -> Tensor:
        return self.__dict__["_coo_indices"]  # type: ignore[no-any-return]

    def _values(self) -> Tensor:
        return self.__dict__["_coo_values"]  # type: ignore[no-any-return]

    def indices(self) -> Tensor:
        if not self.is_coalesced():
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._indices()

    def values(self) -> Tensor:
        if not self.is_coalesced():
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._values()

    def _nnz(self) -> int:
        return int(self._indices().shape[1])

    def sparse_dim(self) -> int:
        return int(self._indices().shape[0])

    def dense_dim(self) -> int:
        return self._values().dim() - 1

    def coalesce(self) -> SparseCooTensor:
        """The tensor with its indices sorted and duplicates summed (itself when it is
        coalesced already). PyTorch equivalent: ``Tensor.coalesce``."""
        if self.is_coalesced():
            return self
        indices = np.asarray(self._indices().numpy(), np.int64)
        flat = np.ravel_multi_index(tuple(indices), tuple(self.shape[:len(indices)])) \
            if indices.shape[1] else np.zeros(0, np.int64)
        unique, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
        values = self._values()
        summed = values.new_zeros((len(unique), *values.shape[1:])).index_add(
            0, _as_tensor(inverse.reshape(-1)), values)
        return _make(_as_tensor(indices[:, first]), summed, tuple(self.shape), True)

    def to_dense(self, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
        """The dense tensor (duplicates summed). PyTorch equivalent: ``Tensor.to_dense``."""
        del masked_grad
        dense = Tensor.clone(self)
        return dense if dtype is None else dense.to(dtype)

    def to_sparse(self, *args: Any, layout: Any = None, **kwargs: Any) -> SparseCooTensor:
        if layout not in (None, sparse_coo):
            raise Unsupported(f"to_sparse(layout={layout}): {_HINT}")
        return self

    def t(self) -> SparseCooTensor:
        if self.sparse_dim() != 2 or self.dense_dim():
            return super().t()  # type: ignore[return-value]  # raises PyTorch's error
        return _make(self._indices().flip(0), self._values(), tuple(self.shape)[::-1], False)

    def transpose(self, dim0: int, dim1: int) -> Any:
        if {dim0 % max(self.dim(), 1), dim1 % max(self.dim(), 1)} == {0, 1} and \
                self.sparse_dim() == 2 and not self.dense_dim():
            return self.t()
        return super().transpose(dim0, dim1)

    def sum(self, dim: Any = None, keepdim: builtins.bool = False,
            dtype: Any = None) -> Tensor:
        from fnnet.torch.sparse import sum as sparse_sum

        if keepdim:  # a dense result (PyTorch's is sparse)
            return super().sum(dim, keepdim, dtype)
        return sparse_sum(self, dim, dtype)

    def _same_pattern(self, values: Tensor) -> SparseCooTensor:
        return _make(self._indices(), values, tuple(self.shape), self.is_coalesced())

    def clone(self, **kwargs: Any) -> SparseCooTensor:
        return self._same_pattern(self._values().clone())

    def detach(self) -> SparseCooTensor:
        return self._same_pattern(self._values().detach())

    def to(self, *args: Any, **kwargs: Any) -> Any:
        values = self._values().to(*args, **kwargs)
        return self if values is self._values() else self._same_pattern(values)

    def float(self, memory_format: Any = None) -> Tensor:
        out: Tensor = self.to(_dtypes.float32)
        return out

    def double(self, memory_format: Any = None) -> Tensor:
        out: Tensor = self.to(_dtypes.float64)
        return out

    def __mul__(self, other: Any) -> Any:
        if isinstance(other, numbers.Number) and not isinstance(other, builtins.bool):
            return self._same_pattern(self._values() * other)
        return super().__mul__(other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Any:
        if isinstance(other, numbers.Number) and not isinstance(other, builtins.bool):
            return self._same_pattern(self._values() / other)
        return super().__truediv__(other)

    def __add__(self, other: Any) -> Any:
        if isinstance(other, SparseCooTensor):
            # values added where both have the same indices, else the entries of both,
            # coalesced where both are (PyTorch's merged order); PyTorch may fold some
            # of an uncoalesced tensor's entries into the other's, to the same dense sum
            if tuple(other.shape) != tuple(self.shape):
                raise RuntimeError(f"add: expected 'self' and 'other' to have same size, "
                                   f"but self has size {list(self.shape)} while other has "
                                   f"size {list(other.shape)} (FYI: dense-sparse addition "
                                   f"does not currently support broadcasting)")
            from fnnet.torch._functions import cat

            mine, theirs = self._indices(), other._indices()
            if mine is theirs or (mine.shape == theirs.shape and np.array_equal(
                    mine.numpy(), theirs.numpy())):
                return self._same_pattern(self._values() + other._values())
            both = _make(cat([mine, theirs], 1), cat([self._values(), other._values()]),
                         tuple(self.shape), False)
            return both.coalesce() if self.is_coalesced() and other.is_coalesced() else both
        return super().__add__(other)

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, SparseCooTensor):
            return self + (-other)
        return super().__sub__(other)

    def __matmul__(self, other: Any) -> Any:
        if isinstance(other, Tensor) and other.dim() == 2 and self.dim() == 2:
            return mm(self, other)
        return super().__matmul__(other)

    def __neg__(self) -> Any:
        return self._same_pattern(-self._values())

    def numpy(self, *, force: builtins.bool = False) -> np.ndarray:
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    def __reduce__(self) -> tuple[Any, ...]:  # pickled whole (torch.save of a module)
        return (_rebuild, (np.asarray(self._indices().numpy()),
                           np.asarray(self._values().detach().numpy()), tuple(self.shape),
                           self.is_coalesced()))

    def __repr__(self) -> str:
        from fnnet.torch._format import format_sparse

        return format_sparse(self)

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)


for _name in _COMPRESSED:
    def _compressed(self: Tensor, *args: Any, _name: str = _name, **kwargs: Any) -> Any:
        raise Unsupported(f"Tensor.{_name}: {_HINT}")

    setattr(SparseCooTensor, _name, _compressed)


def _make(indices: Tensor, values: Tensor, size: tuple[int, ...],
          coalesced: builtins.bool) -> SparseCooTensor:
    """The sparse tensor of ``indices`` and ``values`` (checked already) of ``size``."""
    sparse_dim = int(indices.shape[0])
    dense: Any = values.new_zeros(size)
    if indices.shape[1]:
        dense = dense.index_put(tuple(indices[d] for d in range(sparse_dim)), values,
                                accumulate=True)
    dense.__class__ = SparseCooTensor
    dense.__dict__.update(_coo_indices=indices, _coo_values=values,
                          _coo_coalesced=coalesced or indices.shape[1] <= 1)
    out: SparseCooTensor = dense
    return out


def _rebuild(indices: np.ndarray, values: np.ndarray, size: tuple[int, ...],
             coalesced: builtins.bool) -> SparseCooTensor:
    """A pickled sparse tensor, rebuilt."""
    return _make(_as_tensor(indices), _as_tensor(values), size, coalesced)


def sparse_coo_tensor(indices: Any, values: Any, size: Any = None, *, dtype: Any = None,
                      device: Any = None, pin_memory: builtins.bool = False,
                      requires_grad: builtins.bool = False, check_invariants: Any = None,
                      is_coalesced: Any = None) -> SparseCooTensor:
    """A sparse COO tensor with ``values[k]`` at ``indices[:, k]`` (duplicates add up);
    ``size`` is the indices' maxima plus one by default.

    PyTorch equivalent: ``torch.sparse_coo_tensor``.

    Raises:
        RuntimeError: PyTorch's errors for indices and values or a size that disagree.
        NotImplementedError: ``requires_grad=True`` (make ``values`` require grad).
    """
    from fnnet.torch.device import check_creation

    del check_invariants
    check_creation(device, None, pin_memory)
    if requires_grad:
        raise Unsupported("sparse_coo_tensor(requires_grad=True): fnnet.torch's sparse "
                          "tensors take their gradient through values: pass values that "
                          "require grad (values.requires_grad_()) instead")
    indices = _as_tensor(indices)
    values = _as_tensor(values)
    if dtype is not None:
        values = values.to(dtype)
    if indices.dtype.np.kind not in "iu":
        indices = indices.long()
    if indices.dim() != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: "
                           f"{list(indices.shape)}")
    sparse_dim, nnz = int(indices.shape[0]), int(indices.shape[1])
    if values.dim() == 0 or int(values.shape[0]) != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from "
                           f"indices: {nnz}, nnz from values: "
                           f"{int(values.shape[0]) if values.dim() else 1}")
    host = np.asarray(indices.numpy(), np.int64)
    if size is None:
        sparse_size = tuple(int(m) + 1 for m in host.max(1)) if nnz else (0,) * sparse_dim
        size = sparse_size + tuple(values.shape[1:])
    size = tuple(int(s) for s in size)
    if len(size) != sparse_dim + values.dim() - 1:
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: "
                           f"len(size) = {len(size)}, sparse_dim = {sparse_dim}, "
                           f"dense_dim = {values.dim() - 1}")
    for d in range(sparse_dim):
        if nnz and (host[d].max() >= size[d] or host[d].min() < 0):
            bad = int(host[d].max() if host[d].max() >= size[d] else host[d].min())
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                               f"{size[d]} but found index {bad}")
    if tuple(values.shape[1:]) != size[sparse_dim:]:
        raise RuntimeError(f"values has incorrect size, expected "
                           f"{[nnz, *size[sparse_dim:]]}, got {list(values.shape)}")
    return _make(indices.long(), values, size, bool(is_coalesced))


def to_sparse(self: Tensor, sparse_dim: Any = None, *, layout: Any = None,
              blocksize: Any = None, dense_dim: Any = None) -> SparseCooTensor:
    """The nonzero elements as a coalesced sparse COO tensor; ``to_sparse(sparse_dim)``
    keeps the trailing dimensions dense (a slice is kept where any of it is nonzero).

    PyTorch equivalent: ``Tensor.to_sparse``.
    """
    if layout not in (None, sparse_coo) or blocksize is not None or dense_dim is not None:
        raise Unsupported(f"to_sparse(layout={layout}): {_HINT}")
    sparse_dim = self.dim() if sparse_dim is None else int(sparse_dim)
    if not 0 < sparse_dim <= max(self.dim(), 1):
        raise RuntimeError(f"sparse_dim argument must be in [0,{self.dim()}] range, but "
                           f"{sparse_dim} is given")
    host = np.asarray(np.asarray(self.detach().numpy()).reshape(
        tuple(self.shape) or (1,)))
    mask = host != 0
    if host.ndim > sparse_dim:
        mask = mask.any(axis=tuple(range(sparse_dim, host.ndim)))
    where = np.nonzero(mask)
    indices = _as_tensor(np.stack(where).astype(np.int64).reshape(sparse_dim, -1))
    values = self[tuple(_as_tensor(w.astype(np.int64)) for w in where)] if self.dim() else \
        self.reshape(1)[_as_tensor(np.asarray(where[0], np.int64))]
    return _make(indices, values, tuple(self.shape), True)


def spmm(input: Tensor, mat2: Tensor) -> Tensor:
    """A sparse matrix times a dense one. PyTorch equivalent: ``torch.spmm``."""
    return mm(input, mat2)


def mm(mat1: Tensor, mat2: Tensor) -> Tensor:
    """``mat1 @ mat2`` for a sparse ``mat1`` and a dense or sparse ``mat2`` (a sparse
    result for two sparse ones). PyTorch equivalent: ``torch.sparse.mm``."""
    from fnnet.torch import _functions

    if isinstance(mat1, SparseCooTensor) and mat1.dim() == 2 and mat2.dim() == 2 and \
            mat1.shape[1] != mat2.shape[0]:  # PyTorch's sparse product is an addmm
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size "
                           f"{mat1.shape[1]}, got {mat2.shape[0]}")
    dense = [m.to_dense() if isinstance(m, SparseCooTensor) else m for m in (mat1, mat2)]
    out: Tensor = _functions.mm(*dense)
    return to_sparse(out) if isinstance(mat2, SparseCooTensor) else out


def _dense_refusal(name: str) -> Any:
    """A sparse tensor's method on a dense tensor: PyTorch's error."""
    if name in ("_indices", "_values", "_nnz"):
        def refuse(self: Tensor) -> Any:
            raise NotImplementedError(f"Could not run 'aten::{name}' with arguments from the "
                                      f"'CPU' backend.")
    else:
        kind = "sparse tensor" if name == "values" else "sparse coordinate tensor"

        def refuse(self: Tensor) -> Any:
            raise RuntimeError(f"{name} expected {kind} layout but got Strided")

    refuse.__name__ = name
    return refuse


def install(namespace: dict[str, Any]) -> None:
    """Adds ``Tensor.to_sparse`` (and the compressed layouts' refusals, and PyTorch's
    answers of a dense tensor to the sparse tensors' methods) to :class:`Tensor`, and
    ``sparse_coo_tensor``, ``sparse_coo`` and ``spmm`` to ``namespace`` (``fnnet.torch``'s
    globals)."""
    Tensor.to_sparse = to_sparse  # type: ignore[attr-defined]
    Tensor.to_sparse_coo = to_sparse  # type: ignore[attr-defined]
    for name in _COMPRESSED:
        setattr(Tensor, name, getattr(SparseCooTensor, name))
    for name in ("coalesce", "is_coalesced", "indices", "values", "_indices", "_values",
                 "_nnz"):
        setattr(Tensor, name, _dense_refusal(name))
    Tensor.sparse_dim = lambda self: 0  # type: ignore[attr-defined]
    Tensor.dense_dim = lambda self: self.dim()  # type: ignore[attr-defined]
    namespace.update(sparse_coo_tensor=sparse_coo_tensor, sparse_coo=sparse_coo, spmm=spmm)
