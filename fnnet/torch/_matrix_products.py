"""PyTorch's fused and second-name matrix products beside ``addmm``: ``baddbmm``,
``addbmm``, ``addmv``, ``addr`` (``beta * self + alpha * product``, ``self`` ignored when
``beta`` is 0 as in ``addmm``), their in-place forms and ``addmm_``, ``inner``,
``ger`` (``outer``), ``vdot`` (``dot`` of real tensors), ``chain_matmul``,
``diag_embed`` and ``diagflat``.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import jax.numpy as jnp

from fnnet.nn.functional.linear import add_matrix_product, add_product
from fnnet.torch._functions import tensor_argument
from fnnet.torch._math_ops import in_place
from fnnet.torch._more_ops import diag, outer
from fnnet.torch._shape_ops import dot, tensor_arg
from fnnet.torch._value_checks import check_expand
from fnnet.torch.tensor import Tensor, _dim, _op, _scalar_or_tensor


def _baddbmm(x: Any, a: Any, b: Any, beta: Any, alpha: Any) -> Any:
    return add_matrix_product(x, a, b, beta, alpha)


def _batch_sum(a: Any, b: Any, **kwargs: Any) -> Any:
    return jnp.einsum("bij,bjk->ik", a, b, **kwargs)


def _addbmm(x: Any, a: Any, b: Any, beta: Any, alpha: Any) -> Any:
    return add_matrix_product(x, a, b, beta, alpha, _batch_sum)


def _addmv(x: Any, a: Any, v: Any, beta: Any, alpha: Any) -> Any:
    return add_matrix_product(x, a, v, beta, alpha)


def _addr(x: Any, u: Any, v: Any, beta: Any, alpha: Any) -> Any:
    return add_product(x, jnp.outer(u, v), beta, alpha)


def _fused(fn: Any, who: str, self: Tensor, a: Tensor, b: Tensor, out_shape: tuple[int, ...],
           beta: Any, alpha: Any) -> Tensor:
    """One recorded call of ``fn``, ``self`` broadcast to the product's shape first (it
    may not grow the product, as PyTorch's ``expand``)."""
    check_expand(self, out_shape)
    return _op(fn, (), self.expand(*out_shape), a, b, _scalar_or_tensor(beta),
               _scalar_or_tensor(alpha), who=who)


def _batches(who: str, batch1: Any, batch2: Any) -> tuple[Tensor, Tensor]:
    """The two 3-D operands, PyTorch's error otherwise."""
    batch1, batch2 = tensor_arg(batch1, who, "batch1"), tensor_arg(batch2, who, "batch2")
    for name, value in (("batch1", batch1), ("batch2", batch2)):
        if value.dim() != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    return batch1, batch2


def baddbmm(input: Tensor, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1
            ) -> Tensor:
    """``beta * self + alpha * (batch1 @ batch2)`` for ``[B, n, m] @ [B, m, p]``.

    PyTorch equivalent: ``torch.baddbmm``.
    """
    batch1, batch2 = _batches("baddbmm", batch1, batch2)
    b, n, m = batch1.shape
    if tuple(batch2.shape[:2]) != (b, m):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {m}] but got: [{batch2.shape[0]}, {batch2.shape[1]}].")
    return _fused(_baddbmm, "baddbmm", input, batch1, batch2, (b, n, batch2.shape[2]), beta,
                  alpha)


def addbmm(input: Tensor, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1
           ) -> Tensor:
    """``beta * self + alpha * sum_b(batch1[b] @ batch2[b])``: ``[n, p]``.

    PyTorch equivalent: ``torch.addbmm``.
    """
    batch1, batch2 = _batches("addbmm", batch1, batch2)
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{batch1.shape[0]} and {batch2.shape[0]}")
    if batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({batch1.shape[1]}x"
                           f"{batch1.shape[2]} and {batch2.shape[1]}x{batch2.shape[2]})")
    return _fused(_addbmm, "addbmm", input, batch1, batch2,
                  (batch1.shape[1], batch2.shape[2]), beta, alpha)


