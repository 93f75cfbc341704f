"""What follows ``torch.linalg.lu_factor``: ``linalg.lu_solve`` (solves with the packed
factors), ``torch.lu_unpack`` (``P, L, U`` from them) and ``linalg.lu``.

The pivots are LAPACK's (1-based row swaps, int32), as ``lu_factor`` gives them; each is a
recorded op, differentiable through the factors and the right-hand side.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from fnnet.torch._linalg_errors import lu_factor
from fnnet.torch.tensor import Tensor, _as_tensor, _op, _op_multi


def _permutation(pivots: Any, n: int) -> Any:
    """The row order ``p`` with ``(P^T A) = A[p]``, from 1-based row swaps."""
    return jax.lax.linalg.lu_pivots_to_permutation(pivots - 1, n)


def _unpack(lu: Any, pivots: Any) -> tuple[Any, Any, Any]:
    n = lu.shape[-1]
    eye = jnp.eye(n, dtype=lu.dtype)
    lower = jnp.tril(lu, -1) + eye
    upper = jnp.triu(lu)
    order = _permutation(pivots, n)
    permutation = jnp.swapaxes(jnp.take(eye, order, axis=0), -1, -2)  # P = (P^T)^T
    return permutation, lower, upper


def lu_unpack(LU_data: Any, LU_pivots: Any, unpack_data: bool = True,  # noqa: N803
              unpack_pivots: bool = True) -> Any:
    """``(P, L, U)`` with ``A = P L U`` from :func:`lu_factor`'s packed result.

    PyTorch equivalent: ``torch.lu_unpack``.
    """
    from fnnet.torch._factorizations import return_type

    p, lower, upper = _op_multi(_unpack, (), _as_tensor(LU_data), _as_tensor(LU_pivots),
                                who="lu_unpack")
    empty = _as_tensor(jnp.zeros((0,), jnp.float32))
    return return_type("lu_unpack", ("P", "L", "U"))(
        p if unpack_pivots else empty, lower if unpack_data else empty,
        upper if unpack_data else empty)


def _lu_solve(lu: Any, pivots: Any, b: Any, left: bool, adjoint: bool) -> Any:
    def solve(rhs: Any, transposed: bool) -> Any:
        # A X = B: X = U^-1 L^-1 P^T B;  A^H X = B: X = P L^-H U^-H B
        order = _permutation(pivots, lu.shape[-1])
        if not transposed:
            rows = jnp.take_along_axis(rhs, order[..., :, None], axis=-2)
            y = jax.lax.linalg.triangular_solve(lu, rows, left_side=True, lower=True,
                                                unit_diagonal=True)
            return jax.lax.linalg.triangular_solve(lu, y, left_side=True, lower=False)
        y = jax.lax.linalg.triangular_solve(lu, rhs, left_side=True, lower=False,
                                            transpose_a=True, conjugate_a=True)
        y = jax.lax.linalg.triangular_solve(lu, y, left_side=True, lower=True,
                                            transpose_a=True, conjugate_a=True,
                                            unit_diagonal=True)
        inverse = jnp.argsort(order, axis=-1)
        return jnp.take_along_axis(y, inverse[..., :, None], axis=-2)

    if left:
        return solve(b, adjoint)
    # X A = B  <=>  A^H X^H = B^H
    out = solve(jnp.conj(jnp.swapaxes(b, -1, -2)), not adjoint)
    return jnp.conj(jnp.swapaxes(out, -1, -2))


def lu_solve(LU: Any, pivots: Any, B: Any, *, left: bool = True,  # noqa: N803
             adjoint: bool = False) -> Tensor:
    """The solution of ``A X = B`` (``X A = B`` when not ``left``; ``A^H`` for ``A`` when
    ``adjoint``) from ``A``'s :func:`lu_factor`: one factorization, many right-hand sides.

    Raises:
        RuntimeError: ``B`` of another number of rows than ``A``, in PyTorch's words.

    PyTorch equivalent: ``torch.linalg.lu_solve``.
    """
    factors, swaps, rhs = _as_tensor(LU), _as_tensor(pivots), _as_tensor(B)
    n = factors.shape[-1]
    if (rhs.shape[-2] if left else rhs.shape[-1]) != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the "
                           f"equation {'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{rhs.shape[-2]}x{rhs.shape[-1]})")
    return _op(_lu_solve, (bool(left), bool(adjoint)), factors, swaps, rhs, who="lu_solve")


def lu(A: Any, *, pivot: bool = True) -> Any:  # noqa: N803
    """``(P, L, U)`` with ``A = P L U``. PyTorch equivalent: ``torch.linalg.lu``."""
    from fnnet.torch._factorizations import return_type

    p, lower, upper = lu_unpack(*lu_factor(A, pivot=pivot))
    return return_type("linalg_lu", ("P", "L", "U"))(p, lower, upper)


def install(namespace: dict[str, Any]) -> None:
    """Adds ``lu_unpack`` to ``namespace`` (``fnnet.torch``'s globals)."""
    namespace["lu_unpack"] = lu_unpack
