"""``torch.linalg``'s basics: norms, the inverse, the determinant and linear solves; the
factorizations and least squares are in :mod:`fnnet.torch._factorizations`.

Each is a ``jax.numpy.linalg`` function recorded like every other op (differentiable and
compiled with the step). PyTorch equivalent: ``torch.linalg``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from fnnet.losses.regression import absolute
from fnnet.nn.functional.distance import norm_from_squares
from fnnet.torch._dtypes import scalar_name
from fnnet.torch._factorizations import (
    check_float_matrix,
    check_square,
    cholesky,
    cond,
    eig,
    eigh,
    eigvals,
    eigvalsh,
    lstsq,
    matrix_exp,
    matrix_power,
    matrix_rank,
    multi_dot,
    pinv,
    qr,
    slogdet,
    solve_triangular,
    svd,
    svdvals,
)
from fnnet.torch._linalg_errors import (
    LinAlgError,
    check_invertible,
    check_solvable,
    cholesky_ex,
    inv_ex,
    lu_factor,
    lu_factor_ex,
    solve_ex,
)
from fnnet.torch._lu import lu, lu_solve
from fnnet.torch._search_ops import overload_argument
from fnnet.torch.tensor import Tensor, _as_tensor, _op

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal",
           "eig", "eigh", "eigvals", "eigvalsh", "inv", "inv_ex", "lstsq", "lu",
           "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm",
           "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet",
           "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "vander", "vecdot",
           "vector_norm"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.linalg.{name}; use jax.numpy.linalg on "
        f"tensor.numpy()")


def matmul(input: Any, other: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """PyTorch equivalent: ``torch.linalg.matmul``, ``torch.matmul`` itself."""
    out: Tensor = _as_tensor(input) @ other
    return out


def diagonal(A: Any, *, offset: int = 0, dim1: int = -2, dim2: int = -1  # noqa: N803
             ) -> Tensor:
    """The diagonals of a batch of matrices (``torch.diagonal`` over the last two dims
    by default). PyTorch equivalent: ``torch.linalg.diagonal``."""
    out: Tensor = _as_tensor(A).diagonal(offset, dim1, dim2)
    return out


def _vecdot(x: Any, y: Any, dim: int) -> Any:
    return jnp.sum(jnp.conj(x) * y, axis=dim)


def vecdot(x: Any, y: Any, *, dim: int = -1) -> Tensor:
    """The dot products of ``x``'s and ``y``'s vectors along ``dim`` (broadcast; ``x``
    conjugated where complex). PyTorch equivalent: ``torch.linalg.vecdot``."""
    x, y = _tensor(x, "vecdot", "x"), _tensor(y, "vecdot", "y")
    return _op(_vecdot, (int(dim),), x, y, who="linalg.vecdot")


def _vander_powers(x: Any, n: int) -> Any:
    return x[..., None] ** jnp.arange(n, dtype=x.dtype)


def vander(x: Any, *, N: int | None = None) -> Tensor:  # noqa: N803 - PyTorch's name
    """The Vandermonde matrices of the vectors of ``x [..., n]``: ``[..., n, N]`` of
    increasing powers ``x ** 0 ... x ** (N - 1)`` (``N`` defaults to ``n``).

    PyTorch equivalent: ``torch.linalg.vander``.
    """
    x = _tensor(x, "vander", "x")
    n = (x.shape[-1] if x.dim() else 0) if N is None else int(N)
    if x.dim() == 0 or n <= 1:
        raise RuntimeError("N must be greater than 1.")
    source = x if x.dtype.is_floating_point or x.dtype.is_complex else x.long()
    return _op(_vander_powers, (n,), source, who="linalg.vander")


def cross(input: Any, other: Any, *, dim: int = -1) -> Tensor:  # noqa: A002
    """The cross product of 3-vectors along ``dim``. PyTorch: ``torch.linalg.cross``."""
    x = _tensor(input, "cross", "input")
    out: Tensor = x.cross(_as_tensor(other), dim=dim)
    return out


def _tensor(value: Any, who: str, name: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    raise TypeError(f"linalg.{who}(): argument '{name}' must be Tensor, not "
                    f"{type(value).__name__}")


def _square(x: Tensor, who: str) -> None:
    check_square(x, f"linalg.{who}")
    check_float_matrix(x, who)


def _vector_norm(x: Any, ord: float, dim: Any, keepdim: bool) -> Any:  # noqa: A002
    a = absolute(x)  # its gradient is 0 at 0, as in PyTorch
    if ord == jnp.inf:
        return jnp.max(a, axis=dim, keepdims=keepdim)
    if ord == -jnp.inf:
        return jnp.min(a, axis=dim, keepdims=keepdim)
    if ord == 0:
        return jnp.sum(a != 0, axis=dim, keepdims=keepdim).astype(x.dtype)
    if ord == 2:
        # sqrt of a sum of squares whose gradient at zero is 0, as PyTorch's
        return norm_from_squares(jnp.sum(x * x, axis=dim, keepdims=keepdim))
    return jnp.sum(a ** ord, axis=dim, keepdims=keepdim) ** (1 / ord)


def vector_norm(x: Any = None, ord: float = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None, input: Any = None) -> Tensor:  # noqa: A002 - PyTorch's name
    """The ``ord``-norm of ``x``'s elements over ``dim`` (all of them by default); PyTorch
    takes the tensor as ``x=`` or ``input=``.

    PyTorch equivalent: ``torch.linalg.vector_norm``.
    """
    if x is None or input is not None:
        x = overload_argument("linalg.vector_norm", x=x, input=input)
    x = _tensor(x, "vector_norm", "x")
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    if not x.is_floating_point():
        if not x.dtype.is_complex:
            raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex "
                               f"tensor as input. Got {scalar_name(x.dtype)}")
        x = x.abs()  # a complex norm is the norm of the magnitudes
    x = x if dtype is None else x.to(dtype)
    dims = tuple(dim) if isinstance(dim, (list, tuple)) else dim
    return _op(_vector_norm, (float(ord), dims, bool(keepdim)), x, who="vector_norm")


def _matrix_norm(x: Any, ord: Any, dim: tuple[int, int], keepdim: bool) -> Any:  # noqa: A002
    moved = jnp.moveaxis(x, dim, (-2, -1))
    if ord == "fro":
        out = jnp.sqrt(jnp.sum(moved * moved, axis=(-2, -1)))
    else:
        out = jnp.linalg.norm(moved, ord=ord, axis=(-2, -1))
    if keepdim:
        for d in sorted(d % x.ndim for d in dim):
            out = jnp.expand_dims(out, d)
    return out


def matrix_norm(input: Any, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """A matrix norm ("fro", "nuc", ±1, ±2, ±inf) over the two dimensions ``dim``.

    PyTorch equivalent: ``torch.linalg.matrix_norm``.
    """
    A = _tensor(input, "matrix_norm", "A")  # noqa: N806
    # PyTorch's checks in its order: the order, the matrix, then the two dims
    if ord not in ("fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf")):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    dims = [int(d) for d in (dim if isinstance(dim, (list, tuple)) else (dim,))]
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in dims)}")
    if dims[0] % A.dim() == dims[1] % A.dim():
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got "
                           f"({dims[0] % A.dim()}, {dims[1] % A.dim()})")
    A = A if dtype is None else A.to(dtype)  # noqa: N806
    return _op(_matrix_norm, (ord, (dims[0], dims[1]), bool(keepdim)), A,
               who="matrix_norm")


def norm(input: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
         dtype: Any = None) -> Tensor:
    """The vector norm (``dim`` an int or ``input`` 1-D) or matrix norm (two dims).

    PyTorch equivalent: ``torch.linalg.norm``.
    """
    A = _tensor(input, "norm", "A")  # noqa: N806
    dims = (dim,) if isinstance(dim, int) else dim
    if dims is not None and len(dims) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                           f"Got {list(dims)}")
    if dim is None and ord is not None and A.dim() not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input "
                           f"must be 1D or 2D. Got {A.dim()}D.")
    if isinstance(ord, str):  # "fro" and "nuc" are matrix norms, over (0, 1) by default
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if (dims is None and A.dim() == 2) or (dims is not None and len(dims) == 2):
        return matrix_norm(A, ord, (-2, -1) if dims is None else dims, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def inv(A: Any) -> Tensor:  # noqa: N803 - PyTorch's name
    """The inverse of square matrices ``[..., n, n]``.

    Raises:
        LinAlgError: a matrix is singular (PyTorch's words, read at the call: see
            :mod:`fnnet.torch._linalg_errors`); ``inv_ex`` returns ``info`` instead.

    PyTorch equivalent: ``torch.linalg.inv``.
    """
    A = _tensor(A, "inv", "A")  # noqa: N806
    _square(A, "inv")
    check_invertible(A, "linalg.inv")
    return inverse_of(A)


def inverse_of(A: Tensor) -> Tensor:  # noqa: N803 - PyTorch's name
    """``linalg.inv`` of a checked ``A``, recorded without reading whether it is
    singular."""
    return _op(jnp.linalg.inv, (), A, who="inv")


def det(A: Any) -> Tensor:  # noqa: N803 - PyTorch's name
    """The determinant of square matrices ``[..., n, n]``. PyTorch: ``torch.linalg.det``."""
    A = _tensor(A, "det", "A")  # noqa: N806
    _square(A, "det")
    return _op(jnp.linalg.det, (), A, who="det")


def _solve(a: Any, b: Any, vector: bool, left: bool = True) -> Any:
    b = b[..., None] if vector else b
    if left:
        x = jnp.linalg.solve(a, b)
    else:  # X A = B  <=>  A.mT X.mT = B.mT
        x = jnp.swapaxes(jnp.linalg.solve(jnp.swapaxes(a, -1, -2), jnp.swapaxes(b, -1, -2)),
                         -1, -2)
    return x[..., 0] if vector else x


def solve(A: Any, B: Any, *, left: bool = True) -> Tensor:  # noqa: N803 - PyTorch's names
    """``X`` with ``A @ X = B`` (``B`` ``[..., n, k]`` or a vector ``[..., n]``).

    Raises:
        LinAlgError: a matrix of ``A`` is singular (PyTorch's words, read at the call);
            ``solve_ex`` returns ``info`` instead.

    PyTorch equivalent: ``torch.linalg.solve``.
    """
    return solution_of(A, B, left, lambda a: check_solvable(a, "torch.linalg.solve"))


def solution_of(A: Any, B: Any, left: bool,  # noqa: N803 - PyTorch's names
                check: Callable[[Tensor], None]) -> Tensor:
    """``linalg.solve`` with ``check(A)`` run once the arguments are valid (a singular
    ``A``'s error, or nothing)."""
    A = _tensor(A, "solve", "A")  # noqa: N806
    B = _as_tensor(B)  # noqa: N806
    _square(A, "solve")
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    # a vector is solved as the column [..., n, 1], also for X A = B, as PyTorch's
    rows, cols = (B.shape[-1], 1) if vector else tuple(B.shape[-2:])
    if (rows if left else cols) != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} "
                           f"and {rows}x{cols})")
    check(A)
    return _op(_solve, (vector, bool(left)), A, B, who="solve")