def addmv(input: Tensor, mat: Any, vec: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * self + alpha * (mat @ vec)``. PyTorch equivalent: ``torch.addmv``."""
    mat, vec = tensor_arg(mat, "addmv", "mat"), tensor_arg(vec, "addmv", "vec")
    if mat.dim() != 2 or vec.dim() != 1 or input.dim() > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, "
                           f"{mat.dim()}, {vec.dim()}")
    if mat.shape[1] != vec.shape[0] or input.dim() and input.shape[0] not in (1, mat.shape[0]):
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.dim() else 1})"
                           f", mat ({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    return _fused(_addmv, "addmv", input, mat, vec, (mat.shape[0],), beta, alpha)


def addr(input: Tensor, vec1: Any, vec2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * self + alpha * outer(vec1, vec2)``. PyTorch equivalent: ``torch.addr``."""
    vec1, vec2 = tensor_arg(vec1, "addr", "vec1"), tensor_arg(vec2, "addr", "vec2")
    for name, value in (("vec1", vec1), ("vec2", vec2)):
        if value.dim() != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {value.dim()}-D")
    return _fused(_addr, "addr", input, vec1, vec2, (vec1.shape[0], vec2.shape[0]), beta,
                  alpha)


def _inner(a: Any, b: Any) -> Any:
    return a * b if a.ndim == 0 or b.ndim == 0 else jnp.tensordot(a, b, (-1, -1))


def inner(input: Tensor, other: Any) -> Tensor:
    """Sums over the last dimension of both: ``[*a, n], [*b, n] -> [*a, *b]`` (a 0-d
    operand multiplies). PyTorch equivalent: ``torch.inner``."""
    tensor_argument(other, "inner", "other", 2)
    if input.dim() and other.dim() and input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    return _op(_inner, (), input, other, who="inner")


def ger(input: Tensor, vec2: Any) -> Tensor:
    """PyTorch equivalent: ``torch.ger``, the deprecated name of ``torch.outer``."""
    vec2 = tensor_arg(vec2, "ger", "vec2")
    for name, value in (("self", input), ("vec2", vec2)):
        if value.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got "
                               f"{value.dim()}-D")
    return outer(input, vec2)


def vdot(input: Tensor, other: Any) -> Tensor:
    """The dot product of two 1-D tensors, the first conjugated where it is complex.

    PyTorch equivalent: ``torch.vdot``.
    """
    return dot(input.conj() if input.dtype.is_complex else input, other)


@functools.cache
def _warn_chain_matmul() -> None:  # PyTorch warns once per process
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two "
                  "or more tensors rather than multiple parameters.", UserWarning,
                  stacklevel=3)


def chain_matmul(*matrices: Tensor, out: Any = None) -> Tensor:
    """The product of the matrices, left to right. PyTorch equivalent:
    ``torch.chain_matmul`` (deprecated there for ``torch.linalg.multi_dot``)."""
    if out is not None:
        raise NotImplementedError("fnnet.torch: chain_matmul(out=...) is not supported; use "
                                  "the result")
    _warn_chain_matmul()
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for i, m in enumerate(matrices):
        if m.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {m.dim()}, expected 2 instead."
                               if len(matrices) == 1 else
                               f"multi_dot(): tensor {i} must be 2D but got {m.dim()}D")
    for i in range(len(matrices) - 1):
        if matrices[i].shape[1] != matrices[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(matrices[i].shape)} and {list(matrices[i + 1].shape)}"
                               f" cannot be multiplied")
    return functools.reduce(lambda a, b: a @ b, matrices[1:], matrices[0].clone())


def _diag_embed(x: Any, offset: int, dim1: int, dim2: int) -> Any:
    n = x.shape[-1] + abs(offset)
    rows = jnp.arange(x.shape[-1]) + max(-offset, 0)
    out = jnp.zeros((*x.shape[:-1], n, n), x.dtype).at[..., rows, rows + offset].set(x)
    return jnp.moveaxis(out, (-2, -1), (dim1, dim2))


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose ``offset`` diagonal (in dimensions ``dim1``, ``dim2`` of the result)
    holds the last dimension of ``input``. PyTorch equivalent: ``torch.diag_embed``."""
    ndim = input.dim() + 1
    d1, d2 = _dim(dim1, ndim, "diag_embed"), _dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _op(_diag_embed, (int(offset), d1, d2), input, who="diag_embed")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The square matrix with the flattened ``input`` on its ``offset`` diagonal.

    PyTorch equivalent: ``torch.diagflat``.
    """
    return diag(input.reshape(-1), offset)


def addmv_(input: Tensor, mat: Any, vec: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """PyTorch equivalent: ``torch.addmv_`` (``self.addmv_(mat, vec)``)."""
    return input._inplace(addmv(input, mat, vec, beta=beta, alpha=alpha))


def install(namespace: dict[str, Any]) -> None:
    """Adds the functions to ``namespace`` (``fnnet.torch``'s globals) and the methods,
    with the in-place forms, to :class:`Tensor`."""
    for fn in (baddbmm, addbmm, addmv, addr, inner, ger, vdot, diag_embed, diagflat):
        namespace[fn.__name__] = fn
        setattr(Tensor, fn.__name__, fn)
    namespace.update(chain_matmul=chain_matmul, addmv_=addmv_)
    Tensor.addmv_ = addmv_  # type: ignore[attr-defined]
    for name in ("addmm", "baddbmm", "addbmm", "addr"):
        setattr(Tensor, name + "_", in_place(name))
